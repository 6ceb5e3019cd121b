#include <charconv>
#include <string>
#include <vector>

#include "scenarios/reader.h"
#include "scenarios/resolve.h"
#include "scenarios/rules.h"

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

// Of several keys under `parent`, the one written last: a --set override,
// else one in the top-level file, else any (the message points at it).
std::string latest_of(const Node& doc, const std::string& parent, const std::vector<std::string>& keys) {
  const Node& map = locate(doc, parent);
  std::string best = parent + "." + keys.front();
  int best_rank = -1;
  for (const std::string& k : keys) {
    const Node* n = map.find(k);
    if (n == nullptr) continue;
    const int rank = n->loc.file == "--set" ? 2 : n->loc.file == doc.loc.file ? 1 : 0;
    if (rank >= best_rank) {
      best_rank = rank;
      best = parent + "." + k;
    }
  }
  return best;
}

}  // namespace

// The first rule the scenario breaks (scenarios/rules.h), at its place in the
// files that made the scenario.
void validate(const Scenario& s, const Node& doc) {
  const std::vector<RuleBreak> breaks = scenario_breaks(s);
  if (breaks.empty()) return;
  const RuleBreak& b = breaks.front();
  const std::string path = b.keys.empty() ? b.path : latest_of(doc, b.path, b.keys);
  fail(locate(doc, path), path, b.message);
}

}  // namespace tcsim::scenario
