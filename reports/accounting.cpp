#include "reports/accounting.h"

#include <fmt/format.h>

#include "cost/ledger.h"
#include "hardware/names.h"
#include "model/names.h"
#include "model/ops.h"
#include "model/plan_fields.h"
#include "reports/cost_json.h"

namespace tcsim::reports {

using scenario::Scenario;

Accounting account(const Scenario& s) {
  const scenario::Phase& first = s.training.phases.front();
  Accounting a;
  a.params = model::count_params(s.model);
  a.train_flops_per_token_causal = model::train_flops_per_token(s.model, first.seq_len, model::AttentionFlops::causal);
  a.train_flops_per_token_full = model::train_flops_per_token(s.model, first.seq_len, model::AttentionFlops::full);
  a.memory = model::memory_per_gpu(s.model, first.parallelism, s.precision, first.seq_len, s.hardware.gpu.hbm_capacity,
                                   s.memory);
  return a;
}

Json plan_json(const model::ParallelPlan& p) {
  Json j = Json::object();
  model::for_each_plan_field([&](const auto& f) {
    const auto& v = p.*f.member;
    using T = std::remove_cvref_t<decltype(v)>;
    if constexpr (std::is_same_v<T, std::vector<int>>) {
      Json list = Json::array();
      for (const int x : v) list.push(x);
      j.set(f.name, std::move(list));
    } else if constexpr (std::is_same_v<T, model::Schedule>) {
      j.set(f.name, model::name_of(model::kScheduleNames, v));
    } else if constexpr (std::is_same_v<T, model::Recompute>) {
      j.set(f.name, model::name_of(model::kRecomputeNames, v));
    } else {
      j.set(f.name, v);
    }
  });
  return j;
}

namespace {

Json model_spec_json(const model::ModelSpec& m) {
  Json j = Json::object();
  j.set("name", m.name);
  j.set("source", m.source);
  j.set("layers", m.layers);
  j.set("hidden", m.hidden);
  j.set("vocab", m.vocab);
  Json& att = j.set("attention", Json::object());
  att.set("kind", model::name_of(model::kAttentionNames, m.attention.kind));
  att.set("heads", m.attention.heads);
  if (m.attention.kind == model::AttentionKind::mla) {
    att.set("q_lora_rank", m.attention.q_lora_rank);
    att.set("kv_lora_rank", m.attention.kv_lora_rank);
    att.set("qk_nope_head_dim", m.attention.qk_nope_head_dim);
    att.set("qk_rope_head_dim", m.attention.qk_rope_head_dim);
    att.set("v_head_dim", m.attention.v_head_dim);
  } else {
    att.set("kv_heads", m.attention.kv_heads);
    att.set("head_dim", m.attention.head_dim);
  }
  Json& ffn = j.set("ffn", Json::object());
  ffn.set("kind", model::name_of(model::kFfnNames, m.ffn));
  ffn.set("intermediate", m.ffn_intermediate);
  if (m.moe) {
    Json& moe = j.set("moe", Json::object());
    moe.set("routed", m.moe->routed);
    moe.set("shared", m.moe->shared);
    moe.set("per_token", m.moe->per_token);
    moe.set("expert_intermediate", m.moe->expert_intermediate);
    moe.set("max_nodes_per_token", m.moe->max_nodes_per_token);
  }
  j.set("dense_layers", m.dense_layers);
  j.set("norm", model::name_of(model::kNormNames, m.norm));
  j.set("position", model::name_of(model::kPositionNames, m.position));
  if (m.max_position > 0) j.set("max_position", m.max_position);
  j.set("biases", m.biases);
  j.set("tied_embeddings", m.tied_embeddings);
  j.set("mtp_depth", m.mtp_depth);
  j.set("active_counts_embedding", m.active_counts_embedding);
  return j;
}

Json hardware_json(const hw::ClusterSpec& c) {
  Json j = Json::object();
  Json& g = j.set("gpu", Json::object());
  g.set("name", c.gpu.name);
  g.set("source", c.gpu.source);
  g.set("sms", c.gpu.sms);
  g.set("bf16_dense_flops_per_s", c.gpu.bf16_dense.value());
  g.set("fp8_dense_flops_per_s", c.gpu.fp8_dense.value());
  g.set("hbm_capacity_bytes", c.gpu.hbm_capacity.value());
  g.set("hbm_bandwidth_bytes_per_s", c.gpu.hbm_bandwidth.value());
  g.set("nvlink_bandwidth_bytes_per_s", c.gpu.nvlink_bandwidth.value());
  g.set("tdp_w", c.gpu.tdp.value());
  j.set("gpus_per_node", c.gpus_per_node);
  j.set("nodes", c.nodes);
  Json& n = j.set("network", Json::object());
  n.set("topology", hw::name_of(hw::kTopologyNames, c.network.topology));
  n.set("nic_bandwidth_bytes_per_s", c.network.nic_bandwidth.value());
  n.set("nics_per_node", c.network.nics_per_node);
  n.set("oversubscription", c.network.oversubscription);
  n.set("pod_oversubscription", c.network.pod_oversubscription);
  n.set("pod_gpus", c.network.pod_gpus);
  n.set("switch_radix", c.network.switch_radix);
  n.set("latency_intra_leaf_s", c.network.latency_intra_leaf.value());
  n.set("latency_cross_leaf_s", c.network.latency_cross_leaf.value());
  n.set("latency_nvlink_s", c.network.latency_nvlink.value());
  j.set("calibration", c.calibration);
  return j;
}

Json training_json(const scenario::TrainingPlan& t) {
  Json j = Json::object();
  j.set("seq_len", t.seq_len);
  Json phases = Json::array();
  for (const scenario::Phase& ph : t.phases) {
    Json p = Json::object();
    p.set("name", ph.name);
    if (ph.tokens > 0) p.set("tokens", ph.tokens);
    if (ph.steps > 0) p.set("steps", ph.steps);
    if (ph.measured_gpu_hours) p.set("gpu_hours", ph.measured_gpu_hours->value());
    if (ph.batch > 0) p.set("batch", ph.batch);
    if (ph.ramp) {
      Json& r = p.set("batch_ramp", Json::object());
      r.set("from", ph.ramp->from);
      r.set("over_tokens", ph.ramp->over_tokens);
    }
    p.set("seq_len", ph.seq_len);
    p.set("parallelism", plan_json(ph.parallelism));
    p.set("source", ph.source);
    phases.push(std::move(p));
  }
  j.set("phases", std::move(phases));
  return j;
}

}  // namespace

Json echo_scenario(const Scenario& s) {
  Json j = Json::object();
  j.set("name", s.name);
  j.set("description", s.description);
  j.set("file", s.file);
  j.set("model", model_spec_json(s.model));
  j.set("parallelism", plan_json(s.parallelism));
  Json& prec = j.set("precision", Json::object());
  prec.set("gemm", model::name_of(model::kDtypeNames, s.precision.gemm));
  prec.set("weights", model::name_of(model::kDtypeNames, s.precision.weights));
  prec.set("master_weights", model::name_of(model::kDtypeNames, s.precision.master_weights));
  prec.set("grads", model::name_of(model::kDtypeNames, s.precision.grads));
  prec.set("optimizer_states", model::name_of(model::kDtypeNames, s.precision.optimizer_states));
  prec.set("activations", model::name_of(model::kDtypeNames, s.precision.activations));
  prec.set("gemm_input_cache", model::name_of(model::kDtypeNames, s.precision.gemm_input_cache));
  prec.set("attention_output_cache", model::name_of(model::kStorageDtypeNames, s.precision.attention_output_cache));
  j.set("hardware", hardware_json(s.hardware));
  j.set("training", training_json(s.training));
  j.set("reliability", reliability_spec_json(s.reliability));
  j.set("cost", cost_spec_json(s.cost));
  return j;
}

Json accounting_json(const Scenario& s, const Accounting& a) {
  Json j = Json::object();
  Json& sc = j.set("scenario", Json::object());
  sc.set("name", s.name);
  sc.set("file", s.file);
  sc.set("gpus", scenario::gpu_count(s));
  sc.set("gpu", s.hardware.gpu.name);

  const model::ParamCounts& p = a.params;
  Json& m = j.set("model", Json::object());
  m.set("name", s.model.name);
  m.set("params_total", p.total);
  m.set("params_active", p.active);
  m.set("params_mtp", p.mtp);
  m.set("params_mtp_active", p.mtp_active);
  Json& items = m.set("params_breakdown", Json::object());
  items.set("embedding", p.embedding);
  items.set("head", p.head);
  items.set("attention", p.attention);
  items.set("dense_ffn", p.dense_ffn);
  items.set("routed_experts", p.routed_experts);
  items.set("shared_experts", p.shared_experts);
  items.set("router", p.router);
  items.set("norms", p.norms);
  m.set("train_flops_per_token", a.train_flops_per_token_causal.value());
  m.set("train_flops_per_token_full_attention", a.train_flops_per_token_full.value());
  m.set("attention_flops_convention", "causal");

  const model::MemoryBudget& mem = a.memory;
  Json& me = j.set("memory", Json::object());
  me.set("peak_bytes_per_gpu", mem.total.value());
  me.set("capacity_bytes_per_gpu", mem.capacity.value());
  me.set("fits", mem.fits);
  me.set("peak_stage", mem.peak_stage);
  Json& mb = me.set("breakdown_bytes", Json::object());
  mb.set("weights", mem.weights.value());
  mb.set("gradients", mem.gradients.value());
  mb.set("master_weights", mem.master_weights.value());
  mb.set("optimizer_states", mem.optimizer_states.value());
  mb.set("activations", mem.activations.value());
  mb.set("fragmentation", mem.fragmentation.value());
  mb.set("runtime_reserve", mem.runtime_reserve.value());
  me.set("tensors_bytes", mem.tensors.value());
  me.set("fragmentation_tolerated", mem.fragmentation_headroom);
  me.set("allowance_source", s.memory.source);
  Json& ranks = me.set("peak_bytes_per_pipeline_rank", Json::array());
  for (const Bytes b : mem.rank_totals) ranks.push(b.value());
  me.set("activations_per_micro_batch_bytes", mem.activations_per_micro_batch.value());
  me.set("micro_batches_in_flight", mem.in_flight);
  me.set("parameter_copies", mem.parameter_copies);

  j.set("resolved", echo_scenario(s));
  return j;
}

namespace {

void row(std::string& out, std::string_view label, const std::string& value, std::string_view note = "") {
  out += fmt::format("  {:<26}{:>14}  {}\n", label, value, note);
}

std::string count(std::int64_t n) { return to_count_string(static_cast<double>(n)); }

// The item that dominates a rank's memory, and its share.
std::string largest_item(const model::MemoryBudget& m) {
  const std::pair<std::string_view, Bytes> items[] = {{"weights", m.weights},
                                                      {"gradients", m.gradients},
                                                      {"master weights", m.master_weights},
                                                      {"optimizer states", m.optimizer_states},
                                                      {"activations", m.activations},
                                                      {"runtime reserve", m.runtime_reserve}};
  const auto* top = &items[0];
  for (const auto& i : items) {
    if (i.second > top->second) top = &i;
  }
  return fmt::format("{}, {:.0f}%", top->first, 100 * top->second.value() / m.total.value());
}

std::string plan_line(const model::ParallelPlan& p) {
  std::string s = fmt::format("TP{} PP{} EP{} DP{} CP{}", p.tp, p.pp, p.ep, p.dp, p.cp);
  if (p.virtual_stages > 1) s += fmt::format(" x{} virtual", p.virtual_stages);
  return s + fmt::format(", {}, ZeRO-{}, micro-batch {}, recompute {}",
                         model::name_of(model::kScheduleNames, p.schedule), p.zero, p.micro_batch,
                         model::name_of(model::kRecomputeNames, p.recompute));
}

}  // namespace

std::string accounting_table(const Scenario& s, const Accounting& a) {
  std::string out;
  const hw::ClusterSpec& c = s.hardware;
  out += fmt::format("Scenario {}  ({})\n", s.name, s.file);
  out += fmt::format("  cluster   {} x {} ({} per node x {} nodes), {}", scenario::gpu_count(s), c.gpu.name,
                     c.gpus_per_node, c.nodes, hw::name_of(hw::kTopologyNames, c.network.topology));
  if (c.network.nic_bandwidth.value() > 0) out += fmt::format(", NIC {}", c.network.nic_bandwidth);
  out += "\n";
  out += fmt::format("  plan      {}\n", plan_line(s.parallelism));
  out += fmt::format("  precision GEMM {}, weights {}, master {}, grads {}, optimizer {}\n",
                     model::name_of(model::kDtypeNames, s.precision.gemm),
                     model::name_of(model::kDtypeNames, s.precision.weights),
                     model::name_of(model::kDtypeNames, s.precision.master_weights),
                     model::name_of(model::kDtypeNames, s.precision.grads),
                     model::name_of(model::kDtypeNames, s.precision.optimizer_states));
  for (const scenario::Phase& ph : s.training.phases) {
    std::string size;
    if (ph.tokens > 0) size = to_count_string(static_cast<double>(ph.tokens)) + " tokens";
    if (ph.steps > 0) size = fmt::format("{} steps", ph.steps);
    if (ph.measured_gpu_hours) size = fmt::format("{} (measured)", *ph.measured_gpu_hours);
    std::string batch;
    if (ph.batch > 0) batch = fmt::format(", batch {} x {}", ph.batch, ph.seq_len);
    if (ph.ramp)
      batch += fmt::format(" (ramp from {} over {} tokens)", ph.ramp->from,
                           to_count_string(static_cast<double>(ph.ramp->over_tokens)));
    out += fmt::format("  phase     {}: {}{}\n", ph.name, size, batch);
  }

  const model::ParamCounts& p = a.params;
  out += fmt::format("\nModel {}  ({})\n", s.model.name, s.model.source);
  row(out, "parameters, total", count(p.total), "main model, as its paper counts it");
  row(out, "parameters, active/token", count(p.active),
      s.model.active_counts_embedding ? "embedding table counted" : "one embedding row per token, as the paper counts");
  row(out, "  embedding", count(p.embedding));
  row(out, "  output head", count(p.head), s.model.tied_embeddings ? "tied to the embedding" : "");
  row(out, "  attention", count(p.attention));
  row(out, "  dense FFN", count(p.dense_ffn));
  row(out, "  routed experts", count(p.routed_experts));
  row(out, "  shared experts", count(p.shared_experts));
  row(out, "  router", count(p.router));
  row(out, "  norms and biases", count(p.norms));
  if (s.model.mtp_depth > 0) row(out, "MTP modules", count(p.mtp), fmt::format("{} active/token", count(p.mtp_active)));
  row(out, "train FLOPs/token", to_string(a.train_flops_per_token_causal),
      fmt::format("causal attention; {} counting the full s x s matrix", to_string(a.train_flops_per_token_full)));

  const model::MemoryBudget& m = a.memory;
  out += fmt::format("\nMemory per GPU  (peak on pipeline stage {}, {}, seq {})\n", m.peak_stage,
                     s.training.phases.front().name, s.training.phases.front().seq_len);
  row(out, "weights", to_string(m.weights),
      m.parameter_copies > 1 ? fmt::format("{} parameter copies (dualpipe)", m.parameter_copies) : "");
  row(out, "gradients", to_string(m.gradients));
  row(out, "master weights", to_string(m.master_weights));
  row(out, "optimizer states", to_string(m.optimizer_states));
  row(out, "activations", to_string(m.activations),
      fmt::format("{} per micro-batch x {:.4g} in flight", to_string(m.activations_per_micro_batch), m.in_flight));
  if (m.fragmentation.value() > 0) {
    row(out, "fragmentation", to_string(m.fragmentation),
        fmt::format("{:.0f}% of the allocator's reserve", 100 * s.memory.fragmentation));
  }
  row(out, "runtime reserve", to_string(m.runtime_reserve), s.memory.source);
  row(out, "total", to_string(m.total), fmt::format("largest: {}", largest_item(m)));
  row(out, "capacity", to_string(m.capacity), "as the device reports it");
  row(out, "fits", m.fits ? "yes" : "NO",
      m.fragmentation_headroom >= 0
          ? fmt::format("with up to {:.1f}% fragmentation (docs/model.md, \"Runtime reserve\")",
                        100 * m.fragmentation_headroom)
          : "not even without fragmentation");
  if (m.rank_totals.size() > 1) {
    std::string ranks;
    for (std::size_t r = 0; r < m.rank_totals.size(); ++r) {
      ranks += fmt::format("{}{:.1f}", r == 0 ? "" : " ", m.rank_totals[r].value() / (1024.0 * 1024.0 * 1024.0));
    }
    out += fmt::format("  per pipeline rank (GiB)   {}\n", ranks);
  }
  return out;
}

}  // namespace tcsim::reports
