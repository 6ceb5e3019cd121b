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

TEST_CASE("tcsim collective picks the fastest algorithm per size unless --algo forces one") {
  // An 8-byte all-reduce on 16 GPUs: the ring pays 2(n-1) latency-bound steps, the tree about 2 log2 n.
  const Result r = tcsim("--op all-reduce --size 8 --gpus 16 --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(has(r.out, "\"size_bytes\": 8,"));
  CHECK(has(r.out, "\"algo\": \"tree\""));
  const Result ring = tcsim("--op all-reduce --algo ring --size 8 --gpus 16 --json");
  const Result tree = tcsim("--op all-reduce --algo tree --size 8 --gpus 16 --json");
  REQUIRE(ring.code == 0);
  REQUIRE(tree.code == 0);
  const auto time_of = [](const std::string& json) {
    const std::size_t at = json.find("\"time_s\": ");
    return std::stod(json.substr(at + 10));
  };
  CHECK(time_of(tree.out) < time_of(ring.out));
  CHECK(time_of(r.out) == doctest::Approx(time_of(tree.out)));  // auto kept the tree's time
  CHECK(has(tcsim("--op all-reduce --size 8 --gpus 16").out, "the fastest of ring"));
}

TEST_CASE("tcsim collective takes nccl-tests' flags, spellings and sizes, and prints its table") {
  const Result r = tcsim("--op all_reduce_perf -b 8 -e 8M -f 4 -d half --gpus 16");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  // 8 B x 4^k up to 8 MiB (nccl-tests' M is 2^20): 2^3, 2^5, ..., 2^23, eleven sizes.
  int rows = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != '#') ++rows;
  }
  CHECK(rows == 11);
  CHECK(has(r.out, "(elements)"));
  CHECK(has(r.out, "# Avg bus bandwidth    : "));
  // The first row: 8 bytes of half precision are 4 elements, summed, no root.
  CHECK(has(r.out, "           8             4      half     sum      -1"));
  CHECK(has(r.out, "     8388608       4194304      half     sum      -1"));
  // allreduce, all_reduce and all-reduce are one op.
  const Result a = tcsim("--op allreduce --size 1M --gpus 8 --json");
  const Result b = tcsim("--op all-reduce --size 1MiB --gpus 8 --json");
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  CHECK(a.out.substr(0, a.out.find("\"wall_s\"")) == b.out.substr(0, b.out.find("\"wall_s\"")));
}

TEST_CASE("tcsim collective's average bus bandwidth is the mean of its rows") {
  const Result r = tcsim("--op all-gather -b 1M -e 64M -f 8 --gpus 16 --json");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  double sum = 0;
  int rows = 0;
  for (std::size_t at = r.out.find("\"busbw_bytes_per_s\": "); at != std::string::npos;
       at = r.out.find("\"busbw_bytes_per_s\": ", at + 1)) {
    sum += std::stod(r.out.substr(at + 21));
    ++rows;
  }
  REQUIRE(rows == 3);  // 1, 8 and 64 MiB
  const std::size_t avg = r.out.find("\"avg_busbw_bytes_per_s\": ");
  REQUIRE(avg != std::string::npos);
  CHECK(std::stod(r.out.substr(avg + 25)) == doctest::Approx(sum / rows));
}

TEST_CASE("tcsim collective refuses a bad range with exit code 2") {
  CHECK(tcsim("--size 8 -b 8 -e 16").code == 2);            // both a size and a range
  CHECK(tcsim("-b 8 -e 16 -f 1 --gpus 8").code == 2);       // a factor that never grows
  CHECK(tcsim("-b 16 -e 8 -f 2 --gpus 8").code == 2);       // max below min
  CHECK(tcsim("-b 1 -e 1G -i 1 --gpus 8").code == 2);       // over 1000 sizes
  CHECK(tcsim("--size 8 -d complex --gpus 8").code == 2);   // no such type
  CHECK(tcsim("-b 8 -e 16 -f 2 -i 4 --gpus 8").code == 2);  // a factor and a step
}
