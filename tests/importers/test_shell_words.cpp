// Launch scripts read as the shell splits them, without running them.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "importers/shell_words.h"

namespace {

using tcsim::importers::python_command;

std::vector<std::string> texts(const std::vector<tcsim::importers::Word>& words) {
  std::vector<std::string> out;
  for (const auto& w : words) out.push_back(w.text);
  return out;
}

}  // namespace

TEST_CASE("continuations, quotes, comments and assignments expand as the shell would") {
  const std::string script =
      "#!/bin/bash\n"
      "export TP=4   # tensor parallel\n"
      "NAME=\"my run\"\n"
      "ARGS=(--a 1\n  --b \"two words\")\n"
      "ARGS+=(--c ${UNSET:-'dflt'})\n"
      "python prepare.py --x 1\n"
      "torchrun --nproc_per_node 8 pretrain_gpt.py \\\n"
      "  --tp $TP --name \"$NAME\" ${ARGS[@]} --keep $1 --sub $(date) 'lit $TP' \\\n"
      "  --joined=${TP}0\n";
  const auto c = python_command(script, "s.sh");
  CHECK(c.program.text == "pretrain_gpt.py");
  CHECK(c.program.line == 8);
  CHECK(texts(c.launcher) == std::vector<std::string>{"torchrun", "--nproc_per_node", "8"});
  // An unquoted ${ARGS[@]} splits its elements again, as bash does: "two words" becomes two words.
  CHECK(texts(c.args) == std::vector<std::string>{"--tp", "4", "--name", "my run", "--a", "1", "--b", "two", "words",
                                                  "--c", "dflt", "--keep", "$1", "--sub", "$(date)", "lit $TP",
                                                  "--joined=40"});
  // Words keep their line and column: "--joined" opens line 10 at column 3.
  CHECK(c.args.back().line == 10);
  CHECK(c.args.back().column == 3);
}

TEST_CASE("a quote left open, or no Python command, is refused with its place") {
  CHECK_THROWS_WITH_AS(python_command("python a.py --x 'open\n", "s.sh"), "s.sh:1:17: a single quote is never closed",
                       tcsim::ConfigError);
  CHECK_THROWS_WITH_AS(python_command("echo hi\n", "s.sh"), doctest::Contains("s.sh: no command in it runs a .py"),
                       tcsim::ConfigError);
}
