// End-to-end: `tcsim collective` flags, exit codes and output.
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

using Result = tcsim_test::CliResult;

Result tcsim(const std::string& args) { return tcsim_test::run_cli(TCSIM_BINARY, "collective " + args); }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("tcsim collective --help explains every flag") {
  const Result r = tcsim("--help");
  CHECK(r.code == 0);
  for (const char* flag : {"--op", "--algo", "--size", "--gpus", "--channels", "--chunk", "--every-step", "--set",
                           "--json", "--tokens", "--experts", "--top-k", "--max-nodes", "--node-score-experts",
                           "--token-bytes", "--zipf", "--expert-weights", "--seed"}) {
    CHECK_MESSAGE(has(r.out, flag), flag);
  }
}

TEST_CASE("tcsim collective prints time, algbw and busbw") {
  const Result r = tcsim("--op all-reduce --size 1GiB --gpus 8");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(has(r.out, "time"));
  CHECK(has(r.out, "algbw"));
  CHECK(has(r.out, "busbw"));
}

TEST_CASE("tcsim collective --json reports nccl-tests' figures") {
  const Result r = tcsim("--op all-gather --size 256MiB --gpus 16 --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  for (const char* key : {"\"time_s\"", "\"algbw_bytes_per_s\"", "\"busbw_bytes_per_s\"", "\"gpus\": 16"}) {
    CHECK_MESSAGE(has(r.out, key), key);
  }
}

TEST_CASE("tcsim collective rejects bad input with exit code 2") {
  CHECK(tcsim("--size 1GiB --gpus 100000").code == 2);                         // more GPUs than the cluster
  CHECK(tcsim("--size lots --gpus 8").code == 2);                              // not a size
  CHECK(tcsim("--size 1GiB --bogus").code == 2);                               // unknown flag
  CHECK(tcsim("--op all-gather --algo tree --size 1GiB --gpus 8").code == 2);  // no such algorithm
  CHECK(tcsim("--op all-reduce --gpus 8").code == 2);                          // size missing
  const Result r = tcsim("--op broadcast --size 1GiB");
  CHECK(r.code == 2);
  CHECK(has(r.err, "--op"));
}

TEST_CASE("tcsim collective simulates expert dispatch") {
  const Result r = tcsim("--op ep-dispatch --gpus 16 --tokens 256 --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(has(r.out, "\"deepep_rdma_bytes_per_s\""));
}
