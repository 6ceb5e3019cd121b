// Grouped GEMM family: the routed experts one GPU holds under expert parallelism, each with its own weights and an
// uneven number of tokens, run as one unit: G cuBLASLt products back to back on one stream, captured once into a
// CUDA graph and timed as graph launches (so host launch gaps stay out). If the capture fails the products are
// launched directly and the variant says so ("-stream"). FLOPs and bytes are the sums over groups.
//
// Token counts: a fixed, seeded log-normal spread (sigma 0.6) around the mean, each group a multiple of 16 (as FP8
// grouped kernels pad them) and at least 16, adjusted so the total is exactly groups x mean.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numbers>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "calibrate/kernels/lt_matmul.cuh"

namespace tcsim::kernels {
namespace {

constexpr int64_t kAlign = 16;
constexpr double kSigma = 0.6;

std::vector<int64_t> uneven_tokens(int groups, int64_t mean, uint64_t seed) {
  std::mt19937_64 rng(seed);  // the standard fixes mt19937_64's sequence; the transform below is our own
  const auto unit = [&] { return (double(rng() >> 11) + 0.5) * 0x1p-53; };  // in (0, 1)
  std::vector<double> weight(static_cast<size_t>(groups));
  for (double& w : weight) {
    const double u1 = unit();
    const double u2 = unit();
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);  // Box-Muller
    w = std::exp(kSigma * z);
  }
  const double sum = std::accumulate(weight.begin(), weight.end(), 0.0);
  const int64_t total = int64_t(groups) * mean;
  std::vector<int64_t> tokens(static_cast<size_t>(groups));
  for (size_t g = 0; g < tokens.size(); ++g) {
    const double share = double(total) * weight[g] / sum;
    tokens[g] = std::max<int64_t>(kAlign, std::llround(share / double(kAlign)) * kAlign);
  }
  // Put the rounding difference on the largest group (it stays far above kAlign).
  const int64_t diff = total - std::accumulate(tokens.begin(), tokens.end(), int64_t(0));
  auto largest = std::max_element(tokens.begin(), tokens.end());
  *largest += diff;
  if (*largest < kAlign) throw KitError("uneven_tokens: rounding left a group empty (a bug in the kit)");
  return tokens;
}

size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }

// One input set: all groups' activations, weights and outputs, each group's slice 256-byte aligned (cuBLASLt's
// heuristics assume 256-byte aligned pointers by default).
struct GroupedSet {
  DeviceBuffer<unsigned char> x;
  DeviceBuffer<unsigned char> w;
  DeviceBuffer<unsigned char> y;
  cudaGraphExec_t graph = nullptr;
  GroupedSet() = default;
  GroupedSet(GroupedSet&& o) noexcept
      : x(std::move(o.x)), w(std::move(o.w)), y(std::move(o.y)), graph(std::exchange(o.graph, nullptr)) {}
  GroupedSet& operator=(GroupedSet&&) = delete;
  GroupedSet(const GroupedSet&) = delete;
  GroupedSet& operator=(const GroupedSet&) = delete;
  ~GroupedSet() {
    if (graph != nullptr) cudaGraphExecDestroy(graph);
  }
};

struct ExpertShape {
  const char* name;
  int64_t n;
  int64_t k;
};

void measure_grouped(Bench& bench, const LtContext& lt, GemmType type, const ExpertShape& shape, int groups,
                     int64_t mean, const float* scales) {
  const std::vector<int64_t> tokens =
      uneven_tokens(groups, mean, 0x5EED0000ull + uint64_t(groups) * 4099 + uint64_t(mean));
  const auto n = static_cast<uint64_t>(shape.n);
  const auto k = static_cast<uint64_t>(shape.k);
  const uint64_t eb = element_bytes(type);
  std::vector<size_t> x_off, w_off, y_off;
  size_t x_bytes = 0, w_bytes = 0, y_bytes = 0;
  uint64_t flops = 0, bytes = 0, total = 0;
  for (int64_t t : tokens) {
    const auto m = static_cast<uint64_t>(t);
    x_off.push_back(x_bytes);
    w_off.push_back(w_bytes);
    y_off.push_back(y_bytes);
    x_bytes += align256(eb * m * k);
    w_bytes += align256(eb * n * k);
    y_bytes += align256(sizeof(bf16) * m * n);
    flops += 2 * m * n * k;
    bytes += eb * (m * k + n * k) + sizeof(bf16) * m * n;
    total += m;
  }
  Point point{.family = "grouped_gemm",
              .variant = std::string(shape.name) + "-uneven-" + std::to_string(groups),
              .dtype = dtype_name(type),
              .m = static_cast<int64_t>(total),
              .n = shape.n,
              .k = shape.k,
              .groups = groups,
              .flops = flops,
              .bytes = bytes};
  std::string what = describe(point);
  if (type == GemmType::fp8_e4m3 && (k % 16 != 0 || n % 16 != 0)) {
    bench.skip(what, "FP8 needs K and N multiples of 16");
    return;
  }
  std::vector<std::unique_ptr<LtMatmul>> plans;
  for (int64_t t : tokens) {
    plans.push_back(std::make_unique<LtMatmul>(lt, type, t, shape.n, shape.k, scales, scales + 1));
    if (!plans.back()->supported()) {
      bench.skip(what, "group of " + std::to_string(t) + " tokens: " + plans.back()->reason());
      return;
    }
  }
  const int sets = bench.rotation_sets(x_bytes + w_bytes + y_bytes);
  if (sets < 1) {
    bench.skip(what, "does not fit in free device memory");
    return;
  }
  const cudaStream_t stream = bench.stream();
  std::vector<GroupedSet> data;
  for (int s = 0; s < sets; ++s) {
    GroupedSet set;
    set.x = DeviceBuffer<unsigned char>(x_bytes);
    set.w = DeviceBuffer<unsigned char>(w_bytes);
    set.y = DeviceBuffer<unsigned char>(y_bytes);
    for (size_t g = 0; g < tokens.size(); ++g) {
      fill_operand(type, set.x.get() + x_off[g], uint64_t(tokens[g]) * k, bench.next_seed(), stream);
      fill_operand(type, set.w.get() + w_off[g], n * k, bench.next_seed(), stream);
    }
    data.push_back(std::move(set));
  }
  const auto enqueue_groups = [&](const GroupedSet& set) {
    for (size_t g = 0; g < tokens.size(); ++g) {
      plans[g]->run(set.x.get() + x_off[g], set.w.get() + w_off[g], reinterpret_cast<bf16*>(set.y.get() + y_off[g]),
                    stream);
    }
  };
  // Capture each set's products into a graph; on any failure fall back to direct launches.
  bool graphs = true;
  for (GroupedSet& set : data) {
    TCSIM_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
    for (size_t g = 0; g < tokens.size() && status == CUBLAS_STATUS_SUCCESS; ++g) {
      status = plans[g]->try_run(set.x.get() + x_off[g], set.w.get() + w_off[g],
                                 reinterpret_cast<bf16*>(set.y.get() + y_off[g]), stream);
    }
    cudaGraph_t graph = nullptr;
    const cudaError_t end = cudaStreamEndCapture(stream, &graph);
    cudaError_t inst = cudaSuccess;
    if (status == CUBLAS_STATUS_SUCCESS && end == cudaSuccess) {
      inst = cudaGraphInstantiate(&set.graph, graph, 0);
      if (inst != cudaSuccess) set.graph = nullptr;
    }
    if (graph != nullptr) cudaGraphDestroy(graph);
    if (status != CUBLAS_STATUS_SUCCESS) {
      (void)cudaGetLastError();
      bench.skip(what, std::string("cuBLASLt refused the launch: ") + cublasLtGetStatusName(status));
      return;
    }
    if (end != cudaSuccess || inst != cudaSuccess) {
      std::fprintf(stderr, "  %s: graph capture failed (end %s, instantiate %s); launching directly\n", what.c_str(),
                   cudaGetErrorName(end), cudaGetErrorName(inst));
      (void)cudaGetLastError();  // capture errors are not sticky; clear the last-error slot
      graphs = false;
      break;
    }
  }
  if (!graphs) {
    for (GroupedSet& set : data) {
      if (set.graph != nullptr) TCSIM_CUDA_CHECK(cudaGraphExecDestroy(set.graph));
      set.graph = nullptr;
    }
    point.variant += "-stream";
    what = describe(point);
  }
  const auto launch = [&](int s) {
    const GroupedSet& set = data[size_t(s)];
    if (graphs) {
      TCSIM_CUDA_CHECK(cudaGraphLaunch(set.graph, stream));
    } else {
      enqueue_groups(set);
    }
  };
  // Checked run on poisoned outputs: every group's output fully written, sampled elements against float64.
  const GroupedSet& first = data[0];
  poison(first.y.get(), first.y.bytes(), stream);
  launch(0);
  TCSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  ErrorNorm error;
  for (size_t g = 0; g < tokens.size(); ++g) {
    const auto m = static_cast<uint64_t>(tokens[g]);
    const auto* y = reinterpret_cast<const bf16*>(first.y.get() + y_off[g]);
    expect_all_written(what + " group " + std::to_string(g), count_nonfinite(y, m * n, stream), m * n);
    check_linear_sample(type, first.x.get() + x_off[g], first.w.get() + w_off[g], y, tokens[g], shape.n, shape.k, 4, 8,
                        error);
  }
  expect_close(what, error, kBf16Tolerance);

  std::string sizes;
  for (int64_t t : tokens) sizes += (sizes.empty() ? "" : " ") + std::to_string(t);
  std::fprintf(stderr, "  %s tokens per group: %s\n", what.c_str(), sizes.c_str());
  // Direct launches need a longer spin ahead of the start event: the host issues G products (a few us each).
  const double spin_us = graphs ? 50.0 : 50.0 + 10.0 * groups;
  bench.record(point, bench.time(sets, launch, spin_us));
}

}  // namespace

void run_grouped_gemm(Bench& bench) {
  const LtContext lt;
  const float host_scales[2] = {kFp8XScale, kFp8WScale};
  DeviceBuffer<float> scales(2);
  TCSIM_CUDA_CHECK(cudaMemcpy(scales.get(), host_scales, sizeof(host_scales), cudaMemcpyHostToDevice));
  // DeepSeek-V3's routed expert (V3-TR section 4.2): gate and up fused 7168 -> 2 x 2048, down 2048 -> 7168.
  const ExpertShape shapes[] = {{"moe-up", 4096, 7168}, {"moe-down", 7168, 2048}};
  // Experts per GPU: 256 routed experts over EP32 (8) and EP8 (32).
  const int group_counts[] = {8, 32};
  const std::vector<int64_t> means =
      bench.quick() ? std::vector<int64_t>{128, 512} : std::vector<int64_t>{64, 128, 256, 512, 1024};
  std::vector<GemmType> types = {GemmType::bf16};
  if (bench.hopper_or_newer()) {
    types.push_back(GemmType::fp8_e4m3);
  } else {
    bench.skip("grouped_gemm fp8_e4m3 (all shapes)", "FP8 E4M3 matrix products need compute capability 9.0 or newer");
  }
  for (GemmType type : types) {
    for (const ExpertShape& shape : shapes) {
      for (int groups : group_counts) {
        for (int64_t mean : means) measure_grouped(bench, lt, type, shape, groups, mean, scales.get());
      }
    }
  }
}

}  // namespace tcsim::kernels
