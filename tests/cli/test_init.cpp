// `tcsim init`: a scenario that runs the first time, with the plan of least
// model parallelism that fits, and refusals that say why.
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

fs::path temp(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("tcsim-init-" + std::to_string(::getpid()));
  fs::create_directories(d);
  fs::remove(d / name);
  return d / name;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("init writes a scenario that runs the first time: a plan that fits, a network, every section") {
  const fs::path f = temp("llama.yaml");
  const Result w = tcsim("init --model llama-3.1-405b --gpu h100 --gpus 1024 --out " + f.string());
  REQUIRE_MESSAGE(w.code == 0, w.err);
  CHECK(has(w.err, "init: wrote " + f.string()));
  const std::string text = tcsim_test::slurp(f);
  for (const char* section :
       {"model: llama-3.1-405b", "parallelism:", "hardware:", "network:", "training:", "reliability:", "cost:"}) {
    CHECK_MESSAGE(has(text, section), section);
  }
  const Result r = tcsim("run --json " + f.string());
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(has(r.out, "\"fits\": true"));
  CHECK(has(r.out, "\"time_s\": "));
  // The least tensor x pipeline parallelism that fits: TP8 PP8 here; TP8 PP4 does not fit (126 layers in four stages).
  CHECK(has(text, "  tp: 8\n  pp: 8\n"));
  const Result smaller = tcsim("run --json --step-only " + f.string() +
                               " --set parallelism.pp=4 --set 'parallelism.stage_layers=[32, 32, 31, 31]'");
  REQUIRE_MESSAGE(smaller.code == 0, smaller.err);
  CHECK(has(smaller.out, "\"fits\": false"));
}

TEST_CASE("init takes a Hugging Face config.json as the model, and prints to stdout without --out") {
  const std::string config = std::string(TCSIM_SOURCE_DIR) + "/tests/data/hf/mixtral-8x7b.json";
  const Result r = tcsim("init --model " + config + " --gpu a100 --gpus 64");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(has(r.out, "model: {hf_config: \"" + config + "\"}"));
  CHECK(has(r.out, "nic_bandwidth: \"200 Gb/s\""));  // the A100 generation's NICs
  const fs::path f = temp("mixtral.yaml");
  std::ofstream(f) << r.out;
  const Result run = tcsim("run --json --step-only " + f.string());
  REQUIRE_MESSAGE(run.code == 0, run.err);
  CHECK(has(run.out, "\"fits\": true"));
}

TEST_CASE("init refuses what it cannot do, with exit code 2 and the reason") {
  const Result unknown = tcsim("init --model llama-70b --gpu h100 --gpus 8");
  CHECK(unknown.code == 2);
  CHECK(has(unknown.err, "no such preset (known: deepseek-v3"));
  CHECK(tcsim("init --model mixtral-8x7b --gpu h100 --gpus 12").code == 2);  // not whole servers
  CHECK(tcsim("init --model mixtral-8x7b --gpu b200 --gpus 8").code == 2);   // no such GPU
  CHECK(tcsim("init --model mixtral-8x7b --gpus 8").code == 2);              // --gpu missing
  const Result none = tcsim("init --model gpt-3-175b --gpu a100 --gpus 8");
  CHECK(none.code == 2);
  CHECK(has(none.err, "no plan of gpt-3-175b on 8 a100 fits in memory"));
  // An existing file is left as it was.
  const fs::path f = temp("mine.yaml");
  std::ofstream(f) << "mine\n";
  const Result exists = tcsim("init --model mixtral-8x7b --gpu h100 --gpus 64 --out " + f.string());
  CHECK(exists.code == 2);
  CHECK(tcsim_test::slurp(f) == "mine\n");
}
