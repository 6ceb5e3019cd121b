// End to end: `tcsim plan` from the built binary on a small scenario file.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/plan/fixtures.h"
#include "tests/support/cli_runner.h"

namespace {

namespace fs = std::filesystem;

using Result = tcsim_test::CliResult;

Result tcsim(const std::string& args) { return tcsim_test::run_cli(TCSIM_BINARY, args); }

struct ScenarioFile {
  fs::path path;
  ScenarioFile() : path(fs::temp_directory_path() / ("tcsim-plan-" + std::to_string(::getpid()) + ".yaml")) {
    std::ofstream(path) << tcsim_test::kPlanSmall;
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
