// End-to-end: the built binary, its exit codes, messages and JSON keys.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `tcsim ARGS` through the shell, capturing stdout, stderr and the exit code.
Result tcsim(const std::string& args) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto out = dir / ("tcsim-cli-out-" + std::to_string(::getpid()));
  const auto err = dir / ("tcsim-cli-err-" + std::to_string(::getpid()));
  const std::string cmd = std::string(TCSIM_BINARY) + " " + args + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

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

}  // namespace

TEST_CASE("run --json on the default scenario reports DeepSeek-V3's published 671B / 37B parameters") {
  const Result r = tcsim("run --json");
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
  CHECK(number_after(r.out, "capacity_bytes_per_gpu") == 80e9);  // H800 datasheet: 80 GB
  CHECK(number_after(r.out, "peak_bytes_per_gpu") > 0);
  CHECK(number_after(r.out, "train_flops_per_token") > 6 * 37e9 * 0.9);
}

TEST_CASE("keys the simulator fills later are absent, not invented") {
  const Result r = tcsim("run --json");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("\"step\"") == std::string::npos);
  CHECK(r.out.find("\"cost\": {\"final_run_usd\"") == std::string::npos);
  CHECK(r.out.find("final_run_usd") == std::string::npos);
}

TEST_CASE("run prints readable tables by default") {
  const Result r = tcsim("run");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Memory per GPU") != std::string::npos);
  CHECK(r.out.find("parameters, total") != std::string::npos);
}

TEST_CASE("--set overrides reach the run") {
  const Result r = tcsim("run --json --set hardware.gpu=h100");
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
