// One cuBLASLt matrix product in the layout of a linear layer, shared by the gemm and grouped_gemm families.
//
// Contract: Y[M,N] = X[M,K] * W[N,K]^T with X, W and Y row-major (X activations, W an nn.Linear-style weight, Y
// bf16), fp32 accumulation. In cuBLASLt's column-major terms this is D(N x M) = op(A) * op(B) with A = W stored
// K x N (op T) and B = X stored K x M (op N): the "TN" layout, the only one cuBLASLt's FP8 kernels accept on
// Hopper. For FP8 E4M3 operands each of X and W carries one fp32 scale in device memory (per-tensor scaling):
// Y = (x_scale * X) (w_scale * W)^T. The algorithm is cuBLASLt's first heuristic choice for a 32 MiB workspace,
// what a framework calling cuBLASLt gets without autotuning.
#pragma once

#include <cstdint>
#include <string>

#include <cublasLt.h>

#include "calibrate/kernels/kit.cuh"

namespace tcsim::kernels {

enum class GemmType { bf16, fp8_e4m3 };

const char* dtype_name(GemmType type);
size_t element_bytes(GemmType type);

[[noreturn]] void throw_cublas(cublasStatus_t status, const char* call, const char* file, int line);

#define TCSIM_CUBLAS_CHECK(call)                                                \
  do {                                                                          \
    const cublasStatus_t tcsim_status_ = (call);                                \
    if (tcsim_status_ != CUBLAS_STATUS_SUCCESS)                                 \
      ::tcsim::kernels::throw_cublas(tcsim_status_, #call, __FILE__, __LINE__); \
  } while (0)

// The cuBLASLt handle and the workspace every product of a run shares (products run one at a time on one stream).
class LtContext {
 public:
  static constexpr size_t kWorkspaceBytes = size_t(32) << 20;  // NVIDIA's recommendation for Hopper
  LtContext();
  ~LtContext();
  LtContext(const LtContext&) = delete;
  LtContext& operator=(const LtContext&) = delete;
  cublasLtHandle_t handle() const { return handle_; }
  void* workspace() const { return workspace_.get(); }

 private:
  cublasLtHandle_t handle_ = nullptr;
  DeviceBuffer<unsigned char> workspace_;
};

class LtMatmul {
 public:
  // x_scale and w_scale: device pointers to one float each, required for fp8_e4m3, ignored for bf16.
  LtMatmul(const LtContext& lt, GemmType type, int64_t m, int64_t n, int64_t k, const float* x_scale,
           const float* w_scale);
  ~LtMatmul();
  LtMatmul(const LtMatmul&) = delete;
  LtMatmul& operator=(const LtMatmul&) = delete;

  // False when cuBLASLt has no algorithm for this type and shape on this GPU; reason() says what it answered.
  bool supported() const { return supported_; }
  const std::string& reason() const { return reason_; }

  // Enqueues the product; returns cuBLASLt's status (for the first, checked run), see run() for the timed ones.
  cublasStatus_t try_run(const void* x, const void* w, bf16* y, cudaStream_t stream) const;
  void run(const void* x, const void* w, bf16* y, cudaStream_t stream) const;

 private:
  const LtContext& lt_;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatrixLayout_t a_ = nullptr;
  cublasLtMatrixLayout_t b_ = nullptr;
  cublasLtMatrixLayout_t d_ = nullptr;
  cublasLtMatmulHeuristicResult_t algo_{};
  bool supported_ = false;
  std::string reason_;
};

// Input convention of both GEMM families: bf16 operands uniform in (-1, 1); FP8 operands are E4M3 values of
// amplitude 400 (under E4M3's 448 limit) with scales 1/320 for X and 1/416 for W, so the de-quantised inputs are of
// order one and a dropped scale shows in the check.
inline constexpr float kFp8Amplitude = 400.0f;
inline constexpr float kFp8XScale = 1.0f / 320.0f;
inline constexpr float kFp8WScale = 1.0f / 416.0f;

void fill_operand(GemmType type, void* data, size_t count, uint64_t seed, cudaStream_t stream);

// Reads back `rows` sampled rows of X, `cols` sampled rows of W and the matching elements of Y (all row-major, as
// in the contract above), and adds each sampled Y[i, j] to `error` against sum_k X[i, k] W[j, k] in float64 on the
// de-quantised inputs.
void check_linear_sample(GemmType type, const void* x, const void* w, const bf16* y, int64_t m, int64_t n, int64_t k,
                         size_t rows, size_t cols, ErrorNorm& error);

}  // namespace tcsim::kernels
