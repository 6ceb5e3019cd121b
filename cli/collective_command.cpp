// `tcsim collective`: one collective on the scenario's cluster, timed with
// flow-level sharing and reported as nccl-tests reports it; also expert
// dispatch and combine as DeepEP's benchmarks report them.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

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
                     nccl-tests' spellings work too: all_reduce, allreduce, all_reduce_perf.
  --algo ALGO        auto (default): every algorithm the op has is simulated and the fastest
                     kept, size by size, as NCCL's tuner keeps the one it predicts fastest;
                     or force one. all-reduce: ring | tree (double binary tree) | hierarchical
                     (intra-node reduce-scatter, inter-node all-reduce, intra-node all-gather);
                     reduce-scatter, all-gather: ring; all-to-all: direct (every send at once) |
                     pairwise (n-1 rounds); send-recv: direct (first GPU to last)
  --size SIZE        buffer size as nccl-tests counts it: bytes ("8"), nccl-tests' K/M/G/T
                     (powers of 1024: "8M") or a tcsim size ("1GiB", "256 MB"); all-reduce the
                     buffer on each GPU; reduce-scatter and all-gather the full n-chunk
                     buffer; all-to-all each GPU's whole send buffer. Required except for ep-*,
                     or give a range:
  -b, --minbytes MIN -e, --maxbytes MAX [-f, --stepfactor F | -i, --stepbytes S]
                     every size from MIN to MAX, multiplied by F (or increased by S, default
                     1M), as nccl-tests runs them: one row each in nccl-tests' table, then
                     its "# Avg bus bandwidth" line. At most 1000 sizes.
  -d, --datatype T   element type for the count column: float (default), half, bfloat16,
                     double, int8, uint8, int32, uint32, int64, uint64
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
  std::optional<Bytes> min_bytes, max_bytes, step_bytes;
  std::optional<double> step_factor;
  std::string datatype = "float";
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

// nccl-tests' size: a whole number of bytes, optionally K, M, G or T for powers
// of 1024 (its parsesize()); nullopt for anything else.
std::optional<double> nccl_tests_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 15 || text.size() > digits + 1) return std::nullopt;
  double bytes = 0;
  std::from_chars(text.data(), text.data() + digits, bytes);
  if (text.size() == digits) return bytes;
  constexpr std::string_view kSuffixes = "KMGT";
  const std::size_t power = kSuffixes.find(static_cast<char>(std::toupper(static_cast<unsigned char>(text.back()))));
  if (power == std::string_view::npos) return std::nullopt;
  return bytes * std::pow(1024.0, static_cast<double>(power + 1));
}

Bytes parse_size(std::string_view flag, const std::string& text) {
  if (const std::optional<double> b = nccl_tests_size(text)) {
    if (!(*b > 0.0)) bad(flag, "a positive size", text);
    return Bytes(*b);
  }
  const auto parsed = scenario::parse_quantity(text, scenario::QuantityKind::bytes);
  if (!parsed.value) bad(flag, fmt::format("a size like \"1GiB\" ({})", parsed.problem), text);
  if (!(*parsed.value > 0.0)) bad(flag, "a positive size", text);
  return Bytes(*parsed.value);
}

// Flags that only one kind of --op reads.
constexpr std::array<std::string_view, 14> kCollectiveOnly{
    "--algo",     "--size", "--channels",   "--chunk", "-b",          "--minbytes", "-e",
    "--maxbytes", "-f",     "--stepfactor", "-i",      "--stepbytes", "-d",         "--datatype"};
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

// nccl-tests' short flag ("-b 8") or its long one ("--minbytes 8", "--minbytes=8").
std::optional<std::string> nccl_flag(std::span<const std::string> args, std::size_t& i, std::string_view short_flag,
                                     std::string_view long_flag) {
  if (args[i] == short_flag) {
    if (i + 1 >= args.size()) throw ConfigError(fmt::format("collective: {} needs a value", short_flag));
    return args[++i];
  }
  return flag_value(args, i, long_flag, "collective");
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
    } else if (auto lo = nccl_flag(args, i, "-b", "--minbytes")) {
      o.min_bytes = parse_size("--minbytes", *lo);
    } else if (auto hi = nccl_flag(args, i, "-e", "--maxbytes")) {
      o.max_bytes = parse_size("--maxbytes", *hi);
    } else if (auto f = nccl_flag(args, i, "-f", "--stepfactor")) {
      o.step_factor = parse_number("--stepfactor", *f);
      if (*o.step_factor <= 1.0) bad("--stepfactor", "a factor above 1", *f);
    } else if (auto step = nccl_flag(args, i, "-i", "--stepbytes")) {
      o.step_bytes = parse_size("--stepbytes", *step);
    } else if (auto d = nccl_flag(args, i, "-d", "--datatype")) {
      o.datatype = *d;
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

// nccl-tests' element types (-d) and their sizes.
constexpr std::array<std::pair<std::string_view, int>, 10> kDatatypes{{{"int8", 1},
                                                                       {"uint8", 1},
                                                                       {"int32", 4},
                                                                       {"uint32", 4},
                                                                       {"int64", 8},
                                                                       {"uint64", 8},
                                                                       {"half", 2},
                                                                       {"float", 4},
                                                                       {"double", 8},
                                                                       {"bfloat16", 2}}};

int datatype_bytes(const std::string& name) {
  for (const auto& [n, bytes] : kDatatypes) {
    if (n == name) return bytes;
  }
  bad("--datatype", "float, half, bfloat16, double, int8, uint8, int32, uint32, int64 or uint64", name);
}

// The sizes to run: --size, or nccl-tests' -b .. -e by -f or -i.
std::vector<Bytes> sizes_of(const Options& o) {
  const bool range = o.min_bytes || o.max_bytes || o.step_factor || o.step_bytes;
  if (o.size && range) throw ConfigError("collective: give --size or -b/-e, not both");
  if (o.size) return {*o.size};
  if (!o.min_bytes && !o.max_bytes) throw ConfigError(fmt::format("collective: --size (or -b/-e) is required"));
  const Bytes lo = o.min_bytes.value_or(*o.max_bytes);
  const Bytes hi = o.max_bytes.value_or(lo);
  if (hi < lo) throw ConfigError("collective: --maxbytes is below --minbytes");
  if (o.step_factor && o.step_bytes) throw ConfigError("collective: give -f or -i, not both");
  constexpr std::size_t kMaxSizes = 1000;
  std::vector<Bytes> sizes;
  for (Bytes b = lo; b <= hi; b = o.step_factor ? b * *o.step_factor : b + o.step_bytes.value_or(mib(1))) {
    if (sizes.size() == kMaxSizes) {
      throw ConfigError(fmt::format("collective: -b {} -e {} gives more than {} sizes; use a larger step",
                                    to_string(lo), to_string(hi), kMaxSizes));
    }
    sizes.push_back(b);
  }
  return sizes;
}

// nccl-tests' element count for a size (its "count" column).
double element_count(hw::CollectiveOp op, Bytes size, int ranks, int type_bytes) {
  const double elements = size.value() / type_bytes;
  switch (op) {
    case hw::CollectiveOp::all_gather:
    case hw::CollectiveOp::reduce_scatter:
    case hw::CollectiveOp::all_to_all: return std::floor(elements / ranks);
    default: return std::floor(elements);
  }
}

// One size simulated: with `algo`, or with every algorithm and the fastest kept.
struct SizeResult {
  Bytes size;
  hw::CollectiveAlgo algo{};
  hw::RunResult run;
  std::vector<std::pair<hw::CollectiveAlgo, Seconds>> tried;  // auto: every algorithm's time
};

SizeResult run_size(const Options& o, const Context& c, hw::CollectiveOp op, Bytes size,
                    const hw::CollectiveOptions& options) {
  const std::vector<hw::CollectiveAlgo> algos = o.algo && *o.algo != "auto"
                                                    ? std::vector{lookup("--algo", hw::kCollectiveAlgoNames, *o.algo)}
                                                    : hw::algorithms_for(op);
  SizeResult best{size, algos.front(), {}, {}};
  bool first = true;
  for (const hw::CollectiveAlgo algo : algos) {
    const hw::Schedule schedule = hw::make_collective(op, algo, c.group, size, options);
    hw::RunResult r = hw::run_schedule(c.topology, schedule, {.reuse_repeated_steps = !o.every_step});
    best.tried.emplace_back(algo, r.time);
    if (first || r.time < best.run.time) {
      best.algo = algo;
      best.run = std::move(r);
      first = false;
    }
  }
  return best;
}

std::string op_name(const std::string& given) {
  // nccl-tests' spellings: all_reduce, allreduce, all_reduce_perf.
  std::string s = given;
  if (s.ends_with("_perf")) s.resize(s.size() - 5);
  std::replace(s.begin(), s.end(), '_', '-');
  for (const auto& [alias, name] :
       std::array<std::pair<std::string_view, std::string_view>, 5>{{{"allreduce", "all-reduce"},
                                                                     {"reducescatter", "reduce-scatter"},
                                                                     {"allgather", "all-gather"},
                                                                     {"alltoall", "all-to-all"},
                                                                     {"sendrecv", "send-recv"}}}) {
    if (s == alias) return std::string(name);
  }
  return s;
}

// nccl-tests' time column: two decimals under 100 us, one under 10 ms, none above.
std::string nccl_time(double us) {
  if (us >= 10000.0) return fmt::format("{:7.0f}", us);
  if (us >= 100.0) return fmt::format("{:7.1f}", us);
  return fmt::format("{:7.2f}", us);
}

int run_standard(const Options& o, const Context& c) {
  const std::string name = op_name(o.op);
  const hw::CollectiveOp op = lookup("--op", hw::kCollectiveOpNames, name);
  const std::vector<Bytes> sizes = sizes_of(o);
  const int type_bytes = datatype_bytes(o.datatype);
  const int nics = c.scenario.hardware.network.nics_per_node;
  const hw::CollectiveOptions options{.channels = o.channels.value_or(nics > 0 ? nics : 1),
                                      .tree_chunk = o.chunk.value_or(hw::kNcclSliceBytes)};
  const int n = static_cast<int>(c.group.ranks.size());
  const double factor = hw::bus_bandwidth_factor(op, n);
  const auto started = std::chrono::steady_clock::now();
  std::vector<SizeResult> results;
  for (const Bytes size : sizes) results.push_back(run_size(o, c, op, size, options));
  const double wall = seconds_since(started);
  const auto algbw = [](const SizeResult& r) {
    return r.run.time.value() > 0.0 ? r.size / r.run.time : BytesPerSecond(0);
  };
  double busbw_sum = 0;
  for (const SizeResult& r : results) busbw_sum += (algbw(r) * factor).value();
  const double avg_busbw = busbw_sum / static_cast<double>(results.size());
  const bool table = !o.size;
  const bool chosen = !o.algo || *o.algo == "auto";

  if (o.json) {
    reports::Json j = reports::Json::object();
    j.set("scenario", c.scenario.name);
    j.set("op", name);
    j.set("algo", chosen ? std::string("auto") : *o.algo);
    j.set("gpus", n);
    j.set("channels", options.channels);
    j.set("datatype", o.datatype);
    reports::Json rows = reports::Json::array();
    for (const SizeResult& r : results) {
      reports::Json row = reports::Json::object();
      row.set("size_bytes", r.size.value());
      row.set("count", element_count(op, r.size, n, type_bytes));
      row.set("algo", std::string(hw::name_of(hw::kCollectiveAlgoNames, r.algo)));
      row.set("time_s", r.run.time.value());
      row.set("algbw_bytes_per_s", algbw(r).value());
      row.set("busbw_bytes_per_s", (algbw(r) * factor).value());
      if (chosen) {
        reports::Json tried = reports::Json::object();
        for (const auto& [algo, t] : r.tried) tried.set(hw::name_of(hw::kCollectiveAlgoNames, algo), t.value());
        row.set("time_s_by_algo", std::move(tried));
      }
      rows.push(std::move(row));
    }
    if (!table) {
      // One size: its figures at the top level as well, as before ranges existed.
      const SizeResult& r = results.front();
      j.set("size_bytes", r.size.value());
      j.set("time_s", r.run.time.value());
      j.set("algbw_bytes_per_s", algbw(r).value());
      j.set("busbw_bytes_per_s", (algbw(r) * factor).value());
      j.set("steps", r.run.steps);
      j.set("flows", r.run.flows);
      j.set("flows_simulated", r.run.flows_simulated);
    }
    j.set("rows", std::move(rows));
    j.set("avg_busbw_bytes_per_s", avg_busbw);
    j.set("wall_s", wall);
    fmt::print("{}\n", j.dump());
    return 0;
  }

  if (!table) {
    const SizeResult& r = results.front();
    print_header(c, fmt::format("{} ({}, {} channel{}) of {}", name, hw::name_of(hw::kCollectiveAlgoNames, r.algo),
                                options.channels, options.channels == 1 ? "" : "s", r.size));
    if (chosen && r.tried.size() > 1) {
      std::vector<std::string> times;
      for (const auto& [algo, t] : r.tried)
        times.push_back(fmt::format("{} {}", hw::name_of(hw::kCollectiveAlgoNames, algo), t));
      fmt::print("  algorithm    {}, the fastest of {} (--algo forces one)\n",
                 hw::name_of(hw::kCollectiveAlgoNames, r.algo), fmt::join(times, ", "));
    }
    fmt::print("  time         {}\n", r.run.time);
    fmt::print("  algbw        {}   (size / time)\n", algbw(r));
    fmt::print("  busbw        {}   (algbw x {:.4g}, nccl-tests)\n", algbw(r) * factor, factor);
    fmt::print("  steps        {}   flows {} ({} simulated)\n", r.run.steps, r.run.flows, r.run.flows_simulated);
    fmt::print("  simulated in {:.3f} s\n", wall);
    return 0;
  }

  // nccl-tests' table (its out-of-place columns; tcsim does not tell in-place apart), tcsim's algorithm last.
  const bool reduces = op == hw::CollectiveOp::all_reduce || op == hw::CollectiveOp::reduce_scatter;
  fmt::print("# tcsim collective: {} over {} GPUs of {} ({}), simulated\n", name, n, c.scenario.name,
             c.topology.description());
  fmt::print("#\n");
  fmt::print("# {:>10}  {:>12}  {:>8}  {:>6}  {:>6}  {:>7}  {:>6}  {:>6}  {}\n", "size", "count", "type", "redop",
             "root", "time", "algbw", "busbw", "algo");
  fmt::print("# {:>10}  {:>12}  {:>8}  {:>6}  {:>6}  {:>7}  {:>6}  {:>6}\n", "(B)", "(elements)", "", "", "", "(us)",
             "(GB/s)", "(GB/s)");
  for (const SizeResult& r : results) {
    fmt::print("  {:>10.0f}  {:>12.0f}  {:>8}  {:>6}  {:>6}  {}  {:>6.2f}  {:>6.2f}  {}\n", r.size.value(),
               element_count(op, r.size, n, type_bytes), o.datatype, reduces ? "sum" : "none", -1,
               nccl_time(r.run.time.value() * 1e6), algbw(r).value() / 1e9, (algbw(r) * factor).value() / 1e9,
               hw::name_of(hw::kCollectiveAlgoNames, r.algo));
  }
  fmt::print("# Avg bus bandwidth    : {:.4g} \n", avg_busbw / 1e9);
  fmt::print("#\n# simulated in {:.3f} s; busbw = algbw x {:.4g} (nccl-tests doc/PERFORMANCE.md)\n", wall, factor);
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
  const bool expert = op_name(o.op) == "ep-dispatch" || op_name(o.op) == "ep-combine";
  check_applicable(args, o.op, expert);
  scenario::Scenario s = scenario::load_scenario(o.scenario.value_or(std::string(scenario::kDefaultScenario)), o.sets);
  hw::ClusterTopology topology = hw::build_topology(s.hardware);
  hw::GroupLayout group = first_gpus(topology, o.gpus.value_or(topology.gpu_count()));
  const Context c{std::move(s), std::move(topology), std::move(group)};
  if (expert) return run_expert(o, c, op_name(o.op) == "ep-dispatch");
  return run_standard(o, c);
}

}  // namespace tcsim::cli
