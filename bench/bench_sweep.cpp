// Sweep throughput: DeepSeek-V3 variants evaluated per second, the way
// `tcsim sweep` evaluates them (load with --set overrides, then
// study::evaluate_variant), on N threads (docs/performance.md, "Sweep").
//   cost       variants that differ only in prices (owned PUE x energy price):
//              every step simulation after the first is a memo hit
//   hardware   variants that differ in what a step reads (NVLink bandwidth x
//              NIC bandwidth): every variant simulates its own steps
// Usage: bench_sweep [cost|hardware]... [--variants N] [--jobs N] [--depth step|run]
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/parallel.h"
#include "scenarios/loader.h"
#include "study/variant.h"

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// n variants: the cross product of two value lists, as `--vary A --vary B` makes it.
std::vector<std::vector<std::string>> variants(const std::string& mode, int n) {
  std::vector<std::vector<std::string>> out;
  for (int i = 0; static_cast<int>(out.size()) < n; ++i) {
    if (mode == "cost") {
      out.push_back({fmt::format("cost.owned.pue={:.4f}", 1.05 + 0.0001 * (i / 100)),
                     fmt::format("cost.owned.energy_price=${:.4f}/kWh", 0.05 + 0.001 * (i % 100))});
    } else {
      out.push_back({fmt::format("hardware.gpu={{preset: h800, nvlink_bandwidth: {} GB/s}}", 200 + 5 * (i / 20)),
                     fmt::format("hardware.network.nic_bandwidth={} Gb/s", 100 + 20 * (i % 20))});
    }
  }
  return out;
}

void bench(const std::string& mode, int n, int jobs, tcsim::study::RunDepth depth) {
  const auto sets = variants(mode, n);
  tcsim::study::VariantOptions o;
  o.step.jobs = 1;  // variants side by side, each step on one thread
  o.depth = depth;
  std::atomic<int> ok{0}, failed{0};
  const auto t0 = Clock::now();
  tcsim::study::StepMemo memo;  // one per sweep, as tcsim sweep owns one
  tcsim::parallel_for(n, jobs, [&](std::int64_t i) {
    try {
      const auto s = tcsim::scenario::load_scenario("builtin:deepseek-v3", sets[static_cast<std::size_t>(i)]);
      const auto r = tcsim::study::evaluate_variant(s, o, memo);
      (r.status == tcsim::study::VariantStatus::invalid ? failed : ok)++;
      if (r.status == tcsim::study::VariantStatus::invalid && failed == 1) fmt::print("  invalid: {}\n", r.reason);
    } catch (const std::exception& e) {
      if (++failed == 1) fmt::print("  load failed: {}\n", e.what());
    }
  });
  const double s = since(t0);
  fmt::print("{:<9} depth {:<4} {} variants on {} threads in {:.2f} s: {:.1f} variants/s ({} evaluated, {} failed)\n",
             mode, depth == tcsim::study::RunDepth::run ? "run" : "step", n, jobs, s, n / s, ok.load(), failed.load());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> modes;
  int n = 1000, jobs = tcsim::default_jobs();
  auto depth = tcsim::study::RunDepth::run;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--variants" && i + 1 < argc) {
      n = std::stoi(argv[++i]);
    } else if (a == "--jobs" && i + 1 < argc) {
      jobs = std::stoi(argv[++i]);
    } else if (a == "--depth" && i + 1 < argc) {
      depth = std::string(argv[++i]) == "step" ? tcsim::study::RunDepth::step : tcsim::study::RunDepth::run;
    } else if (a == "cost" || a == "hardware") {
      modes.push_back(a);
    } else {
      fmt::print(stderr, "bench_sweep: unknown argument \"{}\"\n", a);
      return 2;
    }
  }
  if (modes.empty()) modes = {"cost", "hardware"};
  for (const std::string& m : modes) bench(m, n, std::max(jobs, 1), depth);
  return 0;
}
