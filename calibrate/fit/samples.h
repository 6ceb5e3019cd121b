// Raw calibration samples, as tcsim-calibrate-kernels writes them (the
// contract is in docs/calibration-kernels.md): `# key: value` lines saying
// where and how they were taken, one header line, then one CSV row per timed
// repeat. Parsing checks every field and names the file, line and column of
// anything wrong (ConfigError); nothing past the parser sees text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/units.h"

namespace tcsim::calibrate {

// What a row timed. GEMM: an M x N output over reduction K (grouped: M rows
// in all, split evenly over `groups` groups of N x K). Memory kernels move
// `bytes` (the minimal read plus written). Attention: M = sequence length,
// N = heads, K = head dimension, groups = batch.
enum class Family { gemm, grouped_gemm, hbm_copy, hbm_triad, rmsnorm, swiglu, fp8_cast, attention_fwd, attention_bwd };
enum class Dtype { bf16, fp8_e4m3 };

std::string_view name_of(Family family);
std::string_view name_of(Dtype dtype);

// The `# key: value` lines before the header line.
struct SampleHeader {
  std::string gpu;  // "NVIDIA H100 80GB HBM3" (required)
  int sms = 0;      // SMs of that GPU (required: GEMM waves are counted over them)
  // Every `key: value` in written order, gpu and sms included: sm_clock_mhz,
  // memory_clock_mhz, l2_bytes, hbm_bytes, compute_capability, driver,
  // runtime, cublaslt, date, command, host, and any the kit adds.
  std::vector<std::pair<std::string, std::string>> fields;

  // The value of `key`, or empty when the file did not give it.
  std::string value(std::string_view key) const;
};

struct Sample {
  Family family = Family::gemm;
  std::string variant;  // the kernel or library that ran ("cublaslt", ...)
  Dtype dtype = Dtype::bf16;
  std::int64_t m = 0;
  std::int64_t n = 0;
  std::int64_t k = 0;
  int groups = 1;
  Flops flops;
  Bytes bytes;
  int repeat = 0;
  Seconds seconds;
  int line = 0;  // 1-based line of the row in its file
};

struct SampleSet {
  std::string file;
  SampleHeader header;
  std::vector<Sample> samples;
};

// Parses samples text; `file` names it in messages. Throws ConfigError
// ("file:line:column: column-name: expected ..., got ...") on bad input:
// a missing or different header line, a row with the wrong number of
// fields, an unknown family or dtype, a number that is not one, a time that
// is not finite and above zero, no rows at all.
SampleSet parse_samples(std::string_view text, const std::string& file);
SampleSet read_samples(const std::string& path);

}  // namespace tcsim::calibrate
