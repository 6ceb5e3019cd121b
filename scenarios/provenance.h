// Where a scenario's sourced values came from, checked on the merged tree
// before it is resolved (after `extends` and --set):
// - A value whose source was written somewhere else (a --set, or a file that
//   extends the one with the source) keeps no inherited source: the source
//   becomes "user value ..., no source given" and its tag `assumption`, so a
//   report never shows the replaced value's citation beside the user's figure.
//   A source written after its value (a user restating where it comes from)
//   is the user's own and stays.
// - Cost sections that describe one model's programme (the published
//   headline, the R&D items, the company's fleet) written in another file
//   than the one that set the model are noted as inherited.
// The notes travel with the scenario (Scenario::notes) and into the
// resolved YAML a report writes (`notes:`), so a report from that file says
// the same.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "scenarios/tree.h"

namespace tcsim::scenario {

// Relabels `doc` in place as above; returns one note per value relabelled
// and per inherited section, in document order. `newest_first` names the
// places values came from, the latest first ("--set", then the leaf file,
// then each file it extends, as locations name them).
std::vector<std::string> check_provenance(Node& doc, std::span<const std::string> newest_first);

}  // namespace tcsim::scenario
