// The report `tcsim report` writes: report.md, a self-contained report.html
// (inline SVG charts, inline style, no scripts and no network fetches,
// readable printed) and report.json (the run.* and cost.* keys of the
// contract plus the resolved scenario), and the charts as SVG files for the
// Markdown. Every figure names its source or the simulation that produced
// it; a stand-in step oracle is flagged wherever its figures appear.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "reports/evaluation.h"
#include "reports/json.h"

namespace tcsim::reports {

// One chart with its title and a caption naming what produced it. An empty
// svg means the chart is pending and the caption says why.
struct Chart {
  std::string id;  // file name stem: charts/<id>.svg
  std::string title;
  std::string caption;
  std::string svg;
};

// `compared` (may be null): a second evaluation shown side by side.
std::vector<Chart> report_charts(const cost::Evaluation& e, const cost::Evaluation* compared);

std::string report_markdown(const cost::Evaluation& e, const cost::Evaluation* compared = nullptr);
std::string report_html(const cost::Evaluation& e, const cost::Evaluation* compared = nullptr);
Json report_json(const cost::Evaluation& e, const cost::Evaluation* compared = nullptr);

// Writes DIR/report.md, DIR/report.html, DIR/report.json, DIR/charts/*.svg
// and, when `resolved_yaml` is not empty, DIR/resolved.yaml: the scenario as
// one file that reproduces the run (scenario::resolved_yaml).
// A new DIR, or one that holds only an earlier report, is written whole beside
// it and swapped in (a full disk leaves the old report as it was); a DIR with
// other files in it keeps them, and each report file is replaced through a
// temporary and a rename. Throws ConfigError when DIR cannot be written.
void write_report(const std::filesystem::path& dir, const cost::Evaluation& e, const cost::Evaluation* compared,
                  std::string_view resolved_yaml);

}  // namespace tcsim::reports
