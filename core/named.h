// Names users type for enumerations, as data: one table per enum, read by
// the scenario loader (name -> value) and by reports (value -> name).
#pragma once

#include <span>
#include <string_view>

namespace tcsim {

template <class E>
struct Named {
  std::string_view name;
  E value;
};

template <class E>
constexpr std::string_view name_of(std::span<const Named<E>> table, E value) {
  for (const Named<E>& n : table) {
    if (n.value == value) return n.name;
  }
  return "?";
}

}  // namespace tcsim
