// Rank placement and communication groups (sim/layout.h): Megatron-LM's
// order, tp fastest, then cp, dp, pp; expert groups carved out of dp x cp.
#include <doctest/doctest.h>

#include "core/error.h"
#include "sim/layout.h"

using namespace tcsim;
using namespace tcsim::sim;

TEST_CASE("DeepSeek-V3's plan: a pipeline rank is 128 GPUs, an EP group is 8 whole nodes") {
  model::ParallelPlan p;
  p.pp = 16;
  p.dp = 128;
  p.ep = 64;
  const Layout l(p, 2048, 8);
  // 2048 / pp 16 = 128 GPUs per pipeline rank; rank 1 starts at GPU 128.
  CHECK(l.replicas() == 128);
  CHECK(l.gpu(1, 0) == 128);
  // EP 64: replicas 0..63 and 64..127 of each rank, 64 / 8 = 8 nodes each.
  const auto ep = l.member_gpus(Group::ep, 1, 1);
  CHECK(ep.size() == 64);
  CHECK(ep.front() == 128 + 64);
  CHECK(ep.back() == 128 + 127);
  // Expert data parallelism: dp / ep = 2 GPUs, 64 apart.
  const auto edp = l.member_gpus(Group::expert_dp, 0, 5);
  CHECK(edp == std::vector<int>{5, 69});
  CHECK(l.size(Group::dp) == 128);
}

TEST_CASE("tensor-parallel groups are consecutive GPUs; expert groups keep one tp rank") {
  model::ParallelPlan p;
  p.tp = 2;
  p.dp = 8;
  p.ep = 4;
  const Layout l(p, 16, 8);
  CHECK(l.members(Group::tp, 3) == std::vector<int>{6, 7});
  // Replica 5 is tp rank 1 of dp rank 2: its EP group is dp ranks 0..3 at tp rank 1.
  CHECK(l.group_index(Group::ep, 5) == 1);
  CHECK(l.position(Group::ep, 5) == 2);
  CHECK(l.members(Group::ep, 1) == std::vector<int>{1, 3, 5, 7});
  CHECK(l.members(Group::expert_dp, 1) == std::vector<int>{1, 9});
}

TEST_CASE("a plan that does not fill the cluster, or an ep that does not divide dp x cp, is a caller's bug") {
  // scenarios/rules.h refuses both at load; the layout only asserts.
  model::ParallelPlan p;
  p.pp = 4;
  p.dp = 3;
  CHECK_THROWS_AS(Layout(p, 16, 8), std::invalid_argument);
  p.dp = 4;
  p.ep = 3;
  CHECK_THROWS_AS(Layout(p, 16, 8), std::invalid_argument);
}

TEST_CASE("expert_tp 1 under tp 2: an EP group runs across the tensor-parallel ranks") {
  // Megatron-Core's expert layout: replica r is expert-TP rank r mod etp, EP rank (r / etp) mod ep,
  // expert-DP rank r / (etp ep). 16 replicas, etp 1, ep 8: EP groups are replicas 0..7 and 8..15;
  // expert data parallelism pairs replicas 8 apart.
  model::ParallelPlan p;
  p.tp = 2;
  p.dp = 8;
  p.ep = 8;
  p.expert_tp = 1;
  const Layout l(p, 16, 8);
  CHECK(l.members(Group::ep, 1) == std::vector<int>{8, 9, 10, 11, 12, 13, 14, 15});
  CHECK(l.group_index(Group::ep, 5) == 0);
  CHECK(l.position(Group::ep, 5) == 5);
  CHECK(l.size(Group::expert_dp) == 2);
  CHECK(l.members(Group::expert_dp, 3) == std::vector<int>{3, 11});
  CHECK(l.group_index(Group::expert_dp, 11) == 3);
  CHECK(l.position(Group::expert_dp, 11) == 1);
  // The same plan with expert_tp = tp keeps one tp rank per EP group (every other replica), and
  // leaves no expert data parallelism.
  p.expert_tp = 2;
  const Layout same(p, 16, 8);
  CHECK(same.members(Group::ep, 1) == std::vector<int>{1, 3, 5, 7, 9, 11, 13, 15});
  CHECK(same.size(Group::expert_dp) == 1);
  // ep 16 with expert_tp 2 needs 32 replicas.
  p.ep = 16;
  CHECK_THROWS_AS(Layout(p, 16, 8), std::invalid_argument);
}
