// The step's work as data (model/workload.h) and the placement of its
// weights (model/placement.h): conservation against the blocks' own ops and
// the parameter counts, whatever the schedule and recompute policy.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "model/params.h"
#include "model/placement.h"
#include "model/workload.h"
#include "tests/model/fixtures.h"

namespace tcsim::model {
namespace {

using fixtures::preset;

// DeepSeek-V3 cut to 4 layers (3 dense, 1 MoE) with its MTP module.
ModelSpec four_layers() {
  ModelSpec m = preset("deepseek-v3");
  m.layers = 4;
  return m;
}

ParallelPlan plan_of(Schedule s, Recompute r, int pp, int v = 1) {
  ParallelPlan p;
  p.pp = pp;
  p.ep = 8;
  p.dp = 8;
  p.schedule = s;
  p.virtual_stages = v;
  p.recompute = r;
  if (pp * v > 4) p.pp = 4 / v;
  return p;
}

// FLOPs of the uses in pieces of the chunk, by pass, counting a use's
// recomputed forward too.
std::map<Pass, double> chunk_flops(const StepWorkload& w, const ChunkWork& c) {
  std::map<Pass, double> out;
  for (const WorkPiece& p : c.pieces) {
    for (const OpUse& u : p.ops) {
      const Op& op = w.op(u);
      out[u.pass] += op.flops[static_cast<int>(u.pass)].value();
      if (u.with_forward) out[Pass::forward] += op.flops[0].value();
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a step's chunks do every op's work once per pass, plus the forward again for what is recomputed") {
  const ModelSpec m = four_layers();
  for (const Schedule s : {Schedule::one_f_one_b, Schedule::zero_bubble, Schedule::dualpipe}) {
    for (const Recompute r : {Recompute::none, Recompute::selective, Recompute::full}) {
      CAPTURE(static_cast<int>(s));
      CAPTURE(static_cast<int>(r));
      const ParallelPlan plan = plan_of(s, r, 2);
      const StepWorkload w = build_workload(m, plan, PrecisionSpec{}, {1, 4096});
      // Closed form from the blocks alone: each pass's FLOPs, and the recomputed ops' forward.
      double forward = 0, input = 0, weight = 0, again = 0;
      for (const Block& b : w.blocks) {
        for (const Op& op : b.ops) {
          forward += op.flops[0].value();
          input += op.flops[1].value();
          weight += op.flops[2].value();
          if (op.recomputed && op.cls != OpClass::comm) again += op.flops[0].value();
        }
      }
      double f = 0, bi = 0, bw = 0, f_again = 0, split_bi = 0, split_bw = 0;
      for (int st = 0; st < static_cast<int>(w.stages.size()); ++st) {
        const auto fw = chunk_flops(w, w.chunk(st, ChunkPass::forward));
        const auto whole = chunk_flops(w, w.chunk(st, ChunkPass::backward));
        const auto in = chunk_flops(w, w.chunk(st, ChunkPass::backward_input));
        const auto wt = chunk_flops(w, w.chunk(st, ChunkPass::backward_weight));
        f += fw.contains(Pass::forward) ? fw.at(Pass::forward) : 0;
        bi += whole.contains(Pass::backward_input) ? whole.at(Pass::backward_input) : 0;
        bw += whole.contains(Pass::backward_weight) ? whole.at(Pass::backward_weight) : 0;
        f_again += whole.contains(Pass::forward) ? whole.at(Pass::forward) : 0;
        // The split backward does the same work in two chunks.
        split_bi += in.contains(Pass::backward_input) ? in.at(Pass::backward_input) : 0;
        split_bw += wt.contains(Pass::backward_weight) ? wt.at(Pass::backward_weight) : 0;
        CHECK(!in.contains(Pass::backward_weight));
        CHECK(!wt.contains(Pass::backward_input));
      }
      CHECK(f == doctest::Approx(forward).epsilon(1e-12));
      CHECK(bi == doctest::Approx(input).epsilon(1e-12));
      CHECK(bw == doctest::Approx(weight).epsilon(1e-12));
      CHECK(f_again == doctest::Approx(again).epsilon(1e-12));
      CHECK(split_bi == doctest::Approx(input).epsilon(1e-12));
      CHECK(split_bw == doctest::Approx(weight).epsilon(1e-12));
    }
  }
}

TEST_CASE("a stage may hold no layer: Megatron's last stage of only the MTP module and the loss") {
  // Megatron-Core's pipeline layouts ("Et|(tt|)*30mL") put the MTP module and the loss in a stage of
  // their own. 4 layers over pp 4: [2, 0, 2, 0]; stage 1 holds nothing, stage 3 the MTP module and head.
  const ModelSpec m = four_layers();
  ParallelPlan plan = plan_of(Schedule::one_f_one_b, Recompute::selective, 4);
  plan.stage_layers = {2, 0, 2, 0};
  const StepWorkload w = build_workload(m, plan, PrecisionSpec{}, {1, 4096});
  REQUIRE(w.stages.size() == 4);
  CHECK(w.stages[0].blocks.size() == 1 + 2);  // embedding, layers 0 and 1
  CHECK(w.stages[1].blocks.empty());
  CHECK(w.chunk(1, ChunkPass::forward).pieces.empty());
  CHECK(w.chunk(1, ChunkPass::forward).output == -1);
  CHECK(w.stages[3].blocks.size() == 2);  // the MTP module and the head
  double forward = 0, in_chunks = 0;
  for (const Block& b : w.blocks) {
    for (const Op& op : b.ops) forward += op.flops[0].value();
  }
  for (int st = 0; st < 4; ++st) {
    const auto f = chunk_flops(w, w.chunk(st, ChunkPass::forward));
    in_chunks += f.contains(Pass::forward) ? f.at(Pass::forward) : 0;
  }
  CHECK(in_chunks == doctest::Approx(forward).epsilon(1e-12));
}

TEST_CASE("every collective crosses the wire once forward and once backward, in the same bytes overall") {
  // Backward, the combine's gradient travels like a dispatch (in the dispatch's FP8 bytes) and the
  // dispatch's like a combine: the same two byte counts, swapped (V3-TR §3.3.4).
  const ModelSpec m = four_layers();
  ParallelPlan plan = plan_of(Schedule::dualpipe, Recompute::selective, 2);
  plan.tp = 2;
  plan.dp = 8;
  PrecisionSpec prec;
  prec.gemm = Dtype::fp8;
  prec.gemm_input_cache = Dtype::fp8;
  const StepWorkload w = build_workload(m, plan, prec, {1, 4096});
  double op_bytes = 0;
  int op_count = 0;
  for (const Block& b : w.blocks) {
    for (const Op& op : b.ops) {
      if (op.cls != OpClass::comm) continue;
      op_bytes += op.comm_bytes.value();
      ++op_count;
    }
  }
  REQUIRE(op_count > 0);
  double forward = 0, backward = 0;
  int forward_count = 0, backward_count = 0;
  for (int st = 0; st < static_cast<int>(w.stages.size()); ++st) {
    for (const WorkPiece& p : w.chunk(st, ChunkPass::forward).pieces) {
      if (p.kind != PieceKind::comm) continue;
      forward += p.bytes.value();
      ++forward_count;
    }
    for (const WorkPiece& p : w.chunk(st, ChunkPass::backward).pieces) {
      if (p.kind != PieceKind::comm) continue;
      backward += p.bytes.value();
      ++backward_count;
    }
  }
  CHECK(forward_count == op_count);
  CHECK(backward_count == op_count);  // selective recompute re-runs no collective
  CHECK(forward == doctest::Approx(op_bytes).epsilon(1e-12));
  CHECK(backward == doctest::Approx(op_bytes).epsilon(1e-12));
}

TEST_CASE("sequence parallelism gathers each sharded GEMM input again in backward, the experts' gather excepted") {
  // Korthikanti et al. 2022 §4.2.2: a column-parallel GEMM keeps only its input's shard, so its weight
  // gradient needs the input gathered again; the experts' gather keeps the gathered rows.
  const ModelSpec m = four_layers();
  ParallelPlan plan = plan_of(Schedule::one_f_one_b, Recompute::selective, 2);
  plan.tp = 2;
  plan.dp = 8;
  plan.sequence_parallel = true;
  const StepWorkload w = build_workload(m, plan, PrecisionSpec{}, {1, 4096});
  int gathers = 0, expert_gathers = 0;
  for (const Block& b : w.blocks) {
    for (const Op& op : b.ops) {
      if (op.collective != Collective::tp_all_gather) continue;
      ++gathers;
      if (op.role == OpRole::routed_expert) ++expert_gathers;
    }
  }
  REQUIRE(expert_gathers > 0);  // expert_tp = tp = 2 under sequence parallelism
  int forward = 0, backward = 0, regathers = 0;
  for (int st = 0; st < static_cast<int>(w.stages.size()); ++st) {
    for (const WorkPiece& p : w.chunk(st, ChunkPass::forward).pieces) forward += p.kind == PieceKind::comm ? 1 : 0;
    for (const WorkPiece& p : w.chunk(st, ChunkPass::backward).pieces) {
      if (p.kind != PieceKind::comm) continue;
      ++backward;
      if (p.name.ends_with(" (regather)")) {
        ++regathers;
        CHECK(p.collective == Collective::tp_all_gather);
        CHECK(p.name.find("moe.experts") == std::string::npos);
      }
    }
  }
  CHECK(regathers == gathers - expert_gathers);
  CHECK(backward == forward + regathers);
}

TEST_CASE("DualPipe runs the shared expert beside the dispatch; other schedules in line") {
  const ModelSpec m = four_layers();
  for (const Schedule s : {Schedule::one_f_one_b, Schedule::dualpipe}) {
    const StepWorkload w = build_workload(m, plan_of(s, Recompute::none, 2), PrecisionSpec{}, {1, 4096});
    int sides = 0;
    for (int st = 0; st < static_cast<int>(w.stages.size()); ++st) {
      for (const WorkPiece& p : w.chunk(st, ChunkPass::forward).pieces) {
        if (p.kind != PieceKind::side) continue;
        ++sides;
        for (const OpUse& u : p.ops) CHECK(w.op(u).role == OpRole::shared_expert);
      }
    }
    CHECK(sides == (s == Schedule::dualpipe ? 2 : 0));  // the MoE layer and the MTP module's
  }
}

TEST_CASE("the placement holds every weight once: blocks add up to the counted parameters") {
  // tp = ep = 1: one GPU holds the whole model; its blocks add up to the main model plus MTP.
  const ModelSpec m = preset("deepseek-v3");
  const ParamCounts counted = count_params(m);
  ParallelPlan one;
  double total = 0;
  for (const BlockWeights& b : block_weights(m, one)) total += b.dense + b.routed;
  CHECK(total == static_cast<double>(counted.total + counted.mtp));
  // EP 64 splits the 256 routed experts of each MoE layer 64 ways; TP leaves norms and the router whole.
  ParallelPlan ep;
  ep.ep = 64;
  ep.dp = 64;
  double routed = 0;
  for (const BlockWeights& b : block_weights(m, ep)) routed += b.routed;
  const double main_and_mtp_routed = static_cast<double>(counted.routed_experts) *
                                     (m.layers - m.dense_layers + m.mtp_depth) / (m.layers - m.dense_layers);
  CHECK(routed == doctest::Approx(main_and_mtp_routed / 64).epsilon(1e-12));
  // Data-parallel degrees: dense over dp x cp, routed experts over dp x cp / ep.
  ParallelPlan p;
  p.dp = 32;
  p.cp = 4;
  p.ep = 64;
  const DataParallelDegrees d = data_parallel_degrees(p);
  CHECK(d.dense == 128);
  CHECK(d.routed == 2);
}

TEST_CASE("a last stage keeps a second vocabulary table only when its rank lacks the first stage") {
  const ModelSpec m = preset("deepseek-v3");  // MTP: the last stage looks tokens up
  ParallelPlan p;
  p.pp = 4;
  p.dp = 4;
  const double table = static_cast<double>(m.vocab) * m.hidden;
  CHECK(table_copy_weights(m, p, {3}) == table);
  CHECK(table_copy_weights(m, p, {2}) == 0);     // not the last stage
  CHECK(table_copy_weights(m, p, {3, 0}) == 0);  // DualPipe's rank holds both ends
  ModelSpec untied = m;
  untied.mtp_depth = 0;
  CHECK(table_copy_weights(untied, p, {3}) == 0);  // neither tied nor MTP
}

}  // namespace tcsim::model
