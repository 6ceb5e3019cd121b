// From samples to a profile the simulator reads: the written YAML loads back
// to the fitted rates, a slower fitted GPU makes DeepSeek-V3's expert GEMMs
// slower, the fitted launch time is added exactly once, and a profile only
// describes the GPU it was measured on (or the same die).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "calibrate/fit/calibration.h"
#include "calibrate/fit/profile_writer.h"
#include "calibrate/fit/samples.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "hardware/op_time.h"
#include "model/ops.h"
#include "scenarios/loader.h"
#include "tests/calibrate/synthetic.h"

using namespace tcsim;
using namespace tcsim::calibrate;
using tcsim_test::FixtureTruth;
using tcsim_test::SyntheticSamples;

namespace {

SampleSet synthetic(const std::string& gpu, const FixtureTruth& t, bool all = true) {
  SyntheticSamples s(gpu, 132, 11, 0.01, 5);
  s.comment("date", "2026-01-01");
  s.comment("driver", "550.54.15");
  s.header();
  if (all) {
    tcsim_test::add_all_families(s, t);
  } else {
    for (const auto& g : tcsim_test::kGemmShapes) s.gemm("bf16", g.m, g.n, g.k, g.groups, t.bf16);
  }
  return parse_samples(s.text(), "synthetic.csv");
}

std::string error_of(const SampleSet& s, const std::string& gpu) {
  try {
    calibrate::calibrate(s, {.gpu = gpu, .name = "x", .samples = "x.csv"});
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a written profile loads back with the fitted rates, overheads and sources") {
  const Calibration c = calibrate::calibrate(synthetic("NVIDIA H100 80GB HBM3", FixtureTruth{}),
                                             {.name = "fitted-h100", .samples = "fitted-h100.samples.csv"});
  const std::string yaml = profile_yaml(c);
  const hw::CalibrationProfile p = scenario::load_profile_text(yaml, "fitted-h100.yaml");
  CHECK(p.name == "fitted-h100");
  CHECK(p.gpu == "h100");
  CHECK(p.sms == 132);
  CHECK(p.samples == "fitted-h100.samples.csv");
  // Six significant digits written: within 5e-6 of the fit.
  CHECK(p.gemm_bf16.value.value() == doctest::Approx(c.profile.gemm_bf16.value.value()).epsilon(5e-6));
  CHECK(p.gemm_fp8.value.value() == doctest::Approx(c.profile.gemm_fp8.value.value()).epsilon(5e-6));
  CHECK(p.hbm.value.value() == doctest::Approx(c.profile.hbm.value.value()).epsilon(5e-6));
  CHECK(p.attention_forward.value.value() == doctest::Approx(c.profile.attention_forward.value.value()).epsilon(5e-6));
  CHECK(p.attention_backward.overhead.value() ==
        doctest::Approx(c.profile.attention_backward.overhead.value()).epsilon(5e-6));
  CHECK(p.gemm_bf16.overhead.value() == doctest::Approx(c.fits.gemm_bf16->t0.value()).epsilon(5e-6));
  CHECK(p.tile_m == 128);
  CHECK(p.tile_n == 256);
  CHECK(p.gemm_bf16.source == c.profile.gemm_bf16.source);
  CHECK(
      p.gemm_bf16.source.starts_with("fitted to 15 shapes x 5 repeats (gemm, grouped_gemm) of "
                                     "tcsim-calibrate-kernels on NVIDIA H100 80GB HBM3, 2026-01-01"));
  CHECK(p.gemm_bf16.source.ends_with("; samples: fitted-h100.samples.csv"));
  CHECK(p.provenance.find("driver 550.54.15") != std::string::npos);
  // The report is there for people.
  CHECK(yaml.find("\nfit:\n") != std::string::npos);
  CHECK(yaml.find("residual_rms") != std::string::npos);
  CHECK(yaml.find("hbm_copy:") != std::string::npos);
}

TEST_CASE("profiles without overheads or a fit report still load, with zero overhead") {
  const hw::CalibrationProfile p = scenario::load_profile("builtin:public-h800");
  CHECK(p.gemm_fp8.overhead.value() == 0);
  CHECK(p.samples.empty());
  // A fit report must be a map, if present.
  const std::string yaml =
      profile_yaml(calibrate::calibrate(synthetic("NVIDIA H100 80GB HBM3", FixtureTruth{}), {.samples = "s.csv"}));
  const std::string bad = yaml.substr(0, yaml.find("\nfit:\n")) + "\nfit: 3\n";
  try {
    scenario::load_profile_text(bad, "p.yaml");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("fit: expected a map") != std::string::npos);
  }
}

TEST_CASE("a GPU fitted slower than the public ceilings makes DeepSeek-V3's expert GEMMs slower") {
  // Synthetic H800 samples: FP8 GEMMs at 1000 TFLOP/s (public-h800: 1358) with the same 128 x 128 tile.
  FixtureTruth t;
  t.fp8 = {.rate = 1000e12, .t0 = 6e-6, .tile_m = 128, .tile_n = 128};
  t.bf16 = {.rate = 600e12, .t0 = 5e-6, .tile_m = 128, .tile_n = 128};
  const Calibration c = calibrate::calibrate(synthetic("NVIDIA H800", t), {.samples = "s.csv"});
  CHECK(c.profile.gpu == "h800");
  CHECK(c.profile.tile_m == 128);
  CHECK(c.profile.tile_n == 128);
  const hw::CalibrationProfile fitted = scenario::load_profile_text(profile_yaml(c), "fitted.yaml");
  const hw::CalibrationProfile pub = scenario::load_profile("builtin:public-h800");
  hw::CalibrationProfile no_overhead = fitted;
  no_overhead.gemm_fp8.overhead = Seconds(0);

  const scenario::Scenario s = scenario::load_scenario(std::string(scenario::kDefaultScenario));
  const model::Block b =
      model::build_block(s.model, s.parallelism, s.precision, model::BlockKind::moe_layer, 3, {1, 4096});
  int experts = 0;
  for (const model::Op& op : b.ops) {
    if (op.cls != model::OpClass::grouped_gemm || op.dtype != model::Dtype::fp8) continue;
    ++experts;
    CAPTURE(op.name);
    for (const model::Pass pass : {model::Pass::forward, model::Pass::backward_input, model::Pass::backward_weight}) {
      const hw::OpTime f = hw::op_time(op, pass, fitted, 112);
      const hw::OpTime q = hw::op_time(op, pass, pub, 112);
      const hw::OpTime z = hw::op_time(op, pass, no_overhead, 112);
      // Same tile, same waves: the lower rate alone makes it slower by 1358/rate, and t0 adds on top.
      CHECK(f.time > q.time);
      CHECK(z.time.value() ==
            doctest::Approx(q.time.value() * pub.gemm_fp8.value.value() / fitted.gemm_fp8.value.value()));
      // The overhead is added exactly once: the fitted t0.
      CHECK((f.time - z.time).value() == doctest::Approx(fitted.gemm_fp8.overhead.value()).epsilon(1e-9));
      CHECK(f.overhead == fitted.gemm_fp8.overhead);
    }
  }
  CHECK(experts > 0);
}

TEST_CASE("H100 samples describe an H800 and say so; other GPUs are rejected") {
  const SampleSet h100 = synthetic("NVIDIA H100 80GB HBM3", FixtureTruth{});
  const Calibration c = calibrate::calibrate(h100, {.gpu = "h800", .samples = "s.csv"});
  CHECK(c.profile.gpu == "h800");
  CHECK(c.measured_on == "h100");
  CHECK(c.profile.name == "measured-h800");
  CHECK(c.profile.provenance.find("the h100 measurement stands for the h800") != std::string::npos);
  CHECK(c.profile.provenance.find("V3-TR §3.5.1") != std::string::npos);
  CHECK(c.profile.gemm_fp8.source.find("(standing for the h800)") != std::string::npos);
  REQUIRE(c.reference.has_value());
  CHECK(c.reference->name == "deepseek-h800");  // the preset's default profile
  // H200: the same SM count and die, but other memory.
  CHECK(error_of(h100, "h200").find("cannot stand for GPU preset h200") != std::string::npos);
  // A100: 108 SMs.
  CHECK(error_of(h100, "a100").find("with 132 SMs; GPU preset a100 has 108") != std::string::npos);
  CHECK(error_of(h100, "b300").find("--gpu: no GPU preset \"b300\"") != std::string::npos);
  CHECK(error_of(synthetic("Mystery GPU", FixtureTruth{}), "").find("matches no GPU preset") != std::string::npos);
}

TEST_CASE("device names map to GPU presets") {
  CHECK(gpu_preset_of("NVIDIA H100 80GB HBM3") == "h100");
  CHECK(gpu_preset_of("NVIDIA H800") == "h800");
  CHECK(gpu_preset_of("NVIDIA H200") == "h200");
  CHECK(gpu_preset_of("NVIDIA H20") == "h20");
  CHECK(gpu_preset_of("NVIDIA A100-SXM4-80GB") == "a100");
  CHECK(gpu_preset_of("nvidia a800 80gb pcie") == "a800");
  CHECK(gpu_preset_of("NVIDIA GeForce RTX 4090").empty());
}

TEST_CASE("rates the samples do not cover come from the GPU's default profile and say so") {
  const Calibration c =
      calibrate::calibrate(synthetic("NVIDIA H100 80GB HBM3", FixtureTruth{}, /*all=*/false), {.samples = "s.csv"});
  const hw::CalibrationProfile pub = scenario::load_profile("builtin:deepseek-h100");
  CHECK(c.profile.gemm_bf16.source.starts_with("fitted to"));
  CHECK(c.profile.gemm_fp8.value == pub.gemm_fp8.value);
  CHECK(c.profile.gemm_fp8.source.starts_with("not measured (no fp8_e4m3 gemm or grouped_gemm rows"));
  CHECK(c.profile.hbm.value == pub.hbm.value);
  CHECK(c.profile.attention_backward.source.find("deepseek-h100") != std::string::npos);
  CHECK(c.notes.size() >= 4);
}

TEST_CASE("profiles are written whole or not at all") {
  const auto dir = std::filesystem::temp_directory_path() / "tcsim-calibrate-write";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "p.yaml").string();
  write_file_atomically(path, "name: a\n", "--out");
  write_file_atomically(path, "name: b\n", "--out");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == "name: b\n");
  // No temporary file is left beside it.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  CHECK(files == 1);
  CHECK_THROWS_AS(write_file_atomically((dir / "missing" / "p.yaml").string(), "x", "--out"), ConfigError);
  // Only regular files are replaced: a directory (as a device or a FIFO) is refused and left as it is.
  std::filesystem::create_directories(dir / "a-directory");
  CHECK_THROWS_AS(write_file_atomically(dir / "a-directory", "x", "--out"), ConfigError);
  CHECK(std::filesystem::is_directory(dir / "a-directory"));
  std::filesystem::remove_all(dir);
}
