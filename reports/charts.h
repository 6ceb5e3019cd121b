// Self-contained SVG charts for the reports: plain markup (no scripts, no
// fonts or images fetched), sized by a viewBox so they scale on screen and in
// print. Each function returns one <svg> element; callers add the caption that
// names the figure's source.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tcsim::reports::charts {

// Formats an axis or bar value ("$5.58M", "2.79M GPU-h").
using Format = std::function<std::string(double)>;

// Markup-safe text: & < > " ' escaped.
std::string escape(std::string_view text);

// The colours series take, in order (Tableau 10, colour-blind friendly).
std::string_view palette(std::size_t i);

// A waterfall from a starting figure through signed steps to a total: each
// step a bar floating from the running sum; the first and last bars start at 0.
struct WaterfallStep {
  std::string label;
  double value = 0;    // the start, a step's change, or the total
  bool total = false;  // drawn from 0 (the start and the end)
};
std::string waterfall(const std::vector<WaterfallStep>& steps, const Format& format, std::string_view unit);

// Every chart draws its x axis with ticks and `unit` named at its end, on a
// scale of its own data.

// Horizontal bars, each stacked from named segments (legend from the first
// row's segment names).
struct Segment {
  std::string name;
  double value = 0;
};
struct StackedRow {
  std::string label;
  std::vector<Segment> segments;
};
std::string stacked_bars(const std::vector<StackedRow>& rows, const Format& format, std::string_view unit);

// A histogram of samples with the 10th, 50th and 90th percentiles marked.
std::string histogram(const std::vector<double>& sorted_samples, double p10, double p50, double p90,
                      const Format& format, std::string_view unit, int bins = 40);

// Pairs of bars, B relative to A (A = 100%) per metric, each labelled with
// its own formatted values.
struct PairedMetric {
  std::string label;
  double a = 0;
  double b = 0;
  std::string a_text;
  std::string b_text;
};
std::string paired_bars(const std::vector<PairedMetric>& metrics, std::string_view a_name, std::string_view b_name);

// Figures of very different sizes on one log axis: a bar from the axis for an
// exact figure, a p10-p90 band with the median marked for a distribution;
// each labelled with its median.
struct RangeRow {
  std::string label;
  double low = 0, mid = 0, high = 0;  // low == high: exact
  std::size_t colour = 0;             // palette index
};
std::string range_bars(const std::vector<RangeRow>& rows, const Format& format, std::string_view unit);

// A tornado: for each input, the output with the input at its low and at its
// high value, as bars from the base line; rows drawn in the order given.
struct TornadoRow {
  std::string label;
  double at_low = 0, at_high = 0;
};
std::string tornado(const std::vector<TornadoRow>& rows, double base, const Format& format, std::string_view unit);

}  // namespace tcsim::reports::charts
