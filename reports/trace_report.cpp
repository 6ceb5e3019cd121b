#include "reports/trace_report.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reports/sweep_table.h"

namespace tcsim::reports {
namespace {

constexpr double kMicrosPerMilli = 1000.0;
constexpr std::size_t kFamiliesShown = 4;  // per stream or region in the table

double ms(double us) { return us / kMicrosPerMilli; }

std::string top_families(const std::vector<trace::FamilyTime>& fs) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < fs.size() && i < kFamiliesShown; ++i) {
    parts.push_back(fmt::format("{} {:.1f}", trace::family_name(fs[i].family), ms(fs[i].us)));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

Json families_json(const std::vector<trace::FamilyTime>& fs) {
  Json out = Json::array();
  for (const trace::FamilyTime& f : fs) {
    Json j = Json::object();
    j.set("family", trace::family_name(f.family));
    j.set("ms", ms(f.us));
    j.set("count", f.count);
    out.push(std::move(j));
  }
  return out;
}

}  // namespace

std::string trace_summary_table(const trace::TraceSummary& s) {
  std::string out =
      fmt::format("Trace  {}: {}{}, {} kernels, {} memory copies, {} memory sets over {:.1f} ms\n", s.file,
                  s.device.empty() ? "device not named" : s.device, s.sms > 0 ? fmt::format(" ({} SMs)", s.sms) : "",
                  s.kernels, s.memcpys, s.memsets, ms(s.span_us));
  out += "\nStreams\n";
  out += fmt::format("  {:>6} {:>6}  {:<13} {:>9} {:>11} {:>6}  {}\n", "device", "stream", "role", "busy ms",
                     "activity ms", "count", "largest families (ms)");
  for (const trace::StreamSummary& st : s.streams) {
    out += fmt::format("  {:>6} {:>6}  {:<13} {:>9.1f} {:>11.1f} {:>6}  {}\n", st.device, st.stream,
                       st.communication ? "communication" : "compute", ms(st.busy_us), ms(st.activity_us),
                       st.activities, top_families(st.families));
  }
  out += fmt::format("  compute streams busy {:.1f} ms, communication streams busy {:.1f} ms, both at once {:.1f} ms",
                     ms(s.compute_busy_us), ms(s.communication_busy_us), ms(s.overlap_us));
  out +=
      s.compute_busy_us > 0 ? fmt::format(" ({:.0f}% of compute)\n", 100.0 * s.overlap_us / s.compute_busy_us) : "\n";

  out += "\nFamilies (every stream)\n";
  out += fmt::format("  {:<20} {:>9} {:>7} {:>6}\n", "family", "ms", "share", "count");
  double total = 0;
  for (const trace::FamilyTime& f : s.families) total += f.us;
  for (const trace::FamilyTime& f : s.families) {
    out += fmt::format("  {:<20} {:>9.2f} {:>6.1f}% {:>6}\n", trace::family_name(f.family), ms(f.us),
                       total > 0 ? 100.0 * f.us / total : 0.0, f.count);
  }

  out += "\nRegions (each kernel in the innermost annotation around its launch)\n";
  if (s.regions.empty()) {
    out += "  none: the trace has no user annotations around kernel launches\n";
  } else {
    out += fmt::format("  {:<20} {:>6} {:>12} {:>10} {:>8}  {}\n", "region", "ranges", "annotated ms", "kernel ms",
                       "comm ms", "largest families (ms)");
    for (const trace::RegionSummary& r : s.regions) {
      out += fmt::format("  {:<20} {:>6} {:>12.1f} {:>10.1f} {:>8.1f}  {}\n", r.name, r.instances, ms(r.annotated_us),
                         ms(r.kernel_us), ms(r.communication_us), top_families(r.families));
    }
  }
  out += fmt::format("  outside every annotation: {:.1f} ms of kernels\n", ms(s.unattributed_us));

  out += "\nUnknown kernels (no family pattern matched)\n";
  if (s.unknown.empty()) out += "  none\n";
  for (const trace::UnknownKernel& u : s.unknown) {
    out += fmt::format("  {:>9.3f} ms {:>5} x  {}\n", ms(u.us), u.count, u.name);
  }
  return out;
}

Json trace_summary_json(const trace::TraceSummary& s) {
  Json j = Json::object();
  j.set("file", s.file);
  j.set("device", s.device);
  j.set("sms", s.sms);
  j.set("kernels", s.kernels);
  j.set("memcpys", s.memcpys);
  j.set("memsets", s.memsets);
  j.set("span_ms", ms(s.span_us));
  Json streams = Json::array();
  for (const trace::StreamSummary& st : s.streams) {
    Json o = Json::object();
    o.set("device", st.device);
    o.set("stream", st.stream);
    o.set("role", st.communication ? "communication" : "compute");
    o.set("busy_ms", ms(st.busy_us));
    o.set("activity_ms", ms(st.activity_us));
    o.set("activities", st.activities);
    o.set("families", families_json(st.families));
    streams.push(std::move(o));
  }
  j.set("streams", std::move(streams));
  j.set("compute_busy_ms", ms(s.compute_busy_us));
  j.set("communication_busy_ms", ms(s.communication_busy_us));
  j.set("overlap_ms", ms(s.overlap_us));
  j.set("families", families_json(s.families));
  Json regions = Json::array();
  for (const trace::RegionSummary& r : s.regions) {
    Json o = Json::object();
    o.set("name", r.name);
    o.set("ranges", r.instances);
    o.set("annotated_ms", ms(r.annotated_us));
    o.set("kernel_ms", ms(r.kernel_us));
    o.set("communication_ms", ms(r.communication_us));
    o.set("families", families_json(r.families));
    regions.push(std::move(o));
  }
  j.set("regions", std::move(regions));
  j.set("unattributed_ms", ms(s.unattributed_us));
  Json unknown = Json::array();
  for (const trace::UnknownKernel& u : s.unknown) {
    Json o = Json::object();
    o.set("name", u.name);
    o.set("ms", ms(u.us));
    o.set("count", u.count);
    unknown.push(std::move(o));
  }
  j.set("unknown", std::move(unknown));
  return j;
}

std::string trace_kernels_csv(const trace::KinetoTrace& t, const std::vector<trace::FamilyPattern>& families,
                              const std::vector<std::string>& header) {
  std::string out;
  for (const std::string& h : header) out += "# " + h + "\n";
  out += "name,family,device,stream,start_us,duration_us,grid_x,grid_y,grid_z,block_x,block_y,block_z,region\n";
  for (const trace::KernelRow& r : trace::table_of(t, families).rows) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(r.name), trace::family_name(r.family),
                       r.device, r.stream, r.start_us, r.duration_us, r.grid[0], r.grid[1], r.grid[2], r.block[0],
                       r.block[1], r.block[2], csv_field(r.region));
  }
  return out;
}

}  // namespace tcsim::reports
