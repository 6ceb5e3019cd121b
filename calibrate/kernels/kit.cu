// Shared machinery of the calibration kit: random fills, output checks, timing, the samples CSV and the summary.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <tuple>

#include "calibrate/kernels/kit.cuh"

namespace tcsim::kernels {

void throw_cuda(cudaError_t err, const char* call, const char* file, int line) {
  throw KitError(std::string("CUDA error ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ") in " + call +
                 " at " + file + ":" + std::to_string(line));
}

namespace {

// SplitMix64 finaliser: a counter-based generator, so any element's value depends only on (seed, index).
__device__ uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// An odd multiple of 2^-24 in (-1, 1): never zero, computed exactly in float.
__device__ float symmetric_unit(uint64_t seed, uint64_t index) {
  const uint64_t h = mix64(mix64(seed) + index);
  const int32_t odd = static_cast<int32_t>(h >> 40) * 2 + 1 - (1 << 24);
  return static_cast<float>(odd) * 0x1p-24f;
}

template <class T>
__device__ T from_float(float x);
template <>
__device__ bf16 from_float<bf16>(float x) {
  return __float2bfloat16_rn(x);
}
template <>
__device__ float from_float<float>(float x) {
  return x;
}

template <class T>
__global__ void fill_uniform_kernel(T* data, size_t count, uint64_t seed, float mid, float half) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count; i += size_t(gridDim.x) * blockDim.x) {
    data[i] = from_float<T>(mid + half * symmetric_unit(seed, i));
  }
}

__global__ void fill_e4m3_kernel(fp8* data, size_t count, uint64_t seed, float amplitude) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count; i += size_t(gridDim.x) * blockDim.x) {
    fp8 q;
    q.__x = __nv_cvt_float_to_fp8(amplitude * symmetric_unit(seed, i), __NV_SATFINITE, __NV_E4M3);
    data[i] = q;
  }
}

__device__ bool nonfinite(bf16 x) { return (__bfloat16_as_ushort(x) & 0x7F80u) == 0x7F80u; }
__device__ bool nonfinite(float x) { return !isfinite(x); }
__device__ bool nonfinite(fp8 x) { return (x.__x & 0x7Fu) == 0x7Fu; }  // E4M3 has NaN only, no infinity

template <class T>
__global__ void count_nonfinite_kernel(const T* data, size_t count, unsigned long long* result) {
  unsigned long long local = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < count; i += size_t(gridDim.x) * blockDim.x) {
    local += nonfinite(data[i]) ? 1 : 0;
  }
  for (int offset = 16; offset > 0; offset /= 2) local += __shfl_down_sync(0xFFFFFFFFu, local, offset);
  if (threadIdx.x % 32 == 0 && local > 0) atomicAdd(result, local);
}

// Busy-waits on the global nanosecond timer, holding the stream while the host issues the timed work.
__global__ void spin_kernel(uint64_t nanoseconds) {
  uint64_t start = 0;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  for (;;) {
    uint64_t now = 0;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    if (now - start >= nanoseconds) break;
  }
}

constexpr int kFillThreads = 256;
constexpr int kFillBlocks = 4096;

int blocks_for(size_t count) {
  return static_cast<int>(std::min<size_t>(kFillBlocks, (count + kFillThreads - 1) / kFillThreads));
}

template <class T>
uint64_t count_nonfinite_impl(const T* data, size_t count, cudaStream_t stream) {
  if (count == 0) return 0;
  DeviceBuffer<unsigned long long> result(1);
  TCSIM_CUDA_CHECK(cudaMemsetAsync(result.get(), 0, sizeof(unsigned long long), stream));
  count_nonfinite_kernel<<<blocks_for(count), kFillThreads, 0, stream>>>(data, count, result.get());
  TCSIM_LAUNCH_CHECK();
  unsigned long long host = 0;
  TCSIM_CUDA_CHECK(cudaMemcpyAsync(&host, result.get(), sizeof(host), cudaMemcpyDeviceToHost, stream));
  TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  return host;
}

template <class T>
void fill_uniform_impl(T* data, size_t count, uint64_t seed, float lo, float hi, cudaStream_t stream) {
  if (count == 0) return;
  fill_uniform_kernel<<<blocks_for(count), kFillThreads, 0, stream>>>(data, count, seed, 0.5f * (lo + hi),
                                                                      0.5f * (hi - lo));
  TCSIM_LAUNCH_CHECK();
}

}  // namespace

void fill_uniform(bf16* data, size_t count, uint64_t seed, float lo, float hi, cudaStream_t stream) {
  fill_uniform_impl(data, count, seed, lo, hi, stream);
}

void fill_uniform(float* data, size_t count, uint64_t seed, float lo, float hi, cudaStream_t stream) {
  fill_uniform_impl(data, count, seed, lo, hi, stream);
}

void fill_uniform_e4m3(fp8* data, size_t count, uint64_t seed, float amplitude, cudaStream_t stream) {
  if (count == 0) return;
  fill_e4m3_kernel<<<blocks_for(count), kFillThreads, 0, stream>>>(data, count, seed, amplitude);
  TCSIM_LAUNCH_CHECK();
}

void poison(void* data, size_t bytes, cudaStream_t stream) {
  TCSIM_CUDA_CHECK(cudaMemsetAsync(data, 0xFF, bytes, stream));
}

uint64_t count_nonfinite(const bf16* data, size_t count, cudaStream_t stream) {
  return count_nonfinite_impl(data, count, stream);
}
uint64_t count_nonfinite(const float* data, size_t count, cudaStream_t stream) {
  return count_nonfinite_impl(data, count, stream);
}
uint64_t count_nonfinite(const fp8* data, size_t count, cudaStream_t stream) {
  return count_nonfinite_impl(data, count, stream);
}

float bf16_value(bf16 x) {
  uint16_t bits = 0;
  std::memcpy(&bits, &x, sizeof(bits));
  const uint32_t wide = uint32_t(bits) << 16;  // bf16 is the top half of an IEEE binary32
  float value = 0.0f;
  std::memcpy(&value, &wide, sizeof(value));
  return value;
}

float e4m3_value(fp8 x) {
  // OCP FP8 E4M3: 1 sign, 4 exponent (bias 7), 3 mantissa bits; S.1111.111 is NaN, there is no infinity.
  const unsigned bits = x.__x;
  const float sign = (bits & 0x80u) != 0 ? -1.0f : 1.0f;
  const int exponent = int((bits >> 3) & 0xFu);
  const int mantissa = int(bits & 0x7u);
  if (exponent == 0xF && mantissa == 0x7) return std::nanf("");
  if (exponent == 0) return sign * std::ldexp(float(mantissa), -9);  // subnormal: m/8 * 2^-6
  return sign * std::ldexp(float(8 + mantissa), exponent - 7 - 3);
}

void ErrorNorm::add(double out, double ref) {
  if (!std::isfinite(out)) finite_ = false;
  diff2_ += (out - ref) * (out - ref);
  ref2_ += ref * ref;
  ++count_;
}

double ErrorNorm::relative() const {
  if (!finite_) return std::nan("");
  return ref2_ > 0.0 ? std::sqrt(diff2_ / ref2_) : std::sqrt(diff2_);
}

std::vector<size_t> spread_indices(size_t extent, size_t count) {
  std::vector<size_t> out;
  if (extent <= count || count < 2) {
    for (size_t i = 0; i < std::min(extent, std::max<size_t>(count, 1)); ++i) out.push_back(i);
    return out;
  }
  for (size_t i = 0; i < count; ++i) out.push_back(i * (extent - 1) / (count - 1));
  return out;
}

void expect_close(const std::string& what, const ErrorNorm& error, double tolerance) {
  const double rel = error.relative();
  if (error.count() == 0) throw KitError("verification of " + what + " checked no elements (a bug in the kit)");
  if (!(rel <= tolerance)) {  // also catches NaN
    char buf[256];
    std::snprintf(buf, sizeof(buf), "verification failed: %s: relative error %.3e > %.1e over %zu checked elements",
                  what.c_str(), rel, tolerance, error.count());
    throw KitError(buf);
  }
}

void expect_all_written(const std::string& what, uint64_t nonfinite, size_t count) {
  if (nonfinite != 0) {
    throw KitError("verification failed: " + what + ": " + std::to_string(nonfinite) + " of " + std::to_string(count) +
                   " output elements are NaN or infinite (unwritten or overflowed)");
  }
}

// ---------------------------------------------------------------------------------------------------------------

Bench::Bench(const Options& options, DeviceInfo device) : options_(options), device_(std::move(device)) {
  TCSIM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  TCSIM_CUDA_CHECK(cudaEventCreate(&start_));
  TCSIM_CUDA_CHECK(cudaEventCreate(&stop_));
}

Bench::~Bench() {
  cudaEventDestroy(start_);
  cudaEventDestroy(stop_);
  cudaStreamDestroy(stream_);
}

int Bench::rotation_sets(uint64_t bytes_per_set) const {
  size_t free_bytes = 0;
  size_t total_bytes = 0;
  TCSIM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  // Kept free for the cuBLASLt workspace, the library's own allocations and a point's small buffers.
  constexpr uint64_t kReserve = uint64_t(1) << 30;
  const uint64_t usable = free_bytes > kReserve ? free_bytes - kReserve : 0;
  const uint64_t per_set = std::max<uint64_t>(bytes_per_set, 1);
  const uint64_t fit = usable / per_set;
  const uint64_t twice_l2 = 2 * uint64_t(device_.l2_bytes);
  const uint64_t wanted = per_set > twice_l2 ? 1 : twice_l2 / per_set + 1;  // sets x per_set > 2 x L2
  constexpr uint64_t kMaxSets = 256;
  return static_cast<int>(std::min({wanted, fit, kMaxSets}));
}

std::vector<double> Bench::time(int sets, const std::function<void(int set)>& enqueue, double spin_us) {
  if (sets < 1) throw KitError("Bench::time needs at least one input set (a bug in the kit)");
  // Warm-up: library handles, module loading and clocks settle; at least 20 ms of work or `warmup` launches.
  int launch = 0;
  const auto begin = std::chrono::steady_clock::now();
  constexpr int kMaxWarmup = 100000;
  while (launch < kMaxWarmup) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    if (launch >= options_.warmup && elapsed >= 0.02) break;
    enqueue(launch % sets);
    TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream_));
    ++launch;
  }
  const auto spin_ns = static_cast<uint64_t>(spin_us * 1e3);
  std::vector<double> seconds;
  seconds.reserve(size_t(options_.repeats));
  for (int r = 0; r < options_.repeats; ++r, ++launch) {
    spin_kernel<<<1, 1, 0, stream_>>>(spin_ns);
    TCSIM_LAUNCH_CHECK();
    TCSIM_CUDA_CHECK(cudaEventRecord(start_, stream_));
    enqueue(launch % sets);
    TCSIM_CUDA_CHECK(cudaEventRecord(stop_, stream_));
    TCSIM_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0.0f;
    TCSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    seconds.push_back(double(ms) * 1e-3);
  }
  TCSIM_CUDA_CHECK(cudaGetLastError());
  return seconds;
}

namespace {

bool clean_field(const std::string& s) { return !s.empty() && s.find_first_of(",\n\r\"") == std::string::npos; }

std::string rate_text(const Point& point, double seconds) {
  char buf[64];
  if (point.flops > 0) {
    std::snprintf(buf, sizeof(buf), "%8.1f TFLOP/s", double(point.flops) / seconds * 1e-12);
  } else {
    std::snprintf(buf, sizeof(buf), "%8.1f GB/s", double(point.bytes) / seconds * 1e-9);
  }
  return buf;
}

}  // namespace

std::string describe(const Point& p) {
  std::string s = p.family + " " + p.dtype + " " + p.variant + " " + std::to_string(p.m) + "x" + std::to_string(p.n) +
                  "x" + std::to_string(p.k);
  if (p.groups != 1) s += " groups=" + std::to_string(p.groups);
  return s;
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const double pos = q * double(values.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - double(lo)) * (values[hi] - values[lo]);
}

void Bench::record(const Point& point, const std::vector<double>& seconds) {
  if (!clean_field(point.family) || !clean_field(point.variant) || !clean_field(point.dtype)) {
    throw KitError("point '" + describe(point) + "' has an empty field or one with a comma (a bug in the kit)");
  }
  for (double s : seconds) {
    if (!(s > 0.0) || !std::isfinite(s))
      throw KitError(describe(point) + ": a timed launch took " + std::to_string(s) + " s");
  }
  points_.push_back(point);
  const size_t index = points_.size() - 1;
  for (size_t r = 0; r < seconds.size(); ++r) samples_.push_back({index, static_cast<int>(r), seconds[r]});
  const double median = quantile(seconds, 0.5);
  std::fprintf(stderr, "  %-60s median %10.3f us  %s  (p10 %.3f, p90 %.3f us)\n", describe(point).c_str(), median * 1e6,
               rate_text(point, median).c_str(), quantile(seconds, 0.1) * 1e6, quantile(seconds, 0.9) * 1e6);
}

void Bench::skip(const std::string& what, const std::string& reason) {
  skipped_.push_back(what + ": " + reason);
  std::fprintf(stderr, "  %-60s skipped: %s\n", what.c_str(), reason.c_str());
}

// ---------------------------------------------------------------------------------------------------------------

void write_samples_csv(const Bench& bench, const std::string& path) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) throw KitError("cannot write " + tmp + ": " + std::strerror(errno));
  const DeviceInfo& d = bench.device();
  std::fprintf(f, "# gpu: %s\n", d.name.c_str());
  std::fprintf(f, "# sms: %d\n", d.sms);
  std::fprintf(f, "# sm_clock_mhz: %d\n", d.sm_clock_mhz);
  std::fprintf(f, "# memory_clock_mhz: %d\n", d.memory_clock_mhz);
  std::fprintf(f, "# l2_bytes: %lld\n", static_cast<long long>(d.l2_bytes));
  std::fprintf(f, "# hbm_bytes: %lld\n", static_cast<long long>(d.hbm_bytes));
  std::fprintf(f, "# compute_capability: %d.%d\n", d.cc_major, d.cc_minor);
  std::fprintf(f, "# driver: %d\n", d.driver);
  std::fprintf(f, "# runtime: %d\n", d.runtime);
  std::fprintf(f, "# cublaslt: %lld\n", static_cast<long long>(d.cublaslt));
  std::fprintf(f, "# date: %s\n", d.date.c_str());
  std::fprintf(f, "# command: %s\n", bench.options().command.c_str());
  std::fprintf(f, "# host: %s\n", d.host.c_str());
  std::fprintf(f, "family,variant,dtype,m,n,k,groups,flops,bytes,repeat,seconds\n");
  for (const Sample& s : bench.samples()) {
    const Point& p = bench.points()[s.point];
    std::fprintf(f, "%s,%s,%s,%lld,%lld,%lld,%lld,%llu,%llu,%d,%.9e\n", p.family.c_str(), p.variant.c_str(),
                 p.dtype.c_str(), static_cast<long long>(p.m), static_cast<long long>(p.n), static_cast<long long>(p.k),
                 static_cast<long long>(p.groups), static_cast<unsigned long long>(p.flops),
                 static_cast<unsigned long long>(p.bytes), s.repeat, s.seconds);
  }
  const bool write_failed = std::ferror(f) != 0;
  if (std::fclose(f) != 0 || write_failed) throw KitError("writing " + tmp + " failed: " + std::strerror(errno));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw KitError("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
}

void print_summary(const Bench& bench) {
  // Per family, variant and dtype: the median over points of each point's median rate, and the best point.
  using Key = std::tuple<std::string, std::string, std::string>;
  std::vector<Key> order;
  std::map<Key, std::vector<double>> rates;
  std::map<Key, bool> is_flops;
  std::vector<std::vector<double>> per_point(bench.points().size());
  for (const Sample& s : bench.samples()) per_point[s.point].push_back(s.seconds);
  for (size_t i = 0; i < bench.points().size(); ++i) {
    const Point& p = bench.points()[i];
    const Key key{p.family, p.variant, p.dtype};
    if (rates.find(key) == rates.end()) order.push_back(key);
    const double median = quantile(per_point[i], 0.5);
    rates[key].push_back(p.flops > 0 ? double(p.flops) / median * 1e-12 : double(p.bytes) / median * 1e-9);
    is_flops[key] = p.flops > 0;
  }
  std::printf("\n%-14s %-24s %-9s %6s %12s %12s  %s\n", "family", "variant", "dtype", "points", "median", "best",
              "unit");
  for (const Key& key : order) {
    const std::vector<double>& r = rates[key];
    std::printf("%-14s %-24s %-9s %6zu %12.1f %12.1f  %s\n", std::get<0>(key).c_str(), std::get<1>(key).c_str(),
                std::get<2>(key).c_str(), r.size(), quantile(r, 0.5), *std::max_element(r.begin(), r.end()),
                is_flops[key] ? "TFLOP/s" : "GB/s");
  }
  if (!bench.skipped().empty()) {
    std::printf("\nskipped points (%zu):\n", bench.skipped().size());
    for (const std::string& s : bench.skipped()) std::printf("  %s\n", s.c_str());
  }
}

}  // namespace tcsim::kernels
