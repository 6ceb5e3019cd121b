// `tcsim calibrate` end to end on the committed synthetic fixture: the profile
// it writes loads into a scenario, and a missing or failing kernels binary is
// bad input (exit 2) with a message, never a crash.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "calibrate/fit/samples.h"
#include "scenarios/loader.h"
#include "tests/calibrate/synthetic.h"
#include "tests/support/cli_runner.h"

namespace {

tcsim_test::CliResult run_tcsim(const std::string& args) { return tcsim_test::run_cli(TCSIM_BINARY, args); }

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("tcsim-calibrate-cli-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A stand-in for tcsim-calibrate-kernels: a shell script with `body`.
std::string fake_kernels(const std::filesystem::path& dir, const std::string& body) {
  const auto path = dir / "fake-kernels";
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path.string();
}

}  // namespace

TEST_CASE("the committed fixture is what the generator writes") {
  // Compared as numbers: the generator's noise goes through log and sqrt.
  const tcsim::calibrate::SampleSet committed = tcsim::calibrate::read_samples(TCSIM_FIXTURE);
  const tcsim::calibrate::SampleSet generated =
      tcsim::calibrate::parse_samples(tcsim_test::fixture_text(), "generated");
  REQUIRE(committed.samples.size() == generated.samples.size());
  for (std::size_t i = 0; i < committed.samples.size(); ++i) {
    CHECK(committed.samples[i].seconds.value() == doctest::Approx(generated.samples[i].seconds.value()));
    CHECK(committed.samples[i].flops == generated.samples[i].flops);
  }
  CHECK(committed.header.value("note").starts_with("SYNTHETIC"));
}

TEST_CASE("calibrate --samples fits the fixture and writes a profile a scenario can use") {
  const auto dir = scratch("fit");
  const std::string out = (dir / "synthetic.yaml").string();
  const tcsim_test::CliResult r = run_tcsim("calibrate --samples " + std::string(TCSIM_FIXTURE) + " --out " + out);
  INFO(r.out, r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("gemm.bf16") != std::string::npos);
  CHECK(r.out.find("deepseek-h100") != std::string::npos);  // the preset's default profile, beside
  CHECK(r.out.find("hbm copy (ceiling)") != std::string::npos);
  const tcsim::hw::CalibrationProfile p = tcsim::scenario::load_profile(out);
  CHECK(p.name == "synthetic");
  CHECK(p.gpu == "h100");
  // The fixture's parameters (synthetic.h): 700 and 1200 TFLOP/s, 2.8 TB/s, tile 128 x 256.
  CHECK(p.gemm_bf16.value.value() == doctest::Approx(700e12).epsilon(0.02));
  CHECK(p.gemm_fp8.value.value() == doctest::Approx(1200e12).epsilon(0.02));
  CHECK(p.hbm.value.value() == doctest::Approx(2.8e12).epsilon(0.02));
  CHECK(p.tile_n == 256);
  // The samples are named relative to the profile, and resolve to the fixture.
  CHECK(std::filesystem::equivalent(dir / p.samples, TCSIM_FIXTURE));

  // A scenario beside it names it, and the run uses its rates.
  std::ofstream(dir / "run.yaml") << "extends: builtin:deepseek-v3\n"
                                  << "hardware: {gpu: h100, calibration: synthetic.yaml}\n";
  const tcsim_test::CliResult run = run_tcsim("run " + (dir / "run.yaml").string());
  INFO(run.err);
  CHECK(run.code == 0);
  CHECK(run.out.find("profile synthetic") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("calibrate --gpu h800 from H100 samples writes an H800 profile that says so") {
  const auto dir = scratch("h800");
  const std::string out = (dir / "h800.yaml").string();
  const tcsim_test::CliResult r =
      run_tcsim("calibrate --samples " + std::string(TCSIM_FIXTURE) + " --gpu h800 --name h800-from-h100 --out " + out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("deepseek-h800") != std::string::npos);
  const tcsim::hw::CalibrationProfile p = tcsim::scenario::load_profile(out);
  CHECK(p.name == "h800-from-h100");
  CHECK(p.gpu == "h800");
  CHECK(p.provenance.find("stands for the h800") != std::string::npos);
  // A GPU the samples cannot stand for is bad input.
  const tcsim_test::CliResult bad = run_tcsim("calibrate --samples " + std::string(TCSIM_FIXTURE) +
                                              " --gpu a100 --out " + (dir / "a100.yaml").string());
  CHECK(bad.code == 2);
  CHECK(bad.err.find("GPU preset a100 has 108") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "a100.yaml"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("calibrate without samples runs the kernels binary and fits what it wrote") {
  const auto dir = scratch("kernels");
  // The stand-in copies the fixture to the --out it is given ($2).
  const std::string kernels = fake_kernels(dir, "cp '" + std::string(TCSIM_FIXTURE) + "' \"$2\"");
  const std::string out = (dir / "mygpu.yaml").string();
  const tcsim_test::CliResult r = run_tcsim("calibrate --kernels " + kernels + " --out " + out);
  INFO(r.out, r.err);
  REQUIRE(r.code == 0);
  CHECK(std::filesystem::exists(dir / "mygpu.samples.csv"));
  const tcsim::hw::CalibrationProfile p = tcsim::scenario::load_profile(out);
  CHECK(p.samples == "mygpu.samples.csv");
  std::filesystem::remove_all(dir);
}

TEST_CASE("a missing or failing kernels binary exits 2 with a message and writes nothing") {
  const auto dir = scratch("fail");
  const std::string out = (dir / "p.yaml").string();
  const tcsim_test::CliResult missing =
      run_tcsim("calibrate --kernels " + (dir / "nothing").string() + " --out " + out);
  CHECK(missing.code == 2);
  CHECK(missing.err.find("no calibration kernels at") != std::string::npos);
  const tcsim_test::CliResult failing =
      run_tcsim("calibrate --kernels " + fake_kernels(dir, "echo 'no CUDA device' >&2; exit 3") + " --out " + out);
  CHECK(failing.code == 2);
  CHECK(failing.err.find("exited with status 3") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
  // Without --out there is nothing to write.
  CHECK(run_tcsim("calibrate --samples x.csv").code == 2);
  // Malformed samples: exit 2 with the file and line.
  std::ofstream(dir / "bad.csv") << "# gpu: NVIDIA H100\n# sms: 132\nfamily,variant\n";
  const tcsim_test::CliResult bad = run_tcsim("calibrate --samples " + (dir / "bad.csv").string() + " --out " + out);
  CHECK(bad.code == 2);
  CHECK(bad.err.find("bad.csv:3:1: expected the header line") != std::string::npos);
  std::filesystem::remove_all(dir);
}
