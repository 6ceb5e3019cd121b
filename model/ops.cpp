// The op list of each block on one GPU. Shapes come from model/layer_shapes.h;
// conventions and their sources are in ops.h and docs/model.md ("Ops").
#include "model/ops.h"

#include <cassert>
#include <cmath>

#include "model/layer_shapes.h"

namespace tcsim::model {
namespace {

// What every op builder of one block needs.
struct Ctx {
  const ModelSpec& m;
  const ParallelPlan& plan;
  const PrecisionSpec& prec;
  std::int64_t tokens = 0;  // tokens on this GPU: sequences x seq_len / cp
  std::int64_t seq_len = 0;
  bool in_layer = false;            // inside a transformer layer: the span full recompute covers
  OpRole role = OpRole::attention;  // of the ops built with this context
};

Ctx with_role(const Ctx& c, OpRole role) {
  Ctx r = c;
  r.role = role;
  return r;
}

// The tokens of this GPU outside the tensor-parallel regions (norms,
// residuals, the router, replicated GEMMs): all of them under plain tensor
// parallelism, 1/tp of them under sequence parallelism (Korthikanti et al.
// 2022, arXiv:2205.05198 §4.2.2).
Ctx sequence_shard(const Ctx& c) {
  Ctx s = c;
  if (c.plan.sequence_parallel) s.tokens = c.tokens / c.plan.tp;
  return s;
}

double act_bytes(const Ctx& c) { return dtype_bytes(c.prec.activations); }

// Quantised saved tensors (fp8, e5m6) carry one FP32 scale per 1x128 tile:
// V3-TR §3.3.2, "we group and scale elements on a 1x128 tile basis (i.e., per
// token per 128 channels)"; DeepGEMM (deepseek-ai/DeepGEMM README) takes the
// activation scales as FP32. A row's last partial tile takes a scale too.
constexpr std::int64_t kQuantTile = 128;

bool quantised(Dtype d) { return d == Dtype::fp8 || d == Dtype::e5m6; }

// Bytes of `rows` x `width` elements kept for backward in `d`, scales included.
Bytes saved_tensor(double rows, std::int64_t width, Dtype d) {
  const double values = rows * static_cast<double>(width) * dtype_bytes(d);
  if (!quantised(d)) return Bytes(values);
  const double scales = rows * static_cast<double>(ceil_div(width, kQuantTile));
  return Bytes(values + scales * dtype_bytes(Dtype::fp32));
}

// A GEMM input kept for its weight gradient, in precision.gemm_input_cache
// (V3-TR §3.3.4: "cache activations in FP8 format for the backward pass of
// the Linear operator").
Bytes cached_input(const Ctx& c, double rows, std::int64_t width) {
  return saved_tensor(rows, width, c.prec.gemm_input_cache);
}

Dtype gemm_dtype(const Ctx& c, const Linear& l) { return l.low_precision ? c.prec.gemm : c.prec.activations; }

// Whether the plan drops this op's outputs and re-runs it in backward.
// selective_target: a norm or an MLA up-projection, what DeepSeek-V3
// recomputes (V3-TR §3.2.3); full recompute re-runs whole transformer layers
// (Chen et al. 2016, arXiv:1604.06174; Megatron's "full" granularity).
bool recomputed(const Ctx& c, bool selective_target) {
  switch (c.plan.recompute) {
    case Recompute::none: return false;
    case Recompute::selective: return selective_target;
    case Recompute::full: return c.in_layer;
  }
  return false;
}

Bytes elems(double count, double bytes_each) { return Bytes(count * bytes_each); }

Op new_op(const Ctx& c, std::string name, OpClass cls, Dtype dtype) {
  Op op;
  op.name = std::move(name);
  op.cls = cls;
  op.role = c.role;
  op.dtype = dtype;
  return op;
}

Block new_block(BlockKind kind, int layer) {
  Block b;
  b.kind = kind;
  b.layer = layer;
  return b;
}

// 2mnk FLOPs in each pass. HBM: forward reads X (rows x k) and W (k x n) and
// writes Y (rows x n); backward_input reads dY and W and writes dX;
// backward_weight reads X and dY and writes dW in the gradient dtype.
// `rows` is m summed over groups, `mats` the number of weight matrices.
void fill_gemm_costs(const Ctx& c, Op& op, double rows, double mats) {
  const double n = static_cast<double>(op.shape.n);
  const double k = static_cast<double>(op.shape.k);
  const Flops f(2.0 * rows * n * k);
  op.flops = {f, f, f};
  const double in = dtype_bytes(op.dtype);
  const double out = act_bytes(c);
  const double x = rows * k, y = rows * n, w = mats * k * n;
  op.hbm_bytes = {Bytes((x + w) * in + y * out), Bytes((y + w) * in + x * out),
                  Bytes((x + y) * in + w * dtype_bytes(c.prec.grads))};
}

// A dense GEMM over this GPU's tokens; `saved` is its output kept for backward.
Op gemm_op(const Ctx& c, const Linear& l, Bytes saved, bool selective_target = false) {
  Op op = new_op(c, l.name, OpClass::gemm, gemm_dtype(c, l));
  op.shape = {.m = c.tokens, .n = local_out(l, c.plan.tp), .k = local_in(l, c.plan.tp)};
  fill_gemm_costs(c, op, static_cast<double>(c.tokens), 1.0);
  op.saved = saved;
  op.recomputed = recomputed(c, selective_target);
  return op;
}

// One GEMM per local expert over `assignments` token-expert pairs; the shape
// records the average m per expert, the costs the exact total.
Op grouped_gemm_op(const Ctx& c, const Linear& l, double assignments, int groups, Bytes saved) {
  Op op = new_op(c, l.name, OpClass::grouped_gemm, gemm_dtype(c, l));
  const int etp = expert_tp(c.plan);
  op.shape = {.m = std::llround(assignments / groups), .n = local_out(l, etp), .k = local_in(l, etp), .groups = groups};
  fill_gemm_costs(c, op, assignments, groups);
  op.saved = saved;
  op.recomputed = recomputed(c, false);
  return op;
}

// A memory-bound op: zero FLOPs (O(elements), negligible beside the GEMMs),
// bytes read + written per pass.
Op memory_op(const Ctx& c, MemoryKind kind, std::string name, std::array<Bytes, kPasses> bytes, Bytes saved,
             bool recompute) {
  Op op = new_op(c, std::move(name), OpClass::memory, c.prec.activations);
  op.memory = kind;
  op.hbm_bytes = bytes;
  op.saved = saved;
  op.recomputed = recompute;
  return op;
}

// Where an FP8 GEMM's forward input comes from: activations that need the
// per-token cast, or already FP8 (the FP8 dispatch, a permute writing the
// GEMM dtype, an activation kernel with the cast fused, as DeepSeek's SwiGLU
// kernels are in its profile). Two GEMMs reading one tensor cast it each
// (DeepSeek's profile casts the norm output for q_down and again for kv_down).
enum class GemmInput { cast, fp8_ready };

// Bytes of casting `rows` x `width` activations to FP8: read in the
// activation dtype, write one byte each plus an FP32 scale per 1 x 128 tile
// along `width` (V3-TR §3.3.2).
double cast_bytes(const Ctx& c, double rows, std::int64_t width) {
  const double w = static_cast<double>(width);
  return rows * w * (act_bytes(c) + dtype_bytes(Dtype::fp8)) +
         rows * static_cast<double>(ceil_div(width, kQuantTile)) * dtype_bytes(Dtype::fp32);
}

// Bytes of writing `rows` x `width` values transposed in FP8 tiles of 128
// rows x 1 channel: one byte each plus an FP32 scale per 128 rows of a
// channel, `groups` independent row blocks (one per local expert).
double transposed_fp8_bytes(double rows, std::int64_t width, int groups) {
  const double w = static_cast<double>(width);
  const double per_group = std::ceil(rows / groups / static_cast<double>(kQuantTile));
  return rows * w * dtype_bytes(Dtype::fp8) + groups * per_group * w * dtype_bytes(Dtype::fp32);
}

// The casts an FP8 GEMM of `rows` rows (summed over groups) needs, pass by
// pass, as one quantize op beside it:
// - forward: X (rows x k) per-token, unless `input` is already FP8;
// - backward_input: dY (rows x n) per-token, for the input-gradient GEMM;
// - backward_weight: X and dY transposed and re-quantised in 128 x 1 tiles
//   for the weight-gradient GEMM, which contracts over the rows (V3-TR
//   §3.5.2: activations "read out, dequantized, transposed, re-quantized
//   into 128x1 tiles, and stored in HBM"); X is read from its cache
//   (gemm_input_cache), dY in the activation dtype.
// Weights are cast per 128 x 128 block once per step with the optimizer,
// not per micro-batch, so not here. The op recomputes with its GEMM and
// keeps nothing (the GEMM's `saved` already counts the FP8 cache).
Op quantize_op(const Ctx& c, const Op& gemm, double rows, GemmInput input) {
  const std::int64_t n = gemm.shape.n, k = gemm.shape.k;
  const int groups = gemm.shape.groups;
  const double x_t = cached_input(c, rows, k).value() + transposed_fp8_bytes(rows, k, groups);
  const double dy_t = rows * static_cast<double>(n) * act_bytes(c) + transposed_fp8_bytes(rows, n, groups);
  Op op = memory_op(c, MemoryKind::quantize, gemm.name + ".quant",
                    {Bytes(input == GemmInput::cast ? cast_bytes(c, rows, k) : 0.0), Bytes(cast_bytes(c, rows, n)),
                     Bytes(x_t + dy_t)},
                    Bytes(0), gemm.recomputed);
  op.dtype = Dtype::fp8;
  return op;
}

// A tensor kept for backward in a quantised cache dtype (fp8, e5m6) is cast
// into it by a kernel of its own: forward reads `rows` x `width` in the
// activation dtype and writes the cache (scales included); backward casts it
// back. DeepSeek's profile: the attention output into E5M6
// (per_token_cast_to_fp8_with_fp8_special_fmt, and its cast back in attn(B));
// the SwiGLU inputs into FP8 under recompute_moe_activation (per_token_cast
// over the expert rows in mlp(F), cast_back in mlp(B)). V3-TR §3.3.4.
void push_cache_cast(const Ctx& c, std::vector<Op>& ops, std::string name, double rows, std::int64_t width, Dtype cache,
                     bool recompute) {
  if (!quantised(cache)) return;
  const double b = rows * static_cast<double>(width) * act_bytes(c) + saved_tensor(rows, width, cache).value();
  Op op = memory_op(c, MemoryKind::quantize, std::move(name), {Bytes(b), Bytes(b), Bytes(0)}, Bytes(0), recompute);
  op.dtype = cache;
  ops.push_back(std::move(op));
}

// A GEMM and, when it runs in FP8, its casts before it.
void push_gemm(const Ctx& c, std::vector<Op>& ops, Op gemm, double rows, GemmInput input) {
  if (gemm.dtype == Dtype::fp8) ops.push_back(quantize_op(c, gemm, rows, input));
  ops.push_back(std::move(gemm));
}

// RMSNorm/LayerNorm over `width`: forward reads x and writes y; backward reads
// x and dy and writes dx (the gain's gradient is reduced in the same kernel).
// It saves its output y in `saved` (scales included) for the consumer.
Op norm_op(const Ctx& c, std::string name, std::int64_t width, Dtype saved) {
  const double t = static_cast<double>(c.tokens);
  const double e = t * static_cast<double>(width);
  const double a = act_bytes(c);
  return memory_op(c, MemoryKind::norm, std::move(name), {elems(2 * e, a), elems(3 * e, a), Bytes(0)},
                   saved_tensor(t, width, saved), recomputed(c, true));
}

// Residual add: forward reads two, writes one; backward adds the branch's
// input gradient to the skip path's (read two, write one). keep_output: the output is read by a norm in the same
// block (the mid-layer residual; an MTP module's layer output).
Op residual_op(const Ctx& c, std::string name, bool keep_output) {
  const double e = static_cast<double>(c.tokens) * static_cast<double>(c.m.hidden);
  const double a = act_bytes(c);
  return memory_op(c, MemoryKind::residual, std::move(name), {elems(3 * e, a), elems(3 * e, a), Bytes(0)},
                   Bytes(keep_output ? e * a : 0.0), recomputed(c, false));
}

// Whether an FFN's activation output is dropped and recomputed from its
// cached input: the experts of MoE layers under recompute_moe_activation
// (V3-TR §3.3.4 (2): "we cache the inputs of the SwiGLU operator and
// recompute its output in the backward pass"), or full recompute.
bool activation_recomputed(const Ctx& c, bool moe) {
  return recomputed(c, false) || (moe && c.plan.recompute_moe_activation);
}

// What the up (or up_gate) GEMM keeps of its `rows` x `width` output for the
// activation's backward: the activation dtype, or gemm_input_cache when the
// activation is recomputed from it ("also stored in FP8 with our fine-grained
// quantization method", V3-TR §3.3.4 (2)).
Bytes activation_input_saved(const Ctx& c, double rows, std::int64_t width, bool moe) {
  if (moe && c.plan.recompute_moe_activation) return cached_input(c, rows, width);
  return saved_tensor(rows, width, c.prec.activations);
}

// SwiGLU (silu(gate) * up) or GELU over `rows` x `width`; saves its output,
// the down-projection's input, in gemm_input_cache. moe: an MoE layer's expert.
Op activation_op(const Ctx& c, std::string name, double rows, std::int64_t width, bool moe) {
  const double e = rows * static_cast<double>(width);
  const double a = act_bytes(c);
  const bool glu = c.m.ffn == FfnKind::swiglu;
  const std::array<Bytes, kPasses> bytes = glu ? std::array{elems(3 * e, a), elems(5 * e, a), Bytes(0)}
                                               : std::array{elems(2 * e, a), elems(3 * e, a), Bytes(0)};
  return memory_op(c, MemoryKind::activation, std::move(name), bytes, cached_input(c, rows, width),
                   activation_recomputed(c, moe));
}

Op comm_op(const Ctx& c, std::string name, Collective coll, Bytes bytes, Bytes saved) {
  Op op = new_op(c, std::move(name), OpClass::comm, c.prec.activations);
  op.collective = coll;
  op.comm_bytes = bytes;
  op.saved = saved;
  op.recomputed = recomputed(c, false);
  return op;
}

// Megatron's all-reduce of the row-parallel output (tokens x h) after the
// attention and FFN blocks, and of the vocabulary-parallel embedding; under
// sequence parallelism a reduce-scatter of the same buffer to the tokens'
// shards (nccl-tests' sizes: the whole tokens x h buffer either way).
void append_tp_reduce(const Ctx& c, std::vector<Op>& ops, const std::string& name) {
  if (c.plan.tp == 1) return;
  const double e = static_cast<double>(c.tokens) * static_cast<double>(c.m.hidden);
  const bool sp = c.plan.sequence_parallel;
  ops.push_back(comm_op(c, name + (sp ? ".sp_reduce_scatter" : ".tp_all_reduce"),
                        sp ? Collective::tp_reduce_scatter : Collective::tp_all_reduce, elems(e, act_bytes(c)),
                        Bytes(0)));
}

// Sequence parallelism's all-gather of a sequence-sharded `width`-wide input
// before the column-parallel GEMM that reads it: the whole tokens x width
// buffer. Its backward reduce-scatters the gradient and gathers the input
// again for the weight gradient, since only the shard is kept (ibid. §4.2.2;
// model/workload.cpp).
void append_sp_gather(const Ctx& c, std::vector<Op>& ops, const std::string& name, std::int64_t width) {
  if (!c.plan.sequence_parallel) return;
  const double e = static_cast<double>(c.tokens) * static_cast<double>(width);
  Op op = comm_op(c, name + ".sp_gather", Collective::tp_all_gather, elems(e, act_bytes(c)), Bytes(0));
  op.regather = true;
  ops.push_back(std::move(op));
}

// The attention core: forward computes Q K^T (2 s d_qk per query and head) and
// P V (2 s d_v) over the fraction of the score matrix the mask keeps;
// backward computes dQ, dK (2x the QK^T work) and dV, dP (2x the PV work).
// FlashAttention-2 (Dao 2023, arXiv:2307.08691, Alg. 1-2) keeps O and the
// FP32 log-sum-exp L for backward; Q, K, V are kept by their producers. The
// one copy of O, also the output projection's input, is kept in
// attention_output_cache (DeepSeek-V3: E5M6, V3-TR §3.3.4 (1)).
Op attention_core_op(const Ctx& c) {
  const AttentionDims d = attention_dims(c.m);
  const double t = static_cast<double>(c.tokens);
  const double heads = static_cast<double>(ceil_div(d.heads, c.plan.tp));
  const double kv = static_cast<double>(ceil_div(d.kv_heads, c.plan.tp));
  const double s = static_cast<double>(c.seq_len);
  const double fwd = 2.0 * s * static_cast<double>(d.d_qk + d.d_v) * heads * t *
                     attention_fraction(static_cast<int>(c.seq_len), AttentionFlops::causal);
  Op op = new_op(c, "attn.core", OpClass::attention, c.prec.activations);
  op.flops = {Flops(fwd), Flops(2.0 * fwd), Flops(0)};
  const double a = act_bytes(c);
  const double lse = dtype_bytes(Dtype::fp32);
  const double d_qk = static_cast<double>(d.d_qk), d_v = static_cast<double>(d.d_v);
  const double q = t * heads * d_qk, k = t * kv * d_qk, v = t * kv * d_v, o = t * heads * d_v;
  const double stats = t * heads * lse;
  op.hbm_bytes = {Bytes((q + k + v + o) * a + stats), Bytes((2 * (q + k + v) + 2 * o) * a + stats), Bytes(0)};
  const std::int64_t o_width = ceil_div(d.heads, c.plan.tp) * d.d_v;
  op.saved = saved_tensor(t, o_width, c.prec.attention_output_cache) + Bytes(stats);
  op.recomputed = recomputed(c, false);
  return op;
}

// Context parallelism gathers the keys and values of the whole sequence
// before the core (Megatron-Core's all-gather CP variant).
void append_cp_gather(const Ctx& c, std::vector<Op>& ops) {
  if (c.plan.cp == 1) return;
  const AttentionDims d = attention_dims(c.m);
  const double kv = static_cast<double>(ceil_div(d.kv_heads, c.plan.tp));
  const double gathered = static_cast<double>(c.tokens * c.plan.cp) * kv * static_cast<double>(d.d_qk + d.d_v);
  ops.push_back(comm_op(c, "attn.cp_gather", Collective::cp_all_gather, elems(gathered, act_bytes(c)), Bytes(0)));
}

// Rotary embedding of this GPU's queries and keys (Su et al. 2021,
// arXiv:2104.09864): read and write each rotated element, forward and
// backward. MLA rotates only the decoupled parts, d_rope per query head and
// one shared d_rope key per token (V3-TR eq. 3 and 8); MHA/GQA rotate every
// query and key head. Under MLA it re-runs with the recomputed up-projection
// (the profile runs it twice in backward); otherwise with the layer.
void append_rope(const Ctx& c, std::vector<Op>& ops) {
  if (c.m.position != PositionKind::rope) return;
  const AttentionSpec& a = c.m.attention;
  const AttentionDims d = attention_dims(c.m);
  const bool mla = a.kind == AttentionKind::mla;
  const double heads = static_cast<double>(ceil_div(d.heads, c.plan.tp));
  const double kv = static_cast<double>(ceil_div(d.kv_heads, c.plan.tp));
  const double rotated = mla ? (heads + 1.0) * a.qk_rope_head_dim : (heads + kv) * static_cast<double>(d.d_qk);
  const Bytes b = elems(2.0 * static_cast<double>(c.tokens) * rotated, act_bytes(c));
  ops.push_back(memory_op(c, MemoryKind::rope, "attn.rope", {b, b, Bytes(0)}, Bytes(0), recomputed(c, mla)));
}

// MLA's queries and keys as the attention kernel reads them: q = [q_nope;
// q_rope] and k = [k_nope; k_rope], the one rope key broadcast to every head
// (V3-TR eq. 5 and 10), written as whole heads of d_qk; backward splits the
// gradients back. It re-runs with the recomputed up-projections.
void append_mla_assembly(const Ctx& c, std::vector<Op>& ops) {
  const AttentionSpec& a = c.m.attention;
  if (a.kind != AttentionKind::mla) return;
  const double t = static_cast<double>(c.tokens);
  const double heads = static_cast<double>(ceil_div(a.heads, c.plan.tp));
  const double d_qk = a.qk_nope_head_dim + a.qk_rope_head_dim;
  // q: read its nope and rope parts, write it whole; k: read the nope parts
  // and the shared rope key, write every head whole.
  const double q = 2.0 * heads * d_qk;
  const double k = heads * a.qk_nope_head_dim + a.qk_rope_head_dim + heads * d_qk;
  const Bytes b = elems(t * (q + k), act_bytes(c));
  ops.push_back(memory_op(c, MemoryKind::copy, "attn.qk_assemble", {b, b, Bytes(0)}, Bytes(0), recomputed(c, true)));
}

// Fused attention backward's kernels around the main one: pre-processing
// computes D = rowsum(dO * O) per query and head (FlashAttention-2,
// arXiv:2307.08691, Alg. 2 line 4: read O and dO, write D in FP32) and
// post-processing converts dQ, accumulated in FP32 (FlashAttention-3,
// arXiv:2407.08608 §3), to the activation dtype.
Op attention_prep_op(const Ctx& c) {
  const AttentionDims d = attention_dims(c.m);
  const double t = static_cast<double>(c.tokens);
  const double heads = static_cast<double>(ceil_div(d.heads, c.plan.tp));
  const double f = dtype_bytes(Dtype::fp32), a = act_bytes(c);
  const double pre = t * heads * (2.0 * static_cast<double>(d.d_v) * a + f);
  const double post = t * heads * static_cast<double>(d.d_qk) * (f + a);
  return memory_op(c, MemoryKind::attention_prep, "attn.core.prep", {Bytes(0), Bytes(pre + post), Bytes(0)}, Bytes(0),
                   recomputed(c, false));
}

// The norm that follows an MLA down-projection (over the latent part only;
// the decoupled RoPE key bypasses it).
void append_mla_norm(const Ctx& c, std::vector<Op>& ops, const Linear& down) {
  const AttentionSpec& a = c.m.attention;
  const Dtype cache = c.prec.gemm_input_cache;
  if (down.name == "attn.q_down") ops.push_back(norm_op(c, "attn.q_norm", a.q_lora_rank, cache));
  if (down.name == "attn.kv_down") ops.push_back(norm_op(c, "attn.kv_norm", a.kv_lora_rank, cache));
}

bool is_mla_up_projection(const Linear& l) { return l.name == "attn.q_up" || l.name == "attn.kv_up"; }

// Pre-norm attention half of a layer. Each projection but the output one keeps
// its output (the next norm's or the core's input).
// Under sequence parallelism the replicated GEMMs (MLA's down-projections)
// and their norms run on the token shard, and each column-parallel GEMM
// gathers its input first: the norm's output (MHA/GQA), or the latent the
// down-projection made (MLA, as Megatron-Core gathers the compressed q and
// kv rather than the hidden states).
void append_attention(const Ctx& layer, std::vector<Op>& ops) {
  const Ctx c = with_role(layer, OpRole::attention);
  const Ctx s = sequence_shard(c);
  ops.push_back(norm_op(s, "attn.norm", c.m.hidden, c.prec.gemm_input_cache));
  const std::vector<Linear> linears = attention_linears(c.m);
  const double t = static_cast<double>(c.tokens);
  std::int64_t sharded_width = c.m.hidden;  // the sequence-sharded tensor the next column GEMM reads
  for (const Linear& l : linears) {
    if (l.name == "attn.out") continue;
    const Ctx& at = l.split == TpSplit::replicated ? s : c;
    if (l.split == TpSplit::column) append_sp_gather(c, ops, l.name, sharded_width);
    const double rows = static_cast<double>(at.tokens);
    const Bytes out = elems(rows * static_cast<double>(local_out(l, c.plan.tp)), act_bytes(c));
    push_gemm(at, ops, gemm_op(at, l, out, is_mla_up_projection(l)), rows, GemmInput::cast);
    append_mla_norm(at, ops, l);
    if (l.split == TpSplit::replicated) sharded_width = l.out;
  }
  append_rope(c, ops);
  append_mla_assembly(c, ops);
  append_cp_gather(c, ops);
  ops.push_back(attention_core_op(c));
  const AttentionDims dims = attention_dims(c.m);
  push_cache_cast(c, ops, "attn.core.cache", t, ceil_div(dims.heads, c.plan.tp) * dims.d_v,
                  c.prec.attention_output_cache, ops.back().recomputed);
  ops.push_back(attention_prep_op(c));
  push_gemm(c, ops, gemm_op(c, linears.back(), Bytes(0)), t, GemmInput::cast);
  append_tp_reduce(c, ops, "attn");
  ops.push_back(residual_op(s, "attn.residual", true));
}

// up (or up_gate) -> activation -> down over this GPU's tokens; up keeps its
// output for the activation's backward. moe: the shared experts of an MoE
// layer. Under sequence parallelism it gathers its input and
// reduce-scatters its output itself; otherwise the layer all-reduces once
// after the FFN (shared and routed experts summed).
void append_mlp(const Ctx& c, std::vector<Op>& ops, const std::string& prefix, std::int64_t width, bool moe) {
  const std::vector<Linear> ls = mlp_linears(c.m, prefix, width);
  const double t = static_cast<double>(c.tokens);
  append_sp_gather(c, ops, prefix, c.m.hidden);
  push_gemm(c, ops, gemm_op(c, ls[0], activation_input_saved(c, t, local_out(ls[0], c.plan.tp), moe)), t,
            GemmInput::cast);
  if (moe && c.plan.recompute_moe_activation) {
    push_cache_cast(c, ops, ls[0].name + ".cache", t, local_out(ls[0], c.plan.tp), c.prec.gemm_input_cache,
                    ops.back().recomputed);
  }
  ops.push_back(activation_op(c, prefix + ".act", t, local_in(ls[1], c.plan.tp), moe));
  push_gemm(c, ops, gemm_op(c, ls[1], Bytes(0)), t, GemmInput::fp8_ready);
  if (c.plan.sequence_parallel) append_tp_reduce(c, ops, prefix);
}

// Tokens to their experts: the EP all-to-all when ep > 1 (tokens in the GEMM
// dtype: DeepSeek dispatches FP8, V3-TR §3.3.4), a local permute otherwise.
// Either way the dispatched tokens are the expert GEMM's cached input.
// `kept_rows`: the rows the expert GEMM reads and keeps (more than the
// assignments sent when expert TP gathers them).
void append_dispatch(const Ctx& experts, std::vector<Op>& ops, double assignments, double kept_rows) {
  const Ctx c = with_role(experts, OpRole::expert_exchange);
  const double h = static_cast<double>(c.m.hidden);
  const Bytes kept = cached_input(c, kept_rows, c.m.hidden);
  const int ep = c.plan.ep;
  if (ep > 1) {
    const double leaves = static_cast<double>(ep - 1) / ep;
    const double bytes = c.prec.gemm == Dtype::fp8 ? dtype_bytes(Dtype::fp8) : act_bytes(c);
    ops.push_back(comm_op(c, "moe.dispatch", Collective::ep_dispatch, elems(assignments * h * leaves, bytes), kept));
    return;
  }
  const double a = act_bytes(c), t = static_cast<double>(c.tokens);
  ops.push_back(memory_op(
      c, MemoryKind::permute, "moe.permute",
      {Bytes(t * h * a + assignments * h * dtype_bytes(c.prec.gemm)), Bytes(2 * assignments * h * a), Bytes(0)}, kept,
      recomputed(c, false)));
}

// Expert outputs back to their tokens, weighted by the gates: the EP
// all-to-all in BF16 (V3-TR §3.3.4 keeps the combine in BF16) or a local
// unpermute.
void append_combine(const Ctx& experts, std::vector<Op>& ops, double assignments) {
  const Ctx c = with_role(experts, OpRole::expert_exchange);
  const double h = static_cast<double>(c.m.hidden);
  const int ep = c.plan.ep;
  if (ep > 1) {
    const double leaves = static_cast<double>(ep - 1) / ep;
    ops.push_back(
        comm_op(c, "moe.combine", Collective::ep_combine, elems(assignments * h * leaves, act_bytes(c)), Bytes(0)));
    return;
  }
  const double a = act_bytes(c), t = static_cast<double>(c.tokens);
  ops.push_back(memory_op(c, MemoryKind::permute, "moe.unpermute",
                          {Bytes((assignments + t) * h * a), Bytes((assignments + t) * h * a), Bytes(0)}, Bytes(0),
                          recomputed(c, false)));
}

// Under EP the all-to-all delivers tokens grouped by source GPU; a local
// pass lays them out by expert before the grouped GEMM (expand, in the
// dispatch's dtype with its scales) and weights and gathers the expert
// outputs back before the combine (reduce, in the activation dtype): the
// profile's expand/reduce kernels. Each reads and writes every assignment
// row of h once per pass; backward moves the gradient the other way in the
// activation dtype.
Op expert_layout_op(const Ctx& c, std::string name, double assignments, Dtype forward) {
  const double rows = assignments * static_cast<double>(c.m.hidden);
  const double once = saved_tensor(assignments, c.m.hidden, forward).value();  // values, and scales when quantised
  return memory_op(c, MemoryKind::permute, std::move(name),
                   {Bytes(2.0 * once), Bytes(2.0 * rows * act_bytes(c)), Bytes(0)}, Bytes(0), recomputed(c, false));
}

// The gate after the router GEMM (V3-TR §2.1.2 eq. 13-15, node-limited
// §2.1.2 "Node-Limited Routing"): forward reads the logits, writes FP32
// sigmoid scores, reads them for the group-limited top-k (group scores,
// then the top-k within the chosen groups) and writes k indices (int64)
// and k weights (FP32) per token, plus the dispatch layout under EP (reads
// the indices); backward reads the weights' gradient, the indices and the
// scores and writes the logits' gradient.
Op routing_op(const Ctx& c) {
  const MoeSpec& e = *c.m.moe;
  const double t = static_cast<double>(c.tokens);
  const double scores = t * e.routed, picks = t * e.per_token;
  const double f = dtype_bytes(Dtype::fp32), idx = 8.0, a = act_bytes(c);
  const double layout = c.plan.ep > 1 ? picks * idx : 0.0;
  const double fwd = scores * (a + 3.0 * f) + picks * (idx + f) + layout;
  const double bwd = scores * (f + a) + picks * (idx + f);
  return memory_op(c, MemoryKind::routing, "moe.gate", {Bytes(fwd), Bytes(bwd), Bytes(0)}, Bytes(0),
                   recomputed(c, false));
}

// Routed experts on this GPU: with balanced routing every GPU receives on
// average as many assignments as it sends, tokens x per_token (each of the
// ep GPUs in the group sends 1/ep of its tokens x per_token to each), spread
// over routed/ep local experts, each expert's width split over expert_tp.
// The tokens are the GPU's sequence shard under sequence parallelism; with
// expert_tp = tp > 1 there the received tokens are gathered over the tensor-
// parallel group before the experts and reduce-scattered after them
// (Megatron-Core's all-to-all dispatcher: all-to-all, then all-gather in the
// tensor-parallel group). Without sequence parallelism every tp rank holds
// every token and expert_tp = tp (scenarios/rules.h).
void append_routed_experts(const Ctx& layer, std::vector<Op>& ops) {
  const Ctx c = with_role(layer, OpRole::routed_expert);
  const MoeSpec& e = *c.m.moe;
  assert(e.routed % c.plan.ep == 0);
  const int groups = e.routed / c.plan.ep;
  const int etp = expert_tp(c.plan);
  const bool gather = c.plan.sequence_parallel && etp > 1;
  const double assignments = static_cast<double>(sequence_shard(c).tokens) * e.per_token;
  const double rows = gather ? assignments * etp : assignments;  // what the expert GEMMs run on
  const std::vector<Linear> ls = mlp_linears(c.m, "moe.experts", e.expert_intermediate);
  const double a = act_bytes(c);
  const double dispatched = c.prec.gemm == Dtype::fp8 ? dtype_bytes(Dtype::fp8) : a;
  append_dispatch(c, ops, assignments, rows);
  if (gather) {
    ops.push_back(comm_op(c, "moe.experts.sp_gather", Collective::tp_all_gather,
                          elems(rows * static_cast<double>(c.m.hidden), dispatched), Bytes(0)));
  }
  if (c.plan.ep > 1) ops.push_back(expert_layout_op(c, "moe.expand", rows, c.prec.gemm));
  push_gemm(c, ops,
            grouped_gemm_op(c, ls[0], rows, groups, activation_input_saved(c, rows, local_out(ls[0], etp), true)), rows,
            GemmInput::fp8_ready);
  if (c.plan.recompute_moe_activation) {
    push_cache_cast(c, ops, ls[0].name + ".cache", rows, local_out(ls[0], etp), c.prec.gemm_input_cache,
                    ops.back().recomputed);
  }
  ops.push_back(activation_op(c, "moe.experts.act", rows, local_in(ls[1], etp), true));
  // The gradient of a gate value g_i in h' = u + sum_i g_i FFN_i(u) (V3-TR
  // eq. 12) is <dh', FFN_i(u)>. With the gate applied to the activation
  // output (moe_weighted_activation) it is <W_down^T dh', act>, from tensors
  // backward has anyway; otherwise the expert outputs stay for it, in the
  // activation dtype (the combine is BF16, V3-TR §3.3.4).
  const Bytes expert_outputs = c.plan.moe_weighted_activation ? Bytes(0) : elems(rows * c.m.hidden, a);
  push_gemm(c, ops, grouped_gemm_op(c, ls[1], rows, groups, expert_outputs), rows, GemmInput::fp8_ready);
  if (c.plan.ep > 1) ops.push_back(expert_layout_op(c, "moe.reduce", rows, c.prec.activations));
  if (gather) {
    ops.push_back(comm_op(c, "moe.experts.sp_reduce_scatter", Collective::tp_reduce_scatter,
                          elems(rows * static_cast<double>(c.m.hidden), a), Bytes(0)));
  }
  append_combine(c, ops, assignments);
}

// DeepSeekMoE FFN (V3-TR §2.1.2): router, shared experts, routed experts.
void append_moe(const Ctx& c, std::vector<Op>& ops) {
  const MoeSpec& e = *c.m.moe;
  // The router keeps its scores (tokens x routed) for the gate's backward;
  // it routes the GPU's sequence shard under sequence parallelism.
  const Ctx router = with_role(sequence_shard(c), OpRole::router);
  const double t = static_cast<double>(router.tokens);
  ops.push_back(gemm_op(router, router_linear(c.m), elems(t * e.routed, act_bytes(c))));
  ops.push_back(routing_op(router));
  if (e.shared > 0) {
    append_mlp(with_role(c, OpRole::shared_expert), ops, "moe.shared", std::int64_t{e.shared} * e.expert_intermediate,
               true);
  }
  append_routed_experts(c, ops);
}

// One transformer layer: attention half, then a dense FFN or MoE half.
// keep_output: the layer's output is read inside the same block (MTP).
void append_layer(const Ctx& layer, std::vector<Op>& ops, bool moe, bool keep_output) {
  append_attention(layer, ops);
  const Ctx c = with_role(layer, OpRole::ffn);
  // In an MoE layer the router, a high-precision GEMM (V3-TR §3.3), reads the
  // norm's output too, so it is kept in the activation dtype.
  const Ctx s = sequence_shard(c);
  ops.push_back(norm_op(s, "ffn.norm", c.m.hidden, moe ? c.prec.activations : c.prec.gemm_input_cache));
  if (moe) {
    append_moe(c, ops);
  } else {
    append_mlp(c, ops, "ffn", c.m.ffn_intermediate, false);
  }
  if (!c.plan.sequence_parallel) append_tp_reduce(c, ops, "ffn");
  Op out = residual_op(s, "ffn.residual", keep_output);
  // The layer's output is the boundary full recompute restarts from: kept.
  if (keep_output) out.recomputed = false;
  ops.push_back(out);
}

// Token-embedding lookup (plus the learned position rows): reads t rows of the
// table, writes t x h; the weight gradient scatter-adds t rows. Under tensor
// parallelism each rank looks up its vocabulary slice for every token and
// the partial rows are all-reduced (reduce-scattered to the token shards
// under sequence parallelism). `saved`: the output rows kept, per token of
// the shard.
void append_lookup(const Ctx& c, std::vector<Op>& ops, const std::string& name, double saved_bytes_per_token) {
  const double e = static_cast<double>(c.tokens) * static_cast<double>(c.m.hidden);
  const double tables = c.m.position == PositionKind::learned ? 2.0 : 1.0;
  const double a = act_bytes(c);
  const double kept = static_cast<double>(sequence_shard(c).tokens) * saved_bytes_per_token;
  ops.push_back(memory_op(c, MemoryKind::lookup, name,
                          {Bytes(tables * e * dtype_bytes(c.prec.weights) + e * a), Bytes(0),
                           Bytes(e * a + tables * e * dtype_bytes(c.prec.grads))},
                          Bytes(kept), false));
  append_tp_reduce(c, ops, name);
}

// Vocabulary-parallel cross-entropy. It keeps the softmax of the logits in
// FP32 for backward: 4 x tokens x vocab/tp bytes (Korthikanti et al. 2022,
// arXiv:2205.05198 §4.3, "cross entropy loss ... 32-bit floating point").
Op loss_op(const Ctx& c, std::string name) {
  const double e = static_cast<double>(c.tokens) * static_cast<double>(ceil_div(c.m.vocab, c.plan.tp));
  const double a = act_bytes(c), f = dtype_bytes(Dtype::fp32);
  return memory_op(c, MemoryKind::loss, std::move(name), {Bytes(e * (a + f)), Bytes(e * (f + a)), Bytes(0)},
                   Bytes(e * f), false);
}

// Final norm, output projection (the shared head for MTP) and loss.
void append_output(const Ctx& block, std::vector<Op>& ops, const std::string& prefix) {
  const Ctx c = with_role(block, OpRole::output);
  // The head GEMM stays in high precision (V3-TR §3.3): its input is kept in the activation dtype.
  ops.push_back(norm_op(sequence_shard(c), prefix + ".norm", c.m.hidden, c.prec.activations));
  append_sp_gather(c, ops, prefix + ".proj", c.m.hidden);
  ops.push_back(gemm_op(c, head_linear(c.m, prefix + ".proj"), Bytes(0)));
  ops.push_back(loss_op(c, prefix + ".loss"));
}

// An MTP module (V3-TR §2.2 eq. 21-23): embed the token k ahead (shared
// table), RMSNorm it and the previous depth's hidden state, project [h; e]
// from 2h to h, run one transformer layer, then the shared head and its loss.
void append_mtp(Ctx c, std::vector<Op>& ops) {
  c.role = OpRole::mtp;
  const Ctx s = sequence_shard(c);  // the projection is replicated: it runs on the shard
  const double a = act_bytes(c);
  append_lookup(c, ops, "mtp.embedding", static_cast<double>(c.m.hidden) * a);
  ops.push_back(norm_op(s, "mtp.enorm", c.m.hidden, c.prec.gemm_input_cache));
  ops.push_back(norm_op(s, "mtp.hnorm", c.m.hidden, c.prec.gemm_input_cache));
  const double e = static_cast<double>(s.tokens) * static_cast<double>(c.m.hidden);
  push_gemm(s, ops, gemm_op(s, mtp_projection(c.m), Bytes(e * a)), static_cast<double>(s.tokens), GemmInput::cast);
  c.in_layer = true;
  append_layer(c, ops, c.m.moe.has_value(), true);
  c.in_layer = false;
  append_output(c, ops, "mtp.head");
}

Block layer_block(const Ctx& c, BlockKind kind, int layer) {
  assert((kind == BlockKind::moe_layer) == is_moe_layer(c.m, layer));
  Block b = new_block(kind, layer);
  Ctx in = c;
  in.in_layer = true;
  append_layer(in, b.ops, kind == BlockKind::moe_layer, false);
  b.input_saved = elems(static_cast<double>(sequence_shard(c).tokens) * c.m.hidden, act_bytes(c));
  return b;
}

// GEMM weights one token uses in a layer (tp = ep = 1), for the FLOP count.
std::int64_t layer_gemm_weights(const ModelSpec& m, int layer) {
  std::int64_t w = sum_weights(attention_linears(m));
  if (!is_moe_layer(m, layer)) return w + sum_weights(mlp_linears(m, "ffn", m.ffn_intermediate));
  const MoeSpec& e = *m.moe;
  w += router_linear(m).weights();
  w += sum_weights(mlp_linears(m, "moe.shared", std::int64_t{e.shared} * e.expert_intermediate));
  return w + e.per_token * sum_weights(mlp_linears(m, "moe.experts", e.expert_intermediate));
}

}  // namespace

double attention_fraction(int seq_len, AttentionFlops convention) {
  if (convention == AttentionFlops::full) return 1.0;
  const double s = seq_len;
  return (s + 1.0) / (2.0 * s);
}

Block build_block(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec, BlockKind kind, int layer,
                  MicroBatch mb) {
  assert(mb.seq_len % plan.cp == 0);
  const Ctx c{.m = m,
              .plan = plan,
              .prec = prec,
              .tokens = std::int64_t{mb.sequences} * mb.seq_len / plan.cp,
              .seq_len = mb.seq_len};
  switch (kind) {
    case BlockKind::embedding: {
      Block b = new_block(kind, -1);
      append_lookup(with_role(c, OpRole::embedding), b.ops, "embedding", 0.0);  // its output is layer 0's input
      return b;
    }
    case BlockKind::dense_layer:
    case BlockKind::moe_layer: return layer_block(c, kind, layer);
    case BlockKind::mtp: {
      Block b = new_block(kind, layer);
      append_mtp(c, b.ops);
      return b;
    }
    case BlockKind::head: {
      Block b = new_block(kind, -1);
      b.input_saved = elems(static_cast<double>(sequence_shard(c).tokens) * m.hidden, act_bytes(c));
      append_output(c, b.ops, "head");
      return b;
    }
  }
  return {};
}

std::vector<Block> build_model_blocks(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec,
                                      MicroBatch mb) {
  std::vector<Block> blocks;
  blocks.push_back(build_block(m, plan, prec, BlockKind::embedding, -1, mb));
  for (int layer = 0; layer < m.layers; ++layer) {
    const BlockKind kind = is_moe_layer(m, layer) ? BlockKind::moe_layer : BlockKind::dense_layer;
    blocks.push_back(build_block(m, plan, prec, kind, layer, mb));
  }
  for (int d = 0; d < m.mtp_depth; ++d) blocks.push_back(build_block(m, plan, prec, BlockKind::mtp, m.layers + d, mb));
  blocks.push_back(build_block(m, plan, prec, BlockKind::head, -1, mb));
  return blocks;
}

// 6 x GEMM weights per token: 2 FLOPs per weight per token forward, 4 backward
// (Kaplan et al. 2020, arXiv:2001.08361 §2.1); attention 3 x its forward
// (backward = 2 x forward, as in PaLM's 6N + 12LHQT, Chowdhery et al. 2022
// App. B). Each loss (main, and each MTP module through the shared head) runs
// the head GEMM.
Flops train_flops_per_token(const ModelSpec& m, int seq_len, AttentionFlops convention) {
  const std::int64_t head = head_linear(m, "head").weights();
  double gemm = static_cast<double>(head);
  for (int layer = 0; layer < m.layers; ++layer) gemm += static_cast<double>(layer_gemm_weights(m, layer));
  const double mtp = static_cast<double>(mtp_projection(m).weights() + layer_gemm_weights(m, m.layers) + head);
  gemm += m.mtp_depth * mtp;
  const AttentionDims d = attention_dims(m);
  const double attn_fwd = 2.0 * seq_len * static_cast<double>(d.d_qk + d.d_v) * static_cast<double>(d.heads) *
                          attention_fraction(seq_len, convention);
  return Flops(6.0 * gemm + 3.0 * attn_fwd * (m.layers + m.mtp_depth));
}

}  // namespace tcsim::model
