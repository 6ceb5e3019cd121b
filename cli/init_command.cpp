// `tcsim init`: a complete, commented scenario for a model on a number of
// GPUs, every required section filled with a default that names its source,
// and a parallel plan that is valid and fits in memory, so the scenario runs
// the first time. The plan is the one with the least model parallelism that
// fits (tensor parallelism inside a node before pipeline stages, then the
// fewest expert-parallel ranks); `tcsim plan` searches for the fastest.
#include <algorithm>
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/quoted.h"
#include "hardware/catalog.h"
#include "model/catalog.h"
#include "model/names.h"
#include "model/plan_fields.h"
#include "reports/accounting.h"
#include "scenarios/loader.h"
#include "study/plan_search.h"

namespace tcsim::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kInitHelp =
    R"(Usage: tcsim init --model MODEL --gpu GPU --gpus N [--seq-len N] [--tokens T] [--out FILE.yaml]

Writes a complete scenario: the model, a parallel plan that is valid and fits in memory,
the cluster with its network, a training phase, interruptions and a rental price, each
default commented with its source, so `tcsim run FILE` runs it the first time. Change
what you know about your run; `tcsim plan FILE` searches for the fastest plan.

  --model MODEL      a model preset (tcsim list models) or a Hugging Face config.json
  --gpu GPU          a GPU preset (tcsim list gpus)
  --gpus N           GPUs in all: a multiple of 8 (servers of 8), or 1, 2 or 4 (one server)
  --seq-len N        tokens per sequence; default 4096
  --tokens T         tokens to train on; default "1T"
  --out FILE.yaml    write the scenario there (refused when FILE exists); default stdout
  -h, --help         this text

The plan: of the plans `tcsim plan` enumerates with 1F1B, micro-batch 1, ZeRO-1 and
selective recompute, the first that is valid and fits in memory, by the least tensor x
pipeline parallelism, then the fewest pipeline stages, then the fewest expert ranks.
)";

struct InitFlags {
  std::string model;
  std::string gpu;
  int gpus = 0;
  int seq_len = 4096;
  std::string tokens = "1T";
  std::optional<std::string> out;
};

InitFlags parse_init(std::span<const std::string> args) {
  InitFlags f;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (auto m = flag_value(args, i, "--model", "init")) {
      f.model = *m;
    } else if (auto g = flag_value(args, i, "--gpu", "init")) {
      f.gpu = *g;
    } else if (auto n = flag_value(args, i, "--gpus", "init")) {
      f.gpus = whole_number("--gpus", *n, 1);
    } else if (auto s = flag_value(args, i, "--seq-len", "init")) {
      f.seq_len = whole_number("--seq-len", *s, 1);
    } else if (auto t = flag_value(args, i, "--tokens", "init")) {
      f.tokens = *t;
    } else if (auto o = flag_value(args, i, "--out", "init")) {
      if (o->empty()) throw ConfigError("init: --out needs a file name");
      f.out = *o;
    } else {
      throw ConfigError(fmt::format("init: unexpected argument \"{}\" (see tcsim init --help)", args[i]));
    }
  }
  if (f.model.empty() || f.gpu.empty() || f.gpus == 0) {
    throw ConfigError("init: --model, --gpu and --gpus are required (see tcsim init --help)");
  }
  if (f.gpus > 8 && f.gpus % 8 != 0) {
    throw ConfigError(fmt::format("init: --gpus {}: servers hold 8 GPUs; give a multiple of 8, or 1, 2 or 4", f.gpus));
  }
  if (f.gpus < 8 && f.gpus != 1 && f.gpus != 2 && f.gpus != 4) {
    throw ConfigError(fmt::format("init: --gpus {}: give 1, 2 or 4 GPUs of one server, or a multiple of 8", f.gpus));
  }
  return f;
}

// The model section: a preset by name, or a Hugging Face config by absolute path.
struct ModelChoice {
  std::string yaml;  // the value after "model: "
  std::string name;  // for the scenario's name
  std::string note;  // the comment beside it
};

ModelChoice choose_model(const std::string& model) {
  if (model.ends_with(".json")) {
    std::error_code ec;
    if (!fs::exists(model, ec)) throw ConfigError(fmt::format("init: --model {}: no such file", model));
    const std::string path = fs::absolute(model).lexically_normal().string();
    return {fmt::format("{{hf_config: {}}}", json_quoted(path)), fs::path(model).stem().string(),
            "a Hugging Face config.json (docs/scenarios.md)"};
  }
  if (model::find_model_preset(model) == nullptr) {
    throw ConfigError(fmt::format("init: --model {}: no such preset (known: {}), and not a config.json", model,
                                  fmt::join(model::model_preset_names(), ", ")));
  }
  return {model, model, "a preset: the published architecture (tcsim list models shows its source)"};
}

// The scale-out network of the GPU's generation: DGX servers' NICs and the
// InfiniBand switches of their reference clusters.
struct Network {
  std::string nic;
  int radix = 64;
  std::string source;
};

Network network_of(const std::string& gpu) {
  if (gpu.starts_with("a100") || gpu.starts_with("a800")) {
    return {"200 Gb/s", 40,
            "DGX A100 datasheet: 8 ConnectX-6 200 Gb/s HDR NICs; Quantum QM8700 switches: 40 ports of 200 Gb/s"};
  }
  return {"400 Gb/s", 64,
          "DGX H100 datasheet: 8 ConnectX-7 400 Gb/s NDR NICs; Quantum-2 QM9700 switches: 64 ports of 400 Gb/s"};
}

std::string field_text(int v) { return fmt::format("{}", v); }
std::string field_text(bool v) { return v ? "true" : "false"; }
std::string field_text(model::Schedule v) { return std::string(model::schedule_name(v)); }
std::string field_text(model::Recompute v) { return std::string(model::recompute_name(v)); }
std::string field_text(const std::vector<int>& v) { return fmt::format("[{}]", fmt::join(v, ", ")); }

// Every field of the plan the loader would not set the same by default (the
// degrees and the policies always), dp as `auto`.
std::string plan_yaml(const model::ParallelPlan& p) {
  const model::ParallelPlan defaults;
  std::string out;
  std::apply(
      [&](const auto&... field) {
        const auto one = [&](const auto& f) {
          const auto& value = p.*(f.member);
          static constexpr std::array<std::string_view, 8> kAlways{"tp",          "pp",   "ep",       "cp",
                                                                   "micro_batch", "zero", "schedule", "recompute"};
          const bool always = std::find(kAlways.begin(), kAlways.end(), f.name) != kAlways.end();
          if (f.name == "dp") {
            out += "  dp: auto          # GPUs / (tp x pp x cp)\n";
          } else if (always || !(value == defaults.*(f.member))) {
            out += fmt::format("  {}: {}\n", f.name, field_text(value));
          }
        };
        (one(field), ...);
      },
      model::kPlanFields);
  return out;
}

// The whole scenario. `plan_note` says how the plan was chosen and what it holds.
std::string scenario_yaml(const InitFlags& f, const ModelChoice& m, const model::ParallelPlan& plan, std::int64_t batch,
                          const std::string& plan_note) {
  const int per_node = std::min(f.gpus, 8);
  const int nodes = f.gpus / per_node;
  const Network net = network_of(f.gpu);
  std::string out = fmt::format(
      "# Written by `tcsim init --model {} --gpu {} --gpus {}`: every section a run needs, each default with where\n"
      "# it comes from. Change what you know about your run; `tcsim run` on this file runs it, `tcsim plan` searches\n"
      "# for the fastest plan, `tcsim report` prices it.\n"
      "name: {}-{}x{}\n"
      "description: \"{} on {} {} GPUs\"\n\n"
      "model: {}   # {}\n\n",
      f.model, f.gpu, f.gpus, m.name, f.gpus, f.gpu, m.name, f.gpus, f.gpu, m.yaml, m.note);
  out += "# " + plan_note + "\nparallelism:\n" + plan_yaml(plan) + "\n";
  out += "precision: {gemm: bf16}   # [assumption] BF16 GEMMs with FP32 master weights and moments (the defaults)\n\n";
  out += fmt::format(
      "hardware:\n"
      "  gpu: {}          # a preset (tcsim list gpus); its calibration profile is the preset's default\n"
      "  gpus_per_node: {}  # DGX and HGX servers hold 8 GPUs on NVLink\n"
      "  nodes: {}\n",
      f.gpu, per_node, nodes);
  if (nodes > 1) {
    out += fmt::format(
        "  network:\n"
        "    topology: fat-tree              # [assumption] a two- or three-layer Clos, non-blocking\n"
        "    nic_bandwidth: \"{}\"       # {}\n"
        "    nics_per_node: 8                # one NIC per GPU, as in DGX servers\n"
        "    oversubscription: 1             # [assumption] non-blocking\n"
        "    switch_radix: {}                # {}\n"
        "    latency_intra_leaf: \"2.8 us\"    # ISCA'25 (arXiv:2505.09343) §4: InfiniBand 64-byte latency, same leaf\n"
        "    latency_cross_leaf: \"3.7 us\"    # the same, across leaves\n"
        "    latency_nvlink: \"3.33 us\"       # the same, over NVLink\n",
        net.nic, net.source, net.radix, "the switches above");
  }
  out += fmt::format(
      "\ntraining:\n"
      "  seq_len: {}\n"
      "  phases:\n"
      "    - name: pre-training\n"
      "      tokens: \"{}\"\n"
      "      batch: {}   # [assumption] about 4M tokens a step (GPT-3 175B: 3.2M, arXiv:2005.14165 Table 2.1), a "
      "multiple of the GPUs\n"
      "      source: \"tcsim init defaults [assumption]\"\n\n",
      f.seq_len, f.tokens, batch);
  out +=
      "reliability:\n"
      "  # Llama 3's published interruption log (arXiv:2407.21783 §3.3.4, Table 5): 419 unexpected interruptions in\n"
      "  # 54 days on 16,384 H100, the only public log of this scale.\n"
      "  interruption_log:\n"
      "    gpus: 16384\n"
      "    window: \"54 days\"\n"
      "    source: \"Llama 3 (arXiv:2407.21783) §3.3.4 and Table 5 [exact]\"\n"
      "    causes:\n"
      "      - {name: all, interruptions: 419, source: \"Llama 3 Table 5, every unexpected interruption\"}\n"
      "  restart_time: \"10 min\"            # [assumption] plain checkpoint-restart\n"
      "  checkpoint_interval: young-daly     # the Young/Daly optimum\n"
      "  checkpoint_bandwidth: \"100 GB/s\"  # [assumption] a parallel file system's write bandwidth\n"
      "  source: \"restart time and checkpoint bandwidth are tcsim init [assumption]s\"\n\n";
  out +=
      "cost:\n"
      "  rental: \"$2/GPU-h\"\n"
      "  rental_source: \"[assumption] DeepSeek-V3's assumed H800 rate (V3-TR Table 1); H100 marketplaces near $2 in "
      "2025 (costs.md)\"\n"
      "  # Owned hardware, the R&D items and the accounting views: see builtin:deepseek-v3 (tcsim list scenarios).\n";
  return out;
}

// The plan: valid, fits in memory, least model parallelism.
std::optional<std::pair<model::ParallelPlan, model::MemoryBudget>> choose_plan(const scenario::Scenario& base,
                                                                               int gpus) {
  std::vector<model::ParallelPlan> plans;
  for (model::ParallelPlan& p : study::enumerate_plans(base, gpus)) {
    if (p.schedule == model::Schedule::one_f_one_b && p.micro_batch == 1 && p.zero == 1 && p.cp == 1 &&
        p.recompute == model::Recompute::selective) {
      plans.push_back(std::move(p));
    }
  }
  std::stable_sort(plans.begin(), plans.end(), [](const model::ParallelPlan& a, const model::ParallelPlan& b) {
    return std::tuple(a.tp * a.pp, a.pp, a.ep) < std::tuple(b.tp * b.pp, b.pp, b.ep);
  });
  for (const model::ParallelPlan& p : plans) {
    if (study::check_plan(base, p, gpus)) continue;
    const scenario::Scenario s = study::with_plan(base, p, gpus);
    const model::MemoryBudget m = reports::account(s).memory;
    if (m.fits) return std::pair{p, m};
  }
  return std::nullopt;
}

}  // namespace

int init_command(std::span<const std::string> args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      fmt::print("{}", kInitHelp);
      return 0;
    }
  }
  const InitFlags f = parse_init(args);
  if (hw::find_gpu_preset(f.gpu) == nullptr) {
    throw ConfigError(
        fmt::format("init: --gpu {}: no such preset (known: {})", f.gpu, fmt::join(hw::gpu_preset_names(), ", ")));
  }
  if (f.out) {
    std::error_code ec;
    if (fs::exists(*f.out, ec)) {
      throw ConfigError(
          fmt::format("init: {} exists; it is left as it was (remove it, or give another --out)", *f.out));
    }
  }
  const ModelChoice m = choose_model(f.model);
  // About 4M tokens a step, a multiple of the GPUs so that every data-parallel size divides it.
  const std::int64_t target = std::max<std::int64_t>(1, (4LL << 20) / f.seq_len);
  const std::int64_t batch = (target + f.gpus - 1) / f.gpus * f.gpus;
  const std::string file = f.out.value_or("init.yaml");
  const scenario::Scenario base = scenario::load_scenario_text(
      scenario_yaml(f, m, model::ParallelPlan{}, batch, "a first plan, replaced below"), file);
  const auto chosen = choose_plan(base, f.gpus);
  if (!chosen) {
    throw ConfigError(
        fmt::format("init: no plan of {} on {} {} fits in memory (with ZeRO-1 and selective recompute); "
                    "give more GPUs, or write the plan yourself",
                    m.name, f.gpus, f.gpu));
  }
  const auto& [plan, memory] = *chosen;
  const std::string note = fmt::format(
      "Chosen by tcsim init: of the plans with 1F1B, micro-batch 1, ZeRO-1 and selective recompute, the valid one\n"
      "# with the least tensor x pipeline parallelism that fits: {} of {} per GPU on the fullest rank. `tcsim plan`\n"
      "# searches every plan for the fastest.",
      to_string(memory.total), to_string(memory.capacity));
  const std::string text = scenario_yaml(f, m, plan, batch, note);
  scenario::load_scenario_text(text, file);  // what is written loads
  if (f.out) {
    write_file_atomically(*f.out, text, "init");
    fmt::print(stderr, "init: wrote {}: {} on {} {}; tcsim run {} runs it\n", *f.out, m.name, f.gpus, f.gpu, *f.out);
  } else {
    fmt::print("{}", text);
  }
  return 0;
}

}  // namespace tcsim::cli
