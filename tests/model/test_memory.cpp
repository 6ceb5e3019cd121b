// Per-GPU memory: training state by precision and ZeRO stage, placement over
// pipeline stages, in-flight micro-batches per schedule, and the DeepSeek-V3
// plan. Expectations are hand arithmetic on toy models (counts as in
// test_params.cpp) or published schedule formulas.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "model/catalog.h"
#include "model/memory.h"

#include "tests/model/fixtures.h"

namespace tcsim::model {
namespace {

using fixtures::preset;
using fixtures::tiny_dense;

// Layer 1 MoE (4 routed experts of 6, 1 shared, top-2) and one MTP module:
// 1680 non-expert weights (main 1144 + MTP 536) and 1152 routed (576 + 576).
ModelSpec tiny_moe() {
  ModelSpec m = tiny_dense();
  m.moe = MoeSpec{.routed = 4, .shared = 1, .per_token = 2, .expert_intermediate = 6, .max_nodes_per_token = 0};
  m.dense_layers = 1;
  m.mtp_depth = 1;
  return m;
}

constexpr int kSeq = 16;
const Bytes kBig = gigabytes(80);
// The tensors alone: no runtime reserve, no fragmentation.
const MemoryAllowance kTensorsOnly{.runtime_reserve = Bytes(0)};

MemoryBudget budget(const ModelSpec& m, const ParallelPlan& plan, const PrecisionSpec& prec = {}) {
  return memory_per_gpu(m, plan, prec, kSeq, kBig, kTensorsOnly);
}

}  // namespace

TEST_CASE("one GPU without ZeRO holds N x (2 + 4 + 4 + 8) bytes of weights, grads, master and Adam moments") {
  // BF16 weights, FP32 grads, FP32 master, two FP32 moments (Rajbhandari et al. 2020 §3.1: 2 + 2 + 12 with FP16
  // grads; FP32 gradient buffers as Megatron-LM keeps them make it 18). N = 1256.
  const MemoryBudget b = budget(tiny_dense(), {});
  CHECK(b.weights.value() == 1256.0 * 2);
  CHECK(b.gradients.value() == 1256.0 * 4);
  CHECK(b.master_weights.value() == 1256.0 * 4);
  CHECK(b.optimizer_states.value() == 1256.0 * 8);
  CHECK((b.weights + b.gradients + b.master_weights + b.optimizer_states).value() == 1256.0 * 18);
}

TEST_CASE("ZeRO-1 over dp=4 divides master weights and optimizer states by 4, and nothing else") {
  const MemoryBudget b = budget(tiny_dense(), {.dp = 4, .zero = 1});
  CHECK(b.weights.value() == 1256.0 * 2);
  CHECK(b.gradients.value() == 1256.0 * 4);
  CHECK(b.master_weights.value() == 1256.0 * 4 / 4);
  CHECK(b.optimizer_states.value() == 1256.0 * 8 / 4);
}

TEST_CASE("ZeRO-2 also divides the gradients and ZeRO-3 also the weights") {
  const MemoryBudget two = budget(tiny_dense(), {.dp = 4, .zero = 2});
  CHECK(two.weights.value() == 1256.0 * 2);
  CHECK(two.gradients.value() == 1256.0 * 4 / 4);
  const MemoryBudget three = budget(tiny_dense(), {.dp = 4, .zero = 3});
  CHECK(three.weights.value() == 1256.0 * 2 / 4);
}

TEST_CASE("context-parallel ranks replicate weights, so ZeRO shards over dp x cp") {
  // dp 2 x cp 2 = 4 shards of the FP32 master copy
  const MemoryBudget b = budget(tiny_dense(), {.dp = 2, .cp = 2, .zero = 1});
  CHECK(b.master_weights.value() == 1256.0 * 4 / 4);
}

TEST_CASE("the master copy is not counted when it has the working copy's dtype") {
  const MemoryBudget b = budget(tiny_dense(), {}, {.weights = Dtype::fp32, .master_weights = Dtype::fp32});
  CHECK(b.weights.value() == 1256.0 * 4);
  CHECK(b.master_weights.value() == 0.0);
}

TEST_CASE("routed experts split over ep, and their ZeRO shards over dp x cp / ep") {
  // ep 2, dp 4: local experts 1152 / 2 = 576; expert data-parallel degree dp x tp x cp / (ep x tp) = 2.
  const MemoryBudget b = budget(tiny_moe(), {.ep = 2, .dp = 4, .zero = 1});
  // weights (1680 + 576) x 2 = 4512; grads 2256 x 4 = 9024
  CHECK(b.weights.value() == 4512.0);
  CHECK(b.gradients.value() == 9024.0);
  // master 1680 x 4 / 4 + 576 x 4 / 2 = 2832; moments 1680 x 8 / 4 + 576 x 8 / 2 = 5664
  CHECK(b.master_weights.value() == 2832.0);
  CHECK(b.optimizer_states.value() == 5664.0);
}

TEST_CASE("a GPT-style model (biases, LayerNorm, learned positions, tied head) holds each weight once on one GPU") {
  ModelSpec m = tiny_dense();
  m.layers = 1;
  m.attention = {.kind = AttentionKind::mha, .heads = 2, .kv_heads = 2, .head_dim = 4};
  m.ffn = FfnKind::gelu;
  m.ffn_intermediate = 32;
  m.norm = NormKind::layernorm;
  m.position = PositionKind::learned;
  m.max_position = 10;
  m.biases = true;
  m.tied_embeddings = true;
  // tables 16 x 8 + 10 x 8 = 208; qkv 192 + out 64; FFN 512; LayerNorms 48; biases 72: 1096 weights (test_params)
  CHECK(budget(m, {}).weights.value() == 1096.0 * 2);
}

TEST_CASE("tensor parallelism splits projections and the vocabulary but replicates norms") {
  ModelSpec m = tiny_dense();
  m.attention = {.kind = AttentionKind::gqa, .heads = 2, .kv_heads = 2, .head_dim = 4};
  // tp 2. Per layer: qkv 8 x 24 / 2 = 96, out 8 x 8 / 2 = 32, FFN 3 x 8 x 12 / 2 = 144, norms 16 -> 288;
  // embedding and head 16 x 8 / 2 = 64 each; final norm 8. 2 x 288 + 64 + 64 + 8 = 712 weights, 1424 bytes
  CHECK(budget(m, {.tp = 2}).weights.value() == 1424.0);
}

TEST_CASE("DualPipe holds two parameter copies: rank i keeps stages i and pp-1-i") {
  const double one = budget(tiny_dense(), {}).weights.value();
  const MemoryBudget dual = budget(tiny_dense(), {.schedule = Schedule::dualpipe});
  // pp = 1: the one stage twice
  CHECK(dual.weights.value() == 2 * one);
  CHECK(dual.parameter_copies == 2);
  // pp = 2, one layer per stage: rank 0 holds stage 0 (embedding, layer 0) and stage 1 (layer 1, norm, head),
  // the whole model: 1256 x 2 bytes (V3-TR §3.2.1 Table 2: 2x parameters)
  CHECK(budget(tiny_dense(), {.pp = 2, .schedule = Schedule::dualpipe}).weights.value() == 1256.0 * 2);
}

TEST_CASE("in-flight micro-batches: 1F1B pp, interleaved pp(1 + (pp-1)/(pp v)), ZB-H1 pp, DualPipe pp + 1") {
  // Narayanan et al. 2021 §2.2 (1F1B and interleaved); Qi et al. 2023 §3.1 (ZB-H1); V3-TR Table 2 (DualPipe)
  CHECK(in_flight_micro_batches({.pp = 8}) == 8.0);
  CHECK(in_flight_micro_batches({.pp = 8, .virtual_stages = 2, .schedule = Schedule::interleaved_1f1b}) ==
        doctest::Approx(8 * (1 + 7.0 / 16)));
  CHECK(in_flight_micro_batches({.pp = 8, .schedule = Schedule::zero_bubble}) == 8.0);
  CHECK(in_flight_micro_batches({.pp = 8, .schedule = Schedule::dualpipe}) == 9.0);
  // Later ranks: 1F1B rank 3 of 8 holds 8 - 3 = 5; interleaved rank 3 of 8, v = 2: Megatron-LM's warm-up
  // (8 - 3 - 1) x 2 + (2 - 1) x 8 = 16 chunks, plus one, of half the rank's layers: 17 / 2 = 8.5
  CHECK(in_flight_micro_batches({.pp = 8}, 3) == 5.0);
  CHECK(in_flight_micro_batches({.pp = 8, .virtual_stages = 2, .schedule = Schedule::interleaved_1f1b}, 3) == 8.5);
  // Combined 1F1B runs one more warm-up chunk (Megatron-Core schedules.py): 18 / 2 = 9; DualPipe pairs
  // chunks itself and keeps pp + 1.
  ParallelPlan combined{.pp = 8, .virtual_stages = 2, .schedule = Schedule::interleaved_1f1b};
  combined.overlap_ep_comm = true;
  CHECK(in_flight_micro_batches(combined, 3) == 9.0);
  ParallelPlan dualpipe{.pp = 8, .schedule = Schedule::dualpipe};
  dualpipe.overlap_ep_comm = true;
  CHECK(in_flight_micro_batches(dualpipe) == 9.0);
}

TEST_CASE("stages split the layers evenly unless the plan lists them") {
  ModelSpec m = tiny_dense();
  m.layers = 8;
  CHECK(stage_layer_counts(m, {.pp = 4}) == std::vector<int>{2, 2, 2, 2});
  CHECK(stage_layer_counts(m, {.pp = 2, .virtual_stages = 2}) == std::vector<int>{2, 2, 2, 2});
  ParallelPlan plan{.pp = 2};
  plan.stage_layers = {5, 3};
  CHECK(stage_layer_counts(m, plan) == std::vector<int>{5, 3});
}

TEST_CASE("activations are the kept bytes of one micro-batch times the micro-batches in flight") {
  // pp = 1, full recompute, 2 sequences of 16 (t = 32), h = 8, V = 16, BF16:
  // 2 layer inputs 2 x (32 x 8 x 2) = 1024; head input 512, final-norm output 512, FP32 softmax 32 x 16 x 4 = 2048
  const MemoryBudget b = budget(tiny_dense(), {.micro_batch = 2, .recompute = Recompute::full});
  CHECK(b.activations_per_micro_batch.value() == 4096.0);
  CHECK(b.in_flight == 1.0);
  CHECK(b.activations.value() == 4096.0);
  CHECK(b.total.value() == 1256.0 * 18 + 4096.0);
}

TEST_CASE("1F1B rank r keeps pp - r micro-batches of its own stage, and the peak is taken over ranks") {
  // pp 2, full recompute, t = 32, h = 8, V = 16. Stage 0 (embedding, layer 0): 624 weights, one layer input
  // 512 bytes per micro-batch, 2 in flight: 624 x 18 + 1024 = 12256. Stage 1 (layer 1, final norm, head): 632
  // weights; layer input 512 + head input 512 + final-norm output 512 + FP32 softmax 2048 = 3584, 1 in flight:
  // 632 x 18 + 3584 = 14960, the peak.
  const MemoryBudget b = budget(tiny_dense(), {.pp = 2, .micro_batch = 2, .recompute = Recompute::full});
  CHECK(b.peak_stage == 1);
  CHECK(b.weights.value() == 632.0 * 2);
  CHECK(b.in_flight == 1.0);
  CHECK(b.activations.value() == 3584.0);
  CHECK(b.total.value() == 14960.0);
}

TEST_CASE("DualPipe keeps pp - half_rank micro-batches of its near stage and half_rank + 1 of its far one") {
  // deepseek-ai/DualPipe dualpipe.py: rank 0 of pp 2 holds stage 0 (near, 2 in flight) and stage 1 (far, 1).
  // Per micro-batch (as above): stage 0 512 bytes, stage 1 3584: 2 x 512 + 1 x 3584 = 4608 over 3 micro-batches.
  const MemoryBudget b =
      budget(tiny_dense(), {.pp = 2, .micro_batch = 2, .schedule = Schedule::dualpipe, .recompute = Recompute::full});
  CHECK(b.in_flight == 3.0);
  CHECK(b.activations.value() == 4608.0);
  CHECK(b.activations_per_micro_batch.value() == doctest::Approx(4608.0 / 3));
}

TEST_CASE("fits means the peak total is within capacity") {
  const MemoryBudget roomy = memory_per_gpu(tiny_dense(), {}, {}, kSeq, Bytes(1e6), kTensorsOnly);
  CHECK(roomy.fits);
  CHECK(roomy.capacity.value() == 1e6);
  const MemoryBudget tight = memory_per_gpu(tiny_dense(), {}, {}, kSeq, Bytes(100), kTensorsOnly);
  CHECK_FALSE(tight.fits);
}

TEST_CASE("the runtime reserve adds to the tensors; fragmentation f makes the allocator reserve tensors / (1 - f)") {
  // tiny_dense on one GPU, no recompute: tensors T = 1256 x 18 bytes of state + activations.
  const MemoryBudget bare = memory_per_gpu(tiny_dense(), {}, {}, kSeq, Bytes(1e6), kTensorsOnly);
  const double t = bare.tensors.value();
  CHECK(t == bare.total.value());
  const MemoryAllowance a{.runtime_reserve = Bytes(1000), .fragmentation = 0.2};
  const MemoryBudget b = memory_per_gpu(tiny_dense(), {}, {}, kSeq, Bytes(1e6), a);
  CHECK(b.tensors.value() == t);
  CHECK(b.fragmentation.value() == doctest::Approx(t / 0.8 - t));
  CHECK(b.runtime_reserve.value() == 1000.0);
  CHECK(b.total.value() == doctest::Approx(t / 0.8 + 1000));
  // The fragmentation a plan tolerates: T / (1 - f) + R = C at f = 1 - T / (C - R).
  const double f = 1 - t / (1e6 - 1000);
  CHECK(b.fragmentation_headroom == doctest::Approx(f));
  const MemoryBudget at_edge =
      memory_per_gpu(tiny_dense(), {}, {}, kSeq, Bytes(1e6), {.runtime_reserve = Bytes(1000), .fragmentation = f});
  CHECK(at_edge.total.value() == doctest::Approx(1e6));
  // A reserve larger than the capacity leaves nothing to tolerate.
  CHECK(memory_per_gpu(tiny_dense(), {}, {}, kSeq, Bytes(1e6), {.runtime_reserve = Bytes(2e6)}).fragmentation_headroom <
        0);
}

TEST_CASE("the default runtime reserve is the CUDA context, two cuBLAS workspaces and one NCCL communicator") {
  // 400 MB (PyTorch #109888) + 2 x 32 MiB (PyTorch CublasHandlePool.cpp, Hopper) + 1.6 GB (NVIDIA/nccl #864).
  CHECK(MemoryAllowance{}.runtime_reserve.value() == 400e6 + 2 * 32 * 1048576.0 + 1.6e9);
  CHECK(MemoryAllowance{}.fragmentation == 0);
}

TEST_CASE("every pipeline rank's total is kept, and the peak is their largest") {
  const MemoryBudget b = budget(tiny_dense(), {.pp = 2, .micro_batch = 2, .recompute = Recompute::full});
  REQUIRE(b.rank_totals.size() == 2);
  // As in the 1F1B test above: rank 0 624 x 18 + 1024 = 12256, rank 1 14960.
  CHECK(b.rank_totals[0].value() == 12256.0);
  CHECK(b.rank_totals[1].value() == 14960.0);
  CHECK(b.total.value() == 14960.0);
}

namespace {

// DeepSeek-V3's published plan, V3-TR §3.2-3.3: PP16, EP64 over DP128, no TP, ZeRO-1, DualPipe, recompute of
// RMSNorm and MLA up-projections, FP8 GEMMs, BF16 weights and moments, FP32 master weights and gradients; seq
// 4096, one sequence per micro-batch ([assumption] of scenarios/deepseek-v3.yaml, as is the stage split).
ParallelPlan deepseek_plan() {
  ParallelPlan plan{.tp = 1,
                    .pp = 16,
                    .ep = 64,
                    .dp = 128,
                    .micro_batch = 1,
                    .zero = 1,
                    .schedule = Schedule::dualpipe,
                    .recompute = Recompute::selective};
  plan.stage_layers = {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 1};
  return plan;
}

PrecisionSpec deepseek_precision() {
  return {.gemm = Dtype::fp8,
          .weights = Dtype::bf16,
          .master_weights = Dtype::fp32,
          .grads = Dtype::fp32,
          .optimizer_states = Dtype::bf16,
          .activations = Dtype::bf16};
}

void report(const std::string& what, const MemoryBudget& b) {
  MESSAGE(what << ": peak rank " << b.peak_stage << ": weights " << b.weights.value() / 1e9 << " GB, grads "
               << b.gradients.value() / 1e9 << " GB, master " << b.master_weights.value() / 1e9 << " GB, optimizer "
               << b.optimizer_states.value() / 1e9 << " GB, activations " << b.activations_per_micro_batch.value() / 1e9
               << " GB x " << b.in_flight << " = " << b.activations.value() / 1e9 << " GB, total "
               << b.total.value() / 1e9 << " GB, fits 80 GB: " << std::string(b.fits ? "yes" : "no"));
}

// Rank 1's training state under deepseek_plan(), the same whatever the activation storage. Ranks 1-14 each hold
// 8 MoE layers (stages r and 15-r, 4 layers each); rank 0 holds stage 0 (embedding, dense layers 0-2, MoE layer
// 3) and stage 15 (MoE layer 60, final norm, MTP module, head), but DualPipe keeps only half_rank + 1 = 1
// micro-batch of its far stage 15 in flight and 16 of stage 0.
// Weights: 8 x (MLA 187,107,328 + shared expert 44,040,192 + router 1,835,008 + norms 14,336) = 1,863,974,912
// non-expert; 8 x 256/64 x 44,040,192 = 1,409,286,144 expert. BF16: 2 x 3,273,261,056 = 6,546,522,112 bytes.
// Master FP32 / 128 for non-expert weights, / (128 / 64) for experts; moments 2 x BF16 likewise.
void check_rank1_state(const MemoryBudget& b) {
  CHECK(b.parameter_copies == 2);
  CHECK(b.in_flight == 17.0);
  CHECK(b.weights.value() == 6'546'522'112.0);
  CHECK(b.gradients.value() == 2 * 6'546'522'112.0);
  CHECK(b.master_weights.value() == doctest::Approx(1'863'974'912.0 * 4 / 128 + 1'409'286'144.0 * 4 / 2));
  CHECK(b.optimizer_states.value() == doctest::Approx(1'863'974'912.0 * 4 / 128 + 1'409'286'144.0 * 4 / 2));
}

}  // namespace

TEST_CASE("DeepSeek-V3's plan with BF16 caches and a combine-weighted gate peaks at 138.7 GB of tensors on rank 1") {
  const ModelSpec* m = find_model_preset("deepseek-v3");
  REQUIRE(m != nullptr);
  ParallelPlan plan = deepseek_plan();
  plan.moe_weighted_activation = false;  // the expert outputs stay for the gate's gradient
  const MemoryBudget b = memory_per_gpu(*m, plan, deepseek_precision(), 4096, gigabytes(80), kTensorsOnly);
  CHECK(std::isfinite(b.total.value()));
  CHECK(b.fits == (b.total.value() <= 80e9));
  REQUIRE(b.peak_stage == 1);
  check_rank1_state(b);
  // One MoE layer, one 4096-token micro-batch, bytes kept, everything in BF16: input 4096 x 7168 x 2 = 58,720,256;
  // q_down out 4096 x 1536 x 2 = 12,582,912; kv_down out 4096 x 576 x 2 = 4,718,592; attention O 4096 x 16384 x 2
  // + FP32 LSE 4096 x 128 x 4 = 136,314,880; mid residual 58,720,256; router scores 4096 x 256 x 2 = 2,097,152;
  // shared up_gate out 4096 x 4096 x 2 = 33,554,432 and SwiGLU out 4096 x 2048 x 2 = 16,777,216; dispatched tokens
  // 32768 x 7168 x 2 = 469,762,048; expert up_gate out 32768 x 4096 x 2 = 268,435,456, SwiGLU out 32768 x 2048 x 2
  // = 134,217,728, expert outputs 32768 x 7168 x 2 = 469,762,048. Total 1,665,662,976 bytes; RMSNorm outputs and
  // q_up/kv_up outputs are recomputed. Rank 1: 17 micro-batches x 4 layers.
  CHECK(b.activations.value() == 17 * 4 * 1'665'662'976.0);
  report("DeepSeek-V3, BF16 caches", b);
}

TEST_CASE("with DeepSeek's activation storage but a combine-weighted gate, rank 1 holds 100.8 GB of tensors") {
  // V3-TR §3.3.4: GEMM inputs cached in FP8 with 1x128 FP32 scales, the attention output in E5M6, the MoE SwiGLU
  // input cached in FP8 and its output recomputed. One MoE layer keeps 639,631,360 bytes per micro-batch (itemised
  // in test_ops.cpp, "one DeepSeek-V3 MoE layer keeps ..."), and 469,762,048 more of expert outputs when the
  // combine weights them: 1,109,393,408; rank 1 holds 17 x 4 of them: 75,438,751,744.
  // Total: 6,546,522,112 + 13,093,044,224 + 2 x 2,876,821,504 + 75,438,751,744 = 100,831,961,088 > 80e9.
  const ModelSpec* m = find_model_preset("deepseek-v3");
  REQUIRE(m != nullptr);
  ParallelPlan plan = deepseek_plan();
  plan.recompute_moe_activation = true;
  plan.moe_weighted_activation = false;
  PrecisionSpec prec = deepseek_precision();
  prec.gemm_input_cache = Dtype::fp8;
  prec.attention_output_cache = Dtype::e5m6;
  const MemoryBudget b = memory_per_gpu(*m, plan, prec, 4096, gigabytes(80), kTensorsOnly);
  REQUIRE(b.peak_stage == 1);
  check_rank1_state(b);
  CHECK(b.activations.value() == 17 * 4 * 1'109'393'408.0);
  CHECK(b.total.value() == doctest::Approx(100'831'961'088.0).epsilon(1e-12));
  CHECK_FALSE(b.fits);
  // The expert outputs, kept for the gate's gradient, are 17 x 4 x 469,762,048 = 31,943,819,264 of it.
  report("DeepSeek-V3, DeepSeek's activation storage, combine-weighted gate", b);
  // Each storage option alone, from the BF16-cache 1,665,662,976 bytes per MoE layer:
  // FP8 GEMM-input cache: dispatched tokens 469,762,048 -> 242,221,056, shared and expert SwiGLU outputs
  // 16,777,216 + 134,217,728 -> 4096 x 2048 + 4096 x 16 x 4 + 32768 x 2048 + 32768 x 16 x 4 = 77,856,768:
  // 1,665,662,976 - 227,540,992 - 73,138,176 = 1,364,983,808.
  PrecisionSpec fp8_only = deepseek_precision();
  fp8_only.gemm_input_cache = Dtype::fp8;
  ParallelPlan combine_weighted = deepseek_plan();
  combine_weighted.moe_weighted_activation = false;
  const MemoryBudget f = memory_per_gpu(*m, combine_weighted, fp8_only, 4096, gigabytes(80), kTensorsOnly);
  REQUIRE(f.peak_stage == 1);
  CHECK(f.activations.value() == 17 * 4 * 1'364'983'808.0);
  report("DeepSeek-V3, FP8 GEMM-input cache only", f);
}

TEST_CASE("DeepSeek-V3's plan as DeepSeek runs it fits an H800's 81,559 MiB with the runtime reserve") {
  // DeepSeek's storage (V3-TR §3.3.4) and its gate applied to the SwiGLU output (swiglu_forward_with_weight in
  // its H800 profile): 639,631,360 bytes per MoE layer per micro-batch (test_ops.cpp). Rank 1:
  //   state 6,546,522,112 + 13,093,044,224 + 2 x 2,876,821,504 = 25,393,209,344
  //   activations 17 x 4 x 639,631,360 = 43,494,932,480
  //   reserve 400e6 + 2 x 32 MiB + 1.6e9 = 2,067,108,864
  //   total 70,955,250,688.
  const ModelSpec* m = find_model_preset("deepseek-v3");
  REQUIRE(m != nullptr);
  ParallelPlan plan = deepseek_plan();
  plan.recompute_moe_activation = true;
  PrecisionSpec prec = deepseek_precision();
  prec.gemm_input_cache = Dtype::fp8;
  prec.attention_output_cache = Dtype::e5m6;
  const MemoryBudget b = memory_per_gpu(*m, plan, prec, 4096, mib(81559));
  REQUIRE(b.rank_totals.size() == 16);
  CHECK(b.rank_totals[1].value() == doctest::Approx(70'955'250'688.0).epsilon(1e-12));
  // The peak is on rank 0 (the embedding's stage and the last stage's head, MTP module and FP32 softmaxes),
  // and it fits: the plan trained (V3-TR §3.2).
  CHECK(b.peak_stage == 0);
  CHECK(b.total > b.rank_totals[1]);
  CHECK(b.fits);
  report("DeepSeek-V3 as DeepSeek runs it", b);
}

}  // namespace tcsim::model
