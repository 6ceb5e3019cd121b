#include "calibrate/trace/kernel_table.h"

#include <algorithm>
#include <charconv>
#include <span>

#include <fmt/format.h>

#include "calibrate/trace/summary.h"
#include "core/error.h"

namespace tcsim::trace {
namespace {

constexpr std::string_view kHeader =
    "name,family,device,stream,start_us,duration_us,grid_x,grid_y,grid_z,block_x,block_y,block_z,region";
constexpr std::size_t kColumns = 13;

// RFC 4180 fields of one line (no line breaks inside fields: kernel names have none).
std::vector<std::string> fields_of(std::string_view line, std::string_view name, int number) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  if (quoted) throw ConfigError(fmt::format("{}:{}: an open quote at the end of the line", name, number));
  out.push_back(std::move(field));
  return out;
}

template <class T>
T number_of(const std::string& text, std::string_view what, std::string_view name, int number) {
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw ConfigError(fmt::format("{}:{}: {}: expected a number, got \"{}\"", name, number, what, text));
  }
  return v;
}

}  // namespace

KernelTable table_of(const KinetoTrace& t, const std::vector<FamilyPattern>& families) {
  KernelTable out;
  double first = 0;
  for (std::size_t i = 0; i < t.activities.size(); ++i) {
    first = i == 0 ? t.activities[i].begin_us : std::min(first, t.activities[i].begin_us);
  }
  const std::vector<int> regions = activity_regions(t);
  for (std::size_t i = 0; i < t.activities.size(); ++i) {
    const GpuActivity& a = t.activities[i];
    KernelRow r;
    r.name = a.name;
    r.family = a.kind == ActivityKind::memcpy   ? KernelFamily::memcpy
               : a.kind == ActivityKind::memset ? KernelFamily::memset
                                                : classify_kernel(a.name, families);
    r.device = a.device;
    r.stream = a.stream;
    r.start_us = a.begin_us - first;
    r.duration_us = a.duration_us;
    r.grid = a.grid;
    r.block = a.block;
    if (regions[i] >= 0) r.region = t.annotations[static_cast<std::size_t>(regions[i])].name;
    out.rows.push_back(std::move(r));
  }
  return out;
}

KernelTable parse_kernel_table(std::string_view text, std::string_view name) {
  KernelTable t;
  bool header = false;
  int number = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++number;
    if (line.empty()) continue;
    if (line.starts_with("# ")) {
      if (header) throw ConfigError(fmt::format("{}:{}: a comment after the header", name, number));
      t.provenance.emplace_back(line.substr(2));
      continue;
    }
    if (!header) {
      if (line != kHeader) throw ConfigError(fmt::format("{}:{}: expected the header \"{}\"", name, number, kHeader));
      header = true;
      continue;
    }
    const std::vector<std::string> f = fields_of(line, name, number);
    if (f.size() != kColumns) {
      throw ConfigError(fmt::format("{}:{}: expected {} fields, got {}", name, number, kColumns, f.size()));
    }
    KernelRow r;
    r.name = f[0];
    bool known = false;
    for (const Named<KernelFamily>& n : kKernelFamilyNames) {
      if (n.name == f[1]) {
        r.family = n.value;
        known = true;
      }
    }
    if (!known) throw ConfigError(fmt::format("{}:{}: unknown kernel family \"{}\"", name, number, f[1]));
    r.device = number_of<int>(f[2], "device", name, number);
    r.stream = number_of<int>(f[3], "stream", name, number);
    r.start_us = number_of<double>(f[4], "start_us", name, number);
    r.duration_us = number_of<double>(f[5], "duration_us", name, number);
    for (std::size_t k = 0; k < 3; ++k) {
      r.grid[k] = number_of<int>(f[6 + k], "grid", name, number);
      r.block[k] = number_of<int>(f[9 + k], "block", name, number);
    }
    r.region = f[12];
    t.rows.push_back(std::move(r));
  }
  if (!header) throw ConfigError(fmt::format("{}: no header line: not a kernel table", name));
  return t;
}

}  // namespace tcsim::trace
