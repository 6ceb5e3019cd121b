#include "calibrate/fit/samples.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "core/named.h"
#include "core/text.h"
#include "core/text_file.h"

namespace tcsim::calibrate {
namespace {

constexpr std::array<Named<Family>, 9> kFamilies{{{"gemm", Family::gemm},
                                                  {"grouped_gemm", Family::grouped_gemm},
                                                  {"hbm_copy", Family::hbm_copy},
                                                  {"hbm_triad", Family::hbm_triad},
                                                  {"rmsnorm", Family::rmsnorm},
                                                  {"swiglu", Family::swiglu},
                                                  {"fp8_cast", Family::fp8_cast},
                                                  {"attention_fwd", Family::attention_fwd},
                                                  {"attention_bwd", Family::attention_bwd}}};
constexpr std::array<Named<Dtype>, 2> kDtypes{{{"bf16", Dtype::bf16}, {"fp8_e4m3", Dtype::fp8_e4m3}}};

constexpr std::string_view kHeader = "family,variant,dtype,m,n,k,groups,flops,bytes,repeat,seconds";
constexpr std::size_t kColumns = 11;
constexpr std::array<std::string_view, kColumns> kColumnNames{"family", "variant", "dtype", "m",      "n",      "k",
                                                              "groups", "flops",   "bytes", "repeat", "seconds"};

// A metadata key: lower-case letters, digits and underscores.
bool is_key(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
  }
  return true;
}

template <class E, std::size_t N>
std::string names(const std::array<Named<E>, N>& table) {
  std::string out;
  for (const Named<E>& n : table) {
    if (!out.empty()) out += ", ";
    out += n.name;
  }
  return out;
}

// One field of a data row, with where it starts for messages.
struct Field {
  std::string_view text;
  int column = 1;  // 1-based
};

class RowReader {
 public:
  RowReader(const std::string& file, int line, std::span<const Field> fields)
      : file_(file), line_(line), fields_(fields) {}

  [[noreturn]] void fail(std::size_t i, const std::string& message) const {
    throw ConfigError(SourceLoc{file_, line_, fields_[i].column}, std::string(kColumnNames[i]), message);
  }

  std::string_view text(std::size_t i) const { return trim(fields_[i].text); }

  std::string got(std::size_t i) const { return fmt::format("got \"{}\"", text(i)); }

  template <class E, std::size_t N>
  E choice(std::size_t i, const std::array<Named<E>, N>& table) const {
    for (const Named<E>& n : table) {
      if (n.name == text(i)) return n.value;
    }
    fail(i, fmt::format("expected one of {}, {}", names(table), got(i)));
  }

  std::int64_t integer(std::size_t i, std::int64_t min) const {
    const std::string_view s = text(i);
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    const std::string expected = min > 0 ? "a whole number above zero" : fmt::format("a whole number >= {}", min);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < min) {
      fail(i, fmt::format("expected {}, {}", expected, got(i)));
    }
    return v;
  }

  // A finite number >= 0 (above zero when `positive`); "1.2e12" is fine.
  double number(std::size_t i, bool positive, std::string_view what) const {
    const std::string_view s = text(i);
    double v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    const bool parsed = !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
    if (!parsed || !std::isfinite(v) || v < 0 || (positive && v == 0)) {
      fail(i, fmt::format("expected {} {}, {}", what, positive ? "above zero" : "of zero or more", got(i)));
    }
    return v;
  }

 private:
  const std::string& file_;
  int line_;
  std::span<const Field> fields_;
};

std::vector<Field> split_row(std::string_view line) {
  std::vector<Field> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? line.size() : comma;
    fields.push_back({line.substr(start, end - start), static_cast<int>(start) + 1});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

bool is_gemm(Family f) { return f == Family::gemm || f == Family::grouped_gemm; }
bool is_attention(Family f) { return f == Family::attention_fwd || f == Family::attention_bwd; }

Sample parse_row(const std::string& file, int line, std::string_view text) {
  const std::vector<Field> fields = split_row(text);
  if (fields.size() != kColumns) {
    throw ConfigError(SourceLoc{file, line, 1}, "",
                      fmt::format("expected {} comma-separated fields ({}), got {}", kColumns, kHeader, fields.size()));
  }
  const RowReader r(file, line, fields);
  Sample s;
  s.line = line;
  s.family = r.choice(0, kFamilies);
  s.variant = std::string(r.text(1));
  if (s.variant.empty()) r.fail(1, "expected the name of the kernel or library that ran, got nothing");
  s.dtype = r.choice(2, kDtypes);
  // GEMM and attention extents are sizes; memory kernels may leave some at zero.
  const bool shaped = is_gemm(s.family) || is_attention(s.family);
  s.m = r.integer(3, shaped ? 1 : 0);
  s.n = r.integer(4, shaped ? 1 : 0);
  s.k = r.integer(5, shaped ? 1 : 0);
  s.groups = static_cast<int>(r.integer(6, 1));
  if (s.groups > (1 << 20)) r.fail(6, fmt::format("expected at most {} groups, {}", 1 << 20, r.got(6)));
  if (s.family == Family::grouped_gemm && s.m % s.groups != 0) {
    r.fail(3, fmt::format("expected the total rows of {} equal groups (a multiple of {}), {}", s.groups, s.groups,
                          r.got(3)));
  }
  const bool compute = shaped;
  s.flops = Flops(r.number(7, compute, "a FLOP count"));
  s.bytes = Bytes(r.number(8, !compute, "a byte count"));
  s.repeat = static_cast<int>(r.integer(9, 0));
  s.seconds = Seconds(r.number(10, true, "a time in seconds"));
  return s;
}

}  // namespace

std::string_view name_of(Family family) { return tcsim::name_of<Family>(kFamilies, family); }
std::string_view name_of(Dtype dtype) { return tcsim::name_of<Dtype>(kDtypes, dtype); }

std::string SampleHeader::value(std::string_view key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return v;
  }
  return "";
}

SampleSet parse_samples(std::string_view text, const std::string& file) {
  SampleSet set;
  set.file = file;
  bool header_seen = false;
  int header_line = 0;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view body = trim(line);
    if (body.empty()) continue;
    if (body.front() == '#') {
      // `# key: value` before the header is metadata; any other comment is for people.
      const std::string_view c = trim(body.substr(1));
      const std::size_t colon = c.find(':');
      if (!header_seen && colon != std::string_view::npos && is_key(trim(c.substr(0, colon)))) {
        set.header.fields.emplace_back(std::string(trim(c.substr(0, colon))), std::string(trim(c.substr(colon + 1))));
      }
      continue;
    }
    if (!header_seen) {
      if (body != kHeader) {
        throw ConfigError(SourceLoc{file, line_no, 1}, "",
                          fmt::format("expected the header line \"{}\", got \"{}\"", kHeader, body));
      }
      header_seen = true;
      header_line = line_no;
      continue;
    }
    set.samples.push_back(parse_row(file, line_no, line));
  }
  if (!header_seen) {
    throw ConfigError(SourceLoc{file, std::max(line_no, 1), 1}, "",
                      fmt::format("no header line; expected \"{}\" after the `# key: value` lines", kHeader));
  }
  // The GPU and its SM count are needed to count GEMM waves.
  SampleHeader& h = set.header;
  h.gpu = h.value("gpu");
  if (h.gpu.empty()) {
    throw ConfigError(SourceLoc{file, header_line, 1}, "gpu",
                      "missing; expected a `# gpu: NAME` line before the header (the GPU the samples were taken on)");
  }
  const std::string sms = h.value("sms");
  int v = 0;
  const auto [ptr, ec] = std::from_chars(sms.data(), sms.data() + sms.size(), v);
  if (sms.empty() || ec != std::errc() || ptr != sms.data() + sms.size() || v <= 0) {
    throw ConfigError(
        SourceLoc{file, header_line, 1}, "sms",
        fmt::format("expected a `# sms: N` line before the header with the GPU's SM count, got \"{}\"", sms));
  }
  h.sms = v;
  if (set.samples.empty()) {
    throw ConfigError(SourceLoc{file, line_no, 1}, "", "no samples: the header line is not followed by any row");
  }
  return set;
}

SampleSet read_samples(const std::string& path) {
  // A kit run writes a few thousand rows; a file of a GiB is not a sample file.
  constexpr std::uintmax_t kMaxSampleFileBytes = 1ULL << 30;
  return parse_samples(read_text_file(path, kMaxSampleFileBytes, "the calibration samples"), path);
}

}  // namespace tcsim::calibrate
