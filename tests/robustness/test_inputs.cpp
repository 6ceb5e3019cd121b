// Inputs are bounded before they are trusted: every file tcsim reads is read
// through one function (core/text_file.h) that takes regular files only and
// stops at a size cap, so a FIFO, a device or a huge file is a clean refusal
// (exit 2, naming the file and, where a key led there, its place), never a
// hang or an exhausted memory.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/cli_runner.h"

namespace {

using Result = tcsim_test::CliResult;

// Every call is bounded by `timeout`: a hang fails the test instead of stalling the suite.
Result tcsim(const std::string& args) { return tcsim_test::run_cli("timeout 60 " TCSIM_BINARY, args); }

std::filesystem::path dir() {
  static const std::filesystem::path d = [] {
    const auto p = std::filesystem::temp_directory_path() / ("tcsim-robustness-" + std::to_string(::getpid()));
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    return p;
  }();
  return d;
}

std::string fifo(const std::string& name) {
  const auto p = dir() / name;
  std::filesystem::remove(p);
  REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
  return p.string();
}

std::string write(const std::string& name, const std::string& text) {
  const auto p = dir() / name;
  std::ofstream(p) << text;
  return p.string();
}

void refused(const Result& r, const std::string& says) {
  CHECK(r.code == 2);
  CHECK_MESSAGE(r.err.find(says) != std::string::npos, r.err);
}

}  // namespace

TEST_CASE("a FIFO where a scenario, an extended scenario or a calibration profile should be is refused, not read") {
  const std::string f = fifo("scenario.yaml");
  refused(tcsim("run " + f), "not a regular file");
  const std::string ext = write("extends-fifo.yaml", "extends: " + f + "\n");
  const Result e = tcsim("run " + ext);
  refused(e, "not a regular file");
  CHECK(e.err.find("extends-fifo.yaml:1:10: extends") != std::string::npos);
  refused(tcsim("run --step-only --set hardware.calibration=" + f), "not a regular file");
}

TEST_CASE("a device or a directory is not a scenario") {
  const std::string zero = write("extends-zero.yaml", "extends: /dev/zero\n");
  refused(tcsim("run " + zero), "not a regular file");
  refused(tcsim("run " + dir().string()), "not a regular file");
}

TEST_CASE("a scenario larger than the cap is refused before it is parsed") {
  // 1 MiB is the cap (scenarios/loader.cpp); 5 MiB of comments is over it.
  std::string big(5 << 20, '#');
  big += "\n";
  refused(tcsim("run " + write("big.yaml", big)), "larger than 1048576 bytes");
}

TEST_CASE("a list of a million items is refused while it is converted, before any value is checked") {
  // Just under the 1 MiB cap: [1,1,...] holds about 524,000 items, over the
  // 200,000 values a document may hold (scenarios/yaml_read.cpp).
  std::string list = "name: [";
  while (list.size() < (1 << 20) - 16) list += "1,";
  list += "1]\n";
  refused(tcsim("run " + write("long-list.yaml", list)), "document too large (over 200000 values");
}

TEST_CASE("validation cases and calibration samples go through the same bounded reader") {
  const std::string cases = (dir() / "cases").string();
  std::filesystem::create_directories(cases);
  std::filesystem::remove(std::filesystem::path(cases) / "a.yaml");
  REQUIRE(::mkfifo((std::filesystem::path(cases) / "a.yaml").c_str(), 0600) == 0);
  refused(tcsim("validate --dir " + cases), "not a regular file");
  refused(tcsim("calibrate --samples " + fifo("samples.csv") + " --out " + (dir() / "p.yaml").string()),
          "not a regular file");
  CHECK_FALSE(std::filesystem::exists(dir() / "p.yaml"));
}

TEST_CASE("a quantity is finite after its unit, or it is refused with its key") {
  // "1e300" is a finite number; times 1e12 bytes per TB it is not.
  const Result r = tcsim("run --step-only --set 'hardware.network.nic_bandwidth=1e300 TB/s'");
  refused(r, "out of range");
  CHECK(r.err.find("hardware.network.nic_bandwidth") != std::string::npos);
  refused(tcsim("collective --op all-reduce --gpus 8 --size '1e300 PB'"), "out of range");
}

TEST_CASE("a simulated time past the clock's range is refused, never wrapped or spun on") {
  // int64 nanoseconds end after about 292 years; a 300-year latency used to wrap and loop or print nonsense.
  refused(tcsim("run --step-only --set 'hardware.network.latency_nvlink=300 years'"), "clock's range");
  refused(tcsim("run --step-only --set 'hardware.gpu={preset: h800, nvlink_bandwidth: \"1e-3 b/s\"}'"),
          "clock's range");
}

TEST_CASE("a batch too large to simulate is refused at load, with the limit, before anything is allocated") {
  // 1e15 sequences used to overflow an int into "-1456365568 micro-batches" and exit 0; 4e7 ran out of memory.
  for (const char* batch : {"1e15", "4e7"}) {
    const Result r = tcsim(std::string("run --step-only --set 'training.phases[0].batch=") + batch + "'");
    refused(r, "micro-batches per pipeline");
    CHECK(r.err.find("up to 16384") != std::string::npos);
  }
}

TEST_CASE("a scenario is one document of UTF-8 text; a message quotes values, not whole files") {
  // Latin-1 "café": byte 0xE9 alone is not UTF-8, and would have reached the JSON output as it was.
  const Result latin1 = tcsim("run " + write("latin1.yaml", "name: \"caf\xe9\"\nextends: builtin:deepseek-v3\n"));
  refused(latin1, "not UTF-8");
  CHECK(latin1.err.find("latin1.yaml:1:11") != std::string::npos);
  refused(tcsim("run " + write("nul.yaml", std::string("name: \"a\0b\"\n", 12) + "extends: builtin:deepseek-v3\n")),
          "control character 0x00");
  // A second document after --- was silently ignored.
  const Result two = tcsim("run " + write("two.yaml", "extends: builtin:deepseek-v3\n---\nname: two\n"));
  refused(two, "a second YAML document");
  CHECK(two.err.find("two.yaml:2:1") != std::string::npos);
  // Text after the end marker is another document too.
  refused(tcsim("run " + write("dots.yaml", "extends: builtin:deepseek-v3\n...\nname: x\n")),
          "after the end of the document");
  // A leading --- is the first document's start, not a second one.
  CHECK(tcsim("run --step-only " + write("lead.yaml", "---\nextends: builtin:deepseek-v3\n")).code == 0);
  // A file that is not a scenario (extends: /etc/passwd) is quoted in part, not dumped.
  const Result passwd = tcsim("run " + write("passwd.yaml", "extends: /etc/passwd\n"));
  CHECK(passwd.code == 2);
  CHECK(passwd.err.size() < 600);
  // UTF-8 text is kept as it was written, and the JSON carries it.
  const Result utf8 =
      tcsim("run --step-only --json " + write("utf8.yaml", "name: \"caf\xc3\xa9\"\nextends: builtin:deepseek-v3\n"));
  CHECK(utf8.code == 0);
  CHECK(utf8.out.find("\"name\": \"caf\xc3\xa9\"") != std::string::npos);
}

TEST_CASE("a second writer of one sweep table is refused at once, before it reads or writes anything") {
  // Two sweeps on one --out both exited 0 and left duplicate ids and a torn row. Here this process holds the
  // lock a running sweep would hold (OUT.lock, flock), and the second sweep must back off.
  const std::string out = (dir() / "locked.csv").string();
  const int fd = ::open((out + ".lock").c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  const Result r = tcsim("sweep --vary 'cost.rental=$2/GPU-h,$3/GPU-h' --out " + out);
  refused(r, "another tcsim is writing it");
  CHECK_FALSE(std::filesystem::exists(out));
  ::close(fd);
}

TEST_CASE("sweep tables are read through the same reader: a directory is not an empty table") {
  // A directory given to merge was read as an empty table; as --out it ended in exit 1.
  const std::string folder = (dir() / "a-folder.csv").string();
  std::filesystem::create_directories(folder);
  refused(tcsim("sweep merge " + (dir() / "merged.csv").string() + " " + folder), "not a regular file");
  refused(tcsim("sweep --vary 'cost.rental=$2/GPU-h,$3/GPU-h' --out " + folder), "not a regular file");
  refused(tcsim("sweep merge " + (dir() / "merged.csv").string() + " " + (dir() / "none.csv").string()),
          "no such file");
}

TEST_CASE("an output behind a symbolic link is written through it, and the link stays") {
  // A resumed sweep's repair, plan --out and sweep merge replaced the link with a file.
  const auto real = dir() / "real-trace.json";
  const auto link = dir() / "link-trace.json";
  std::filesystem::remove(link);
  std::ofstream(real) << "old";
  std::filesystem::create_symlink(real, link);
  const Result r = tcsim("run --step-only --trace " + link.string());
  CHECK(r.code == 0);
  CHECK(std::filesystem::is_symlink(std::filesystem::symlink_status(link)));
  CHECK(std::filesystem::file_size(real) > 3);  // the trace went to the file the link names
}

TEST_CASE("a malformed scenario the fuzzer found is refused at once") {
  // 1.5 KB of a mutated scenario on which yaml-cpp's LoadAll looped forever, allocating (tests/fuzz/corpus keeps
  // the fuzzer's input): one document is read, and the error comes back at once.
  const Result r = tcsim("run " + std::string(TCSIM_SOURCE_DIR) + "/tests/robustness/loadall-loop.yaml");
  refused(r, "loadall-loop.yaml:4:1");
}

TEST_CASE("a cluster too large for its fabric is refused at load, with its place, before the graph is built") {
  // 2^20 nodes of 8 GPUs on 64-port switches: 1024 pods where a three-layer fat-tree has room for 64. This was
  // refused only by the graph builder, after 12 s and 2.4 GB; now the rule set says so at load.
  const Result r = tcsim(
      "run --step-only --set hardware.nodes=1048576 --set 'training.phases[0].batch=1048576' "
      "--set 'training.phases[0].batch_ramp.from=1048576' --set 'training.phases[1].batch=1048576' "
      "--set 'training.phases[2].batch=1048576' --set parallelism.schedule=1f1b");
  refused(r, "hardware.network.switch_radix: 1024 pods exceed a three-layer fat-tree of 64-port switches");
  CHECK(r.err.find("deepseek-v3.yaml:") != std::string::npos);
}

TEST_CASE("sweep merge refuses a table damaged in the middle instead of dropping the rows after the damage") {
  // A quote opened on line 3 and never closed: merge used to drop every row after it with a warning about "its
  // last row". Now the input is refused naming the line, and nothing is written.
  const std::string in = write("damaged.csv", "id,a\n0,x\n1,\"y\n2,z\n3,w\n");
  const std::string out = (dir() / "merged-damaged.csv").string();
  std::filesystem::remove(out);
  refused(tcsim("sweep merge " + out + " " + in), "damaged.csv:3: a quote opened on this line is never closed");
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("--jobs beyond the threads one process may start is a refusal, not a failure to start them") {
  // --jobs 100000 ended in exit 1 (std::system_error from std::thread).
  refused(tcsim("sweep --vary 'cost.rental=$2/GPU-h,$3/GPU-h' --jobs 100000 --out " + (dir() / "j.csv").string()),
          "--jobs: at most 1024 threads, got 100000");
  refused(tcsim("plan --jobs 100000"), "--jobs: at most 1024 threads");
}
