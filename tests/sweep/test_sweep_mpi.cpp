// `tcsim sweep` under mpirun: three ranks, each a shard, merged by rank 0 into
// the table one process writes (sorted by id), with no rank files left.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/sweep/sweep_support.h"

using namespace sweep_test;

namespace {

std::string sweep_args(const fs::path& out) {
  return "sweep " + tiny() + " " + joined(kThousand) + " --jobs 1 --out " + out.string();
}

}  // namespace

TEST_CASE("three MPI ranks write, merged, the table a single process writes, sorted by id") {
  const fs::path dir = scratch("mpi");
  const fs::path single = dir / "single.csv";
  REQUIRE(run_tcsim(sweep_args(single)).code == 0);
  const fs::path out = dir / "ranks.csv";
  const tcsim_test::CliResult r = tcsim_test::run_cli(
      std::string(TCSIM_MPIEXEC) + " --allow-run-as-root --oversubscribe -n 3 " + TCSIM_BINARY, sweep_args(out));
  INFO(r.out, r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("merged 1000 rows from 3 ranks") != std::string::npos);
  CHECK(read(out) == sorted(single));
  for (int rank = 0; rank < 3; ++rank) CHECK_FALSE(fs::exists(out.string() + ".rank-" + std::to_string(rank)));
  // Rerun: every row is already merged, nothing is evaluated.
  const tcsim_test::CliResult again = tcsim_test::run_cli(
      std::string(TCSIM_MPIEXEC) + " --allow-run-as-root --oversubscribe -n 3 " + TCSIM_BINARY, sweep_args(out));
  REQUIRE(again.code == 0);
  CHECK(again.err.find("wrote 0 rows") != std::string::npos);
  CHECK(read(out) == sorted(single));
}
