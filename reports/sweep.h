// A sweep: the cross product of a few varied scenario fields, each variant
// evaluated (reports/variant.h) into one row of a CSV or JSON-lines table.
// This file holds what does not need threads or files: parsing `--vary`,
// numbering the cross product, writing a row, and reading a table back for
// resume and merge. The CLI (cli/sweep_command.cpp) runs the variants.
//
// Ids: the first --vary is the outermost loop, the last the innermost, so
// with `--vary a=1,2 --vary b=x,y,z` ids 0..5 are (1,x) (1,y) (1,z) (2,x)
// (2,y) (2,z). An id names the same variant as long as the --vary flags stay
// the same.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "reports/variant.h"

namespace tcsim::reports {

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

enum class SweepFormat { csv, jsonl };
// By the file name: ".jsonl" is JSON lines, ".csv" is CSV; anything else is a
// ConfigError.
SweepFormat sweep_format(std::string_view path);

// One row: a variant's id, its values and its result.
struct SweepRow {
  std::int64_t id = 0;
  std::vector<std::string> values;  // one per varied path
  VariantResult result;
};

// The columns: id, the varied paths, status, reason, then the figures
// (memory_gib .. rnd_p50_usd) and oracle.
std::vector<std::string> sweep_columns(std::span<const std::string> paths);
// CSV: the header line; JSON lines: "" (each object names its keys).
std::string format_header(std::span<const std::string> paths, SweepFormat format);
// One row with its line ending. Numbers print in their shortest text that
// reads back to the same double; a figure the variant lacks is an empty CSV
// field or JSON null. Varied values are JSON numbers when their text is one.
std::string format_row(const SweepRow& row, std::span<const std::string> paths, SweepFormat format);

// RFC 4180: `field` quoted when it holds a comma, a quote, CR or LF, with
// quotes doubled.
std::string csv_field(std::string_view field);

// A sweep table read back.
struct SweepRecord {
  std::int64_t id = 0;
  std::vector<std::string> fields;  // decoded, in column order; JSON null is ""
  std::string text;                 // as written, ending in '\n'
};
struct SweepTable {
  std::vector<std::string> columns;  // empty when no header (or first JSON row) is complete
  std::vector<SweepRecord> records;  // complete records, in file order
  // Bytes of the text up to the end of the last complete record: less than
  // the text's size when a write was cut short (a killed sweep).
  std::size_t complete_bytes = 0;
  bool truncated = false;
};
// Parses a table; `name` names the file in messages. A last record without
// its line ending (or in an open quote) is the one a kill cut short: it is
// left out and `truncated` set. Anything else malformed (a wrong field count,
// an id that is not a whole number, a JSON line that is not a flat object
// with the first line's keys) is a ConfigError naming the line.
SweepTable parse_table(std::string_view text, SweepFormat format, std::string_view name);

// Tables merged: every record once, sorted by id.
struct MergedTable {
  std::vector<std::string> columns;
  std::vector<SweepRecord> records;
  std::int64_t duplicates = 0;        // records dropped as exact copies of another
  std::vector<std::int64_t> missing;  // the first ten ids absent from 0..max id
  std::int64_t missing_count = 0;
};
// Throws ConfigError when the tables' columns differ or one id has two
// different records; `names` (one per table) name the files in messages.
// Tables with no columns (empty files) are skipped.
MergedTable merge_tables(std::span<const SweepTable> tables, std::span<const std::string> names);

// The text of a table: the CSV header line, then each record's text.
std::string format_table(std::span<const std::string> columns, std::span<const SweepRecord> records,
                         SweepFormat format);

}  // namespace tcsim::reports
