// Megatron-LM (and NeMo's Megatron-Core) launch arguments as a tcsim
// scenario fragment: `parallelism:`, and where the arguments give them
// `model:`, `precision:` and `training:`, each value with a comment naming
// the flag it came from (or the Megatron default it stands for). Flags that
// map to nothing are listed in a trailing comment, never dropped.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"
#include "importers/shell_words.h"

namespace tcsim::importers {

// One flag with the words that follow it up to the next flag ("--flag=value"
// gives one word); `loc.file` is empty for arguments typed on the command line.
struct MegatronArg {
  std::string flag;  // "--tensor-model-parallel-size"; empty for words before any flag
  std::vector<std::string> values;
  SourceLoc loc;
};

// `words` grouped by flag, in order.
std::vector<MegatronArg> group_args(const std::vector<Word>& words, const std::string& file);

struct MegatronFragment {
  std::string yaml;                   // the fragment, with its comments
  std::vector<std::string> mapped;    // the flags it used, in order of first use
  std::vector<std::string> unmapped;  // "--flag value...", as given
};

// The fragment for `args` (the last of a repeated flag wins, as in
// Megatron's argparse). `header` lines open it as comments. Throws
// ConfigError naming the flag (and its file:line when it came from a
// script) for a value that is not what the flag takes.
MegatronFragment megatron_fragment(const std::vector<MegatronArg>& args, const std::vector<std::string>& header);

}  // namespace tcsim::importers
