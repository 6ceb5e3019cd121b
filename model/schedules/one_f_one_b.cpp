// PipeDream-Flush 1F1B (Narayanan et al. 2021, arXiv:2104.04473 §2.2.1).
#include <algorithm>

#include <fmt/format.h>

#include "model/schedule.h"

namespace tcsim::model {
namespace {

class OneFOneB final : public PipelineSchedule {
 public:
  Schedule id() const override { return Schedule::one_f_one_b; }

  std::optional<ShapeBreak> shape_rule(int /*pp*/, int v) const override {
    if (v != 1)
      return ShapeBreak{"virtual_stages", fmt::format("virtual_stages = {} needs schedule: interleaved-1f1b", v)};
    return std::nullopt;
  }
  std::optional<std::string> micro_batch_rule(const PipelineShape& /*shape*/) const override { return std::nullopt; }

  // Rank r runs min(pp - r - 1, n) warm-up forwards, then alternates one
  // forward and one backward, then drains the remaining backwards.
  std::vector<std::vector<Slot>> programs(const PipelineShape& s) const override {
    std::vector<std::vector<Slot>> out;
    for (int r = 0; r < s.pp; ++r) out.push_back(one_f_one_b_program(s.pp, r, s.micro_batches));
    return out;
  }

  // Rank r holds pp - r micro-batches at its peak: its warm-up forwards and one more.
  double in_flight(int pp, int /*v*/, int rank) const override { return pp - rank; }

  // (PP - 1)(F + B) with B = B_input + W (V3-TR Table 2).
  double bubble(int pp, int /*v*/) const override { return (pp - 1.0) * 3.0; }
  int micro_batch_granule(int /*pp*/, int /*v*/) const override { return 1; }
};

}  // namespace

std::vector<Slot> one_f_one_b_program(int pp, int rank, int n) {
  const int warmup = std::min(pp - rank - 1, n);
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
