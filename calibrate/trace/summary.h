// A Kineto trace summed up: busy time per stream, kernel time per family, per
// user-annotation region (each kernel counted in the innermost annotation
// range that contains the runtime call that launched it, matched by the
// `correlation` id), how much of the compute streams' busy time the
// communication streams overlap, and the kernels no family pattern matched.
// An annotation range counts for every thread of its process: a framework's
// backward launches from autograd's thread inside ranges the main thread
// opened. `tcsim trace summary` prints it (reports/trace_report.h).
#pragma once

#include <string>
#include <vector>

#include "calibrate/trace/families.h"
#include "calibrate/trace/kineto.h"

namespace tcsim::trace {

struct FamilyTime {
  KernelFamily family = KernelFamily::unknown;
  double us = 0;  // summed kernel durations
  int count = 0;
};

struct StreamSummary {
  int device = 0;
  int stream = 0;
  bool communication = false;  // most of its kernel time is communication kernels
  double busy_us = 0;          // union of its activities' intervals
  double activity_us = 0;      // sum of its activities' durations
  int activities = 0;
  std::vector<FamilyTime> families;  // most time first
};

struct RegionSummary {
  std::string name;
  int instances = 0;                 // annotation ranges of this name
  double annotated_us = 0;           // their summed wall durations (CPU side)
  double kernel_us = 0;              // kernels launched inside them (innermost range)
  double communication_us = 0;       // of kernel_us: communication kernels
  std::vector<FamilyTime> families;  // most time first
};

struct UnknownKernel {
  std::string name;
  double us = 0;
  int count = 0;
};

struct TraceSummary {
  std::string file;
  std::string device;  // the first device's name ("NVIDIA H800"), if the trace says
  int sms = 0;
  int kernels = 0;
  int memcpys = 0;
  int memsets = 0;
  double first_us = 0;                 // earliest activity begin
  double span_us = 0;                  // earliest begin to latest end
  std::vector<StreamSummary> streams;  // by device, then stream
  std::vector<FamilyTime> families;    // every activity, most time first
  double compute_busy_us = 0;          // union over compute streams
  double communication_busy_us = 0;    // union over communication streams
  double overlap_us = 0;               // both at once
  std::vector<RegionSummary> regions;  // in order of first launch
  double unattributed_us = 0;          // activities launched outside every annotation (or with no launch found)
  std::vector<UnknownKernel> unknown;  // most time first
};

TraceSummary summarize(const KinetoTrace& trace, const std::vector<FamilyPattern>& families);

// For each activity of the trace (same order), the annotation it counts in
// (an index into trace.annotations), or -1: the rule of the regions above.
std::vector<int> activity_regions(const KinetoTrace& trace);

}  // namespace tcsim::trace
