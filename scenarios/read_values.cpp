#include "scenarios/read_values.h"

#include <type_traits>

#include <fmt/format.h>

namespace tcsim::scenario {
namespace {

// A plain number >= min, or a quantity of `kind` (zero allowed).
template <class Q>
void read_value(MapReader& r, std::string_view key, Q& out, QuantityKind kind, double min, bool required) {
  if constexpr (std::is_same_v<Q, double>) {
    (void)kind;
    r.number(key, out, min, required);
  } else {
    (void)min;
    r.quantity(key, out, kind, /*positive=*/false, required);
  }
}

}  // namespace

// The items of a list-valued key, or an error naming what each item should be.
const std::vector<Node>& list_items(MapReader& r, std::string_view key, std::string_view what, bool required) {
  static const std::vector<Node> kNone;
  const Node* n = r.take(key);
  const std::string path = join_path(r.path(), key);
  if (n == nullptr || n->kind == Node::Kind::null) {
    if (required) fail(n != nullptr ? *n : r.node(), path, fmt::format("missing; expected a list of {}", what));
    return kNone;
  }
  if (n->kind != Node::Kind::sequence || n->items.empty()) {
    fail(*n, path, fmt::format("expected a non-empty list of {}, got {}", what, shown(*n)));
  }
  return n->items;
}

// A number in [min, max], the upper bound checked here (MapReader::number checks min).
void bounded(MapReader& r, std::string_view key, double& out, double min, double max) {
  r.number(key, out, min);
  if (r.has(key) && out > max) {
    fail(r.at(key), join_path(r.path(), key), fmt::format("expected a number from {} to {}, got {}", min, max, out));
  }
}

template <class Q>
Distribution<Q> read_distribution(MapReader& parent, std::string_view key, QuantityKind kind, double min,
                                  bool required) {
  Distribution<Q> d;
  const Node* n = parent.take(key);
  const std::string path = join_path(parent.path(), key);
  if (n == nullptr || n->kind == Node::Kind::null) {
    if (required) {
      fail(n != nullptr ? *n : parent.node(), path,
           fmt::format("missing; expected {} or a distribution {{dist: uniform|triangular|lognormal, ...}}",
                       describe(kind)));
    }
    return d;
  }
  if (n->kind == Node::Kind::scalar) {
    read_value(parent, key, d.value, kind, min, true);
    return d;
  }
  MapReader m(*n, path);
  m.choice("dist", d.kind, kDistNames, /*required=*/true);
  switch (d.kind) {
    case DistKind::fixed: read_value(m, "value", d.value, kind, min, true); break;
    case DistKind::uniform:
      read_value(m, "low", d.low, kind, min, true);
      read_value(m, "high", d.high, kind, min, true);
      if (!(raw_value(d.low) < raw_value(d.high)))
        fail(m.at("high"), join_path(path, "high"), "expected high above low");
      break;
    case DistKind::triangular:
      read_value(m, "low", d.low, kind, min, true);
      read_value(m, "mode", d.mode, kind, min, true);
      read_value(m, "high", d.high, kind, min, true);
      if (!(raw_value(d.low) < raw_value(d.high)))
        fail(m.at("high"), join_path(path, "high"), "expected high above low");
      if (raw_value(d.mode) < raw_value(d.low) || raw_value(d.mode) > raw_value(d.high)) {
        fail(m.at("mode"), join_path(path, "mode"), "expected the mode between low and high");
      }
      break;
    case DistKind::lognormal: {
      d.has_median = m.has("median");
      d.has_p5 = m.has("p5");
      d.has_p95 = m.has("p95");
      read_value(m, "median", d.median, kind, min, false);
      read_value(m, "p5", d.p5, kind, min, false);
      read_value(m, "p95", d.p95, kind, min, false);
      if (int(d.has_median) + int(d.has_p5) + int(d.has_p95) < 2) {
        fail(*n, path, "a lognormal needs two or three of median, p5 and p95 (the 90% interval)");
      }
      const auto positive = [&](std::string_view k, bool given, Q v) {
        if (given && !(raw_value(v) > 0))
          fail(m.at(k), join_path(path, k), "a lognormal's quantiles must be above zero");
      };
      positive("median", d.has_median, d.median);
      positive("p5", d.has_p5, d.p5);
      positive("p95", d.has_p95, d.p95);
      if (d.has_p5 && d.has_median && !(raw_value(d.p5) < raw_value(d.median)))
        fail(m.at("median"), join_path(path, "median"), "expected p5 < median");
      if (d.has_median && d.has_p95 && !(raw_value(d.median) < raw_value(d.p95)))
        fail(m.at("p95"), join_path(path, "p95"), "expected median < p95");
      if (d.has_p5 && d.has_p95 && !(raw_value(d.p5) < raw_value(d.p95)))
        fail(m.at("p95"), join_path(path, "p95"), "expected p5 < p95");
      break;
    }
  }
  m.finish();
  return d;
}

template Distribution<double> read_distribution(MapReader&, std::string_view, QuantityKind, double, bool);
template Distribution<Dollars> read_distribution(MapReader&, std::string_view, QuantityKind, double, bool);
template Distribution<GpuHours> read_distribution(MapReader&, std::string_view, QuantityKind, double, bool);
template Distribution<Seconds> read_distribution(MapReader&, std::string_view, QuantityKind, double, bool);

}  // namespace tcsim::scenario
