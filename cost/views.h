// The accounting views, side by side: what "the cost" of a training run is
// depends on what is counted, and each view says what it counts and on what
// evidence (docs/costs.md "Accounting views").
//
//   1 headline      the published GPU-hours x the published rental rate
//   2 final run     tcsim's simulated GPU-hours, at rental and on owned hardware
//   3 development   the final run + the R&D items (cost.rnd), Monte Carlo
//   4 company       the fleets the company held over the development period,
//                   amortised like view 2 (cost.company); published spend
//                   brackets beside it, never added
//   5 context       a peer's published run (cost.context), priced the same ways
//
// A view the scenario gives no inputs for is listed with the reason.
#pragma once

#include <string>
#include <vector>

#include "core/random.h"
#include "core/units.h"
#include "cost/monte_carlo.h"
#include "scenarios/scenario.h"

namespace tcsim::cost {

struct Ledger;

// One line of a view: a part of its total, a bracket beside it, or another
// figure for the same thing.
struct ViewPart {
  enum class Role { part, bracket, reference };
  std::string name;
  Spread<Dollars> usd;  // p10 == p50 == p90 == mean when exact
  bool spread = false;
  Role role = Role::part;
  std::string how;     // the arithmetic
  std::string source;  // the evidence
  std::string tag;     // exact, derived, estimate, assumption; empty for tcsim's own figures
};

struct AccountingView {
  int number = 0;    // 1 to 5
  std::string id;    // headline, final_run_rental, final_run_owned, development, company, peer
  std::string name;  // as a reader sees it
  std::string counts;
  bool given = false;
  std::string missing;  // why not, when !given
  Spread<Dollars> usd;
  bool spread = false;
  std::vector<std::string> sources;
  std::vector<ViewPart> parts;
};

// The views for a priced run. `samples` and `seed` drive the company view's
// Monte Carlo over the development period (the R&D view has its own in
// ledger.rnd).
std::vector<AccountingView> accounting_views(const scenario::CostSpec& cost, const Ledger& ledger,
                                             const RndOptions& options);

}  // namespace tcsim::cost
