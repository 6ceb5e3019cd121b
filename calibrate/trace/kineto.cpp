#include "calibrate/trace/kineto.h"

#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "calibrate/trace/json_reader.h"

namespace tcsim::trace {
namespace {

double number_or(const JsonValue* v, double fallback) {
  if (v == nullptr) return fallback;
  if (const double* d = v->number()) return *d;
  return fallback;
}

std::int64_t integer_or(const JsonValue* v, std::int64_t fallback) {
  const double d = number_or(v, std::nan(""));
  return std::isfinite(d) ? static_cast<std::int64_t>(std::llround(d)) : fallback;
}

std::array<int, 3> dims(const JsonValue* v) {
  std::array<int, 3> out{};
  if (v == nullptr || v->array() == nullptr) return out;
  for (std::size_t i = 0; i < out.size() && i < v->array()->size(); ++i) {
    out[i] = static_cast<int>(integer_or(&(*v->array())[i], 0));
  }
  return out;
}

class EventReader {
 public:
  EventReader(JsonReader& in, KinetoTrace& out) : in_(in), out_(out) {}

  void event(const JsonValue& e) {
    ++out_.events;
    const JsonValue* ph = e.find("ph");
    const JsonValue* cat = e.find("cat");
    if (ph == nullptr || ph->string() == nullptr || *ph->string() != "X" || cat == nullptr || !cat->string()) return;
    const std::string& c = *cat->string();
    const JsonValue* args = e.find("args");
    if (c == "kernel" || c == "gpu_memcpy" || c == "gpu_memset") {
      GpuActivity a;
      a.kind = c == "kernel" ? ActivityKind::kernel : c == "gpu_memcpy" ? ActivityKind::memcpy : ActivityKind::memset;
      a.name = name_of(e);
      times(e, a.begin_us, a.duration_us);
      if (args != nullptr) {
        a.device = static_cast<int>(integer_or(args->find("device"), integer_or(e.find("pid"), 0)));
        a.stream = static_cast<int>(integer_or(args->find("stream"), integer_or(e.find("tid"), 0)));
        a.correlation = integer_or(args->find("correlation"), -1);
        a.grid = dims(args->find("grid"));
        a.block = dims(args->find("block"));
      } else {
        a.device = static_cast<int>(integer_or(e.find("pid"), 0));
        a.stream = static_cast<int>(integer_or(e.find("tid"), 0));
      }
      out_.activities.push_back(std::move(a));
    } else if (c == "cuda_runtime" || c == "cuda_driver") {
      RuntimeCall r;
      r.name = name_of(e);
      times(e, r.begin_us, r.duration_us);
      r.pid = integer_or(e.find("pid"), 0);
      r.tid = integer_or(e.find("tid"), 0);
      r.correlation = args != nullptr ? integer_or(args->find("correlation"), -1) : -1;
      out_.runtime.push_back(std::move(r));
    } else if (c == "user_annotation") {
      Annotation a;
      a.name = name_of(e);
      times(e, a.begin_us, a.duration_us);
      a.pid = integer_or(e.find("pid"), 0);
      a.tid = integer_or(e.find("tid"), 0);
      out_.annotations.push_back(std::move(a));
    }
  }

  void devices(const JsonValue& v) {
    if (v.array() == nullptr) in_.fail("deviceProperties: expected a list of devices");
    for (const JsonValue& d : *v.array()) {
      DeviceProperties p;
      p.id = static_cast<int>(integer_or(d.find("id"), 0));
      if (const JsonValue* n = d.find("name"); n != nullptr && n->string() != nullptr) p.name = *n->string();
      p.sms = static_cast<int>(integer_or(d.find("numSms"), 0));
      p.memory_bytes = number_or(d.find("totalGlobalMem"), 0);
      out_.devices.push_back(std::move(p));
    }
  }

 private:
  std::string name_of(const JsonValue& e) const {
    const JsonValue* n = e.find("name");
    if (n == nullptr || n->string() == nullptr) in_.fail("an event without a \"name\"");
    return *n->string();
  }

  void times(const JsonValue& e, double& begin, double& duration) const {
    const double ts = number_or(e.find("ts"), std::nan(""));
    const double dur = number_or(e.find("dur"), std::nan(""));
    if (!std::isfinite(ts) || !std::isfinite(dur) || dur < 0) {
      in_.fail(fmt::format("event \"{}\": expected numbers \"ts\" and \"dur\" (dur >= 0)", name_of(e)));
    }
    begin = ts;
    duration = dur;
  }

  JsonReader& in_;
  KinetoTrace& out_;
};

}  // namespace

KinetoTrace read_kineto_trace(const std::string& path) {
  JsonReader in(path);
  KinetoTrace out;
  out.file = path;
  EventReader events(in, out);
  bool saw_events = false;
  in.expect('{');
  if (!in.accept('}')) {
    do {
      const std::string key = in.read_string();
      in.expect(':');
      if (key == "traceEvents") {
        saw_events = true;
        in.expect('[');
        if (!in.accept(']')) {
          do {
            events.event(in.read_value());
          } while (in.accept(','));
          in.expect(']');
        }
      } else if (key == "deviceProperties") {
        events.devices(in.read_value());
      } else {
        in.skip_value();
      }
    } while (in.accept(','));
    in.expect('}');
  }
  if (in.peek() != '\0') in.fail("text after the end of the trace");
  if (!saw_events) in.fail("no \"traceEvents\" list: not a PyTorch profiler (Kineto) trace");
  return out;
}

}  // namespace tcsim::trace
