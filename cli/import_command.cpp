// `tcsim import megatron`: a Megatron-LM launch (its arguments, or a shell
// script that runs it) as a scenario fragment (importers/megatron.h).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text_file.h"
#include "importers/megatron.h"
#include "importers/shell_words.h"

namespace tcsim::cli {
namespace {

constexpr std::string_view kImportHelp =
    R"(Usage: tcsim import megatron [--file SCRIPT.sh] [--out FRAGMENT.yaml] [--] [MEGATRON ARGS...]

Reads a Megatron-LM (or NeMo Megatron-Core) launch and prints the tcsim scenario fragment it
describes: `parallelism:` always (Megatron's defaults where a flag is absent), and where the
arguments give them `model:` (--num-layers, --hidden-size, --num-attention-heads,
--ffn-hidden-size, --num-experts, ...), `precision:` (--bf16, --fp16, --fp8-format) and
`training:` (--seq-length; a phase from --train-iters or --train-samples with
--global-batch-size). Each value carries a comment naming the flag it came from; flags with
no scenario field are listed at the end as "not mapped". The fragment has no hardware: put it
under `extends: BASE.yaml` (or --set the rest), and the GPU count sets the data-parallel size.

  --file SCRIPT.sh      read the arguments of the script's training command (the command that
                        runs a .py program with the most arguments), following `\` line
                        continuations, quotes, comments and NAME=value / NAME=(...) assignments
                        expanded as $NAME, ${NAME}, ${NAME[@]}, ${NAME:-default}; nothing is run
  --out FRAGMENT.yaml   write the fragment there (whole or not at all) instead of printing it
  --                    every later argument is Megatron's
  -h, --help            this text

Arguments given after --file are read after the script's, so they win. A value a mapped flag
cannot take (a degree that is not a whole number, an unknown --recompute-granularity) exits 2
naming the flag, and its file:line:column in a script (docs/import.md).
)";

// A launch script is a page or two; a larger file is not one.
constexpr std::uintmax_t kMaxScriptBytes = std::uintmax_t{1} << 20;

}  // namespace

int import_command(std::span<const std::string> args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    fmt::print("{}", kImportHelp);
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "megatron") {
    throw ConfigError(
        fmt::format("import: unknown source \"{}\" (tcsim import megatron; see tcsim import --help)", args[0]));
  }
  std::optional<std::string> file;
  std::optional<std::string> out;
  std::vector<importers::Word> words;
  bool rest = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&](std::string_view flag) -> std::optional<std::string> {
      if (rest) return std::nullopt;
      if (a == flag) {
        if (i + 1 >= args.size() || args[i + 1].empty()) {
          throw ConfigError(fmt::format("import megatron: {} needs a value", flag));
        }
        return args[++i];
      }
      if (a.starts_with(std::string(flag) + "=")) return a.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (!rest && (a == "--help" || a == "-h")) {
      fmt::print("{}", kImportHelp);
      return 0;
    }
    if (!rest && a == "--") {
      rest = true;
    } else if (auto f = value("--file")) {
      file = *f;
    } else if (auto o = value("--out")) {
      out = *o;
    } else {
      words.push_back(importers::Word{.text = a, .line = 0, .column = 0});
    }
  }

  std::vector<std::string> header{"tcsim scenario fragment from Megatron-LM arguments (tcsim import megatron)"};
  std::vector<importers::MegatronArg> megatron;
  if (file) {
    const std::string text = read_text_file(*file, kMaxScriptBytes, "the launch script");
    const importers::ScriptCommand c = importers::python_command(text, *file);
    header.push_back(
        fmt::format("from {}:{}: {} and the {} words after it", *file, c.program.line, c.program.text, c.args.size()));
    if (!c.launcher.empty()) {
      std::vector<std::string> launcher;
      for (const importers::Word& w : c.launcher) launcher.push_back(w.text);
      header.push_back(
          fmt::format("launcher (not mapped: the scenario's hardware sets the GPUs): {}", fmt::join(launcher, " ")));
    }
    megatron = importers::group_args(c.args, *file);
  }
  if (!words.empty()) {
    header.push_back(fmt::format("{} command-line words{}", words.size(), file ? ", read after the script's" : ""));
    for (importers::MegatronArg& a : importers::group_args(words, "")) megatron.push_back(std::move(a));
  }
  if (megatron.empty()) {
    throw ConfigError("import megatron: no arguments: give Megatron's flags, or --file SCRIPT.sh (see --help)");
  }
  header.push_back("Extend a scenario that sets the hardware with it (extends: BASE.yaml); keys it leaves out come");
  header.push_back("from there, and Megatron's defaults stand for flags the launch leaves out (docs/import.md).");
  const importers::MegatronFragment f = importers::megatron_fragment(megatron, header);
  if (out) {
    write_file_atomically(*out, f.yaml, "--out");
    fmt::print("Wrote {}: {} flags mapped, {} not mapped\n", *out, f.mapped.size(), f.unmapped.size());
  } else {
    fmt::print("{}", f.yaml);
  }
  return 0;
}

}  // namespace tcsim::cli
