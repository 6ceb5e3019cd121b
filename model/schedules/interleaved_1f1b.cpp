// Megatron-LM's interleaved 1F1B (Narayanan et al. 2021, arXiv:2104.04473
// §2.2.2; Megatron-LM's forward_backward_pipelining_with_interleaving).
#include <algorithm>

#include <fmt/format.h>

#include "model/schedule.h"

namespace tcsim::model {
namespace {

class Interleaved1F1B final : public PipelineSchedule {
 public:
  Schedule id() const override { return Schedule::interleaved_1f1b; }

  std::optional<ShapeBreak> shape_rule(int /*pp*/, int v) const override {
    if (v < 2)
      return ShapeBreak{"virtual_stages", fmt::format("interleaved-1f1b needs virtual_stages >= 2, got {}", v)};
    return std::nullopt;
  }
  // Megatron-LM's rule: the micro-batches cycle through the ranks in groups of pp.
  std::optional<std::string> micro_batch_rule(const PipelineShape& s) const override {
    if (s.virtual_stages > 1 && s.micro_batches % s.pp != 0) {
      return fmt::format(
          "interleaved-1f1b needs the micro-batches per step ({}) to be a multiple of pp ({}) (Megatron-LM's rule)",
          s.micro_batches, s.pp);
    }
    return std::nullopt;
  }

  std::vector<Slot> program(const PipelineShape& s, int rank) const override {
    return s.virtual_stages == 1 ? one_f_one_b_program(s.pp, rank, s.micro_batches, s.extra_warmup)
                                 : program(s.pp, s.virtual_stages, rank, s.micro_batches, s.extra_warmup);
  }

  // (pp - r - 1) x 2 + (v - 1) x pp warm-up chunks plus one, each 1/v of the
  // rank's layers (Megatron-LM schedules.py); rank 0: pp (1 + (pp-1)/(pp v)).
  double in_flight(int pp, int v, int rank) const override {
    if (v == 1) return pp - rank;
    return (static_cast<double>(pp) * (v + 1) - 2.0 * rank - 1) / v;
  }

  // 1F1B's bubble over v (ibid. §2.2.2).
  double bubble(int pp, int v) const override { return (pp - 1.0) * 3.0 / v; }
  int micro_batch_granule(int pp, int v) const override { return v > 1 ? pp : 1; }

 private:
  // Virtual micro-batch k of the n x v runs model chunk (k mod pp v) / pp
  // (reversed for backward) of micro-batch (k / (pp v)) pp + k mod pp.
  // Warm-up: (pp - r - 1) 2 + (v - 1) pp forwards, plus extra_warmup (all of
  // them when n == pp).
  // Rank r's chunk c is stage c pp + r.
  static std::vector<Slot> program(int pp, int v, int rank, int n, int extra_warmup) {
    const int total = n * v;
    const int warmup = n == pp ? total : std::min(total, (pp - rank - 1) * 2 + (v - 1) * pp + extra_warmup);
    const auto one = [](ChunkPass pass, int mb, int stage) { return Slot{{Chunk{pass, mb, stage}, Chunk{}}, 1}; };
    const auto micro_batch = [&](int k) { return (k / (pp * v)) * pp + k % pp; };
    const auto forward_chunk = [&](int k) { return (k % (pp * v)) / pp; };
    const auto f = [&](int k) { return one(ChunkPass::forward, micro_batch(k), forward_chunk(k) * pp + rank); };
    const auto b = [&](int k) {
      return one(ChunkPass::backward, micro_batch(k), (v - 1 - forward_chunk(k)) * pp + rank);
    };
    std::vector<Slot> p;
    for (int k = 0; k < warmup; ++k) p.push_back(f(k));
    for (int i = 0; i < total - warmup; ++i) {
      p.push_back(f(warmup + i));
      p.push_back(b(i));
    }
    for (int k = total - warmup; k < total; ++k) p.push_back(b(k));
    return p;
  }
};

}  // namespace

const PipelineSchedule& interleaved_1f1b_schedule() {
  static const Interleaved1F1B s;
  return s;
}

}  // namespace tcsim::model
