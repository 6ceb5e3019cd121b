// Collectives as flows: bytes moved and times against closed forms.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>
#include <utility>
#include <vector>

#include "hardware/collective_run.h"
#include "hardware/collectives.h"
#include "tests/hardware/fixtures.h"

using namespace tcsim;
using namespace tcsim::hw;
using namespace tcsim::hw::test;

namespace {

GroupLayout first_gpus(int n) {
  GroupLayout g;
  g.ranks.resize(static_cast<std::size_t>(n));
  std::iota(g.ranks.begin(), g.ranks.end(), 0);
  g.gpus_per_node = kGpusPerNode;
  return g;
}

Bytes total(const std::vector<Bytes>& v) {
  Bytes sum;
  for (const Bytes b : v) sum += b;
  return sum;
}

constexpr Bytes kBuffer = gib(1);

}  // namespace

TEST_CASE("ring all-reduce moves 2(n-1)/n of the buffer per GPU") {
  for (const int n : {2, 8, 16, 24}) {
    for (const int channels : {1, 8}) {
      const auto sent = bytes_sent_per_rank(ring_all_reduce(first_gpus(n), kBuffer, channels), n);
      for (const Bytes b : sent) {
        // 2(n-1) steps, each sending size/n in total over the channels.
        CHECK(b.value() == doctest::Approx(2.0 * (n - 1) / n * kBuffer.value()));
      }
    }
  }
}

TEST_CASE("ring reduce-scatter and all-gather move (n-1)/n of the buffer per GPU") {
  constexpr int n = 16;
  for (const Schedule& s :
       {ring_reduce_scatter(first_gpus(n), kBuffer, 4), ring_all_gather(first_gpus(n), kBuffer, 4)}) {
    for (const Bytes b : bytes_sent_per_rank(s, n))
      CHECK(b.value() == doctest::Approx((n - 1.0) / n * kBuffer.value()));
  }
}

TEST_CASE("all-to-all sends size/n to each of the n-1 peers") {
  constexpr int n = 12;
  for (const CollectiveAlgo algo : {CollectiveAlgo::direct, CollectiveAlgo::pairwise}) {
    const Schedule s = all_to_all(first_gpus(n), kBuffer, algo);
    for (const Bytes b : bytes_sent_per_rank(s, n))
      CHECK(b.value() == doctest::Approx((n - 1.0) / n * kBuffer.value()));
  }
  // Direct: one step with n(n-1) transfers; pairwise: n-1 steps of n.
  CHECK(all_to_all(first_gpus(n), kBuffer, CollectiveAlgo::direct).steps.at(0).transfers.size() == n * (n - 1));
  CHECK(all_to_all(first_gpus(n), kBuffer, CollectiveAlgo::pairwise).steps.size() == n - 1);
}

TEST_CASE("hierarchical all-reduce moves 2(k-1)/k inside nodes and 2(N-1)/(kN) between them per GPU") {
  constexpr int k = 8, nodes = 4;
  const Schedule s = hierarchical_all_reduce(first_gpus(k * nodes), kBuffer);
  const double expected = 2.0 * (k - 1) / k + 2.0 * (nodes - 1) / (static_cast<double>(k) * nodes);
  for (const Bytes b : bytes_sent_per_rank(s, k * nodes))
    CHECK(b.value() == doctest::Approx(expected * kBuffer.value()));
}

TEST_CASE("double binary tree all-reduce sends each half of the buffer up and down every tree edge") {
  // Two trees of n-1 edges; each edge carries its tree's half once up and once down:
  // total = 2 trees x (n-1) edges x 2 directions x size/2 = 2(n-1) x size.
  for (const int n : {2, 7, 16, 13}) {
    const Schedule s = tree_all_reduce(first_gpus(n), kBuffer, mib(4));
    CHECK(total(bytes_sent_per_rank(s, n)).value() == doctest::Approx(2.0 * (n - 1) * kBuffer.value()));
  }
}

TEST_CASE("nccl-tests bus bandwidth factors") {
  // all-reduce 2(n-1)/n; reduce-scatter, all-gather, all-to-all (n-1)/n (nccl-tests doc/PERFORMANCE.md).
  CHECK(bus_bandwidth_factor(CollectiveOp::all_reduce, 8) == doctest::Approx(14.0 / 8));
  CHECK(bus_bandwidth_factor(CollectiveOp::reduce_scatter, 8) == doctest::Approx(7.0 / 8));
  CHECK(bus_bandwidth_factor(CollectiveOp::all_gather, 8) == doctest::Approx(7.0 / 8));
  CHECK(bus_bandwidth_factor(CollectiveOp::all_to_all, 8) == doctest::Approx(7.0 / 8));
}

TEST_CASE("ring all-reduce on one H800 node: 2(n-1) steps of size/n at NVLink speed plus NVLink latency") {
  const ClusterTopology t = build_single_node(hgx_node(kH800NvLink));
  const RunResult r = run_schedule(t, ring_all_reduce(first_gpus(8), kBuffer, 8));
  // Each step every GPU sends size/8 (over 8 channels) through its one NVLink:
  // T = 14 x (3.33 us + (1 GiB / 8) / 200 GB/s).
  const double step = kNvLinkLatency.value() + kBuffer.value() / 8 / kH800NvLink.value();
  CHECK(r.steps == 14);
  CHECK(r.time.value() == doctest::Approx(14 * step).epsilon(1e-6));
}

TEST_CASE("an 8-GPU all-to-all on H800 vs H100 follows 200 vs 450 GB/s per direction") {
  // Direct all-to-all: each GPU sends 7/8 of its buffer through its one NVLink out and receives as
  // much in: T = 3.33 us + (7/8 x size) / B. With 8 GiB the latency is a rounding error and
  // T(H800) / T(H100) = (lat + 7/8 S / 200) / (lat + 7/8 S / 450), about 450 / 200 = 2.25.
  const Bytes size = gib(8);
  const GroupLayout g = first_gpus(8);
  const Schedule s = all_to_all(g, size, CollectiveAlgo::direct);
  const double h800 = run_schedule(build_single_node(hgx_node(kH800NvLink)), s).time.value();
  const double h100 = run_schedule(build_single_node(hgx_node(kH100NvLink)), s).time.value();
  const double moved = 7.0 / 8.0 * size.value();
  CHECK(h800 == doctest::Approx(kNvLinkLatency.value() + moved / kH800NvLink.value()).epsilon(1e-6));
  CHECK(h100 == doctest::Approx(kNvLinkLatency.value() + moved / kH100NvLink.value()).epsilon(1e-6));
  CHECK(h800 / h100 == doctest::Approx(450.0 / 200.0).epsilon(1e-3));
}

TEST_CASE("multi-node ring all-reduce on H800 with one ring per NIC is NVLink-bound") {
  // 2 nodes x 8 H800 on one 64-port leaf, 8 channels of size/8. Each GPU sends one channel's chunk
  // c = size / (8 x 16) over IB and seven over its NVLink, shared 7 ways:
  //   NVLink flows end at 3.33 us + 7c / 200 GB/s; the IB flow at 2.8 us + c / 50 GB/s.
  // A step lasts the longer, and there are 2(n-1) = 30 steps.
  const ClusterTopology t = build_fat_tree(2, hgx_node(kH800NvLink), ib_fabric());
  const RunResult r = run_schedule(t, ring_all_reduce(first_gpus(16), kBuffer, 8));
  const double c = kBuffer.value() / (8.0 * 16.0);
  const double nvlink = kNvLinkLatency.value() + 7.0 * c / kH800NvLink.value();
  const double ib = kIbSameLeaf.value() + c / kNdr.value();
  CHECK(nvlink > ib);
  CHECK(r.time.value() == doctest::Approx(30 * nvlink).epsilon(1e-6));
}

namespace {

// NCCL's trees as docs/network.md gives them, by position: tree 1's parent of r clears r's lowest set bit and sets
// the next one up (only clears it when that is out of range); tree 2 mirrors tree 1 (even n) or shifts it by one.
int reference_parent(int n, int r, bool second) {
  const auto first = [n](int x) {
    if (x == 0) return -1;
    const int bit = x & -x;
    const int up = (x ^ bit) | (bit << 1);
    return up < n ? up : (x ^ bit);
  };
  if (!second) return first(r);
  if (n % 2 == 0) {
    const int p = first(n - 1 - r);
    return p < 0 ? -1 : n - 1 - p;
  }
  const int p = first((r - 1 + n) % n);
  return p < 0 ? -1 : (p + 1) % n;
}

}  // namespace

TEST_CASE("a tree all-reduce carries each edge's chunks at the steps its pipeline gives, and nothing else") {
  // Expanded step by step, each (tree, from, to) must carry chunks at exactly the steps the pipeline gives
  // (docs/network.md): up from v at height(v) + c, down from u at root height + depth(u) + c, for chunks c;
  // only each edge's first chunk pays the latency.
  for (const int n : {2, 3, 5, 8, 13, 64, 100}) {
    for (const int chunks : {1, 3}) {
      CAPTURE(n);
      CAPTURE(chunks);
      const Bytes chunk(1000);
      const Schedule s = tree_all_reduce(first_gpus(n), Bytes(2.0 * chunks * chunk.value()), chunk);
      std::map<std::tuple<int, int, int>, std::vector<std::pair<int, bool>>> got;
      int at = 0;
      for (const Step& step : s.steps) {
        for (int k = 0; k < step.repeat; ++k) {
          for (const Transfer& t : step.transfers) got[{t.channel, t.src, t.dst}].push_back({at + k, t.pipelined});
        }
        at += step.repeat;
      }
      std::map<std::tuple<int, int, int>, std::vector<std::pair<int, bool>>> want;
      for (int tree = 0; tree < 2; ++tree) {
        std::vector<int> parent(static_cast<std::size_t>(n)), depth(static_cast<std::size_t>(n), 0);
        std::vector<int> height(static_cast<std::size_t>(n), 0);
        for (int r = 0; r < n; ++r) parent[static_cast<std::size_t>(r)] = reference_parent(n, r, tree == 1);
        for (int r = 0; r < n; ++r) {
          int h = 0;
          for (int p = parent[static_cast<std::size_t>(r)]; p >= 0; p = parent[static_cast<std::size_t>(p)]) {
            ++depth[static_cast<std::size_t>(r)];
            height[static_cast<std::size_t>(p)] = std::max(height[static_cast<std::size_t>(p)], ++h);
          }
        }
        const int root_height = *std::max_element(height.begin(), height.end());
        for (int v = 0; v < n; ++v) {
          const int p = parent[static_cast<std::size_t>(v)];
          if (p < 0) continue;
          for (int c = 0; c < chunks; ++c) {
            want[{tree, v, p}].push_back({height[static_cast<std::size_t>(v)] + c, c > 0});
            want[{tree, p, v}].push_back({root_height + depth[static_cast<std::size_t>(p)] + c, c > 0});
          }
        }
      }
      CHECK(got == want);
    }
  }
}

TEST_CASE("double binary tree on 2 GPUs: one latency plus the buffer at NVLink speed") {
  // n = 2: tree 1 is 1 -> 0, tree 2 is 0 -> 1; each carries size/2 in C chunks of c bytes. Step 0
  // sends each tree's first chunk up, paying the NVLink latency: lat + c/B. Every later step streams
  // behind it (no latency) and each GPU's one NVLink carries one chunk up one tree and one down the
  // other, 2c/B, except the last (one chunk down, c/B); step 1's down chunk pays its latency while the
  // up chunk keeps the link busy, so it too takes 2c/B. T = lat + c/B + (C-1) 2c/B + c/B = lat + size/B.
  const ClusterTopology t = build_single_node(hgx_node(kH800NvLink));
  const Bytes chunk = mib(64);
  const double chunks = kBuffer.value() / 2 / chunk.value();  // 8
  const RunResult r = run_schedule(t, tree_all_reduce(first_gpus(2), kBuffer, chunk));
  CHECK(r.steps == static_cast<int>(chunks) + 1);
  CHECK(r.time.value() ==
        doctest::Approx(kNvLinkLatency.value() + kBuffer.value() / kH800NvLink.value()).epsilon(1e-6));
}

TEST_CASE("counting a repeated step once gives the time of simulating every repetition") {
  const ClusterTopology t = build_multi_plane_fat_tree(4, hgx_node(kH800NvLink), ib_fabric());
  const Schedule s = ring_all_reduce(first_gpus(32), mib(64), 8);
  const RunResult reused = run_schedule(t, s, {.reuse_repeated_steps = true});
  const RunResult full = run_schedule(t, s, {.reuse_repeated_steps = false});
  CHECK(full.flows_simulated == full.flows);
  CHECK(reused.flows_simulated * 62 == full.flows_simulated);
  // Identical up to the engine's 1 ns tick per step (rounding of absolute start times).
  CHECK(std::abs(reused.time.value() - full.time.value()) <= 62e-9);
}

TEST_CASE("a step of flows too small to slow one another ends as its simulation does, without one") {
  // tiny_steps_closed (collective_run.h) against the flow network on the same schedules, step by step
  // and bit for bit: steps that qualify (a gradient norm's 4 bytes, a 64-byte ring) and steps that do
  // not (larger buffers, and 1 KiB exchanged by 255 peers per NIC link) side by side.
  const std::vector<ClusterTopology> fabrics = [] {
    std::vector<ClusterTopology> f;
    f.push_back(build_single_node(hgx_node(kH800NvLink)));
    f.push_back(build_multi_plane_fat_tree(4, hgx_node(kH800NvLink), ib_fabric()));
    f.push_back(build_multi_plane_fat_tree(16, hgx_node(kH100NvLink), ib_fabric(16)));
    f.push_back(build_fat_tree(32, hgx_node(kH800NvLink), ib_fabric(16, 2.0)));
    f.push_back(build_rail_optimized(8, hgx_node(kH800NvLink), ib_fabric(16)));
    return f;
  }();
  int closed = 0;
  int simulated = 0;
  for (const ClusterTopology& t : fabrics) {
    const int n = t.gpu_count();
    CAPTURE(t.description());
    // By hand: a flow with nothing to send ends as its latency does (its last
    // step), one with a byte a tick later, one that streams pays no latency.
    const Schedule hand{"by hand",
                        {{{{0, n - 1, Bytes(0)}, {1, n / 2, Bytes(1)}}},
                         {{{0, 1, Bytes(0)}, {n - 1, n - 2, Bytes(2), 0, true}}, 3},
                         {{{n / 2, 0, Bytes(0)}}}}};
    for (const Schedule& s : {hand, tree_all_reduce(first_gpus(n), Bytes(4), kNcclSliceBytes),
                              tree_all_reduce(first_gpus(n), mib(1), kNcclSliceBytes),
                              ring_all_reduce(first_gpus(n), Bytes(64), 2), ring_all_reduce(first_gpus(n), mib(1), 2),
                              all_to_all(first_gpus(n), Bytes(1024.0 * n), CollectiveAlgo::direct)}) {
      CAPTURE(s.name);
      const RunResult fast = run_schedule(t, s);
      const RunResult slow = run_schedule(t, s, {.tiny_steps_closed = false});
      CHECK(fast.time.value() == slow.time.value());
      REQUIRE(fast.step_times.size() == slow.step_times.size());
      for (std::size_t i = 0; i < fast.step_times.size(); ++i) CHECK(fast.step_times[i] == slow.step_times[i]);
      CHECK(slow.flows_simulated > 0);
      (fast.flows_simulated == 0 ? closed : simulated) += 1;
    }
    // The norm's 4 bytes are never simulated; a MiB always is.
    CHECK(run_schedule(t, tree_all_reduce(first_gpus(n), Bytes(4), kNcclSliceBytes)).flows_simulated == 0);
    CHECK(run_schedule(t, ring_all_reduce(first_gpus(n), mib(1), 2)).flows_simulated > 0);
  }
  CHECK(closed >= 10);
  CHECK(simulated >= 10);
}

TEST_CASE("a pipeline send moves its bytes at the bottleneck of its path") {
  // GPU 0 to GPU 8 across one leaf: 1 GiB / 50 GB/s + 2.8 us.
  const ClusterTopology t = build_fat_tree(2, hgx_node(kH800NvLink), ib_fabric());
  const RunResult r = run_schedule(t, send_recv(0, 8, kBuffer));
  CHECK(r.time.value() == doctest::Approx(kIbSameLeaf.value() + kBuffer.value() / kNdr.value()).epsilon(1e-6));
}
