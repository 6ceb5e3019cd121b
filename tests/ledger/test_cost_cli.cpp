// End-to-end: `tcsim report` and `tcsim compare` from the built binary.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/cli_runner.h"

namespace {

namespace fs = std::filesystem;

using Result = tcsim_test::CliResult;
using tcsim_test::slurp;

Result tcsim(const std::string& args) { return tcsim_test::run_cli(TCSIM_BINARY, args); }

fs::path temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

}  // namespace

TEST_CASE("report writes the three files for the default scenario and prints the headline keys") {
  const fs::path dir = temp_dir("tcsim-cost-cli-report");
  const Result r = tcsim("report --out " + dir.string() + " --trials 50 --samples 500");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("cost.final_run_usd") != std::string::npos);
  CHECK(r.out.find("step-simulation-interpolated step times") != std::string::npos);
  for (const char* f : {"report.md", "report.html", "report.json"}) CHECK_MESSAGE(fs::exists(dir / f), f);
  fs::remove_all(dir);
}

TEST_CASE("a report over an earlier one replaces it whole; a folder with other files keeps them") {
  const fs::path dir = temp_dir("tcsim-cost-cli-replace");
  REQUIRE(tcsim("report --out " + dir.string() + " --trials 20 --samples 200").code == 0);
  // A chart an earlier report left that this one does not write: gone once the new report is swapped in.
  std::ofstream(dir / "charts" / "stale.svg") << "<svg/>";
  REQUIRE(tcsim("report --out " + dir.string() + " --trials 20 --samples 200").code == 0);
  CHECK_FALSE(fs::exists(dir / "charts" / "stale.svg"));
  CHECK(fs::exists(dir / "report.json"));
  // Nothing staged is left beside it.
  for (const fs::directory_entry& e : fs::directory_iterator(dir.parent_path())) {
    CHECK_FALSE(e.path().filename().string().starts_with("." + dir.filename().string() + "."));
  }
  // A user's file in the folder: kept, and the report files are replaced one by one.
  std::ofstream(dir / "notes.txt") << "mine";
  REQUIRE(tcsim("report --out " + dir.string() + " --trials 20 --samples 200").code == 0);
  CHECK(fs::exists(dir / "notes.txt"));
  CHECK(fs::exists(dir / "report.md"));
  fs::remove_all(dir);
  // A file where the folder should be is refused.
  std::ofstream(dir) << "not a folder";
  const Result file = tcsim("report --out " + dir.string() + " --trials 20 --samples 200");
  CHECK(file.code == 2);
  CHECK(file.err.find("not a directory") != std::string::npos);
  fs::remove(dir);
}

TEST_CASE("resolved.yaml reproduces the run: its report equals the original but for the file it names") {
  // The built-in scenario with a user's rental: the round trip must keep the value and its "user value" label.
  const fs::path a = temp_dir("tcsim-cost-cli-resolved-a");
  const fs::path b = temp_dir("tcsim-cost-cli-resolved-b");
  const std::string flags = " --trials 50 --samples 500 --seed 7";
  REQUIRE(tcsim("report --out " + a.string() + " --set 'cost.rental=$2.5/GPU-h'" + flags).code == 0);
  REQUIRE(fs::exists(a / "resolved.yaml"));
  CHECK(slurp(a / "resolved.yaml").starts_with("# Written by tcsim report with --seed 7 --trials 50 --samples 500"));
  REQUIRE(tcsim("report " + (a / "resolved.yaml").string() + " --out " + b.string() + flags).code == 0);
  std::string one = slurp(a / "report.json");
  std::string two = slurp(b / "report.json");
  // scenario.file and resolved.file name where each was loaded from; nothing else may differ.
  const auto drop_file = [](std::string text, const std::string& file) {
    for (std::size_t at = text.find(file); at != std::string::npos; at = text.find(file)) text.erase(at, file.size());
    return text;
  };
  one = drop_file(one, "\"<builtin>/deepseek-v3.yaml\"");
  two = drop_file(two, "\"" + (a / "resolved.yaml").string() + "\"");  // a plain /tmp path: no escapes
  CHECK(one == two);
  CHECK(one.find("user value: cost.rental") != std::string::npos);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("report is reproducible for a seed") {
  const fs::path a = temp_dir("tcsim-cost-cli-seed-a"), b = temp_dir("tcsim-cost-cli-seed-b");
  REQUIRE(tcsim("report --out " + a.string() + " --seed 3 --trials 20 --samples 200").code == 0);
  REQUIRE(tcsim("report --out " + b.string() + " --seed 3 --trials 20 --samples 200").code == 0);
  CHECK(slurp(a / "report.json") == slurp(b / "report.json"));
  CHECK(slurp(a / "report.html") == slurp(b / "report.html"));
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("compare sets H800 against H100 side by side and splits the step time") {
  const Result r =
      tcsim("compare builtin:deepseek-v3 builtin:deepseek-v3 --set-b hardware.gpu=h100 --trials 20 --samples 200");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("h800") != std::string::npos);
  CHECK(r.out.find("h100") != std::string::npos);
  CHECK(r.out.find("final run at rental") != std::string::npos);
  CHECK(r.out.find("exposed communication") != std::string::npos);
  CHECK(r.out.find("pending") == std::string::npos);
  // The stand-in cannot split a step, and says so.
  const Result s = tcsim(
      "compare builtin:deepseek-v3 builtin:deepseek-v3 --set-b hardware.gpu=h100 --step-oracle peak-flops --trials 20 "
      "--samples 200");
  REQUIRE(s.code == 0);
  CHECK(s.out.find("pending") != std::string::npos);
  const Result j = tcsim("compare builtin:deepseek-v3 builtin:deepseek-v3 --json --trials 20 --samples 200");
  REQUIRE(j.code == 0);
  CHECK(j.out.find("\"difference\"") != std::string::npos);
}

TEST_CASE("bad flags and bad cost input exit with code 2 and say why") {
  CHECK(tcsim("report").code == 2);  // --out is required
  CHECK(tcsim("report --out /tmp/x --trials 0").code == 2);
  CHECK(tcsim("report --out /tmp/x --frobnicate").code == 2);
  CHECK(tcsim("compare builtin:deepseek-v3").code == 2);
  const Result r = tcsim("compare builtin:deepseek-v3 builtin:deepseek-v3 --set-b 'cost.owned.pue=0.5'");
  CHECK(r.code == 2);
  CHECK(r.err.find("cost.owned.pue") != std::string::npos);
  CHECK(tcsim("report --help").code == 0);
  CHECK(tcsim("compare --help").code == 0);
}
