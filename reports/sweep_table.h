// A sweep's table: one row per variant (study/variant_space.h numbers them,
// study/variant.h evaluates them) in CSV or JSON lines; written row by row,
// read back for resume and merge. The CLI (cli/sweep_command.cpp) runs the
// variants.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "study/variant.h"

namespace tcsim::reports {

enum class SweepFormat { csv, jsonl };
// By the file name: ".jsonl" is JSON lines, ".csv" is CSV; anything else is a
// ConfigError.
SweepFormat sweep_format(std::string_view path);

// One row: a variant's id, its values and its result.
struct SweepRow {
  std::int64_t id = 0;
  std::vector<std::string> values;  // one per varied path
  study::VariantResult result;
  // What decided the row besides its values (sweep_settings), so a resume or a
  // merge never mixes rows of two sweeps that share their --vary.
  std::string settings;
};

// A fingerprint of everything that decides a sweep's rows besides the varied
// values: `text` holds them (the scenario's text, the --set overrides, depth,
// step oracle, seed, the tool's version); 16 hex digits of its 64-bit FNV-1a.
std::string sweep_settings(std::string_view text);

// The SI unit of a varied path's values, for a column of plain numbers
// beside the typed text: "bytes_per_s" when every value is a bandwidth
// ("100 GB/s"), likewise bytes, flops_per_s, flops, s, w, usd, gpu_hours,
// usd_per_gpu_hour, usd_per_kwh; "" when the values are plain numbers already
// or not all quantities of one kind.
std::string si_unit(std::span<const std::string> values);

// The columns: id, the varied paths, then for each path with an SI unit (a
// parallel list; empty: none) "<path>_<unit>", then status, reason, the
// figures (memory_gib .. rnd_p50_usd), oracle and settings (the last column).
std::vector<std::string> sweep_columns(std::span<const std::string> paths, std::span<const std::string> si_units = {});
// CSV: the header line; JSON lines: "" (each object names its keys).
std::string format_header(std::span<const std::string> paths, SweepFormat format,
                          std::span<const std::string> si_units = {});
// One row with its line ending. Numbers print in their shortest text that
// reads back to the same double; a figure the variant lacks is an empty CSV
// field or JSON null. Varied values are JSON numbers when their text is one;
// an SI column holds the value in its unit.
std::string format_row(const SweepRow& row, std::span<const std::string> paths, SweepFormat format,
                       std::span<const std::string> si_units = {});

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
// Throws ConfigError when the tables' columns differ, one id has two
// different records, or records carry different settings (their last
// column); `names` (one per table) name the files in messages.
// Tables with no columns (empty files) are skipped.
MergedTable merge_tables(std::span<const SweepTable> tables, std::span<const std::string> names);

// The text of a table: the CSV header line, then each record's text.
std::string format_table(std::span<const std::string> columns, std::span<const SweepRecord> records,
                         SweepFormat format);

}  // namespace tcsim::reports
