#include "sim/layout.h"

#include <stdexcept>

#include <fmt/format.h>

namespace tcsim::sim {

Layout::Layout(const model::ParallelPlan& plan, int gpus, int gpus_per_node)
    : tp_(plan.tp),
      cp_(plan.cp),
      dp_(plan.dp),
      pp_(plan.pp),
      ep_(plan.ep),
      etp_(model::expert_tp(plan)),
      gpus_per_node_(gpus_per_node) {
  // scenarios/rules.h refuses such plans before anything lays them out.
  if (tp_ * cp_ * dp_ * pp_ != gpus) {
    throw std::invalid_argument(fmt::format("parallelism: tp {} x cp {} x dp {} x pp {} = {} GPUs, the cluster has {}",
                                            tp_, cp_, dp_, pp_, tp_ * cp_ * dp_ * pp_, gpus));
  }
  if (ep_ < 1 || etp_ < 1 || replicas() % (etp_ * ep_) != 0) {
    throw std::invalid_argument(
        fmt::format("parallelism.ep: expert_tp {} x ep {} must divide tp x dp x cp = {} (experts are spread over "
                    "the GPUs of a stage)",
                    etp_, ep_, replicas()));
  }
}

Layout::Coordinates Layout::coordinates(int r) const { return {r % tp_, (r / tp_) % cp_, r / (tp_ * cp_)}; }

int Layout::size(Group g) const {
  switch (g) {
    case Group::tp: return tp_;
    case Group::cp: return cp_;
    case Group::ep: return ep_;
    case Group::dp: return dp_ * cp_;
    case Group::expert_dp: return replicas() / (etp_ * ep_);
  }
  return 1;
}

int Layout::group_index(Group g, int r) const {
  const Coordinates c = coordinates(r);
  const int etp_rank = r % etp_, ep_rank = (r / etp_) % ep_, edp_rank = r / (etp_ * ep_);
  switch (g) {
    case Group::tp: return c.cp + cp_ * c.dp;
    case Group::cp: return c.tp + tp_ * c.dp;
    case Group::ep: return etp_rank + etp_ * edp_rank;
    case Group::dp: return c.tp;
    case Group::expert_dp: return etp_rank + etp_ * ep_rank;
  }
  return 0;
}

int Layout::position(Group g, int r) const {
  const Coordinates c = coordinates(r);
  switch (g) {
    case Group::tp: return c.tp;
    case Group::cp: return c.cp;
    case Group::ep: return (r / etp_) % ep_;
    case Group::dp: return c.dp * cp_ + c.cp;
    case Group::expert_dp: return r / (etp_ * ep_);
  }
  return 0;
}

std::vector<int> Layout::members(Group g, int index) const {
  std::vector<int> out;
  const auto from_dpcp = [&](int tp, int dpcp) { return replica({tp, dpcp % cp_, dpcp / cp_}); };
  switch (g) {
    case Group::tp:
      for (int t = 0; t < tp_; ++t) out.push_back(replica({t, index % cp_, index / cp_}));
      break;
    case Group::cp:
      for (int c = 0; c < cp_; ++c) out.push_back(replica({index % tp_, c, index / tp_}));
      break;
    case Group::ep:
      for (int i = 0; i < ep_; ++i) out.push_back(index % etp_ + etp_ * (i + ep_ * (index / etp_)));
      break;
    case Group::dp:
      for (int i = 0; i < dp_ * cp_; ++i) out.push_back(from_dpcp(index, i));
      break;
    case Group::expert_dp:
      for (int i = 0; i < size(Group::expert_dp); ++i) out.push_back(index % etp_ + etp_ * (index / etp_ + ep_ * i));
      break;
  }
  return out;
}

std::vector<int> Layout::member_gpus(Group g, int pipeline_rank, int index) const {
  std::vector<int> out = members(g, index);
  for (int& r : out) r = gpu(pipeline_rank, r);
  return out;
}

}  // namespace tcsim::sim
