// The variants of a sweep: the cross product of a few varied scenario
// fields (--vary), numbered so an id names the same variant as long as the
// --vary flags stay the same.
//
// Ids: the first --vary is the outermost loop, the last the innermost, so
// with `--vary a=1,2 --vary b=x,y,z` ids 0..5 are (1,x) (1,y) (1,z) (2,x)
// (2,y) (2,z).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tcsim::study {

// One --vary flag: a scenario path and its values, in the order given.
struct Variation {
  std::string path;
  std::vector<std::string> values;
};

// Splits `text` at commas outside {...}, [...], (...) and quotes, trimming
// blanks around each item: "{dp: 32, cp: 4},{dp: 16, cp: 8}" gives two items.
// Throws ConfigError for unbalanced brackets or quotes and for empty items.
std::vector<std::string> split_values(std::string_view text);

// "START:STOP:STEP" with whole or decimal numbers: the values from START to
// STOP inclusive (STOP when a whole number of steps reaches it), in STEP's
// direction; "1:4:1" gives 1 2 3 4, "0.5:1:0.25" gives 0.5 0.75 1. A unit may
// stand around the numbers: "100:300:100 GB/s" gives "100 GB/s" .. "300 GB/s",
// "$1.5:2:0.5/GPU-h" gives "$1.5/GPU-h" "$2/GPU-h". Returns empty when `item`
// is not a range; throws ConfigError for a bad one (zero step, a step away
// from STOP, over a million values).
std::vector<std::string> expand_range(std::string_view item);

// Parses "PATH=V1,V2,..." (each value YAML as --set takes it, or a range).
// Throws ConfigError for a missing '=', an empty path or value, or a value
// given twice.
Variation parse_variation(std::string_view arg);

// The cross product of the variations, numbered as the file comment says.
class VariantSpace {
 public:
  // Throws ConfigError when a path is varied twice or the product overflows.
  explicit VariantSpace(std::vector<Variation> variations);

  std::int64_t size() const { return size_; }
  const std::vector<Variation>& variations() const { return variations_; }
  std::vector<std::string> paths() const;
  // The value of each variation for variant `id` (0 <= id < size()).
  std::vector<std::string> values(std::int64_t id) const;
  // The "PATH=VALUE" overrides of variant `id`, for scenario::load_scenario.
  std::vector<std::string> overrides(std::int64_t id) const;
  // The canonical text of variant `id`'s assignments: "a=1 b={dp: 32, cp: 4}".
  std::string key(std::int64_t id) const;

 private:
  std::vector<Variation> variations_;
  std::int64_t size_ = 1;
};

}  // namespace tcsim::study
