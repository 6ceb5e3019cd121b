// DualPipe (V3-TR arXiv:2412.19437 §3.2.1; deepseek-ai/DualPipe dualpipe.py,
// DualPipe.step, steps 1-8).
#include <algorithm>
#include <deque>

#include <fmt/format.h>

#include "model/schedule.h"

namespace tcsim::model {
namespace {

// Rank r holds stage r of direction 0 (micro-batches 0 .. n/2-1 enter at
// rank 0) and stage pp-1-r of direction 1 (the rest enter at rank pp-1).
// Phase 0 is direction 0 on the first half of the ranks and direction 1 on
// the second half.
class DualPipeProgram {
 public:
  DualPipeProgram(int pp, int rank, int n) : pp_(pp), rank_(rank), half_n_(n / 2), second_half_(rank >= pp / 2) {}

  std::vector<Slot> build() {
    const int half = pp_ / 2;
    const int hr = std::min(rank_, pp_ - 1 - rank_);
    const bool middle = rank_ == half - 1 || rank_ == half;
    for (int i = 0; i < (half - hr - 1) * 2; ++i) push(f(0));  // step 1: nF0
    for (int i = 0; i < hr + 1; ++i) {                         // step 2: nF0F1
      push(f(0));
      push(f(1));
    }
    for (int i = 0; i < half - hr - 1; ++i) {  // step 3: nB1W1F1, zero bubble
      push(b(1, true));
      push(w());
      push(f(1));
    }
    for (int i = 0; i < half_n_ - pp_ + hr + 1; ++i) {  // step 4: nF0B1F1B0
      if (i == 0 && middle) {                           // the middle ranks do not overlap this first pair
        push(f(0));
        push(b(1, false));
      } else {
        push_pair(f(0), b(1, false));
      }
      push_pair(f(1), b(0, false));
    }
    for (int i = 0; i < half - hr - 1; ++i) {  // step 5: nB1F1B0
      push(b(1, false));
      push_pair(f(1), b(0, false));
    }
    const int step6 = hr + 1;  // step 6: nB1B0, the second half with zero bubble
    bool zb = false;
    for (int i = 0; i < step6; ++i) {
      if (i == step6 / 2 && hr % 2 == 1) zb = true;
      push(b(1, zb));
      if (i == step6 / 2 && hr % 2 == 0) zb = true;
      push(b(0, zb));
    }
    for (int i = 0; i < half - hr - 1; ++i) {  // step 7: nWB0, zero bubble
      push(w());
      push(b(0, true));
    }
    for (int i = 0; i < hr + 1; ++i) push(w());  // step 8: nW
    return std::move(program_);
  }

 private:
  int direction(int phase) const { return phase ^ (second_half_ ? 1 : 0); }
  int stage(int dir) const { return dir == 0 ? rank_ : pp_ - 1 - rank_; }
  int micro_batch(int dir, int k) const { return dir == 0 ? k : half_n_ + k; }

  Chunk f(int phase) {
    const int d = direction(phase);
    return {ChunkPass::forward, micro_batch(d, forwards_[d]++), stage(d)};
  }
  Chunk b(int phase, bool zero_bubble) {
    const int d = direction(phase);
    const Chunk c{zero_bubble ? ChunkPass::backward_input : ChunkPass::backward, micro_batch(d, backwards_[d]++),
                  stage(d)};
    if (zero_bubble) deferred_.push_back(c);
    return c;
  }
  Chunk w() {
    Chunk c = deferred_.front();  // WeightGradStore is first-in first-out
    deferred_.pop_front();
    c.pass = ChunkPass::backward_weight;
    return c;
  }
  void push(Chunk c) { program_.push_back({{c, Chunk{}}, 1}); }
  void push_pair(Chunk a, Chunk b) { program_.push_back({{a, b}, 2}); }

  int pp_, rank_, half_n_;
  bool second_half_;
  int forwards_[2] = {0, 0};
  int backwards_[2] = {0, 0};
  std::deque<Chunk> deferred_;
  std::vector<Slot> program_;
};

class DualPipe final : public PipelineSchedule {
 public:
  Schedule id() const override { return Schedule::dualpipe; }

  // DualPipe pairs stage i with stage pp-1-i on one rank (V3-TR §3.2.1).
  std::optional<ShapeBreak> shape_rule(int pp, int v) const override {
    if (auto one_stage = PipelineSchedule::shape_rule(pp, v)) return one_stage;
    if (pp < 2 || pp % 2 != 0) return ShapeBreak{"pp", fmt::format("dualpipe needs an even pp >= 2, got {}", pp)};
    return std::nullopt;
  }
  // Half the micro-batches enter from each end, at least pp of them each
  // (deepseek-ai/DualPipe dualpipe.py asserts num_chunks >= num_ranks * 2).
  std::optional<std::string> micro_batch_rule(const PipelineShape& s) const override {
    if (s.micro_batches % 2 != 0 || s.micro_batches < 2 * s.pp) {
      return fmt::format("dualpipe needs an even number of micro-batches per step of at least 2 pp = {}, got {}",
                         2 * s.pp, s.micro_batches);
    }
    return std::nullopt;
  }

  std::vector<Slot> program(const PipelineShape& s, int rank) const override {
    return DualPipeProgram(s.pp, rank, s.micro_batches).build();
  }

  // Micro-batches n/2 .. n-1 cross the stages in reverse rank order.
  int rank_of(const PipelineShape& s, int micro_batch, int stage) const override {
    if (micro_batch >= s.micro_batches / 2) return s.pp - 1 - stage;
    return stage % s.pp;
  }

  // Rank i holds stages i and pp-1-i (V3-TR §3.2.1, Table 2).
  std::vector<int> stages_of_rank(int pp, int v, int rank) const override {
    const int stages = pp * v;
    std::vector<int> held;
    for (int c = 0; c < v; ++c) {
      const int s = rank + c * pp;
      held.push_back(s);
      held.push_back(stages - 1 - s);
    }
    return held;
  }

  // With half_rank = min(rank, pp-1-rank), the chunk nearer its pipeline's
  // start (stage half_rank) runs 2 (pp/2 - half_rank - 1) warm-up forwards,
  // half_rank + 1 more in step 2 and one overlapped with a backward in step
  // 4, so it holds pp - half_rank micro-batches; the far chunk (stage
  // pp-1-half_rank) holds half_rank + 1: pp + 1 together (V3-TR Table 2).
  std::vector<ActivationHolding> activation_holdings(int pp, int /*v*/, int rank) const override {
    const int near = std::min(rank, pp - 1 - rank);
    const int far = pp - 1 - near;
    return {{{near}, static_cast<double>(pp - near)}, {{far}, static_cast<double>(near + 1)}};
  }
  double in_flight(int pp, int /*v*/, int /*rank*/) const override { return pp + 1.0; }
  int parameter_copies() const override { return 2; }

  // (PP/2 - 1)(F&B + B - 3W) (V3-TR Table 2) with F&B = F + B.
  double bubble(int pp, int /*v*/) const override { return std::max(0.0, pp / 2.0 - 1) * 2; }
  int micro_batch_granule(int /*pp*/, int /*v*/) const override { return 2; }

  // The MLP of one chunk beside the other's all-to-all (V3-TR §3.2.1, Fig. 4).
  bool overlaps_expert_comm() const override { return true; }
};

}  // namespace

const PipelineSchedule& dualpipe_schedule() {
  static const DualPipe s;
  return s;
}

}  // namespace tcsim::model
