// Memory-bound family: HBM copy and triad, and the shapes of DeepSeek-V3's memory-bound kernels (RMSNorm over the
// hidden size, SwiGLU over the expert and dense intermediate sizes, the FP8 cast with 1x128 block scaling).
//
// Bytes are counted minimally: every input element read once plus every output element written once (weights and
// scales included). All accesses are 16 bytes per thread (8 bf16), coalesced across the warp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "calibrate/kernels/kit.cuh"

namespace tcsim::kernels {
namespace {

constexpr int kThreads = 256;

// A grid of a few resident blocks per SM, walked with a grid-stride loop.
int grid_for(const Bench& bench, size_t work_items) {
  const size_t resident = size_t(bench.device().sms) * (2048 / kThreads);
  const size_t needed = (work_items + kThreads - 1) / kThreads;
  return static_cast<int>(std::max<size_t>(1, std::min(resident, needed)));
}

// out = in, four independent 16-byte loads in flight per thread.
__global__ void copy_kernel(const uint4* __restrict__ in, uint4* __restrict__ out, size_t vecs) {
  const size_t stride = size_t(gridDim.x) * blockDim.x;
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  for (; i + 3 * stride < vecs; i += 4 * stride) {
    const uint4 a = in[i];
    const uint4 b = in[i + stride];
    const uint4 c = in[i + 2 * stride];
    const uint4 d = in[i + 3 * stride];
    out[i] = a;
    out[i + stride] = b;
    out[i + 2 * stride] = c;
    out[i + 3 * stride] = d;
  }
  for (; i < vecs; i += stride) out[i] = in[i];
}

// c = a + s * b (STREAM triad) in bf16 with fp32 arithmetic.
__global__ void triad_kernel(const uint4* __restrict__ a, const uint4* __restrict__ b, uint4* __restrict__ c, float s,
                             size_t vecs) {
  const size_t stride = size_t(gridDim.x) * blockDim.x;
  size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x;
  for (; i + stride < vecs; i += 2 * stride) {
    const uint4 a0 = a[i];
    const uint4 b0 = b[i];
    const uint4 a1 = a[i + stride];
    const uint4 b1 = b[i + stride];
    float x0[8], y0[8], x1[8], y1[8];
    unpack_bf16x8(a0, x0);
    unpack_bf16x8(b0, y0);
    unpack_bf16x8(a1, x1);
    unpack_bf16x8(b1, y1);
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      x0[j] += s * y0[j];
      x1[j] += s * y1[j];
    }
    c[i] = pack_bf16x8(x0);
    c[i + stride] = pack_bf16x8(x1);
  }
  for (; i < vecs; i += stride) {
    float x[8], y[8];
    unpack_bf16x8(a[i], x);
    unpack_bf16x8(b[i], y);
#pragma unroll
    for (int j = 0; j < 8; ++j) x[j] += s * y[j];
    c[i] = pack_bf16x8(x);
  }
}

// y = x * rsqrt(mean(x^2) + eps) * weight, one block per row; the row stays in registers between the reduction and
// the output, so x is read once.
template <int kBlock, int kVecs>
__global__ __launch_bounds__(kBlock) void rmsnorm_kernel(const bf16* __restrict__ x, const bf16* __restrict__ weight,
                                                         bf16* __restrict__ y, float eps) {
  constexpr int kWidth = kBlock * kVecs * 8;
  const size_t row = blockIdx.x;
  const uint4* xr = reinterpret_cast<const uint4*>(x + row * kWidth);
  uint4 v[kVecs];
  float sumsq = 0.0f;
#pragma unroll
  for (int i = 0; i < kVecs; ++i) v[i] = xr[threadIdx.x + i * kBlock];
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    float f[8];
    unpack_bf16x8(v[i], f);
#pragma unroll
    for (int j = 0; j < 8; ++j) sumsq += f[j] * f[j];
  }
  for (int offset = 16; offset > 0; offset /= 2) sumsq += __shfl_xor_sync(0xFFFFFFFFu, sumsq, offset);
  __shared__ float partial[kBlock / 32];
  if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = sumsq;
  __syncthreads();
  float total = 0.0f;
#pragma unroll
  for (int w = 0; w < kBlock / 32; ++w) total += partial[w];
  const float rstd = rsqrtf(total / float(kWidth) + eps);
  const uint4* wr = reinterpret_cast<const uint4*>(weight);
  uint4* yr = reinterpret_cast<uint4*>(y + row * kWidth);
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    float f[8], w[8];
    unpack_bf16x8(v[i], f);
    unpack_bf16x8(wr[threadIdx.x + i * kBlock], w);
#pragma unroll
    for (int j = 0; j < 8; ++j) f[j] = f[j] * rstd * w[j];
    yr[threadIdx.x + i * kBlock] = pack_bf16x8(f);
  }
}

// out[r, :] = silu(in[r, :width]) * in[r, width:]: gate and up projections side by side, as a fused gate+up GEMM
// writes them.
__global__ void swiglu_kernel(const bf16* __restrict__ in, bf16* __restrict__ out, size_t rows, int width) {
  const size_t per_row = size_t(width) / 8;
  const size_t vecs = rows * per_row;
  for (size_t v = blockIdx.x * size_t(blockDim.x) + threadIdx.x; v < vecs; v += size_t(gridDim.x) * blockDim.x) {
    const size_t row = v / per_row;
    const size_t col = (v % per_row) * 8;
    const bf16* gate = in + row * 2 * size_t(width) + col;
    const uint4 g = *reinterpret_cast<const uint4*>(gate);
    const uint4 u = *reinterpret_cast<const uint4*>(gate + width);
    float gf[8], uf[8];
    unpack_bf16x8(g, gf);
    unpack_bf16x8(u, uf);
#pragma unroll
    for (int j = 0; j < 8; ++j) gf[j] = gf[j] / (1.0f + __expf(-gf[j])) * uf[j];
    reinterpret_cast<uint4*>(out + row * size_t(width) + col)[0] = pack_bf16x8(gf);
  }
}

// DeepSeek-V3's activation quantisation (V3-TR section 3.3.2): per 1x128 block, scale = absmax / 448 and
// q = e4m3(x / scale); scales stored fp32, one per block, row-major [rows, width / 128]. Each thread owns 16
// consecutive elements (two 16-byte loads, one 16-byte store), 8 threads one block; `chunks` (16-element units) and
// the grid stride are multiples of 32, so every lane of a warp runs the same iterations and the shuffles are whole.
__global__ void fp8_cast_kernel(const bf16* __restrict__ x, fp8* __restrict__ q, float* __restrict__ scales,
                                size_t chunks) {
  for (size_t c = blockIdx.x * size_t(blockDim.x) + threadIdx.x; c < chunks; c += size_t(gridDim.x) * blockDim.x) {
    const uint4* src = reinterpret_cast<const uint4*>(x) + 2 * c;
    const uint4 v0 = src[0];
    const uint4 v1 = src[1];
    float f[16];
    unpack_bf16x8(v0, f);
    unpack_bf16x8(v1, f + 8);
    float amax = 0.0f;
#pragma unroll
    for (int j = 0; j < 16; ++j) amax = fmaxf(amax, fabsf(f[j]));
    amax = fmaxf(amax, __shfl_xor_sync(0xFFFFFFFFu, amax, 1));
    amax = fmaxf(amax, __shfl_xor_sync(0xFFFFFFFFu, amax, 2));
    amax = fmaxf(amax, __shfl_xor_sync(0xFFFFFFFFu, amax, 4));
    const float scale = amax > 0.0f ? amax / 448.0f : 1.0f;
    uint32_t words[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const uint32_t lo =
          __nv_cvt_float2_to_fp8x2(make_float2(f[4 * j] / scale, f[4 * j + 1] / scale), __NV_SATFINITE, __NV_E4M3);
      const uint32_t hi =
          __nv_cvt_float2_to_fp8x2(make_float2(f[4 * j + 2] / scale, f[4 * j + 3] / scale), __NV_SATFINITE, __NV_E4M3);
      words[j] = lo | (hi << 16);
    }
    reinterpret_cast<uint4*>(q)[c] = make_uint4(words[0], words[1], words[2], words[3]);
    if (c % 8 == 0) scales[c / 8] = scale;
  }
}

std::vector<float> to_floats(const std::vector<bf16>& v) {
  std::vector<float> f(v.size());
  for (size_t i = 0; i < v.size(); ++i) f[i] = bf16_value(v[i]);
  return f;
}

Point memory_point(const char* family, const char* variant, size_t m, size_t n, uint64_t bytes) {
  return Point{.family = family,
               .variant = variant,
               .dtype = "bf16",
               .m = static_cast<int64_t>(m),
               .n = static_cast<int64_t>(n),
               .k = 0,
               .groups = 1,
               .flops = 0,
               .bytes = bytes};
}

// ---------------------------------------------------------------------------------------------------------------

void measure_copy(Bench& bench, size_t buffer_bytes) {
  const size_t elements = buffer_bytes / sizeof(bf16) / 8 * 8;
  const size_t vecs = elements / 8;
  const Point point = memory_point("hbm_copy", "vec16", elements, 1, 2 * elements * sizeof(bf16));
  if (bench.rotation_sets(2 * elements * sizeof(bf16)) < 1) {
    bench.skip(describe(point), "does not fit in free device memory");
    return;
  }
  DeviceBuffer<bf16> in(elements);
  DeviceBuffer<bf16> out(elements);
  const cudaStream_t stream = bench.stream();
  fill_uniform(in.get(), elements, bench.next_seed(), -1.0f, 1.0f, stream);
  poison(out.get(), out.bytes(), stream);
  const auto launch = [&] {
    copy_kernel<<<grid_for(bench, vecs), kThreads, 0, stream>>>(reinterpret_cast<const uint4*>(in.get()),
                                                                reinterpret_cast<uint4*>(out.get()), vecs);
    TCSIM_LAUNCH_CHECK();
  };
  launch();
  TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  const std::string what = describe(point);
  expect_all_written(what, count_nonfinite(out.get(), elements, stream), elements);
  ErrorNorm error;
  for (size_t at : spread_indices(elements - 4096, 64)) {
    const std::vector<bf16> a = download(in.get(), at, 4096);
    const std::vector<bf16> b = download(out.get(), at, 4096);
    for (size_t i = 0; i < a.size(); ++i) error.add(bf16_value(b[i]), bf16_value(a[i]));
  }
  expect_close(what, error, 0.0);  // a copy is exact
  // Buffers of 1 GiB and more are far beyond L2: one set.
  bench.record(point, bench.time(1, [&](int) { launch(); }));
}

void measure_triad(Bench& bench, size_t buffer_bytes) {
  const size_t elements = buffer_bytes / sizeof(bf16) / 8 * 8;
  const size_t vecs = elements / 8;
  const float s = 1.75f;
  const Point point = memory_point("hbm_triad", "vec16", elements, 1, 3 * elements * sizeof(bf16));
  if (bench.rotation_sets(3 * elements * sizeof(bf16)) < 1) {
    bench.skip(describe(point), "does not fit in free device memory");
    return;
  }
  DeviceBuffer<bf16> a(elements);
  DeviceBuffer<bf16> b(elements);
  DeviceBuffer<bf16> c(elements);
  const cudaStream_t stream = bench.stream();
  fill_uniform(a.get(), elements, bench.next_seed(), -1.0f, 1.0f, stream);
  fill_uniform(b.get(), elements, bench.next_seed(), -1.0f, 1.0f, stream);
  poison(c.get(), c.bytes(), stream);
  const auto launch = [&] {
    triad_kernel<<<grid_for(bench, vecs / 2 + 1), kThreads, 0, stream>>>(reinterpret_cast<const uint4*>(a.get()),
                                                                         reinterpret_cast<const uint4*>(b.get()),
                                                                         reinterpret_cast<uint4*>(c.get()), s, vecs);
    TCSIM_LAUNCH_CHECK();
  };
  launch();
  TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  const std::string what = describe(point);
  expect_all_written(what, count_nonfinite(c.get(), elements, stream), elements);
  ErrorNorm error;
  for (size_t at : spread_indices(elements - 4096, 64)) {
    const std::vector<float> ha = to_floats(download(a.get(), at, 4096));
    const std::vector<float> hb = to_floats(download(b.get(), at, 4096));
    const std::vector<float> hc = to_floats(download(c.get(), at, 4096));
    for (size_t i = 0; i < ha.size(); ++i) error.add(hc[i], double(ha[i]) + double(s) * double(hb[i]));
  }
  expect_close(what, error, kBf16Tolerance);
  bench.record(point, bench.time(1, [&](int) { launch(); }));
}

// DeepSeek-V3 hidden size (V3-TR section 4.2) and RMSNorm epsilon (rms_norm_eps = 1e-6 in the model's public
// config.json).
constexpr int kHidden = 7168;
constexpr float kRmsEps = 1e-6f;
constexpr int kRmsBlock = 128;
constexpr int kRmsVecs = kHidden / (kRmsBlock * 8);
static_assert(kRmsVecs * kRmsBlock * 8 == kHidden);

void measure_rmsnorm(Bench& bench, size_t rows) {
  const size_t elements = rows * kHidden;
  const uint64_t bytes = 2 * elements * sizeof(bf16) + kHidden * sizeof(bf16);
  const Point point = memory_point("rmsnorm", "v3-hidden", rows, kHidden, bytes);
  const int sets = bench.rotation_sets(bytes);
  if (sets < 1) {
    bench.skip(describe(point), "does not fit in free device memory");
    return;
  }
  const cudaStream_t stream = bench.stream();
  DeviceBuffer<bf16> weight(kHidden);
  fill_uniform(weight.get(), kHidden, bench.next_seed(), 0.5f, 1.5f, stream);
  std::vector<DeviceBuffer<bf16>> x;
  std::vector<DeviceBuffer<bf16>> y;
  for (int s = 0; s < sets; ++s) {
    x.emplace_back(elements);
    y.emplace_back(elements);
    fill_uniform(x.back().get(), elements, bench.next_seed(), -2.0f, 2.0f, stream);
  }
  const auto launch = [&](int s) {
    rmsnorm_kernel<kRmsBlock, kRmsVecs>
        <<<static_cast<unsigned>(rows), kRmsBlock, 0, stream>>>(x[s].get(), weight.get(), y[s].get(), kRmsEps);
    TCSIM_LAUNCH_CHECK();
  };
  poison(y[0].get(), y[0].bytes(), stream);
  launch(0);
  TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  const std::string what = describe(point);
  expect_all_written(what, count_nonfinite(y[0].get(), elements, stream), elements);
  const std::vector<float> w = to_floats(download(weight.get(), 0, kHidden));
  ErrorNorm error;
  for (size_t r : spread_indices(rows, 16)) {
    const std::vector<float> hx = to_floats(download(x[0].get(), r * kHidden, kHidden));
    const std::vector<float> hy = to_floats(download(y[0].get(), r * kHidden, kHidden));
    double sumsq = 0.0;
    for (float v : hx) sumsq += double(v) * double(v);
    const double rstd = 1.0 / std::sqrt(sumsq / kHidden + double(kRmsEps));
    for (size_t i = 0; i < hx.size(); ++i) error.add(hy[i], double(hx[i]) * rstd * double(w[i]));
  }
  expect_close(what, error, kBf16Tolerance);
  bench.record(point, bench.time(sets, launch));
}

void measure_swiglu(Bench& bench, const char* variant, size_t rows, int width) {
  const size_t out_elements = rows * size_t(width);
  const uint64_t bytes = 3 * out_elements * sizeof(bf16);  // read gate and up, write the product
  const Point point = memory_point("swiglu", variant, rows, size_t(width), bytes);
  const int sets = bench.rotation_sets(bytes);
  if (sets < 1) {
    bench.skip(describe(point), "does not fit in free device memory");
    return;
  }
  const cudaStream_t stream = bench.stream();
  std::vector<DeviceBuffer<bf16>> in;
  std::vector<DeviceBuffer<bf16>> out;
  for (int s = 0; s < sets; ++s) {
    in.emplace_back(2 * out_elements);
    out.emplace_back(out_elements);
    fill_uniform(in.back().get(), 2 * out_elements, bench.next_seed(), -4.0f, 4.0f, stream);
  }
  const int grid = grid_for(bench, out_elements / 8);
  const auto launch = [&](int s) {
    swiglu_kernel<<<grid, kThreads, 0, stream>>>(in[s].get(), out[s].get(), rows, width);
    TCSIM_LAUNCH_CHECK();
  };
  poison(out[0].get(), out[0].bytes(), stream);
  launch(0);
  TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  const std::string what = describe(point);
  expect_all_written(what, count_nonfinite(out[0].get(), out_elements, stream), out_elements);
  ErrorNorm error;
  for (size_t r : spread_indices(rows, 16)) {
    const std::vector<float> hin = to_floats(download(in[0].get(), r * 2 * size_t(width), 2 * size_t(width)));
    const std::vector<float> hout = to_floats(download(out[0].get(), r * size_t(width), size_t(width)));
    for (int i = 0; i < width; ++i) {
      const double g = hin[size_t(i)];
      const double u = hin[size_t(width + i)];
      error.add(hout[size_t(i)], g / (1.0 + std::exp(-g)) * u);
    }
  }
  expect_close(what, error, kBf16Tolerance);
  bench.record(point, bench.time(sets, launch));
}

void measure_fp8_cast(Bench& bench, size_t rows) {
  constexpr int kBlock = 128;  // 1x128 activation tiles (V3-TR section 3.3.2)
  const size_t elements = rows * kHidden;
  const size_t blocks = elements / kBlock;
  const size_t chunks = elements / 16;
  if (chunks % 32 != 0) throw KitError("fp8_cast needs rows x 7168 / 16 to be a multiple of 32 (a bug in the kit)");
  const uint64_t bytes = elements * sizeof(bf16) + elements * sizeof(fp8) + blocks * sizeof(float);
  const Point point = memory_point("fp8_cast", "v3-1x128", rows, kHidden, bytes);
  const int sets = bench.rotation_sets(bytes);
  if (sets < 1) {
    bench.skip(describe(point), "does not fit in free device memory");
    return;
  }
  const cudaStream_t stream = bench.stream();
  std::vector<DeviceBuffer<bf16>> x;
  std::vector<DeviceBuffer<fp8>> q;
  std::vector<DeviceBuffer<float>> scales;
  for (int s = 0; s < sets; ++s) {
    x.emplace_back(elements);
    q.emplace_back(elements);
    scales.emplace_back(blocks);
    fill_uniform(x.back().get(), elements, bench.next_seed(), -3.0f, 3.0f, stream);
  }
  const int grid = grid_for(bench, chunks);  // grid x 256 threads: a multiple of 32
  const auto launch = [&](int s) {
    fp8_cast_kernel<<<grid, kThreads, 0, stream>>>(x[s].get(), q[s].get(), scales[s].get(), chunks);
    TCSIM_LAUNCH_CHECK();
  };
  poison(q[0].get(), q[0].bytes(), stream);
  poison(scales[0].get(), scales[0].bytes(), stream);
  launch(0);
  TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  const std::string what = describe(point);
  expect_all_written(what + " (values)", count_nonfinite(q[0].get(), elements, stream), elements);
  expect_all_written(what + " (scales)", count_nonfinite(scales[0].get(), blocks, stream), blocks);
  // Per element: |q * scale - x| within half an E4M3 step: 2^-4 relative for normal values (3 mantissa bits), plus
  // 2^-10 * scale absolute for subnormals (spacing 2^-9); the check allows 2^-9 * scale. The scale must equal
  // absmax / 448 computed the same way on the host.
  size_t checked = 0;
  for (size_t r : spread_indices(rows, 16)) {
    const std::vector<float> hx = to_floats(download(x[0].get(), r * kHidden, kHidden));
    const std::vector<fp8> hq = download(q[0].get(), r * kHidden, kHidden);
    const std::vector<float> hs = download(scales[0].get(), r * (kHidden / kBlock), kHidden / kBlock);
    for (int b = 0; b < kHidden / kBlock; ++b) {
      float amax = 0.0f;
      for (int i = 0; i < kBlock; ++i) amax = std::fmax(amax, std::fabs(hx[size_t(b * kBlock + i)]));
      const float scale = amax > 0.0f ? amax / 448.0f : 1.0f;
      if (!(std::fabs(hs[size_t(b)] - scale) <= 1e-6f * scale)) {
        char buf[160];
        std::snprintf(buf, sizeof(buf), "verification failed: %s: row %zu block %d scale %.8e, expected %.8e",
                      what.c_str(), r, b, double(hs[size_t(b)]), double(scale));
        throw KitError(buf);
      }
      for (int i = 0; i < kBlock; ++i) {
        const size_t at = size_t(b * kBlock + i);
        const double deq = double(e4m3_value(hq[at])) * double(hs[size_t(b)]);
        const double bound = 0x1p-4 * std::fabs(double(hx[at])) + 0x1p-9 * double(scale);
        if (!(std::fabs(deq - double(hx[at])) <= bound)) {
          char buf[200];
          std::snprintf(buf, sizeof(buf), "verification failed: %s: row %zu element %zu dequantised %.6e, input %.6e",
                        what.c_str(), r, at, deq, double(hx[at]));
          throw KitError(buf);
        }
        ++checked;
      }
    }
  }
  if (checked == 0) throw KitError("verification of " + what + " checked no elements (a bug in the kit)");
  bench.record(point, bench.time(sets, launch));
}

}  // namespace

void run_memory(Bench& bench) {
  const bool quick = bench.quick();
  const std::vector<size_t> hbm_gib = quick ? std::vector<size_t>{1} : std::vector<size_t>{1, 2, 4};
  for (size_t gib : hbm_gib) measure_copy(bench, gib << 30);
  for (size_t gib : hbm_gib) measure_triad(bench, gib << 30);

  // Rows: tokens of a micro-batch (4096 for one sequence of V3's 4096) and below and above it.
  const std::vector<size_t> rows =
      quick ? std::vector<size_t>{4096, 65536} : std::vector<size_t>{1024, 4096, 16384, 65536};
  for (size_t r : rows) measure_rmsnorm(bench, r);
  // SwiGLU widths: the MoE expert intermediate 2048 and the dense FFN intermediate 18432 (CONFIG moe_inter_dim,
  // inter_dim).
  for (size_t r : rows) measure_swiglu(bench, "v3-expert", r, 2048);
  const std::vector<size_t> dense_rows = quick ? std::vector<size_t>{4096} : std::vector<size_t>{1024, 4096, 16384};
  for (size_t r : dense_rows) measure_swiglu(bench, "v3-dense", r, 18432);
  for (size_t r : rows) measure_fp8_cast(bench, r);
}

}  // namespace tcsim::kernels
