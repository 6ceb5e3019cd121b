// HBM bandwidth probe: a device-to-device copy and a STREAM-style triad over
// buffers far larger than L2, timed with CUDA events after warm-up, verified
// against a host reference, reported as median and spread of many repeats.
// Bytes counted are bytes read plus bytes written (copy: 2 x n x 4, triad:
// 3 x n x 4 for float). The first kernel of the calibration kit
// (docs/calibration.md); its samples feed the HBM rate of a profile.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include <cuda_runtime.h>

namespace {

#define CHECK(call)                                                                                   \
  do {                                                                                                \
    cudaError_t err_ = (call);                                                                        \
    if (err_ != cudaSuccess) {                                                                        \
      std::fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(err_), __FILE__, __LINE__); \
      std::exit(1);                                                                                   \
    }                                                                                                 \
  } while (0)

__global__ void copy_kernel(const float4* __restrict__ in, float4* __restrict__ out, size_t n4) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n4; i += size_t(gridDim.x) * blockDim.x) {
    out[i] = in[i];
  }
}

__global__ void triad_kernel(const float4* __restrict__ a, const float4* __restrict__ b, float4* __restrict__ c,
                             float s, size_t n4) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n4; i += size_t(gridDim.x) * blockDim.x) {
    const float4 x = a[i];
    const float4 y = b[i];
    c[i] = make_float4(x.x + s * y.x, x.y + s * y.y, x.z + s * y.z, x.w + s * y.w);
  }
}

struct Stats {
  double median, p10, p90;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto at = [&](double q) { return v[static_cast<size_t>(q * double(v.size() - 1))]; };
  return {at(0.5), at(0.1), at(0.9)};
}

}  // namespace

int main(int argc, char** argv) {
  // 1 GiB per buffer by default: far beyond any L2 (50 MB on H100).
  const size_t bytes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : (size_t(1) << 30);
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 50;
  const size_t n = bytes / sizeof(float) / 4 * 4;
  const size_t n4 = n / 4;

  cudaDeviceProp prop{};
  CHECK(cudaGetDeviceProperties(&prop, 0));
  int driver = 0, runtime = 0;
  CHECK(cudaDriverGetVersion(&driver));
  CHECK(cudaRuntimeGetVersion(&runtime));

  std::vector<float> ha(n), hb(n);
  std::mt19937 rng(12345);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) {
    ha[i] = dist(rng);
    hb[i] = dist(rng);
  }
  float *a, *b, *c;
  CHECK(cudaMalloc(&a, n * sizeof(float)));
  CHECK(cudaMalloc(&b, n * sizeof(float)));
  CHECK(cudaMalloc(&c, n * sizeof(float)));
  CHECK(cudaMemcpy(a, ha.data(), n * sizeof(float), cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(b, hb.data(), n * sizeof(float), cudaMemcpyHostToDevice));

  const int threads = 256;
  const int blocks = prop.multiProcessorCount * 8;
  const float scale = 0.5f;

  // Check against the host reference before timing anything.
  triad_kernel<<<blocks, threads>>>(reinterpret_cast<float4*>(a), reinterpret_cast<float4*>(b),
                                    reinterpret_cast<float4*>(c), scale, n4);
  CHECK(cudaGetLastError());
  std::vector<float> hc(n);
  CHECK(cudaMemcpy(hc.data(), c, n * sizeof(float), cudaMemcpyDeviceToHost));
  for (size_t i = 0; i < n; i += n / 4096 + 1) {
    if (hc[i] != ha[i] + scale * hb[i]) {
      std::fprintf(stderr, "triad mismatch at %zu\n", i);
      return 1;
    }
  }

  cudaEvent_t start, stop;
  CHECK(cudaEventCreate(&start));
  CHECK(cudaEventCreate(&stop));
  std::vector<double> copy_bw, triad_bw;
  for (int r = 0; r < repeats + 5; ++r) {
    CHECK(cudaEventRecord(start));
    copy_kernel<<<blocks, threads>>>(reinterpret_cast<float4*>(a), reinterpret_cast<float4*>(c), n4);
    CHECK(cudaEventRecord(stop));
    CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CHECK(cudaEventElapsedTime(&ms, start, stop));
    if (r >= 5) copy_bw.push_back(2.0 * double(n) * sizeof(float) / (ms * 1e-3));  // read + write
    CHECK(cudaEventRecord(start));
    triad_kernel<<<blocks, threads>>>(reinterpret_cast<float4*>(a), reinterpret_cast<float4*>(b),
                                      reinterpret_cast<float4*>(c), scale, n4);
    CHECK(cudaEventRecord(stop));
    CHECK(cudaEventSynchronize(stop));
    CHECK(cudaEventElapsedTime(&ms, start, stop));
    if (r >= 5) triad_bw.push_back(3.0 * double(n) * sizeof(float) / (ms * 1e-3));  // two reads + write
  }
  const Stats cs = stats(copy_bw);
  const Stats ts = stats(triad_bw);
  std::printf("gpu: %s\nsms: %d\ndriver: %d\nruntime: %d\nbuffer_bytes: %zu\nrepeats: %d\n", prop.name,
              prop.multiProcessorCount, driver, runtime, n * sizeof(float), repeats);
  std::printf("copy_bytes_per_s: {median: %.4e, p10: %.4e, p90: %.4e}\n", cs.median, cs.p10, cs.p90);
  std::printf("triad_bytes_per_s: {median: %.4e, p10: %.4e, p90: %.4e}\n", ts.median, ts.p10, ts.p90);
  CHECK(cudaFree(a));
  CHECK(cudaFree(b));
  CHECK(cudaFree(c));
  return 0;
}
