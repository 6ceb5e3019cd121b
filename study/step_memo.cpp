#include "study/step_memo.h"

#include <functional>
#include <string>

#include "hardware/builders.h"
#include "sim/step.h"
#include "sim/step_bound.h"

namespace tcsim::study {
namespace {

// A hash over some of the fields: equal keys hash equally, and the fields
// plans and variants differ in most spread them; equality decides.
std::size_t hash_of(const sim::StepShape& s, const sim::StepOptions& o) {
  std::size_t h = 0;
  const auto mix = [&h](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6U) + (h >> 2U); };
  const model::ParallelPlan& p = s.plan;
  for (const int v : {p.tp, p.pp, p.ep, p.dp, p.cp, p.virtual_stages, p.micro_batch, p.zero, p.comm_sms,
                      static_cast<int>(p.schedule), static_cast<int>(p.recompute), s.seq_len, s.model.layers,
                      s.model.hidden, s.cluster.gpus_per_node, s.cluster.nodes, static_cast<int>(o.fidelity)}) {
    mix(std::hash<int>{}(v));
  }
  mix(std::hash<std::int64_t>{}(s.batch));
  mix(std::hash<std::uint64_t>{}(o.seed));
  mix(std::hash<std::string>{}(s.cluster.gpu.name));
  return h;
}

}  // namespace

StepMemo::StepMemo(std::size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

const StepFigures* StepMemo::find(std::size_t hash, const sim::StepShape& shape, const sim::StepOptions& options) {
  const auto [first, last] = index_.equal_range(hash);
  for (auto it = first; it != last; ++it) {
    const Entry& e = *it->second;
    if (e.shape == shape && e.options.same_step(options)) {
      order_.splice(order_.begin(), order_, it->second);
      return &order_.front().figures;
    }
  }
  return nullptr;
}

StepFigures StepMemo::get(const sim::StepShape& shape, const sim::StepOptions& options) {
  const std::size_t hash = hash_of(shape, options);
  {
    const std::lock_guard lock(mutex_);
    if (const StepFigures* f = find(hash, shape, options)) {
      ++hits_;
      return *f;
    }
    ++misses_;
  }
  // Simulated outside the lock: other threads go on; two threads that miss
  // the same shape at once both simulate it and get the same figures.
  const sim::StepResult r = sim::simulate_step(shape, options, &distances_, &collectives_);
  const sim::StepBreakdown& b = r.breakdown;
  StepFigures f;
  f.time =
      sim::StepTime(r.time, {b.forward + b.backward_input + b.backward_weight + b.optimizer, b.exposed_comm, b.bubble});
  f.tokens_per_s_per_gpu = r.tokens_per_second_per_gpu;
  f.mfu = r.mfu_bf16;
  const std::lock_guard lock(mutex_);
  if (find(hash, shape, options) != nullptr) return f;
  order_.push_front({shape, options, f});
  index_.emplace(hash, order_.begin());
  if (order_.size() > capacity_) {
    const Order::iterator oldest = std::prev(order_.end());
    const std::size_t old_hash = hash_of(oldest->shape, oldest->options);
    const auto [first, last] = index_.equal_range(old_hash);
    for (auto it = first; it != last; ++it) {
      if (it->second == oldest) {
        index_.erase(it);
        break;
      }
    }
    order_.pop_back();
  }
  return f;
}

SimTime StepMemo::bound(const sim::StepShape& shape) {
  const hw::ClusterTopology topology = hw::build_topology(shape.cluster, &distances_);
  return sim::step_bound(shape, topology, &collectives_);
}

std::size_t StepMemo::size() const {
  const std::lock_guard lock(mutex_);
  return order_.size();
}

std::int64_t StepMemo::hits() const {
  const std::lock_guard lock(mutex_);
  return hits_;
}

std::int64_t StepMemo::misses() const {
  const std::lock_guard lock(mutex_);
  return misses_;
}

}  // namespace tcsim::study
