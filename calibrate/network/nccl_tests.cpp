// nccl-tests logs: the header's ranks and hosts, the table's rows, and the
// latency-bandwidth fit of one tier (nccl_tests.h).
#include "calibrate/network/nccl_tests.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "core/quoted.h"
#include "core/text.h"

namespace tcsim::calibrate {
namespace {

// White-space separated fields with their 1-based columns.
struct Field {
  std::string_view text;
  int column = 0;
};
std::vector<Field> fields(std::string_view line) {
  std::vector<Field> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(Field{line.substr(start, i - start), static_cast<int>(start) + 1});
  }
  return out;
}

template <class T>
bool parse(std::string_view s, T& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && end == s.data() + s.size();
}

std::string base_op(std::string_view op) {
  std::string s(op);
  for (std::string_view suffix : {"_perf_mpi", "_perf"}) {
    if (s.ends_with(suffix)) return s.substr(0, s.size() - suffix.size());
  }
  return s;
}

}  // namespace

int NcclLog::host_count() const { return static_cast<int>(std::set<std::string>(hosts.begin(), hosts.end()).size()); }

double bus_factor(std::string_view op, int ranks) {
  const std::string b = base_op(op);
  const double n = ranks;
  if (b == "all_reduce") return 2 * (n - 1) / n;
  if (b == "all_gather" || b == "reduce_scatter" || b == "alltoall") return (n - 1) / n;
  return 1;  // broadcast, reduce, sendrecv, hypercube: nccl-tests' busbw = algbw
}

NcclLog read_nccl_log(std::string_view text, const std::string& file, const std::string& op) {
  NcclLog log;
  log.file = file;
  log.op = op;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const std::string_view line = trim(raw);
    if (line.empty()) {
      if (end == text.size()) break;
      continue;
    }
    if (line.front() == '#') {
      const std::vector<Field> f = fields(line.substr(1));
      // "# Collective test starting: all_reduce_perf"
      if (f.size() == 4 && f[0].text == "Collective" && f[2].text == "starting:" && log.op.empty()) {
        log.op = std::string(f[3].text);
      }
      // "#  Rank  0 Group  0 Pid 43 on HOST device  0 [0x0f] NVIDIA A100-SXM4-40GB" (older: no Group)
      if (f.size() >= 6 && f[0].text == "Rank") {
        const auto on = std::find_if(f.begin(), f.end(), [](const Field& x) { return x.text == "on"; });
        if (on == f.end() || on + 1 == f.end()) {
          throw ConfigError(SourceLoc{file, line_no, 1}, "", "a rank line without \"on HOST\"");
        }
        log.hosts.emplace_back((on + 1)->text);
        std::string device;
        const auto bracket = std::find_if(on, f.end(), [](const Field& x) { return x.text.starts_with("["); });
        for (auto it = bracket == f.end() ? f.end() : bracket + 1; it != f.end(); ++it) {
          device += (device.empty() ? "" : " ") + std::string(it->text);
        }
        log.devices.push_back(device);
      }
      if (end == text.size()) break;
      continue;
    }
    const std::vector<Field> f = fields(line);
    if (f.empty() || f[0].text.front() < '0' || f[0].text.front() > '9') {
      if (end == text.size()) break;
      continue;  // prose around the table (an mpirun banner, a warning)
    }
    // size count type redop root time algbw busbw #wrong time algbw busbw #wrong
    const int column0 = static_cast<int>(raw.find(line.front())) + 1;
    const auto bad = [&](const Field& x, std::string_view what) {
      throw ConfigError(SourceLoc{file, line_no, column0 + x.column - 1}, "",
                        fmt::format("expected {}, got \"{}\" (a nccl-tests row: size count type redop root time "
                                    "algbw busbw #wrong, out-of-place then in-place)",
                                    what, x.text));
    };
    if (f.size() != 13) {
      throw ConfigError(SourceLoc{file, line_no, column0}, "",
                        fmt::format("expected a nccl-tests row of 13 columns (size count type redop root, then "
                                    "time algbw busbw #wrong out-of-place and in-place), got {}",
                                    f.size()));
    }
    NcclRow r;
    r.line = line_no;
    r.text = std::string(line);
    if (!parse(f[0].text, r.bytes) || r.bytes < 0) bad(f[0], "a size in bytes");
    if (!parse(f[1].text, r.count) || r.count < 0) bad(f[1], "an element count");
    r.type = f[2].text;
    r.redop = f[3].text;
    if (!parse(f[4].text, r.root)) bad(f[4], "a root rank");
    if (!parse(f[5].text, r.time_us) || !(r.time_us > 0)) bad(f[5], "a time in microseconds above 0");
    if (!parse(f[6].text, r.algbw) || r.algbw < 0) bad(f[6], "an algorithm bandwidth in GB/s");
    if (!parse(f[7].text, r.busbw) || r.busbw < 0) bad(f[7], "a bus bandwidth in GB/s");
    if (!parse(f[8].text, r.wrong)) bad(f[8], "a count of wrong values");
    if (!parse(f[9].text, r.in_place_time_us) || !(r.in_place_time_us > 0)) bad(f[9], "a time in microseconds");
    double ip_algbw = 0;
    if (!parse(f[10].text, ip_algbw)) bad(f[10], "an algorithm bandwidth in GB/s");
    if (!parse(f[11].text, r.in_place_busbw)) bad(f[11], "a bus bandwidth in GB/s");
    std::int64_t ip_wrong = 0;
    if (!parse(f[12].text, ip_wrong)) bad(f[12], "a count of wrong values");
    if (r.wrong != 0 || ip_wrong != 0) {
      throw ConfigError(SourceLoc{file, line_no, column0}, "",
                        "nccl-tests counted wrong values in this row: a run that fails validation is no measurement");
    }
    log.rows.push_back(std::move(r));
    if (end == text.size()) break;
  }
  const SourceLoc whole{file, 0, 0};
  if (log.hosts.empty())
    throw ConfigError(whole, "", "no \"#  Rank N ... on HOST device ...\" lines: not a nccl-tests log");
  if (log.rows.empty()) throw ConfigError(whole, "", "no result rows: not a nccl-tests log, or a run cut short");
  if (log.op.empty()) {
    throw ConfigError(whole, "",
                      "the log does not name its test (no \"# Collective test starting\" line): give --op, "
                      "e.g. --op all_reduce_perf");
  }
  return log;
}

NcclFit fit_nccl_log(const NcclLog& log) {
  std::vector<const NcclRow*> rows;
  for (const NcclRow& r : log.rows) {
    if (r.bytes > 0) rows.push_back(&r);
  }
  std::set<std::int64_t> sizes;
  for (const NcclRow* r : rows) sizes.insert(r->bytes);
  if (sizes.size() < 2) {
    throw ConfigError(SourceLoc{log.file, 0, 0}, "",
                      "fewer than two message sizes: latency and bandwidth cannot be told apart");
  }
  // Weighted least squares in (latency a, inverse bandwidth b), weights 1/t.
  double sw = 0, sws = 0, swss = 0, swt = 0, swst = 0;
  for (const NcclRow* r : rows) {
    const double s = static_cast<double>(r->bytes);
    const double t = r->time_us * 1e-6;
    const double w = 1 / t;
    sw += w, sws += w * s, swss += w * s * s, swt += w * t, swst += w * s * t;
  }
  const double det = sw * swss - sws * sws;
  double a = (swss * swt - sws * swst) / det;
  double b = (sw * swst - sws * swt) / det;
  NcclFit fit;
  if (a < 0) {
    a = 0;
    b = swst / swss;
    fit.latency_pinned = true;
  }
  if (!(b > 0)) throw ConfigError(SourceLoc{log.file, 0, 0}, "", "time does not grow with size: no bandwidth to fit");
  fit.latency = Seconds(a);
  fit.algbw = BytesPerSecond(1 / b);
  fit.factor = bus_factor(log.op, static_cast<int>(log.hosts.size()));
  fit.busbw = BytesPerSecond(fit.factor / b);
  double sum2 = 0;
  for (const NcclRow* r : rows) {
    NcclPoint p{
        .row = *r, .measured = Seconds(r->time_us * 1e-6), .fitted = Seconds(a + b * static_cast<double>(r->bytes))};
    p.error = (p.fitted.value() - p.measured.value()) / p.measured.value();
    sum2 += p.error * p.error;
    fit.max = std::max(fit.max, std::abs(p.error));
    fit.points.push_back(std::move(p));
  }
  fit.rms = std::sqrt(sum2 / static_cast<double>(fit.points.size()));
  return fit;
}

std::string network_profile_yaml(const std::vector<NcclLog>& logs, const std::vector<NcclFit>& fits,
                                 const std::string& name) {
  std::ostringstream o;
  o << "# Network tiers fitted to nccl-tests logs by tcsim calibrate --from-nccl-tests (docs/calibration.md,\n"
       "# \"Network tiers from nccl-tests\"). Per log: time = latency + size / algbw, least squares on the\n"
       "# out-of-place times weighted by 1/time; busbw = algbw x nccl-tests' factor for the operation.\n";
  o << "name: " << json_quoted(name) << "\n";
  o << "kind: network-calibration\n";
  o << "tiers:\n";
  for (std::size_t i = 0; i < logs.size(); ++i) {
    const NcclLog& l = logs[i];
    const NcclFit& f = fits[i];
    const std::string src = fmt::format("fit to {} out-of-place times of {} ({})", f.points.size(), l.file, l.op);
    const std::string tier = l.intra_node() ? "intra-node" : "inter-node";
    o << "  - tier: " << tier << "\n";
    o << "    log: " << json_quoted(l.file) << "\n";
    o << "    op: " << json_quoted(l.op) << "\n";
    o << "    ranks: " << l.hosts.size() << "\n";
    o << "    hosts: " << l.host_count() << "\n";
    o << "    device: " << json_quoted(l.devices.empty() ? "" : l.devices.front()) << "\n";
    o << "    scenario_keys: "
      << json_quoted(l.intra_node()
                         ? "latency: hardware.network.latency_nvlink; busbw: beside hardware.gpu.nvlink_bandwidth"
                         : "latency: hardware.network.latency_intra_leaf (or latency_cross_leaf); busbw: "
                           "beside hardware.network.nic_bandwidth x nics_per_node")
      << "\n";
    o << "    latency: " << json_quoted(fmt::format("{:.6g} us", f.latency.value() * 1e6)) << "\n";
    o << "    latency_source: "
      << json_quoted(src + (f.latency_pinned ? "; the free fit's intercept was negative, so pinned at 0" : "")) << "\n";
    o << "    algbw: " << json_quoted(fmt::format("{:.6g} GB/s", f.algbw.value() / 1e9)) << "\n";
    o << "    algbw_source: " << json_quoted(src) << "\n";
    o << "    busbw: " << json_quoted(fmt::format("{:.6g} GB/s", f.busbw.value() / 1e9)) << "\n";
    o << "    busbw_source: "
      << json_quoted(
             fmt::format("algbw x {:.6g} (nccl-tests' bus factor of {} on {} ranks)", f.factor, l.op, l.hosts.size()))
      << "\n";
    o << "    rms: " << json_quoted(fmt::format("{:.2f}%", 100 * f.rms)) << "\n";
    o << "    max: " << json_quoted(fmt::format("{:.2f}%", 100 * f.max)) << "\n";
    o << "    residuals:  # per size: measured and fitted out-of-place time, (fitted - measured) / measured\n";
    for (const NcclPoint& p : f.points) {
      o << fmt::format(
          "      - {{bytes: {}, measured: \"{:.6g} us\", fitted: \"{:.6g} us\", error: \"{:+.2f}%\", line: {}}}\n",
          p.row.bytes, p.measured.value() * 1e6, p.fitted.value() * 1e6, 100 * p.error, p.row.line);
    }
    o << "    samples:  # the rows as nccl-tests printed them\n";
    for (const NcclRow& r : l.rows) o << "      - " << json_quoted(r.text) << "\n";
  }
  return o.str();
}

}  // namespace tcsim::calibrate
