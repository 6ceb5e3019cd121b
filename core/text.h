// Small text helpers shared by the parsers.
#pragma once

#include <string_view>

namespace tcsim {

// `s` without leading and trailing white space (space, tab, CR, LF, VT, FF).
constexpr std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace tcsim
