#include "sim/pipeline.h"

#include <algorithm>
#include <deque>

#include <fmt/format.h>

#include "core/error.h"

namespace tcsim::sim {
namespace {

Slot one(ChunkPass pass, int micro_batch, int stage) { return {{Chunk{pass, micro_batch, stage}, Chunk{}}, 1}; }

Slot pair(Chunk a, Chunk b) { return {{a, b}, 2}; }

// PipeDream-Flush 1F1B (Narayanan et al. 2021 §2.2.1): rank r runs
// min(pp - r - 1, n) warm-up forwards, then alternates one forward and one
// backward, then drains the remaining backwards.
std::vector<Slot> one_f_one_b(int pp, int rank, int n) {
  const int warmup = std::min(pp - rank - 1, n);
  std::vector<Slot> p;
  for (int i = 0; i < warmup; ++i) p.push_back(one(ChunkPass::forward, i, rank));
  for (int i = 0; i < n - warmup; ++i) {
    p.push_back(one(ChunkPass::forward, warmup + i, rank));
    p.push_back(one(ChunkPass::backward, i, rank));
  }
  for (int i = n - warmup; i < n; ++i) p.push_back(one(ChunkPass::backward, i, rank));
  return p;
}

// Megatron-LM's interleaved schedule (forward_backward_pipelining_with_interleaving;
// Narayanan et al. 2021 §2.2.2). Virtual micro-batch k of the n x v runs model
// chunk (k mod pp v) / pp (reversed for backward) of micro-batch
// (k / (pp v)) pp + k mod pp. Warm-up: (pp - r - 1) 2 + (v - 1) pp forwards
// (all of them when n == pp). Rank r's chunk c is stage c pp + r.
std::vector<Slot> interleaved(int pp, int v, int rank, int n) {
  const int total = n * v;
  const int warmup = n == pp ? total : std::min(total, (pp - rank - 1) * 2 + (v - 1) * pp);
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

// ZB-H1 (Qi et al. 2023 §3.1), as sail-sg's ZeroBubbleH1Pipeline with exact
// semantics: pp - r - 1 warm-up forwards; r slots of forward + input-gradient
// backward whose weight gradients wait; then forward, input backward and one
// deferred weight gradient per slot; the deferred weight gradients last. The
// first stage (r = 0) defers nothing. Weight gradients run first-in first-out.
std::vector<Slot> zb_h1(int pp, int rank, int n) {
  std::vector<Slot> p;
  std::deque<int> waiting;  // micro-batches whose weight gradient is deferred
  int forward = 0, backward = 0, weight = 0;
  const auto f = [&] { p.push_back(one(ChunkPass::forward, forward++, rank)); };
  const auto b_input = [&] {
    waiting.push_back(backward);
    p.push_back(one(ChunkPass::backward_input, backward++, rank));
  };
  const auto w = [&] {
    p.push_back(one(ChunkPass::backward_weight, waiting.front(), rank));
    waiting.pop_front();
    ++weight;
  };
  const auto b_full = [&] {
    p.push_back(one(ChunkPass::backward, backward++, rank));
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

// DualPipe (deepseek-ai/DualPipe dualpipe.py, DualPipe.step). Rank r holds
// stage r of direction 0 (micro-batches 0 .. n/2-1 enter at rank 0) and stage
// pp-1-r of direction 1 (the rest enter at rank pp-1). Phase 0 is direction 0
// on the first half of the ranks and direction 1 on the second half.
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
  void push_pair(Chunk a, Chunk b) { program_.push_back(pair(a, b)); }

  int pp_, rank_, half_n_;
  bool second_half_;
  int forwards_[2] = {0, 0};
  int backwards_[2] = {0, 0};
  std::deque<Chunk> deferred_;
  std::vector<Slot> program_;
};

void check(model::Schedule schedule, int pp, int v, int n) {
  if (pp < 1 || v < 1 || n < 1) {
    throw ConfigError(
        fmt::format("pipeline: pp {}, virtual stages {} and {} micro-batches must all be positive", pp, v, n));
  }
  if (schedule == model::Schedule::interleaved_1f1b && v > 1 && n % pp != 0) {
    throw ConfigError(
        fmt::format("parallelism.schedule: interleaved 1F1B needs the micro-batches per step ({}) to be "
                    "a multiple of pp ({}) (Megatron-LM's rule)",
                    n, pp));
  }
  if (schedule == model::Schedule::dualpipe && (pp % 2 != 0 || n % 2 != 0 || n < 2 * pp)) {
    throw ConfigError(
        fmt::format("parallelism.schedule: DualPipe needs an even pp and an even number of micro-batches "
                    "per step of at least 2 pp; got pp {} and {} micro-batches",
                    pp, n));
  }
  if (schedule != model::Schedule::interleaved_1f1b && v != 1) {
    throw ConfigError(fmt::format("parallelism.virtual_stages: {} needs the interleaved-1f1b schedule", v));
  }
}

}  // namespace

int Pipeline::rank_of(int micro_batch, int stage) const {
  if (schedule == model::Schedule::dualpipe && micro_batch >= micro_batches / 2) return ranks - 1 - stage;
  return stage % ranks;
}

Pipeline make_pipeline(model::Schedule schedule, int pp, int virtual_stages, int micro_batches) {
  check(schedule, pp, virtual_stages, micro_batches);
  Pipeline p;
  p.schedule = schedule;
  p.ranks = pp;
  p.stages = pp * virtual_stages;
  p.micro_batches = micro_batches;
  for (int r = 0; r < pp; ++r) {
    switch (schedule) {
      case model::Schedule::one_f_one_b: p.programs.push_back(one_f_one_b(pp, r, micro_batches)); break;
      case model::Schedule::interleaved_1f1b:
        p.programs.push_back(virtual_stages == 1 ? one_f_one_b(pp, r, micro_batches)
                                                 : interleaved(pp, virtual_stages, r, micro_batches));
        break;
      case model::Schedule::zero_bubble: p.programs.push_back(zb_h1(pp, r, micro_batches)); break;
      case model::Schedule::dualpipe: p.programs.push_back(DualPipeProgram(pp, r, micro_batches).build()); break;
    }
  }
  return p;
}

std::string to_string(ChunkPass pass) {
  switch (pass) {
    case ChunkPass::forward: return "F";
    case ChunkPass::backward: return "B";
    case ChunkPass::backward_input: return "Bi";
    case ChunkPass::backward_weight: return "W";
  }
  return "?";
}

}  // namespace tcsim::sim
