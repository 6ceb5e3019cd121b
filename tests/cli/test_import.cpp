// `tcsim import megatron` end to end: a script and typed flags in, a fragment
// that loads out; bad values exit 2 naming the flag.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/cli_runner.h"

namespace {

tcsim_test::CliResult tcsim(const std::string& args) { return tcsim_test::run_cli(TCSIM_BINARY, args); }

const std::string kGpt3 = std::string(TCSIM_TEST_DATA) + "/megatron/train_gpt3_175b_distributed.sh";

}  // namespace

TEST_CASE("import megatron --file prints a fragment that tcsim run loads over a scenario") {
  const auto r = tcsim("import megatron --file " + kGpt3);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("tp: 8") != std::string::npos);
  CHECK(r.out.find("launcher (not mapped") != std::string::npos);
  // Typed flags after the script win: PP 16 becomes PP 8 (1024 / (8 x 8) = 16 data-parallel ranks).
  const auto dir = std::filesystem::temp_directory_path() / "tcsim-import-test";
  std::filesystem::create_directories(dir);
  const auto fragment = dir / "fragment.yaml";
  const auto o =
      tcsim("import megatron --file " + kGpt3 + " --out " + fragment.string() + " --pipeline-model-parallel-size 8");
  REQUIRE(o.code == 0);
  std::ofstream(dir / "run.yaml") << "extends: builtin:megatron-lm-a100\n" << tcsim_test::slurp(fragment);
  const auto run = tcsim("run --step-only --json " + (dir / "run.yaml").string());
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(run.out.find("\"pp\": 8") != std::string::npos);
  CHECK(run.out.find("\"dp\": 16") != std::string::npos);
}

TEST_CASE("import megatron exits 2 naming the flag of a malformed value, and the source it does not know") {
  const auto r = tcsim("import megatron --tensor-model-parallel-size eight");
  CHECK(r.code == 2);
  CHECK(r.err.find("--tensor-model-parallel-size: expected a whole number, got \"eight\"") != std::string::npos);
  CHECK(tcsim("import nemo --tensor-model-parallel-size 2").code == 2);
  CHECK(tcsim("import megatron --file /nonexistent/run.sh").code == 2);
  CHECK(tcsim("import megatron").code == 2);
  CHECK(tcsim("import --help").code == 0);
}

TEST_CASE("calibrate --from-nccl-tests writes a network profile; a malformed row exits 2 with its file and line") {
  const std::string data = std::string(TCSIM_TEST_DATA) + "/nccl-tests/";
  const auto dir = std::filesystem::temp_directory_path() / "tcsim-nccl-test";
  std::filesystem::create_directories(dir);
  const auto profile = dir / "net.yaml";
  const auto r = tcsim("calibrate --from-nccl-tests " + data + "a100-2node-all_reduce_perf.log --op all_reduce_perf " +
                       "--scenario builtin:megatron-lm-a100 --out " + profile.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("inter-node") != std::string::npos);
  CHECK(tcsim_test::slurp(profile).find("tier: inter-node") != std::string::npos);

  // The A100 log with one time cut to a word: exit 2 naming the file and the row's line.
  std::string log = tcsim_test::slurp(data + "a100-2node-all_reduce_perf.log");
  const auto at = log.find("67689");
  REQUIRE(at != std::string::npos);
  log.replace(at, 5, "67x89");
  const auto bad = dir / "bad.log";
  std::ofstream(bad) << log;
  const auto b =
      tcsim("calibrate --from-nccl-tests " + bad.string() +
            " --op all_reduce_perf --scenario builtin:megatron-lm-a100 --out " + (dir / "bad.yaml").string());
  CHECK(b.code == 2);
  CHECK(b.err.find(bad.string() + ":54:") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "bad.yaml"));
}
