#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "scenarios/loader.h"

using namespace tcsim;
using namespace tcsim::scenario;
namespace fs = std::filesystem;

namespace {

// A small valid scenario: Mixtral on 64 H100 (8 nodes), TP1 PP4 EP8 DP16.
constexpr const char* kValid = R"(model: mixtral-8x7b
parallelism: {tp: 1, pp: 4, ep: 8, dp: 16}
hardware: {gpu: h100, gpus_per_node: 8, nodes: 8}
training:
  seq_len: 4096
  phases:
    - {name: main, tokens: "1T", batch: 1024}
)";

// A fresh directory per test for scenario files.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           fs::path("tcsim-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

// The message of the ConfigError that loading `text` raises ("" if none).
std::string error_of(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    load_scenario_text(text, "s.yaml", sets);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("the built-in DeepSeek-V3 scenario resolves to the published plan") {
  const Scenario s = load_scenario(std::string(kDefaultScenario));
  CHECK(s.model.name == "deepseek-v3");
  CHECK(gpu_count(s) == 2048);  // V3-TR §3.1
  CHECK(s.hardware.gpu.name == "h800");
  CHECK(s.parallelism.pp == 16);  // V3-TR §3.2
  CHECK(s.parallelism.ep == 64);
  CHECK(s.parallelism.zero == 1);
  CHECK(s.parallelism.schedule == model::Schedule::dualpipe);
  CHECK(s.parallelism.comm_sms == 20);
  CHECK(s.precision.gemm == model::Dtype::fp8);
  REQUIRE(s.training.phases.size() == 4);
  CHECK(s.training.phases[0].tokens == 14'800'000'000'000);  // 14.8T, V3-TR §4.1
  CHECK(s.training.phases[0].batch == 15360);
  // V3-TR §4.2 starts at 3072; the scenario states 4096, the smallest batch DualPipe runs on dp 128.
  CHECK(s.training.phases[0].ramp->from == 4096);
  CHECK(s.training.phases[0].ramp->over_tokens == 469'000'000'000);
  CHECK(s.training.phases[2].seq_len == 131072);
  CHECK(s.training.phases[1].parallelism.cp == 4);  // phase overrides on top of the plan [assumption]
  CHECK(s.training.phases[1].parallelism.dp == 32);
  CHECK(s.training.phases[2].parallelism.cp == 16);
  CHECK(s.training.phases[2].parallelism.dp == 8);
  CHECK(s.training.phases[2].parallelism.pp == 16);
  CHECK(s.training.phases[3].measured_gpu_hours->value() == 5000.0);
  CHECK(s.cost.rental.value() == 2.0);
  // 400 Gb/s = 50 GB/s per NIC (V3-TR §3.1).
  CHECK(s.hardware.network.nic_bandwidth.value() == doctest::Approx(50e9));
}

TEST_CASE("the repository's scenario file and the built-in copy agree") {
  const Scenario file = load_scenario(std::string(TCSIM_SCENARIO_DIR) + "/deepseek-v3.yaml");
  const Scenario builtin = load_scenario(std::string(kDefaultScenario));
  CHECK(file.name == builtin.name);
  CHECK(file.training.phases.size() == builtin.training.phases.size());
}

TEST_CASE("--set overrides a field, a list element and a preset") {
  // 64 GPUs = tp 1 x cp 1 x pp 2 x dp 32.
  const Scenario s = load_scenario_text(kValid, "s.yaml",
                                        std::vector<std::string>{"parallelism.pp=2", "parallelism.dp=32",
                                                                 "training.phases[0].batch=2048", "hardware.gpu=h800"});
  CHECK(s.parallelism.pp == 2);
  CHECK(s.parallelism.dp == 32);
  CHECK(s.training.phases[0].batch == 2048);
  CHECK(s.hardware.gpu.nvlink_bandwidth.value() == doctest::Approx(200e9));  // H800: 400 GB/s both ways
}

TEST_CASE("a preset section takes field overrides") {
  const std::string text = replace(kValid, "gpu: h100,", "gpu: {preset: h100, hbm_capacity: \"141 GB\"},");
  const Scenario s = load_scenario_text(text, "s.yaml");
  CHECK(s.hardware.gpu.hbm_capacity.value() == 141e9);
  CHECK(s.hardware.gpu.sms == 132);  // the rest from the preset
}

TEST_CASE("extends merges maps field by field; the child wins") {
  TempDir dir;
  dir.write("base.yaml", kValid);
  const std::string child = dir.write("child.yaml", "extends: base.yaml\nparallelism: {pp: 2, dp: 32}\n");
  const Scenario s = load_scenario(child);
  CHECK(s.parallelism.pp == 2);
  CHECK(s.parallelism.ep == 8);  // kept from the base
  CHECK(s.model.name == "mixtral-8x7b");
}

TEST_CASE("a user file can extend a built-in scenario") {
  TempDir dir;
  const std::string f = dir.write("h100.yaml", "extends: builtin:deepseek-v3\nhardware: {gpu: h100}\n");
  const Scenario s = load_scenario(f);
  CHECK(s.hardware.gpu.name == "h100");
  CHECK(gpu_count(s) == 2048);
}

TEST_CASE("malformed YAML names the file, line and column") {
  const std::string e = error_of("model: mixtral-8x7b\nparallelism: {tp: 1\n");
  CHECK(e.starts_with("s.yaml:3:1:"));
  CHECK(e.find("malformed YAML") != std::string::npos);
}

TEST_CASE("an unknown key is rejected with a did-you-mean hint at the key") {
  const std::string e = error_of(replace(kValid, "{tp: 1,", "{tpp: 1,"));
  CHECK(e == "s.yaml:2:15: parallelism.tpp: unknown key (did you mean \"tp\"?)");
}

TEST_CASE("a wrong unit is rejected with what was expected and found") {
  const std::string text = replace(kValid, "gpu: h100,", "gpu: {preset: h100, hbm_bandwidth: \"80 GiB\"},");
  const std::string e = error_of(text);
  CHECK(e.starts_with("s.yaml:3:47: hardware.gpu.hbm_bandwidth: expected a bandwidth like \"3.35 TB/s\""));
  CHECK(e.find("got \"80 GiB\"") != std::string::npos);
}

TEST_CASE("a missing unit is rejected") {
  const std::string text = replace(kValid, "gpu: h100,", "gpu: {preset: h100, hbm_bandwidth: 3.35},");
  CHECK(error_of(text).find("hardware.gpu.hbm_bandwidth: expected a bandwidth") != std::string::npos);
  CHECK(error_of(text).find("missing unit") != std::string::npos);
}

TEST_CASE("zero and negative sizes are rejected") {
  const std::string zero = replace(kValid, "gpu: h100,", "gpu: {preset: h100, hbm_capacity: \"0 GB\"},");
  CHECK(error_of(zero).find("hardware.gpu.hbm_capacity: expected a value above zero") != std::string::npos);
  const std::string neg = replace(kValid, "model: mixtral-8x7b", "model: {preset: mixtral-8x7b, layers: -4}");
  CHECK(error_of(neg) == "s.yaml:1:39: model.layers: expected a positive whole number, got -4");
}

TEST_CASE("non-integer degrees are rejected") {
  CHECK(error_of(replace(kValid, "pp: 4", "pp: 4.5")) ==
        "s.yaml:2:26: parallelism.pp: expected a positive whole number, got \"4.5\"");
}

TEST_CASE("degrees that do not multiply to the GPU count are rejected") {
  const std::string e = error_of(replace(kValid, "dp: 16", "dp: 8"));
  CHECK(e.starts_with("s.yaml:2:40: parallelism.dp: parallel degrees tp x cp x pp x dp = 1 x 1 x 4 x 8 = 32"));
  CHECK(e.find("64 GPUs") != std::string::npos);
}

TEST_CASE("dp omitted or auto is the GPU count over tp x cp x pp, in every phase") {
  // 64 GPUs / (tp 1 x cp 1 x pp 4) = 16.
  const std::vector<std::string> none;
  const Scenario omitted = load_scenario_text(replace(kValid, ", dp: 16}", "}"), "s.yaml", none);
  CHECK(omitted.parallelism.dp == 16);
  CHECK(omitted.training.phases[0].parallelism.dp == 16);
  // A --set over pp keeps the GPU count: 64 / (1 x 1 x 8) = 8.
  const std::vector<std::string> sets{"parallelism.pp=8"};
  const Scenario swept = load_scenario_text(replace(kValid, "dp: 16", "dp: auto"), "s.yaml", sets);
  CHECK(swept.parallelism.dp == 8);
  // A phase that changes cp re-derives dp: 64 / (1 x 4 x 4) = 4; one that sets dp keeps it.
  const std::string phases =
      replace(replace(kValid, ", dp: 16}", "}"), "    - {name: main, tokens: \"1T\", batch: 1024}",
              "    - {name: main, tokens: \"1T\", batch: 1024}\n"
              "    - {name: long, steps: 10, batch: 64, parallelism: {cp: 4}}\n"
              "    - {name: fixed, steps: 10, batch: 64, parallelism: {cp: 2, dp: 8}}");
  const Scenario s = load_scenario_text(phases, "s.yaml", none);
  CHECK(s.training.phases[1].parallelism.dp == 4);
  CHECK(s.training.phases[2].parallelism.dp == 8);
  // 64 GPUs do not split over tp 1 x cp 1 x pp 3.
  const std::string e = error_of(replace(kValid, "pp: 4, ep: 8, dp: 16", "pp: 3, ep: 8"));
  CHECK(e.starts_with("s.yaml:2:14: parallelism.dp: derived as GPUs / (tp x cp x pp) = 64 / (1 x 1 x 3)"));
}

TEST_CASE("overlap options and sequence parallelism are refused where the framework cannot run them") {
  // Mixtral on 64 GPUs: tp 1 pp 4 ep 8 dp 16 (kValid).
  CHECK(error_of(kValid, {"parallelism.sequence_parallel=true"})
            .find("parallelism.sequence_parallel: sequence_parallel shards along tensor parallelism: needs tp > 1") !=
        std::string::npos);
  CHECK(error_of(kValid, {"parallelism.overlap_ep_comm=true"})
            .find("parallelism.overlap_ep_comm: overlap_ep_comm (Megatron-Core's combined 1F1B) runs with "
                  "interleaved-1f1b, 1f1b on pp = 1, or dualpipe") != std::string::npos);
  CHECK(error_of(kValid, {"parallelism.schedule=interleaved-1f1b", "parallelism.virtual_stages=2",
                          "parallelism.overlap_ep_comm=true"})
            .empty());
  CHECK(error_of(kValid, {"parallelism.tp=2", "parallelism.dp=8", "parallelism.overlap_tp_comm=true"})
            .find("parallelism.overlap_tp_comm: overlap_tp_comm overlaps the all-gathers and reduce-scatters of "
                  "sequence parallelism: needs tp > 1 and sequence_parallel") != std::string::npos);
  // Mixtral has no shared expert.
  CHECK(error_of(kValid, {"parallelism.overlap_shared_expert=true"}).find("needs shared experts") != std::string::npos);
  // expert_tp apart from tp needs sequence parallelism, and is 1 or tp.
  CHECK(error_of(kValid, {"parallelism.tp=2", "parallelism.dp=8", "parallelism.expert_tp=1"})
            .find("parallelism.expert_tp: expert_tp = 1 differs from tp = 2: needs sequence_parallel") !=
        std::string::npos);
  CHECK(error_of(kValid, {"parallelism.tp=2", "parallelism.dp=8", "parallelism.expert_tp=1",
                          "parallelism.sequence_parallel=true"})
            .empty());
  CHECK(error_of(kValid, {"parallelism.tp=4", "parallelism.dp=4", "parallelism.ep=4", "parallelism.expert_tp=2",
                          "parallelism.sequence_parallel=true"})
            .find("parallelism.expert_tp: expert_tp = 2: expected 1 or tp = 4") != std::string::npos);
}

TEST_CASE("a pipeline that does not divide the layers is rejected unless split explicitly") {
  // pp 64 x dp 1 = 64 GPUs, but 32 layers cannot fill 64 stages.
  const std::string bad = replace(replace(kValid, "pp: 4", "pp: 64"), "dp: 16", "dp: 1");
  // ep 8 no longer divides dp x tp x cp = 1, but the layer rule comes first.
  CHECK(error_of(bad).find("32 layers cannot fill pp x virtual_stages = 64 stages") != std::string::npos);
  const std::string uneven = replace(kValid, "dp: 16}", "dp: 16, stage_layers: [9, 8, 8, 6]}");
  CHECK(error_of(uneven).find("stage layers add up to 31, the model has 32 layers") != std::string::npos);
  const std::string ok = replace(kValid, "dp: 16}", "dp: 16, stage_layers: [9, 8, 8, 7]}");
  CHECK(error_of(ok).empty());
  // A stage may hold no layer (Megatron-Core's layouts put MTP and the loss alone), not fewer.
  CHECK(error_of(replace(kValid, "dp: 16}", "dp: 16, stage_layers: [11, 11, 10, 0]}")).empty());
  CHECK(error_of(replace(kValid, "dp: 16}", "dp: 16, stage_layers: [12, 11, 10, -1]}"))
            .find("parallelism.stage_layers[3]") != std::string::npos);
}

TEST_CASE("tensor parallelism that does not divide the heads is rejected") {
  // tp 16 x pp 4 x dp 1 = 64 GPUs; 32 query heads split 16 ways, Mixtral's 8 KV heads do not.
  const std::string text = replace(replace(kValid, "tp: 1", "tp: 16"), "dp: 16", "dp: 1");
  CHECK(error_of(text).find("tp = 16 does not divide the 8 key/value heads") != std::string::npos);
}

TEST_CASE("expert parallelism that does not divide the experts is rejected") {
  CHECK(error_of(replace(kValid, "ep: 8", "ep: 16")).find("ep = 16 does not divide the 8 routed experts") !=
        std::string::npos);
}

TEST_CASE("a batch that does not divide over data parallelism is rejected") {
  const std::string e = error_of(replace(kValid, "batch: 1024", "batch: 1000"));
  CHECK(e.starts_with("s.yaml:7:41: training.phases[0].batch: batch 1000 does not divide into dp x micro_batch"));
}

// kValid (64 GPUs, 8 NICs a node) on a switched fabric of `radix`-port switches, with `extra` keys.
std::string on_fabric(int radix, const std::string& extra) {
  return replace(kValid, "nodes: 8}",
                 "nodes: 8,\n  network: {topology: fat-tree, nic_bandwidth: \"400 Gb/s\", nics_per_node: 8, "
                 "switch_radix: " +
                     std::to_string(radix) +
                     ", latency_intra_leaf: \"2.8 us\", latency_cross_leaf: \"3.7 us\", latency_nvlink: \"3.33 us\"" +
                     extra + "}}");
}

TEST_CASE(
    "pod_oversubscription and pod_gpus load on a three-layer fabric and default to non-blocking, radix-sized pods") {
  // Radix 8: leaves of 4 NICs, so 64 NICs are 16 leaves, more than one 8-port spine layer takes.
  const Scenario plain = load_scenario_text(on_fabric(8, ""), "s.yaml");
  CHECK(plain.hardware.network.pod_oversubscription == 1.0);
  CHECK(plain.hardware.network.pod_gpus == 0);
  const Scenario s = load_scenario_text(on_fabric(8, ", pod_oversubscription: 7, pod_gpus: 32"), "s.yaml");
  CHECK(s.hardware.network.pod_oversubscription == 7.0);
  CHECK(s.hardware.network.pod_gpus == 32);
}

TEST_CASE("pod_oversubscription below 1, or on a two-layer fabric, is refused at its key") {
  const std::string half = error_of(on_fabric(8, ", pod_oversubscription: 0.5"));
  CHECK(half.starts_with("s.yaml:4:"));
  CHECK(half.find("hardware.network.pod_oversubscription: expected a number >= 1, got \"0.5\"") != std::string::npos);
  // Radix 64: 64 NICs on 2 leaves of 32, two layers.
  const std::string e = error_of(on_fabric(64, ", pod_oversubscription: 7"));
  CHECK(e.starts_with("s.yaml:4:"));
  CHECK(e.find("hardware.network.pod_oversubscription: applies above the pods of a three-layer fabric; this fat-tree "
               "fabric has 2 switch layers (its 2 leaves fit under one layer of 64-port spines)") != std::string::npos);
  CHECK(error_of(on_fabric(64, ", pod_gpus: 32")).find("hardware.network.pod_gpus: applies above the pods") !=
        std::string::npos);
  // Radix 8, leaves of 4 GPUs: pods of 30 GPUs are not whole leaves.
  CHECK(error_of(on_fabric(8, ", pod_gpus: 30")).find("hardware.network.pod_gpus: expected whole leaves") !=
        std::string::npos);
}

TEST_CASE("an extends cycle is rejected") {
  TempDir dir;
  dir.write("a.yaml", "extends: b.yaml\n");
  const std::string b = dir.write("b.yaml", "extends: a.yaml\n");
  try {
    load_scenario(b);
    FAIL("expected an error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("extends cycle") != std::string::npos);
    CHECK(std::string(e.what()).find(":1:10: extends:") != std::string::npos);
  }
}

TEST_CASE("extends of a missing file is rejected at the extends line") {
  const std::string e = error_of(std::string("extends: nowhere.yaml\n") + kValid);
  CHECK(e.starts_with("s.yaml:1:10: extends: cannot read scenario \"nowhere.yaml\""));
}

TEST_CASE("--set errors point into the argument") {
  CHECK(error_of(kValid, {"parallelism.pp"}) == "--set:1:1: parallelism.pp: expected PATH=VALUE, found no '='");
  CHECK(error_of(kValid, {"parallelism.ppp=4"}) == "--set:1:13: parallelism.ppp: unknown key (did you mean \"pp\"?)");
  CHECK(error_of(kValid, {"training.phases[3].batch=1"}).find("index [3] is past the end of a list of 1") !=
        std::string::npos);
  CHECK(error_of(kValid, {"parallelism.pp=x"}) ==
        "--set:1:16: parallelism.pp: expected a positive whole number, got \"x\"");
}

TEST_CASE("unknown presets suggest the closest name") {
  const std::string e = error_of(replace(kValid, "gpu: h100", "gpu: h10"));
  CHECK(e.find("unknown GPU preset \"h10\" (did you mean \"h100\"?)") != std::string::npos);
}

TEST_CASE("FP8 GEMMs on a GPU without FP8 are rejected") {
  const std::string text = std::string(replace(kValid, "gpu: h100", "gpu: a100")) + "precision: {gemm: fp8}\n";
  CHECK(error_of(text).find("fp8 GEMMs need a GPU with FP8 tensor cores; a100 has none") != std::string::npos);
}

TEST_CASE("a phase needs exactly one of tokens, steps or gpu_hours") {
  CHECK(error_of(replace(kValid, "tokens: \"1T\", ", "")).find("expected exactly one of tokens, steps or gpu_hours") !=
        std::string::npos);
}

TEST_CASE("empty and non-map documents are rejected") {
  CHECK(error_of("").find("empty scenario") != std::string::npos);
  CHECK(error_of("- 1\n- 2\n").find("expected a map of sections") != std::string::npos);
}

TEST_CASE("did_you_mean picks a close candidate and nothing for far ones") {
  const std::vector<std::string> c{"pipeline", "tp", "schedule"};
  CHECK(did_you_mean("schedul", c) == "schedule");
  CHECK(did_you_mean("zzzzzzzz", c).empty());
}
