// `tcsim calibrate --from-nccl-tests`: fit each nccl-tests log to its network
// tier's latency and bandwidth (calibrate/network/nccl_tests.h), write the
// network profile, and set the fit beside the scenario's network figures.
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "calibrate/network/nccl_tests.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text_file.h"
#include "scenarios/loader.h"

namespace tcsim::cli {
namespace {

// A log of every size from 1 B to 16 GiB with banners is some kilobytes; a larger file is not one.
constexpr std::uintmax_t kMaxLogBytes = std::uintmax_t{16} << 20;

}  // namespace

int calibrate_from_nccl_tests(std::span<const std::string> args) {
  std::vector<std::string> logs;
  std::string scenario;
  std::string out;
  std::string op;
  std::string name;
  std::vector<std::string> sets;
  bool taking_logs = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (auto v = flag_value(args, i, "--from-nccl-tests", "calibrate")) {
      logs.push_back(*v);
      taking_logs = true;
    } else if (auto s = flag_value(args, i, "--scenario", "calibrate")) {
      scenario = *s;
      taking_logs = false;
    } else if (auto o = flag_value(args, i, "--out", "calibrate")) {
      out = *o;
      taking_logs = false;
    } else if (auto p = flag_value(args, i, "--op", "calibrate")) {
      op = *p;
      taking_logs = false;
    } else if (auto n = flag_value(args, i, "--name", "calibrate")) {
      name = *n;
      taking_logs = false;
    } else if (auto set = flag_value(args, i, "--set", "calibrate")) {
      sets.push_back(*set);
      taking_logs = false;
    } else if (taking_logs && !args[i].starts_with("-")) {
      logs.push_back(args[i]);
    } else {
      throw ConfigError(
          fmt::format("calibrate --from-nccl-tests: unexpected argument \"{}\" (see tcsim calibrate --help)", args[i]));
    }
  }
  if (out.empty()) throw ConfigError("calibrate --from-nccl-tests: --out NETWORK.yaml is required");
  if (scenario.empty()) {
    throw ConfigError(
        "calibrate --from-nccl-tests: --scenario SCENARIO is required (its network is set beside the fit)");
  }
  const scenario::Scenario s = scenario::load_scenario(scenario, sets);
  std::vector<calibrate::NcclLog> read;
  std::vector<calibrate::NcclFit> fits;
  for (const std::string& l : logs) {
    read.push_back(calibrate::read_nccl_log(read_text_file(l, kMaxLogBytes, "the nccl-tests log"), l, op));
    fits.push_back(calibrate::fit_nccl_log(read.back()));
  }
  write_file_atomically(
      out,
      calibrate::network_profile_yaml(read, fits, name.empty() ? std::filesystem::path(out).stem().string() : name),
      "--out");

  const hw::NetworkSpec& net = s.hardware.network;
  fmt::print("{:<12} {:>6} {:>6} {:>12} {:>12} {:>12} {:>8} {:>8}  {}\n", "tier", "ranks", "hosts", "latency", "algbw",
             "busbw", "rms", "max", "log");
  for (std::size_t i = 0; i < read.size(); ++i) {
    const calibrate::NcclLog& l = read[i];
    const calibrate::NcclFit& f = fits[i];
    fmt::print("{:<12} {:>6} {:>6} {:>12} {:>12} {:>12} {:>7.2f}% {:>7.2f}%  {} ({}, {})\n",
               l.intra_node() ? "intra-node" : "inter-node", l.hosts.size(), l.host_count(), to_string(f.latency),
               to_string(f.algbw), to_string(f.busbw), 100 * f.rms, 100 * f.max, l.file, l.op,
               l.devices.empty() ? "" : l.devices.front());
    if (l.intra_node()) {
      fmt::print("  scenario {}: latency_nvlink {}, gpu.nvlink_bandwidth {} per direction\n", s.name,
                 to_string(net.latency_nvlink), to_string(s.hardware.gpu.nvlink_bandwidth));
    } else {
      fmt::print("  scenario {}: latency_intra_leaf {}, latency_cross_leaf {}, {} NICs x {} per node\n", s.name,
                 to_string(net.latency_intra_leaf), to_string(net.latency_cross_leaf), net.nics_per_node,
                 to_string(net.nic_bandwidth));
    }
  }
  fmt::print("\nWrote {}: per tier the fit, its residuals per size and the raw rows (docs/calibration.md).\n", out);
  return 0;
}

}  // namespace tcsim::cli
