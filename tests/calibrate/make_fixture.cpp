// Writes the committed fixture tests/calibrate/data/synthetic-h100.csv to
// standard output: SYNTHETIC samples from the known parameters of
// synthetic.h (FixtureTruth), not a GPU measurement. Regenerate with
//   build/tests/calibrate/tcsim_calibrate_fixture > tests/calibrate/data/synthetic-h100.csv
#include <fmt/format.h>

#include "tests/calibrate/synthetic.h"

int main() {
  fmt::print("{}", tcsim_test::fixture_text());
  return 0;
}
