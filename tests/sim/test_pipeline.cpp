// Each schedule against its paper's bubble formula, with uniform unit-time
// chunks (F = B = W = 1 for one stage's forward, input gradient and weight
// gradient) and no communication. A rank's work is then n x (F + B + W) for
// n micro-batches through its stage(s), and the step takes that plus the
// bubble. Closed forms from V3-TR (arXiv:2412.19437) Table 2, where B means
// the full backward (input + weight, here 2): 1F1B (PP-1)(F+B); ZB1P
// (PP-1)(F+B-2W); DualPipe (PP/2-1)(F&B+B-3W); and Narayanan et al. 2021
// (arXiv:2104.04473) §2.2.2 for interleaving: 1F1B's bubble over v.
#include <doctest/doctest.h>

#include <algorithm>

#include "model/schedule.h"
#include "sim/engine.h"
#include "sim/pipeline_tasks.h"

using namespace tcsim;
using namespace tcsim::sim;
using tcsim::model::Chunk;
using tcsim::model::ChunkPass;
using tcsim::model::make_pipeline;
using tcsim::model::Pipeline;
using tcsim::model::Slot;

namespace {

constexpr std::int64_t kUnit = 6000;  // ns per unit of chunk time (divisible by v = 2, 3)

// The step's makespan in units for `schedule` with per-chunk times F = B = W =
// `per_chunk` units (a virtual stage's chunk of an interleaved rank).
double makespan(model::Schedule schedule, int pp, int v, int n, double per_chunk = 1.0, bool combined = false) {
  const Pipeline p = make_pipeline(schedule, pp, v, n, combined);
  Engine engine(pp, {});
  const SimTime t = SimTime::ns(static_cast<std::int64_t>(per_chunk * kUnit));
  add_pipeline_tasks(engine, p, {t, t, t});
  return static_cast<double>(engine.run().count()) / kUnit;
}

int chunks(const Pipeline& p, int rank, ChunkPass pass) {
  int count = 0;
  for (const Slot& s : p.programs[static_cast<std::size_t>(rank)]) {
    for (int c = 0; c < s.count; ++c) count += s.chunks[static_cast<std::size_t>(c)].pass == pass ? 1 : 0;
  }
  return count;
}

}  // namespace

TEST_CASE("1F1B: the bubble is (PP-1)(F+B) with B the full backward") {
  for (const int pp : {2, 4, 8}) {
    for (const int n : {pp, 2 * pp, 3 * pp + 1}) {
      CAPTURE(pp);
      CAPTURE(n);
      // F = 1, B = 1 + 1 (input and weight): each rank works 3n; bubble (pp-1) x 3.
      CHECK(makespan(model::Schedule::one_f_one_b, pp, 1, n) == doctest::Approx(3.0 * n + 3.0 * (pp - 1)));
    }
  }
}

TEST_CASE("interleaved 1F1B: v virtual stages divide 1F1B's bubble by v") {
  for (const int pp : {2, 4}) {
    for (const int v : {2, 3}) {
      for (const int n : {pp, 2 * pp, 4 * pp}) {
        CAPTURE(pp);
        CAPTURE(v);
        CAPTURE(n);
        // Each virtual chunk is 1/v of a stage: F = B_in = W = 1/v per chunk, so a rank works
        // n x v x 3/v = 3n and the bubble is (pp-1)(F+B)/v = (pp-1) x 3 / v.
        CHECK(makespan(model::Schedule::interleaved_1f1b, pp, v, n, 1.0 / v) ==
              doctest::Approx(3.0 * n + 3.0 * (pp - 1) / v));
      }
    }
  }
}

TEST_CASE("ZB-H1: deferring weight gradients cuts the bubble to (PP-1)(F+B-2W)") {
  for (const int pp : {2, 4, 8}) {
    for (const int n : {pp, 2 * pp, 3 * pp + 1}) {
      CAPTURE(pp);
      CAPTURE(n);
      // B full = 2, W = 1: (pp-1)(1 + 2 - 2) = pp - 1.
      CHECK(makespan(model::Schedule::zero_bubble, pp, 1, n) == doctest::Approx(3.0 * n + (pp - 1)));
    }
  }
}

TEST_CASE("DualPipe: the bubble is (PP/2-1)(F&B+B-3W)") {
  for (const int pp : {2, 4, 8}) {
    for (const int n : {2 * pp, 3 * pp, 4 * pp + 2}) {
      CAPTURE(pp);
      CAPTURE(n);
      // Each rank runs every micro-batch through one of its two stages: 3n of work. Without
      // communication a forward overlapped with a backward takes F&B = F + B = 1 + 2; with
      // B = 2 and W = 1 the bubble is (pp/2 - 1)(3 + 2 - 3) = pp - 2.
      CHECK(makespan(model::Schedule::dualpipe, pp, 1, n) == doctest::Approx(3.0 * n + (pp - 2)));
    }
  }
}

TEST_CASE("every schedule runs each micro-batch's forward and backward once per stage") {
  for (const auto schedule : {model::Schedule::one_f_one_b, model::Schedule::zero_bubble, model::Schedule::dualpipe}) {
    const int pp = 4, n = 8;
    const Pipeline p = make_pipeline(schedule, pp, 1, n);
    int forwards = 0, weights = 0, full = 0, inputs = 0;
    for (int r = 0; r < pp; ++r) {
      forwards += chunks(p, r, ChunkPass::forward);
      full += chunks(p, r, ChunkPass::backward);
      inputs += chunks(p, r, ChunkPass::backward_input);
      weights += chunks(p, r, ChunkPass::backward_weight);
    }
    // n micro-batches x pp stages each way; every split backward has its weight chunk.
    CHECK(forwards == n * pp);
    CHECK(full + inputs == n * pp);
    CHECK(weights == inputs);
  }
}

TEST_CASE("DualPipe sends half the micro-batches in from each end") {
  const Pipeline p = make_pipeline(model::Schedule::dualpipe, 8, 1, 16);
  // Micro-batches 0..7 start at rank 0, 8..15 at rank 7 (deepseek-ai/DualPipe, step()).
  CHECK(p.rank_of(0, 0) == 0);
  CHECK(p.rank_of(8, 0) == 7);
  CHECK(p.rank_of(8, 7) == 0);
  // Rank 0 runs stage 0 of direction 0 and stage 7 of direction 1: 16 forwards.
  CHECK(chunks(p, 0, ChunkPass::forward) == 16);
}

TEST_CASE("schedules reject shapes they cannot run") {
  CHECK_THROWS(make_pipeline(model::Schedule::dualpipe, 3, 1, 12));         // odd pp
  CHECK_THROWS(make_pipeline(model::Schedule::dualpipe, 4, 1, 6));          // fewer than 2 pp micro-batches
  CHECK_THROWS(make_pipeline(model::Schedule::interleaved_1f1b, 4, 2, 6));  // n not a multiple of pp
  CHECK_THROWS(make_pipeline(model::Schedule::one_f_one_b, 4, 2, 8));       // virtual stages need interleaving
}

TEST_CASE("every schedule keeps its contract: each chunk on rank_of's rank, granules that pass the rule") {
  for (const model::Schedule schedule : model::all_schedules()) {
    const model::PipelineSchedule& sc = model::pipeline_schedule(schedule);
    CHECK(sc.id() == schedule);
    const int v = schedule == model::Schedule::interleaved_1f1b ? 2 : 1;
    for (const int pp : {2, 4, 8}) {
      REQUIRE(!sc.shape_rule(pp, v));
      // Every multiple of the granule from the smallest that passes passes too: a batch ramp in
      // granule steps never lands on a count the schedule cannot run.
      int first = 1;
      while (sc.micro_batch_rule({pp, v, first})) ++first;
      const int g = sc.micro_batch_granule(pp, v);
      for (int n = first; n <= first + 6 * g; n += g) {
        CAPTURE(n);
        CHECK(!sc.micro_batch_rule({pp, v, n}));
      }
      const Pipeline p = make_pipeline(schedule, pp, v, first + 2 * g);
      for (int r = 0; r < pp; ++r) {
        const std::vector<int> held = sc.stages_of_rank(pp, v, r);
        for (const Slot& slot : p.programs[static_cast<std::size_t>(r)]) {
          for (int c = 0; c < slot.count; ++c) {
            const Chunk& ch = slot.chunks[static_cast<std::size_t>(c)];
            CHECK(p.rank_of(ch.micro_batch, ch.stage) == r);
            CHECK(std::find(held.begin(), held.end(), ch.stage) != held.end());
          }
        }
      }
    }
  }
}

TEST_CASE("combined 1F1B pairs each steady forward with the backward after it") {
  // Interleaved 1F1B, pp 4, v 2, 8 micro-batches, rank 0: Megatron-LM's (pp - 1) 2 + (v - 1) pp = 10
  // warm-up forwards plus combined 1F1B's one more (schedules.py), 16 - 11 = 5 steady (F, B) pairs of
  // different micro-batches, 11 cool-down backwards.
  const Pipeline p = make_pipeline(model::Schedule::interleaved_1f1b, 4, 2, 8, true);
  const std::vector<Slot>& r0 = p.programs[0];
  REQUIRE(r0.size() == 11 + 5 + 11);
  for (int i = 0; i < 27; ++i) {
    const Slot& s = r0[static_cast<std::size_t>(i)];
    const bool steady = i >= 11 && i < 16;
    CHECK(s.count == (steady ? 2 : 1));
    CHECK(s.chunks[0].pass == (i < 16 ? ChunkPass::forward : ChunkPass::backward));
    if (steady) {
      CHECK(s.chunks[1].pass == ChunkPass::backward);
      CHECK(s.chunks[0].micro_batch != s.chunks[1].micro_batch);
    }
  }
  // Without a pipeline, F0 alone, then F(i+1) with B(i), then B(n-1) alone; no bubble: n (F + B) with
  // B the full backward (2 units).
  const Pipeline one = make_pipeline(model::Schedule::one_f_one_b, 1, 1, 6, true);
  REQUIRE(one.programs[0].size() == 1 + 5 + 1);
  CHECK(one.programs[0][1].count == 2);
  CHECK(one.programs[0][1].chunks[0].micro_batch == 1);
  CHECK(one.programs[0][1].chunks[1].micro_batch == 0);
  CHECK(makespan(model::Schedule::one_f_one_b, 1, 1, 6, 1.0, true) == doctest::Approx(6 * 3.0));
  // Every chunk still runs once and the step ends; pairing waits for both chunks before sending
  // either output, so with no communication to hide it is never faster.
  int forwards = 0, backwards = 0;
  for (int r = 0; r < 4; ++r) {
    forwards += chunks(p, r, ChunkPass::forward);
    backwards += chunks(p, r, ChunkPass::backward);
  }
  CHECK(forwards == 8 * 8);
  CHECK(backwards == 8 * 8);
  CHECK(makespan(model::Schedule::interleaved_1f1b, 4, 2, 8, 0.5, true) >=
        makespan(model::Schedule::interleaved_1f1b, 4, 2, 8, 0.5));
}
