#include "scenarios/resolve.h"

#include <filesystem>

#include <fmt/format.h>

#include "hardware/catalog.h"
#include "hardware/names.h"
#include "model/catalog.h"
#include "model/names.h"
#include "scenarios/loader.h"
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

model::ModelSpec read_model(const Node& section) {
  model::ModelSpec m;
  const Node* map = preset_section(section, "model", m, model::find_model_preset, model::model_preset_names, "model");
  if (map == nullptr) return m;
  MapReader r(*map, "model");
  r.take("preset");
  r.text("name", m.name);
  r.text("source", m.source);
  r.integer("layers", m.layers, 1);
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
  r.integer("mtp_depth", m.mtp_depth, 0);
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
  r.integer("gpus_per_node", c.gpus_per_node, 1, /*required=*/true);
  r.integer("nodes", c.nodes, 1, /*required=*/true);
  if (const Node* n = r.take("network")) c.network = read_network(MapReader(*n, "hardware.network"));
  r.text("calibration", c.calibration);
  r.finish();
  c.profile = read_profile(r, c);
  return c;
}

// Reads the keys present into `plan`, leaving the others as they were: the
// top-level plan starts from defaults, a phase's plan from the top level.
void read_plan(MapReader r, model::ParallelPlan& p) {
  r.integer("tp", p.tp, 1);
  r.integer("pp", p.pp, 1);
  r.integer("ep", p.ep, 1);
  r.integer("dp", p.dp, 1);
  r.integer("cp", p.cp, 1);
  r.integer("virtual_stages", p.virtual_stages, 1);
  r.integer("micro_batch", p.micro_batch, 1);
  r.integer("zero", p.zero, 0);
  r.choice("schedule", p.schedule, model::kScheduleNames);
  r.choice("recompute", p.recompute, model::kRecomputeNames);
  r.integer("comm_sms", p.comm_sms, 0);
  r.int_list("stage_layers", p.stage_layers, 1);
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

ReliabilitySpec read_reliability(MapReader r) {
  ReliabilitySpec rel;
  r.quantity("mtbf_per_gpu", rel.mtbf_per_gpu, QuantityKind::duration);
  r.quantity("restart_time", rel.restart_time, QuantityKind::duration, /*positive=*/false);
  r.quantity("checkpoint_interval", rel.checkpoint_interval, QuantityKind::duration);
  r.quantity("checkpoint_bandwidth", rel.checkpoint_bandwidth, QuantityKind::bandwidth);
  r.finish();
  return rel;
}

CostSpec read_cost(MapReader r) {
  CostSpec c;
  r.quantity("rental", c.rental, QuantityKind::usd_per_gpu_hour);
  r.text("rental_source", c.rental_source);
  r.finish();
  return c;
}

const Node& required_section(MapReader& top, std::string_view key, std::string_view what) {
  const Node* n = top.take(key);
  if (n == nullptr || n->kind == Node::Kind::null)
    fail(top.at(key), std::string(key), fmt::format("missing; expected {}", what));
  return *n;
}

}  // namespace

Scenario resolve(const Node& doc) {
  MapReader top(doc, "");
  Scenario s;
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
  if (const Node* c = top.take("cost")) s.cost = read_cost(MapReader(*c, "cost"));
  top.finish();
  if (s.name.empty()) s.name = s.model.name;
  return s;
}

}  // namespace tcsim::scenario
