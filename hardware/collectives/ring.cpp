// Ring reduce-scatter, all-gather and all-reduce (NCCL's ring algorithm),
// one ring per channel: collectives.h.
#include <string>
#include <utility>
#include <vector>

#include "hardware/collectives/common.h"

namespace tcsim::hw {
namespace {

using detail::by_node;
using detail::check_group;
using detail::group_size;

// Channel c's ring: node j's GPUs rotated to start at position (c - j) mod k,
// so the GPU leaving node j and the one entering node j+1 share a local index.
std::vector<int> ring_order(const std::vector<std::vector<int>>& nodes, int channel) {
  std::vector<int> order;
  for (std::size_t j = 0; j < nodes.size(); ++j) {
    const int k = static_cast<int>(nodes[j].size());
    const int start = ((channel - static_cast<int>(j)) % k + k) % k;
    for (int i = 0; i < k; ++i) order.push_back(nodes[j][static_cast<std::size_t>((start + i) % k)]);
  }
  return order;
}

// One ring step: every rank of every channel's ring sends `bytes` to its successor.
Step ring_step(const GroupLayout& g, Bytes bytes, int channels, int repeat) {
  const auto nodes = by_node(g);
  Step s;
  s.repeat = repeat;
  for (int c = 0; c < channels; ++c) {
    const std::vector<int> order = ring_order(nodes, c);
    for (std::size_t i = 0; i < order.size(); ++i) {
      s.transfers.push_back({order[i], order[(i + 1) % order.size()], bytes, c});
    }
  }
  return s;
}

// A ring collective of `steps` identical steps of size / (n x channels).
Schedule ring_collective(std::string name, const GroupLayout& g, Bytes size, int channels, int steps_per_n) {
  check_group(g, channels);
  const int n = group_size(g);
  Schedule s{std::move(name), {}};
  if (n == 1) return s;
  const Bytes chunk = size / (static_cast<double>(n) * channels);
  s.steps.push_back(ring_step(g, chunk, channels, steps_per_n * (n - 1)));
  return s;
}

}  // namespace

Schedule ring_all_reduce(const GroupLayout& group, Bytes size, int channels) {
  return ring_collective("ring all-reduce", group, size, channels, 2);
}

Schedule ring_reduce_scatter(const GroupLayout& group, Bytes size, int channels) {
  return ring_collective("ring reduce-scatter", group, size, channels, 1);
}

Schedule ring_all_gather(const GroupLayout& group, Bytes size, int channels) {
  return ring_collective("ring all-gather", group, size, channels, 1);
}

}  // namespace tcsim::hw
