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
std::string waterfall(const std::vector<WaterfallStep>& steps, const Format& format);

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
std::string stacked_bars(const std::vector<StackedRow>& rows, const Format& format);

// A histogram of samples with the 10th, 50th and 90th percentiles marked.
std::string histogram(const std::vector<double>& sorted_samples, double p10, double p50, double p90,
                      const Format& format, int bins = 40);

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

}  // namespace tcsim::reports::charts
