#include "reports/json.h"

#include <cmath>

#include <fmt/format.h>

#include "core/quoted.h"

namespace tcsim::reports {

Json& Json::set(std::string_view key, Json value) {
  Object& obj = std::get<Object>(value_);
  for (auto& [k, v] : obj) {
    if (k == key) {
      v = std::move(value);
      return v;
    }
  }
  obj.emplace_back(std::string(key), std::move(value));
  return obj.back().second;
}

void Json::push(Json value) { std::get<Array>(value_).push_back(std::move(value)); }

const Json* Json::find(std::string_view key) const {
  if (const auto* obj = std::get_if<Object>(&value_)) {
    for (const auto& [k, v] : *obj) {
      if (k == key) return &v;
    }
  }
  return nullptr;
}

namespace {

void newline(std::string& out, int indent, int depth) {
  if (indent < 0) return;
  out += '\n';
  out.append(static_cast<std::size_t>(indent * depth), ' ');
}

}  // namespace

void Json::write(std::string& out, int indent, int depth) const {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out += "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out += fmt::format("{}", v);
        } else if constexpr (std::is_same_v<T, double>) {
          // JSON has no NaN or infinity; shortest round-trip text otherwise.
          out += std::isfinite(v) ? fmt::format("{}", v) : "null";
        } else if constexpr (std::is_same_v<T, std::string>) {
          out += json_quoted(v);
        } else if constexpr (std::is_same_v<T, Array>) {
          out += '[';
          for (std::size_t i = 0; i < v.size(); ++i) {
            if (i > 0) out += ',';
            newline(out, indent, depth + 1);
            v[i].write(out, indent, depth + 1);
          }
          if (!v.empty()) newline(out, indent, depth);
          out += ']';
        } else {
          out += '{';
          for (std::size_t i = 0; i < v.size(); ++i) {
            if (i > 0) out += ',';
            newline(out, indent, depth + 1);
            out += json_quoted(v[i].first);
            out += indent < 0 ? ":" : ": ";
            v[i].second.write(out, indent, depth + 1);
          }
          if (!v.empty()) newline(out, indent, depth);
          out += '}';
        }
      },
      value_);
}

std::string Json::dump(int indent) const {
  std::string out;
  write(out, indent, 0);
  return out;
}

}  // namespace tcsim::reports
