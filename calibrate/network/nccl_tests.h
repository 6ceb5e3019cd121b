// nccl-tests output (all_reduce_perf and its siblings) read and fitted. One
// log is one network tier: intra-node when every rank runs on one host,
// inter-node otherwise. Its out-of-place times are fitted by weighted least
// squares to
//   time = latency + size / algbw
// weighted by 1/time, as the kernel calibration weighs its shapes
// (calibrate/fit/fit.h), with latency >= 0; the bus bandwidth is algbw times
// nccl-tests' factor for the operation (2(n-1)/n for all-reduce, (n-1)/n for
// all-gather, reduce-scatter and all-to-all, 1 otherwise). Every size keeps
// its measured and fitted time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/units.h"

namespace tcsim::calibrate {

// One row of the table, as printed.
struct NcclRow {
  std::int64_t bytes = 0;
  std::int64_t count = 0;
  std::string type;
  std::string redop;
  std::int64_t root = 0;
  double time_us = 0;  // out-of-place
  double algbw = 0;    // GB/s, out-of-place
  double busbw = 0;    // GB/s, out-of-place
  std::int64_t wrong = 0;
  double in_place_time_us = 0;
  double in_place_busbw = 0;
  int line = 0;
  std::string text;  // the line as printed
};

struct NcclLog {
  std::string file;
  std::string op;                  // "all_reduce_perf": the header's "Collective test starting", or as given
  std::vector<std::string> hosts;  // the host of each rank, in rank order
  std::vector<std::string> devices;
  std::vector<NcclRow> rows;
  int host_count() const;
  bool intra_node() const { return host_count() == 1; }
};

// Reads a log. `op` names the test when the log does not ("all_reduce_perf"
// or "all_reduce"); empty: the log must. Throws ConfigError "FILE:LINE:COL:
// ..." for a table row that is not one (its column), and "FILE: ..." for a
// log with no rank lines, no rows, or no test name.
NcclLog read_nccl_log(std::string_view text, const std::string& file, const std::string& op = {});

// nccl-tests' bus-bandwidth factor of `op` over `ranks` ranks.
double bus_factor(std::string_view op, int ranks);

struct NcclPoint {
  NcclRow row;
  Seconds measured;
  Seconds fitted;
  double error = 0;  // (fitted - measured) / measured
};

struct NcclFit {
  Seconds latency;
  BytesPerSecond algbw;
  BytesPerSecond busbw;
  double factor = 1;            // busbw / algbw
  bool latency_pinned = false;  // the free fit gave a negative latency: refitted through 0
  double rms = 0;               // relative residuals
  double max = 0;
  std::vector<NcclPoint> points;
};

// The fit of a log's rows with a size above zero; throws ConfigError naming
// the file when fewer than two sizes remain or the fit finds no bandwidth.
NcclFit fit_nccl_log(const NcclLog& log);

// The network profile: per log its tier, the fit with its residuals and the
// raw rows, each value with its source (docs/calibration.md, "Network tiers
// from nccl-tests").
std::string network_profile_yaml(const std::vector<NcclLog>& logs, const std::vector<NcclFit>& fits,
                                 const std::string& name);

}  // namespace tcsim::calibrate
