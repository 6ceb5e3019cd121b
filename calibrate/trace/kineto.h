// What tcsim reads of a PyTorch Profiler (Kineto) trace, the Chrome-trace
// JSON that torch.profiler exports (plain or gzip): the GPU activities
// (kernels, memory copies and sets) with their stream, times, launch grid and
// the correlation id of the runtime call that launched them; the CUDA runtime
// calls; the user annotations (torch.profiler.record_function ranges); the
// devices' properties. Everything else (CPU ops, flow events) is skipped.
// The file is read once, event by event (json_reader.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tcsim::trace {

enum class ActivityKind { kernel, memcpy, memset };

struct GpuActivity {
  ActivityKind kind = ActivityKind::kernel;
  std::string name;
  int device = 0;
  int stream = 0;
  double begin_us = 0;  // trace clock, microseconds
  double duration_us = 0;
  std::int64_t correlation = -1;  // the launching runtime call's; -1: none
  std::array<int, 3> grid{};
  std::array<int, 3> block{};
  double end_us() const { return begin_us + duration_us; }
};

struct RuntimeCall {
  std::string name;
  std::int64_t correlation = -1;
  std::int64_t pid = 0;
  std::int64_t tid = 0;
  double begin_us = 0;
  double duration_us = 0;
};

// A record_function range on a CPU thread.
struct Annotation {
  std::string name;
  std::int64_t pid = 0;
  std::int64_t tid = 0;
  double begin_us = 0;
  double duration_us = 0;
  double end_us() const { return begin_us + duration_us; }
};

struct DeviceProperties {
  int id = 0;
  std::string name;
  int sms = 0;
  double memory_bytes = 0;
};

struct KinetoTrace {
  std::string file;
  std::vector<DeviceProperties> devices;
  std::vector<GpuActivity> activities;  // in file order
  std::vector<RuntimeCall> runtime;
  std::vector<Annotation> annotations;
  std::int64_t events = 0;  // every traceEvents entry read
};

// Reads `path`. Throws ConfigError (file, line, byte, what was expected) for
// a file that is not a Kineto trace: no traceEvents array, a malformed or
// truncated document, an event without its times.
KinetoTrace read_kineto_trace(const std::string& path);

}  // namespace tcsim::trace
