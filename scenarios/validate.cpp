#include <charconv>
#include <numeric>

#include <fmt/format.h>

#include "scenarios/reader.h"
#include "scenarios/resolve.h"

namespace tcsim::scenario {
namespace {

// The node at a dotted path ("parallelism.dp", "training.phases[2].batch"),
// or its deepest ancestor present in the document: where a message points.
const Node& locate(const Node& root, std::string_view path) {
  const Node* at = &root;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') ++i;
    if (i < path.size() && path[i] == '[') {
      const std::size_t close = path.find(']', i);
      std::size_t index = 0;
      std::from_chars(path.data() + i + 1, path.data() + close, index);
      if (at->kind != Node::Kind::sequence || index >= at->items.size()) return *at;
      at = &at->items[index];
      i = close + 1;
      continue;
    }
    std::size_t end = i;
    while (end < path.size() && path[end] != '.' && path[end] != '[') ++end;
    const Node* next = at->find(path.substr(i, end - i));
    if (next == nullptr) return *at;
    at = next;
    i = end;
  }
  return *at;
}

class Checker {
 public:
  explicit Checker(const Node& doc) : doc_(doc) {}

  void require(bool ok, const std::string& path, const std::string& message) const {
    if (!ok) fail(locate(doc_, path), path, message);
  }
  // Of several keys under `parent`, the one written last: a --set override,
  // else one in the top-level file, else any (the message points at it).
  std::string latest_of(const std::string& parent, std::initializer_list<std::string_view> keys) const {
    const Node& map = locate(doc_, parent);
    std::string best = parent + "." + std::string(*keys.begin());
    int best_rank = -1;
    for (const std::string_view k : keys) {
      const Node* n = map.find(k);
      if (n == nullptr) continue;
      const int rank = n->loc.file == "--set" ? 2 : n->loc.file == doc_.loc.file ? 1 : 0;
      if (rank >= best_rank) {
        best_rank = rank;
        best = parent + "." + std::string(k);
      }
    }
    return best;
  }
  void positive(long long v, const std::string& path, std::string_view what = "a positive whole number") const {
    require(v > 0, path, fmt::format("missing; expected {}", what));
  }

 private:
  const Node& doc_;
};

void check_model(const Checker& c, const model::ModelSpec& m) {
  c.positive(m.layers, "model.layers");
  c.positive(m.hidden, "model.hidden");
  c.positive(m.vocab, "model.vocab");
  const model::AttentionSpec& a = m.attention;
  c.positive(a.heads, "model.attention.heads");
  if (a.kind == model::AttentionKind::mla) {
    c.positive(a.kv_lora_rank, "model.attention.kv_lora_rank");
    c.positive(a.qk_nope_head_dim, "model.attention.qk_nope_head_dim");
    c.positive(a.qk_rope_head_dim, "model.attention.qk_rope_head_dim");
    c.positive(a.v_head_dim, "model.attention.v_head_dim");
  } else {
    c.positive(a.head_dim, "model.attention.head_dim");
    c.positive(a.kv_heads, "model.attention.kv_heads");
    c.require(a.heads % a.kv_heads == 0, "model.attention.kv_heads",
              fmt::format("{} query heads do not divide into {} key/value heads", a.heads, a.kv_heads));
    c.require(
        a.kind != model::AttentionKind::mha || a.kv_heads == a.heads, "model.attention.kv_heads",
        fmt::format("mha has one key/value head per query head ({}), got {}; use kind: gqa", a.heads, a.kv_heads));
  }
  const bool has_dense_ffn = !m.moe || m.dense_layers > 0;
  if (has_dense_ffn) c.positive(m.ffn_intermediate, "model.ffn.intermediate");
  if (m.moe) {
    const model::MoeSpec& e = *m.moe;
    c.positive(e.routed, "model.moe.routed");
    c.positive(e.per_token, "model.moe.per_token");
    c.positive(e.expert_intermediate, "model.moe.expert_intermediate");
    c.require(e.per_token <= e.routed, "model.moe.per_token",
              fmt::format("a token cannot use {} of {} routed experts", e.per_token, e.routed));
    c.require(m.dense_layers < m.layers, "model.dense_layers",
              fmt::format("{} dense layers leave no MoE layer of {}", m.dense_layers, m.layers));
  } else {
    c.require(m.dense_layers == 0, "model.dense_layers", "dense_layers applies to MoE models only");
  }
  if (m.position == model::PositionKind::learned) c.positive(m.max_position, "model.max_position");
}

void check_gpu(const Checker& c, const hw::GpuSpec& g) {
  c.positive(g.sms, "hardware.gpu.sms");
  c.require(g.bf16_dense.value() > 0, "hardware.gpu.bf16_dense",
            "missing; expected a throughput like \"989.4 TFLOP/s\"");
  c.require(g.hbm_capacity.value() > 0, "hardware.gpu.hbm_capacity", "missing; expected a size like \"80 GB\"");
  c.require(g.hbm_bandwidth.value() > 0, "hardware.gpu.hbm_bandwidth",
            "missing; expected a bandwidth like \"3.35 TB/s\"");
}

// The rules a plan must satisfy against the model, the cluster and a batch.
void check_plan(const Checker& c, const Scenario& s, const model::ParallelPlan& p, const std::string& at,
                const Phase* phase, const std::string& phase_path) {
  const model::ModelSpec& m = s.model;
  const int gpus = gpu_count(s);
  const long long product = 1LL * p.tp * p.cp * p.pp * p.dp;
  c.require(product == gpus, c.latest_of(at, {"tp", "cp", "pp", "dp"}),
            fmt::format("parallel degrees tp x cp x pp x dp = {} x {} x {} x {} = {} do not multiply to the {} GPUs "
                        "of hardware ({} per node x {} nodes)",
                        p.tp, p.cp, p.pp, p.dp, product, gpus, s.hardware.gpus_per_node, s.hardware.nodes));
  c.require(p.zero <= 3, at + ".zero", fmt::format("expected a ZeRO stage 0, 1, 2 or 3, got {}", p.zero));

  // Schedule and virtual stages.
  using model::Schedule;
  if (p.schedule == Schedule::interleaved_1f1b) {
    c.require(p.virtual_stages >= 2, at + ".virtual_stages",
              fmt::format("interleaved-1f1b needs virtual_stages >= 2, got {}", p.virtual_stages));
  } else {
    c.require(p.virtual_stages == 1, at + ".virtual_stages",
              fmt::format("virtual_stages = {} needs schedule: interleaved-1f1b", p.virtual_stages));
  }
  if (p.schedule == Schedule::dualpipe) {
    // DualPipe pairs stage i with stage pp-1-i on one rank (V3-TR §3.2.1).
    c.require(p.pp >= 2 && p.pp % 2 == 0, at + ".pp", fmt::format("dualpipe needs an even pp >= 2, got {}", p.pp));
  }

  // Layers over pipeline stages.
  const int stages = p.pp * p.virtual_stages;
  if (p.stage_layers.empty()) {
    c.require(m.layers % stages == 0, at + ".pp",
              fmt::format("{} layers do not divide into pp x virtual_stages = {} stages; give "
                          "parallelism.stage_layers to split them unevenly",
                          m.layers, stages));
  } else {
    c.require(static_cast<int>(p.stage_layers.size()) == stages, at + ".stage_layers",
              fmt::format("expected {} entries (pp x virtual_stages), got {}", stages, p.stage_layers.size()));
    const int sum = std::accumulate(p.stage_layers.begin(), p.stage_layers.end(), 0);
    c.require(sum == m.layers, at + ".stage_layers",
              fmt::format("stage layers add up to {}, the model has {} layers", sum, m.layers));
  }

  // Tensor parallel splits heads.
  c.require(m.attention.heads % p.tp == 0, at + ".tp",
            fmt::format("tp = {} does not divide the {} attention heads", p.tp, m.attention.heads));
  if (m.attention.kind != model::AttentionKind::mla) {
    c.require(m.attention.kv_heads % p.tp == 0, at + ".tp",
              fmt::format("tp = {} does not divide the {} key/value heads", p.tp, m.attention.kv_heads));
  }

  // Expert parallel: experts over GPUs carved from dp x tp x cp.
  if (m.moe) {
    c.require(m.moe->routed % p.ep == 0, at + ".ep",
              fmt::format("ep = {} does not divide the {} routed experts", p.ep, m.moe->routed));
    const long long carve = 1LL * p.dp * p.tp * p.cp;
    c.require(carve % p.ep == 0, at + ".ep",
              fmt::format("ep = {} does not divide dp x tp x cp = {}, the ranks experts are spread over", p.ep, carve));
  } else {
    c.require(p.ep == 1, at + ".ep", fmt::format("ep = {} needs a mixture-of-experts model", p.ep));
  }
  c.require(p.comm_sms < s.hardware.gpu.sms, at + ".comm_sms",
            fmt::format("comm_sms = {} leaves no SM of the GPU's {} for compute", p.comm_sms, s.hardware.gpu.sms));

  if (phase == nullptr) return;
  const long long per_step = 1LL * p.dp * p.micro_batch;
  c.require(phase->seq_len % p.cp == 0, phase_path + ".seq_len",
            fmt::format("cp = {} does not divide the sequence length {}", p.cp, phase->seq_len));
  if (phase->measured_gpu_hours) return;
  c.require(phase->batch % per_step == 0, phase_path + ".batch",
            fmt::format("batch {} does not divide into dp x micro_batch = {} x {} = {} sequences per micro-batch round",
                        phase->batch, p.dp, p.micro_batch, per_step));
  if (phase->ramp) {
    c.require(phase->ramp->from % per_step == 0, phase_path + ".batch_ramp.from",
              fmt::format("batch {} does not divide into dp x micro_batch = {}", phase->ramp->from, per_step));
    c.require(
        phase->ramp->from <= phase->batch, phase_path + ".batch_ramp.from",
        fmt::format("the ramp starts at {} sequences, above the phase batch {}", phase->ramp->from, phase->batch));
    c.require(phase->tokens == 0 || phase->ramp->over_tokens <= phase->tokens, phase_path + ".batch_ramp.over_tokens",
              "the ramp is longer than the phase");
  }
}

}  // namespace

void validate(const Scenario& s, const Node& doc) {
  const Checker c(doc);
  check_model(c, s.model);
  check_gpu(c, s.hardware.gpu);
  c.require(s.precision.gemm != model::Dtype::fp8 || s.hardware.gpu.fp8_dense.value() > 0, "precision.gemm",
            fmt::format("fp8 GEMMs need a GPU with FP8 tensor cores; {} has none", s.hardware.gpu.name));
  if (const auto& prof = s.hardware.profile) {
    c.require(prof->sms == s.hardware.gpu.sms, "hardware.calibration",
              fmt::format("calibration profile {} was measured on a GPU with {} SMs; hardware.gpu {} has {}",
                          prof->name, prof->sms, s.hardware.gpu.name, s.hardware.gpu.sms));
  }
  // FP8 copies of GEMM inputs are what FP8 GEMMs produce on the way (V3-TR §3.3.4).
  c.require(s.precision.gemm_input_cache != model::Dtype::fp8 || s.precision.gemm == model::Dtype::fp8,
            "precision.gemm_input_cache", "fp8 caching of GEMM inputs needs precision.gemm: fp8");
  check_plan(c, s, s.parallelism, "parallelism", nullptr, "");
  for (std::size_t i = 0; i < s.training.phases.size(); ++i) {
    const Phase& ph = s.training.phases[i];
    const std::string path = fmt::format("training.phases[{}]", i);
    check_plan(c, s, ph.parallelism, path + ".parallelism", &ph, path);
  }
}

}  // namespace tcsim::scenario
