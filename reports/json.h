// A small ordered JSON value for the CLI's and reports' output. Keys keep the
// order they were added in, so output is stable and diffable.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tcsim::reports {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  Json(bool v) : value_(v) {}
  Json(int v) : value_(static_cast<std::int64_t>(v)) {}
  Json(std::int64_t v) : value_(v) {}
  Json(double v) : value_(v) {}
  Json(const char* v) : value_(std::string(v)) {}
  Json(std::string v) : value_(std::move(v)) {}
  Json(std::string_view v) : value_(std::string(v)) {}
  Json(Array v) : value_(std::move(v)) {}

  static Json object() { return Json(Object{}); }
  static Json array() { return Json(Array{}); }

  // Object: sets `key` (replacing an earlier value), returns the stored value.
  Json& set(std::string_view key, Json value);
  // Array: appends.
  void push(Json value);

  const Json* find(std::string_view key) const;
  bool is_object() const { return std::holds_alternative<Object>(value_); }

  // Two-space indented text; `indent` < 0 gives one line.
  std::string dump(int indent = 2) const;

 private:
  explicit Json(Object v) : value_(std::move(v)) {}
  void write(std::string& out, int indent, int depth) const;

  std::variant<std::monostate, bool, std::int64_t, double, std::string, Array, Object> value_;
};

}  // namespace tcsim::reports
