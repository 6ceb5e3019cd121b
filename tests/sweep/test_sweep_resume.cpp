// A thousand-variant sweep killed part way (SIGKILL, then Ctrl-C's SIGINT)
// and rerun: sorted by id, the resumed table is the uninterrupted one byte for
// byte. CTest label `slow` (a few seconds; CI runs it).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/sweep/sweep_support.h"

using namespace sweep_test;

namespace {

std::vector<std::string> thousand(const fs::path& out, const std::string& jobs) {
  std::vector<std::string> args{"sweep", TCSIM_SWEEP_SCENARIO, "--depth", "step", "--jobs", jobs,
                                "--out", out.string()};
  args.insert(args.end(), kThousand.begin(), kThousand.end());
  return args;
}

// The uninterrupted sweep, sorted: computed once for both cases.
const std::string& reference() {
  static const std::string text = [] {
    const fs::path out = scratch("reference") / "all.csv";
    const tcsim_test::CliResult r = run_tcsim(joined(thousand(out, "2")));
    INFO(r.err);
    REQUIRE(r.code == 0);
    REQUIRE(rows_in(out) == 1000);
    return sorted(out);
  }();
  return text;
}

}  // namespace

TEST_CASE("a sweep killed with SIGKILL and rerun gives the uninterrupted table, sorted by id") {
  const fs::path dir = scratch("sigkill");
  const fs::path out = dir / "killed.csv";
  {
    Child child(thousand(out, "1"), dir / "err.txt");
    REQUIRE_MESSAGE(child.wait_for_rows(out, 100), "the sweep finished before it could be killed");
    child.signal(SIGKILL);
    child.wait();
  }
  const int kept = rows_in(out);
  CHECK(kept >= 100);
  CHECK(kept < 1000);
  const tcsim_test::CliResult r = run_tcsim(joined(thousand(out, "2")));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("1000 of 1000 variants done") != std::string::npos);
  CHECK(sorted(out) == reference());
}

TEST_CASE("Ctrl-C writes the rows in flight, exits with code 130 and says how to resume") {
  const fs::path dir = scratch("sigint");
  const fs::path out = dir / "stopped.csv";
  const fs::path err = dir / "err.txt";
  Child child(thousand(out, "2"), err);
  REQUIRE_MESSAGE(child.wait_for_rows(out, 100), "the sweep finished before it could be interrupted");
  child.signal(SIGINT);
  const int status = child.wait();
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  const int kept = rows_in(out);
  CHECK(kept < 1000);
  // Every row the message counts is in the file, and whole.
  CHECK(read(err).find("interrupted: " + std::to_string(kept) +
                       " of 1000 rows written; rerun the same command "
                       "to resume") != std::string::npos);
  CHECK(read(out).ends_with("\n"));
  const tcsim_test::CliResult r = run_tcsim(joined(thousand(out, "2")));
  REQUIRE(r.code == 0);
  CHECK(r.err.find("wrote " + std::to_string(1000 - kept) + " rows") != std::string::npos);
  CHECK(sorted(out) == reference());
}
