// The report files and the comparison: written whole, self-contained, every
// figure labelled with what produced it, the difference attributed exactly.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "reports/accounting.h"
#include "reports/cost_json.h"
#include "reports/report.h"
#include "scenarios/loader.h"
#include "tests/ledger/fixtures.h"

using namespace tcsim;
using namespace tcsim::reports;
using namespace tcsim::cost;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Evaluation deepseek(const std::vector<std::string>& sets = {}) {
  const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3", sets);
  return evaluate(s, sim::peak_flops_oracle(s), {.run = {.seed = 1, .trials = 50}, .rnd = {.seed = 1, .samples = 500}});
}

}  // namespace

TEST_CASE("the report writes md, self-contained html and json, and leaves no temporary file") {
  const Evaluation e = deepseek();
  const fs::path dir = fs::temp_directory_path() / fmt::format("tcsim-report-test-{}", ::getpid());
  fs::remove_all(dir);
  write_report(dir, e, nullptr, "");
  for (const char* f : {"report.md", "report.html", "report.json", "charts/waterfall.svg", "charts/phases.svg",
                        "charts/distribution.svg"}) {
    CHECK_MESSAGE(fs::exists(dir / f), f);
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    CHECK_MESSAGE(entry.path().filename().string().find(".tmp") == std::string::npos, entry.path().string());
  }
  const std::string html = slurp(dir / "report.html");
  CHECK(html.find("<svg") != std::string::npos);
  // Nothing fetched: no scripts, stylesheets, images or frames by reference.
  for (const char* bad : {"<script", "<link", "<img", "<iframe", "src=", "@import", "url("}) {
    CHECK_MESSAGE(html.find(bad) == std::string::npos, bad);
  }
  CHECK(html.find("@media print") != std::string::npos);
  const std::string json = slurp(dir / "report.json");
  for (const char* key : {"\"run\"", "\"gpu_hours_total\"", "\"gpu_hours_per_trillion_tokens\"", "\"wall_days\"",
                          "\"goodput\"", "\"cost\"", "\"final_run_usd\"", "\"owned_final_run_usd\"",
                          "\"rnd_total_usd\"", "\"resolved\"", "\"interruption_log\""}) {
    CHECK_MESSAGE(json.find(key) != std::string::npos, key);
  }
  fs::remove_all(dir);
}

TEST_CASE("a stand-in step oracle is flagged wherever its figures appear") {
  const Evaluation e = deepseek();
  const std::string md = report_markdown(e);
  CHECK(md.find("Step times come from a stand-in") != std::string::npos);
  CHECK(md.find("[stand-in]") != std::string::npos);
  CHECK(md.find("pending") != std::string::npos);  // the step-time breakdown
  for (const Chart& c : report_charts(e, nullptr)) CHECK_MESSAGE(!c.caption.empty(), c.id);
  CHECK(run_json(e.run).dump().find("\"stand_in\": true") != std::string::npos);
}

TEST_CASE("the same seed writes the same report") {
  CHECK(report_json(deepseek()).dump() == report_json(deepseek()).dump());
  CHECK(report_html(deepseek()) == report_html(deepseek()));
}

TEST_CASE("a comparison splits each dollar difference exactly into GPU-hours and rate") {
  const Evaluation a = deepseek();
  const Evaluation b = deepseek({"hardware.gpu=h100", "cost.rental=\"$2.99/GPU-h\""});
  const Difference d = difference(a, b);
  // (hB - hA) rA + hB (rB - rA) = hB rB - hA rA.
  CHECK((d.final_run_from_gpu_hours + d.final_run_from_rate).value() == doctest::Approx(d.final_run.value()));
  CHECK(d.final_run_from_rate.value() == doctest::Approx(b.ledger.gpu_hours.value() * 0.99));
  CHECK((d.compute + d.checkpoints + d.failures + d.measured).value() == doctest::Approx(d.gpu_hours.value()));
  const std::string table = comparison_table(a, b);
  CHECK(table.find("h800") != std::string::npos);
  CHECK(table.find("h100") != std::string::npos);
  CHECK(table.find("pending") != std::string::npos);
  const std::string json = comparison_json(a, b).dump();
  CHECK(json.find("\"pending\"") != std::string::npos);
  // The report carries the comparison chart.
  bool found = false;
  for (const Chart& c : report_charts(a, &b)) found = found || (c.id == "compare" && !c.svg.empty());
  CHECK(found);
}

TEST_CASE("the echo of the resolved scenario includes every cost and reliability input") {
  const std::string j = echo_scenario(scenario::load_scenario("builtin:deepseek-v3")).dump();
  for (const char* key : {"\"interruption_log\"", "\"checkpoint_interval\": \"young-daly\"", "\"capital\"",
                          "\"energy_price_source\"", "\"compute_price\"", "\"items\"", "\"lognormal\""}) {
    CHECK_MESSAGE(j.find(key) != std::string::npos, key);
  }
}

TEST_CASE("with the step simulation, a comparison splits the step difference into compute, communication and bubble") {
  // A short pre-training at the final batch, so each side simulates one step shape.
  const std::vector<std::string> short_run{
      "training.phases=[{name: pre-training, steps: 100, batch: 15360}, {name: post-training, gpu_hours: \"5K "
      "GPU-h\"}]"};
  std::vector<std::string> h100 = short_run;
  h100.push_back("hardware.gpu=h100");
  const auto eval = [](const std::vector<std::string>& sets) {
    const scenario::Scenario s = scenario::load_scenario("builtin:deepseek-v3", sets);
    return evaluate(s, sim::step_simulation_oracle(s),
                    {.run = {.seed = 1, .trials = 20}, .rnd = {.seed = 1, .samples = 100}});
  };
  const Evaluation a = eval(short_run), b = eval(h100);
  const Difference d = difference(a, b);
  REQUIRE(d.step_compute);
  CHECK((*d.step_compute + *d.exposed_comm + *d.bubble).value() == doctest::Approx(d.compute.value()).epsilon(1e-9));
  CHECK(comparison_json(a, b).dump().find("\"inside_steps\": {") != std::string::npos);
  CHECK(report_markdown(a).find("Where the step time went") != std::string::npos);
  CHECK(report_markdown(a).find("Step times come from a stand-in") == std::string::npos);
}

TEST_CASE("the report opens with what its figures rest on: memory, the published run beside the simulated one") {
  const Evaluation e = deepseek();
  const std::string md = report_markdown(e);
  const std::size_t box = md.find("## Read this first");
  REQUIRE(box != std::string::npos);
  CHECK(box < md.find("## Summary"));
  CHECK(md.find("The plan fits in memory") != std::string::npos);
  // The validation suite's run case: V3-TR Table 1's 2.788M GPU-hours beside this run's, with the error computed
  // from the two figures the line prints.
  const double simulated = e.run.gpu_hours_total.value();
  const std::string line = fmt::format("{:+.1f}%", (simulated / 2.788e6 - 1) * 100);
  CHECK_MESSAGE(md.find("The simulated run is **" + line + "** from the published GPU-hours:") != std::string::npos,
                md);
  CHECK(md.find("Step times come from a stand-in") != std::string::npos);  // peak-flops oracle

  // A plan that cannot fit: 20 GB held outside the tensors (the scenario holds 2.81 GB) on an 80.46 GB rank 0.
  const Evaluation big = deepseek({"memory.runtime_reserve=20 GB"});
  const std::string md_big = report_markdown(big);
  CHECK(md_big.find("**The plan does not fit in memory**") != std::string::npos);
  CHECK(md_big.find("Set on the command line: memory.runtime_reserve=20 GB") != std::string::npos);
}

TEST_CASE("the report shows the accounting views, a tornado of the R&D total, and user values as theirs") {
  const Evaluation e = deepseek({"cost.rental=$2.50/GPU-h"});
  const std::string html = report_html(e);
  for (const char* view :
       {"1. The headline as published", "2. The final run, simulated, at rental",
        "2. The final run, simulated, on owned hardware", "3. Development cost attributable to the model",
        "4. Company AI hardware over the development period", "5. Context: Llama 3.1 405B"}) {
    CHECK_MESSAGE(html.find(view) != std::string::npos, view);
  }
  CHECK(html.find("<figure id=\"chart-views\">") != std::string::npos);
  CHECK(html.find("<figure id=\"chart-tornado\">") != std::string::npos);
  CHECK(html.find("The five inputs that decide the total") != std::string::npos);
  // The user's rental: labelled as theirs everywhere, the replaced citation nowhere beside it.
  CHECK(html.find("user value: cost.rental = &quot;$2.50/GPU-h&quot; (--set); no source given") != std::string::npos);
  CHECK(html.find("V3-TR Table 1: assumed H800 rental price") == std::string::npos);
  // Figures are right-aligned cells.
  CHECK(html.find("<td class=\"num\">$5.576M</td>") != std::string::npos);
}

TEST_CASE("a report comparison is a table that prices each side's own server") {
  const Evaluation a = deepseek();
  const Evaluation b = deepseek({"hardware.gpu=h100"});
  const std::string html = report_html(a, &b);
  CHECK(html.find("<pre>Compare") == std::string::npos);
  CHECK(html.find("owned capital per GPU") != std::string::npos);
  // DGX H800 $358,000 / 8 + $4,390 network; DGX H100 $270,000 / 8 + $4,390.
  CHECK(html.find(fmt::format("<td class=\"num\">{}</td>", to_string(Dollars(358000.0 / 8 + 4390)))) !=
        std::string::npos);
  CHECK(html.find(fmt::format("<td class=\"num\">{}</td>", to_string(Dollars(270000.0 / 8 + 4390)))) !=
        std::string::npos);
  CHECK(html.find("DGX H100 (8 GPUs), per GPU") != std::string::npos);
}
