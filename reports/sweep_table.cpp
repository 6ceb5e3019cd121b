#include "reports/sweep_table.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "core/quoted.h"
#include "core/text.h"
#include "reports/figures.h"
#include "reports/json.h"
#include "scenarios/quantity.h"

namespace tcsim::reports {
namespace {

std::string number_text(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return "";
  return fmt::format("{}", *v);
}

// The figures of a row after status and reason, in column order.
constexpr std::string_view kFigures[] = {
    "memory_gib", "capacity_gib", "step_s",    "tokens_per_s_per_gpu", "mfu",       "exposed_comm_s",
    "bubble_s",   "gpu_hours",    "wall_days", "final_run_usd",        "owned_usd", "rnd_p50_usd",
};

std::vector<std::optional<double>> figures(const study::VariantResult& r) {
  // The memory budget was computed when the capacity is known (a scenario
  // that failed to load has neither).
  const bool memory = r.capacity.value() > 0;
  return {memory ? std::optional(in_gib(r.memory)) : std::nullopt,
          memory ? std::optional(in_gib(r.capacity)) : std::nullopt,
          raw(r.step),
          r.tokens_per_s_per_gpu,
          r.mfu,
          raw(r.exposed_comm),
          raw(r.bubble),
          raw(r.gpu_hours),
          days(r.wall),
          raw(r.final_run),
          raw(r.owned),
          raw(r.rnd_p50)};
}

// A varied value in JSON: a number when its text is one that prints back the
// same, otherwise a string, so the text survives a round trip.
Json value_json(const std::string& text) {
  std::int64_t i = 0;
  const char* end = text.data() + text.size();
  if (auto [p, ec] = std::from_chars(text.data(), end, i); ec == std::errc() && p == end) {
    if (fmt::format("{}", i) == text) return Json(i);
  }
  double d = 0;
  if (auto [p, ec] = std::from_chars(text.data(), end, d); ec == std::errc() && p == end && std::isfinite(d)) {
    if (fmt::format("{}", d) == text) return Json(d);
  }
  return Json(text);
}

Json optional_string(const std::string& s) { return s.empty() ? Json() : Json(s); }

// One row on one line: a line break inside a field (a multi-line error
// message) is written as a space, so a row cut short by a kill is always
// the file's last line and nothing else reads as one.
std::string csv_line(std::span<const std::string> fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    std::string field = fields[i];
    std::replace_if(
        field.begin(), field.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    out += csv_field(field);
  }
  out += '\n';
  return out;
}

std::int64_t parse_id(const std::string& text, std::string_view name, int line) {
  std::int64_t id = -1;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, id);
  if (ec != std::errc() || p != end || id < 0) {
    throw ConfigError(fmt::format("{}:{}: id: expected a non-negative whole number, got \"{}\"", name, line, text));
  }
  return id;
}

// ---- CSV ------------------------------------------------------------------

SweepTable parse_csv(std::string_view text, std::string_view name) {
  SweepTable t;
  std::vector<std::string> fields;
  std::string field;
  bool in_quotes = false;
  int quote_line = 0;        // where the open quote began
  bool quote_spans = false;  // the open quote holds a line break
  bool pending = false;      // a record has started
  std::size_t record_start = 0;
  int line = 1;
  int record_line = 1;
  const auto finish_record = [&](std::size_t end) {
    fields.push_back(std::move(field));
    field.clear();
    const bool blank = fields.size() == 1 && fields[0].empty();
    if (!blank) {
      if (t.columns.empty()) {
        t.columns = std::move(fields);
        if (t.columns.front() != "id") {
          throw ConfigError(
              fmt::format("{}:1: not a sweep table: the first column is \"{}\", not id", name, t.columns.front()));
        }
      } else {
        if (fields.size() != t.columns.size()) {
          throw ConfigError(
              fmt::format("{}:{}: expected {} fields, got {}", name, record_line, t.columns.size(), fields.size()));
        }
        SweepRecord r;
        r.id = parse_id(fields[0], name, record_line);
        r.fields = std::move(fields);
        r.text = std::string(text.substr(record_start, end - record_start));
        if (r.text.ends_with("\r\n")) r.text.replace(r.text.size() - 2, 2, "\n");
        t.records.push_back(std::move(r));
      }
    }
    fields.clear();
    pending = false;
    t.complete_bytes = end;
    record_start = end;
    record_line = line;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    pending = true;
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') {
          ++line;
          quote_spans = true;
        }
        field += c;
      }
    } else if (c == '"') {
      in_quotes = true;
      quote_line = line;
      quote_spans = false;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      if (c == '\r') ++i;
      ++line;
      finish_record(i + 1);
    } else {
      field += c;
    }
  }
  // tcsim writes a row in one piece and never a line break inside a field
  // (csv_line), so a kill leaves at most a part of the last line: a quote
  // left open across a line break is damage in the middle of the file, and
  // taking it for a cut-short row would drop every row after it.
  if (in_quotes && quote_spans) {
    throw ConfigError(fmt::format(
        "{}:{}: a quote opened on this line is never closed (the rows after it would be lost)", name, quote_line));
  }
  t.truncated = pending;
  return t;
}

// ---- JSON lines -----------------------------------------------------------

// A reader of one flat JSON object ({"key": scalar, ...}), the shape every
// line of a sweep's JSON-lines table has.
class FlatObjectReader {
 public:
  FlatObjectReader(std::string_view text, std::string_view name, int line) : s_(text), name_(name), line_(line) {}

  // Keys and decoded values in order; null is "".
  std::vector<std::pair<std::string, std::string>> read() {
    std::vector<std::pair<std::string, std::string>> out;
    skip_blanks();
    expect('{');
    skip_blanks();
    if (peek() == '}') {
      ++i_;
    } else {
      while (true) {
        skip_blanks();
        std::string key = string();
        skip_blanks();
        expect(':');
        skip_blanks();
        out.emplace_back(std::move(key), value());
        skip_blanks();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect('}');
        break;
      }
    }
    skip_blanks();
    if (i_ != s_.size()) fail("text after the object");
    return out;
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    throw ConfigError(
        fmt::format("{}:{}: not a sweep row (a flat JSON object): {} at column {}", name_, line_, what, i_ + 1));
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_blanks() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) fail(fmt::format("expected '{}'", c));
    ++i_;
  }
  std::uint32_t hex4() {
    if (i_ + 4 > s_.size()) fail("a short \\u escape");
    std::uint32_t v = 0;
    const auto [p, ec] = std::from_chars(s_.data() + i_, s_.data() + i_ + 4, v, 16);
    if (ec != std::errc() || p != s_.data() + i_ + 4) fail("a bad \\u escape");
    i_ += 4;
    return v;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail("an unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) fail("an unterminated string");
      const char e = s_[i_++];
      if (const std::optional<char> plain = json_unescaped(e)) {
        out += *plain;
        continue;
      }
      switch (e) {
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            const std::uint32_t low = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: fail("a bad escape");
      }
    }
  }
  std::string value() {
    const char c = peek();
    if (c == '"') return string();
    for (const std::string_view word : {"null", "true", "false"}) {
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        return word == "null" ? "" : std::string(word);
      }
    }
    const std::size_t start = i_;
    while (i_ < s_.size() && std::string_view("+-.0123456789eE").find(s_[i_]) != std::string_view::npos) ++i_;
    if (i_ == start) fail("expected a string, a number, true, false or null");
    return std::string(s_.substr(start, i_ - start));
  }

  std::string_view s_;
  std::string_view name_;
  int line_;
  std::size_t i_ = 0;
};

SweepTable parse_jsonl(std::string_view text, std::string_view name) {
  SweepTable t;
  std::size_t start = 0;
  int line = 1;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      t.truncated = !trim(text.substr(start)).empty();
      break;
    }
    const std::string_view body = text.substr(start, nl - start);
    if (!trim(body).empty()) {
      auto pairs = FlatObjectReader(body, name, line).read();
      std::vector<std::string> keys;
      SweepRecord r;
      for (auto& [k, v] : pairs) {
        keys.push_back(std::move(k));
        r.fields.push_back(std::move(v));
      }
      if (t.columns.empty()) {
        if (keys.empty() || keys.front() != "id") {
          throw ConfigError(fmt::format("{}:{}: not a sweep row: the first key is not id", name, line));
        }
        t.columns = keys;
      } else if (keys != t.columns) {
        throw ConfigError(fmt::format("{}:{}: the keys differ from the first row's", name, line));
      }
      r.id = parse_id(r.fields.front(), name, line);
      r.text = std::string(body);
      if (r.text.ends_with('\r')) r.text.pop_back();
      r.text += '\n';
      t.records.push_back(std::move(r));
    }
    start = nl + 1;
    t.complete_bytes = start;
    ++line;
  }
  return t;
}

}  // namespace

SweepFormat sweep_format(std::string_view path) {
  if (path.ends_with(".jsonl")) return SweepFormat::jsonl;
  if (path.ends_with(".csv")) return SweepFormat::csv;
  throw ConfigError(fmt::format("\"{}\": a sweep table is FILE.csv or FILE.jsonl (JSON lines)", path));
}

namespace {

// The kinds a varied value may have a unit of, in the order they are tried,
// and the SI unit each column names.
constexpr std::array<std::pair<scenario::QuantityKind, std::string_view>, 10> kSiUnits{{
    {scenario::QuantityKind::bandwidth, "bytes_per_s"},
    {scenario::QuantityKind::bytes, "bytes"},
    {scenario::QuantityKind::flops_rate, "flops_per_s"},
    {scenario::QuantityKind::flops, "flops"},
    {scenario::QuantityKind::duration, "s"},
    {scenario::QuantityKind::power, "w"},
    {scenario::QuantityKind::dollars, "usd"},
    {scenario::QuantityKind::gpu_hours, "gpu_hours"},
    {scenario::QuantityKind::usd_per_gpu_hour, "usd_per_gpu_hour"},
    {scenario::QuantityKind::usd_per_kwh, "usd_per_kwh"},
}};

bool plain_number(std::string_view text) {
  double d = 0;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, d);
  return ec == std::errc() && p == end;
}

// The value in the unit's kind, or nullopt.
std::optional<double> si_value(std::string_view text, std::string_view unit) {
  for (const auto& [kind, name] : kSiUnits) {
    if (name != unit) continue;
    return scenario::parse_quantity(std::string(text), kind).value;
  }
  return std::nullopt;
}

}  // namespace

std::string si_unit(std::span<const std::string> values) {
  if (values.empty() ||
      std::all_of(values.begin(), values.end(), [](const std::string& v) { return plain_number(v); })) {
    return "";
  }
  for (const auto& [kind, name] : kSiUnits) {
    const bool all = std::all_of(values.begin(), values.end(), [&, k = kind](const std::string& v) {
      return scenario::parse_quantity(v, k).value.has_value();
    });
    if (all) return std::string(name);
  }
  return "";
}

std::vector<std::string> sweep_columns(std::span<const std::string> paths, std::span<const std::string> si_units) {
  std::vector<std::string> out{"id"};
  out.insert(out.end(), paths.begin(), paths.end());
  for (std::size_t i = 0; i < si_units.size() && i < paths.size(); ++i) {
    if (!si_units[i].empty()) out.push_back(paths[i] + "_" + si_units[i]);
  }
  out.emplace_back("status");
  out.emplace_back("reason");
  for (const std::string_view f : kFigures) out.emplace_back(f);
  out.emplace_back("oracle");
  out.emplace_back("settings");
  return out;
}

std::string sweep_settings(std::string_view text) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a, 64-bit offset basis
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;  // the 64-bit FNV prime
  }
  return fmt::format("{:016x}", h);
}

std::string format_header(std::span<const std::string> paths, SweepFormat format,
                          std::span<const std::string> si_units) {
  return format == SweepFormat::csv ? csv_line(sweep_columns(paths, si_units)) : std::string();
}

std::string format_row(const SweepRow& row, std::span<const std::string> paths, SweepFormat format,
                       std::span<const std::string> si_units) {
  const std::vector<std::optional<double>> numbers = figures(row.result);
  const std::string_view status = study::status_name(row.result.status);
  std::vector<std::optional<double>> si;  // one per SI column
  for (std::size_t i = 0; i < si_units.size() && i < paths.size(); ++i) {
    if (!si_units[i].empty()) si.push_back(si_value(row.values.at(i), si_units[i]));
  }
  if (format == SweepFormat::csv) {
    std::vector<std::string> fields{fmt::format("{}", row.id)};
    fields.insert(fields.end(), row.values.begin(), row.values.end());
    for (const auto& v : si) fields.push_back(number_text(v));
    fields.emplace_back(status);
    fields.push_back(row.result.reason);
    for (const auto& n : numbers) fields.push_back(number_text(n));
    fields.push_back(row.result.oracle);
    fields.push_back(row.settings);
    return csv_line(fields);
  }
  Json o = Json::object();
  o.set("id", Json(row.id));
  for (std::size_t i = 0; i < paths.size(); ++i) o.set(paths[i], value_json(row.values.at(i)));
  for (std::size_t i = 0, k = 0; i < si_units.size() && i < paths.size(); ++i) {
    if (si_units[i].empty()) continue;
    o.set(paths[i] + "_" + si_units[i], si[k] ? Json(*si[k]) : Json());
    ++k;
  }
  o.set("status", Json(status));
  o.set("reason", optional_string(row.result.reason));
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    // Json prints a finite double in its shortest round-trip text and NaN as null.
    o.set(kFigures[i], numbers[i] ? Json(*numbers[i]) : Json());
  }
  o.set("oracle", optional_string(row.result.oracle));
  o.set("settings", Json(row.settings));
  return o.dump(-1) + "\n";
}

std::string csv_field(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

SweepTable parse_table(std::string_view text, SweepFormat format, std::string_view name) {
  return format == SweepFormat::csv ? parse_csv(text, name) : parse_jsonl(text, name);
}

MergedTable merge_tables(std::span<const SweepTable> tables, std::span<const std::string> names) {
  MergedTable m;
  std::map<std::int64_t, std::pair<SweepRecord, std::size_t>> by_id;  // record and the table it came from
  std::size_t first = tables.size();
  std::string settings;  // of the first row
  std::size_t settings_from = 0;
  for (std::size_t t = 0; t < tables.size(); ++t) {
    if (tables[t].columns.empty()) continue;
    if (first == tables.size()) {
      first = t;
      m.columns = tables[t].columns;
    } else if (tables[t].columns != m.columns) {
      throw ConfigError(fmt::format("{}: its columns ({}) differ from {}'s ({})", names[t],
                                    fmt::join(tables[t].columns, ","), names[first], fmt::join(m.columns, ",")));
    }
    for (const SweepRecord& r : tables[t].records) {
      // Every row of a merged table comes from one sweep's settings.
      if (!r.fields.empty() && m.columns.back() == "settings") {
        if (settings.empty()) {
          settings = r.fields.back();
          settings_from = t;
        } else if (r.fields.back() != settings) {
          throw ConfigError(fmt::format(
              "{} and {} were written by sweeps with other settings (scenario, --set, --depth, --step-oracle, "
              "--seed or tcsim version: {} and {}); merge the shards of one sweep only",
              names[settings_from], names[t], settings, r.fields.back()));
        }
      }
      const auto [it, inserted] = by_id.try_emplace(r.id, r, t);
      if (inserted) continue;
      if (it->second.first.fields != r.fields) {
        throw ConfigError(fmt::format("id {} differs between {} and {}: the same variant gave two results", r.id,
                                      names[it->second.second], names[t]));
      }
      ++m.duplicates;
    }
  }
  // Gaps are counted, not walked: time linear in the rows, whatever the ids.
  std::int64_t expected = 0;
  for (auto& [id, entry] : by_id) {
    if (id > expected) {
      for (std::int64_t k = expected; k < id && m.missing.size() < 10; ++k) m.missing.push_back(k);
      m.missing_count += id - expected;
    }
    expected = id < std::numeric_limits<std::int64_t>::max() ? id + 1 : id;
    m.records.push_back(std::move(entry.first));
  }
  return m;
}

std::string format_table(std::span<const std::string> columns, std::span<const SweepRecord> records,
                         SweepFormat format) {
  std::string out = format == SweepFormat::csv ? csv_line(columns) : std::string();
  for (const SweepRecord& r : records) out += r.text;
  return out;
}

}  // namespace tcsim::reports
