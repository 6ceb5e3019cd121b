#include "calibrate/trace/json_reader.h"

#include <zlib.h>

#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "core/error.h"
#include "core/quoted.h"

namespace tcsim::trace {

const JsonValue* JsonValue::find(std::string_view key) const {
  if (const Object* o = object()) {
    for (std::size_t i = 0; i < o->keys.size(); ++i) {
      if (o->keys[i] == key) return &o->values[i];
    }
  }
  return nullptr;
}

// zlib reads gzip and passes plain files through unchanged.
struct JsonReader::Source {
  gzFile file = nullptr;
  std::array<char, 1 << 16> buffer{};
  int size = 0;
  int at = 0;
  bool eof = false;
  ~Source() {
    if (file != nullptr) gzclose(file);
  }
};

JsonReader::JsonReader(const std::string& path) : src_(std::make_unique<Source>()), path_(path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) throw ConfigError(fmt::format("{}: no such file", path));
  if (!std::filesystem::is_regular_file(status)) throw ConfigError(fmt::format("{}: not a regular file", path));
  src_->file = gzopen(path.c_str(), "rb");
  if (src_->file == nullptr) throw ConfigError(fmt::format("{}: cannot open", path));
  gzbuffer(src_->file, 1 << 17);
}

JsonReader::~JsonReader() = default;

int JsonReader::peek_byte() {
  Source& s = *src_;
  if (s.at == s.size) {
    if (s.eof) return -1;
    const int n = gzread(s.file, s.buffer.data(), static_cast<unsigned>(s.buffer.size()));
    if (n < 0) {
      int code = 0;
      const char* why = gzerror(s.file, &code);
      fail(fmt::format("cannot read: {}", why != nullptr ? why : "read error"));
    }
    if (n == 0) {
      s.eof = true;
      return -1;
    }
    s.size = n;
    s.at = 0;
  }
  return static_cast<unsigned char>(s.buffer[static_cast<std::size_t>(s.at)]);
}

int JsonReader::get() {
  const int c = peek_byte();
  if (c < 0) return c;
  ++src_->at;
  ++offset_;
  if (c == '\n') ++line_;
  return c;
}

void JsonReader::skip_space() {
  for (int c = peek_byte(); c == ' ' || c == '\n' || c == '\r' || c == '\t'; c = peek_byte()) get();
}

char JsonReader::peek() {
  skip_space();
  const int c = peek_byte();
  return c < 0 ? '\0' : static_cast<char>(c);
}

void JsonReader::fail(std::string_view message) const {
  throw ConfigError(fmt::format("{}:{} (byte {}): {}", path_, line_, offset_, message));
}

void JsonReader::expect(char c) {
  const char p = peek();
  if (p != c) {
    fail(p == '\0' ? fmt::format("expected '{}', the file ends here (truncated?)", c)
                   : fmt::format("expected '{}', got '{}'", c, p));
  }
  get();
}

bool JsonReader::accept(char c) {
  if (peek() != c) return false;
  get();
  return true;
}

std::string JsonReader::read_string() {
  expect('"');
  std::string out;
  for (;;) {
    const int c = get();
    if (c < 0) fail("a string runs to the end of the file (truncated?)");
    if (c == '"') return out;
    if (static_cast<std::int64_t>(out.size()) > kMaxValueBytes) fail("a string longer than 16 MiB");
    if (c != '\\') {
      out += static_cast<char>(c);
      continue;
    }
    const int e = get();
    if (e >= 0) {
      if (const std::optional<char> plain = json_unescaped(static_cast<char>(e))) {
        out += *plain;
        continue;
      }
    }
    switch (e) {
      case 'u': {
        std::array<char, 4> hex{};
        for (char& h : hex) {
          const int x = get();
          if (x < 0) fail("a \\u escape runs to the end of the file");
          h = static_cast<char>(x);
        }
        unsigned cp = 0;
        const auto [p, ec] = std::from_chars(hex.data(), hex.data() + 4, cp, 16);
        if (ec != std::errc() || p != hex.data() + 4) fail("a bad \\u escape");
        append_utf8(out, cp);  // names in traces are ASCII; a lone surrogate keeps its three bytes
        break;
      }
      default: fail(e < 0 ? "an escape runs to the end of the file" : fmt::format("a bad escape '\\{}'", char(e)));
    }
  }
}

double JsonReader::read_number() {
  std::string text;
  skip_space();
  for (int c = peek_byte(); c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || (c >= '0' && c <= '9');
       c = peek_byte()) {
    text += static_cast<char>(get());
    if (text.size() > 64) fail("a number longer than 64 characters");
  }
  double v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) {
    fail(fmt::format("expected a number, got \"{}\"", text));
  }
  return v;
}

JsonValue JsonReader::read_value() { return read_value(0, offset_); }

JsonValue JsonReader::read_value(int depth, std::int64_t start) {
  if (depth > kMaxDepth) fail(fmt::format("values nested deeper than {}", kMaxDepth));
  if (offset_ - start > kMaxValueBytes) fail("a value longer than 16 MiB");
  JsonValue v;
  const char c = peek();
  switch (c) {
    case '{': {
      get();
      JsonValue::Object o;
      if (!accept('}')) {
        do {
          o.keys.push_back(read_string());
          expect(':');
          o.values.push_back(read_value(depth + 1, start));
        } while (accept(','));
        expect('}');
      }
      v.value = std::move(o);
      return v;
    }
    case '[': {
      get();
      JsonValue::Array a;
      if (!accept(']')) {
        do {
          a.push_back(read_value(depth + 1, start));
        } while (accept(','));
        expect(']');
      }
      v.value = std::move(a);
      return v;
    }
    case '"': v.value = read_string(); return v;
    case 't':
    case 'f':
    case 'n': {
      std::string word;
      for (int w = peek_byte(); word.size() < 5 && w >= 'a' && w <= 'z'; w = peek_byte())
        word += static_cast<char>(get());
      if (word == "true") {
        v.value = true;
      } else if (word == "false") {
        v.value = false;
      } else if (word != "null") {
        fail(fmt::format("expected a value, got \"{}\"", word));
      }
      return v;
    }
    case '\0': fail("expected a value, the file ends here (truncated?)");
    default: v.value = read_number(); return v;
  }
}

void JsonReader::skip_value() { skip(0); }

void JsonReader::skip(int depth) {
  if (depth > kMaxDepth) fail(fmt::format("values nested deeper than {}", kMaxDepth));
  const char c = peek();
  if (c == '{' || c == '[') {
    const char close = c == '{' ? '}' : ']';
    get();
    if (accept(close)) return;
    do {
      if (c == '{') {
        (void)read_string();
        expect(':');
      }
      skip(depth + 1);
    } while (accept(','));
    expect(close);
    return;
  }
  if (c == '"') {
    (void)read_string();
    return;
  }
  (void)read_value(depth, offset_);
}

}  // namespace tcsim::trace
