// tcsim-calibrate-kernels: runs the calibration kit on one GPU and writes raw timing samples as CSV
// (docs/calibration-kernels.md). Exit codes: 0 done, 1 a CUDA/cuBLASLt error or a failed verification (no CSV is
// written), 2 bad command line.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include <cublasLt.h>

#include "calibrate/kernels/kit.cuh"

namespace tcsim::kernels {
namespace {

constexpr const char* kUsage =
    "usage: tcsim-calibrate-kernels --out SAMPLES.csv [--quick] [--families gemm,grouped_gemm,memory,attention]\n"
    "                               [--repeats N] [--device I]\n"
    "  --out PATH      raw samples CSV, written atomically (PATH.tmp, then renamed)\n"
    "  --quick         a smaller grid of shapes (about 2 minutes on an H100)\n"
    "  --families L    comma-separated subset to run (default: all four)\n"
    "  --repeats N     timed launches per point after warm-up (default 20)\n"
    "  --device I      CUDA device index (default 0)\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int parse_int(const std::string& flag, const std::string& text, int lo, int hi) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < lo || value > hi) {
    throw UsageError(flag + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                     "], got \"" + text + "\"");
  }
  return static_cast<int>(value);
}

std::vector<Family> parse_families(const std::string& text) {
  std::vector<Family> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (name == "gemm") {
      out.push_back(Family::gemm);
    } else if (name == "grouped_gemm") {
      out.push_back(Family::grouped_gemm);
    } else if (name == "memory") {
      out.push_back(Family::memory);
    } else if (name == "attention") {
      out.push_back(Family::attention);
    } else {
      throw UsageError("--families: unknown family \"" + name + "\" (expected gemm, grouped_gemm, memory, attention)");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Options parse(int argc, char** argv) {
  Options opt;
  for (int i = 0; i < argc; ++i) opt.command += (i == 0 ? "" : " ") + std::string(argv[i]);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--out") {
      opt.out = value();
    } else if (arg == "--quick") {
      opt.quick = true;
    } else if (arg == "--families") {
      opt.families = parse_families(value());
    } else if (arg == "--repeats") {
      opt.repeats = parse_int(arg, value(), 1, 100000);
    } else if (arg == "--device") {
      opt.device = parse_int(arg, value(), 0, 1023);
    } else {
      throw UsageError("unknown argument \"" + arg + "\"");
    }
  }
  if (opt.out.empty()) throw UsageError("--out is required");
  return opt;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

DeviceInfo describe_device(int device) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    throw KitError(std::string("no usable CUDA device: ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) +
                   ")");
  }
  if (device >= count) {
    throw KitError("--device " + std::to_string(device) + ": this machine has " + std::to_string(count) +
                   " CUDA device(s)");
  }
  TCSIM_CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp prop{};
  TCSIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  DeviceInfo d;
  d.name = prop.name;
  d.sms = prop.multiProcessorCount;
  int khz = 0;
  TCSIM_CUDA_CHECK(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, device));
  d.sm_clock_mhz = khz / 1000;
  TCSIM_CUDA_CHECK(cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, device));
  d.memory_clock_mhz = khz / 1000;
  d.l2_bytes = prop.l2CacheSize;
  d.hbm_bytes = static_cast<int64_t>(prop.totalGlobalMem);
  d.cc_major = prop.major;
  d.cc_minor = prop.minor;
  d.smem_optin_bytes = static_cast<int64_t>(prop.sharedMemPerBlockOptin);
  TCSIM_CUDA_CHECK(cudaDriverGetVersion(&d.driver));
  TCSIM_CUDA_CHECK(cudaRuntimeGetVersion(&d.runtime));
  d.cublaslt = static_cast<int64_t>(cublasLtGetVersion());
  d.host = host_name();
  d.date = utc_now();
  return d;
}

// Fails before any GPU time is spent when the output cannot be written.
void check_writable(const std::string& path) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) throw UsageError("--out: cannot write " + tmp + ": " + std::strerror(errno));
  std::fclose(f);
  std::remove(tmp.c_str());
}

const char* family_name(Family f) {
  switch (f) {
    case Family::gemm: return "gemm";
    case Family::grouped_gemm: return "grouped_gemm";
    case Family::memory: return "memory";
    case Family::attention: return "attention";
  }
  return "?";
}

int run(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  check_writable(opt.out);
  Bench bench(opt, describe_device(opt.device));
  const DeviceInfo& d = bench.device();
  std::fprintf(stderr,
               "%s: %d SMs, compute capability %d.%d, L2 %lld bytes, %lld bytes of memory; driver %d, runtime %d\n",
               d.name.c_str(), d.sms, d.cc_major, d.cc_minor, static_cast<long long>(d.l2_bytes),
               static_cast<long long>(d.hbm_bytes), d.driver, d.runtime);
  const auto begin = std::chrono::steady_clock::now();
  for (Family f : opt.families) {
    std::fprintf(stderr, "== %s\n", family_name(f));
    switch (f) {
      case Family::gemm: run_gemm(bench); break;
      case Family::grouped_gemm: run_grouped_gemm(bench); break;
      case Family::memory: run_memory(bench); break;
      case Family::attention: run_attention(bench); break;
    }
  }
  write_samples_csv(bench, opt.out);
  print_summary(bench);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::printf("\n%zu samples of %zu points written to %s in %.0f s\n", bench.samples().size(), bench.points().size(),
              opt.out.c_str(), elapsed);
  return 0;
}

}  // namespace
}  // namespace tcsim::kernels

int main(int argc, char** argv) {
  using namespace tcsim::kernels;
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "tcsim-calibrate-kernels: %s\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tcsim-calibrate-kernels: %s\n", e.what());
    return 1;
  }
}
