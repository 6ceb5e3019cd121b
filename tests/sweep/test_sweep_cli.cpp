// `tcsim sweep` end to end on the tiny scenario: the table it writes, rows for
// variants that cannot run, determinism across threads, resume after a row cut
// short, header checks, shards and their merge, JSON lines, and flag errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/sweep/sweep_support.h"

using namespace sweep_test;
using tcsim_test::CliResult;

namespace {

// 2 GPUs x 8 batches x 3 SM counts = 48 variants.
constexpr const char* kVary =
    "--vary hardware.gpu=h800,h100 --vary 'training.phases[0].batch=8:64:8' --vary parallelism.comm_sms=4,8,12";
constexpr int kVariants = 48;

CliResult sweep(const std::string& more) { return run_tcsim("sweep " + tiny() + " " + more); }

}  // namespace

TEST_CASE("a sweep writes a header and one row per variant, numbered first --vary outermost") {
  const fs::path dir = scratch("basic");
  const fs::path out = dir / "out.csv";
  const CliResult r = sweep(std::string(kVary) + " --out " + out.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(
      read(out).starts_with("id,hardware.gpu,training.phases[0].batch,parallelism.comm_sms,status,reason,"
                            "memory_gib,capacity_gib,step_s,tokens_per_s_per_gpu,mfu,exposed_comm_s,bubble_s,"
                            "gpu_hours,wall_days,final_run_usd,owned_usd,rnd_p50_usd,oracle,settings\n"));
  CHECK(r.err.find("wrote 48 rows") != std::string::npos);
  CHECK(r.err.find("48 ok, 0 does-not-fit, 0 invalid") != std::string::npos);
  const auto t = table(out);
  REQUIRE(t.records.size() == kVariants);
  std::vector<std::int64_t> ids;
  for (const auto& rec : t.records) {
    ids.push_back(rec.id);
    // id = (gpu x 8 + batch index) x 3 + SM index
    const std::int64_t gpu = rec.id / 24;
    const std::int64_t batch = rec.id / 3 % 8;
    const std::int64_t sms = rec.id % 3;
    CHECK(rec.fields[1] == (gpu == 0 ? "h800" : "h100"));
    CHECK(rec.fields[2] == std::to_string(8 * (batch + 1)));
    CHECK(rec.fields[3] == std::to_string(4 * (sms + 1)));
    CHECK(rec.fields[4] == "ok");
    CHECK(std::stod(rec.fields[8]) > 0);  // step_s
    CHECK(rec.fields[13].empty());        // gpu_hours: step depth
  }
  std::sort(ids.begin(), ids.end());
  for (int i = 0; i < kVariants; ++i) CHECK(ids[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("a variant that cannot run is a row with its status and reason, not a failed sweep") {
  const fs::path out = scratch("failing") / "out.csv";
  // Eight pipeline stages for four layers; an H100 with 10 MB of memory.
  const CliResult r = sweep(
      "--vary 'parallelism={pp: 8, dp: 1},{pp: 2, dp: 4}' "
      "--vary 'hardware.gpu=h100,{preset: h100, hbm_capacity: \"10 MB\"}' --out " +
      out.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("1 ok, 1 does-not-fit, 2 invalid") != std::string::npos);
  CHECK(r.err.find("first invalid row, id 0") != std::string::npos);
  auto t = table(out);
  REQUIRE(t.records.size() == 4);
  std::sort(t.records.begin(), t.records.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  CHECK(t.records[0].fields[1] == "{pp: 8, dp: 1}");
  CHECK(t.records[0].fields[3] == "invalid");
  CHECK(t.records[0].fields[4].find("parallelism") != std::string::npos);
  CHECK(t.records[0].fields[7].empty());  // step_s
  CHECK(t.records[2].fields[3] == "ok");
  CHECK(t.records[2].fields[4].empty());
  CHECK(t.records[3].fields[2] == R"({preset: h100, hbm_capacity: "10 MB"})");
  CHECK(t.records[3].fields[3] == "does-not-fit");
  CHECK(t.records[3].fields[4].starts_with("memory "));
  // The budget exceeds the 10 MB (0.0093 GiB) capacity.
  CHECK(std::stod(t.records[3].fields[5]) > std::stod(t.records[3].fields[6]));
}

TEST_CASE("rows depend on the variant and the seed only, not on threads or completion order") {
  const fs::path dir = scratch("threads");
  REQUIRE(sweep(std::string(kVary) + " --jobs 1 --out " + (dir / "one.csv").string()).code == 0);
  REQUIRE(sweep(std::string(kVary) + " --jobs 3 --out " + (dir / "three.csv").string()).code == 0);
  CHECK(sorted(dir / "one.csv") == sorted(dir / "three.csv"));
}

TEST_CASE("a table cut mid-row resumes: the partial row is dropped and the sorted table is the same") {
  const fs::path dir = scratch("cut");
  const fs::path full = dir / "full.csv";
  REQUIRE(sweep(std::string(kVary) + " --out " + full.string()).code == 0);
  const std::string text = read(full);
  const fs::path cut = dir / "cut.csv";
  // Three fifths of the bytes: a kill in the middle of some row.
  std::ofstream(cut, std::ios::binary) << text.substr(0, text.size() * 3 / 5);
  REQUIRE(text[text.size() * 3 / 5 - 1] != '\n');
  const int before = rows_in(cut);
  const CliResult r = sweep(std::string(kVary) + " --out " + cut.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("dropped a row cut short") != std::string::npos);
  CHECK(r.err.find("wrote " + std::to_string(kVariants - before) + " rows") != std::string::npos);
  CHECK(sorted(cut) == sorted(full));
  // Run again: nothing is left to evaluate.
  const CliResult again = sweep(std::string(kVary) + " --out " + cut.string());
  CHECK(again.code == 0);
  CHECK(again.err.find("wrote 0 rows") != std::string::npos);
}

TEST_CASE("resuming a table of other --vary paths or values exits 2 and leaves the file as it was") {
  const fs::path out = scratch("mismatch") / "out.csv";
  REQUIRE(sweep(std::string(kVary) + " --out " + out.string()).code == 0);
  const std::string before = read(out);
  const CliResult paths = sweep("--vary hardware.gpu=h800,h100 --out " + out.string());
  CHECK(paths.code == 2);
  CHECK(paths.err.find("it holds a sweep of --vary (hardware.gpu, training.phases[0].batch, parallelism.comm_sms), "
                       "this one varies hardware.gpu; the file is left as it was") != std::string::npos);
  CHECK(read(out) == before);
  // The same paths with other values: ids would name other variants.
  const CliResult values = sweep(
      "--vary hardware.gpu=h100,h800 --vary 'training.phases[0].batch=8:64:8' --vary parallelism.comm_sms=4,8,12 "
      "--out " +
      out.string());
  CHECK(values.code == 2);
  CHECK(values.err.find("row id") != std::string::npos);
  CHECK(read(out) == before);
  // --restart replaces it.
  const CliResult restart = sweep("--vary hardware.gpu=h800,h100 --restart --out " + out.string());
  CHECK(restart.code == 0);
  CHECK(table(out).records.size() == 2);
}

TEST_CASE("resuming with other settings, or a table that holds an id twice, exits 2 and leaves the file as it was") {
  const fs::path out = scratch("settings") / "out.csv";
  REQUIRE(sweep(std::string(kVary) + " --depth step --out " + out.string()).code == 0);
  std::string before = read(out);
  // The same --vary with another --set, --depth or --seed would have mixed old and new rows silently.
  for (const char* other : {" --depth step --set parallelism.zero=2", " --depth run", " --depth step --seed 7"}) {
    const CliResult r = sweep(std::string(kVary) + other + " --out " + out.string());
    CHECK_MESSAGE(r.code == 2, other);
    CHECK(r.err.find("written with other settings") != std::string::npos);
    CHECK(read(out) == before);
  }
  // A row written twice (two sweeps appending before the lock) is refused, not resumed.
  const auto second_row = before.find('\n', before.find('\n') + 1) + 1;
  const std::string twice = before + before.substr(before.find('\n') + 1, second_row - before.find('\n') - 1);
  std::ofstream(out, std::ios::binary) << twice;
  const CliResult dup = sweep(std::string(kVary) + " --depth step --out " + out.string());
  CHECK(dup.code == 2);
  CHECK(dup.err.find("twice") != std::string::npos);
  CHECK(read(out) == twice);
}

TEST_CASE("shards 1/3, 2/3 and 3/3 merged are the unsharded sweep, byte for byte") {
  const fs::path dir = scratch("shards");
  const fs::path all = dir / "all.csv";
  REQUIRE(sweep(std::string(kVary) + " --out " + all.string()).code == 0);
  std::string inputs;
  for (int i = 1; i <= 3; ++i) {
    const fs::path shard = dir / ("shard-" + std::to_string(i) + ".csv");
    const CliResult r = sweep(std::string(kVary) + " --shard " + std::to_string(i) + "/3 --out " + shard.string());
    INFO(r.err);
    REQUIRE(r.code == 0);
    const auto t = table(shard);
    CHECK(t.records.size() == kVariants / 3);
    for (const auto& rec : t.records) CHECK(rec.id % 3 == i - 1);
    inputs += " " + shard.string();
  }
  const fs::path merged = dir / "merged.csv";
  const CliResult m = run_tcsim("sweep merge " + merged.string() + inputs);
  INFO(m.err);
  REQUIRE(m.code == 0);
  CHECK(m.out == "merged 48 rows from 3 files into " + merged.string() + "\n");
  CHECK(m.err.empty());  // ids 0..47, none missing
  CHECK(read(merged) == sorted(all));
}

TEST_CASE("merge drops exact duplicates, refuses one id with two results, and warns of missing ids") {
  const fs::path dir = scratch("merge");
  const fs::path a = dir / "a.csv";
  REQUIRE(sweep(std::string(kVary) + " --out " + a.string()).code == 0);
  const fs::path merged = dir / "merged.csv";
  const CliResult twice = run_tcsim("sweep merge " + merged.string() + " " + a.string() + " " + a.string());
  CHECK(twice.code == 0);
  CHECK(twice.out.find("merged 48 rows from 2 files") != std::string::npos);
  CHECK(twice.out.find("48 duplicate rows dropped") != std::string::npos);
  // Another result for one id.
  std::string text = read(a);
  const auto at = text.find(",ok,");
  REQUIRE(at != std::string::npos);
  text.replace(at, 4, ",invalid,");
  const fs::path b = dir / "b.csv";
  std::ofstream(b, std::ios::binary) << text;
  const CliResult conflict = run_tcsim("sweep merge " + merged.string() + " " + a.string() + " " + b.string());
  CHECK(conflict.code == 2);
  CHECK(conflict.err.find("differs between") != std::string::npos);
  // One shard alone: two thirds of the ids are missing.
  const fs::path shard = dir / "shard.csv";
  REQUIRE(sweep(std::string(kVary) + " --shard 2/3 --out " + shard.string()).code == 0);
  const CliResult gaps = run_tcsim("sweep merge " + merged.string() + " " + shard.string());
  CHECK(gaps.code == 0);
  CHECK(gaps.err.find("ids are not contiguous from 0 to 46: 31 missing (0, 2, 3, 5, 6, 8, 9, 11, 12, 14, ...)") !=
        std::string::npos);
  // An id at the top of int64 is counted as a gap, not walked through (that never ended).
  std::string huge = read(a);
  const auto row = huge.find('\n') + 1;
  huge = huge.substr(0, row) + "9223372036854775807" +
         huge.substr(huge.find(',', row), huge.find('\n', row) - huge.find(',', row) + 1);
  const fs::path h = dir / "huge.csv";
  std::ofstream(h, std::ios::binary) << huge;
  const CliResult far = run_tcsim("sweep merge " + merged.string() + " " + h.string());
  CHECK(far.code == 0);
  CHECK(far.err.find("9223372036854775807 missing (0, 1, 2") != std::string::npos);
  // Different columns.
  const fs::path other = dir / "other.csv";
  REQUIRE(sweep("--vary hardware.gpu=h800 --out " + other.string()).code == 0);
  CHECK(run_tcsim("sweep merge " + merged.string() + " " + a.string() + " " + other.string()).code == 2);
}

TEST_CASE("JSON lines: one object per row, resumable like CSV") {
  const fs::path dir = scratch("jsonl");
  const fs::path full = dir / "full.jsonl";
  REQUIRE(sweep(std::string(kVary) + " --out " + full.string()).code == 0);
  const auto t = table(full);
  CHECK(t.records.size() == kVariants);
  CHECK(t.columns == tcsim::reports::sweep_columns(
                         std::vector<std::string>{"hardware.gpu", "training.phases[0].batch", "parallelism.comm_sms"}));
  CHECK(read(full).find("\"training.phases[0].batch\":8,") != std::string::npos);  // a number, not "8"
  const std::string text = read(full);
  const fs::path cut = dir / "cut.jsonl";
  std::ofstream(cut, std::ios::binary) << text.substr(0, text.size() / 2);
  REQUIRE(sweep(std::string(kVary) + " --out " + cut.string()).code == 0);
  CHECK(sorted(cut) == sorted(full));
}

TEST_CASE("bad flags exit with code 2 and say what is wrong") {
  const std::string out = (scratch("flags") / "out.csv").string();
  const auto err = [&](const std::string& args) {
    const CliResult r = run_tcsim("sweep " + args);
    CHECK(r.code == 2);
    return r.err;
  };
  CHECK(err("--out " + out).find("--vary") != std::string::npos);
  CHECK(err("--vary hardware.gpu=h100").find("--out") != std::string::npos);
  CHECK(err("--vary hardware.gpu=h100 --out x.txt").find("FILE.csv or FILE.jsonl") != std::string::npos);
  CHECK(err("--vary hardware.gpu=h100 --shard 0/3 --out " + out).find("--shard") != std::string::npos);
  CHECK(err("--vary hardware.gpu=h100 --shard 4/3 --out " + out).find("--shard") != std::string::npos);
  CHECK(err("--vary hardware.gpu=h100 --depth deep --out " + out).find("--depth") != std::string::npos);
  CHECK(err("--vary hardware.gpu=h100 --jobs 0 --out " + out).find("--jobs") != std::string::npos);
  CHECK(err("--vary hardware.gpu=h100 --frobnicate --out " + out).find("unknown flag") != std::string::npos);
  CHECK(err("--vary 'parallelism={dp: 4' --out " + out).find("never closed") != std::string::npos);
  CHECK(err("no-such.yaml --vary hardware.gpu=h100 --out " + out).find("no such scenario") != std::string::npos);
  CHECK(err("merge " + out).find("OUT INPUT") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("sweep --help and sweep merge --help describe the flags") {
  const CliResult help = run_tcsim("sweep --help");
  CHECK(help.code == 0);
  for (const char* flag : {"--vary", "--out", "--jobs", "--shard", "--depth", "--seed", "--restart", "merge"}) {
    CHECK(help.out.find(flag) != std::string::npos);
  }
  const CliResult merge = run_tcsim("sweep merge --help");
  CHECK(merge.code == 0);
  CHECK(merge.out.find("sorted by id") != std::string::npos);
}
