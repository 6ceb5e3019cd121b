// A string as a JSON string literal: quotes, backslashes and control
// characters escaped. The same text is a valid YAML double-quoted scalar, so
// the JSON writers, the Chrome trace and the profile writer share it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tcsim {

std::string json_quoted(std::string_view s);

// The JSON readers' unescaping (RFC 8259 §7): the character a one-letter
// escape after a backslash stands for ('"', '\\', '/', b, f, n, r, t), or
// nullopt for 'u' and anything else; and a code point appended as UTF-8.
std::optional<char> json_unescaped(char escape);
void append_utf8(std::string& out, std::uint32_t code_point);

}  // namespace tcsim
