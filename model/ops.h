// The workload of one training step, op by op: what the simulator turns into
// a task graph. Every op carries its FLOPs and HBM bytes for the three passes
// of training (forward, backward to inputs, backward to weights), per GPU,
// for one micro-batch, after tensor-, expert- and context-parallel sharding.
// Conventions (derivations and sources in docs/model.md):
// - A GEMM of forward shape m x n x k costs 2mnk FLOPs in each of the three
//   passes; its HBM bytes read both operands and write the result at their
//   dtypes. Norms, activations, residual adds, permutes and the loss are
//   memory ops: zero FLOPs, bytes read + written. Biases ride in the GEMM.
// - Attention core: forward 2 x s x (d_qk + d_v) per query token and local
//   head, times (s+1)/(2s) under a causal mask; backward_input twice forward;
//   no weight gradient.
// - Tensor parallelism is Megatron's (no sequence parallelism): one
//   tp_all_reduce of tokens x h after attention and one after the FFN/MoE.
// - Expert parallelism: with balanced routing each GPU computes
//   tokens x per_token expert assignments over routed/ep local experts.
// - FP8 GEMMs carry their casts as a `quantize` op beside them (V3-TR §3.3.2
//   tiles, §3.5.2 the transposed re-quantisation for wgrad); RoPE, MLA's
//   query/key assembly, the gate's top-k and attention backward's
//   pre-processing are memory ops of their own (docs/model.md, "Kernels
//   beyond the GEMMs").
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/units.h"
#include "model/spec.h"

namespace tcsim::model {

enum class OpClass {
  gemm,          // dense matrix multiply
  grouped_gemm,  // one GEMM per local expert, tokens split among them
  attention,     // fused causal attention core (softmax(QK^T)V), FlashAttention-style
  memory,        // memory-bound: norms, activations, router softmax, residual adds, quantisation
  comm,          // a collective over a parallel group (bytes below are per GPU)
};

// What a memory-bound op is: the kernel a framework runs for it.
enum class MemoryKind : std::uint8_t {
  none,        // not a memory op
  norm,        // RMSNorm / LayerNorm
  activation,  // SwiGLU / GELU
  residual,    // residual add
  permute,     // MoE permute or unpermute (tokens to and from their experts on one GPU)
  lookup,      // embedding lookup
  loss,        // cross-entropy
  quantize,    // FP8 casts of a GEMM's inputs: per-token (1x128) forward, per-channel (128x1) and transposed for wgrad
  rope,        // rotary position embedding of queries and keys
  routing,     // the MoE gate: scores, group-limited top-k, dispatch layout
  attention_prep,  // fused attention backward's pre-processing (rowsum(dO * O)) and dQ conversion
  copy,            // layout copies: MLA's query and key assembly ([nope; rope]), and their split in backward
};

enum class Pass { forward = 0, backward_input = 1, backward_weight = 2 };
inline constexpr int kPasses = 3;

// What part of the model an op belongs to: the step simulation places and
// times ops by role (a routed expert's work follows the tokens its GPU
// receives; DualPipe runs the shared expert beside the dispatch), never by
// name.
enum class OpRole : std::uint8_t {
  embedding,        // the token (and learned position) lookup
  attention,        // a layer's attention half: norm, projections, core, CP gather, TP all-reduce, residual
  ffn,              // a dense layer's FFN half, and the norm, TP all-reduce and residual around an MoE
  router,           // the MoE gate
  shared_expert,    // shared experts, on every token beside the routed ones
  routed_expert,    // routed experts' GEMMs and activation: work that follows the tokens a GPU receives
  expert_exchange,  // tokens to and from their experts: the EP all-to-all, or a local permute
  mtp,              // an MTP module's own input: its embedding lookup, norms and projection
  output,           // final norm, output projection and loss
};

// Which collective a comm op is and over which group of the plan.
enum class Collective { none, tp_all_reduce, tp_all_gather, tp_reduce_scatter, ep_dispatch, ep_combine, cp_all_gather };

// M x N x K of a GEMM: M tokens, N output features, K input features. For a
// grouped GEMM, `groups` GEMMs of m tokens each (the average per expert).
struct GemmShape {
  std::int64_t m = 0;
  std::int64_t n = 0;
  std::int64_t k = 0;
  int groups = 1;
};

struct Op {
  std::string name;  // "attn.q_down", "moe.experts.up_gate", "ep.dispatch"
  OpClass cls = OpClass::memory;
  OpRole role = OpRole::attention;
  MemoryKind memory = MemoryKind::none;    // memory ops: which kernel
  Dtype dtype = Dtype::bf16;               // GEMM input type (fp8 when the plan runs GEMMs in FP8)
  GemmShape shape;                         // gemm / grouped_gemm: the forward shape
  std::array<Flops, kPasses> flops{};      // model FLOPs per pass (backward attention = 2x forward)
  std::array<Bytes, kPasses> hbm_bytes{};  // HBM bytes read + written per pass
  // Activation bytes of this op's outputs (and internal statistics such as the
  // attention log-sum-exp) that backward reads, attributed to the op that
  // produces them so each tensor counts once. A block's input is Block::input_saved.
  Bytes saved;
  // Under the plan's recompute policy this op's outputs are not kept (saved
  // does not count) and its forward re-runs during backward.
  bool recomputed = false;
  Collective collective = Collective::none;
  // comm ops, forward pass, per GPU (backward mirrors it):
  // - tp_all_reduce / tp_all_gather / tp_reduce_scatter / cp_all_gather: the
  //   collective's full buffer on each GPU (the algorithm, e.g. ring's
  //   2(n-1)/n, is the network model's business);
  // - ep_dispatch / ep_combine (all-to-all): only the bytes that leave the
  //   GPU, (ep-1)/ep of tokens x per_token x h under uniform routing.
  Bytes comm_bytes;
  // A sequence-parallel all-gather of an input whose shard alone is kept:
  // backward gathers it again for the weight gradient (Korthikanti et al.
  // 2022 §4.2.2). Not the experts' gather, whose gathered rows are kept.
  bool regather = false;
};

enum class BlockKind { embedding, dense_layer, moe_layer, mtp, head };

struct Block {
  BlockKind kind = BlockKind::dense_layer;
  int layer = -1;  // main-model layer index (MTP module d: layers + d), -1 for embedding and head
  std::vector<Op> ops;
  // The block's input activation kept for backward under every recompute
  // policy (full recompute restarts the block from it). 0 when its producer
  // already keeps it: the embedding's token ids are negligible, and an MTP
  // module's input is the head's input or the previous module's output.
  Bytes input_saved;
};

// What one micro-batch is: `sequences` sequences of `seq_len` tokens.
struct MicroBatch {
  int sequences = 1;
  int seq_len = 0;
};

// The ops of one block on one GPU for one micro-batch under the plan.
Block build_block(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec, BlockKind kind, int layer,
                  MicroBatch mb);

// Every block of the model in order: embedding, layers, MTP modules, head.
std::vector<Block> build_model_blocks(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec,
                                      MicroBatch mb);

// Attention FLOP convention: `causal` counts the work a causal kernel does
// (about half the score matrix); `full` counts the whole s x s matrix, the
// convention of PaLM's MFU (6N + 12 L H Q T).
enum class AttentionFlops { causal, full };

// Training FLOPs per token (forward + backward, model FLOPs, no recompute),
// main model plus MTP modules: 6 x the GEMM weights one token uses (attention
// projections, dense FFN or router + shared + top-k experts, each MTP
// module's projection, and the output head once per loss: the main head and
// each MTP module's pass through the shared head; embedding lookups, norm
// gains and biases are not GEMMs and are excluded) plus 3 x the forward
// attention score and value products of every layer and MTP module.
Flops train_flops_per_token(const ModelSpec& m, int seq_len, AttentionFlops convention);

// Fraction of the s x s score matrix a causal kernel computes: (s+1)/(2s)
// (the lower triangle including the diagonal) under `causal`, 1 under `full`.
double attention_fraction(int seq_len, AttentionFlops convention);

}  // namespace tcsim::model
