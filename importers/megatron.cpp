// Megatron-LM arguments to a scenario fragment. Defaults follow
// megatron/training/arguments.py: a flag the arguments leave out is written
// as Megatron's default where the scenario has a field for it, so a base
// scenario's own choice (DualPipe, ZeRO-1, ...) never passes for Megatron's.
#include "importers/megatron.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tcsim::importers {
namespace {

[[noreturn]] void fail(const MegatronArg& a, const std::string& message) {
  if (a.loc.file.empty()) throw ConfigError(fmt::format("import megatron: {}: {}", a.flag, message));
  throw ConfigError(a.loc, a.flag, message);
}

std::string shown(const MegatronArg& a) {
  return a.values.empty() ? "nothing" : fmt::format("\"{}\"", fmt::join(a.values, " "));
}

// The arguments by flag, the last of a repeated flag winning; what was read
// is remembered, so the rest can be listed as not mapped.
class Args {
 public:
  explicit Args(const std::vector<MegatronArg>& args) : args_(args) {
    for (const MegatronArg& a : args) {
      if (!a.flag.empty()) last_[a.flag] = &a;
    }
  }

  const MegatronArg* find(std::string_view flag) {
    const auto it = last_.find(flag);
    if (it == last_.end()) return nullptr;
    use(it->first);
    return it->second;
  }
  // Whether a switch is present; a switch takes no value.
  bool has(std::string_view flag) {
    const MegatronArg* a = find(flag);
    if (a != nullptr && !a->values.empty()) fail(*a, fmt::format("takes no value, got {}", shown(*a)));
    return a != nullptr;
  }
  // Present without marking it used.
  bool given(std::string_view flag) const { return last_.contains(flag); }
  const MegatronArg& single(std::string_view flag) {
    const MegatronArg* a = find(flag);
    if (a->values.size() != 1) fail(*a, fmt::format("expected one value, got {}", shown(*a)));
    return *a;
  }
  std::optional<std::int64_t> integer(std::string_view flag, std::int64_t min) {
    if (!given(flag)) return std::nullopt;
    const MegatronArg& a = single(flag);
    const std::string& t = a.values[0];
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc{} || end != t.data() + t.size()) {
      fail(a, fmt::format("expected a whole number, got \"{}\"", t));
    }
    if (v < min) fail(a, fmt::format("expected a whole number of at least {}, got {}", min, v));
    return v;
  }
  std::optional<std::string> choice(std::string_view flag, std::span<const std::string_view> allowed) {
    if (!given(flag)) return std::nullopt;
    const MegatronArg& a = single(flag);
    if (std::find(allowed.begin(), allowed.end(), a.values[0]) == allowed.end()) {
      fail(a, fmt::format("expected one of {}, got \"{}\"", fmt::join(allowed, ", "), a.values[0]));
    }
    return a.values[0];
  }
  const MegatronArg& arg(std::string_view flag) const { return *last_.at(std::string(flag)); }

  std::vector<std::string> mapped() const { return used_; }
  std::vector<std::string> unmapped() const {
    std::vector<std::string> out;
    for (const MegatronArg& a : args_) {
      if (!a.flag.empty() && std::find(used_.begin(), used_.end(), a.flag) != used_.end()) continue;
      std::string text = a.flag;
      for (const std::string& v : a.values) text += (text.empty() ? "" : " ") + v;
      out.push_back(text);
    }
    return out;
  }

 private:
  void use(const std::string& flag) {
    if (std::find(used_.begin(), used_.end(), flag) == used_.end()) used_.push_back(flag);
  }
  const std::vector<MegatronArg>& args_;
  std::map<std::string, const MegatronArg*, std::less<>> last_;
  std::vector<std::string> used_;
};

// Lines of YAML, each with the comment that says where its value came from,
// the comments aligned at one column where the lines leave room.
constexpr std::size_t kCommentColumn = 34;
class Lines {
 public:
  void add(int indent, const std::string& text, const std::string& comment = {}) {
    lines_.push_back({std::string(static_cast<std::size_t>(2 * indent), ' ') + text, comment});
  }
  template <class T>
  void kv(int indent, std::string_view key, const T& value, const std::string& comment) {
    add(indent, fmt::format("{}: {}", key, value), comment);
  }
  void append(const Lines& other) { lines_.insert(lines_.end(), other.lines_.begin(), other.lines_.end()); }
  bool empty() const { return lines_.empty(); }
  std::string render() const {
    std::string out;
    for (const auto& [text, comment] : lines_) {
      out += text;
      if (!comment.empty()) {
        const std::size_t pad = text.size() + 2 < kCommentColumn ? kCommentColumn - text.size() : 2;
        out += std::string(pad, ' ') + "# " + comment;
      }
      out += '\n';
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, std::string>> lines_;
};

std::string flag_comment(const Args& args, std::string_view flag) {
  const MegatronArg& a = args.arg(flag);
  return a.values.empty() ? a.flag : fmt::format("{} {}", a.flag, fmt::join(a.values, " "));
}

struct Dims {
  std::optional<std::int64_t> layers;
  std::optional<std::int64_t> seq;
  std::int64_t pp = 1;
};

// A token count as the scenario loader reads counts: "12B", or quoted digits
// when no suffix gives it exactly.
std::string count(std::int64_t n) {
  constexpr std::array<std::pair<std::int64_t, char>, 4> kSuffixes{
      {{1'000'000'000'000, 'T'}, {1'000'000'000, 'B'}, {1'000'000, 'M'}, {1'000, 'K'}}};
  for (const auto& [unit, suffix] : kSuffixes) {
    if (n >= unit && n % unit == 0) return fmt::format("\"{}{}\"", n / unit, suffix);
  }
  return fmt::format("\"{}\"", n);
}

Lines parallelism(Args& args, Dims& dims) {
  Lines p;
  // A degree: its flag's value, or Megatron's default of 1.
  const auto degree = [&](std::string_view key, std::string_view flag) {
    const std::optional<std::int64_t> v = args.integer(flag, 1);
    p.kv(1, key, v.value_or(1), v ? flag_comment(args, flag) : fmt::format("Megatron default: no {}", flag));
    return v.value_or(1);
  };
  p.add(0, "parallelism:");
  const std::int64_t tp = degree("tp", "--tensor-model-parallel-size");
  dims.pp = degree("pp", "--pipeline-model-parallel-size");
  degree("ep", "--expert-model-parallel-size");
  degree("cp", "--context-parallel-size");
  p.add(1, "dp: auto", "GPUs / (tp x pp x cp), as Megatron derives the data-parallel size");

  // Interleaving: the chunks per pipeline rank, or layers per chunk.
  constexpr std::string_view kVpp = "--virtual-pipeline-model-parallel-size";
  constexpr std::string_view kVppRank = "--num-virtual-stages-per-pipeline-rank";
  constexpr std::string_view kPerStage = "--num-layers-per-virtual-pipeline-stage";
  std::int64_t virtual_stages = 1;
  std::string virtual_comment = "Megatron default: no interleaving";
  for (std::string_view flag : {kVpp, kVppRank}) {
    if (const auto v = args.integer(flag, 1)) {
      virtual_stages = *v;
      virtual_comment = flag_comment(args, flag);
    }
  }
  if (const auto per = args.integer(kPerStage, 1)) {
    const MegatronArg& a = args.arg(kPerStage);
    if (args.given(kVpp) || args.given(kVppRank)) {
      fail(a, fmt::format("give it or {}, not both", args.given(kVpp) ? kVpp : kVppRank));
    }
    if (!dims.layers) fail(a, "needs --num-layers (virtual stages = layers / pipeline size / this)");
    if (*dims.layers % (dims.pp * *per) != 0) {
      fail(a,
           fmt::format("{} layers do not split into {} pipeline stages of chunks of {}", *dims.layers, dims.pp, *per));
    }
    virtual_stages = *dims.layers / dims.pp / *per;
    virtual_comment = fmt::format("--num-layers {} / pp {} / {} {}", *dims.layers, dims.pp, kPerStage, *per);
  }
  p.kv(1, "virtual_stages", virtual_stages, virtual_comment);
  p.add(1, "stage_layers: []", "Megatron default: layers split evenly over the stages");
  p.kv(1, "schedule", virtual_stages > 1 ? "interleaved-1f1b" : "1f1b",
       virtual_stages > 1 ? "Megatron's interleaved 1F1B with virtual stages" : "Megatron's 1F1B (no interleaving)");

  if (const auto mb = args.integer("--micro-batch-size", 1)) {
    p.kv(1, "micro_batch", *mb, flag_comment(args, "--micro-batch-size"));
  }
  const bool distributed = args.has("--use-distributed-optimizer");
  p.kv(1, "zero", distributed ? 1 : 0,
       distributed ? "--use-distributed-optimizer: optimizer states sharded over data parallel"
                   : "Megatron default: no --use-distributed-optimizer");

  constexpr std::array<std::string_view, 2> kGranularity{"full", "selective"};
  std::string recompute = "none";
  std::string recompute_comment = "Megatron default: no --recompute-granularity";
  if (args.has("--recompute-activations")) {
    recompute = "selective";
    recompute_comment = "--recompute-activations (selective, as Megatron sets it)";
  }
  if (const auto g = args.choice("--recompute-granularity", kGranularity)) {
    recompute = *g;
    recompute_comment = flag_comment(args, "--recompute-granularity");
  }
  p.kv(1, "recompute", recompute, recompute_comment);

  // Switches with a plan field: present true, absent false (Megatron's default).
  const auto flag_field = [&](std::string_view key, std::string_view flag) {
    const bool on = args.has(flag);
    p.kv(1, key, on ? "true" : "false", on ? std::string(flag) : fmt::format("Megatron default: no {}", flag));
  };
  // Megatron turns sequence parallelism off at tensor-parallel size 1 (arguments.py).
  const bool sp = args.has("--sequence-parallel");
  p.kv(1, "sequence_parallel", sp && tp > 1 ? "true" : "false",
       !sp      ? "Megatron default: no --sequence-parallel"
       : tp > 1 ? "--sequence-parallel"
                : "--sequence-parallel, which Megatron turns off at tensor-parallel size 1");
  if (const auto etp = args.integer("--expert-tensor-parallel-size", 1)) {
    if (*etp != 1 && *etp != tp) {
      fail(args.arg("--expert-tensor-parallel-size"),
           fmt::format("tcsim models expert tensor parallelism of 1 or the tensor-parallel size ({}), got {}", tp,
                       *etp));
    }
    p.kv(1, "expert_tp", *etp == tp ? 0 : 1, flag_comment(args, "--expert-tensor-parallel-size"));
  }
  flag_field("overlap_grad_reduce", "--overlap-grad-reduce");
  flag_field("overlap_param_gather", "--overlap-param-gather");
  flag_field("overlap_tp_comm", "--tp-comm-overlap");
  if (args.given("--overlap-moe-expert-parallel-comm"))
    flag_field("overlap_ep_comm", "--overlap-moe-expert-parallel-comm");
  if (args.given("--moe-shared-expert-overlap")) flag_field("overlap_shared_expert", "--moe-shared-expert-overlap");
  if (args.given("--delay-wgrad-compute")) flag_field("delay_wgrad_compute", "--delay-wgrad-compute");
  return p;
}

// The model section. A whole model (layers, hidden size and heads given)
// gets Megatron's defaults for what the arguments leave out; a partial one
// only the fields given, the rest coming from the scenario it extends.
Lines model(Args& args, const Dims& dims) {
  Lines m;
  const auto hidden = args.integer("--hidden-size", 1);
  const auto heads = args.integer("--num-attention-heads", 1);
  const bool whole = dims.layers && hidden && heads;
  const auto given_int = [&](int indent, std::string_view key, std::string_view flag, std::int64_t min) {
    const auto v = args.integer(flag, min);
    if (v) m.kv(indent, key, *v, flag_comment(args, flag));
    return v;
  };
  m.add(0, "model:");
  if (dims.layers) m.kv(1, "layers", *dims.layers, flag_comment(args, "--num-layers"));
  if (hidden) m.kv(1, "hidden", *hidden, flag_comment(args, "--hidden-size"));
  given_int(1, "vocab", "--vocab-size", 1);

  // Attention.
  Lines a;
  if (args.has("--multi-latent-attention")) {
    a.kv(2, "kind", "mla", "--multi-latent-attention");
    if (heads) a.kv(2, "heads", *heads, flag_comment(args, "--num-attention-heads"));
    const auto q = args.integer("--q-lora-rank", 1);
    a.kv(2, "q_lora_rank", q.value_or(0),
         q ? flag_comment(args, "--q-lora-rank") : "Megatron default: no --q-lora-rank (queries not compressed)");
    const auto field = [&](std::string_view key, std::string_view flag) {
      if (const auto v = args.integer(flag, 1)) a.kv(2, key, *v, flag_comment(args, flag));
    };
    field("kv_lora_rank", "--kv-lora-rank");
    field("qk_nope_head_dim", "--qk-head-dim");
    field("qk_rope_head_dim", "--qk-pos-emb-head-dim");
    field("v_head_dim", "--v-head-dim");
  } else if (heads) {
    const bool gqa = args.has("--group-query-attention");
    a.kv(2, "kind", gqa ? "gqa" : "mha",
         gqa ? "--group-query-attention" : "Megatron default: no --group-query-attention");
    a.kv(2, "heads", *heads, flag_comment(args, "--num-attention-heads"));
    if (gqa) {
      const auto groups = args.integer("--num-query-groups", 1);
      a.kv(2, "kv_heads", groups.value_or(1),
           groups ? flag_comment(args, "--num-query-groups") : "Megatron default: --num-query-groups 1");
    } else {
      a.kv(2, "kv_heads", *heads, "one key/value head per query head (mha)");
    }
    if (const auto kv = args.integer("--kv-channels", 1)) {
      a.kv(2, "head_dim", *kv, flag_comment(args, "--kv-channels"));
    } else if (hidden) {
      if (*hidden % *heads != 0) {
        fail(args.arg("--num-attention-heads"),
             fmt::format("{} heads do not divide --hidden-size {} (give --kv-channels)", *heads, *hidden));
      }
      a.kv(2, "head_dim", *hidden / *heads, "Megatron default: --hidden-size / --num-attention-heads");
    }
  }
  if (!a.empty()) {
    m.add(1, "attention:");
    m.append(a);
  }

  // Feed-forward: Megatron's default width is 4h, or 4h x 2/3 rounded down to 64 with SwiGLU.
  const bool swiglu = args.has("--swiglu");
  std::optional<std::int64_t> ffn = args.integer("--ffn-hidden-size", 1);
  std::string ffn_comment = ffn ? flag_comment(args, "--ffn-hidden-size") : "";
  if (!ffn && whole) {
    ffn = swiglu ? (4 * *hidden * 2 / 3) / 64 * 64 : 4 * *hidden;
    ffn_comment = swiglu ? "Megatron default with --swiglu: 4 x hidden x 2/3, down to a multiple of 64"
                         : "Megatron default: 4 x --hidden-size";
  }
  if (whole || swiglu || ffn) {
    m.add(1, "ffn:");
    if (whole || swiglu)
      m.kv(2, "kind", swiglu ? "swiglu" : "gelu", swiglu ? "--swiglu" : "Megatron default: GeLU (no --swiglu)");
    if (ffn) m.kv(2, "intermediate", *ffn, ffn_comment);
  }

  // Mixture of experts.
  if (const auto experts = args.integer("--num-experts", 1)) {
    m.add(1, "moe:");
    m.kv(2, "routed", *experts, flag_comment(args, "--num-experts"));
    const auto topk = args.integer("--moe-router-topk", 1);
    m.kv(2, "per_token", topk.value_or(2),
         topk ? flag_comment(args, "--moe-router-topk") : "Megatron default: --moe-router-topk 2");
    std::optional<std::int64_t> expert = args.integer("--moe-ffn-hidden-size", 1);
    std::string expert_comment = expert ? flag_comment(args, "--moe-ffn-hidden-size") : "";
    if (!expert && ffn) {
      expert = ffn;
      expert_comment = "Megatron default: --moe-ffn-hidden-size = --ffn-hidden-size";
    }
    if (expert) m.kv(2, "expert_intermediate", *expert, expert_comment);
    if (const auto shared = args.integer("--moe-shared-expert-intermediate-size", 1)) {
      const MegatronArg& s = args.arg("--moe-shared-expert-intermediate-size");
      if (!expert || *shared % *expert != 0) {
        fail(s,
             "tcsim counts shared experts of the routed experts' width: it must be a multiple of "
             "--moe-ffn-hidden-size");
      }
      m.kv(2, "shared", *shared / *expert,
           fmt::format("{} / expert width {}", flag_comment(args, "--moe-shared-expert-intermediate-size"), *expert));
    } else if (whole) {
      m.kv(2, "shared", 0, "Megatron default: no --moe-shared-expert-intermediate-size");
    }
    if (whole) m.kv(1, "dense_layers", 0, "Megatron default: every layer MoE (no --moe-layer-freq)");
  } else if (whole) {
    m.kv(1, "moe", "null", "dense: no --num-experts");
  }

  // Norm, position, biases, embeddings.
  constexpr std::array<std::string_view, 2> kNorms{"LayerNorm", "RMSNorm"};
  if (const auto n = args.choice("--normalization", kNorms)) {
    m.kv(1, "norm", *n == "RMSNorm" ? "rmsnorm" : "layernorm", flag_comment(args, "--normalization"));
  } else if (whole) {
    m.kv(1, "norm", "layernorm", "Megatron default: --normalization LayerNorm");
  }
  constexpr std::array<std::string_view, 5> kPositions{"learned_absolute", "rope", "yarn", "mrope", "none"};
  std::optional<std::string> pos = args.choice("--position-embedding-type", kPositions);
  if (pos && *pos != "none") {
    const bool learned = *pos == "learned_absolute";
    m.kv(1, "position", learned ? "learned" : "rope", flag_comment(args, "--position-embedding-type"));
    if (learned) given_int(1, "max_position", "--max-position-embeddings", 1);
  } else if (!pos && whole) {
    m.kv(1, "position", "learned", "Megatron default: --position-embedding-type learned_absolute");
    given_int(1, "max_position", "--max-position-embeddings", 1);
  }
  if (args.given("--disable-bias-linear") || whole) {
    const bool off = args.has("--disable-bias-linear");
    m.kv(1, "biases", off ? "false" : "true",
         off ? "--disable-bias-linear" : "Megatron default: biases (no --disable-bias-linear)");
  }
  if (args.given("--untie-embeddings-and-output-weights") || whole) {
    const bool untied = args.has("--untie-embeddings-and-output-weights");
    m.kv(1, "tied_embeddings", untied ? "false" : "true",
         untied ? "--untie-embeddings-and-output-weights"
                : "Megatron default: tied (no --untie-embeddings-and-output-weights)");
  }
  if (const auto mtp = args.integer("--mtp-num-layers", 0)) {
    m.kv(1, "mtp_depth", *mtp, flag_comment(args, "--mtp-num-layers"));
  } else if (whole) {
    m.kv(1, "mtp_depth", 0, "Megatron default: no --mtp-num-layers");
  }
  Lines none;
  return dims.layers || hidden || heads || ffn || swiglu ? m : none;
}

Lines precision(Args& args) {
  Lines p;
  constexpr std::array<std::string_view, 2> kFp8{"e4m3", "hybrid"};
  const std::optional<std::string> fp8 = args.choice("--fp8-format", kFp8);
  const bool bf16 = args.has("--bf16");
  const bool fp16 = args.has("--fp16");
  if (bf16 && fp16) fail(args.arg("--fp16"), "given with --bf16; Megatron takes one");
  if (!fp8 && !bf16 && !fp16) return p;
  p.add(0, "precision:");
  const std::string half = fp16 ? "fp16" : "bf16";
  const std::string half_flag = fp16 ? "--fp16" : bf16 ? "--bf16" : "";
  if (fp8) {
    p.kv(1, "gemm", "fp8", flag_comment(args, "--fp8-format") + " (Transformer Engine FP8 GEMMs)");
  } else {
    p.kv(1, "gemm", half, half_flag);
  }
  if (bf16 || fp16) {
    p.kv(1, "weights", half, half_flag);
    p.kv(1, "activations", half, half_flag);
    p.kv(1, "master_weights", "fp32", "Megatron default: FP32 main parameters with " + half_flag);
    constexpr std::array<std::string_view, 3> kStates{"fp32", "fp16", "bf16"};
    if (const auto s = args.choice("--exp-avg-dtype", kStates)) {
      p.kv(1, "optimizer_states", *s, flag_comment(args, "--exp-avg-dtype"));
    } else {
      p.kv(1, "optimizer_states", "fp32", "Megatron default: --exp-avg-dtype fp32");
    }
    const bool grads_bf16 = args.has("--grad-reduce-in-bf16");
    if (grads_bf16) {
      p.kv(1, "grads", "bf16", "--grad-reduce-in-bf16");
    } else if (bf16) {
      p.kv(1, "grads", "fp32", "Megatron: --bf16 accumulates and reduces gradients in FP32");
    } else if (args.has("--accumulate-allreduce-grads-in-fp32")) {
      p.kv(1, "grads", "fp32", "--accumulate-allreduce-grads-in-fp32");
    } else {
      p.kv(1, "grads", "fp16", "Megatron default with --fp16: gradients in the weights' type");
    }
  }
  p.kv(1, "gemm_input_cache", fp8 ? "fp8" : half,
       fp8 ? "Transformer Engine keeps FP8 GEMM inputs for the weight gradient" : "GEMM inputs kept in " + half);
  p.kv(1, "attention_output_cache", half, "attention runs in " + half + " (no FP8 attention flag mapped)");
  return p;
}

Lines training(Args& args, const Dims& dims) {
  Lines t;
  const bool length = args.given("--train-iters") || args.given("--train-samples");
  const bool batch = args.given("--global-batch-size");
  if (!dims.seq && !(length && batch)) return t;
  t.add(0, "training:");
  if (dims.seq) t.kv(1, "seq_len", *dims.seq, flag_comment(args, "--seq-length"));
  if (!(length && batch)) return t;  // a phase needs both; the flags stay in the not-mapped list
  t.add(1, "phases:");
  t.add(2, "- name: training", "the script's one run");
  if (const auto iters = args.integer("--train-iters", 1)) {
    t.kv(3, "steps", *iters, flag_comment(args, "--train-iters"));
  } else {
    const auto samples = args.integer("--train-samples", 1);
    if (!dims.seq) fail(args.arg("--train-samples"), "needs --seq-length to give the run's tokens");
    t.kv(3, "tokens", count(*samples * *dims.seq),
         fmt::format("{} x --seq-length {}", flag_comment(args, "--train-samples"), *dims.seq));
  }
  const auto gb = args.integer("--global-batch-size", 1);
  t.kv(3, "batch", *gb, flag_comment(args, "--global-batch-size"));
  if (args.given("--rampup-batch-size")) {
    const MegatronArg& r = *args.find("--rampup-batch-size");
    std::array<std::int64_t, 3> v{};
    bool ok = r.values.size() == 3;
    for (std::size_t i = 0; ok && i < 3; ++i) {
      const std::string& s = r.values[i];
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v[i]);
      ok = ec == std::errc{} && end == s.data() + s.size() && v[i] >= 1;
    }
    if (!ok) fail(r, fmt::format("expected three whole numbers (start, increment, samples), got {}", shown(r)));
    if (!dims.seq) fail(r, "needs --seq-length to give the ramp's tokens");
    t.add(3, fmt::format("batch_ramp: {{from: {}, over_tokens: {}}}", v[0], count(v[2] * *dims.seq)),
          fmt::format("{}: ramp samples x seq; linear, not in steps of {}", flag_comment(args, "--rampup-batch-size"),
                      v[1]));
  }
  return t;
}

}  // namespace

std::vector<MegatronArg> group_args(const std::vector<Word>& words, const std::string& file) {
  std::vector<MegatronArg> out;
  for (const Word& w : words) {
    const SourceLoc loc{file.empty() ? "" : file, file.empty() ? 0 : w.line, file.empty() ? 0 : w.column};
    if (w.text.starts_with("--") && w.text.size() > 2) {
      const std::size_t eq = w.text.find('=');
      out.push_back(MegatronArg{.flag = w.text.substr(0, eq), .values = {}, .loc = loc});
      if (eq != std::string::npos) out.back().values.push_back(w.text.substr(eq + 1));
    } else if (!out.empty() && !out.back().flag.empty()) {
      out.back().values.push_back(w.text);
    } else {
      if (out.empty()) out.push_back(MegatronArg{.flag = "", .values = {}, .loc = loc});
      out.back().values.push_back(w.text);
    }
  }
  return out;
}

MegatronFragment megatron_fragment(const std::vector<MegatronArg>& given, const std::vector<std::string>& header) {
  Args args(given);
  Dims dims;
  dims.layers = args.integer("--num-layers", 1);
  dims.seq = args.integer("--seq-length", 1);
  const Lines plan = parallelism(args, dims);
  const Lines mod = model(args, dims);
  const Lines prec = precision(args);
  const Lines train = training(args, dims);

  MegatronFragment f;
  for (const std::string& h : header) f.yaml += "# " + h + "\n";
  for (const Lines* section : {&mod, &plan, &prec, &train}) {
    if (section->empty()) continue;
    f.yaml += "\n" + section->render();
  }
  f.mapped = args.mapped();
  f.unmapped = args.unmapped();
  if (!f.unmapped.empty()) {
    f.yaml += "\n# not mapped (no scenario field, or no effect on the step):\n";
    std::string line = "#  ";
    for (std::size_t i = 0; i < f.unmapped.size(); ++i) {
      const std::string item = f.unmapped[i] + (i + 1 < f.unmapped.size() ? "," : "");
      if (line.size() + 1 + item.size() > 110 && line.size() > 3) {
        f.yaml += line + "\n";
        line = "#  ";
      }
      line += " " + item;
    }
    f.yaml += line + "\n";
  }
  return f;
}

}  // namespace tcsim::importers
