// Benchmarks of the discrete-event engine and the step simulation (plain
// executable, run by hand; docs/performance.md "Step" records the results):
//   engine     events per second on a synthetic pipeline graph (compute only)
//   symmetric  one DeepSeek-V3 step, one pipeline of 16 GPUs (target < 0.2 s)
//   full       one DeepSeek-V3 step, all 2048 GPUs (target < 10 s, < 4 GiB)
//   *-fixed    the same step with collectives as fixed delays (each timed alone)
//   scale:N:symmetric, scale:N:full
//              DeepSeek-V3's model and plan (PP16 DualPipe, EP64 or dp if
//              smaller) on N GPUs, 120 micro-batches per pipeline as on
//              DeepSeek's 2048, one phase (docs/performance.md, "Scaling")
// Usage: bench_step [engine|symmetric|full|symmetric-fixed|full-fixed|scale:N:MODE]...
//   (default: engine, symmetric, full, in that order)
// Peak memory is the process's maximum resident set (getrusage), so modes run
// in increasing size.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/schedule.h"
#include "scenarios/loader.h"
#include "sim/pipeline_tasks.h"
#include "sim/step.h"

namespace {

using Clock = std::chrono::steady_clock;
using tcsim::SimTime;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double peak_rss_gib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) * 1024.0 / (1024.0 * 1024.0 * 1024.0);  // ru_maxrss is KiB on Linux
}

// 16 copies of a 16-rank DualPipe pipeline of 512 micro-batches with unit
// chunks: about 400K compute tasks and markers on 256 streams.
void bench_engine() {
  constexpr int kPipelines = 16, kRanks = 16, kMicroBatches = 512;
  const tcsim::model::Pipeline p =
      tcsim::model::make_pipeline(tcsim::model::Schedule::dualpipe, kRanks, 1, kMicroBatches);
  const auto t0 = Clock::now();
  std::int64_t events = 0, tasks = 0;
  double run_s = 0;
  for (int i = 0; i < kPipelines; ++i) {
    tcsim::sim::Engine e(kRanks, {});
    const SimTime unit = SimTime::ns(1000 + i);
    tcsim::sim::add_pipeline_tasks(e, p, {unit, unit, unit});
    const auto r0 = Clock::now();
    e.run();
    run_s += since(r0);
    events += e.events();
    tasks += e.task_count();
  }
  fmt::print("engine     {} tasks, {} events in {:.3f} s of run(): {:.2f} M events/s (build+run {:.3f} s)\n", tasks,
             events, run_s, static_cast<double>(events) / run_s / 1e6, since(t0));
}

void bench_step(tcsim::sim::Fidelity fidelity, bool shared = true, int gpus = 0) {
  const auto t0 = Clock::now();
  std::vector<std::string> sets;
  if (gpus > 0) {
    const int dp = gpus / 16;
    sets = {fmt::format("hardware.nodes={}", gpus / 8), fmt::format("parallelism.ep={}", std::min(64, dp)),
            fmt::format("training.phases=[{{name: pre-training, tokens: 1T, batch: {}}}]", dp * 120)};
  }
  const tcsim::scenario::Scenario s = tcsim::scenario::load_scenario("builtin:deepseek-v3", sets);
  const double load_s = since(t0);
  tcsim::sim::StepOptions o;
  o.fidelity = fidelity;
  o.shared_collectives = shared;
  const auto b0 = Clock::now();
  tcsim::sim::StepSimulation sim(tcsim::sim::step_shape(s), o);
  const double build_s = since(b0);
  const auto r0 = Clock::now();
  const tcsim::sim::StepResult r = sim.run();
  const double run_s = since(r0);
  fmt::print("{:<10}{} DeepSeek-V3 step {:.4f} s simulated ({:.0f} tokens/s/GPU): {} GPUs, {} tasks, {} events\n",
             fidelity == tcsim::sim::Fidelity::full ? "full" : "symmetric", shared ? "" : " (fixed)", r.time.value(),
             r.tokens_per_second_per_gpu, r.simulated_gpus, r.tasks, r.events);
  fmt::print(
      "           load {:.3f} s + build {:.3f} s + run {:.3f} s = {:.3f} s; {:.2f} M events/s; peak RSS {:.3f} GiB\n",
      load_s, build_s, run_s, load_s + build_s + run_s, static_cast<double>(r.events) / run_s / 1e6, peak_rss_gib());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> modes(argv + 1, argv + argc);
  if (modes.empty()) modes = {"engine", "symmetric", "full"};
  for (const std::string& m : modes) {
    if (m == "engine") {
      bench_engine();
    } else if (m == "symmetric") {
      bench_step(tcsim::sim::Fidelity::symmetric);
    } else if (m == "full") {
      bench_step(tcsim::sim::Fidelity::full);
    } else if (m == "symmetric-fixed") {
      bench_step(tcsim::sim::Fidelity::symmetric, false);
    } else if (m == "full-fixed") {
      bench_step(tcsim::sim::Fidelity::full, false);
    } else if (m.starts_with("scale:") && (m.ends_with(":symmetric") || m.ends_with(":full"))) {
      const int gpus = std::atoi(m.c_str() + 6);
      if (gpus < 16 || gpus % 16 != 0) {
        fmt::print(stderr, "bench_step: {}: the GPU count must be a multiple of 16\n", m);
        return 2;
      }
      bench_step(m.ends_with(":full") ? tcsim::sim::Fidelity::full : tcsim::sim::Fidelity::symmetric, true, gpus);
    } else {
      fmt::print(stderr, "bench_step: unknown mode \"{}\" (engine, symmetric, full, symmetric-fixed, full-fixed)\n", m);
      return 2;
    }
  }
  return 0;
}
