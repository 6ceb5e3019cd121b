#include "reports/charts.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/random.h"

namespace tcsim::reports::charts {
namespace {

constexpr double kWidth = 820;
constexpr double kLabelRight = 320;  // labels end here
constexpr double kPlotLeft = 330;
constexpr double kPlotRight = 700;       // leaves room for value labels
constexpr std::size_t kLabelChars = 44;  // what fits left of the plot at 12 px, wide letters included
constexpr double kRow = 28;
constexpr double kBar = 18;

std::string open_svg(double height) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {:.0f}\" width=\"100%\" role=\"img\" "
      "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\" fill=\"#222\">\n",
      kWidth, height);
}

std::string text(double x, double y, std::string_view s, std::string_view anchor = "start",
                 std::string_view extra = "") {
  return fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\"{}>{}</text>\n", x, y, anchor,
                     extra.empty() ? "" : " " + std::string(extra), escape(s));
}

std::string rect(double x, double y, double w, double h, std::string_view fill) {
  return fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"/>\n", x, y,
                     std::max(w, 0.0), h, fill);
}

std::string line(double x1, double y1, double x2, double y2, std::string_view stroke, std::string_view extra = "") {
  return fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\"{}/>\n", x1, y1, x2,
                     y2, stroke, extra.empty() ? "" : " " + std::string(extra));
}

// A row label right-aligned at the plot's left edge, shortened with an ellipsis
// when too long (the full text stays in a tooltip).
std::string label(double y, std::string_view s) {
  if (s.size() <= kLabelChars) return text(kLabelRight, y, s, "end");
  std::string cut(s.substr(0, kLabelChars - 1));
  while (!cut.empty() && (static_cast<unsigned char>(cut.back()) & 0xC0) == 0x80)
    cut.pop_back();  // whole UTF-8 characters
  if (!cut.empty() && static_cast<unsigned char>(cut.back()) >= 0xC0) cut.pop_back();
  return fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\"><title>{}</title>{}\u2026</text>\n",
                     kLabelRight, y, escape(s), escape(cut));
}

// Maps [lo, hi] onto [left, right].
struct Scale {
  double lo, hi, left, right;
  double operator()(double v) const { return hi > lo ? left + (v - lo) / (hi - lo) * (right - left) : left; }
};

// Tick values for [lo, hi]: multiples of 1, 2 or 5 x 10^k, about five.
std::vector<double> nice_ticks(double lo, double hi) {
  std::vector<double> ticks;
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push_back(t);
  return ticks;
}

// The x axis under a plot: a baseline, ticks with their values, and the
// unit's name at the right end.
std::string x_axis(const Scale& x, double y, const Format& format, std::string_view unit) {
  std::string svg = line(x.left, y, x.right, y, "#444");
  for (const double t : nice_ticks(x.lo, x.hi)) {
    svg += line(x(t), y, x(t), y + 4, "#444");
    svg += text(x(t), y + 16, format(t), "middle", "font-size=\"11\"");
  }
  svg += text(x.right, y + 30, unit, "end", "font-size=\"11\" fill=\"#555\"");
  return svg;
}

// A log-scaled x position.
struct LogScale {
  double lo, hi, left, right;  // lo, hi > 0
  double operator()(double v) const {
    const double lv = std::log10(std::max(v, lo));
    return left + (lv - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) * (right - left);
  }
};

std::string log_axis(const LogScale& x, double y, const Format& format, std::string_view unit) {
  std::string svg = line(x.left, y, x.right, y, "#444");
  // 1, 2 and 5 in each decade while they fit; decades alone beyond two.
  const bool wide = std::log10(x.hi) - std::log10(x.lo) > 2.01;
  for (double decade = std::pow(10.0, std::floor(std::log10(x.lo))); decade <= x.hi; decade *= 10) {
    for (const double m : {1.0, 2.0, 5.0}) {
      if (wide && m != 1.0) continue;
      const double t = decade * m;
      if (t < x.lo || t > x.hi) continue;
      svg += line(x(t), y, x(t), y + 4, "#444");
      svg += text(x(t), y + 16, format(t), "middle", "font-size=\"11\"");
    }
  }
  svg += text(x.right, y + 30, unit, "end", "font-size=\"11\" fill=\"#555\"");
  return svg;
}

constexpr double kAxis = 38;  // room under a plot for its axis

}  // namespace

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string_view palette(std::size_t i) {
  static constexpr std::array<std::string_view, 10> kColours{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                                             "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return kColours[i % kColours.size()];
}

std::string waterfall(const std::vector<WaterfallStep>& steps, const Format& format, std::string_view unit) {
  // Running sums: a step's bar spans [before, after].
  double lo = 0, hi = 0, sum = 0;
  std::vector<std::pair<double, double>> spans;
  for (const WaterfallStep& s : steps) {
    const double before = s.total ? 0 : sum;
    const double after = s.total ? s.value : sum + s.value;
    spans.emplace_back(before, after);
    sum = after;
    lo = std::min({lo, before, after});
    hi = std::max({hi, before, after});
  }
  const Scale x{lo, hi, kPlotLeft, kPlotRight};
  const double plot_bottom = 10 + kRow * static_cast<double>(steps.size());
  const double height = plot_bottom + kAxis;
  std::string svg = open_svg(height);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const WaterfallStep& s = steps[i];
    const auto [before, after] = spans[i];
    const double y = 10 + kRow * static_cast<double>(i);
    const std::string_view colour = s.total ? palette(0) : s.value >= 0 ? palette(1) : palette(2);
    const double left = x(std::min(before, after));
    const double right = x(std::max(before, after));
    svg += label(y + kBar - 4, s.label);
    svg += rect(left, y, std::max(right - left, 1.0), kBar, colour);
    const std::string value = s.total ? format(s.value) : (s.value >= 0 ? "+" : "-") + format(std::fabs(s.value));
    svg += text(right + 6, y + kBar - 4, value);
    if (i + 1 < steps.size()) {
      svg += line(x(after), y + kBar, x(after), y + kRow, "#888", "stroke-dasharray=\"3,2\"");
    }
  }
  svg += line(x(0), 6, x(0), plot_bottom, "#444");
  svg += x_axis(x, plot_bottom, format, unit);
  svg += "</svg>\n";
  return svg;
}

std::string stacked_bars(const std::vector<StackedRow>& rows, const Format& format, std::string_view unit) {
  double hi = 0;
  for (const StackedRow& r : rows) {
    double total = 0;
    for (const Segment& s : r.segments) total += std::max(s.value, 0.0);
    hi = std::max(hi, total);
  }
  const Scale x{0, hi, kPlotLeft, kPlotRight};
  const double legend = 24;
  const double plot_bottom = legend + 10 + kRow * static_cast<double>(rows.size());
  const double height = plot_bottom + kAxis;
  std::string svg = open_svg(height);
  if (!rows.empty()) {
    double lx = kPlotLeft;
    for (std::size_t k = 0; k < rows.front().segments.size(); ++k) {
      svg += rect(lx, 6, 12, 12, palette(k));
      svg += text(lx + 16, 16, rows.front().segments[k].name);
      lx += 22 + 7.0 * static_cast<double>(rows.front().segments[k].name.size());
    }
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const StackedRow& r = rows[i];
    const double y = legend + 10 + kRow * static_cast<double>(i);
    svg += label(y + kBar - 4, r.label);
    double acc = 0;
    for (std::size_t k = 0; k < r.segments.size(); ++k) {
      const double v = std::max(r.segments[k].value, 0.0);
      svg += rect(x(acc), y, x(acc + v) - x(acc), kBar, palette(k));
      acc += v;
    }
    svg += text(x(acc) + 6, y + kBar - 4, format(acc));
  }
  svg += line(kPlotLeft, legend + 4, kPlotLeft, plot_bottom, "#444");
  svg += x_axis(x, plot_bottom, format, unit);
  svg += "</svg>\n";
  return svg;
}

std::string histogram(const std::vector<double>& sorted, double p10, double p50, double p90, const Format& format,
                      std::string_view unit, int bins) {
  const double height = 262;
  std::string svg = open_svg(height);
  if (sorted.empty() || bins < 1) return svg + "</svg>\n";
  // The central 99% sets the axis; samples beyond it fall into the end bins.
  const double lo = quantile_sorted(sorted, 0.005);
  double hi = quantile_sorted(sorted, 0.995);
  if (!(hi > lo)) hi = lo + 1;
  std::vector<double> counts(static_cast<std::size_t>(bins), 0.0);
  for (const double v : sorted) {
    const double f = (v - lo) / (hi - lo) * bins;
    const int b = std::clamp(static_cast<int>(std::floor(f)), 0, bins - 1);
    counts[static_cast<std::size_t>(b)] += 1;
  }
  const double top = *std::max_element(counts.begin(), counts.end());
  const double left = 60, right = kWidth - 40, base = height - kAxis - 14, ceiling = 30;
  const Scale x{lo, hi, left, right};
  const double width = (right - left) / bins;
  for (int b = 0; b < bins; ++b) {
    const double h = counts[static_cast<std::size_t>(b)] / top * (base - ceiling);
    svg += rect(left + width * b + 0.5, base - h, width - 1, h, palette(0));
  }
  svg += x_axis(x, base, format, unit);
  svg += line(left, ceiling, left, base, "#444");
  svg += text(left - 6, base, "0", "end", "font-size=\"11\"");
  svg += text(left - 6, ceiling + 4, fmt::format("{:.0f}", top), "end", "font-size=\"11\"");
  svg += text(left - 6, ceiling + 18, "samples", "end", "font-size=\"11\" fill=\"#555\"");
  const std::array<std::pair<const char*, double>, 3> marks{{{"p10", p10}, {"p50", p50}, {"p90", p90}}};
  for (const auto& [name, v] : marks) {
    const double mx = std::clamp(x(v), left, right);
    svg += line(mx, ceiling - 10, mx, base, palette(3), "stroke-width=\"2\"");
    svg += text(mx, ceiling - 14, fmt::format("{} {}", name, format(v)), "middle", "font-weight=\"bold\"");
  }
  svg += "</svg>\n";
  return svg;
}

std::string paired_bars(const std::vector<PairedMetric>& metrics, std::string_view a_name, std::string_view b_name) {
  double top = 1;
  for (const PairedMetric& m : metrics) {
    if (m.a > 0) top = std::max(top, m.b / m.a);
  }
  const Scale x{0, top, kPlotLeft, kPlotRight - 60};
  const double legend = 42;
  const double group = 2 * kBar + 14;
  const double plot_bottom = legend + 10 + group * static_cast<double>(metrics.size());
  const double height = plot_bottom + kAxis;
  std::string svg = open_svg(height);
  svg += rect(kPlotLeft, 6, 12, 12, palette(0));
  svg += text(kPlotLeft + 16, 16, fmt::format("A: {}", a_name));
  // The legend sits above the bars, one entry per line.
  svg += rect(kPlotLeft, 24, 12, 12, palette(1));
  svg += text(kPlotLeft + 16, 34, fmt::format("B: {} (bars relative to A)", b_name));
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const PairedMetric& m = metrics[i];
    const double y = legend + 10 + group * static_cast<double>(i);
    svg += label(y + kBar + 4, m.label);
    const double rel = m.a > 0 ? m.b / m.a : 0;
    svg += rect(x(0), y, x(1) - x(0), kBar - 2, palette(0));
    svg += text(x(1) + 6, y + kBar - 6, m.a_text);
    svg += rect(x(0), y + kBar, x(rel) - x(0), kBar - 2, palette(1));
    svg += text(x(rel) + 6, y + 2 * kBar - 6,
                m.a > 0 ? fmt::format("{} ({:+.1f}%)", m.b_text, (rel - 1) * 100) : m.b_text);
  }
  svg += line(kPlotLeft, legend + 4, kPlotLeft, plot_bottom, "#444");
  svg += x_axis(
      x, plot_bottom, [](double v) { return fmt::format("{:.0f}%", v * 100); }, "% of A");
  svg += "</svg>\n";
  return svg;
}

std::string range_bars(const std::vector<RangeRow>& rows, const Format& format, std::string_view unit) {
  double lo = 0, hi = 0;
  for (const RangeRow& r : rows) {
    for (const double v : {r.low, r.mid, r.high}) {
      if (v > 0) {
        lo = lo > 0 ? std::min(lo, v) : v;
        hi = std::max(hi, v);
      }
    }
  }
  const double plot_bottom = 10 + kRow * static_cast<double>(rows.size());
  std::string svg = open_svg(plot_bottom + kAxis);
  if (!(hi > 0)) return svg + "</svg>\n";
  // Whole decades around the data, so a $5M figure and a $500M one both read.
  const LogScale x{std::pow(10.0, std::floor(std::log10(lo))), std::pow(10.0, std::ceil(std::log10(hi))), kPlotLeft,
                   kPlotRight};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const RangeRow& r = rows[i];
    const double y = 10 + kRow * static_cast<double>(i);
    svg += label(y + kBar - 4, r.label);
    const std::string_view colour = palette(r.colour);
    if (r.high > r.low) {
      svg += rect(x(r.low), y + 3, x(r.high) - x(r.low), kBar - 6, colour);
      svg += line(x(r.mid), y, x(r.mid), y + kBar, "#222", "stroke-width=\"2\"");
      svg += text(x(r.high) + 6, y + kBar - 4, format(r.mid));
    } else {
      svg += rect(x.left, y, x(r.mid) - x.left, kBar, colour);
      svg += text(x(r.mid) + 6, y + kBar - 4, format(r.mid));
    }
  }
  svg += log_axis(x, plot_bottom, format, unit);
  svg += "</svg>\n";
  return svg;
}

std::string tornado(const std::vector<TornadoRow>& rows, double base, const Format& format, std::string_view unit) {
  double lo = base, hi = base;
  for (const TornadoRow& r : rows) {
    lo = std::min({lo, r.at_low, r.at_high});
    hi = std::max({hi, r.at_low, r.at_high});
  }
  const double pad = (hi - lo) * 0.05;
  const Scale x{lo - pad, hi + pad, kPlotLeft, kPlotRight};
  const double legend = 24;
  const double plot_bottom = legend + 10 + kRow * static_cast<double>(rows.size());
  std::string svg = open_svg(plot_bottom + kAxis);
  svg += rect(kPlotLeft, 6, 12, 12, palette(2));
  svg += text(kPlotLeft + 16, 16, "input at its p10");
  svg += rect(kPlotLeft + 130, 6, 12, 12, palette(3));
  svg += text(kPlotLeft + 146, 16, "input at its p90");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const TornadoRow& r = rows[i];
    const double y = legend + 10 + kRow * static_cast<double>(i);
    svg += label(y + kBar - 4, r.label);
    svg += rect(std::min(x(r.at_low), x(base)), y, std::fabs(x(r.at_low) - x(base)), kBar, palette(2));
    svg += rect(std::min(x(r.at_high), x(base)), y, std::fabs(x(r.at_high) - x(base)), kBar, palette(3));
  }
  svg += line(x(base), legend + 4, x(base), plot_bottom, "#222", "stroke-width=\"2\"");
  svg += text(x(base), legend + 2, fmt::format("median {}", format(base)), "middle", "font-size=\"11\"");
  svg += x_axis(x, plot_bottom, format, unit);
  svg += "</svg>\n";
  return svg;
}

}  // namespace tcsim::reports::charts
