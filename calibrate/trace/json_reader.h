// A pull parser for large JSON files, read in bounded chunks (plain or
// gzip-compressed, told apart by the file's first bytes): the caller walks the
// document, taking small values whole (an event of a trace) and skipping
// what it does not need, so a file of any size is read once, in constant
// memory per value. Errors are ConfigErrors naming the file, the line and
// the byte offset, and what was expected.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tcsim::trace {

// One JSON value, parsed whole.
struct JsonValue {
  using Array = std::vector<JsonValue>;
  // Keys and values in written order (two lists: a pair of an incomplete
  // type cannot be a vector's element).
  struct Object {
    std::vector<std::string> keys;
    std::vector<JsonValue> values;
  };
  std::variant<std::monostate, bool, double, std::string, Array, Object> value;

  const JsonValue* find(std::string_view key) const;  // objects only; nullptr otherwise or when absent
  const std::string* string() const { return std::get_if<std::string>(&value); }
  const double* number() const { return std::get_if<double>(&value); }
  const Array* array() const { return std::get_if<Array>(&value); }
  const Object* object() const { return std::get_if<Object>(&value); }
};

class JsonReader {
 public:
  // Opens `path` (a regular file). Throws ConfigError when it cannot.
  explicit JsonReader(const std::string& path);
  ~JsonReader();
  JsonReader(const JsonReader&) = delete;
  JsonReader& operator=(const JsonReader&) = delete;

  // The next character after white space, without taking it; '\0' at the end.
  char peek();
  // Takes `c` after white space, or throws naming what was found.
  void expect(char c);
  // Takes `c` after white space when it is next.
  bool accept(char c);
  std::string read_string();
  // A whole value, at most kMaxDepth deep and kMaxValueBytes long.
  JsonValue read_value();
  // Skips a value of any size without keeping it.
  void skip_value();
  // Throws ConfigError at the current position: "FILE:LINE (byte N): message".
  [[noreturn]] void fail(std::string_view message) const;

  static constexpr int kMaxDepth = 64;
  static constexpr std::int64_t kMaxValueBytes = 16 << 20;

 private:
  int peek_byte();  // the next byte, not taken, or -1 at the end
  int get();        // the next byte, taken, or -1 at the end
  void skip_space();
  JsonValue read_value(int depth, std::int64_t start);
  double read_number();
  void skip(int depth);

  struct Source;
  std::unique_ptr<Source> src_;
  std::string path_;
  std::int64_t offset_ = 0;
  std::int64_t line_ = 1;
};

}  // namespace tcsim::trace
