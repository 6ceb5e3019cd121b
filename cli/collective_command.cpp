// `tcsim collective`: one collective on the scenario's cluster, timed with
// flow-level sharing and reported as nccl-tests reports it; also expert
// dispatch and combine as DeepEP's benchmarks report them.
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "hardware/builders.h"
#include "hardware/collective_run.h"
#include "hardware/collectives.h"
#include "hardware/expert_dispatch.h"
#include "hardware/names.h"
#include "model/spec.h"
#include "reports/json.h"
#include "scenarios/loader.h"
#include "scenarios/quantity.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kCollectiveHelp =
    R"(Usage: tcsim collective [SCENARIO] --op OP [--algo ALGO] --size SIZE [--gpus N] [options]

Simulates one collective on the first N GPUs of SCENARIO's cluster (a YAML file or
builtin:NAME; default builtin:deepseek-v3: 2048 H800, 8 per node, multi-plane fat-tree)
with flow-level max-min bandwidth sharing, and prints what nccl-tests would: time,
algorithm bandwidth (size / time) and bus bandwidth (algbw x 2(n-1)/n for all-reduce,
x (n-1)/n for reduce-scatter, all-gather and all-to-all).

  --op OP            all-reduce | reduce-scatter | all-gather | all-to-all | send-recv,
                     or ep-dispatch | ep-combine (expert-parallel, see below). Default all-reduce.
  --algo ALGO        all-reduce: ring (default) | tree (double binary tree) | hierarchical
                     (intra-node reduce-scatter, inter-node all-reduce, intra-node all-gather);
                     reduce-scatter, all-gather: ring; all-to-all: direct (default, every
                     send at once) | pairwise (n-1 rounds); send-recv: direct (first GPU to last)
  --size SIZE        buffer size as nccl-tests counts it ("1GiB", "256 MB"): all-reduce the
                     buffer on each GPU; reduce-scatter and all-gather the full n-chunk
                     buffer; all-to-all each GPU's whole send buffer. Required except for ep-*.
  --gpus N           use the first N GPUs of the cluster (node-major); default all of them
  --channels C       parallel rings, each with 1/C of the data and leaving each node through a
                     different GPU and NIC; default the scenario's NICs per node (one per NIC)
  --chunk SIZE       tree pipeline chunk; default 512KiB (NCCL's 4 MiB buffer / 8 steps)
  --every-step       simulate every repetition of a repeated step (same result, slower;
                     for benchmarking the flow engine)
  --set PATH=VALUE   override a scenario field, e.g. --set hardware.gpu=h100 (repeatable)
  --json             one JSON object instead of text
  -h, --help         this text

Expert-parallel dispatch and combine (DeepSeek-V3 node-limited routing; DeepEP's kernels):
each token goes to at most M nodes, once over the network to the GPU with the sender's
local index there, which forwards it over NVLink to the target GPUs. Figures default to the
scenario's model.moe and hidden size.
  --tokens T         tokens per GPU (default 4096, DeepEP's benchmark)
  --experts E        routed experts (default model.moe.routed)
  --top-k K          experts per token (default model.moe.per_token)
  --max-nodes M      nodes per token, 0 for no limit (default model.moe.max_nodes_per_token)
  --node-score-experts G
                     a node's score sums its best G affinities (default top_k / M, V3-TR
                     §2.1.2; DeepEP's benchmark uses 1)
  --token-bytes SIZE bytes per token (default: dispatch hidden x FP8 + one FP32 scale per 128
                     values when precision.gemm is fp8, else hidden x 2; combine hidden x 2)
  --zipf S           skewed expert load, weight of expert e proportional to (e+1)^-S
  --expert-weights W1,W2,...
                     skewed expert load given per expert (one positive number per expert)
  --seed N           seed of the sampled routing (default 1)

Bad input exits with code 2.
)";

struct Options {
  std::optional<std::string> scenario;
  std::vector<std::string> sets;
  std::string op = "all-reduce";
  std::optional<std::string> algo;
  std::optional<Bytes> size;
  std::optional<int> gpus;
  std::optional<int> channels;
  std::optional<Bytes> chunk;
  bool every_step = false;
  bool json = false;
  int tokens = 4096;  // DeepEP tests/test_internode.py default --num-tokens
  std::optional<int> experts;
  std::optional<int> top_k;
  std::optional<int> max_nodes;
  int node_score_experts = 0;
  std::optional<Bytes> token_bytes;
  std::optional<double> zipf;
  std::vector<double> expert_weights;
  std::uint64_t seed = 1;
};

[[noreturn]] void bad(std::string_view flag, std::string_view expected, std::string_view got) {
  throw ConfigError(
      fmt::format("collective: {} expects {}, got \"{}\" (see tcsim collective --help)", flag, expected, got));
}

template <class Int>
Int parse_int(std::string_view flag, const std::string& text, Int least) {
  Int v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < least) {
    bad(flag, fmt::format("an integer of at least {}", least), text);
  }
  return v;
}

double parse_number(std::string_view flag, const std::string& text) {
  const auto parsed = scenario::parse_quantity(text, scenario::QuantityKind::count);
  if (!parsed.value || *parsed.value < 0.0) bad(flag, "a non-negative number", text);
  return *parsed.value;
}

// "4,1,1,1": one relative load per expert.
std::vector<double> parse_weights(const std::string& text) {
  std::vector<double> w;
  std::size_t from = 0;
  for (std::size_t comma = 0; comma != std::string::npos; from = comma + 1) {
    comma = text.find(',', from);
    w.push_back(parse_number("--expert-weights", text.substr(from, comma - from)));
  }
  return w;
}

Bytes parse_size(std::string_view flag, const std::string& text) {
  const auto parsed = scenario::parse_quantity(text, scenario::QuantityKind::bytes);
  if (!parsed.value) bad(flag, fmt::format("a size like \"1GiB\" ({})", parsed.problem), text);
  if (!(*parsed.value > 0.0)) bad(flag, "a positive size", text);
  return Bytes(*parsed.value);
}

// Flags that only one kind of --op reads.
constexpr std::array<std::string_view, 4> kCollectiveOnly{"--algo", "--size", "--channels", "--chunk"};
constexpr std::array<std::string_view, 9> kExpertOnly{"--expert-weights", "--tokens",    "--experts",
                                                      "--top-k",          "--max-nodes", "--node-score-experts",
                                                      "--token-bytes",    "--zipf",      "--seed"};

std::string flag_name(const std::string& arg) { return arg.substr(0, arg.find('=')); }

// Throws when a flag given is one that `op` does not read.
void check_applicable(std::span<const std::string> args, const std::string& op, bool expert) {
  for (const std::string& a : args) {
    const std::string name = flag_name(a);
    const auto& other =
        expert ? std::span<const std::string_view>(kCollectiveOnly) : std::span<const std::string_view>(kExpertOnly);
    if (std::find(other.begin(), other.end(), name) != other.end()) {
      throw ConfigError(
          fmt::format("collective: {} does not apply to --op {} (see tcsim collective --help)", name, op));
    }
  }
}

Options parse(std::span<const std::string> args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (auto v = flag_value(args, i, "--set", "collective")) {
      o.sets.push_back(*v);
    } else if (auto op = flag_value(args, i, "--op", "collective")) {
      o.op = *op;
    } else if (auto algo = flag_value(args, i, "--algo", "collective")) {
      o.algo = *algo;
    } else if (auto size = flag_value(args, i, "--size", "collective")) {
      o.size = parse_size("--size", *size);
    } else if (auto gpus = flag_value(args, i, "--gpus", "collective")) {
      o.gpus = parse_int("--gpus", *gpus, 1);
    } else if (auto ch = flag_value(args, i, "--channels", "collective")) {
      o.channels = parse_int("--channels", *ch, 1);
    } else if (auto chunk = flag_value(args, i, "--chunk", "collective")) {
      o.chunk = parse_size("--chunk", *chunk);
    } else if (auto t = flag_value(args, i, "--tokens", "collective")) {
      o.tokens = parse_int("--tokens", *t, 1);
    } else if (auto e = flag_value(args, i, "--experts", "collective")) {
      o.experts = parse_int("--experts", *e, 1);
    } else if (auto k = flag_value(args, i, "--top-k", "collective")) {
      o.top_k = parse_int("--top-k", *k, 1);
    } else if (auto m = flag_value(args, i, "--max-nodes", "collective")) {
      o.max_nodes = parse_int("--max-nodes", *m, 0);
    } else if (auto g = flag_value(args, i, "--node-score-experts", "collective")) {
      o.node_score_experts = parse_int("--node-score-experts", *g, 1);
    } else if (auto tb = flag_value(args, i, "--token-bytes", "collective")) {
      o.token_bytes = parse_size("--token-bytes", *tb);
    } else if (auto z = flag_value(args, i, "--zipf", "collective")) {
      o.zipf = parse_number("--zipf", *z);
    } else if (auto w = flag_value(args, i, "--expert-weights", "collective")) {
      o.expert_weights = parse_weights(*w);
    } else if (auto s = flag_value(args, i, "--seed", "collective")) {
      o.seed = parse_int<std::uint64_t>("--seed", *s, 0);
    } else if (a == "--every-step") {
      o.every_step = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a.starts_with("-")) {
      throw ConfigError(fmt::format("collective: unknown flag \"{}\" (see tcsim collective --help)", a));
    } else if (o.scenario) {
      throw ConfigError(fmt::format("collective: one scenario at a time, got \"{}\" and \"{}\"", *o.scenario, a));
    } else {
      o.scenario = a;
    }
  }
  return o;
}

template <class E, std::size_t N>
E lookup(std::string_view flag, const std::array<Named<E>, N>& table, const std::string& name) {
  for (const Named<E>& n : table) {
    if (n.name == name) return n.value;
  }
  std::string choices;
  for (const Named<E>& n : table) choices += fmt::format("{}{}", choices.empty() ? "" : ", ", n.name);
  bad(flag, fmt::format("one of {}", choices), name);
}

hw::GroupLayout first_gpus(const hw::ClusterTopology& t, int n) {
  if (n > t.gpu_count()) {
    throw ConfigError(fmt::format("collective: --gpus {} exceeds the cluster's {} GPUs", n, t.gpu_count()));
  }
  hw::GroupLayout g;
  g.gpus_per_node = t.gpus_per_node();
  for (int i = 0; i < n; ++i) g.ranks.push_back(i);
  return g;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Context {
  scenario::Scenario scenario;
  hw::ClusterTopology topology;
  hw::GroupLayout group;
};

void print_header(const Context& c, const std::string& what) {
  fmt::print("tcsim collective: {} over {} GPUs\n", what, c.group.ranks.size());
  fmt::print("  scenario     {} ({})\n", c.scenario.name, c.scenario.file);
  fmt::print("  cluster      {}\n", c.topology.description());
}

int run_standard(const Options& o, const Context& c) {
  const hw::CollectiveOp op = lookup("--op", hw::kCollectiveOpNames, o.op);
  const hw::CollectiveAlgo algo =
      o.algo ? lookup("--algo", hw::kCollectiveAlgoNames, *o.algo) : hw::default_algorithm(op);
  if (!o.size) throw ConfigError(fmt::format("collective: --size is required for {}", o.op));
  const int nics = c.scenario.hardware.network.nics_per_node;
  const hw::CollectiveOptions options{.channels = o.channels.value_or(nics > 0 ? nics : 1),
                                      .tree_chunk = o.chunk.value_or(hw::kNcclSliceBytes)};
  const auto started = std::chrono::steady_clock::now();
  const hw::Schedule schedule = hw::make_collective(op, algo, c.group, *o.size, options);
  const hw::RunResult r = hw::run_schedule(c.topology, schedule, {.reuse_repeated_steps = !o.every_step});
  const double wall = seconds_since(started);
  const int n = static_cast<int>(c.group.ranks.size());
  const BytesPerSecond algbw = r.time.value() > 0.0 ? *o.size / r.time : BytesPerSecond(0);
  const BytesPerSecond busbw = algbw * hw::bus_bandwidth_factor(op, n);
  if (o.json) {
    reports::Json j = reports::Json::object();
    j.set("scenario", c.scenario.name);
    j.set("op", o.op);
    j.set("algo", std::string(hw::name_of(hw::kCollectiveAlgoNames, algo)));
    j.set("gpus", n);
    j.set("channels", options.channels);
    j.set("size_bytes", o.size->value());
    j.set("time_s", r.time.value());
    j.set("algbw_bytes_per_s", algbw.value());
    j.set("busbw_bytes_per_s", busbw.value());
    j.set("steps", r.steps);
    j.set("flows", r.flows);
    j.set("flows_simulated", r.flows_simulated);
    j.set("wall_s", wall);
    fmt::print("{}\n", j.dump());
    return 0;
  }
  print_header(c, fmt::format("{} ({}, {} channel{}) of {}", o.op, hw::name_of(hw::kCollectiveAlgoNames, algo),
                              options.channels, options.channels == 1 ? "" : "s", *o.size));
  fmt::print("  time         {}\n", r.time);
  fmt::print("  algbw        {}   (size / time)\n", algbw);
  fmt::print("  busbw        {}   (algbw x {:.4g}, nccl-tests)\n", busbw, hw::bus_bandwidth_factor(op, n));
  fmt::print("  steps        {}   flows {} ({} simulated)\n", r.steps, r.flows, r.flows_simulated);
  fmt::print("  simulated in {:.3f} s\n", wall);
  return 0;
}

// Bytes per token: FP8 values plus one FP32 scale per 128 (V3-TR §3.3.2, 1x128 activation
// tiles) when GEMMs run in FP8, else BF16; combine returns BF16 (V3-TR §3.3.3).
Bytes default_token_bytes(const scenario::Scenario& s, bool dispatch) {
  constexpr double kTile = 128.0;      // V3-TR §3.3.2: per-tile scaling over 1x128 activations
  constexpr double kScaleBytes = 4.0;  // one FP32 scale per tile
  const double hidden = s.model.hidden;
  if (dispatch && s.precision.gemm == model::Dtype::fp8) {
    return Bytes(hidden * model::dtype_bytes(model::Dtype::fp8) + hidden / kTile * kScaleBytes);
  }
  return Bytes(hidden * model::dtype_bytes(model::Dtype::bf16));
}

hw::MoeRouting routing_from(const Options& o, const scenario::Scenario& s) {
  const std::optional<model::MoeSpec>& moe = s.model.moe;
  const auto need = [&](const std::optional<int>& flag, int model_value, std::string_view name) {
    if (flag) return *flag;
    if (!moe) throw ConfigError(fmt::format("collective: the model has no MoE section; give {}", name));
    return model_value;
  };
  hw::MoeRouting r;
  r.experts = need(o.experts, moe ? moe->routed : 0, "--experts");
  r.top_k = need(o.top_k, moe ? moe->per_token : 0, "--top-k");
  r.max_nodes = o.max_nodes.value_or(moe ? moe->max_nodes_per_token : 0);
  r.node_score_experts = o.node_score_experts;
  if (o.zipf && !o.expert_weights.empty()) throw ConfigError("collective: give --zipf or --expert-weights, not both");
  if (o.zipf) r.expert_weights = hw::zipf_weights(r.experts, *o.zipf);
  if (!o.expert_weights.empty()) r.expert_weights = o.expert_weights;
  r.seed = o.seed;
  return r;
}

int run_expert(const Options& o, const Context& c, bool dispatch) {
  const hw::MoeRouting routing = routing_from(o, c.scenario);
  const Bytes per_token = o.token_bytes.value_or(default_token_bytes(c.scenario, dispatch));
  const auto started = std::chrono::steady_clock::now();
  const hw::RoutedTokens tokens = hw::route_tokens(c.group, routing, o.tokens);
  const hw::ExpertTraffic traffic = dispatch ? hw::expert_dispatch(c.group, tokens, routing.experts, per_token)
                                             : hw::expert_combine(c.group, tokens, routing.experts, per_token);
  const hw::RunResult r = hw::run_schedule(c.topology, traffic.schedule);
  const double wall = seconds_since(started);
  const double n = static_cast<double>(c.group.ranks.size());
  const BytesPerSecond rdma = traffic.deepep_rdma_bytes_per_rank / r.time;
  const BytesPerSecond nvl = traffic.deepep_nvl_bytes_per_rank / r.time;
  const BytesPerSecond network = traffic.scale_out_bytes / n / r.time;
  if (o.json) {
    reports::Json j = reports::Json::object();
    j.set("scenario", c.scenario.name);
    j.set("op", o.op);
    j.set("gpus", static_cast<int>(n));
    j.set("tokens_per_gpu", o.tokens);
    j.set("bytes_per_token", per_token.value());
    j.set("experts", routing.experts);
    j.set("top_k", routing.top_k);
    j.set("max_nodes", routing.max_nodes);
    j.set("time_s", r.time.value());
    j.set("deepep_rdma_bytes_per_s", rdma.value());
    j.set("deepep_nvl_bytes_per_s", nvl.value());
    j.set("network_bytes_per_s_per_gpu", network.value());
    j.set("wall_s", wall);
    fmt::print("{}\n", j.dump());
    return 0;
  }
  print_header(c, fmt::format("{} of {} tokens per GPU ({} each), {} experts, top-{}, at most {} nodes", o.op, o.tokens,
                              per_token, routing.experts, routing.top_k,
                              routing.max_nodes > 0 ? fmt::format("{}", routing.max_nodes) : std::string("all")));
  fmt::print("  time         {}\n", r.time);
  fmt::print(
      "  rdma         {}   (DeepEP's RDMA figure: token copies per target node, own node included, per GPU / time)\n",
      rdma);
  fmt::print("  nvl          {}   (DeepEP's NVL figure: tokens received per GPU, from itself included / time)\n", nvl);
  fmt::print("  network      {}   (bytes that cross the network per GPU / time)\n", network);
  fmt::print("  flows        {}\n", r.flows);
  fmt::print("  simulated in {:.3f} s\n", wall);
  return 0;
}

}  // namespace

int collective_command(std::span<const std::string> args) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      fmt::print("{}", kCollectiveHelp);
      return 0;
    }
  }
  const Options o = parse(args);
  const bool expert = o.op == "ep-dispatch" || o.op == "ep-combine";
  check_applicable(args, o.op, expert);
  scenario::Scenario s = scenario::load_scenario(o.scenario.value_or(std::string(scenario::kDefaultScenario)), o.sets);
  hw::ClusterTopology topology = hw::build_topology(s.hardware);
  hw::GroupLayout group = first_gpus(topology, o.gpus.value_or(topology.gpu_count()));
  const Context c{std::move(s), std::move(topology), std::move(group)};
  if (expert) return run_expert(o, c, o.op == "ep-dispatch");
  return run_standard(o, c);
}

}  // namespace tcsim::cli
