// End-to-end: the built binary, its exit codes, messages and JSON keys.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/cli_runner.h"

namespace {

using Result = tcsim_test::CliResult;
using tcsim_test::slurp;

Result tcsim(const std::string& args) { return tcsim_test::run_cli(TCSIM_BINARY, args); }

// The number after `"key": ` in compact JSON text (first occurrence).
double number_after(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\": ";
  const auto at = json.find(needle);
  REQUIRE_MESSAGE(at != std::string::npos, key);
  return std::strtod(json.c_str() + at + needle.size(), nullptr);
}

std::string write_temp(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / name;
  std::ofstream(p) << text;
  return p.string();
}

// Milliseconds as the fit report writes them (three decimals).
std::string fmt_ms(double us) {
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%.3f", us / 1e3);
  return buf.data();
}

}  // namespace

TEST_CASE("run --json on the default scenario reports DeepSeek-V3's published 671B / 37B parameters") {
  const Result r = tcsim("run --step-only --json");
  REQUIRE(r.code == 0);
  // V3-TR §4.2: 671B total; held to 0.5%.
  CHECK(number_after(r.out, "params_total") == doctest::Approx(671e9).epsilon(0.005));
  // Activated: the model card's 36.7B held to 0.5%; the paper's "37B" is rounded to the billion.
  const double active = number_after(r.out, "params_active");
  CHECK(active == doctest::Approx(36.7e9).epsilon(0.005));
  CHECK(active >= 36.5e9);
  CHECK(active < 37.5e9);
  CHECK(number_after(r.out, "gpus") == 2048);
  CHECK(r.out.find("\"gpu\": \"h800\"") != std::string::npos);
  CHECK(r.out.find("\"fits\": ") != std::string::npos);
  // An "80 GB" H800 reports 81,559 MiB (nvidia-smi / NVML; Modal's table of GPU memory capacities).
  CHECK(number_after(r.out, "capacity_bytes_per_gpu") == 81559.0 * 1024 * 1024);  // H800 datasheet: 80 GB
  CHECK(number_after(r.out, "peak_bytes_per_gpu") > 0);
  CHECK(number_after(r.out, "train_flops_per_token") > 6 * 37e9 * 0.9);
}

TEST_CASE("run --json carries the run and its cost; --step-only leaves them out") {
  const Result r = tcsim("run --json");
  REQUIRE(r.code == 0);
  // V3-TR Table 1's phases: three simulated, post-training's 5K GPU-hours as published.
  const double total = number_after(r.out, "gpu_hours_total");
  CHECK(total > 5000);
  // The final run at the scenario's $2/GPU-hour (V3-TR Table 1) is 2 x the GPU-hours.
  CHECK(number_after(r.out, "final_run_usd") == doctest::Approx(2 * total));
  CHECK(r.out.find("\"owned_final_run_usd\"") != std::string::npos);
  CHECK(r.out.find("\"rnd_total_usd\"") != std::string::npos);
  const Result s = tcsim("run --json --step-only");
  REQUIRE(s.code == 0);
  CHECK(s.out.find("\"step\"") != std::string::npos);
  CHECK(s.out.find("final_run_usd") == std::string::npos);
}

TEST_CASE("run prints readable tables by default") {
  const Result r = tcsim("run");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Memory per GPU") != std::string::npos);
  CHECK(r.out.find("parameters, total") != std::string::npos);
  CHECK(r.out.find("final run, rental") != std::string::npos);
  CHECK(r.out.find("R&D total, median") != std::string::npos);
}

TEST_CASE("a scenario without a rental rate says so instead of pricing the run at $0") {
  const Result r = tcsim("run builtin:megatron-lm-a100");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("the scenario gives no rental rate (cost.rental)") != std::string::npos);
  CHECK(r.out.find("$0 ") == std::string::npos);
}

TEST_CASE("--set overrides reach the run") {
  const Result r = tcsim("run --step-only --json --set hardware.gpu=h100");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("\"gpu\": \"h100\"") != std::string::npos);
}

TEST_CASE("bad input exits with code 2 and a located message") {
  const std::string bad = write_temp("tcsim-cli-bad.yaml", "extends: builtin:deepseek-v3\nparallelism: {pp: 3}\n");
  const Result r = tcsim(bad);
  CHECK(r.code == 2);  // `tcsim FILE` is not a command
  const Result run = tcsim("run " + bad);
  CHECK(run.code == 2);
  CHECK(run.err.find("tcsim-cli-bad.yaml:2:") != std::string::npos);
  CHECK(run.err.find("parallelism") != std::string::npos);
  CHECK(run.out.empty());
}

TEST_CASE("a bad --set, an unknown flag and a missing file exit with code 2") {
  CHECK(tcsim("run --set parallelism.pp=x").code == 2);
  CHECK(tcsim("run --frobnicate").code == 2);
  CHECK(tcsim("run /nonexistent/scenario.yaml").code == 2);
  CHECK(tcsim("run builtin:nope").code == 2);
  CHECK(tcsim("fly").code == 2);
}

TEST_CASE("help explains every flag of run") {
  const Result top = tcsim("--help");
  CHECK(top.code == 0);
  CHECK(top.out.find("tcsim run") != std::string::npos);
  const Result run = tcsim("run --help");
  CHECK(run.code == 0);
  for (const char* flag : {"--set", "--json", "SCENARIO"}) CHECK(run.out.find(flag) != std::string::npos);
}

TEST_CASE("list shows the catalogs") {
  const Result r = tcsim("list");
  REQUIRE(r.code == 0);
  for (const char* name : {"deepseek-v3", "deepseek-v2", "deepseek-67b", "llama-3.1-405b", "gpt-3-175b", "mixtral-8x7b",
                           "h100", "h800", "a100", "a800", "h20", "h200", "builtin:deepseek-v3"}) {
    CHECK_MESSAGE(r.out.find(name) != std::string::npos, name);
  }
}

// ---- the simulated step (sim/, reports/step_report.h) ----------------------

// The text of the JSON from the "step" object on (its keys come first there).
std::string step_part(const std::string& json) {
  const auto at = json.find("\"step\": {");
  REQUIRE(at != std::string::npos);
  return json.substr(at);
}

TEST_CASE("run --json reports the steady-state step under the contract's step.* keys") {
  Result r = tcsim("run --step-only --json");
  REQUIRE(r.code == 0);
  r.out = step_part(r.out);
  // V3-TR §4.2: 15360 sequences of 4096 tokens per step at the final batch size.
  CHECK(number_after(r.out, "tokens") == 15360.0 * 4096.0);
  const double time = number_after(r.out, "time_s");
  CHECK(time > 0);
  // The six parts of the critical GPU's time add up to the step time.
  double parts = 0;
  for (const char* k : {"forward", "backward_input", "backward_weight", "bubble", "exposed_comm", "optimizer"}) {
    parts += number_after(r.out, k);
  }
  CHECK(parts == doctest::Approx(time).epsilon(1e-6));
  // GPU-hours per trillion tokens = 1e12 / (tokens/s/GPU x 3600).
  const double rate = number_after(r.out, "tokens_per_s_per_gpu");
  CHECK(number_after(r.out, "gpu_hours_per_trillion_tokens") == doctest::Approx(1e12 / (rate * 3600.0)));
  // MFU = model FLOP/s per GPU over the H800's 989.4 TFLOP/s dense BF16 peak (datasheet).
  CHECK(number_after(r.out, "mfu_bf16") == doctest::Approx(number_after(r.out, "tflops_per_gpu") / 989.4));
  CHECK(number_after(r.out, "mfu_bf16_full_attention") > number_after(r.out, "mfu_bf16"));
  for (const char* k : {"\"gpus\": [", "\"links\": [", "\"link_kinds\"", "\"published\""}) {
    CHECK_MESSAGE(r.out.find(k) != std::string::npos, k);
  }
}

TEST_CASE("run prints the step table with the published comparison") {
  const Result r = tcsim("run --step-only");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Step  (symmetric") != std::string::npos);
  CHECK(r.out.find("tcsim vs published") != std::string::npos);
  CHECK(r.out.find("bubble") != std::string::npos);
}

TEST_CASE("run --trace writes a Chrome trace atomically") {
  const auto path = std::filesystem::temp_directory_path() / ("tcsim-trace-" + std::to_string(::getpid()) + ".json");
  const Result r = tcsim("run --step-only --trace " + path.string());
  REQUIRE(r.code == 0);
  const std::string text = slurp(path);
  CHECK(text.starts_with("{\"displayTimeUnit\": \"ns\", \"traceEvents\": ["));
  CHECK(text.find("\"ph\": \"X\"") != std::string::npos);
  CHECK(text.find("network links") != std::string::npos);
  CHECK(text.ends_with("]}\n"));
  CHECK(r.err.find("trace: wrote " + path.string()) != std::string::npos);
  CHECK(r.err.find("ui.perfetto.dev") != std::string::npos);
  // Every thread's complete events are apart (the trace-event format's rule, which Perfetto relies on):
  // transfers sharing a link are drawn on lanes of their own.
  std::map<std::pair<long, long>, std::vector<std::pair<double, double>>> by_thread;
  std::istringstream lines(text);
  const auto number_after = [](const std::string& line, const std::string& key) {
    const std::size_t at = line.find("\"" + key + "\": ");
    return std::stod(line.substr(at + key.size() + 4));
  };
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"ph\": \"X\"") == std::string::npos) continue;
    by_thread[{static_cast<long>(number_after(line, "pid")), static_cast<long>(number_after(line, "tid"))}].push_back(
        {number_after(line, "ts"), number_after(line, "dur")});
  }
  REQUIRE(by_thread.size() > 4);
  int overlaps = 0;
  for (auto& [thread, slices] : by_thread) {
    std::sort(slices.begin(), slices.end());
    for (std::size_t i = 1; i < slices.size(); ++i) {
      if (slices[i].first < slices[i - 1].first + slices[i - 1].second - 0.002) ++overlaps;  // 3 decimals of us
    }
  }
  CHECK(overlaps == 0);
  // The step does put concurrent transfers on one link: some track has a second lane.
  CHECK(text.find(" (2)\"") != std::string::npos);
  // Written to FILE.tmp.PID and renamed: nothing else is left beside it.
  for (const auto& e : std::filesystem::directory_iterator(path.parent_path())) {
    CHECK(e.path().filename().string().find(path.filename().string() + ".tmp") == std::string::npos);
  }
  std::filesystem::remove(path);
}

TEST_CASE("bad --fidelity, --collectives, --seed and --trace values exit with code 2") {
  CHECK(tcsim("run --fidelity sometimes").code == 2);
  const Result c = tcsim("run --collectives sometimes");
  CHECK(c.code == 2);
  CHECK(c.err.find("--collectives: expected shared or alone") != std::string::npos);
  CHECK(tcsim("run --seed -1").code == 2);
  CHECK(tcsim("run --seed 12x").code == 2);
  CHECK(tcsim("run --trace").code == 2);
  CHECK(tcsim("run --trace /nonexistent-dir/trace.json").code == 2);
}

TEST_CASE("run prints DeepSeek's multi-plane cluster with counts from first principles") {
  const Result r = tcsim("run --step-only --json");
  REQUIRE(r.code == 0);
  // 256 nodes x 8 GPUs; one 400 Gb/s NIC per GPU (V3-TR §3.1).
  CHECK(number_after(r.out, "nics") == 2048);
  // Eight planes, each a two-layer fat-tree of 64-port switches over 256 NICs (ISCA'25 §5):
  // a leaf has 32 ports down and 32 up, so 256 / 32 = 8 leaves and 8 x 32 / 64 = 4 spines per plane.
  CHECK(number_after(r.out, "leaf_switches") == 8 * 8);
  CHECK(number_after(r.out, "spine_switches") == 4 * 8);
  // Non-blocking: half the NICs can send to the other half at full rate, 1024 x 50 GB/s = 51.2 TB/s.
  CHECK(number_after(r.out, "bisection_bytes_per_s") == doctest::Approx(1024 * 50e9));
}

TEST_CASE("a scenario without a network section still gets its accounting, and says what the step needs") {
  const std::string f = write_temp("tcsim-cli-min.yaml",
                                   "model: mixtral-8x7b\nparallelism: {tp: 1, pp: 4, ep: 8, dp: 16}\n"
                                   "hardware: {gpu: h100, gpus_per_node: 8, nodes: 8}\ntraining:\n  seq_len: 4096\n"
                                   "  phases:\n    - {name: main, tokens: \"1T\", batch: 1024}\n");
  const Result r = tcsim("run --step-only --json " + f);
  REQUIRE(r.code == 0);
  // Mixtral of Experts: 46.7B total.
  CHECK(number_after(r.out, "params_total") == doctest::Approx(46.7e9).epsilon(0.005));
  CHECK(r.out.find("\"not_simulated\": \"hardware.network.") != std::string::npos);
  CHECK(r.out.find("\"step\"") == std::string::npos);
}

TEST_CASE("a plan the step cannot run is refused at load with exit 2 and the key, never 'not simulated'") {
  // expert_tp 2 x ep 128 cannot be carved out of the 128 GPUs of a stage (sim/layout.h); before the one
  // rule set, the loader accepted it and the step said "not simulated" with exit code 0.
  const Result r = tcsim(
      "run --step-only --set parallelism.tp=2 --set parallelism.dp=64 --set parallelism.ep=128 "
      "--set 'training.phases[1].parallelism.dp=16' --set 'training.phases[2].parallelism.dp=4'");
  CHECK(r.code == 2);
  CHECK(r.err.find("--set:1:16: parallelism.ep: expert_tp x ep = 2 x 128 does not divide tp x dp x cp = 128") !=
        std::string::npos);
  // DualPipe's micro-batch rule holds at the ramp's start too: 4096 sequences over dp 128 x
  // micro-batch 2 are 16 micro-batches per pipeline, below 2 pp = 32.
  const Result ramp = tcsim("run --step-only --set parallelism.micro_batch=2 --set 'training.phases[0].batch=16384'");
  CHECK(ramp.code == 2);
  CHECK(ramp.err.find("training.phases[0].batch_ramp.from: batch 4096 is 16 micro-batches per pipeline") !=
        std::string::npos);
}

TEST_CASE("an incomplete network section is refused at load with its place") {
  // A fat-tree needs NVLink and fabric latencies, NICs and switches; before the one rule set this said
  // "Cluster and step: not simulated" with exit code 0.
  const std::string f = write_temp("tcsim-cli-net.yaml",
                                   "model: mixtral-8x7b\nparallelism: {tp: 1, pp: 4, ep: 8, dp: 16}\n"
                                   "hardware: {gpu: h100, gpus_per_node: 8, nodes: 8,\n"
                                   "           network: {topology: fat-tree, nic_bandwidth: \"400 Gb/s\"}}\n"
                                   "training:\n  seq_len: 4096\n"
                                   "  phases:\n    - {name: main, tokens: \"1T\", batch: 1024}\n");
  const Result r = tcsim("run --step-only --json " + f);
  CHECK(r.code == 2);
  CHECK(r.err.find("tcsim-cli-net.yaml:4:") != std::string::npos);
  CHECK(r.err.find("hardware.network.latency_nvlink: needed by the fat-tree topology") != std::string::npos);
}

TEST_CASE("pod_oversubscription exits 2 with its key where it cannot apply, and narrows the bisection where it can") {
  // Mixtral on 8 nodes x 8 GPUs, one 400 Gb/s NIC per GPU, `radix`-port switches.
  const auto scenario = [](const std::string& name, int radix, const std::string& pod_keys) {
    return write_temp(name,
                      "model: mixtral-8x7b\nparallelism: {tp: 1, pp: 4, ep: 8, dp: 16}\n"
                      "hardware: {gpu: h100, gpus_per_node: 8, nodes: 8,\n"
                      "           network: {topology: fat-tree, nic_bandwidth: \"400 Gb/s\", nics_per_node: 8,\n"
                      "                     switch_radix: " +
                          std::to_string(radix) +
                          ", latency_intra_leaf: \"2.8 us\", latency_cross_leaf: \"3.7 us\",\n"
                          "                     latency_nvlink: \"3.33 us\", " +
                          pod_keys +
                          "}}\n"
                          "training:\n  seq_len: 4096\n"
                          "  phases:\n    - {name: main, tokens: \"1T\", batch: 1024}\n");
  };
  const Result half =
      tcsim("run --step-only --json " + scenario("tcsim-cli-pod-half.yaml", 8, "pod_oversubscription: 0.5"));
  CHECK(half.code == 2);
  CHECK(half.err.find("tcsim-cli-pod-half.yaml:6:") != std::string::npos);
  CHECK(half.err.find("hardware.network.pod_oversubscription: expected a number >= 1, got \"0.5\"") !=
        std::string::npos);
  // 64-port leaves take 32 NICs each: 2 leaves under one spine layer, no pods to oversubscribe.
  const Result two =
      tcsim("run --step-only --json " + scenario("tcsim-cli-pod-two.yaml", 64, "pod_oversubscription: 7"));
  CHECK(two.code == 2);
  CHECK(two.err.find("tcsim-cli-pod-two.yaml:6:") != std::string::npos);
  CHECK(two.err.find("hardware.network.pod_oversubscription: applies above the pods of a three-layer fabric") !=
        std::string::npos);
  // 8-port leaves take 4 NICs: 16 leaves, three layers. Pods of 32 GPUs are 8 leaves; each pod has 4
  // aggregation switches (one per leaf uplink) with 8 / 2 = 4 core uplinks at 2:1. Bisection: half of
  // 2 pods x 4 x 4 = 32 core uplinks at 50 GB/s = 800 GB/s (non-blocking: 64 / 2 x 50 GB/s = 1.6 TB/s).
  const Result ok =
      tcsim("run --step-only --json " + scenario("tcsim-cli-pod-ok.yaml", 8, "pod_oversubscription: 2, pod_gpus: 32"));
  REQUIRE(ok.code == 0);
  CHECK(number_after(ok.out, "bisection_bytes_per_s") == doctest::Approx(16 * 50e9));
}

TEST_CASE("trace summary reads a Kineto trace; a cut-short file exits 2 with its place") {
  const std::string text =
      R"json({"deviceProperties": [{"id": 0, "name": "NVIDIA H800", "numSms": 132}], "traceEvents": [
{"ph": "X", "cat": "user_annotation", "name": "attn(F)", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1, "ts": 2, "dur": 1, "args": {"correlation": 5}},
{"ph": "X", "cat": "kernel", "name": "rotary_kernel", "pid": 0, "tid": 7, "ts": 20, "dur": 1500, "args": {"device": 0, "stream": 7, "correlation": 5}}
]})json";
  const std::string f = write_temp("tcsim-cli-trace.json", text);
  const Result r = tcsim("trace summary " + f);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("NVIDIA H800 (132 SMs), 1 kernels") != std::string::npos);
  CHECK(r.out.find("attn(F)") != std::string::npos);
  const Result j = tcsim("trace summary --json " + f);
  REQUIRE(j.code == 0);
  CHECK(number_after(j.out, "span_ms") == doctest::Approx(1.5));
  CHECK(j.out.find("\"family\": \"rope\"") != std::string::npos);
  const Result cut = tcsim("trace summary " + write_temp("tcsim-cli-trace-cut.json", text.substr(0, 200)));
  CHECK(cut.code == 2);
  CHECK(cut.err.find("tcsim-cli-trace-cut.json:") != std::string::npos);
  CHECK(tcsim("trace").code == 2);
  CHECK(tcsim("trace frobnicate x.json").code == 2);
}

TEST_CASE("trace kernels writes the derived table with its provenance; --families puts a user's patterns first") {
  const std::string text = R"json({"traceEvents": [
{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1, "ts": 2, "dur": 1, "args": {"correlation": 5}},
{"ph": "X", "cat": "kernel", "name": "rotary_kernel", "pid": 0, "tid": 7, "ts": 20, "dur": 15, "args": {"device": 0, "stream": 7, "correlation": 5, "grid": [64, 2, 1]}},
{"ph": "X", "cat": "kernel", "name": "my_fused_norm", "pid": 0, "tid": 7, "ts": 40, "dur": 5, "args": {"device": 0, "stream": 7}}
]})json";
  const std::string f = write_temp("tcsim-cli-trace-k.json", text);
  const std::string csv = (std::filesystem::temp_directory_path() / "tcsim-cli-trace-k.csv").string();
  const Result r = tcsim("trace kernels " + f + " --out " + csv + " --source 'from a test'");
  REQUIRE(r.code == 0);
  const std::string table = slurp(csv);
  CHECK(table.find("# from a test\n") != std::string::npos);
  CHECK(table.find("name,family,device,stream,start_us,duration_us,grid_x") != std::string::npos);
  CHECK(table.find("rotary_kernel,rope,0,7,0,15,64,2,1,") != std::string::npos);  // starts after the first activity
  CHECK(table.find("my_fused_norm,unknown,0,7,20,5,") != std::string::npos);
  // A user's table, tried first: the unknown kernel becomes a norm.
  const std::string fam =
      write_temp("tcsim-cli-families.yaml", "families:\n  - {pattern: my_fused_norm, family: norm}\n");
  const Result s = tcsim("trace summary --json --families " + fam + " " + f);
  REQUIRE(s.code == 0);
  CHECK(s.out.find("\"family\": \"norm\"") != std::string::npos);
  CHECK(s.out.find("\"unknown\": []") != std::string::npos);
  const std::string bad = write_temp("tcsim-cli-families-bad.yaml", "families:\n  - {pattern: x, family: nrom}\n");
  const Result b = tcsim("trace summary --families " + bad + " " + f);
  CHECK(b.code == 2);
  CHECK(b.err.find("tcsim-cli-families-bad.yaml:2:") != std::string::npos);
  CHECK(b.err.find("families[0].family") != std::string::npos);
}

TEST_CASE("calibrate --from-trace fits DeepSeek's kernel table and writes a profile a run can use") {
  const std::string table = std::string(TCSIM_PROFILES_DIR) + "/deepseek-v3-h800-train.kernels.csv";
  const std::string out = (std::filesystem::temp_directory_path() / "tcsim-cli-from-trace.yaml").string();
  const Result r = tcsim("calibrate --from-trace " + table +
                         " --scenario builtin:deepseek-v3 --layers 3-6 --source test --out " + out);
  INFO(r.err);
  REQUIRE(r.code == 0);
  // The weight-gradient GEMMs' measured time is the sum of their rows in the table, added here.
  std::istringstream rows(slurp(table));
  std::string line;
  double wgrad_us = 0;
  while (std::getline(rows, line)) {
    const auto at = line.find(",gemm-fp8-wgrad,");
    if (at == std::string::npos) continue;
    std::istringstream fields(line.substr(at + 16));
    std::string device, stream, start, duration;
    std::getline(fields, device, ',');
    std::getline(fields, stream, ',');
    std::getline(fields, start, ',');
    std::getline(fields, duration, ',');
    wgrad_us += std::stod(duration);
  }
  CHECK(wgrad_us > 30000);
  const std::string profile = slurp(out);
  CHECK(profile.find(fmt_ms(wgrad_us)) != std::string::npos);
  CHECK(profile.find("fp8_wgrad:") != std::string::npos);
  const Result run = tcsim("run --step-only --set hardware.calibration=" + out);
  CHECK(run.code == 0);
  CHECK(run.out.find("FP8 weight-gradient GEMM") != std::string::npos);
  std::filesystem::remove(out);
}

TEST_CASE("calibrate --from-trace: missing or bad flags and files exit 2 with what was expected") {
  const std::string table = std::string(TCSIM_PROFILES_DIR) + "/deepseek-v3-h800-train.kernels.csv";
  const std::string out = (std::filesystem::temp_directory_path() / "tcsim-cli-from-trace-bad.yaml").string();
  std::filesystem::remove(out);  // nothing of an earlier run
  const Result no_scenario = tcsim("calibrate --from-trace " + table + " --out " + out);
  CHECK(no_scenario.code == 2);
  CHECK(no_scenario.err.find("--scenario SCENARIO is required") != std::string::npos);
  const std::string base = "calibrate --from-trace " + table + " --scenario builtin:deepseek-v3 --out " + out;
  const Result region = tcsim(base + " --region 'attn(F)=sideways'");
  CHECK(region.code == 2);
  CHECK(region.err.find("unknown pass \"sideways\"") != std::string::npos);
  const Result layers = tcsim(base + " --layers 3-99");
  CHECK(layers.code == 2);
  CHECK(layers.err.find("the model has layers 0-60") != std::string::npos);
  CHECK(tcsim(base + " --layers x").code == 2);
  const std::string cut = write_temp("tcsim-cli-from-trace-cut.json", R"json({"traceEvents": [{"ph": "X", "na)json");
  const Result truncated = tcsim("calibrate --from-trace " + cut + " --scenario builtin:deepseek-v3 --out " + out);
  CHECK(truncated.code == 2);
  CHECK(truncated.err.find("tcsim-cli-from-trace-cut.json:") != std::string::npos);
  CHECK(tcsim("calibrate --from-trace /nonexistent.csv --scenario builtin:deepseek-v3 --out " + out).code == 2);
  // A GPU with no profile to start from (one described from scratch) is refused, not crashed on.
  const std::string custom = write_temp(
      "tcsim-cli-from-trace-custom.yaml",
      "extends: builtin:deepseek-v3\nhardware:\n  gpu: {name: custom, sms: 132, bf16_dense: \"989 TFLOP/s\", "
      "fp8_dense: \"1979 TFLOP/s\", hbm_capacity: \"80 GB\", hbm_bandwidth: \"3.35 TB/s\", nvlink_bandwidth: "
      "\"450 GB/s\", tdp: \"700 W\"}\n");
  const Result no_profile = tcsim("calibrate --from-trace " + table + " --scenario " + custom + " --out " + out);
  CHECK(no_profile.code == 2);
  CHECK(no_profile.err.find("has no calibration profile to start from") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));  // nothing written on any of these
}
