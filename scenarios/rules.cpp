#include "scenarios/rules.h"

#include <numeric>

#include <fmt/format.h>

#include "hardware/builders.h"
#include "model/names.h"
#include "model/schedule.h"

namespace tcsim::scenario {
namespace {

// Collects breaks: each check names its rule once.
class Findings {
 public:
  explicit Findings(Rule rule) : rule_(rule) {}
  void rule(Rule r) { rule_ = r; }
  void require(bool ok, std::string path, std::string message) {
    if (!ok) out_.push_back({rule_, std::move(path), {}, std::move(message)});
  }
  void require_one_of(bool ok, std::string path, std::vector<std::string> keys, std::string message) {
    if (!ok) out_.push_back({rule_, std::move(path), std::move(keys), std::move(message)});
  }
  void positive(long long v, std::string path, std::string_view what = "a positive whole number") {
    require(v > 0, std::move(path), fmt::format("missing; expected {}", what));
  }
  std::vector<RuleBreak> take() { return std::move(out_); }

 private:
  Rule rule_;
  std::vector<RuleBreak> out_;
};

void model_rules(Findings& f, const model::ModelSpec& m) {
  f.rule(Rule::model);
  f.positive(m.layers, "model.layers");
  f.positive(m.hidden, "model.hidden");
  f.positive(m.vocab, "model.vocab");
  const model::AttentionSpec& a = m.attention;
  f.positive(a.heads, "model.attention.heads");
  if (a.kind == model::AttentionKind::mla) {
    f.positive(a.kv_lora_rank, "model.attention.kv_lora_rank");
    f.positive(a.qk_nope_head_dim, "model.attention.qk_nope_head_dim");
    f.positive(a.qk_rope_head_dim, "model.attention.qk_rope_head_dim");
    f.positive(a.v_head_dim, "model.attention.v_head_dim");
  } else {
    f.positive(a.head_dim, "model.attention.head_dim");
    f.positive(a.kv_heads, "model.attention.kv_heads");
    f.require(a.kv_heads <= 0 || a.heads % a.kv_heads == 0, "model.attention.kv_heads",
              fmt::format("{} query heads do not divide into {} key/value heads", a.heads, a.kv_heads));
    f.require(
        a.kind != model::AttentionKind::mha || a.kv_heads == a.heads, "model.attention.kv_heads",
        fmt::format("mha has one key/value head per query head ({}), got {}; use kind: gqa", a.heads, a.kv_heads));
  }
  const bool has_dense_ffn = !m.moe || m.dense_layers > 0;
  if (has_dense_ffn) f.positive(m.ffn_intermediate, "model.ffn.intermediate");
  if (m.moe) {
    const model::MoeSpec& e = *m.moe;
    f.positive(e.routed, "model.moe.routed");
    f.positive(e.per_token, "model.moe.per_token");
    f.positive(e.expert_intermediate, "model.moe.expert_intermediate");
    f.require(e.per_token <= e.routed, "model.moe.per_token",
              fmt::format("a token cannot use {} of {} routed experts", e.per_token, e.routed));
    f.require(m.dense_layers < m.layers, "model.dense_layers",
              fmt::format("{} dense layers leave no MoE layer of {}", m.dense_layers, m.layers));
  } else {
    f.require(m.dense_layers == 0, "model.dense_layers", "dense_layers applies to MoE models only");
  }
  if (m.position == model::PositionKind::learned) f.positive(m.max_position, "model.max_position");
}

void gpu_rules(Findings& f, const hw::GpuSpec& g) {
  f.rule(Rule::gpu);
  f.positive(g.sms, "hardware.gpu.sms");
  f.require(g.bf16_dense.value() > 0, "hardware.gpu.bf16_dense",
            "missing; expected a throughput like \"989.4 TFLOP/s\"");
  f.require(g.hbm_capacity.value() > 0, "hardware.gpu.hbm_capacity", "missing; expected a size like \"80 GB\"");
  f.require(g.hbm_bandwidth.value() > 0, "hardware.gpu.hbm_bandwidth",
            "missing; expected a bandwidth like \"3.35 TB/s\"");
}

void precision_rules(Findings& f, const Scenario& s) {
  f.rule(Rule::precision);
  f.require(s.precision.gemm != model::Dtype::fp8 || s.hardware.gpu.fp8_dense.value() > 0, "precision.gemm",
            fmt::format("fp8 GEMMs need a GPU with FP8 tensor cores; {} has none", s.hardware.gpu.name));
  f.rule(Rule::calibration);
  if (const auto& prof = s.hardware.profile) {
    f.require(prof->sms == s.hardware.gpu.sms, "hardware.calibration",
              fmt::format("calibration profile {} was measured on a GPU with {} SMs; hardware.gpu {} has {}",
                          prof->name, prof->sms, s.hardware.gpu.name, s.hardware.gpu.sms));
    f.require(s.precision.gemm != model::Dtype::fp8 || prof->gemm_fp8.value.value() > 0, "hardware.calibration",
              fmt::format("calibration profile {} gives no FP8 GEMM rate, and precision.gemm is fp8", prof->name));
  }
  // FP8 copies of GEMM inputs are what FP8 GEMMs produce on the way (V3-TR §3.3.4).
  f.rule(Rule::precision);
  f.require(s.precision.gemm_input_cache != model::Dtype::fp8 || s.precision.gemm == model::Dtype::fp8,
            "precision.gemm_input_cache", "fp8 caching of GEMM inputs needs precision.gemm: fp8");
}

void layer_rules(Findings& f, const model::ModelSpec& m, const model::ParallelPlan& p, const std::string& at) {
  f.rule(Rule::layers);
  const int stages = p.pp * p.virtual_stages;
  if (p.stage_layers.empty()) {
    f.require(stages <= m.layers, at + ".pp",
              fmt::format("{} layers cannot fill pp x virtual_stages = {} stages", m.layers, stages));
    if (stages > m.layers) return;
    f.require(m.layers % stages == 0, at + ".pp",
              fmt::format("{} layers do not divide into pp x virtual_stages = {} stages; give "
                          "parallelism.stage_layers to split them unevenly",
                          m.layers, stages));
    return;
  }
  f.require(static_cast<int>(p.stage_layers.size()) == stages, at + ".stage_layers",
            fmt::format("expected {} entries (pp x virtual_stages), got {}", stages, p.stage_layers.size()));
  const int sum = std::accumulate(p.stage_layers.begin(), p.stage_layers.end(), 0);
  f.require(sum == m.layers, at + ".stage_layers",
            fmt::format("stage layers add up to {}, the model has {} layers", sum, m.layers));
}

// The global batch `batch` (at `path`) against the plan and its schedule.
void batch_rules(Findings& f, const model::ParallelPlan& p, std::int64_t batch, const std::string& path) {
  const std::int64_t per_round = std::int64_t{p.dp} * p.micro_batch;
  f.rule(Rule::batch);
  f.require(batch % per_round == 0, path,
            fmt::format("batch {} does not divide into dp x micro_batch = {} x {} = {} sequences per micro-batch round",
                        batch, p.dp, p.micro_batch, per_round));
  if (batch % per_round != 0) return;
  const std::int64_t n = batch / per_round;
  f.rule(Rule::micro_batches);
  // The step simulates every micro-batch of a pipeline; past this count its
  // task graph outgrows memory. Published plans stay far below it (DeepSeek-V3:
  // 120 per pipeline, Megatron-LM's 1T: 512). The limit is kMaxMicroBatches.
  constexpr std::int64_t kMaxMicroBatches = 1 << 14;
  f.require(n <= kMaxMicroBatches, path,
            fmt::format("batch {} is {} micro-batches per pipeline; the step simulates each one, up to {} "
                        "(a larger micro_batch or dp lowers the count)",
                        batch, n, kMaxMicroBatches));
  if (n > kMaxMicroBatches) return;
  const auto why =
      model::pipeline_schedule(p.schedule)
          .micro_batch_rule({p.pp, p.virtual_stages, static_cast<int>(std::min<std::int64_t>(n, 1 << 30))});
  f.require(!why, path, why ? fmt::format("batch {} is {} micro-batches per pipeline: {}", batch, n, *why) : "");
}

}  // namespace

std::string_view rule_name(Rule r) { return name_of(std::span<const Named<Rule>>(kRuleNames), r); }

std::vector<RuleBreak> plan_breaks(const Scenario& s, const model::ParallelPlan& p, int gpus, const PlanSite& site) {
  const model::ModelSpec& m = s.model;
  const std::string& at = site.plan_path;
  Findings f(Rule::product);
  const long long product = 1LL * p.tp * p.cp * p.pp * p.dp;
  f.require_one_of(product == gpus, at, {"tp", "cp", "pp", "dp"},
                   fmt::format("parallel degrees tp x cp x pp x dp = {} x {} x {} x {} = {} do not multiply to the {} "
                               "GPUs of hardware ({} per node x {} nodes)",
                               p.tp, p.cp, p.pp, p.dp, product, gpus, s.hardware.gpus_per_node,
                               gpus / std::max(1, s.hardware.gpus_per_node)));
  f.rule(Rule::zero);
  f.require(p.zero <= 3, at + ".zero", fmt::format("expected a ZeRO stage 0, 1, 2 or 3, got {}", p.zero));

  // Tensor parallelism splits heads.
  f.rule(Rule::tp);
  f.require(m.attention.heads % p.tp == 0, at + ".tp",
            fmt::format("tp = {} does not divide the {} attention heads", p.tp, m.attention.heads));
  if (m.attention.kind != model::AttentionKind::mla) {
    f.require(m.attention.kv_heads % p.tp == 0, at + ".tp",
              fmt::format("tp = {} does not divide the {} key/value heads", p.tp, m.attention.kv_heads));
  }

  layer_rules(f, m, p, at);
  f.rule(Rule::pipeline_shape);
  const model::PipelineSchedule& schedule = model::pipeline_schedule(p.schedule);
  if (auto why = schedule.shape_rule(p.pp, p.virtual_stages))
    f.require(false, at + "." + std::string(why->key), why->message);

  // Experts over the tp x dp x cp GPUs of a stage, expert_tp x ep at a time
  // (Megatron-Core's expert layout: sim/layout.h).
  f.rule(Rule::ep);
  const int etp = model::expert_tp(p);
  if (m.moe) {
    f.require(m.moe->routed % p.ep == 0, at + ".ep",
              fmt::format("ep = {} does not divide the {} routed experts", p.ep, m.moe->routed));
    const long long stage_gpus = 1LL * p.tp * p.dp * p.cp;
    f.require(stage_gpus % (1LL * etp * p.ep) == 0, at + ".ep",
              fmt::format("expert_tp x ep = {} x {} does not divide tp x dp x cp = {}, the GPUs of a stage experts "
                          "are spread over",
                          etp, p.ep, stage_gpus));
    f.require(m.moe->expert_intermediate % etp == 0, at + ".expert_tp",
              fmt::format("expert_tp = {} does not divide the experts' intermediate size {}", etp,
                          m.moe->expert_intermediate));
    // Megatron-Core asserts sequence parallelism for MoE under TP; without it
    // the expert layout is tied to tp (each tp rank holds every token).
    f.require(etp == p.tp || p.sequence_parallel, at + ".expert_tp",
              fmt::format("expert_tp = {} differs from tp = {}: needs sequence_parallel", etp, p.tp));
    // The expert-TP collectives run over the tensor-parallel group, so
    // expert TP is all of it or none of it.
    f.require(etp == 1 || etp == p.tp, at + ".expert_tp",
              fmt::format("expert_tp = {}: expected 1 or tp = {}", etp, p.tp));
  } else {
    f.require(p.ep == 1, at + ".ep", fmt::format("ep = {} needs a mixture-of-experts model", p.ep));
    f.require(p.expert_tp == 0 || p.expert_tp == p.tp, at + ".expert_tp",
              fmt::format("expert_tp = {} needs a mixture-of-experts model", p.expert_tp));
  }

  // Overlaps frameworks offer, with what each needs (model/spec.h).
  f.rule(Rule::overlap);
  if (p.overlap_ep_comm) {
    f.require(m.moe.has_value() && p.ep > 1, at + ".overlap_ep_comm",
              "overlap_ep_comm hides expert-parallel all-to-alls: needs a mixture-of-experts model with ep > 1");
    const bool runs = p.schedule == model::Schedule::interleaved_1f1b || p.schedule == model::Schedule::dualpipe ||
                      (p.schedule == model::Schedule::one_f_one_b && p.pp == 1);
    f.require(runs, at + ".overlap_ep_comm",
              fmt::format("overlap_ep_comm (Megatron-Core's combined 1F1B) runs with interleaved-1f1b, 1f1b on pp = 1, "
                          "or dualpipe (always overlapped); got {} on pp = {}",
                          model::schedule_name(p.schedule), p.pp));
  }
  if (p.overlap_shared_expert) {
    f.require(m.moe.has_value() && m.moe->shared > 0 && p.ep > 1, at + ".overlap_shared_expert",
              "overlap_shared_expert runs the shared expert beside the dispatch: needs shared experts and ep > 1");
  }
  if (p.overlap_tp_comm) {
    f.require(p.tp > 1 && p.sequence_parallel, at + ".overlap_tp_comm",
              fmt::format("overlap_tp_comm overlaps the all-gathers and reduce-scatters of sequence parallelism: needs "
                          "tp > 1 and sequence_parallel (tp = {})",
                          p.tp));
  }
  if (p.overlap_param_gather) {
    f.require(
        p.zero == 1 || p.zero == 2, at + ".overlap_param_gather",
        fmt::format("overlap_param_gather overlaps the distributed optimizer's weight all-gather: needs zero 1 or "
                    "2 (zero 3 gathers before each chunk already); got zero {}",
                    p.zero));
    f.require(p.overlap_grad_reduce, at + ".overlap_param_gather",
              "overlap_param_gather needs overlap_grad_reduce (Megatron-LM requires --overlap-grad-reduce with "
              "--overlap-param-gather)");
  }
  if (p.sequence_parallel) {
    f.require(p.tp > 1, at + ".sequence_parallel", "sequence_parallel shards along tensor parallelism: needs tp > 1");
  }
  f.rule(Rule::comm_sms);
  f.require(p.comm_sms < s.hardware.gpu.sms, at + ".comm_sms",
            fmt::format("comm_sms = {} leaves no SM of the GPU's {} for compute", p.comm_sms, s.hardware.gpu.sms));

  const Phase* phase = site.phase;
  if (phase == nullptr) return f.take();
  f.rule(Rule::cp);
  f.require(phase->seq_len % p.cp == 0, site.phase_path + ".seq_len",
            fmt::format("cp = {} does not divide the sequence length {}", p.cp, phase->seq_len));
  if (p.sequence_parallel) {
    const long long tokens = 1LL * p.micro_batch * (phase->seq_len / p.cp);
    f.require(tokens % p.tp == 0, site.phase_path + ".seq_len",
              fmt::format("sequence_parallel shards the {} tokens of a micro-batch per GPU over tp = {}: not a "
                          "whole number",
                          tokens, p.tp));
  }
  if (phase->measured_gpu_hours) return f.take();
  batch_rules(f, p, phase->batch, site.phase_path + ".batch");
  if (phase->ramp) {
    f.rule(Rule::batch);
    f.require(
        phase->ramp->from <= phase->batch, site.phase_path + ".batch_ramp.from",
        fmt::format("the ramp starts at {} sequences, above the phase batch {}", phase->ramp->from, phase->batch));
    f.require(phase->tokens == 0 || phase->ramp->over_tokens <= phase->tokens,
              site.phase_path + ".batch_ramp.over_tokens", "the ramp is longer than the phase");
    batch_rules(f, p, phase->ramp->from, site.phase_path + ".batch_ramp.from");
  }
  return f.take();
}

std::vector<RuleBreak> scenario_breaks(const Scenario& s) {
  Findings f(Rule::model);
  model_rules(f, s.model);
  gpu_rules(f, s.hardware.gpu);
  precision_rules(f, s);
  if (s.hardware.has_network) {
    f.rule(Rule::network);
    for (hw::NetworkBreak& b : hw::network_breaks(s.hardware)) f.require(false, std::move(b.key), std::move(b.message));
  }
  std::vector<RuleBreak> out = f.take();
  const auto add = [&out](std::vector<RuleBreak> more) {
    for (RuleBreak& b : more) out.push_back(std::move(b));
  };
  const int gpus = gpu_count(s);
  add(plan_breaks(s, s.parallelism, gpus, {}));
  for (std::size_t i = 0; i < s.training.phases.size(); ++i) {
    const std::string path = fmt::format("training.phases[{}]", i);
    add(plan_breaks(s, s.training.phases[i].parallelism, gpus, {path + ".parallelism", &s.training.phases[i], path}));
  }
  return out;
}

}  // namespace tcsim::scenario
