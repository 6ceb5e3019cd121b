#include "calibrate/trace/summary.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace tcsim::trace {
namespace {

using Interval = std::pair<double, double>;

// The union of intervals, sorted and merged.
std::vector<Interval> merged(std::vector<Interval> v) {
  std::sort(v.begin(), v.end());
  std::vector<Interval> out;
  for (const Interval& i : v) {
    if (!out.empty() && i.first <= out.back().second) {
      out.back().second = std::max(out.back().second, i.second);
    } else {
      out.push_back(i);
    }
  }
  return out;
}

double length(const std::vector<Interval>& v) {
  double t = 0;
  for (const Interval& i : v) t += i.second - i.first;
  return t;
}

// Length of the intersection of two merged unions.
double overlap(const std::vector<Interval>& a, const std::vector<Interval>& b) {
  double t = 0;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const double lo = std::max(a[i].first, b[j].first);
    const double hi = std::min(a[i].second, b[j].second);
    if (hi > lo) t += hi - lo;
    (a[i].second < b[j].second) ? ++i : ++j;
  }
  return t;
}

// Family totals, most time first (ties by family order).
std::vector<FamilyTime> ranked(const std::map<KernelFamily, FamilyTime>& by) {
  std::vector<FamilyTime> out;
  for (const auto& [f, t] : by) out.push_back(t);
  std::stable_sort(out.begin(), out.end(), [](const FamilyTime& a, const FamilyTime& b) { return a.us > b.us; });
  return out;
}

void add(std::map<KernelFamily, FamilyTime>& by, KernelFamily f, double us) {
  FamilyTime& t = by[f];
  t.family = f;
  t.us += us;
  ++t.count;
}

KernelFamily family_of(const GpuActivity& a, const std::vector<FamilyPattern>& families) {
  switch (a.kind) {
    case ActivityKind::memcpy: return KernelFamily::memcpy;
    case ActivityKind::memset: return KernelFamily::memset;
    case ActivityKind::kernel: return classify_kernel(a.name, families);
  }
  return KernelFamily::unknown;
}

// For each runtime call, the index of the innermost annotation of its process
// whose range contains the call's start (-1: none): of the ranges open at
// that instant, the one opened last. Not only the call's own thread: a
// framework's backward launches kernels from autograd's thread inside ranges
// its main thread opened (DeepSeek's profile: attn(B) on one thread, its
// launches on another). One sweep in time order.
std::unordered_map<std::int64_t, int> launch_regions(const KinetoTrace& t) {
  struct Point {
    double at;
    int order;  // 0: an annotation opens, 1: a call starts (inside what is open)
    int index;
  };
  std::map<std::int64_t, std::vector<Point>> processes;
  for (int i = 0; i < static_cast<int>(t.annotations.size()); ++i) {
    const Annotation& a = t.annotations[static_cast<std::size_t>(i)];
    processes[a.pid].push_back({a.begin_us, 0, i});
  }
  for (int i = 0; i < static_cast<int>(t.runtime.size()); ++i) {
    const RuntimeCall& r = t.runtime[static_cast<std::size_t>(i)];
    if (r.correlation >= 0) processes[r.pid].push_back({r.begin_us, 1, i});
  }
  std::unordered_map<std::int64_t, int> out;
  for (auto& [pid, points] : processes) {
    std::stable_sort(points.begin(), points.end(),
                     [](const Point& a, const Point& b) { return std::tie(a.at, a.order) < std::tie(b.at, b.order); });
    std::set<std::pair<double, int>> open;                 // (begin, annotation), latest begin last
    std::multimap<double, std::pair<double, int>> ending;  // end -> its key in `open`
    for (const Point& p : points) {
      while (!ending.empty() && ending.begin()->first < p.at) {
        open.erase(ending.begin()->second);
        ending.erase(ending.begin());
      }
      if (p.order == 0) {
        const Annotation& a = t.annotations[static_cast<std::size_t>(p.index)];
        const std::pair<double, int> key{a.begin_us, p.index};
        open.insert(key);
        ending.emplace(a.end_us(), key);
      } else {
        out[t.runtime[static_cast<std::size_t>(p.index)].correlation] = open.empty() ? -1 : open.rbegin()->second;
      }
    }
  }
  return out;
}

}  // namespace

TraceSummary summarize(const KinetoTrace& t, const std::vector<FamilyPattern>& families) {
  TraceSummary s;
  s.file = t.file;
  if (!t.devices.empty()) {
    s.device = t.devices.front().name;
    s.sms = t.devices.front().sms;
  }
  if (t.activities.empty()) return s;

  struct StreamWork {
    std::vector<Interval> intervals;
    std::map<KernelFamily, FamilyTime> families;
    double us = 0;
    int count = 0;
  };
  std::map<std::pair<int, int>, StreamWork> streams;
  std::map<KernelFamily, FamilyTime> all;
  std::map<std::string, UnknownKernel> unknown;
  std::vector<KernelFamily> family(t.activities.size());
  double first = t.activities.front().begin_us, last = t.activities.front().end_us();
  for (std::size_t i = 0; i < t.activities.size(); ++i) {
    const GpuActivity& a = t.activities[i];
    family[i] = family_of(a, families);
    first = std::min(first, a.begin_us);
    last = std::max(last, a.end_us());
    StreamWork& w = streams[{a.device, a.stream}];
    w.intervals.emplace_back(a.begin_us, a.end_us());
    add(w.families, family[i], a.duration_us);
    w.us += a.duration_us;
    ++w.count;
    add(all, family[i], a.duration_us);
    s.kernels += a.kind == ActivityKind::kernel ? 1 : 0;
    s.memcpys += a.kind == ActivityKind::memcpy ? 1 : 0;
    s.memsets += a.kind == ActivityKind::memset ? 1 : 0;
    if (family[i] == KernelFamily::unknown) {
      UnknownKernel& u = unknown[a.name];
      u.name = a.name;
      u.us += a.duration_us;
      ++u.count;
    }
  }
  s.first_us = first;
  s.span_us = last - first;
  s.families = ranked(all);

  std::vector<Interval> compute, communication;
  for (auto& [key, w] : streams) {
    StreamSummary ss;
    ss.device = key.first;
    ss.stream = key.second;
    const auto comm = w.families.find(KernelFamily::communication);
    ss.communication = comm != w.families.end() && 2 * comm->second.us >= w.us;
    ss.activity_us = w.us;
    ss.activities = w.count;
    const std::vector<Interval> busy = merged(std::move(w.intervals));
    ss.busy_us = length(busy);
    ss.families = ranked(w.families);
    auto& side = ss.communication ? communication : compute;
    side.insert(side.end(), busy.begin(), busy.end());
    s.streams.push_back(std::move(ss));
  }
  const std::vector<Interval> compute_busy = merged(std::move(compute));
  const std::vector<Interval> comm_busy = merged(std::move(communication));
  s.compute_busy_us = length(compute_busy);
  s.communication_busy_us = length(comm_busy);
  s.overlap_us = overlap(compute_busy, comm_busy);

  // Regions: each activity in the innermost annotation around its launch.
  const std::vector<int> region_of = activity_regions(t);
  std::map<std::string, std::size_t> region_index;
  std::vector<std::map<KernelFamily, FamilyTime>> region_families;
  std::vector<std::pair<double, std::size_t>> order;  // (first launch time, activity index)
  for (std::size_t i = 0; i < t.activities.size(); ++i) order.emplace_back(t.activities[i].begin_us, i);
  std::stable_sort(order.begin(), order.end());
  for (const auto& [begin, i] : order) {
    const GpuActivity& a = t.activities[i];
    if (region_of[i] < 0) {
      s.unattributed_us += a.duration_us;
      continue;
    }
    const std::string& name = t.annotations[static_cast<std::size_t>(region_of[i])].name;
    const auto [slot, fresh] = region_index.emplace(name, s.regions.size());
    if (fresh) {
      RegionSummary r;
      r.name = name;
      s.regions.push_back(std::move(r));
      region_families.emplace_back();
    }
    RegionSummary& r = s.regions[slot->second];
    r.kernel_us += a.duration_us;
    if (family[i] == KernelFamily::communication) r.communication_us += a.duration_us;
    add(region_families[slot->second], family[i], a.duration_us);
  }
  for (const Annotation& a : t.annotations) {
    const auto it = region_index.find(a.name);
    if (it == region_index.end()) continue;
    RegionSummary& r = s.regions[it->second];
    ++r.instances;
    r.annotated_us += a.duration_us;
  }
  for (std::size_t k = 0; k < s.regions.size(); ++k) s.regions[k].families = ranked(region_families[k]);

  for (auto& [name, u] : unknown) s.unknown.push_back(std::move(u));
  std::stable_sort(s.unknown.begin(), s.unknown.end(),
                   [](const UnknownKernel& a, const UnknownKernel& b) { return a.us > b.us; });
  return s;
}

std::vector<int> activity_regions(const KinetoTrace& t) {
  const std::unordered_map<std::int64_t, int> region_of_launch = launch_regions(t);
  std::vector<int> out;
  out.reserve(t.activities.size());
  for (const GpuActivity& a : t.activities) {
    const auto it = a.correlation >= 0 ? region_of_launch.find(a.correlation) : region_of_launch.end();
    out.push_back(it == region_of_launch.end() ? -1 : it->second);
  }
  return out;
}

}  // namespace tcsim::trace
