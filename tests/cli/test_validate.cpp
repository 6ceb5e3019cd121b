// End-to-end: `tcsim validate`, the suite of published cases (validation/*.yaml).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/cli_runner.h"

namespace {

using Result = tcsim_test::CliResult;

Result tcsim(const std::string& args) { return tcsim_test::run_cli(TCSIM_BINARY, args); }

// Every number after `"key": ` in compact JSON text, in order.
std::vector<double> numbers_after(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\": ";
  std::vector<double> out;
  for (auto at = json.find(needle); at != std::string::npos; at = json.find(needle, at + 1)) {
    out.push_back(std::strtod(json.c_str() + at + needle.size(), nullptr));
  }
  return out;
}

// A folder of case files for one test.
std::filesystem::path case_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

}  // namespace

TEST_CASE("validate runs every built-in case and sets each published figure beside its prediction") {
  const Result r = tcsim("validate --json");
  REQUIRE(r.code == 0);
  // Every case ran.
  CHECK(r.out.find("\"ran\": false") == std::string::npos);
  const std::vector<double> published = numbers_after(r.out, "published");
  const std::vector<double> predicted = numbers_after(r.out, "predicted");
  const std::vector<double> errors = numbers_after(r.out, "error");
  REQUIRE(published.size() == errors.size());
  REQUIRE(predicted.size() == errors.size());
  REQUIRE(published.size() >= 9);
  // The figures the sources print: V3-TR §1 and Table 1, Megatron-Bridge's table.
  const auto has = [&](double v) {
    for (double p : published) {
      if (std::abs(p - v) <= 1e-9 * v) return true;
    }
    return false;
  };
  CHECK(has(180e3));
  CHECK(has(2664e3));
  CHECK(has(2788e3));
  CHECK(has(5.576e6));
  CHECK(has(1297));
  // The kernel case measures DeepSeek's profile: its README gives the compute stream 118.2 ms busy, the
  // weight-gradient stream 11.4 ms and 1.1 ms of casts on the communication stream (outside DeepEP's
  // kernels), 130.7 ms in all; and the GPU span of its kernels, 129.0 ms.
  bool compute = false, span = false;
  for (double p : published) {
    compute = compute || std::abs(p - (118.2 + 11.4 + 1.1)) < 0.005 * 130.7;
    span = span || std::abs(p - 129.0) < 0.001 * 129.0;
  }
  CHECK(compute);
  CHECK(span);
  // Each error is (predicted - published) / published, and the mean absolute error is their mean.
  double sum = 0;
  for (std::size_t i = 0; i < errors.size(); ++i) {
    CHECK(errors[i] == doctest::Approx((predicted[i] - published[i]) / published[i]).epsilon(1e-9));
    sum += std::abs(errors[i]);
  }
  const std::vector<double> mae = numbers_after(r.out, "mean_absolute_error");
  REQUIRE(mae.size() == 1);
  CHECK(mae[0] == doctest::Approx(sum / static_cast<double>(errors.size())));
}

TEST_CASE("validate prints the table, the mean absolute error, the memory check and each source") {
  const Result r = tcsim("validate --case deepseek-v3-step --case megatron-deepseek-v3-h100");
  REQUIRE(r.code == 0);
  CHECK(r.out.find("GPU-hours per 1T tokens") != std::string::npos);
  CHECK(r.out.find("180K") != std::string::npos);
  CHECK(r.out.find("Mean absolute error") != std::string::npos);
  CHECK(r.out.find("memory per GPU") != std::string::npos);
  CHECK(r.out.find("arXiv:2412.19437") != std::string::npos);
  // Only the cases asked for.
  CHECK(r.out.find("deepseek-v3-kernels") == std::string::npos);
}

TEST_CASE("validate --list names the cases without running them; an unknown case exits 2 with the names") {
  const Result list = tcsim("validate --list");
  REQUIRE(list.code == 0);
  CHECK(list.out.find("deepseek-v3-step") != std::string::npos);
  CHECK(list.out.find("Mean absolute error") == std::string::npos);
  const Result bad = tcsim("validate --case no-such-case");
  CHECK(bad.code == 2);
  CHECK(bad.err.find("no-such-case") != std::string::npos);
  CHECK(bad.err.find("deepseek-v3-step") != std::string::npos);
  CHECK(tcsim("validate --bogus").code == 2);
  CHECK(tcsim("validate --dir /nonexistent-dir").code == 2);
}

TEST_CASE("a user's case folder: a good case runs, a bad one exits 2 with file:line:column and its key") {
  const auto dir = case_dir("tcsim-validate-cases");
  // A step case against the built-in scenario; 1 GPU-hour per 1T tokens is far from any prediction.
  write(dir / "mine.yaml",
        "title: mine\nsource: me\nscenario: builtin:deepseek-v3\n"
        "published:\n  - {quantity: gpu_hours_per_trillion_tokens, value: 1, source: a guess}\n");
  const Result ok = tcsim("validate --json --dir " + dir.string());
  REQUIRE(ok.code == 0);
  CHECK(ok.out.find("\"name\": \"mine\"") != std::string::npos);
  CHECK(numbers_after(ok.out, "error").at(0) > 1000);

  // MFU needs the FLOP convention it was counted with.
  write(dir / "bad.yaml",
        "title: bad\nsource: me\nscenario: builtin:deepseek-v3\n"
        "published:\n  - quantity: mfu\n    value: 0.4\n    source: x\n");
  const Result bad = tcsim("validate --dir " + dir.string());
  CHECK(bad.code == 2);
  CHECK(bad.err.find("bad.yaml:5:5") != std::string::npos);
  CHECK(bad.err.find("published[0].flops") != std::string::npos);

  // A quantity of another kind of case, and a scenario that is not there.
  write(dir / "bad.yaml",
        "title: bad\nsource: me\nscenario: builtin:deepseek-v3\n"
        "published:\n  - {quantity: final_run_usd, value: 5, source: x}\n");
  const Result kind = tcsim("validate --dir " + dir.string());
  CHECK(kind.code == 2);
  CHECK(kind.err.find("published[0].quantity") != std::string::npos);
  CHECK(kind.err.find("run cases") != std::string::npos);
  write(
      dir / "bad.yaml",
      "title: bad\nsource: me\nscenario: missing.yaml\npublished:\n  - {quantity: step_time_s, value: 5, source: x}\n");
  const Result missing = tcsim("validate --dir " + dir.string());
  CHECK(missing.code == 2);
  CHECK(missing.err.find("bad.yaml:3:11") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a case that cannot run is reported with why, the others still run, and the exit code is 1") {
  const auto dir = case_dir("tcsim-validate-broken");
  write(dir / "a-broken.yaml",
        "title: broken\nkind: run\nsource: me\nscenario: builtin:deepseek-v3\n"
        "published:\n  - {quantity: gpu_hours, phase: no-such-phase, value: 5, source: x}\n");
  write(dir / "b-fine.yaml",
        "title: fine\nsource: me\nscenario: builtin:deepseek-v3\n"
        "published:\n  - {quantity: step_time_s, value: 20, source: x}\n");
  const Result r = tcsim("validate --dir " + dir.string());
  CHECK(r.code == 1);
  CHECK(r.out.find("no-such-phase") != std::string::npos);
  CHECK(r.out.find("b-fine") != std::string::npos);
  CHECK(r.out.find("step time") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a case file that is not a regular file is refused with exit 2") {
  const auto dir = case_dir("tcsim-validate-dir-case");
  std::filesystem::create_directories(dir / "folder.yaml");
  const Result r = tcsim("validate --dir " + dir.string());
  CHECK(r.code == 2);
  CHECK(r.err.find("not a regular file") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("every catalog GPU simulates a step with its default profile") {
  // A BF16 dense plan (DeepSeek 67B, TP8 PP8) on each preset: each has a profile of public measured rates.
  for (const std::string gpu : {"h100", "h800", "a100", "a800", "h20", "h200"}) {
    const Result r = tcsim("run --step-only --json builtin:deepseek-67b-tp8 --set hardware.gpu=" + gpu);
    CHECK_MESSAGE(r.code == 0, gpu << ": " << r.err);
    const std::vector<double> t = numbers_after(r.out, "time_s");
    REQUIRE_MESSAGE(!t.empty(), gpu);
    CHECK(t.front() > 0);
  }
  // The A100 has no FP8 tensor cores: an FP8 scenario is refused at load, with the key.
  const Result fp8 = tcsim("run --step-only --set hardware.gpu=a100");
  CHECK(fp8.code == 2);
  CHECK(fp8.err.find("precision.gemm") != std::string::npos);
}

TEST_CASE("a GPU without a calibration profile is an error that names the fix, never a silent 'not simulated'") {
  const Result r = tcsim(
      "run --step-only --set 'hardware.gpu={name: custom, sms: 132, bf16_dense: \"989 TFLOP/s\", fp8_dense: \"1979 "
      "TFLOP/s\", hbm_capacity: \"80 GB\", hbm_bandwidth: \"3.35 TB/s\", nvlink_bandwidth: \"450 GB/s\", tdp: \"700 "
      "W\"}'");
  CHECK(r.code == 2);
  CHECK(r.err.find("hardware.calibration") != std::string::npos);
  CHECK(r.err.find("tcsim calibrate") != std::string::npos);
  CHECK(r.out.find("not simulated") == std::string::npos);
}
