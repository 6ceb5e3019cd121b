// Chunks of a step as data. Rules and sources: workload.h and
// docs/simulation.md ("Chunks").
#include "model/workload.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "model/memory.h"

namespace tcsim::model {
namespace {

bool is_ep(Collective c) { return c == Collective::ep_dispatch || c == Collective::ep_combine; }

bool is_gemm(const Op& op) { return op.cls == OpClass::gemm || op.cls == OpClass::grouped_gemm; }

// In the pass being walked, a sequence-parallel collective that feeds the
// GEMM after it (an all-gather forward; the gradient of a reduce-scatter,
// an all-gather, in backward), as against one that drains the GEMM before it.
bool feeds_next_gemm(Collective c, bool backward) {
  return c == (backward ? Collective::tp_reduce_scatter : Collective::tp_all_gather);
}
bool is_sp(Collective c) { return c == Collective::tp_all_gather || c == Collective::tp_reduce_scatter; }

Bytes ep_bytes(const Block& b, Collective c) {
  for (const Op& op : b.ops) {
    if (op.collective == c) return op.comm_bytes;
  }
  return Bytes(0);
}

// Accumulates ops into compute pieces between communication pieces.
class ChunkBuilder {
 public:
  explicit ChunkBuilder(Pass pass) : pass_(pass) {}

  // An op that takes no time (no work in its pass, nor a recomputed forward
  // with work) is left out.
  void add(const Op& op, OpUse use, int layer) {
    const bool forward_again = use.with_forward && has_work(op, Pass::forward);
    if (!has_work(op, use.pass) && !forward_again) return;
    segment_.push_back(use);
    if (first_op_.empty()) first_op_ = op.name;
    last_op_ = op.name;
    note_layer(layer);
  }

  // Closes the open segment into a piece depending on the frontier.
  void close() {
    if (segment_.empty()) {
      if (!joins_.empty()) flush_joins_into_join();
      return;
    }
    WorkPiece p;
    p.kind = PieceKind::compute;
    p.pass = pass_;
    p.ops = std::move(segment_);
    p.deps = frontier_;
    p.deps.insert(p.deps.end(), joins_.begin(), joins_.end());
    p.first_layer = first_layer_;
    p.last_layer = last_layer_;
    p.layer = last_layer_;
    p.name = first_op_ == last_op_ ? first_op_ : first_op_ + ".." + last_op_;
    joins_.clear();
    frontier_ = {push(std::move(p))};
    segment_.clear();
    first_op_.clear();
    last_op_.clear();
    first_layer_ = last_layer_ = -1;
  }

  int comm(Collective c, bool combine_traffic, Bytes bytes, int layer, std::string name) {
    close();
    const int i = comm_beside(c, bytes, layer, std::move(name), frontier_);
    chunk_.pieces[static_cast<std::size_t>(i)].combine_traffic = combine_traffic;
    frontier_ = {i};
    return i;
  }

  // A collective beside the main line: it waits for `deps` and nothing waits
  // for it until join_later(); the frontier stays where it is.
  int comm_beside(Collective c, Bytes bytes, int layer, std::string name, std::vector<int> deps) {
    WorkPiece p;
    p.kind = PieceKind::comm;
    p.pass = pass_;
    p.collective = c;
    p.bytes = bytes;
    p.deps = std::move(deps);
    p.layer = layer;
    p.first_layer = p.last_layer = layer;
    p.name = std::move(name);
    return push(std::move(p));
  }
  const std::vector<int>& frontier() const { return frontier_; }

  // A piece beside the main line (the shared expert beside the dispatch):
  // starts from the frontier, joins the first piece after join_later().
  int side(std::vector<OpUse> uses, int layer, std::string name) {
    close();
    WorkPiece p;
    p.kind = PieceKind::side;
    p.pass = pass_;
    p.ops = std::move(uses);
    p.deps = frontier_;
    p.layer = p.first_layer = p.last_layer = layer;
    p.name = std::move(name);
    return push(std::move(p));
  }
  void join_later(int piece) { joins_.push_back(piece); }

  // A piece off the main line that depends on the frontier (weight gradients).
  int branch(WorkPiece p) {
    close();
    p.deps = frontier_;
    return push(std::move(p));
  }
  int chain(WorkPiece p, int after) {
    if (after >= 0) p.deps = {after};
    return push(std::move(p));
  }

  ChunkWork finish() {
    close();
    if (!joins_.empty()) flush_joins_into_join();
    chunk_.output = frontier_.empty() ? -1 : frontier_.back();
    return std::move(chunk_);
  }

 private:
  int push(WorkPiece p) {
    chunk_.pieces.push_back(std::move(p));
    return static_cast<int>(chunk_.pieces.size() - 1);
  }
  void note_layer(int layer) {
    if (layer < 0) return;
    if (first_layer_ < 0) first_layer_ = layer;
    last_layer_ = layer;
  }
  void flush_joins_into_join() {
    WorkPiece p;
    p.pass = pass_;
    p.deps = frontier_;
    p.deps.insert(p.deps.end(), joins_.begin(), joins_.end());
    p.name = "join";
    joins_.clear();
    frontier_ = {push(std::move(p))};
  }

  Pass pass_;
  ChunkWork chunk_;
  std::vector<OpUse> segment_;
  std::vector<int> frontier_;
  std::vector<int> joins_;
  std::string first_op_, last_op_;
  int first_layer_ = -1, last_layer_ = -1;
};

class WorkloadBuilder {
 public:
  WorkloadBuilder(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec, MicroBatch mb)
      : m_(m),
        plan_(plan),
        overlaps_shared_expert_(pipeline_schedule(plan.schedule).overlaps_expert_comm() || plan.overlap_shared_expert) {
    w_.micro_batch = mb;
    w_.blocks = build_model_blocks(m, plan, prec, mb);
  }

  StepWorkload assemble() {
    const std::vector<int> counts = stage_layer_counts(m_, plan_);
    w_.stages.resize(counts.size());
    int next = 1;  // blocks[0] is the embedding
    const int blocks = static_cast<int>(w_.blocks.size());
    for (std::size_t st = 0; st < counts.size(); ++st) {
      std::vector<int>& held = w_.stages[st].blocks;
      if (st == 0) held.push_back(0);
      for (int i = 0; i < counts[st]; ++i) held.push_back(next++);
      if (st + 1 == counts.size()) {
        for (; next < blocks; ++next) held.push_back(next);  // MTP modules, head
      }
    }
    for (StageWork& st : w_.stages) {
      st.chunks = {forward_chunk(st), backward_chunk(st, true), backward_chunk(st, false), weight_chunk(st)};
    }
    return std::move(w_);
  }

 private:
  const Block& block(int b) const { return w_.blocks[static_cast<std::size_t>(b)]; }

  // One block's ops, in pass order, into the builder. Backward: the
  // combine's gradient travels like a dispatch in the dispatch's FP8 bytes
  // and the dispatch's gradient like a combine in BF16 (V3-TR §3.3.4: FP8
  // before the expert up- and down-projections, BF16 combine in both
  // directions). Under full recompute a backward collective is followed by
  // its forward again.
  void walk_block(ChunkBuilder& b, int index, bool backward) const {
    const Block& blk = block(index);
    const Pass pass = backward ? Pass::backward_input : Pass::forward;
    const bool has_ep = ep_bytes(blk, Collective::ep_dispatch).value() > 0;
    std::vector<int> ops, side;
    for (int i = 0; i < static_cast<int>(blk.ops.size()); ++i) {
      const Op& op = blk.ops[static_cast<std::size_t>(i)];
      // DeepSeek-V3 runs the shared expert while the dispatch is in flight
      // (V3-TR §3.2.1, Fig. 4: the MLP of one chunk beside the other's
      // all-to-all); other schedules run it in line.
      if (has_ep && overlaps_shared_expert_ && op.role == OpRole::shared_expert) {
        side.push_back(i);
      } else {
        ops.push_back(i);
      }
    }
    if (backward) std::reverse(ops.begin(), ops.end());
    int ep_seen = 0, side_piece = -1;
    // Tensor-parallel overlap (ParallelPlan::overlap_tp_comm): collectives
    // that feed the next GEMM start beside it and join after it; those that
    // drain a GEMM start with it. The pipelining in tp chunks
    // (TransformerEngine's ring exchange) is not modelled: the two overlap
    // fully, which leaves out one chunk of the shorter at either end.
    const bool overlap_tp = plan_.overlap_tp_comm;
    std::vector<int> feeding;                  // collectives beside the next GEMM
    std::optional<std::vector<int>> draining;  // where the GEMM a collective drains started
    for (std::size_t k = 0; k < ops.size(); ++k) {
      const int i = ops[k];
      const Op& op = blk.ops[static_cast<std::size_t>(i)];
      if (op.cls != OpClass::comm) {
        const bool gemm = is_gemm(op);
        if (gemm && overlap_tp && drains_into(blk, ops, k, backward)) {
          b.close();
          draining = b.frontier();
        }
        b.add(op, {index, i, pass, backward && op.recomputed}, blk.layer);
        if (gemm && !feeding.empty()) {
          b.close();
          for (const int f : feeding) b.join_later(f);
          feeding.clear();
        }
        continue;
      }
      if (is_sp(op.collective)) {
        const Bytes bytes = op.comm_bytes;
        const std::string name = op.name + (backward ? " (bwd)" : "");
        if (overlap_tp && feeds_next_gemm(op.collective, backward)) {
          b.close();
          feeding.push_back(b.comm_beside(op.collective, bytes, blk.layer, name, b.frontier()));
        } else if (overlap_tp && draining) {
          const int c = b.comm_beside(op.collective, bytes, blk.layer, name, *draining);
          b.close();
          b.join_later(c);
          draining.reset();
        } else {
          comm(b, blk, op, backward, false);
        }
        // Only the shard of a gathered input is kept: backward gathers it
        // again for the weight gradient, beside the input-gradient work
        // (Op::regather; Megatron-LM overlaps it with the input-gradient
        // GEMM). Under full recompute the re-run forward gathers it anyway.
        if (backward && op.regather && !op.recomputed) {
          b.close();
          b.join_later(b.comm_beside(op.collective, bytes, blk.layer, op.name + " (regather)", b.frontier()));
        }
        if (backward && op.recomputed) comm(b, blk, op, false, true);
        continue;
      }
      if (is_ep(op.collective)) {
        if (++ep_seen == 1 && !side.empty()) {
          b.close();
          side_piece =
              b.side(side_uses(index, side, pass, backward), blk.layer, backward ? "moe.shared (bwd)" : "moe.shared");
        }
        comm(b, blk, op, backward, false);
        if (ep_seen == 2 && side_piece >= 0) b.join_later(side_piece);
      } else {
        comm(b, blk, op, backward, false);
      }
      if (backward && op.recomputed) comm(b, blk, op, false, true);  // full recompute re-runs it forward
    }
  }

  // Whether the next collective after the GEMM at ops[k] in walk order,
  // past its FP8 casts, drains it (a reduce-scatter forward, the gradient of
  // an all-gather in backward).
  static bool drains_into(const Block& blk, const std::vector<int>& ops, std::size_t k, bool backward) {
    for (std::size_t j = k + 1; j < ops.size(); ++j) {
      const Op& next = blk.ops[static_cast<std::size_t>(ops[j])];
      if (next.cls == OpClass::memory && next.memory == MemoryKind::quantize) continue;
      return next.cls == OpClass::comm && is_sp(next.collective) && !feeds_next_gemm(next.collective, backward);
    }
    return false;
  }

  // The side piece's uses, one per pass that has work: each op in `pass`,
  // then its forward again when recomputed.
  std::vector<OpUse> side_uses(int index, const std::vector<int>& side, Pass pass, bool recompute) const {
    std::vector<OpUse> out;
    for (const int i : side) {
      const Op& op = block(index).ops[static_cast<std::size_t>(i)];
      if (has_work(op, pass)) out.push_back({index, i, pass, false});
      if (recompute && op.recomputed && has_work(op, Pass::forward)) out.push_back({index, i, Pass::forward, false});
    }
    return out;
  }

  static void comm(ChunkBuilder& b, const Block& blk, const Op& op, bool backward, bool recompute) {
    bool combine_traffic = op.collective == Collective::ep_combine;
    Bytes bytes = op.comm_bytes;
    if (backward && is_ep(op.collective)) {
      combine_traffic = !combine_traffic;
      bytes = ep_bytes(blk, combine_traffic ? Collective::ep_combine : Collective::ep_dispatch);
    }
    std::string name = op.name;
    if (backward) name += " (bwd)";
    if (recompute) name += " (recompute)";
    b.comm(op.collective, combine_traffic, bytes, blk.layer, std::move(name));
  }

  // Weight gradients of one block: every op's backward_weight.
  WorkPiece weight_piece(int index) const {
    const Block& blk = block(index);
    WorkPiece p;
    p.pass = Pass::backward_weight;
    for (int i = 0; i < static_cast<int>(blk.ops.size()); ++i) {
      const Op& op = blk.ops[static_cast<std::size_t>(i)];
      if (op.cls != OpClass::comm && has_work(op, Pass::backward_weight)) {
        p.ops.push_back({index, i, Pass::backward_weight, false});
      }
    }
    p.layer = p.first_layer = p.last_layer = blk.layer;
    p.name = block_name(blk) + " weights";
    return p;
  }

  ChunkWork forward_chunk(const StageWork& st) const {
    ChunkBuilder b(Pass::forward);
    for (const int i : st.blocks) walk_block(b, i, false);
    return b.finish();
  }

  // Input gradients, block by block from the last; with `with_weights` each
  // block's weight gradients follow its input gradients off the main line.
  ChunkWork backward_chunk(const StageWork& st, bool with_weights) const {
    ChunkBuilder b(Pass::backward_input);
    std::vector<int> weight(st.blocks.size(), -1);
    for (int i = static_cast<int>(st.blocks.size()) - 1; i >= 0; --i) {
      const int index = st.blocks[static_cast<std::size_t>(i)];
      walk_block(b, index, true);
      if (with_weights) weight[static_cast<std::size_t>(i)] = b.branch(weight_piece(index));
    }
    ChunkWork c = b.finish();
    c.weight_of_block = std::move(weight);
    return c;
  }

  ChunkWork weight_chunk(const StageWork& st) const {
    ChunkBuilder b(Pass::backward_weight);
    std::vector<int> weight(st.blocks.size(), -1);
    int last = -1;
    for (int i = static_cast<int>(st.blocks.size()) - 1; i >= 0; --i) {
      last = b.chain(weight_piece(st.blocks[static_cast<std::size_t>(i)]), last);
      weight[static_cast<std::size_t>(i)] = last;
    }
    ChunkWork c = b.finish();
    c.output = last;
    c.weight_of_block = std::move(weight);
    return c;
  }

  const ModelSpec& m_;
  const ParallelPlan& plan_;
  bool overlaps_shared_expert_;
  StepWorkload w_;
};

}  // namespace

std::string block_name(const Block& b) {
  switch (b.kind) {
    case BlockKind::embedding: return "embedding";
    case BlockKind::head: return "head";
    case BlockKind::mtp: return fmt::format("mtp{}", b.layer);
    default: return fmt::format("layer{}", b.layer);
  }
}

bool has_work(const Op& op, Pass pass) {
  const auto i = static_cast<std::size_t>(pass);
  switch (op.cls) {
    case OpClass::gemm:
    case OpClass::grouped_gemm:
    case OpClass::attention: return op.flops[i].value() > 0;
    case OpClass::memory: return op.hbm_bytes[i].value() > 0;
    case OpClass::comm: return op.comm_bytes.value() > 0;
  }
  return false;
}

StepWorkload build_workload(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec,
                            MicroBatch micro_batch) {
  return WorkloadBuilder(m, plan, prec, micro_batch).assemble();
}

}  // namespace tcsim::model
