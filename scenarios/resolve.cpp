#include "scenarios/resolve.h"

#include <filesystem>
#include <type_traits>

#include <fmt/format.h>

#include "hardware/catalog.h"
#include "hardware/names.h"
#include "model/catalog.h"
#include "model/names.h"
#include "model/plan_fields.h"
#include "scenarios/hf_config.h"
#include "scenarios/loader.h"
#include "scenarios/read_values.h"
#include "scenarios/reader.h"

namespace tcsim::scenario {
namespace {

using model::AttentionKind;
using model::Dtype;

// A preset section is either a name ("h800") or a map with an optional
// `preset:` key and field overrides. Returns the reader over the map (or an
// empty map for a bare name) after applying the preset to `out`.
template <class Spec, class Find, class Names>
const Node* preset_section(const Node& section, const std::string& path, Spec& out, Find find, Names names,
                           std::string_view what) {
  const auto apply = [&](const Node& name_node, const std::string& name_path) {
    if (name_node.kind != Node::Kind::scalar) {
      fail(name_node, name_path, fmt::format("expected a {} preset name, got {}", what, shown(name_node)));
    }
    const Spec* preset = find(name_node.scalar);
    if (preset == nullptr) {
      const std::vector<std::string> all = names();
      const std::string hint = did_you_mean(name_node.scalar, all);
      fail(name_node, name_path,
           fmt::format("unknown {} preset {}{}; known: {}", what, shown(name_node),
                       hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint), fmt::join(all, ", ")));
    }
    out = *preset;
  };
  if (section.kind == Node::Kind::scalar) {
    apply(section, path);
    return nullptr;
  }
  if (const Node* p = section.find("preset")) apply(*p, join_path(path, "preset"));
  return &section;
}

void read_attention(MapReader r, model::AttentionSpec& a) {
  r.choice("kind", a.kind, model::kAttentionNames);
  r.integer("heads", a.heads, 1);
  r.integer("kv_heads", a.kv_heads, 1);
  r.integer("head_dim", a.head_dim, 1);
  r.integer("q_lora_rank", a.q_lora_rank, 0);
  r.integer("kv_lora_rank", a.kv_lora_rank, 1);
  r.integer("qk_nope_head_dim", a.qk_nope_head_dim, 1);
  r.integer("qk_rope_head_dim", a.qk_rope_head_dim, 1);
  r.integer("v_head_dim", a.v_head_dim, 1);
  r.finish();
}

void read_moe(MapReader r, model::MoeSpec& m) {
  r.integer("routed", m.routed, 1);
  r.integer("shared", m.shared, 0);
  r.integer("per_token", m.per_token, 1);
  r.integer("expert_intermediate", m.expert_intermediate, 1);
  r.integer("max_nodes_per_token", m.max_nodes_per_token, 0);
  r.finish();
}

// `hf_config: PATH`: a Hugging Face config.json (scenarios/hf_config.h). A
// relative path is relative to the file that names it, as
// hardware.calibration is.
model::ModelSpec read_hf_model(const Node& n) {
  const std::string path = "model.hf_config";
  if (n.kind != Node::Kind::scalar || n.scalar.empty()) {
    fail(n, path, fmt::format("expected the path of a Hugging Face config.json, got {}", shown(n)));
  }
  std::string file = n.scalar;
  const std::filesystem::path p(file);
  if (p.is_relative() && !n.loc.file.starts_with("<") && n.loc.file != "--set") {
    file = (std::filesystem::path(n.loc.file).parent_path() / p).lexically_normal().string();
  }
  try {
    return load_hf_config(file);
  } catch (const ConfigError& e) {
    // Name the scenario key that led here, then what was wrong in the config.
    fail(n, path, fmt::format("bad Hugging Face config: {}", e.what()));
  }
}

model::ModelSpec read_model(const Node& section) {
  model::ModelSpec m;
  const Node* map = preset_section(section, "model", m, model::find_model_preset, model::model_preset_names, "model");
  if (map == nullptr) return m;
  MapReader r(*map, "model");
  const Node* preset = r.take("preset");
  if (const Node* hf = r.take("hf_config")) {
    if (preset != nullptr) fail(*hf, "model.hf_config", "give a preset or an hf_config, not both");
    m = read_hf_model(*hf);
  }
  r.text("name", m.name);
  r.text("source", m.source);
  // Layer loops and per-layer tables: a cap far above any published model (Llama 3.1 405B: 126).
  r.integer("layers", m.layers, 1, false, 100'000);
  r.integer("hidden", m.hidden, 1);
  r.integer("vocab", m.vocab, 1);
  if (const Node* a = r.take("attention")) read_attention(MapReader(*a, "model.attention"), m.attention);
  if (const Node* f = r.take("ffn")) {
    MapReader fr(*f, "model.ffn");
    fr.choice("kind", m.ffn, model::kFfnNames);
    fr.integer("intermediate", m.ffn_intermediate, 1);
    fr.finish();
  }
  if (const Node* moe = r.take("moe")) {
    if (moe->kind == Node::Kind::null) {
      m.moe.reset();  // `moe:` with nothing: a dense model
    } else {
      if (!m.moe) m.moe = model::MoeSpec{};
      read_moe(MapReader(*moe, "model.moe"), *m.moe);
    }
  }
  r.integer("dense_layers", m.dense_layers, 0);
  r.choice("norm", m.norm, model::kNormNames);
  r.choice("position", m.position, model::kPositionNames);
  r.integer("max_position", m.max_position, 1);
  r.flag("biases", m.biases);
  r.flag("tied_embeddings", m.tied_embeddings);
  r.integer("mtp_depth", m.mtp_depth, 0, false, 100);
  r.flag("active_counts_embedding", m.active_counts_embedding);
  r.finish();
  return m;
}

hw::GpuSpec read_gpu(const Node& section) {
  hw::GpuSpec g;
  const Node* map = preset_section(section, "hardware.gpu", g, hw::find_gpu_preset, hw::gpu_preset_names, "GPU");
  if (map == nullptr) return g;
  MapReader r(*map, "hardware.gpu");
  r.take("preset");
  r.text("name", g.name);
  r.text("source", g.source);
  r.integer("sms", g.sms, 1);
  r.quantity("bf16_dense", g.bf16_dense, QuantityKind::flops_rate);
  r.quantity("fp8_dense", g.fp8_dense, QuantityKind::flops_rate, /*positive=*/false);
  r.quantity("hbm_capacity", g.hbm_capacity, QuantityKind::bytes);
  r.quantity("hbm_bandwidth", g.hbm_bandwidth, QuantityKind::bandwidth);
  r.quantity("nvlink_bandwidth", g.nvlink_bandwidth, QuantityKind::bandwidth);
  r.quantity("tdp", g.tdp, QuantityKind::power);
  r.finish();
  return g;
}

hw::NetworkSpec read_network(MapReader r) {
  hw::NetworkSpec n;
  r.choice("topology", n.topology, hw::kTopologyNames);
  r.quantity("nic_bandwidth", n.nic_bandwidth, QuantityKind::bandwidth);
  r.integer("nics_per_node", n.nics_per_node, 1);
  r.number("oversubscription", n.oversubscription, 1.0);
  r.number("pod_oversubscription", n.pod_oversubscription, 1.0);
  r.integer("pod_gpus", n.pod_gpus, 1);
  r.integer("switch_radix", n.switch_radix, 2);
  r.quantity("latency_intra_leaf", n.latency_intra_leaf, QuantityKind::duration);
  r.quantity("latency_cross_leaf", n.latency_cross_leaf, QuantityKind::duration);
  r.quantity("latency_nvlink", n.latency_nvlink, QuantityKind::duration);
  r.finish();
  return n;
}

// The scenario's calibration profile, or the GPU's default one. A relative
// path is relative to the file that names it.
std::optional<hw::CalibrationProfile> read_profile(const MapReader& r, const hw::ClusterSpec& c) {
  std::string ref = c.calibration;
  if (ref.empty()) {
    if (c.gpu.profile.empty()) return std::nullopt;
    ref = "builtin:" + c.gpu.profile;
  } else if (!ref.starts_with("builtin:")) {
    const std::filesystem::path p(ref);
    const std::string& from = r.at("calibration").loc.file;
    if (p.is_relative() && !from.starts_with("<") && from != "--set") {
      ref = (std::filesystem::path(from).parent_path() / p).lexically_normal().string();
    }
  }
  try {
    return load_profile(ref);
  } catch (const ConfigError& e) {
    // Name the scenario key that led here, then what was wrong in the profile.
    fail(r.at("calibration"), "hardware.calibration", fmt::format("bad calibration profile: {}", e.what()));
  }
}

hw::ClusterSpec read_hardware(MapReader r) {
  hw::ClusterSpec c;
  const Node* gpu = r.take("gpu");
  if (gpu == nullptr || gpu->kind == Node::Kind::null) {
    fail(r.at("gpu"), "hardware.gpu", "missing; expected a GPU preset name (h100, h800, ...) or a map of its specs");
  }
  c.gpu = read_gpu(*gpu);
  // Caps keep gpus_per_node x nodes (an int) exact: at most 2^10 x 2^20 GPUs.
  r.integer("gpus_per_node", c.gpus_per_node, 1, /*required=*/true, 1 << 10);
  r.integer("nodes", c.nodes, 1, /*required=*/true, 1 << 20);
  if (const Node* n = r.take("network")) {
    c.network = read_network(MapReader(*n, "hardware.network"));
    c.has_network = true;
  }
  r.text("calibration", c.calibration);
  r.finish();
  c.profile = read_profile(r, c);
  return c;
}

// dp not given: gpus / (tp x cp x pp), filled in by derive_dp.
constexpr int kDerivedDp = 0;

// Reads the keys present into `plan`, leaving the others as they were: the
// top-level plan starts from defaults (dp derived), a phase's plan from the
// top level.
void read_plan(MapReader r, model::ParallelPlan& p) {
  // `dp: auto` (or dp omitted from the top-level plan): derived from the GPU
  // count once the hardware is known (derive_dp).
  const Node* dp = r.node().find("dp");
  const bool dp_auto = dp != nullptr && dp->kind == Node::Kind::scalar && !dp->quoted && dp->scalar == "auto";
  if (dp_auto) {
    r.take("dp");
    p.dp = kDerivedDp;
  }
  model::for_each_plan_field([&](const auto& f) {
    auto& v = p.*f.member;
    using T = std::remove_reference_t<decltype(v)>;
    if constexpr (std::is_same_v<T, int>) {
      if (!(dp_auto && f.name == "dp")) r.integer(f.name, v, f.min);
    } else if constexpr (std::is_same_v<T, bool>) {
      r.flag(f.name, v);
    } else if constexpr (std::is_same_v<T, std::vector<int>>) {
      r.int_list(f.name, v, f.min);
    } else if constexpr (std::is_same_v<T, model::Schedule>) {
      r.choice(f.name, v, model::kScheduleNames);
    } else {
      static_assert(std::is_same_v<T, model::Recompute>);
      r.choice(f.name, v, model::kRecomputeNames);
    }
  });
  r.finish();
}

model::PrecisionSpec read_precision(MapReader r) {
  model::PrecisionSpec p;
  r.choice("gemm", p.gemm, model::kDtypeNames);
  r.choice("weights", p.weights, model::kDtypeNames);
  r.choice("master_weights", p.master_weights, model::kDtypeNames);
  r.choice("grads", p.grads, model::kDtypeNames);
  r.choice("optimizer_states", p.optimizer_states, model::kDtypeNames);
  r.choice("activations", p.activations, model::kDtypeNames);
  r.choice("gemm_input_cache", p.gemm_input_cache, model::kDtypeNames);
  r.choice("attention_output_cache", p.attention_output_cache, model::kStorageDtypeNames);
  r.finish();
  return p;
}

Phase read_phase(const Node& node, const std::string& path, const TrainingPlan& t, const model::ParallelPlan& plan) {
  MapReader r(node, path);
  Phase ph;
  ph.seq_len = t.seq_len;
  ph.parallelism = plan;
  r.text("name", ph.name, /*required=*/true);
  r.count("tokens", ph.tokens, 1);
  r.count("steps", ph.steps, 1);
  GpuHours measured;
  r.quantity("gpu_hours", measured, QuantityKind::gpu_hours);
  if (r.has("gpu_hours")) ph.measured_gpu_hours = measured;
  const int given = int(r.has("tokens")) + int(r.has("steps")) + int(r.has("gpu_hours"));
  if (given != 1) {
    fail(node, path,
         fmt::format("expected exactly one of tokens, steps or gpu_hours (a measured figure), got {}", given));
  }
  r.count("batch", ph.batch, 1, /*required=*/!ph.measured_gpu_hours);
  if (const Node* ramp = r.take("batch_ramp")) {
    MapReader rr(*ramp, join_path(path, "batch_ramp"));
    BatchRamp br;
    rr.count("from", br.from, 1, /*required=*/true);
    rr.count("over_tokens", br.over_tokens, 1, /*required=*/true);
    rr.finish();
    ph.ramp = br;
  }
  r.integer("seq_len", ph.seq_len, 1);
  if (const Node* p = r.take("parallelism")) read_plan(MapReader(*p, join_path(path, "parallelism")), ph.parallelism);
  r.text("source", ph.source);
  r.finish();
  return ph;
}

TrainingPlan read_training(MapReader r, const model::ParallelPlan& plan) {
  TrainingPlan t;
  r.integer("seq_len", t.seq_len, 1, /*required=*/true);
  const Node* phases = r.take("phases");
  if (phases == nullptr || phases->kind != Node::Kind::sequence || phases->items.empty()) {
    fail(phases != nullptr ? *phases : r.node(), "training.phases",
         "expected a non-empty list of phases ({name, tokens|steps|gpu_hours, batch, ...})");
  }
  for (std::size_t i = 0; i < phases->items.size(); ++i) {
    t.phases.push_back(read_phase(phases->items[i], fmt::format("training.phases[{}]", i), t, plan));
  }
  r.finish();
  return t;
}

// --- reliability (docs/scenarios.md "Reliability"); cost is in resolve_cost.cpp ---

InterruptionLog read_interruption_log(MapReader r) {
  InterruptionLog log;
  r.integer("gpus", log.gpus, 1, /*required=*/true);
  r.quantity("window", log.window, QuantityKind::duration, /*positive=*/true, /*required=*/true);
  r.text("source", log.source, /*required=*/true);
  const auto& causes = list_items(r, "causes", "causes ({name, interruptions, source})", /*required=*/true);
  double total = 0;
  for (std::size_t i = 0; i < causes.size(); ++i) {
    MapReader c(causes[i], fmt::format("{}.causes[{}]", r.path(), i));
    InterruptionCause cause;
    c.text("name", cause.name, /*required=*/true);
    c.number("interruptions", cause.interruptions, 0.0, /*required=*/true);
    c.text("source", cause.source);
    c.finish();
    total += cause.interruptions;
    log.causes.push_back(std::move(cause));
  }
  if (!(total > 0)) fail(r.at("causes"), join_path(r.path(), "causes"), "the log records no interruptions");
  r.finish();
  return log;
}

ReliabilitySpec read_reliability(MapReader r) {
  ReliabilitySpec rel;
  r.quantity("mtbf_per_gpu", rel.mtbf_per_gpu, QuantityKind::duration);
  if (const Node* log = r.take("interruption_log")) {
    rel.log = read_interruption_log(MapReader(*log, "reliability.interruption_log"));
  }
  r.quantity("restart_time", rel.restart_time, QuantityKind::duration, /*positive=*/false);
  // A duration, or young-daly: the optimum the run-level simulation computes.
  if (const Node* n = r.take("checkpoint_interval"); n != nullptr && n->kind != Node::Kind::null) {
    const std::string path = "reliability.checkpoint_interval";
    constexpr std::string_view kExpected = "a duration like \"1 h\", or young-daly";
    if (n->kind != Node::Kind::scalar) fail(*n, path, fmt::format("expected {}, got {}", kExpected, shown(*n)));
    if (n->scalar == "young-daly") {
      rel.checkpoint_young_daly = true;
    } else {
      const Parsed p = parse_quantity(n->scalar, QuantityKind::duration);
      if (!p.value || !(*p.value > 0)) {
        fail(*n, path, fmt::format("expected {}, got {}{}", kExpected, shown(*n), p.value ? "" : ": " + p.problem));
      }
      rel.checkpoint_interval = Seconds(*p.value);
    }
  }
  r.quantity("checkpoint_bandwidth", rel.checkpoint_bandwidth, QuantityKind::bandwidth);
  r.text("source", rel.source);
  r.finish();

  if (rel.log && !r.has("mtbf_per_gpu")) {
    // Per-GPU MTBF of the log: gpus x window / interruptions (Llama 3: 16,384 x 54 d / 419).
    double total = 0;
    for (const InterruptionCause& c : rel.log->causes) total += c.interruptions;
    rel.mtbf_per_gpu = rel.log->window * (static_cast<double>(rel.log->gpus) / total);
  }
  const bool interrupted = rel.mtbf_per_gpu.value() > 0;
  if (interrupted && !rel.checkpoint_young_daly && !(rel.checkpoint_interval.value() > 0)) {
    fail(r.at("checkpoint_interval"), "reliability.checkpoint_interval",
         "interruptions need checkpoints to resume from: give a duration like \"1 h\", or young-daly");
  }
  if (rel.checkpoint_young_daly && !interrupted) {
    fail(r.at("checkpoint_interval"), "reliability.checkpoint_interval",
         "young-daly needs an interruption rate (mtbf_per_gpu or interruption_log)");
  }
  if (rel.checkpoint_young_daly && !(rel.checkpoint_bandwidth.value() > 0)) {
    fail(r.at("checkpoint_interval"), "reliability.checkpoint_interval",
         "young-daly needs checkpoint_bandwidth, to know what one checkpoint costs");
  }
  return rel;
}

const Node& required_section(MapReader& top, std::string_view key, std::string_view what) {
  const Node* n = top.take(key);
  if (n == nullptr || n->kind == Node::Kind::null)
    fail(top.at(key), std::string(key), fmt::format("missing; expected {}", what));
  return *n;
}

}  // namespace

// A plan whose dp was omitted or `auto` gets gpus / (tp x cp x pp), so that
// a sweep over pp or tp keeps the GPU count (Megatron-LM derives its
// data-parallel size the same way). `at` locates the error.
void derive_dp(model::ParallelPlan& p, int gpus, const Node& at, const std::string& path) {
  if (p.dp != kDerivedDp) return;
  const long long others = 1LL * p.tp * p.cp * p.pp;
  if (gpus % others != 0) {
    fail(at, path + ".dp",
         fmt::format("derived as GPUs / (tp x cp x pp) = {} / ({} x {} x {}), which is not a whole number; set dp, "
                     "or tp, cp and pp that divide the {} GPUs",
                     gpus, p.tp, p.cp, p.pp, gpus));
  }
  p.dp = static_cast<int>(gpus / others);
}

// `memory:` what a process holds besides its tensors. A value set here is
// the user's, and its source says so.
model::MemoryAllowance read_memory(MapReader r) {
  model::MemoryAllowance a;
  const bool reserve = r.has("runtime_reserve"), fragmentation = r.has("fragmentation");
  r.quantity("runtime_reserve", a.runtime_reserve, QuantityKind::bytes, /*positive=*/false);
  r.number("fragmentation", a.fragmentation, 0);
  if (a.fragmentation >= 1) {
    fail(r.at("fragmentation"), join_path(r.path(), "fragmentation"),
         fmt::format("expected a share in [0, 1), got {}", shown(r.at("fragmentation"))));
  }
  if (reserve || fragmentation) a.source = "scenario (memory section)";
  r.text("source", a.source);
  r.finish();
  return a;
}

Scenario resolve(const Node& doc) {
  MapReader top(doc, "");
  Scenario s;
  s.parallelism.dp = kDerivedDp;
  top.text("name", s.name);
  top.text("description", s.description);
  s.model = read_model(required_section(top, "model", "a model preset name (deepseek-v3, ...) or a map"));
  if (const Node* p = top.take("parallelism")) read_plan(MapReader(*p, "parallelism"), s.parallelism);
  if (const Node* p = top.take("precision")) s.precision = read_precision(MapReader(*p, "precision"));
  s.hardware =
      read_hardware(MapReader(required_section(top, "hardware", "a map with gpu, gpus_per_node, nodes"), "hardware"));
  s.training = read_training(MapReader(required_section(top, "training", "a map with seq_len and phases"), "training"),
                             s.parallelism);
  if (const Node* r = top.take("reliability")) s.reliability = read_reliability(MapReader(*r, "reliability"));
  if (const Node* c = top.take("cost")) s.cost = read_cost(*c, s.hardware.gpu.name, s.notes);
  if (const Node* m = top.take("memory")) s.memory = read_memory(MapReader(*m, "memory"));
  // `notes:` as a resolved scenario keeps them (scenarios/provenance.h).
  if (const Node* n = top.take("notes")) {
    if (n->kind != Node::Kind::sequence) fail(*n, "notes", fmt::format("expected a list of texts, got {}", shown(*n)));
    for (std::size_t i = 0; i < n->items.size(); ++i) {
      if (n->items[i].kind != Node::Kind::scalar) {
        fail(n->items[i], fmt::format("notes[{}]", i), fmt::format("expected a text, got {}", shown(n->items[i])));
      }
      s.notes.push_back(n->items[i].scalar);
    }
  }
  top.finish();
  const int gpus = hw::gpu_count(s.hardware);
  const Node* plan_node = doc.find("parallelism");
  derive_dp(s.parallelism, gpus, plan_node ? *plan_node : doc, "parallelism");
  const Node* training = doc.find("training");
  const Node* phases = training != nullptr ? training->find("phases") : nullptr;
  for (std::size_t i = 0; i < s.training.phases.size(); ++i) {
    const Node* ph = phases && i < phases->items.size() ? &phases->items[i] : &doc;
    const Node* ph_plan = ph->kind == Node::Kind::map ? ph->find("parallelism") : nullptr;
    derive_dp(s.training.phases[i].parallelism, gpus, ph_plan ? *ph_plan : *ph,
              fmt::format("training.phases[{}].parallelism", i));
  }
  if (s.name.empty()) s.name = s.model.name;
  return s;
}

}  // namespace tcsim::scenario
