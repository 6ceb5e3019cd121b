// GEMM family: cuBLASLt products in BF16 and FP8 E4M3 (per-tensor scales, sm_90 and newer) over square sizes,
// DeepSeek-V3's projection shapes for one micro-batch, its MoE expert shapes at small token counts, and the output
// head. FLOPs = 2 M N K; bytes = A + B + C once each (operands in their dtype, output bf16).
#include <string>
#include <vector>

#include "calibrate/kernels/lt_matmul.cuh"

namespace tcsim::kernels {
namespace {

struct GemmShape {
  std::string variant;
  int64_t m;  // tokens
  int64_t n;  // output features
  int64_t k;  // input features (the reduction)
};

// DeepSeek-V3 dimensions (V3-TR section 4.2; the model's public config.json): hidden 7168, q_lora_rank 1536,
// kv_lora_rank 512, 128 heads of qk_nope 128 + qk_rope 64 and v 128, MoE intermediate 2048, vocabulary 129280.
constexpr int64_t kHidden = 7168;
constexpr int64_t kQLora = 1536;
constexpr int64_t kKvLora = 512;
constexpr int64_t kHeads = 128;
constexpr int64_t kQkNope = 128;
constexpr int64_t kQkRope = 64;
constexpr int64_t kV = 128;
constexpr int64_t kMoeInter = 2048;
constexpr int64_t kVocab = 129280;
// Tokens of one micro-batch: one sequence of V3's pre-training length 4096 (V3-TR section 4.2).
constexpr int64_t kTokens = 4096;

std::vector<GemmShape> gemm_shapes(bool quick) {
  std::vector<GemmShape> shapes;
  const std::vector<int64_t> squares =
      quick ? std::vector<int64_t>{2048, 8192} : std::vector<int64_t>{1024, 2048, 3072, 4096, 6144, 8192, 12288, 16384};
  for (int64_t s : squares) shapes.push_back({"square", s, s, s});
  // One MLA layer and the shared expert, M = the micro-batch's tokens.
  shapes.push_back({"v3-q_a", kTokens, kQLora, kHidden});
  shapes.push_back({"v3-q_b", kTokens, kHeads * (kQkNope + kQkRope), kQLora});
  shapes.push_back({"v3-kv_a", kTokens, kKvLora + kQkRope, kHidden});
  shapes.push_back({"v3-kv_b", kTokens, kHeads * (kQkNope + kV), kKvLora});
  shapes.push_back({"v3-o_proj", kTokens, kHidden, kHeads * kV});
  shapes.push_back({"v3-shared-up", kTokens, 2 * kMoeInter, kHidden});  // gate and up fused
  shapes.push_back({"v3-shared-down", kTokens, kHidden, kMoeInter});
  // One routed expert at the token counts it sees under expert parallelism.
  const std::vector<int64_t> expert_tokens =
      quick ? std::vector<int64_t>{16, 128, 1024} : std::vector<int64_t>{8, 16, 32, 64, 128, 256, 512, 1024, 2048};
  for (int64_t m : expert_tokens) shapes.push_back({"moe-up", m, 2 * kMoeInter, kHidden});
  for (int64_t m : expert_tokens) shapes.push_back({"moe-down", m, kHidden, kMoeInter});
  // The output head: tall and skinny in K, very wide in N.
  shapes.push_back({"v3-head", kTokens, kVocab, kHidden});
  return shapes;
}

struct Operands {
  DeviceBuffer<unsigned char> x;
  DeviceBuffer<unsigned char> w;
  DeviceBuffer<bf16> y;
};

void measure_gemm(Bench& bench, const LtContext& lt, GemmType type, const GemmShape& shape, const float* scales) {
  const auto m = static_cast<uint64_t>(shape.m);
  const auto n = static_cast<uint64_t>(shape.n);
  const auto k = static_cast<uint64_t>(shape.k);
  const uint64_t eb = element_bytes(type);
  const Point point{.family = "gemm",
                    .variant = shape.variant,
                    .dtype = dtype_name(type),
                    .m = shape.m,
                    .n = shape.n,
                    .k = shape.k,
                    .groups = 1,
                    .flops = 2 * m * n * k,
                    .bytes = eb * (m * k + n * k) + sizeof(bf16) * m * n};
  const std::string what = describe(point);
  // FP8 kernels need 16-byte aligned leading dimensions (lda = ldb = K bytes, ldd = 2N bytes).
  if (type == GemmType::fp8_e4m3 && (k % 16 != 0 || n % 16 != 0)) {
    bench.skip(what, "FP8 needs K and N multiples of 16");
    return;
  }
  const LtMatmul plan(lt, type, shape.m, shape.n, shape.k, scales, scales + 1);
  if (!plan.supported()) {
    bench.skip(what, plan.reason());
    return;
  }
  const int sets = bench.rotation_sets(point.bytes);
  if (sets < 1) {
    bench.skip(what, "does not fit in free device memory");
    return;
  }
  const cudaStream_t stream = bench.stream();
  std::vector<Operands> ops;
  for (int s = 0; s < sets; ++s) {
    ops.push_back(
        {DeviceBuffer<unsigned char>(eb * m * k), DeviceBuffer<unsigned char>(eb * n * k), DeviceBuffer<bf16>(m * n)});
    fill_operand(type, ops.back().x.get(), m * k, bench.next_seed(), stream);
    fill_operand(type, ops.back().w.get(), n * k, bench.next_seed(), stream);
  }
  // Checked run on poisoned output. cuBLASLt refusing the launch is a capability gap (skip), a wrong answer is not.
  poison(ops[0].y.get(), ops[0].y.bytes(), stream);
  const cublasStatus_t status = plan.try_run(ops[0].x.get(), ops[0].w.get(), ops[0].y.get(), stream);
  if (status != CUBLAS_STATUS_SUCCESS) {
    bench.skip(what, std::string("cuBLASLt refused the launch: ") + cublasLtGetStatusName(status));
    return;
  }
  TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  expect_all_written(what, count_nonfinite(ops[0].y.get(), m * n, stream), m * n);
  ErrorNorm error;
  check_linear_sample(type, ops[0].x.get(), ops[0].w.get(), ops[0].y.get(), shape.m, shape.n, shape.k, 16, 16, error);
  expect_close(what, error, kBf16Tolerance);

  bench.record(point, bench.time(sets, [&](int s) {
    plan.run(ops[size_t(s)].x.get(), ops[size_t(s)].w.get(), ops[size_t(s)].y.get(), stream);
  }));
}

}  // namespace

void run_gemm(Bench& bench) {
  const LtContext lt;
  const float host_scales[2] = {kFp8XScale, kFp8WScale};
  DeviceBuffer<float> scales(2);
  TCSIM_CUDA_CHECK(cudaMemcpy(scales.get(), host_scales, sizeof(host_scales), cudaMemcpyHostToDevice));
  const std::vector<GemmShape> shapes = gemm_shapes(bench.quick());
  for (const GemmShape& shape : shapes) measure_gemm(bench, lt, GemmType::bf16, shape, scales.get());
  if (!bench.hopper_or_newer()) {
    bench.skip("gemm fp8_e4m3 (all shapes)",
               "FP8 E4M3 matrix products need compute capability 9.0 or newer, this GPU is " +
                   std::to_string(bench.device().cc_major) + "." + std::to_string(bench.device().cc_minor));
    return;
  }
  for (const GemmShape& shape : shapes) measure_gemm(bench, lt, GemmType::fp8_e4m3, shape, scales.get());
}

}  // namespace tcsim::kernels
