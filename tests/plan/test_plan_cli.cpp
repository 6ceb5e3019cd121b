// End to end: `tcsim plan` from the built binary on a small scenario file.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/cli_runner.h"

namespace {

namespace fs = std::filesystem;

using Result = tcsim_test::CliResult;

Result tcsim(const std::string& args) { return tcsim_test::run_cli(TCSIM_BINARY, args); }

// 16 H800 in 2 nodes, a 4-layer dense model, 32 sequences per step (as test_plan_search.cpp).
constexpr const char* kSmall = R"(
name: plan-small
model: {layers: 4, hidden: 256, vocab: 1024, attention: {kind: mha, heads: 8, kv_heads: 8, head_dim: 32},
        ffn: {kind: swiglu, intermediate: 512}}
parallelism: {tp: 1, pp: 2, ep: 1, dp: 8, micro_batch: 1, zero: 1, schedule: dualpipe, recompute: selective}
precision: {gemm: bf16, weights: bf16, master_weights: fp32, grads: fp32, optimizer_states: fp32, activations: bf16}
hardware:
  gpu: h800
  gpus_per_node: 8
  nodes: 2
  network: {topology: multi-plane-fat-tree, nic_bandwidth: "400 Gb/s", nics_per_node: 8, switch_radix: 64,
            latency_intra_leaf: "2.8 us", latency_cross_leaf: "3.7 us", latency_nvlink: "3.33 us"}
training:
  seq_len: 4096
  phases: [{name: pre-training, tokens: "1B", batch: 32}]
cost: {rental: "$2/GPU-h"}
)";

struct ScenarioFile {
  fs::path path;
  ScenarioFile() : path(fs::temp_directory_path() / ("tcsim-plan-" + std::to_string(::getpid()) + ".yaml")) {
    std::ofstream(path) << kSmall;
  }
  ~ScenarioFile() { fs::remove(path); }
};

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

TEST_CASE("plan prints the counts, the top plans, the Pareto front and the published plan") {
  const ScenarioFile f;
  const Result r = tcsim("plan " + f.path.string() + " --top 3 --jobs 2");
  REQUIRE(r.code == 0);
  CHECK(has(r.out, "candidates      1056"));
  CHECK(has(r.out, "Top 3 by step time per token"));
  CHECK(has(r.out, "Pareto front"));
  CHECK(has(r.out, "Published plan  TP1 PP2 EP1 DP8 CP1, dualpipe, ZeRO-1"));
  CHECK(has(r.err, "step simulations in"));
}

TEST_CASE("plan output is the same for --jobs 1 and --jobs 2") {
  const ScenarioFile f;
  const Result one = tcsim("plan " + f.path.string() + " --gpus 8,16 --json --jobs 1");
  const Result two = tcsim("plan " + f.path.string() + " --gpus 8,16 --json --jobs 2");
  REQUIRE(one.code == 0);
  REQUIRE(two.code == 0);
  CHECK(one.out == two.out);
  CHECK(has(one.out, "\"pareto\""));
  CHECK(has(one.out, "\"published\""));
  CHECK(has(one.out, "\"invalid_by_rule\""));
}

TEST_CASE("plan --out writes one CSV row per candidate that passed the rules") {
  const ScenarioFile f;
  const fs::path csv = fs::temp_directory_path() / ("tcsim-plan-" + std::to_string(::getpid()) + ".csv");
  const Result r = tcsim("plan " + f.path.string() + " --objective cost --out " + csv.string());
  REQUIRE(r.code == 0);
  CHECK(has(r.out, "Top 10 by dollars per token"));
  std::ifstream in(csv);
  std::string line;
  int rows = -1;  // the header
  while (std::getline(in, line)) ++rows;
  // 1056 candidates, 192 break a rule (test_plan_search.cpp).
  CHECK(rows == 1056 - 192);
  fs::remove(csv);
}

TEST_CASE("plan --depth run adds the whole run's dollars for the top plans") {
  const ScenarioFile f;
  const Result r = tcsim("plan " + f.path.string() + " --depth run --top 2 --json");
  REQUIRE(r.code == 0);
  CHECK(has(r.out, "\"run\""));
  CHECK(has(r.out, "\"final_run_usd\""));
}

TEST_CASE("plan rejects bad flags with exit code 2") {
  const ScenarioFile f;
  CHECK(tcsim("plan " + f.path.string() + " --objective speed").code == 2);
  CHECK(tcsim("plan " + f.path.string() + " --gpus 12").code == 2);
  CHECK(tcsim("plan " + f.path.string() + " --top 0").code == 2);
  CHECK(tcsim("plan " + f.path.string() + " --frobnicate").code == 2);
  CHECK(tcsim("plan --help").code == 0);
}
