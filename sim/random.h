// Seeded, platform-independent randomness for the full-fidelity mode: the same
// seed gives the same numbers on every compiler and standard library.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace tcsim::sim {

// SplitMix64 (Steele, Lea, Flood 2014, "Fast splittable pseudorandom number
// generators"): one 64-bit state, well mixed output.
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

// A value in [0, 1) determined by a seed and any number of integer keys.
template <class... Keys>
constexpr double unit_hash(std::uint64_t seed, Keys... keys) {
  std::uint64_t h = splitmix64(seed);
  ((h = splitmix64(h ^ static_cast<std::uint64_t>(keys))), ...);
  constexpr int kMantissaBits = 53;
  return static_cast<double>(h >> (64 - kMantissaBits)) / static_cast<double>(std::uint64_t{1} << kMantissaBits);
}

// Fisher-Yates with SplitMix64 draws.
template <class T>
void shuffle(std::vector<T>& v, std::uint64_t seed) {
  std::uint64_t state = seed;
  for (std::size_t i = v.size(); i > 1; --i) {
    state = splitmix64(state);
    std::swap(v[i - 1], v[state % i]);
  }
}

}  // namespace tcsim::sim
