// The fields of a ParallelPlan as one table: the name users type after
// `parallelism.`, the member, the smallest value the loader accepts. The
// loader, the JSON echo, the --set overrides of the plan search and phase
// overlays all walk this table, so a field added to ParallelPlan is added
// here once (plan_fields_cover_the_plan below stops compiling when the
// struct grows).
#pragma once

#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "model/names.h"
#include "model/spec.h"

namespace tcsim::model {

template <class T>
struct PlanField {
  std::string_view name;
  T ParallelPlan::*member;
  int min = 0;  // integers and integer lists
};

inline constexpr auto kPlanFields = std::tuple{
    PlanField<int>{"tp", &ParallelPlan::tp, 1},
    PlanField<int>{"pp", &ParallelPlan::pp, 1},
    PlanField<int>{"ep", &ParallelPlan::ep, 1},
    PlanField<int>{"dp", &ParallelPlan::dp, 1},
    PlanField<int>{"cp", &ParallelPlan::cp, 1},
    PlanField<int>{"virtual_stages", &ParallelPlan::virtual_stages, 1},
    PlanField<int>{"micro_batch", &ParallelPlan::micro_batch, 1},
    PlanField<int>{"zero", &ParallelPlan::zero, 0},
    PlanField<Schedule>{"schedule", &ParallelPlan::schedule},
    PlanField<Recompute>{"recompute", &ParallelPlan::recompute},
    PlanField<int>{"comm_sms", &ParallelPlan::comm_sms, 0},
    PlanField<bool>{"recompute_moe_activation", &ParallelPlan::recompute_moe_activation},
    PlanField<bool>{"moe_weighted_activation", &ParallelPlan::moe_weighted_activation},
    PlanField<std::vector<int>>{"stage_layers", &ParallelPlan::stage_layers, 0},
    PlanField<bool>{"sequence_parallel", &ParallelPlan::sequence_parallel},
    PlanField<int>{"expert_tp", &ParallelPlan::expert_tp, 0},
    PlanField<bool>{"overlap_ep_comm", &ParallelPlan::overlap_ep_comm},
    PlanField<bool>{"overlap_shared_expert", &ParallelPlan::overlap_shared_expert},
    PlanField<bool>{"overlap_tp_comm", &ParallelPlan::overlap_tp_comm},
    PlanField<bool>{"overlap_grad_reduce", &ParallelPlan::overlap_grad_reduce},
    PlanField<bool>{"overlap_param_gather", &ParallelPlan::overlap_param_gather},
    PlanField<bool>{"delay_wgrad_compute", &ParallelPlan::delay_wgrad_compute},
};

// Fails to compile when ParallelPlan gains or loses a field: update the
// table above with it.
inline void plan_fields_cover_the_plan(const ParallelPlan& p) {
  const auto& [tp, pp, ep, dp, cp, virtual_stages, micro_batch, zero, schedule, recompute, moe_activation,
               weighted_activation, comm_sms, stage_layers, sequence_parallel, expert_tp, overlap_ep, overlap_shared,
               overlap_tp, overlap_grad, overlap_param, delay_wgrad] = p;
  (void)tp, (void)pp, (void)ep, (void)dp, (void)cp, (void)virtual_stages, (void)micro_batch, (void)zero;
  (void)schedule, (void)recompute, (void)moe_activation, (void)weighted_activation, (void)comm_sms;
  (void)stage_layers;
  (void)sequence_parallel, (void)expert_tp, (void)overlap_ep, (void)overlap_shared, (void)overlap_tp,
      (void)overlap_grad, (void)overlap_param, (void)delay_wgrad;
  static_assert(std::tuple_size_v<decltype(kPlanFields)> == 22);
}

// Calls f(field) for every field, in the table's order.
template <class F>
constexpr void for_each_plan_field(F&& f) {
  std::apply([&f](const auto&... field) { (f(field), ...); }, kPlanFields);
}

// `over` with the fields where `phase` differs from `top` taken from
// `phase`: a phase's own overrides kept over another top-level plan.
inline ParallelPlan overlay(const ParallelPlan& over, const ParallelPlan& top, const ParallelPlan& phase) {
  ParallelPlan q = over;
  for_each_plan_field([&](const auto& f) {
    if (phase.*f.member != top.*f.member) q.*f.member = phase.*f.member;
  });
  return q;
}

// The plan's fields as text a --set override takes ("tp" -> "8",
// "schedule" -> "dualpipe", "stage_layers" -> "[4, 4]"), in the table's order.
inline std::vector<std::pair<std::string_view, std::string>> plan_field_texts(const ParallelPlan& p) {
  std::vector<std::pair<std::string_view, std::string>> out;
  for_each_plan_field([&](const auto& f) {
    const auto& v = p.*f.member;
    using T = std::remove_cvref_t<decltype(v)>;
    if constexpr (std::is_same_v<T, bool>) {
      out.emplace_back(f.name, v ? "true" : "false");
    } else if constexpr (std::is_same_v<T, std::vector<int>>) {
      out.emplace_back(f.name, fmt::format("[{}]", fmt::join(v, ", ")));
    } else if constexpr (std::is_same_v<T, Schedule>) {
      out.emplace_back(f.name, std::string(name_of(kScheduleNames, v)));
    } else if constexpr (std::is_same_v<T, Recompute>) {
      out.emplace_back(f.name, std::string(name_of(kRecomputeNames, v)));
    } else {
      out.emplace_back(f.name, fmt::format("{}", v));
    }
  });
  return out;
}

}  // namespace tcsim::model
