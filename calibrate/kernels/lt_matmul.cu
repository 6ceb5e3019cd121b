// cuBLASLt matrix products for the gemm and grouped_gemm families (contract in lt_matmul.cuh).
#include "calibrate/kernels/lt_matmul.cuh"

#include <vector>

namespace tcsim::kernels {

const char* dtype_name(GemmType type) { return type == GemmType::bf16 ? "bf16" : "fp8_e4m3"; }

size_t element_bytes(GemmType type) { return type == GemmType::bf16 ? 2 : 1; }

void throw_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  throw KitError(std::string("cuBLASLt error ") + cublasLtGetStatusName(status) + " (" +
                 cublasLtGetStatusString(status) + ") in " + call + " at " + file + ":" + std::to_string(line));
}

LtContext::LtContext() : workspace_(kWorkspaceBytes) { TCSIM_CUBLAS_CHECK(cublasLtCreate(&handle_)); }

LtContext::~LtContext() { cublasLtDestroy(handle_); }

LtMatmul::LtMatmul(const LtContext& lt, GemmType type, int64_t m, int64_t n, int64_t k, const float* x_scale,
                   const float* w_scale)
    : lt_(lt) {
  const cudaDataType_t operand = type == GemmType::bf16 ? CUDA_R_16BF : CUDA_R_8F_E4M3;
  TCSIM_CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc_, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t transa = CUBLAS_OP_T;
  const cublasOperation_t transb = CUBLAS_OP_N;
  TCSIM_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof(transa)));
  TCSIM_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof(transb)));
  if (type == GemmType::fp8_e4m3) {
    if (x_scale == nullptr || w_scale == nullptr)
      throw KitError("FP8 product without scale pointers (a bug in the kit)");
    // A is W and B is X in cuBLASLt's terms (see the contract).
    TCSIM_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &w_scale, sizeof(w_scale)));
    TCSIM_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &x_scale, sizeof(x_scale)));
    // Full-precision accumulation (no "fast accumulation" in the FP8 tensor cores' reduced-precision adder), as
    // DeepSeek-V3 promotes partial sums to FP32 (V3-TR section 3.3.2).
    const int8_t fast_accum = 0;
    TCSIM_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(desc_, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast_accum, sizeof(fast_accum)));
  }
  const auto um = static_cast<uint64_t>(m);
  const auto un = static_cast<uint64_t>(n);
  const auto uk = static_cast<uint64_t>(k);
  TCSIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&a_, operand, uk, un, k));      // W: K x N column-major
  TCSIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&b_, operand, uk, um, k));      // X: K x M column-major
  TCSIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&d_, CUDA_R_16BF, un, um, n));  // Y: N x M column-major

  cublasLtMatmulPreference_t preference = nullptr;
  TCSIM_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&preference));
  const uint64_t workspace = LtContext::kWorkspaceBytes;
  const cublasStatus_t pref_status = cublasLtMatmulPreferenceSetAttribute(
      preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace));
  int returned = 0;
  const cublasStatus_t status =
      pref_status != CUBLAS_STATUS_SUCCESS
          ? pref_status
          : cublasLtMatmulAlgoGetHeuristic(lt_.handle(), desc_, a_, b_, d_, d_, preference, 1, &algo_, &returned);
  cublasLtMatmulPreferenceDestroy(preference);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED || (status == CUBLAS_STATUS_SUCCESS && returned == 0)) {
    reason_ = std::string("cuBLASLt has no algorithm for this type and shape (") + cublasLtGetStatusName(status) + ")";
    return;
  }
  TCSIM_CUBLAS_CHECK(status);
  if (algo_.workspaceSize > LtContext::kWorkspaceBytes) {
    throw KitError("cuBLASLt chose an algorithm needing " + std::to_string(algo_.workspaceSize) +
                   " bytes of workspace, above the limit it was given");
  }
  supported_ = true;
}

LtMatmul::~LtMatmul() {
  if (d_ != nullptr) cublasLtMatrixLayoutDestroy(d_);
  if (b_ != nullptr) cublasLtMatrixLayoutDestroy(b_);
  if (a_ != nullptr) cublasLtMatrixLayoutDestroy(a_);
  if (desc_ != nullptr) cublasLtMatmulDescDestroy(desc_);
}

cublasStatus_t LtMatmul::try_run(const void* x, const void* w, bf16* y, cudaStream_t stream) const {
  if (!supported_) return CUBLAS_STATUS_NOT_SUPPORTED;
  const float alpha = 1.0f;
  const float beta = 0.0f;  // C is not read; it is given the output's pointer and layout
  return cublasLtMatmul(lt_.handle(), desc_, &alpha, w, a_, x, b_, &beta, y, d_, y, d_, &algo_.algo, lt_.workspace(),
                        LtContext::kWorkspaceBytes, stream);
}

void LtMatmul::run(const void* x, const void* w, bf16* y, cudaStream_t stream) const {
  TCSIM_CUBLAS_CHECK(try_run(x, w, y, stream));
}

void fill_operand(GemmType type, void* data, size_t count, uint64_t seed, cudaStream_t stream) {
  if (type == GemmType::bf16) {
    fill_uniform(static_cast<bf16*>(data), count, seed, -1.0f, 1.0f, stream);
  } else {
    fill_uniform_e4m3(static_cast<fp8*>(data), count, seed, kFp8Amplitude, stream);
  }
}

namespace {

// Row `row` (k elements) of a row-major operand, de-quantised to double.
std::vector<double> operand_row(GemmType type, const void* data, int64_t row, int64_t k, double scale) {
  const auto offset = static_cast<size_t>(row * k);
  const auto count = static_cast<size_t>(k);
  std::vector<double> out(count);
  if (type == GemmType::bf16) {
    const std::vector<bf16> h = download(static_cast<const bf16*>(data), offset, count);
    for (size_t i = 0; i < count; ++i) out[i] = bf16_value(h[i]);
  } else {
    const std::vector<fp8> h = download(static_cast<const fp8*>(data), offset, count);
    for (size_t i = 0; i < count; ++i) out[i] = double(e4m3_value(h[i])) * scale;
  }
  return out;
}

}  // namespace

void check_linear_sample(GemmType type, const void* x, const void* w, const bf16* y, int64_t m, int64_t n, int64_t k,
                         size_t rows, size_t cols, ErrorNorm& error) {
  const bool fp8_inputs = type == GemmType::fp8_e4m3;
  const double x_scale = fp8_inputs ? double(kFp8XScale) : 1.0;
  const double w_scale = fp8_inputs ? double(kFp8WScale) : 1.0;
  std::vector<std::vector<double>> w_rows;
  const std::vector<size_t> js = spread_indices(static_cast<size_t>(n), cols);
  for (size_t j : js) w_rows.push_back(operand_row(type, w, static_cast<int64_t>(j), k, w_scale));
  for (size_t i : spread_indices(static_cast<size_t>(m), rows)) {
    const std::vector<double> x_row = operand_row(type, x, static_cast<int64_t>(i), k, x_scale);
    const std::vector<bf16> y_row = download(y, i * static_cast<size_t>(n), static_cast<size_t>(n));
    for (size_t c = 0; c < js.size(); ++c) {
      double ref = 0.0;
      for (size_t kk = 0; kk < x_row.size(); ++kk) ref += x_row[kk] * w_rows[c][kk];
      error.add(bf16_value(y_row[js[c]]), ref);
    }
  }
}

}  // namespace tcsim::kernels
