#include "study/variant_space.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "core/text.h"

namespace tcsim::study {
namespace {

constexpr std::int64_t kMaxRangeValues = 1'000'000;

// A number as the range syntax takes it: -?digits(.digits)?, as an integer
// count of 10^-decimals.
struct Decimal {
  std::int64_t digits = 0;  // the number without its decimal point
  int decimals = 0;
};

std::optional<Decimal> parse_decimal(std::string_view s) {
  Decimal d;
  const bool negative = !s.empty() && s.front() == '-';
  if (negative) s.remove_prefix(1);
  const auto dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  const auto all_digits = [](std::string_view t) {
    return !t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!all_digits(whole) || (dot != std::string_view::npos && !all_digits(frac))) return std::nullopt;
  if (whole.size() + frac.size() > 15) return std::nullopt;  // exact in int64 after rescaling
  for (const char c : whole) d.digits = d.digits * 10 + (c - '0');
  for (const char c : frac) d.digits = d.digits * 10 + (c - '0');
  d.decimals = static_cast<int>(frac.size());
  if (negative) d.digits = -d.digits;
  return d;
}

std::int64_t pow10(int n) {
  std::int64_t p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

// `v` x 10^-decimals as the shortest decimal text: 150 with 2 decimals is "1.5".
std::string format_decimal(std::int64_t v, int decimals) {
  const std::int64_t scale = pow10(decimals);
  const std::int64_t a = v < 0 ? -v : v;
  std::string out = fmt::format("{}{}", v < 0 ? "-" : "", a / scale);
  if (decimals > 0) {
    std::string frac = fmt::format("{:0{}}", a % scale, decimals);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    if (!frac.empty()) out += "." + frac;
  }
  return out;
}

// Shortest text that reads back to the same double; empty for NaN and infinities.
}  // namespace

std::vector<std::string> split_values(std::string_view text) {
  std::vector<std::string> out;
  std::string stack;  // the closing brackets expected, innermost last
  char quote = 0;
  std::size_t start = 0;
  const auto cut = [&](std::size_t end) {
    const std::string_view item = trim(text.substr(start, end - start));
    if (item.empty()) {
      throw ConfigError(
          fmt::format("\"{}\": empty value at character {} (values are separated by commas)", text, start + 1));
    }
    out.emplace_back(item);
    start = end + 1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    switch (c) {
      case '"':
      case '\'': quote = c; break;
      case '{': stack += '}'; break;
      case '[': stack += ']'; break;
      case '(': stack += ')'; break;
      case '}':
      case ']':
      case ')':
        if (stack.empty() || stack.back() != c) {
          throw ConfigError(fmt::format("\"{}\": unbalanced '{}' at character {}", text, c, i + 1));
        }
        stack.pop_back();
        break;
      case ',':
        if (stack.empty()) cut(i);
        break;
      default: break;
    }
  }
  if (quote != 0) throw ConfigError(fmt::format("\"{}\": unterminated {} quote", text, quote));
  if (!stack.empty()) throw ConfigError(fmt::format("\"{}\": '{}' is never closed", text, stack.back()));
  cut(text.size());
  return out;
}

std::vector<std::string> expand_range(std::string_view item) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  // PREFIX NUMBER:NUMBER:NUMBER SUFFIX, the unit around the numbers ("$", " GB/s").
  std::size_t i = 0;
  while (i < item.size() && !digit(item[i]) && item[i] != '-' && item[i] != '.' && item[i] != ':') ++i;
  const std::string_view prefix = item.substr(0, i);
  std::optional<Decimal> parts[3];
  for (int k = 0; k < 3; ++k) {
    if (k > 0) {
      if (i >= item.size() || item[i] != ':') return {};
      ++i;
    }
    const std::size_t start = i;
    if (i < item.size() && item[i] == '-') ++i;
    while (i < item.size() && (digit(item[i]) || item[i] == '.')) ++i;
    parts[k] = parse_decimal(item.substr(start, i - start));
    if (!parts[k]) return {};
  }
  const std::string_view suffix = item.substr(i);
  if (!suffix.empty() && (digit(suffix.front()) || suffix.front() == '.')) return {};
  for (const std::string_view around : {prefix, suffix}) {
    if (around.find_first_of(":{}[]()\"'") != std::string_view::npos) return {};  // YAML, not a unit
  }
  const Decimal& a = *parts[0];
  const Decimal& b = *parts[1];
  const Decimal& step = *parts[2];
  const int decimals = std::max({a.decimals, b.decimals, step.decimals});
  const auto scaled = [&](const Decimal& d) { return d.digits * pow10(decimals - d.decimals); };
  const std::int64_t from = scaled(a);
  const std::int64_t to = scaled(b);
  const std::int64_t by = scaled(step);
  if (by == 0) throw ConfigError(fmt::format("range \"{}\": the step is zero", item));
  if ((to - from) != 0 && ((to - from) > 0) != (by > 0)) {
    throw ConfigError(fmt::format("range \"{}\": the step goes away from the stop value", item));
  }
  const std::int64_t count = (to - from) / by + 1;
  if (count > kMaxRangeValues) {
    throw ConfigError(fmt::format("range \"{}\": {} values, more than {}", item, count, kMaxRangeValues));
  }
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(count));
  for (std::int64_t k = 0; k < count; ++k) {
    out.push_back(fmt::format("{}{}{}", prefix, format_decimal(from + k * by, decimals), suffix));
  }
  return out;
}

Variation parse_variation(std::string_view arg) {
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos) {
    throw ConfigError(fmt::format("--vary \"{}\": expected PATH=V1,V2,... or PATH=START:STOP:STEP", arg));
  }
  Variation v;
  v.path = std::string(trim(arg.substr(0, eq)));
  if (v.path.empty()) throw ConfigError(fmt::format("--vary \"{}\": the path is empty", arg));
  try {
    for (std::string& item : split_values(arg.substr(eq + 1))) {
      std::vector<std::string> range = expand_range(item);
      if (range.empty()) {
        v.values.push_back(std::move(item));
      } else {
        v.values.insert(v.values.end(), range.begin(), range.end());
      }
    }
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("--vary {}: {}", v.path, e.what()));
  }
  std::set<std::string> seen;
  for (const std::string& value : v.values) {
    if (!seen.insert(value).second) {
      throw ConfigError(fmt::format("--vary {}: the value \"{}\" is given twice", v.path, value));
    }
  }
  return v;
}

VariantSpace::VariantSpace(std::vector<Variation> variations) : variations_(std::move(variations)) {
  std::set<std::string> paths;
  for (const Variation& v : variations_) {
    if (!paths.insert(v.path).second) throw ConfigError(fmt::format("--vary {}: the path is varied twice", v.path));
    const auto n = static_cast<std::int64_t>(v.values.size());
    if (n == 0) throw ConfigError(fmt::format("--vary {}: no values", v.path));
    if (size_ > std::numeric_limits<std::int64_t>::max() / n) {
      throw ConfigError("--vary: the cross product has more variants than a 64-bit id can number");
    }
    size_ *= n;
  }
}

std::vector<std::string> VariantSpace::paths() const {
  std::vector<std::string> out;
  for (const Variation& v : variations_) out.push_back(v.path);
  return out;
}

std::vector<std::string> VariantSpace::values(std::int64_t id) const {
  std::vector<std::string> out(variations_.size());
  for (std::size_t i = variations_.size(); i-- > 0;) {
    const auto n = static_cast<std::int64_t>(variations_[i].values.size());
    out[i] = variations_[i].values[static_cast<std::size_t>(id % n)];
    id /= n;
  }
  return out;
}

std::vector<std::string> VariantSpace::overrides(std::int64_t id) const {
  std::vector<std::string> out = values(id);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = variations_[i].path + "=" + out[i];
  return out;
}

std::string VariantSpace::key(std::int64_t id) const {
  std::string out;
  for (const std::string& o : overrides(id)) {
    if (!out.empty()) out += ' ';
    out += o;
  }
  return out;
}

}  // namespace tcsim::study
