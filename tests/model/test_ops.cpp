// Ops: FLOPs, bytes, communication and saved activations per op, checked
// against closed forms computed by hand in the comments.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

#include "model/catalog.h"
#include "model/ops.h"

#include "tests/model/fixtures.h"

namespace tcsim::model {
namespace {

using fixtures::preset;
using fixtures::tiny_dense;

// MLA (2 heads, q_lora 4, kv_lora 3, nope 2, rope 1, v 2), layer 0 dense,
// layer 1 MoE (8 routed of width 6, 1 shared, top-2), one MTP module.
ModelSpec tiny_mla_moe() {
  ModelSpec m = tiny_dense();
  m.attention = {.kind = AttentionKind::mla,
                 .heads = 2,
                 .kv_heads = 0,
                 .head_dim = 0,
                 .q_lora_rank = 4,
                 .kv_lora_rank = 3,
                 .qk_nope_head_dim = 2,
                 .qk_rope_head_dim = 1,
                 .v_head_dim = 2};
  m.moe = MoeSpec{.routed = 8, .shared = 1, .per_token = 2, .expert_intermediate = 6, .max_nodes_per_token = 0};
  m.dense_layers = 1;
  m.mtp_depth = 1;
  return m;
}

// GPT-style: MHA 2 heads of 4 (h = 8), GELU FFN 4h = 32, LayerNorm.
ModelSpec tiny_gpt() {
  ModelSpec m = tiny_dense();
  m.attention = {.kind = AttentionKind::mha, .heads = 2, .kv_heads = 2, .head_dim = 4};
  m.ffn = FfnKind::gelu;
  m.ffn_intermediate = 32;
  m.norm = NormKind::layernorm;
  return m;
}

const Op& find_op(const Block& b, const std::string& name) {
  for (const Op& op : b.ops) {
    if (op.name == name) return op;
  }
  FAIL("no op named " << name);
  return b.ops.front();
}

double total_flops(const std::vector<Block>& blocks) {
  double f = 0;
  for (const Block& b : blocks) {
    for (const Op& op : b.ops) {
      for (const Flops& p : op.flops) f += p.value();
    }
  }
  return f;
}

double kept(const Block& b) {
  double s = b.input_saved.value();
  for (const Op& op : b.ops) {
    if (!op.recomputed) s += op.saved.value();
  }
  return s;
}

const MicroBatch kTwoSeqOf16{.sequences = 2, .seq_len = 16};  // 32 tokens

}  // namespace

TEST_CASE("a GEMM costs 2mnk FLOPs in each of forward, input-grad and weight-grad passes") {
  const Block b = build_block(tiny_dense(), {}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  const Op& down = find_op(b, "ffn.down");
  // m = 32 tokens, n = h = 8, k = i = 12: 2 x 32 x 8 x 12 = 6144
  CHECK(down.cls == OpClass::gemm);
  CHECK(down.shape.m == 32);
  CHECK(down.shape.n == 8);
  CHECK(down.shape.k == 12);
  for (const Flops& f : down.flops) CHECK(f.value() == 6144.0);
}

TEST_CASE("a GEMM's HBM bytes read both operands and write the result at their dtypes") {
  PrecisionSpec prec;  // BF16 GEMMs and activations, FP32 gradients
  const Op bf16 = find_op(build_block(tiny_dense(), {}, prec, BlockKind::dense_layer, 0, kTwoSeqOf16), "ffn.down");
  // X 32x12 = 384, W 12x8 = 96, Y 32x8 = 256 elements
  // forward: (384 + 96) x 2 + 256 x 2 = 1472; input grad: (256 + 96) x 2 + 384 x 2 = 1472;
  // weight grad: (384 + 256) x 2 + 96 x 4 (FP32 gradient) = 1664
  CHECK(bf16.hbm_bytes[0].value() == 1472.0);
  CHECK(bf16.hbm_bytes[1].value() == 1472.0);
  CHECK(bf16.hbm_bytes[2].value() == 1664.0);
  prec.gemm = Dtype::fp8;
  const Op fp8 = find_op(build_block(tiny_dense(), {}, prec, BlockKind::dense_layer, 0, kTwoSeqOf16), "ffn.down");
  // FP8 operands: (384 + 96) x 1 + 256 x 2 (BF16 output) = 992
  CHECK(fp8.dtype == Dtype::fp8);
  CHECK(fp8.hbm_bytes[0].value() == 992.0);
}

TEST_CASE("causal attention costs 2 s (d_qk + d_v) heads tokens (s+1)/(2s) forward, twice that backward") {
  const Block b = build_block(tiny_dense(), {}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  const Op& core = find_op(b, "attn.core");
  // s = 16, d_qk = d_v = 4, 2 heads, 32 tokens: 2 x 16 x 8 x 2 x 32 x 17/32 = 8704
  CHECK(core.cls == OpClass::attention);
  CHECK(core.flops[0].value() == doctest::Approx(8704.0));
  CHECK(core.flops[1].value() == doctest::Approx(2 * 8704.0));
  CHECK(core.flops[2].value() == 0.0);
}

TEST_CASE("GPT-3's training FLOPs per token under the full convention are 6N' + 12 L s h") {
  // N' = GEMM weights a token uses: 96 layers x 12 h^2 (4h^2 attention + 8h^2 FFN) + V h (the tied head still
  // computes logits); h = 12288, V = 50257, s = 2048 (PaLM, Chowdhery et al. 2022 App. B: 6N + 12LHQT).
  const double h = 12288, layers = 96, vocab = 50257, s = 2048;
  const double expected = 6 * (layers * 12 * h * h + vocab * h) + 12 * layers * s * h;
  CHECK(train_flops_per_token(preset("gpt-3-175b"), 2048, AttentionFlops::full).value() ==
        doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("DeepSeek-V3's training FLOPs per token are 6 x its GEMM weights per token plus causal attention") {
  // Per token GEMM weights: attention projections 7168x1536 + 1536x24576 + 7168x576 + 512x32768 + 16384x7168
  // = 187,105,280 in each of 61 layers; 3 dense FFNs 3 x 7168 x 18432; 58 MoE layers of 9 experts
  // (3 x 7168 x 2048 each) + router 7168 x 256; head 129280 x 7168. MTP: 14336 x 7168 projection, one MoE
  // layer, and the shared head again. Attention: 62 layers x 3 x 2 x 4096 x (192 + 128) x 128 x 4097/8192.
  const double h = 7168, attn = 187'105'280, expert = 3 * h * 2048, router = h * 256, head = 129280 * h;
  const double main = 61 * attn + 3 * 3 * h * 18432 + 58 * (9 * expert + router) + head;
  const double mtp = 2 * h * h + attn + 9 * expert + router + head;
  const double attention = 62 * 3 * 2 * 4096.0 * 320 * 128 * 4097 / 8192;
  CHECK(train_flops_per_token(preset("deepseek-v3"), 4096, AttentionFlops::causal).value() ==
        doctest::Approx(6 * (main + mtp) + attention).epsilon(1e-12));
}

TEST_CASE("the ops of every block add up to train_flops_per_token x tokens (tp = ep = 1, causal)") {
  for (const ModelSpec& m : {tiny_mla_moe(), tiny_dense(), tiny_gpt(), preset("deepseek-v3")}) {
    const int s = m.hidden > 8 ? 4096 : 16;
    const double sum = total_flops(build_model_blocks(m, {}, {}, {.sequences = 1, .seq_len = s}));
    const double per_token = train_flops_per_token(m, s, AttentionFlops::causal).value();
    CHECK(sum / s == doctest::Approx(per_token).epsilon(1e-9));
  }
}

TEST_CASE("TP=8 divides every GEMM's FLOPs by 8 and adds an all-reduce of tokens x h x 2 bytes per half-layer") {
  ModelSpec m = tiny_dense();
  m.hidden = 128;
  m.attention = {.kind = AttentionKind::gqa, .heads = 16, .kv_heads = 8, .head_dim = 8};
  m.ffn_intermediate = 256;
  const Block one = build_block(m, {}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  const Block eight = build_block(m, {.tp = 8}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  for (const char* name : {"attn.qkv", "attn.out", "ffn.up_gate", "ffn.down"}) {
    CAPTURE(name);
    CHECK(find_op(eight, name).flops[0].value() * 8 == find_op(one, name).flops[0].value());
  }
  // Megatron (Shoeybi et al. 2019 §3): after the row-parallel attention output and FFN down projection;
  // 32 tokens x 128 x 2 bytes = 8192
  for (const char* name : {"attn.tp_all_reduce", "ffn.tp_all_reduce"}) {
    const Op& ar = find_op(eight, name);
    CHECK(ar.collective == Collective::tp_all_reduce);
    CHECK(ar.comm_bytes.value() == 8192.0);
  }
  int comm_ops = 0;
  for (const Op& op : one.ops) comm_ops += op.cls == OpClass::comm ? 1 : 0;
  CHECK(comm_ops == 0);
}

TEST_CASE("EP dispatch sends tokens x k x h in FP8 and combine in BF16, counting the (ep-1)/ep that leaves") {
  const ModelSpec m = tiny_mla_moe();
  const PrecisionSpec fp8{.gemm = Dtype::fp8};
  const Block b = build_block(m, {.ep = 4}, fp8, BlockKind::moe_layer, 1, kTwoSeqOf16);
  // 32 tokens x 2 experts x 8 x 1 byte x 3/4 = 384; combine at 2 bytes: 768 (V3-TR §3.3.4)
  const Op& dispatch = find_op(b, "moe.dispatch");
  CHECK(dispatch.collective == Collective::ep_dispatch);
  CHECK(dispatch.comm_bytes.value() == 384.0);
  const Op& combine = find_op(b, "moe.combine");
  CHECK(combine.collective == Collective::ep_combine);
  CHECK(combine.comm_bytes.value() == 768.0);
}

TEST_CASE("with EP each GPU's grouped GEMMs cover tokens x k assignments over routed/ep local experts") {
  const ModelSpec m = tiny_mla_moe();
  const Block b = build_block(m, {.ep = 4}, {}, BlockKind::moe_layer, 1, kTwoSeqOf16);
  const Op& up = find_op(b, "moe.experts.up_gate");
  // 8 experts / 4 GPUs = 2 local experts; 32 tokens x 2 = 64 assignments, 32 per expert;
  // up_gate 8 -> 2 x 6: 2 x 64 x 12 x 8 = 12288 FLOPs
  CHECK(up.cls == OpClass::grouped_gemm);
  CHECK(up.shape.groups == 2);
  CHECK(up.shape.m == 32);
  CHECK(up.flops[0].value() == 12288.0);
}

TEST_CASE("without recompute a GPT-style layer keeps 32 t h bytes plus the FP32 log-sum-exp") {
  // Korthikanti et al. 2022 (arXiv:2205.05198) eq. 1, 34 s b h + 5 a s^2 b, less the two s b h dropout masks,
  // with no s^2 terms under FlashAttention; plus L, 4 bytes x tokens x heads.
  // t = 32, h = 8: 32 x 32 x 8 + 4 x 32 x 2 = 8448
  const Block b = build_block(tiny_gpt(), {}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  CHECK(kept(b) == 8448.0);
}

TEST_CASE("tensor parallelism keeps Korthikanti's sbh(10 + 24/t) less the masks, and with sequence parallelism 34/t") {
  // Korthikanti et al. 2022 (arXiv:2205.05198) Table 2: per layer, TP t: sbh(10 + 24/t + 5as/ht); TP with SP:
  // sbh(34/t + 5as/ht). Without the s^2 terms (FlashAttention) and the two sbh dropout masks (no dropout in the
  // model: one 1-byte mask of sbh in the replicated part, one in the split part), that is sbh(8 + 24/t) and
  // sbh(32/t), plus the FP32 log-sum-exp of the GPU's heads, 4 x tokens x heads / t.
  // t = 32 tokens, h = 8, 2 heads, tp = 2: 32 x 8 x (8 + 12) + 4 x 32 x 1 = 5248; with SP 32 x 8 x 16 + 128 = 4224.
  const Block tp = build_block(tiny_gpt(), {.tp = 2}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  CHECK(kept(tp) == 5248.0);
  ParallelPlan sp{.tp = 2};
  sp.sequence_parallel = true;
  const Block tp_sp = build_block(tiny_gpt(), sp, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  CHECK(kept(tp_sp) == 4224.0);
}

TEST_CASE("full recompute keeps only each layer's input, 2 t h bytes") {
  // Korthikanti et al. 2022 §5: recomputing the whole layer keeps its input, 2 s b h. t = 32, h = 8: 512
  const Block b = build_block(tiny_gpt(), {.recompute = Recompute::full}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  CHECK(kept(b) == 512.0);
  for (const Op& op : b.ops) CHECK(op.recomputed);
}

TEST_CASE("DeepSeek's selective recompute re-runs the RMSNorms and the MLA up-projections only") {
  // V3-TR §3.2.3: "recomputing all RMSNorm operations and MLA up-projections during back-propagation"
  const Block b =
      build_block(tiny_mla_moe(), {.recompute = Recompute::selective}, {}, BlockKind::moe_layer, 1, kTwoSeqOf16);
  // RoPE and the query/key assembly act on the up-projections' outputs, so they re-run with them.
  const std::set<std::string> expected{"attn.norm",  "attn.q_norm", "attn.q_up",        "attn.kv_norm",
                                       "attn.kv_up", "attn.rope",   "attn.qk_assemble", "ffn.norm"};
  std::set<std::string> got;
  for (const Op& op : b.ops) {
    if (op.recomputed) got.insert(op.name);
  }
  CHECK(got == expected);
}

TEST_CASE("selective recompute on a GQA model drops only the norms' outputs") {
  const Block none = build_block(tiny_dense(), {}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  const Block sel =
      build_block(tiny_dense(), {.recompute = Recompute::selective}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  // Two RMSNorm outputs of t x h in BF16: 2 x 32 x 8 x 2 = 1024 bytes fewer
  CHECK(kept(none) - kept(sel) == 1024.0);
}

// Dense, widths that are multiples of the 128-element quantisation tile: h = 256, GQA 4 heads / 2 KV heads of 64
// (attention output 4 x 64 = 256 wide), SwiGLU 512.
ModelSpec tile_dense() {
  ModelSpec m = tiny_dense();
  m.hidden = 256;
  m.attention = {.kind = AttentionKind::gqa, .heads = 4, .kv_heads = 2, .head_dim = 64};
  m.ffn_intermediate = 512;
  return m;
}

TEST_CASE("FP8 GEMM-input caching halves the cached inputs' bytes and adds a 4-byte scale per 1x128 tile") {
  // V3-TR §3.3.4 "cache activations in FP8 format for the backward pass of the Linear operator"; §3.3.2 1x128
  // activation tiles, one FP32 scale each. No recompute, t = 32 tokens, h = 256, i = 512. The cached GEMM inputs
  // are attn.norm's output (qkv's input, 32 x 256), ffn.norm's (up_gate's, 32 x 256) and the SwiGLU output
  // (down's, 32 x 512): 32 x 1024 = 32768 elements, 65536 bytes in BF16. In FP8: 32768 bytes plus
  // 32 x (2 + 2 + 4) tiles x 4 bytes = 1024 bytes of scales, 33792: half of 65536 plus 65536 / 2 x 4 / 128.
  // Everything else (layer input, qkv output, attention O and LSE, mid residual, up_gate output) is unchanged.
  PrecisionSpec fp8{.gemm = Dtype::fp8};
  fp8.gemm_input_cache = Dtype::fp8;
  const Block bf16_block = build_block(tile_dense(), {}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  const Block fp8_block = build_block(tile_dense(), {}, fp8, BlockKind::dense_layer, 0, kTwoSeqOf16);
  CHECK(kept(bf16_block) - kept(fp8_block) == 65536.0 - 33792.0);
  // The SwiGLU output alone: 32 x 512 x 1 + 32 x 4 tiles x 4 = 16384 + 512 = 16896 (BF16: 32768)
  CHECK(find_op(bf16_block, "ffn.act").saved.value() == 32768.0);
  CHECK(find_op(fp8_block, "ffn.act").saved.value() == 16896.0);
  // A row narrower than a tile still carries one scale: tiny_dense's h = 8 norm output, 32 x 8 x 1 + 32 x 4 = 384
  const Block tiny = build_block(tiny_dense(), {}, fp8, BlockKind::dense_layer, 0, kTwoSeqOf16);
  CHECK(find_op(tiny, "attn.norm").saved.value() == 384.0);
}

TEST_CASE("the attention output is kept once, in attention_output_cache: E5M6 is 1.5 bytes plus a tile scale") {
  // V3-TR §3.3.4 (1): the out-projection's input, also read by the attention backward, is cached in E5M6, a
  // 12-bit format: 1.5 bytes packed (docs/model.md). O is 32 tokens x 4 heads x 64 = 32 x 256; FP32 LSE 32 x 4 x 4
  // = 512. BF16: 32 x 256 x 2 + 512 = 16896. E5M6: 32 x 256 x 1.5 = 12288, plus 32 x 2 tiles x 4 = 256 of scales,
  // plus 512: 13056.
  PrecisionSpec e5m6;
  e5m6.attention_output_cache = Dtype::e5m6;
  const Block bf16_block = build_block(tile_dense(), {}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  const Block e5m6_block = build_block(tile_dense(), {}, e5m6, BlockKind::dense_layer, 0, kTwoSeqOf16);
  CHECK(find_op(bf16_block, "attn.core").saved.value() == 16896.0);
  CHECK(find_op(e5m6_block, "attn.core").saved.value() == 13056.0);
  CHECK(kept(bf16_block) - kept(e5m6_block) == 16896.0 - 13056.0);
  // The out-projection keeps nothing of its own: its input is the core's O
  CHECK(find_op(e5m6_block, "attn.out").saved.value() == 0.0);
}

TEST_CASE("recompute_moe_activation keeps the expert SwiGLU inputs in gemm_input_cache and drops their outputs") {
  // V3-TR §3.3.4 (2): "we cache the inputs of the SwiGLU operator and recompute its output in the backward pass.
  // These activations are also stored in FP8". tiny_mla_moe layer 1, t = 32, top-2 of 8 experts of width 6: 64
  // assignments. FP8 cache, no recompute otherwise.
  PrecisionSpec fp8{.gemm = Dtype::fp8};
  fp8.gemm_input_cache = Dtype::fp8;
  ParallelPlan plan;
  const Block keep = build_block(tiny_mla_moe(), plan, fp8, BlockKind::moe_layer, 1, kTwoSeqOf16);
  plan.recompute_moe_activation = true;
  const Block drop = build_block(tiny_mla_moe(), plan, fp8, BlockKind::moe_layer, 1, kTwoSeqOf16);
  // Routed up_gate output 64 x 12: BF16 64 x 12 x 2 = 1536; FP8 64 x 12 + 64 x 1 tile x 4 = 1024.
  // Shared up_gate output 32 x 12: BF16 768; FP8 384 + 128 = 512.
  CHECK(find_op(keep, "moe.experts.up_gate").saved.value() == 1536.0);
  CHECK(find_op(drop, "moe.experts.up_gate").saved.value() == 1024.0);
  CHECK(find_op(keep, "moe.shared.up_gate").saved.value() == 768.0);
  CHECK(find_op(drop, "moe.shared.up_gate").saved.value() == 512.0);
  // SwiGLU outputs (FP8, 1 tile per row): routed 64 x 6 + 64 x 4 = 640, shared 32 x 6 + 32 x 4 = 320; now dropped
  CHECK(find_op(drop, "moe.experts.act").recomputed);
  CHECK(find_op(drop, "moe.shared.act").recomputed);
  CHECK_FALSE(find_op(keep, "moe.experts.act").recomputed);
  // Kept bytes fall by (1536 - 1024) + (768 - 512) + 640 + 320 = 1728
  CHECK(kept(keep) - kept(drop) == 1728.0);
  // A dense layer's FFN is not an MoE activation: unchanged
  const Block dense = build_block(tiny_mla_moe(), plan, fp8, BlockKind::dense_layer, 0, kTwoSeqOf16);
  CHECK_FALSE(find_op(dense, "ffn.act").recomputed);
}

TEST_CASE("one DeepSeek-V3 MoE layer keeps 639,631,360 bytes per 4096-token micro-batch with its storage") {
  // V3-TR §3.2.3 (recompute RMSNorm and MLA up-projections), §3.3.4 (FP8 GEMM-input cache with 1x128 FP32 scales,
  // E5M6 attention output, MoE SwiGLU output recomputed from its FP8 input); EP64, TP1, t = 4096, h = 7168:
  //   layer input (BF16)                    4096 x 7168 x 2                              58,720,256
  //   q_down output (q_norm's input, BF16)  4096 x 1536 x 2                              12,582,912
  //   kv_down output (BF16)                 4096 x 576 x 2                                4,718,592
  //   attention O (E5M6) + scales + LSE     4096 x 16384 x 1.5 + 4096 x 128 x 4 + 4096 x 128 x 4
  //                                         = 100,663,296 + 2,097,152 + 2,097,152        104,857,600
  //   mid residual (BF16)                   4096 x 7168 x 2                              58,720,256
  //   router scores (BF16)                  4096 x 256 x 2                                2,097,152
  //   shared up_gate output (FP8)           4096 x 4096 + 4096 x 32 x 4                  17,301,504
  //   dispatched tokens (FP8)               32768 x 7168 + 32768 x 56 x 4               242,221,056
  //   expert up_gate output (FP8)           32768 x 4096 + 32768 x 32 x 4               138,412,032
  // Total 639,631,360. The gate values multiply the SwiGLU output before the down-projection (DeepSeek's
  // swiglu_forward_with_weight kernels in its H800 profile), so no expert output is kept; a combine that
  // weights the expert outputs keeps them for the gate's gradient: 32768 x 7168 x 2 = 469,762,048 more.
  ParallelPlan plan{.ep = 64, .recompute = Recompute::selective};
  plan.recompute_moe_activation = true;
  PrecisionSpec prec{.gemm = Dtype::fp8};
  prec.gemm_input_cache = Dtype::fp8;
  prec.attention_output_cache = Dtype::e5m6;
  const Block b =
      build_block(preset("deepseek-v3"), plan, prec, BlockKind::moe_layer, 3, {.sequences = 1, .seq_len = 4096});
  CHECK(kept(b) == 639'631'360.0);
  plan.moe_weighted_activation = false;
  const Block weighted_in_combine =
      build_block(preset("deepseek-v3"), plan, prec, BlockKind::moe_layer, 3, {.sequences = 1, .seq_len = 4096});
  CHECK(kept(weighted_in_combine) == 639'631'360.0 + 469'762'048.0);
}

TEST_CASE("a model is embedding, layers in order, MTP modules, head") {
  const std::vector<Block> blocks = build_model_blocks(tiny_mla_moe(), {}, {}, kTwoSeqOf16);
  REQUIRE(blocks.size() == 5);
  CHECK(blocks[0].kind == BlockKind::embedding);
  CHECK(blocks[1].kind == BlockKind::dense_layer);
  CHECK(blocks[1].layer == 0);
  CHECK(blocks[2].kind == BlockKind::moe_layer);
  CHECK(blocks[2].layer == 1);
  CHECK(blocks[3].kind == BlockKind::mtp);
  CHECK(blocks[3].layer == 2);
  CHECK(blocks[4].kind == BlockKind::head);
}

}  // namespace tcsim::model

namespace tcsim::model {

TEST_CASE("every op carries the role of the part of the model it belongs to") {
  // DeepSeek-V3 with EP 64: an MoE layer's routed-expert work is its two grouped GEMMs and their
  // activation; the shared expert's is its own up, activation and down; the all-to-alls move tokens.
  const ModelSpec m = preset("deepseek-v3");
  ParallelPlan plan;
  plan.ep = 64;
  plan.dp = 64;
  const Block b = build_block(m, plan, PrecisionSpec{}, BlockKind::moe_layer, 5, {1, 4096});
  int routed = 0, shared = 0, exchange = 0, router = 0;
  for (const Op& op : b.ops) {
    CAPTURE(op.name);
    if (op.cls == OpClass::grouped_gemm) CHECK(op.role == OpRole::routed_expert);
    if (op.collective == Collective::ep_dispatch || op.collective == Collective::ep_combine) {
      CHECK(op.role == OpRole::expert_exchange);
    }
    if (op.cls == OpClass::attention) CHECK(op.role == OpRole::attention);
    routed += op.role == OpRole::routed_expert ? 1 : 0;
    shared += op.role == OpRole::shared_expert ? 1 : 0;
    exchange += op.role == OpRole::expert_exchange ? 1 : 0;
    router += op.role == OpRole::router ? 1 : 0;
  }
  CHECK(routed == 5);    // expand, up_gate, act, down, reduce
  CHECK(shared == 3);    // up_gate, act, down
  CHECK(exchange == 2);  // dispatch, combine
  CHECK(router == 2);    // the gate's GEMM and its top-k
  const Block head = build_block(m, plan, PrecisionSpec{}, BlockKind::head, -1, {1, 4096});
  for (const Op& op : head.ops) CHECK(op.role == OpRole::output);
  const Block embedding = build_block(m, plan, PrecisionSpec{}, BlockKind::embedding, -1, {1, 4096});
  for (const Op& op : embedding.ops) CHECK(op.role == OpRole::embedding);
}

TEST_CASE("an FP8 GEMM's casts: per-token X forward, per-token dY backward, both transposed in 128x1 tiles for wgrad") {
  // V3-TR §3.3.2 (1x128 activation tiles, FP32 scales) and §3.5.2 (re-quantised into 128x1 tiles for the
  // transposed GEMM). tile_dense's qkv: t = 32, k = h = 256, n = (4 + 2 x 2) x 64 = 512; BF16 activations,
  // FP8 GEMMs and cache.
  //   forward  X cast:   32 x 256 x (2 + 1) + 32 x 2 tiles x 4          = 24576 + 256  = 24832
  //   backward dY cast:  32 x 512 x 3 + 32 x 4 x 4                      = 49152 + 512  = 49664
  //   wgrad    X^T:      read the cache 32 x 256 + 32 x 2 x 4 = 8448, write 8192 + 256 channels x 1 x 4 = 9216
  //            dY^T:     read 32 x 512 x 2 = 32768, write 16384 + 512 x 4 = 18432;   total 17664 + 51200 = 68864
  PrecisionSpec fp8{.gemm = Dtype::fp8};
  fp8.gemm_input_cache = Dtype::fp8;
  const Block b = build_block(tile_dense(), {}, fp8, BlockKind::dense_layer, 0, kTwoSeqOf16);
  const Op& q = find_op(b, "attn.qkv.quant");
  CHECK(q.memory == MemoryKind::quantize);
  CHECK(q.hbm_bytes[0].value() == 24832.0);
  CHECK(q.hbm_bytes[1].value() == 49664.0);
  CHECK(q.hbm_bytes[2].value() == 68864.0);
  CHECK(q.saved.value() == 0.0);
  // The down-projection's input comes out of the activation kernel already in FP8: no forward cast.
  CHECK(find_op(b, "ffn.down.quant").hbm_bytes[0].value() == 0.0);
  // A BF16 plan casts nothing.
  const Block bf16 = build_block(tile_dense(), {}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  for (const Op& op : bf16.ops) CHECK(op.memory != MemoryKind::quantize);
}

TEST_CASE("each FP8 GEMM casts its own input, even one another GEMM read (DeepSeek's profile casts it twice)") {
  // tiny_mla_moe: h = 8; q_down and kv_down both read attn.norm's 32 x 8 output: each casts it,
  // 32 x 8 x 3 + 32 x 1 x 4 = 896 (the profile: two per-token casts of the same 4096 x 7168 tensor).
  PrecisionSpec fp8{.gemm = Dtype::fp8};
  fp8.gemm_input_cache = Dtype::fp8;
  const Block b = build_block(tiny_mla_moe(), {}, fp8, BlockKind::moe_layer, 1, kTwoSeqOf16);
  const Op& kv = find_op(b, "attn.kv_down.quant");
  CHECK(kv.hbm_bytes[0].value() == 896.0);
  CHECK(find_op(b, "attn.q_down.quant").hbm_bytes[0].value() == 896.0);
  // kv_down 8 -> 4: dY backward 32 x 4 x 3 + 32 x 1 x 4 = 512.
  CHECK(kv.hbm_bytes[1].value() == 512.0);
  // wgrad: X^T reads the cache (256 + 32 scales x 4 = 384) and writes 256 + 8 channels x 4 = 288; dY^T reads
  // 32 x 4 x 2 = 256 and writes 128 + 4 x 4 = 144: 672 + 400 = 1072.
  CHECK(kv.hbm_bytes[2].value() == 1072.0);
}

TEST_CASE("tensors kept in a quantised cache are cast into it forward and back out in backward") {
  // V3-TR §3.3.4: the attention output in E5M6 (1.5 bytes and a tile scale), the SwiGLU inputs in FP8 under
  // recompute_moe_activation. tiny_mla_moe, t = 32: attention output 2 heads x d_v 2 = 4 wide:
  // read 32 x 4 x 2 = 256, write 32 x 4 x 1.5 + 32 x 4 = 320: 576 each pass.
  PrecisionSpec prec{.gemm = Dtype::fp8};
  prec.gemm_input_cache = Dtype::fp8;
  prec.attention_output_cache = Dtype::e5m6;
  ParallelPlan plan;
  plan.recompute_moe_activation = true;
  const Block b = build_block(tiny_mla_moe(), plan, prec, BlockKind::moe_layer, 1, kTwoSeqOf16);
  const Op& o = find_op(b, "attn.core.cache");
  CHECK(o.memory == MemoryKind::quantize);
  CHECK(o.hbm_bytes[0].value() == 576.0);
  CHECK(o.hbm_bytes[1].value() == 576.0);
  CHECK(o.saved.value() == 0.0);  // the core's saved already counts the E5M6 copy
  // Routed experts' up_gate output, 64 assignments x 2 x 6 = 12 wide: read 64 x 12 x 2 = 1536, write
  // 768 + 64 x 4 = 1024: 2560. The shared expert's, 32 rows: 768 + 384 + 128 = 1280.
  CHECK(find_op(b, "moe.experts.up_gate.cache").hbm_bytes[0].value() == 2560.0);
  CHECK(find_op(b, "moe.shared.up_gate.cache").hbm_bytes[0].value() == 1280.0);
  // Without the quantised caches there is nothing to cast.
  for (const Op& op : build_block(tiny_mla_moe(), {}, {}, BlockKind::moe_layer, 1, kTwoSeqOf16).ops) {
    CHECK(op.name.find(".cache") == std::string::npos);
  }
}

TEST_CASE("RoPE reads and writes the rotated parts: MLA's d_rope per head plus one shared key, GQA's every head") {
  // MLA (2 heads, rope 1): 2 x 32 tokens x (2 + 1) x 1 x 2 bytes = 384 per pass
  const Block mla = build_block(tiny_mla_moe(), {}, {}, BlockKind::moe_layer, 1, kTwoSeqOf16);
  const Op& r = find_op(mla, "attn.rope");
  CHECK(r.hbm_bytes[0].value() == 384.0);
  CHECK(r.hbm_bytes[1].value() == 384.0);
  CHECK(r.hbm_bytes[2].value() == 0.0);
  // GQA (2 query heads, 1 key head, head_dim 4): 2 x 32 x (2 + 1) x 4 x 2 = 1536
  const Block gqa = build_block(tiny_dense(), {}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  CHECK(find_op(gqa, "attn.rope").hbm_bytes[0].value() == 1536.0);
  // Learned positions rotate nothing.
  ModelSpec learned = tiny_dense();
  learned.position = PositionKind::learned;
  learned.max_position = 64;
  for (const Op& op : build_block(learned, {}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16).ops) {
    CHECK(op.memory != MemoryKind::rope);
  }
}

TEST_CASE("MLA assembles whole query and key heads; attention backward's pre- and post-processing") {
  // Per token: q reads nope and rope parts and writes 2 heads x 3 = 2 x 6 = 12; k reads 2 x 2 nope + 1 rope and
  // writes 2 x 3: 11; 23 x 32 tokens x 2 bytes = 1472 each pass.
  const Block b = build_block(tiny_mla_moe(), {}, {}, BlockKind::moe_layer, 1, kTwoSeqOf16);
  const Op& a = find_op(b, "attn.qk_assemble");
  CHECK(a.memory == MemoryKind::copy);
  CHECK(a.hbm_bytes[0].value() == 1472.0);
  CHECK(a.hbm_bytes[1].value() == 1472.0);
  // Pre: read O and dO (2 heads x d_v 2 x 2 bytes each), write D in FP32: 32 x 2 x (8 + 4) = 768.
  // Post: dQ from FP32 to BF16, 32 x 2 x 3 x (4 + 2) = 1152. Backward only: 1920.
  const Op& p = find_op(b, "attn.core.prep");
  CHECK(p.hbm_bytes[0].value() == 0.0);
  CHECK(p.hbm_bytes[1].value() == 1920.0);
}

TEST_CASE("the gate's top-k and, under EP, the experts' expand and reduce move the bytes counted by hand") {
  // Gate, 8 routed, top-2, t = 32, ep 1: scores 256 x (2 + 3 x 4) = 3584 plus picks 64 x (8 + 4) = 768
  // forward, 4352; backward 256 x (4 + 2) + 768 = 2304.
  const Block one = build_block(tiny_mla_moe(), {}, {}, BlockKind::moe_layer, 1, kTwoSeqOf16);
  const Op& g = find_op(one, "moe.gate");
  CHECK(g.memory == MemoryKind::routing);
  CHECK(g.hbm_bytes[0].value() == 4352.0);
  CHECK(g.hbm_bytes[1].value() == 2304.0);
  // EP 2 with FP8 dispatch: 64 assignments of h = 8. Expand forward reads and writes 64 x 8 FP8 values and
  // 64 scales: 2 x (512 + 256) = 1536; backward 2 x 64 x 8 x 2 = 2048. Reduce: 2 x 64 x 8 x 2 = 2048 each pass.
  // The layout of the dispatch adds 64 picks x 8 bytes to the gate: 4352 + 512.
  PrecisionSpec fp8{.gemm = Dtype::fp8};
  const Block ep = build_block(tiny_mla_moe(), {.ep = 2, .dp = 2}, fp8, BlockKind::moe_layer, 1, kTwoSeqOf16);
  CHECK(find_op(ep, "moe.gate").hbm_bytes[0].value() == 4864.0);
  const Op& expand = find_op(ep, "moe.expand");
  CHECK(expand.role == OpRole::routed_expert);
  CHECK(expand.hbm_bytes[0].value() == 1536.0);
  CHECK(expand.hbm_bytes[1].value() == 2048.0);
  const Op& reduce = find_op(ep, "moe.reduce");
  CHECK(reduce.hbm_bytes[0].value() == 2048.0);
  CHECK(reduce.hbm_bytes[1].value() == 2048.0);
  // Without EP the local permute does both jobs: no expand or reduce.
  for (const Op& op : one.ops) CHECK((op.name != "moe.expand" && op.name != "moe.reduce"));
}

TEST_CASE("a residual add reads two and writes one, forward and backward (the gradients of both paths meet)") {
  // 3 x 32 x 8 x 2 bytes = 1536
  const Block b = build_block(tiny_dense(), {}, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  const Op& r = find_op(b, "attn.residual");
  CHECK(r.hbm_bytes[0].value() == 1536.0);
  CHECK(r.hbm_bytes[1].value() == 1536.0);
}

TEST_CASE("sequence parallelism: an all-gather before and a reduce-scatter after each TP half, norms on t/tp") {
  // Korthikanti et al. 2022 §4.2.2: the all-reduce of each half becomes a reduce-scatter, and the next
  // column-parallel GEMM all-gathers its input; both carry the whole tokens x h buffer, so the two move
  // (tp-1)/tp of it each, together the all-reduce's 2 (tp-1)/tp: the same traffic per GPU.
  ModelSpec m = tiny_dense();
  m.hidden = 128;
  m.attention = {.kind = AttentionKind::gqa, .heads = 16, .kv_heads = 8, .head_dim = 8};
  m.ffn_intermediate = 256;
  const ParallelPlan tp{.tp = 8};
  ParallelPlan sp = tp;
  sp.sequence_parallel = true;
  const Block plain = build_block(m, tp, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  const Block seq = build_block(m, sp, {}, BlockKind::dense_layer, 0, kTwoSeqOf16);
  // 32 tokens x 128 x 2 bytes = 8192 per collective.
  for (const char* name : {"attn.qkv.sp_gather", "ffn.sp_gather"}) {
    CAPTURE(name);
    CHECK(find_op(seq, name).collective == Collective::tp_all_gather);
    CHECK(find_op(seq, name).comm_bytes.value() == 8192.0);
  }
  for (const char* name : {"attn.sp_reduce_scatter", "ffn.sp_reduce_scatter"}) {
    CAPTURE(name);
    CHECK(find_op(seq, name).collective == Collective::tp_reduce_scatter);
    CHECK(find_op(seq, name).comm_bytes.value() == 8192.0);
  }
  int all_reduces = 0;
  for (const Op& op : seq.ops) all_reduces += op.collective == Collective::tp_all_reduce ? 1 : 0;
  CHECK(all_reduces == 0);
  // Norms and residual adds run on 32 / 8 = 4 tokens; the GEMMs keep their FLOPs.
  for (const char* name : {"attn.norm", "ffn.norm", "attn.residual", "ffn.residual"}) {
    CAPTURE(name);
    CHECK(find_op(seq, name).hbm_bytes[0].value() * 8 == find_op(plain, name).hbm_bytes[0].value());
  }
  for (const char* name : {"attn.qkv", "attn.out", "ffn.up_gate", "ffn.down"}) {
    CHECK(find_op(seq, name).flops[0].value() == find_op(plain, name).flops[0].value());
  }
  // The norms keep their outputs sharded, and the block's input too: 4 x 128 x 2 bytes.
  CHECK(find_op(seq, "attn.norm").saved.value() * 8 == find_op(plain, "attn.norm").saved.value());
  CHECK(seq.input_saved.value() == 4 * 128 * 2.0);
}

TEST_CASE("MLA under sequence parallelism gathers the latents its down-projections make on the shard") {
  // Replicated down-projections run on t/tp tokens; q_up gathers the q latent (q_lora_rank wide) and
  // kv_up the kv latent with the decoupled key (kv_lora_rank + d_rope), each the whole buffer.
  const ModelSpec m = tiny_mla_moe();
  ParallelPlan sp{.tp = 2};
  sp.sequence_parallel = true;
  const Block b = build_block(m, sp, {}, BlockKind::moe_layer, 1, kTwoSeqOf16);
  const AttentionSpec& a = m.attention;
  CHECK(find_op(b, "attn.q_up.sp_gather").comm_bytes.value() == 32.0 * a.q_lora_rank * 2);
  CHECK(find_op(b, "attn.kv_up.sp_gather").comm_bytes.value() == 32.0 * (a.kv_lora_rank + a.qk_rope_head_dim) * 2);
  CHECK(find_op(b, "attn.kv_down").shape.m == 16);
  CHECK(find_op(b, "attn.kv_up").shape.m == 32);
}

TEST_CASE("expert_tp: experts split over expert_tp; under sequence parallelism each GPU routes its shard") {
  const ModelSpec m = tiny_mla_moe();
  const PrecisionSpec fp8{.gemm = Dtype::fp8};
  // tp 2, sequence parallel, expert_tp 1: 16 of the 32 tokens x 2 experts leave over ep 4 (3/4 of
  // them) in FP8: 16 x 2 x 8 x 3/4 = 192 bytes; experts at full width on those 32 assignments.
  ParallelPlan etp1{.tp = 2, .ep = 4};
  etp1.sequence_parallel = true;
  etp1.expert_tp = 1;
  const Block one = build_block(m, etp1, fp8, BlockKind::moe_layer, 1, kTwoSeqOf16);
  CHECK(find_op(one, "moe.dispatch").comm_bytes.value() == 192.0);
  const Op& up = find_op(one, "moe.experts.up_gate");
  CHECK(up.shape.n == 2 * m.moe->expert_intermediate);
  CHECK(up.flops[0].value() == 2.0 * 32 * (2 * m.moe->expert_intermediate) * m.hidden);
  for (const Op& op : one.ops) CHECK(op.name.find("moe.experts.sp_") == std::string::npos);
  // expert_tp = tp = 2: the received assignments are gathered over the tensor-parallel group (2 x 32
  // rows, FP8) and reduce-scattered after (BF16); each GPU runs half the width on twice the rows.
  ParallelPlan etp2 = etp1;
  etp2.expert_tp = 2;
  const Block two = build_block(m, etp2, fp8, BlockKind::moe_layer, 1, kTwoSeqOf16);
  CHECK(find_op(two, "moe.experts.sp_gather").comm_bytes.value() == 64.0 * m.hidden * 1);
  CHECK(find_op(two, "moe.experts.sp_reduce_scatter").comm_bytes.value() == 64.0 * m.hidden * 2);
  CHECK(find_op(two, "moe.experts.up_gate").shape.n == m.moe->expert_intermediate);
  CHECK(find_op(two, "moe.experts.up_gate").flops[0].value() == up.flops[0].value());
}

}  // namespace tcsim::model
