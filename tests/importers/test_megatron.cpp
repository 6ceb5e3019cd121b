// Megatron-LM launches as scenario fragments: NVIDIA's own example scripts
// (tests/data/megatron/SOURCES.md) read, mapped flag by flag, and loaded over
// a built-in scenario.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/text_file.h"
#include "importers/megatron.h"
#include "importers/shell_words.h"
#include "model/spec.h"
#include "scenarios/loader.h"

namespace {

using tcsim::importers::group_args;
using tcsim::importers::megatron_fragment;
using tcsim::importers::MegatronFragment;
using tcsim::importers::python_command;
using tcsim::importers::Word;

std::string data(const std::string& name) { return std::string(TCSIM_TEST_DATA) + "/megatron/" + name; }

MegatronFragment from_script(const std::string& name) {
  const std::string path = data(name);
  const std::string text = tcsim::read_text_file(path, 1 << 20, "script");
  return megatron_fragment(group_args(python_command(text, path).args, path), {});
}

MegatronFragment from_words(const std::vector<std::string>& words) {
  std::vector<Word> w;
  for (const std::string& t : words) w.push_back(Word{.text = t, .line = 0, .column = 0});
  return megatron_fragment(group_args(w, ""), {});
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The fragment under `extends: BASE`, loaded as a scenario file would be.
tcsim::scenario::Scenario load_over(const std::string& base, const std::string& fragment) {
  return tcsim::scenario::load_scenario_text("extends: " + base + "\n" + fragment, "fragment.yaml");
}

}  // namespace

TEST_CASE("NVIDIA's GPT-3 175B script reads as TP8 PP16 with every value naming its flag") {
  const MegatronFragment f = from_script("train_gpt3_175b_distributed.sh");
  CHECK(has(f.yaml, "tp: 8"));
  CHECK(has(f.yaml, "# --tensor-model-parallel-size 8"));
  CHECK(has(f.yaml, "pp: 16"));
  CHECK(has(f.yaml, "# --pipeline-model-parallel-size 16"));
  CHECK(has(f.yaml, "layers: 96"));
  CHECK(has(f.yaml, "# --num-layers 96"));
  // No --use-distributed-optimizer, no recompute flag: Megatron's defaults, said as such.
  CHECK(has(f.yaml, "zero: 0"));
  CHECK(has(f.yaml, "Megatron default: no --use-distributed-optimizer"));
  CHECK(has(f.yaml, "recompute: none"));
  // --fp16 sets the 16-bit type; the script gives no FP8.
  CHECK(has(f.yaml, "gemm: fp16"));
  // Megatron's GeLU default width: 4 x 12288 = 49152; head dim 12288 / 96 = 128.
  CHECK(has(f.yaml, "intermediate: 49152"));
  CHECK(has(f.yaml, "head_dim: 128"));
  // The ramp: 5,859,375 samples x 2048 tokens = 12,000,000,000 tokens.
  CHECK(has(f.yaml, "batch_ramp: {from: 16, over_tokens: \"12B\"}"));
  // Flags with no field are listed, with their values as the script left them.
  CHECK(has(f.yaml, "# not mapped"));
  CHECK(has(f.yaml, "--lr 6.0e-5"));
  CHECK(has(f.yaml, "--data-path $5"));
  CHECK(has(f.yaml, "--attention-backend auto"));
}

TEST_CASE("the GPT-3 fragment loads over the Megatron-LM A100 scenario with dp = 1024 / (8 x 16) = 8") {
  const auto s = load_over("builtin:megatron-lm-a100", from_script("train_gpt3_175b_distributed.sh").yaml);
  CHECK(s.parallelism.tp == 8);
  CHECK(s.parallelism.pp == 16);
  CHECK(s.parallelism.dp == 8);  // 1024 GPUs / (tp 8 x pp 16 x cp 1)
  CHECK(s.parallelism.zero == 0);
  CHECK(s.model.layers == 96);
  CHECK(s.model.hidden == 12288);
  CHECK(s.model.attention.heads == 96);
  CHECK(s.model.ffn_intermediate == 4 * 12288);
  CHECK_FALSE(s.model.moe.has_value());
  CHECK(s.training.seq_len == 2048);
  REQUIRE(s.training.phases.size() == 1);
  CHECK(s.training.phases[0].steps == 500000);
  CHECK(s.training.phases[0].batch == 1536);
}

TEST_CASE("NVIDIA's Mixtral 8x7B script reads as a GQA MoE model with EP8 and the distributed optimizer") {
  const MegatronFragment f = from_script("train_mixtral_8x7b_distributed.sh");
  CHECK(has(f.yaml, "ep: 8"));
  CHECK(has(f.yaml, "zero: 1"));
  // --sequence-parallel at TP1: Megatron turns it off, and so does the fragment.
  CHECK(has(f.yaml, "sequence_parallel: false"));
  CHECK(has(f.yaml, "which Megatron turns off at tensor-parallel size 1"));
  CHECK(has(f.yaml, "overlap_param_gather: true"));
  // The array appended inside `if` counts as if the branch ran, its defaults expanded.
  CHECK(has(f.yaml, "--wandb-project Mixtral"));
  CHECK(has(f.yaml, "--tensorboard-dir $1/tensorboard"));

  const auto s = load_over("builtin:megatron-lm-a100", f.yaml);
  CHECK(s.parallelism.tp == 1);
  CHECK(s.parallelism.pp == 4);
  CHECK(s.parallelism.ep == 8);
  CHECK(s.parallelism.dp == 256);  // 1024 / (1 x 4 x 1)
  CHECK(s.model.attention.kind == tcsim::model::AttentionKind::gqa);
  CHECK(s.model.attention.kv_heads == 8);
  CHECK(s.model.attention.head_dim == 128);  // 4096 / 32
  CHECK(s.model.ffn == tcsim::model::FfnKind::swiglu);
  REQUIRE(s.model.moe.has_value());
  CHECK(s.model.moe->routed == 8);
  CHECK(s.model.moe->per_token == 2);
  CHECK(s.model.moe->expert_intermediate == 14336);  // --moe-ffn-hidden-size defaults to --ffn-hidden-size
  CHECK(s.model.moe->shared == 0);
  CHECK_FALSE(s.model.biases);
  CHECK_FALSE(s.model.tied_embeddings);
  CHECK(s.precision.gemm == tcsim::model::Dtype::bf16);
  CHECK(s.precision.grads == tcsim::model::Dtype::fp32);
}

TEST_CASE("--num-layers-per-virtual-pipeline-stage gives virtual_stages = layers / pp / that") {
  // 96 layers / pp 16 / 2 layers per chunk = 3 chunks per pipeline rank.
  const MegatronFragment f =
      from_words({"--num-layers", "96", "--pipeline-model-parallel-size", "16",
                  "--num-layers-per-virtual-pipeline-stage", "2", "--tensor-model-parallel-size=8"});
  CHECK(has(f.yaml, "virtual_stages: 3"));
  CHECK(has(f.yaml, "schedule: interleaved-1f1b"));
  const auto s = load_over("builtin:megatron-lm-a100", f.yaml);
  CHECK(s.parallelism.virtual_stages == 3);
  CHECK(s.parallelism.schedule == tcsim::model::Schedule::interleaved_1f1b);
  // A partial model keeps the base's other fields (GPT-3 175B's 12288 hidden).
  CHECK(s.model.hidden == 12288);

  CHECK(has(from_words({"--virtual-pipeline-model-parallel-size", "4"}).yaml, "virtual_stages: 4"));
  // 96 layers do not split into 16 stages of chunks of 5.
  CHECK_THROWS_WITH_AS(from_words({"--num-layers", "96", "--pipeline-model-parallel-size", "16",
                                   "--num-layers-per-virtual-pipeline-stage", "5"}),
                       doctest::Contains("--num-layers-per-virtual-pipeline-stage"), tcsim::ConfigError);
}

TEST_CASE("recompute, FP8 and the plan's switches map to their scenario fields") {
  const MegatronFragment f =
      from_words({"--tensor-model-parallel-size", "8", "--sequence-parallel", "--recompute-granularity", "full",
                  "--fp8-format", "hybrid", "--bf16", "--use-distributed-optimizer", "--micro-batch-size", "2"});
  const auto s = load_over("builtin:deepseek-v3", f.yaml);
  CHECK(s.parallelism.recompute == tcsim::model::Recompute::full);
  CHECK(s.parallelism.sequence_parallel);
  CHECK(s.parallelism.micro_batch == 2);
  CHECK(s.parallelism.zero == 1);
  // The base's DualPipe is not Megatron's: the fragment sets 1F1B.
  CHECK(s.parallelism.schedule == tcsim::model::Schedule::one_f_one_b);
  CHECK(s.precision.gemm == tcsim::model::Dtype::fp8);
  CHECK(s.precision.weights == tcsim::model::Dtype::bf16);
  CHECK(has(from_words({"--recompute-activations"}).yaml, "recompute: selective"));
}

TEST_CASE("a malformed value is refused naming the flag, with its place in a script") {
  CHECK_THROWS_WITH_AS(from_words({"--tensor-model-parallel-size", "eight"}),
                       "import megatron: --tensor-model-parallel-size: expected a whole number, got \"eight\"",
                       tcsim::ConfigError);
  CHECK_THROWS_WITH_AS(from_words({"--pipeline-model-parallel-size", "0"}),
                       doctest::Contains("--pipeline-model-parallel-size: expected a whole number of at least 1"),
                       tcsim::ConfigError);
  CHECK_THROWS_WITH_AS(from_words({"--recompute-granularity", "most"}),
                       doctest::Contains("--recompute-granularity: expected one of full, selective, got \"most\""),
                       tcsim::ConfigError);
  CHECK_THROWS_WITH_AS(from_words({"--sequence-parallel", "yes"}),
                       doctest::Contains("--sequence-parallel: takes no value"), tcsim::ConfigError);
  // From a script: the flag's file, line and column.
  const std::string script = "TP=eight\npython pretrain_gpt.py --num-layers 2 \\\n  --tensor-model-parallel-size $TP\n";
  CHECK_THROWS_WITH_AS(megatron_fragment(group_args(python_command(script, "run.sh").args, "run.sh"), {}),
                       "run.sh:3:3: --tensor-model-parallel-size: expected a whole number, got \"eight\"",
                       tcsim::ConfigError);
}

TEST_CASE("every flag is mapped or listed as not mapped, never dropped") {
  const MegatronFragment f = from_script("train_mixtral_8x7b_distributed.sh");
  const std::string path = data("train_mixtral_8x7b_distributed.sh");
  const auto args = group_args(python_command(tcsim::read_text_file(path, 1 << 20, "script"), path).args, path);
  for (const auto& a : args) {
    bool found = false;
    for (const std::string& m : f.mapped) found = found || m == a.flag;
    for (const std::string& u : f.unmapped) found = found || u.starts_with(a.flag + " ") || u == a.flag;
    CHECK_MESSAGE(found, a.flag);
  }
  CHECK(f.mapped.size() + f.unmapped.size() == args.size());  // no flag repeats in this script
}
