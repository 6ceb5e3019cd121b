// PipeDream-Flush 1F1B (Narayanan et al. 2021, arXiv:2104.04473 §2.2.1).
#include <algorithm>

#include "model/schedule.h"

namespace tcsim::model {
namespace {

class OneFOneB final : public PipelineSchedule {
 public:
  Schedule id() const override { return Schedule::one_f_one_b; }

  std::vector<Slot> program(const PipelineShape& s, int rank) const override {
    return one_f_one_b_program(s.pp, rank, s.micro_batches, s.extra_warmup);
  }

  // (PP - 1)(F + B) with B = B_input + W (V3-TR Table 2).
  double bubble(int pp, int /*v*/) const override { return (pp - 1.0) * 3.0; }
};

}  // namespace

// Rank r runs min(pp - r - 1 + extra_warmup, n) warm-up forwards, then alternates one
// forward and one backward, then drains the remaining backwards.
std::vector<Slot> one_f_one_b_program(int pp, int rank, int n, int extra_warmup) {
  const int warmup = std::min(pp - rank - 1 + extra_warmup, n);
  const auto one = [rank](ChunkPass pass, int mb) { return Slot{{Chunk{pass, mb, rank}, Chunk{}}, 1}; };
  std::vector<Slot> p;
  for (int i = 0; i < warmup; ++i) p.push_back(one(ChunkPass::forward, i));
  for (int i = 0; i < n - warmup; ++i) {
    p.push_back(one(ChunkPass::forward, warmup + i));
    p.push_back(one(ChunkPass::backward, i));
  }
  for (int i = n - warmup; i < n; ++i) p.push_back(one(ChunkPass::backward, i));
  return p;
}

const PipelineSchedule& one_f_one_b_schedule() {
  static const OneFOneB s;
  return s;
}

}  // namespace tcsim::model
