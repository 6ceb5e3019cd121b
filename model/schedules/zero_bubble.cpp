// ZB-H1 (Qi et al. 2023, arXiv:2401.10241 §3.1), as sail-sg's
// ZeroBubbleH1Pipeline with exact semantics.
#include <deque>

#include "model/schedule.h"

namespace tcsim::model {
namespace {

class ZeroBubble final : public PipelineSchedule {
 public:
  Schedule id() const override { return Schedule::zero_bubble; }

  // ZB-H1 keeps 1F1B's peak in flight (ibid. §3.1): the default.
  std::vector<Slot> program(const PipelineShape& s, int rank) const override {
    return program(s.pp, rank, s.micro_batches);
  }

  // (PP - 1)(F + B - 2W) with B = B_input + W (V3-TR Table 2).
  double bubble(int pp, int /*v*/) const override { return (pp - 1.0) * 1.0; }

 private:
  // pp - r - 1 warm-up forwards; r slots of forward + input-gradient backward
  // whose weight gradients wait; then forward, input backward and one
  // deferred weight gradient per slot; the deferred weight gradients last.
  // The first stage (r = 0) defers nothing. Weight gradients run first-in
  // first-out.
  static std::vector<Slot> program(int pp, int rank, int n) {
    std::vector<Slot> p;
    std::deque<int> waiting;  // micro-batches whose weight gradient is deferred
    int forward = 0, backward = 0, weight = 0;
    const auto one = [&](ChunkPass pass, int mb) { p.push_back(Slot{{Chunk{pass, mb, rank}, Chunk{}}, 1}); };
    const auto f = [&] { one(ChunkPass::forward, forward++); };
    const auto b_input = [&] {
      waiting.push_back(backward);
      one(ChunkPass::backward_input, backward++);
    };
    const auto w = [&] {
      one(ChunkPass::backward_weight, waiting.front());
      waiting.pop_front();
      ++weight;
    };
    const auto b_full = [&] {
      one(ChunkPass::backward, backward++);
      ++weight;
    };
    const int warmup = pp - rank;
    for (int i = 0; i < warmup - 1 && forward < n; ++i) f();
    for (int i = 0; i < rank && forward < n; ++i) {
      f();
      b_input();
    }
    while (forward < n) {
      f();
      if (rank == 0) {
        b_full();
      } else {
        b_input();
        w();
      }
    }
    while (backward < n) {
      if (rank == 0) {
        b_full();
      } else {
        b_input();
        w();
      }
    }
    while (weight < n) w();
    return p;
  }
};

}  // namespace

const PipelineSchedule& zero_bubble_schedule() {
  static const ZeroBubble s;
  return s;
}

}  // namespace tcsim::model
