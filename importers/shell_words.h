// The arguments a launch script passes to its Python program, read without
// running the script: `\` line continuations, quotes, comments, and simple
// assignments (NAME=value, NAME=(words...), NAME+=(words...), `export`)
// expanded where they are used ($NAME, ${NAME}, ${NAME[@]}, ${NAME:-default}).
// Nothing else of the shell is evaluated: command substitutions, arithmetic
// and positional parameters ($1) stay as written, and conditionals are not
// tested (an assignment inside an `if` counts as if it ran).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tcsim::importers {

// One word after expansion, with where it was written (1-based).
struct Word {
  std::string text;
  int line = 0;
  int column = 0;
};

// The command that runs a Python program (`torchrun ... pretrain_gpt.py ARGS`).
struct ScriptCommand {
  std::vector<Word> launcher;  // the words before the program (torchrun and its flags)
  Word program;                // the first word ending in ".py"
  std::vector<Word> args;      // the words after it
};

// Of every command in `text` that runs a `.py` program, the one with the
// most arguments after it (a training launch, not a data-preparation step).
// Throws ConfigError "FILE:LINE:COLUMN: ..." for a quote or substitution left
// open, and "FILE: ..." when no command runs a .py program.
ScriptCommand python_command(std::string_view text, const std::string& file);

}  // namespace tcsim::importers
