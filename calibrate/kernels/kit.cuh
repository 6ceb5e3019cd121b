// The calibration kit's shared machinery: error checks, device buffers, random inputs, timing, verification and the
// raw-sample table.
//
// Model: each family (gemm, grouped_gemm, memory, attention) walks a list of *points* (one shape in one dtype). For
// every point it allocates enough input sets that rotating among them keeps the inputs out of L2, fills them with
// seeded random values (never zeros), runs the kernel once on poisoned outputs and checks the result against a CPU
// float64 reference, then times `repeats` launches with device events after a warm-up. Every timed launch becomes
// one row of the samples CSV (docs/calibration-kernels.md states the format). Failures throw: a CUDA or cuBLASLt
// error, or a verification miss, ends the run with a message naming the point and no CSV is written.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

namespace tcsim::kernels {

using bf16 = __nv_bfloat16;
using fp8 = __nv_fp8_e4m3;

// A CUDA or cuBLASLt call failed, or a kernel computed the wrong answer. main() prints it and exits non-zero.
struct KitError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_cuda(cudaError_t err, const char* call, const char* file, int line);

// Checks a CUDA runtime call; the macro keeps the call's text and location for the message.
#define TCSIM_CUDA_CHECK(call)                                                                          \
  do {                                                                                                  \
    const cudaError_t tcsim_err_ = (call);                                                              \
    if (tcsim_err_ != cudaSuccess) ::tcsim::kernels::throw_cuda(tcsim_err_, #call, __FILE__, __LINE__); \
  } while (0)

// Checks the launch that precedes it (bad configuration, missing kernel image for this GPU).
#define TCSIM_LAUNCH_CHECK() TCSIM_CUDA_CHECK(cudaGetLastError())

// ---------------------------------------------------------------------------------------------------------------
// Device memory

// Owns one cudaMalloc'd array of T. Move-only.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (count_ > 0) TCSIM_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), count_ * sizeof(T)));
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : ptr_(std::exchange(other.ptr_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      ptr_ = std::exchange(other.ptr_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { release(); }

  T* get() const { return ptr_; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }

 private:
  void release() {
    if (ptr_ != nullptr) cudaFree(ptr_);  // nothing useful to do with an error while unwinding
    ptr_ = nullptr;
  }
  T* ptr_ = nullptr;
  size_t count_ = 0;
};

// Copies `count` elements starting at `offset` of a device array to the host.
template <class T>
std::vector<T> download(const T* device, size_t offset, size_t count) {
  std::vector<T> host(count);
  if (count > 0) TCSIM_CUDA_CHECK(cudaMemcpy(host.data(), device + offset, count * sizeof(T), cudaMemcpyDeviceToHost));
  return host;
}

// ---------------------------------------------------------------------------------------------------------------
// Random inputs and output checks (device side; kit.cu)

// Uniform values in (lo, hi), from a counter-based hash of (seed, index): never exactly zero unless lo = -hi and
// the draw lands on the midpoint, which the half-step offset rules out.
void fill_uniform(bf16* data, size_t count, uint64_t seed, float lo, float hi, cudaStream_t stream);
void fill_uniform(float* data, size_t count, uint64_t seed, float lo, float hi, cudaStream_t stream);
// E4M3 values of amplitude * u, u uniform in (-1, 1), saturated to the finite range (|x| <= 448).
void fill_uniform_e4m3(fp8* data, size_t count, uint64_t seed, float amplitude, cudaStream_t stream);
// All bytes 0xFF: NaN in bf16, fp32 and e4m3, so an element the kernel forgot to write fails the check.
void poison(void* data, size_t bytes, cudaStream_t stream);
// Counts elements that are NaN or infinite (synchronises the stream).
uint64_t count_nonfinite(const bf16* data, size_t count, cudaStream_t stream);
uint64_t count_nonfinite(const float* data, size_t count, cudaStream_t stream);
uint64_t count_nonfinite(const fp8* data, size_t count, cudaStream_t stream);

// Eight bf16 values in one 16-byte vector <-> eight floats, by bit operations (no type punning of locals): a bf16 is
// the top half of a binary32.
__device__ inline void unpack_bf16x8(const uint4& v, float* f) {
  const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    f[2 * i] = __uint_as_float(words[i] << 16);
    f[2 * i + 1] = __uint_as_float(words[i] & 0xFFFF0000u);
  }
}

__device__ inline uint32_t pack_bf16x2(float lo, float hi) {
  return uint32_t(__bfloat16_as_ushort(__float2bfloat16_rn(lo))) |
         (uint32_t(__bfloat16_as_ushort(__float2bfloat16_rn(hi))) << 16);
}

__device__ inline uint4 pack_bf16x8(const float* f) {
  return make_uint4(pack_bf16x2(f[0], f[1]), pack_bf16x2(f[2], f[3]), pack_bf16x2(f[4], f[5]), pack_bf16x2(f[6], f[7]));
}

// Host decoding of device formats, written independently of the CUDA headers' conversions.
float bf16_value(bf16 x);
float e4m3_value(fp8 x);

// ---------------------------------------------------------------------------------------------------------------
// Verification (host side)

// Accumulates ||out - ref|| and ||ref|| over checked elements; a NaN in `out` fails regardless of the norm.
class ErrorNorm {
 public:
  void add(double out, double ref);
  double relative() const;
  size_t count() const { return count_; }
  bool finite() const { return finite_; }

 private:
  double diff2_ = 0.0;
  double ref2_ = 0.0;
  size_t count_ = 0;
  bool finite_ = true;
};

// Throws a KitError naming `what` unless the relative error is finite and within `tolerance`.
void expect_close(const std::string& what, const ErrorNorm& error, double tolerance);
// Throws unless every element was written with a finite value (the output was poisoned before the run).
void expect_all_written(const std::string& what, uint64_t nonfinite, size_t count);

// `count` indices into [0, extent): the first, the last and evenly spread between (all of them if fewer).
std::vector<size_t> spread_indices(size_t extent, size_t count);

// Relative-error bounds (docs/calibration-kernels.md, "Verification"): bf16 operands land between 1e-3 and 1e-2
// against a float64 reference; the kit accepts up to the top of that band.
inline constexpr double kBf16Tolerance = 1e-2;

// ---------------------------------------------------------------------------------------------------------------
// Options, device description and samples

enum class Family { gemm, grouped_gemm, memory, attention };

struct Options {
  std::string out;  // samples CSV path
  bool quick = false;
  std::vector<Family> families = {Family::gemm, Family::grouped_gemm, Family::memory, Family::attention};
  int repeats = 20;  // timed launches per point
  int warmup = 5;    // untimed launches per point, at least (see Bench::time)
  int device = 0;
  std::string command;  // argv joined by spaces, echoed into the CSV
};

// The GPU, its software stack, and where and when it was measured (the CSV's comment lines).
struct DeviceInfo {
  std::string name;
  int sms = 0;
  int sm_clock_mhz = 0;
  int memory_clock_mhz = 0;
  int64_t l2_bytes = 0;
  int64_t hbm_bytes = 0;
  int cc_major = 0;
  int cc_minor = 0;
  int driver = 0;
  int runtime = 0;
  int64_t cublaslt = 0;
  int64_t smem_optin_bytes = 0;  // largest dynamic shared memory a block may ask for
  std::string host;
  std::string date;  // UTC ISO 8601, when the run started
};

// One measured point: the key columns of the CSV.
struct Point {
  std::string family;
  std::string variant;
  std::string dtype;
  int64_t m = 0;
  int64_t n = 0;
  int64_t k = 0;
  int64_t groups = 1;
  uint64_t flops = 0;
  uint64_t bytes = 0;
};

struct Sample {
  size_t point;  // index into Bench::points()
  int repeat;
  double seconds;
};

// The stream, events and sample table every family uses. One per run, constructed by main().
class Bench {
 public:
  Bench(const Options& options, DeviceInfo device);
  ~Bench();
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;

  const Options& options() const { return options_; }
  const DeviceInfo& device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  bool quick() const { return options_.quick; }
  bool hopper_or_newer() const { return device_.cc_major >= 9; }

  // A fresh seed for every fill, in a fixed sequence: one run draws the same inputs as the next.
  uint64_t next_seed() { return ++seed_; }

  // How many input sets of `bytes_per_set` to rotate through so that one rotation moves more than twice the L2
  // (so each launch finds its inputs out of L2), limited by free device memory. 0 when not even one set fits.
  int rotation_sets(uint64_t bytes_per_set) const;

  // Warm-up (at least options().warmup launches and 20 ms), then options().repeats timed launches of
  // `enqueue(set)`, rotating the set. Each timed launch is preceded by a short spin kernel so that the start event
  // fires when the GPU reaches the work, not while the host is still issuing it.
  std::vector<double> time(int sets, const std::function<void(int set)>& enqueue, double spin_us = 50.0);

  // Adds one row per timed repeat and prints the point's median to stderr.
  void record(const Point& point, const std::vector<double>& seconds);
  // Notes points that could not be measured on this GPU (printed in the summary); `what` is describe(point) or
  // a description of several points.
  void skip(const std::string& what, const std::string& reason);

  const std::vector<Point>& points() const { return points_; }
  const std::vector<Sample>& samples() const { return samples_; }
  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  const Options& options_;
  DeviceInfo device_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t start_ = nullptr;
  cudaEvent_t stop_ = nullptr;
  uint64_t seed_ = 20250101;
  std::vector<Point> points_;
  std::vector<Sample> samples_;
  std::vector<std::string> skipped_;
};

// A short human label for progress and error messages: "gemm bf16 v3-q_b 4096x24576x1536".
std::string describe(const Point& point);

// Median and quantiles of a sample (copied and sorted).
double quantile(std::vector<double> values, double q);

// ---------------------------------------------------------------------------------------------------------------
// Families (one .cu file each)

void run_gemm(Bench& bench);
void run_grouped_gemm(Bench& bench);
void run_memory(Bench& bench);
void run_attention(Bench& bench);

// CSV and summary (kit.cu)
void write_samples_csv(const Bench& bench, const std::string& path);
void print_summary(const Bench& bench);

}  // namespace tcsim::kernels
