// Max-min fair sharing and the flow engine's event contract.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include "hardware/flows.h"
#include "tests/hardware/fixtures.h"

using namespace tcsim;
using namespace tcsim::hw;

namespace {

constexpr double kGB = 1e9;

FlowNetwork network(std::vector<double> gigabytes_per_second_each) {
  std::vector<BytesPerSecond> caps;
  for (const double c : gigabytes_per_second_each) caps.push_back(gigabytes_per_second(c));
  return FlowNetwork(caps);
}

FlowId add(FlowNetwork& net, std::vector<LinkId> links, double gigabytes, double latency_s = 0.0, double now = 0.0) {
  return net.add_flow(links, Seconds(latency_s), Bytes(gigabytes * kGB), to_sim_time(Seconds(now)));
}

// Drives the network like the engine: event by event until it is empty.
std::vector<std::pair<FlowId, double>> run_to_end(FlowNetwork& net) {
  std::vector<std::pair<FlowId, double>> done;
  while (const auto e = net.next_event()) {
    for (const FlowId f : net.advance_to(e->time)) done.emplace_back(f, to_seconds(e->time).value());
  }
  return done;
}

}  // namespace

TEST_CASE("a flow alone on its path gets the narrowest link's capacity") {
  FlowNetwork net = network({4, 1, 2});
  const FlowId f = add(net, {0, 1, 2}, 1);
  // min(4, 1, 2) GB/s = 1 GB/s.
  CHECK(net.rate(f).value() == doctest::Approx(1 * kGB));
}

TEST_CASE("flows on one link split it equally") {
  FlowNetwork net = network({3});
  const FlowId a = add(net, {0}, 1), b = add(net, {0}, 1), c = add(net, {0}, 1);
  // 3 GB/s / 3 flows = 1 GB/s each.
  for (const FlowId f : {a, b, c}) CHECK(net.rate(f).value() == doctest::Approx(1 * kGB));
}

TEST_CASE("max-min: three flows on two links (the classic example)") {
  // Link A 1 GB/s, link B 2 GB/s. Flow 0 crosses A and B, flow 1 only A, flow 2 only B.
  // A saturates first at 1/2 each for flows 0 and 1; flow 2 takes B's rest: 2 - 1/2 = 3/2.
  FlowNetwork net = network({1, 2});
  const FlowId f0 = add(net, {0, 1}, 1), f1 = add(net, {0}, 1), f2 = add(net, {1}, 1);
  CHECK(net.rate(f0).value() == doctest::Approx(0.5 * kGB));
  CHECK(net.rate(f1).value() == doctest::Approx(0.5 * kGB));
  CHECK(net.rate(f2).value() == doctest::Approx(1.5 * kGB));
}

TEST_CASE("max-min: a long flow over three links against one short flow per link") {
  // Capacities 1, 2, 3 GB/s (Bertsekas & Gallager, Data Networks §6.5.2 style): link 0 is the
  // bottleneck at 1/2 for the long flow and short flow 0; short flows 1 and 2 take 2 - 1/2 and 3 - 1/2.
  FlowNetwork net = network({1, 2, 3});
  const FlowId lng = add(net, {0, 1, 2}, 1);
  const FlowId s0 = add(net, {0}, 1), s1 = add(net, {1}, 1), s2 = add(net, {2}, 1);
  CHECK(net.rate(lng).value() == doctest::Approx(0.5 * kGB));
  CHECK(net.rate(s0).value() == doctest::Approx(0.5 * kGB));
  CHECK(net.rate(s1).value() == doctest::Approx(1.5 * kGB));
  CHECK(net.rate(s2).value() == doctest::Approx(2.5 * kGB));
}

TEST_CASE("max-min: a flow limited elsewhere leaves its share to the others") {
  // Link 0 (1 GB/s) carries a; link 1 (4 GB/s) carries a, b and c. Link 1's equal share 4/3 exceeds
  // link 0's 1, so a is held to 1 GB/s and b and c split the rest of link 1: (4 - 1) / 2 = 3/2.
  FlowNetwork net = network({1, 4});
  const FlowId a = add(net, {0, 1}, 1), b = add(net, {1}, 1), c = add(net, {1}, 1);
  CHECK(net.rate(a).value() == doctest::Approx(1 * kGB));
  CHECK(net.rate(b).value() == doctest::Approx(1.5 * kGB));
  CHECK(net.rate(c).value() == doctest::Approx(1.5 * kGB));
}

TEST_CASE("shares are recomputed when a flow ends") {
  // One 1 GB/s link, flows of 1 GB and 2 GB: both at 1/2 until the first ends at 2 s having sent
  // 1 GB; the second has 1 GB left at full rate and ends at 3 s.
  FlowNetwork net = network({1});
  const FlowId small = add(net, {0}, 1), big = add(net, {0}, 2);
  const auto done = run_to_end(net);
  REQUIRE(done.size() == 2);
  CHECK(done[0].first == small);
  CHECK(done[0].second == doctest::Approx(2.0));
  CHECK(done[1].first == big);
  CHECK(done[1].second == doctest::Approx(3.0));
}

TEST_CASE("shares are recomputed when a flow starts") {
  // A 2 GB flow alone on a 1 GB/s link from t = 0; a second 0.5 GB flow joins at t = 1 s.
  // From 1 s both run at 1/2: the newcomer ends at 1 + 0.5 / 0.5 = 2 s; the first has sent
  // 1 + 0.5 = 1.5 GB by then and ends at 2 + 0.5 = 2.5 s.
  FlowNetwork net = network({1});
  const FlowId first = add(net, {0}, 2);
  const auto e = net.next_event();
  REQUIRE(e);
  CHECK(to_seconds(e->time).value() == doctest::Approx(2.0));
  const FlowId second = add(net, {0}, 0.5, 0.0, 1.0);
  const auto done = run_to_end(net);
  REQUIRE(done.size() == 2);
  CHECK(done[0].first == second);
  CHECK(done[0].second == doctest::Approx(2.0));
  CHECK(done[1].first == first);
  CHECK(done[1].second == doctest::Approx(2.5));
}

TEST_CASE("a flow's latency delays its start once and it takes no bandwidth meanwhile") {
  // 1 GB at 1 GB/s after 5 us: done at 1 s + 5 us. During the 5 us the rate is 0.
  FlowNetwork net = network({1});
  const FlowId f = add(net, {0}, 1, 5e-6);
  CHECK(net.rate(f).value() == 0.0);
  const auto first = net.next_event();
  REQUIRE(first);
  CHECK(first->kind == FlowEventKind::start);
  CHECK(to_seconds(first->time).value() == doctest::Approx(5e-6));
  const auto done = run_to_end(net);
  REQUIRE(done.size() == 1);
  CHECK(done[0].second == doctest::Approx(1.0 + 5e-6));
}

TEST_CASE("removing a flow gives its share back") {
  FlowNetwork net = network({2});
  const FlowId a = add(net, {0}, 1), b = add(net, {0}, 1);
  CHECK(net.rate(a).value() == doctest::Approx(1 * kGB));
  net.remove_flow(b, SimTime());
  CHECK_FALSE(net.alive(b));
  // 2 GB/s to a alone.
  CHECK(net.rate(a).value() == doctest::Approx(2 * kGB));
  CHECK(net.flow_count() == 1);
}

TEST_CASE("flows on disjoint links do not disturb each other") {
  // Link 0 carries one flow of 1 GB at 1 GB/s (done at 1 s); link 1 carries two flows that end at 2 s.
  FlowNetwork net = network({1, 2});
  const FlowId lone = add(net, {0}, 1);
  add(net, {1}, 2);
  add(net, {1}, 2);
  const auto done = run_to_end(net);
  REQUIRE(done.size() == 3);
  CHECK(done[0].first == lone);
  CHECK(done[0].second == doctest::Approx(1.0));
  CHECK(done[2].second == doctest::Approx(2.0));
}

TEST_CASE("advancing to one tick merges completions within it") {
  // Two flows due at 1 s and 1 s + 0.4 ns: advancing to 1 s + 1 ns completes both at once.
  FlowNetwork net = network({1, 1});
  add(net, {0}, 1);
  add(net, {1}, 1 + 0.4e-9);
  const auto done = net.advance_to(to_sim_time(Seconds(1.0 + 1e-9)));
  CHECK(done.size() == 2);
  CHECK_FALSE(net.next_event());
}

TEST_CASE("a zero-byte flow completes when its latency has elapsed") {
  FlowNetwork net = network({1});
  add(net, {0}, 0, 2e-6);
  const auto done = run_to_end(net);
  REQUIRE(done.size() == 1);
  CHECK(done[0].second == doctest::Approx(2e-6));
}

namespace {

// Water-filling from scratch, written independently of FlowNetwork: raise every unfrozen flow by
// the smallest equal increment any link still allows, freeze the flows of the links that fill,
// repeat (Bertsekas & Gallager §6.5.2).
std::vector<double> reference_max_min(const std::vector<double>& capacity, const std::vector<std::vector<int>>& paths) {
  std::vector<double> rate(paths.size(), 0.0), spare = capacity;
  std::vector<bool> frozen(paths.size(), false);
  constexpr double kFull = 1e-9;  // relative: a link within this of full is full
  for (;;) {
    double step = -1.0;
    for (std::size_t l = 0; l < capacity.size(); ++l) {
      int users = 0;
      for (std::size_t f = 0; f < paths.size(); ++f) {
        if (!frozen[f] && std::find(paths[f].begin(), paths[f].end(), static_cast<int>(l)) != paths[f].end()) ++users;
      }
      if (users > 0 && (step < 0.0 || spare[l] / users < step)) step = spare[l] / users;
    }
    if (step < 0.0) return rate;
    for (std::size_t f = 0; f < paths.size(); ++f) {
      if (frozen[f]) continue;
      rate[f] += step;
      for (const int l : paths[f]) spare[static_cast<std::size_t>(l)] -= step;
    }
    for (std::size_t f = 0; f < paths.size(); ++f) {
      for (const int l : paths[f]) {
        if (spare[static_cast<std::size_t>(l)] <= kFull * capacity[static_cast<std::size_t>(l)]) frozen[f] = true;
      }
    }
  }
}

}  // namespace

TEST_CASE("incremental rates equal a from-scratch water-filling after every change") {
  std::mt19937 rng(20250505);  // fixed seed: the same network every run
  constexpr int kLinks = 24, kFlows = 60, kMaxPath = 5;
  std::vector<double> capacity(kLinks);
  std::uniform_real_distribution<double> gbps(1.0, 10.0);
  for (double& c : capacity) c = gbps(rng) * kGB;
  std::vector<BytesPerSecond> caps;
  for (const double c : capacity) caps.emplace_back(c);
  FlowNetwork net(caps);
  std::uniform_int_distribution<int> pick_link(0, kLinks - 1), path_len(1, kMaxPath);
  std::vector<FlowId> ids;
  std::vector<std::vector<int>> paths;
  const auto check = [&] {
    const std::vector<double> expected = reference_max_min(capacity, paths);
    for (std::size_t f = 0; f < ids.size(); ++f) {
      CHECK(net.rate(ids[f]).value() == doctest::Approx(expected[f]).epsilon(1e-6));
    }
  };
  for (int f = 0; f < kFlows; ++f) {
    std::vector<int> path;
    for (int k = path_len(rng); k > 0; --k) {
      const int l = pick_link(rng);
      if (std::find(path.begin(), path.end(), l) == path.end()) path.push_back(l);
    }
    ids.push_back(net.add_flow(path, Seconds(0), Bytes(1 * kGB), SimTime()));
    paths.push_back(path);
    if (f % 10 == 9) check();
  }
  // Remove every third flow, checking as we go.
  for (std::size_t i = ids.size(); i-- > 0;) {
    if (i % 3 != 0) continue;
    net.remove_flow(ids[i], SimTime());
    ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(i));
    paths.erase(paths.begin() + static_cast<std::ptrdiff_t>(i));
    check();
  }
}

// Coflows: a collective as one flow with bytes on many links and a known time alone.
namespace {

FlowId add_coflow(FlowNetwork& net, std::vector<LinkId> links, std::vector<double> gigabytes, double alone_s,
                  double now = 0.0) {
  std::vector<double> bytes;
  for (const double g : gigabytes) bytes.push_back(g * kGB);
  return net.add_coflow(links, bytes, to_sim_time(Seconds(alone_s)), to_sim_time(Seconds(now)));
}

}  // namespace

TEST_CASE("a coflow alone takes exactly its time alone, to the tick") {
  // 1 GB and 0.5 GB on two 1 GB/s links: at least 1 s; the rest of its time alone is latency.
  for (const double alone : {1.3, 1.0, 2.718281828, 1.000000001}) {
    FlowNetwork net = network({1, 1});
    const FlowId c = add_coflow(net, {0, 1}, {1, 0.5}, alone);
    const auto e = net.next_event();
    REQUIRE(e);
    CHECK(e->time.count() == to_sim_time(Seconds(alone)).count());
    const auto done = net.advance_to(e->time);
    REQUIRE(done.size() == 1);
    CHECK(done[0] == c);
  }
}

TEST_CASE("two equal bandwidth-bound coflows on one link each take twice as long") {
  // Each carries 1 GB over a 1 GB/s link in 1 s alone; together each gets 0.5 GB/s: 2 s.
  FlowNetwork net = network({1});
  add_coflow(net, {0}, {1}, 1.0);
  add_coflow(net, {0}, {1}, 1.0);
  const auto done = run_to_end(net);
  REQUIRE(done.size() == 2);
  CHECK(done[0].second == doctest::Approx(2.0));
  CHECK(done[1].second == doctest::Approx(2.0));
}

TEST_CASE("a coflow and a flow share a link max-min fairly in bytes per second") {
  // Link 1 GB/s. Coflow: 1 GB, 1 s alone (its cap is the link). Flow: 0.5 GB. Both run at
  // 0.5 GB/s until the flow ends at 1 s; the coflow has 0.5 GB left, alone again at 1 GB/s:
  // ends at 1.5 s.
  FlowNetwork net = network({1});
  const FlowId c = add_coflow(net, {0}, {1}, 1.0);
  const FlowId f = add(net, {0}, 0.5);
  CHECK(net.rate(c).value() == doctest::Approx(0.5 * kGB));
  CHECK(net.rate(f).value() == doctest::Approx(0.5 * kGB));
  const auto done = run_to_end(net);
  REQUIRE(done.size() == 2);
  CHECK(done[0].first == f);
  CHECK(done[0].second == doctest::Approx(1.0));
  CHECK(done[1].first == c);
  CHECK(done[1].second == doctest::Approx(1.5));
}

TEST_CASE("a latency-bound coflow is not slowed by a flow that takes the rest of the link") {
  // Coflow: 0.1 GB in 1 s alone, so it never needs more than 0.1 GB/s. A 1 GB flow takes the
  // other 0.9 GB/s: the coflow still ends at 1 s; the flow has 0.1 GB left and ends at
  // 1 + 0.1 / 1 = 1.1 s.
  FlowNetwork net = network({1});
  const FlowId c = add_coflow(net, {0}, {0.1}, 1.0);
  const FlowId f = add(net, {0}, 1);
  CHECK(net.rate(c).value() == doctest::Approx(0.1 * kGB));
  CHECK(net.rate(f).value() == doctest::Approx(0.9 * kGB));
  const auto done = run_to_end(net);
  REQUIRE(done.size() == 2);
  CHECK(done[0].first == c);
  CHECK(done[0].second == doctest::Approx(1.0));
  CHECK(done[1].first == f);
  CHECK(done[1].second == doctest::Approx(1.1));
}

TEST_CASE("a coflow uses each link in proportion to its bytes there") {
  // Coflow: 1 GB on link 0, 0.5 GB on link 1, 1 s alone; a 10 GB flow on link 1; both links
  // 1 GB/s. Raised together to level x, link 1 carries 0.5x + x = 1: x = 2/3 GB/s for both.
  // The coflow's busiest link runs at 2/3 of its 1 GB/s alone: 1.5 s.
  FlowNetwork net = network({1, 1});
  const FlowId c = add_coflow(net, {0, 1}, {1, 0.5}, 1.0);
  const FlowId f = add(net, {1}, 10);
  CHECK(net.rate(c).value() == doctest::Approx(2.0 / 3.0 * kGB));
  CHECK(net.rate(f).value() == doctest::Approx(2.0 / 3.0 * kGB));
  const auto done = run_to_end(net);
  REQUIRE(done.size() == 2);
  CHECK(done[0].first == c);
  CHECK(done[0].second == doctest::Approx(1.5));
}

TEST_CASE("a coflow without bytes or time is refused") {
  FlowNetwork net = network({1});
  CHECK_THROWS_AS(add_coflow(net, {0}, {0}, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(add_coflow(net, {0}, {1}, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(net.add_coflow(std::vector<LinkId>{0}, std::vector<double>{}, SimTime::ns(1), SimTime()),
                  std::invalid_argument);
}

TEST_CASE("a coflow cannot beat its links: a time alone shorter than its bytes allow is stretched") {
  // 1 GB over a 1 GB/s link cannot take 0.5 s: it takes 1 s.
  FlowNetwork net = network({1});
  add_coflow(net, {0}, {1}, 0.5);
  const auto done = run_to_end(net);
  REQUIRE(done.size() == 1);
  CHECK(done[0].second == doctest::Approx(1.0));
}

TEST_CASE("a coflow given only some of its links keeps its rate's unit through the reference bytes") {
  // The coflow of "a coflow uses each link in proportion" with link 0 left out but its 1 GB as the
  // reference: link 1 still carries 0.5 x its rate, so the flow beside it sees the same 2/3 GB/s.
  FlowNetwork net = network({1, 1});
  const FlowId c = net.add_coflow(std::vector<LinkId>{1}, std::vector<double>{0.5 * kGB}, SimTime::ns(1'000'000'000),
                                  SimTime(), 1 * kGB);
  const FlowId f = add(net, {1}, 10);
  CHECK(net.rate(c).value() == doctest::Approx(2.0 / 3.0 * kGB));
  CHECK(net.rate(f).value() == doctest::Approx(2.0 / 3.0 * kGB));
  // A reference below a given link's bytes is refused.
  CHECK_THROWS_AS(net.add_coflow(std::vector<LinkId>{0}, std::vector<double>{2 * kGB}, SimTime::ns(1), SimTime(), kGB),
                  std::invalid_argument);
}

TEST_CASE("a flow over a link the network does not have is refused") {
  FlowNetwork net = network({10, 10});
  CHECK_THROWS_AS(add(net, {0, 2}, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(add(net, {-1}, 1.0), std::invalid_argument);
  CHECK(net.flow_count() == 0);
}

TEST_CASE("a network on a topology runs its flows as one given the topology's link capacities") {
  // Either way a link's state is made when a flow first crosses it, its capacity read then: from the
  // topology's link, or from the list. The two networks end every flow at the same tick.
  const ClusterTopology t = build_fat_tree(4, test::hgx_node(test::kH800NvLink), test::ib_fabric(8));
  std::vector<BytesPerSecond> caps;
  for (const Link& l : t.links()) caps.push_back(l.bandwidth);
  FlowNetwork from_topology(t);
  FlowNetwork from_caps(caps);
  for (int i = 0; i < 40; ++i) {
    const int src = (i * 7) % t.gpu_count(), dst = (i * 13 + 5) % t.gpu_count();
    if (src == dst) continue;
    const Route r = t.route(src, dst, static_cast<std::uint64_t>(i));
    const Bytes bytes(static_cast<double>((i % 5) + 1) * kGB / 8);
    from_topology.add_flow(r, bytes, SimTime());
    from_caps.add_flow(r, bytes, SimTime());
  }
  const auto a = run_to_end(from_topology);
  const auto b = run_to_end(from_caps);
  REQUIRE(a.size() == b.size());
  CHECK(a.size() > 30);
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK(a[i].second == b[i].second);
  }
}

TEST_CASE("a coflow over a link the network does not have is refused, and the network goes on") {
  FlowNetwork net = network({10, 10});
  CHECK_THROWS_AS(add_coflow(net, {0, 5}, {1.0, 1.0}, 1.0), std::invalid_argument);
  CHECK(net.flow_count() == 0);
  const FlowId f = add(net, {0}, 10.0);
  const auto done = run_to_end(net);
  REQUIRE(done.size() == 1);
  CHECK(done[0].first == f);
  CHECK(done[0].second == doctest::Approx(1.0));  // 10 GB at 10 GB/s
}

// Departures alone refill only the flows at or above the slowest departed flow's rate
// (FlowNetwork::recompute). The same workload run with full refills is the reference.
namespace {

// A random mix of flows (sizes, latencies, paths) and coflows, run event by event; the rates of
// every live flow are recorded after each event.
// Returns each flow's completion tick, in the order the flows were added, and the rates.
constexpr int kMixLinks = 30;

std::vector<BytesPerSecond> mix_capacities() {
  std::mt19937 rng(76);  // fixed seed: the same network every run
  std::uniform_real_distribution<double> gbps(1.0, 20.0);
  std::vector<BytesPerSecond> caps;
  for (int l = 0; l < kMixLinks; ++l) caps.push_back(gigabytes_per_second(gbps(rng)));
  return caps;
}

// On `net` (built on mix_capacities()), the workload of `seed`.
std::pair<std::vector<std::int64_t>, std::vector<double>> run_mix_on(FlowNetwork& net, std::uint64_t& filled,
                                                                     unsigned seed = 77) {
  std::mt19937 rng(seed);  // fixed seed: the same workload every run
  constexpr int kLinks = kMixLinks;
  std::uniform_real_distribution<double> gigabytes(0.01, 2.0), latency(0.0, 0.05);
  std::uniform_int_distribution<int> pick_link(0, kLinks - 1), path_len(1, 6);
  std::vector<FlowId> ids;
  const auto random_path = [&] {
    std::vector<LinkId> path;
    for (int k = path_len(rng); k > 0; --k) {
      const int l = pick_link(rng);
      if (std::find(path.begin(), path.end(), l) == path.end()) path.push_back(l);
    }
    return path;
  };
  std::vector<double> rates;
  std::map<FlowId, std::int64_t> finished;  // a FlowId is never handed out twice
  const auto step = [&](SimTime t) {
    for (const FlowId id : ids) {
      if (net.alive(id)) rates.push_back(net.rate(id).value());
    }
    for (const FlowId f : net.advance_to(t)) finished.emplace(f, t.count());
  };
  // Four waves; flows of one wave share a size class, so many finish together, as a collective's do.
  for (int wave = 0; wave < 4; ++wave) {
    const SimTime at = to_sim_time(Seconds(0.2 * wave));
    const double size = gigabytes(rng);
    for (int i = 0; i < 150; ++i) {
      const double bytes = (i % 3 == 0 ? gigabytes(rng) : size) * kGB;
      ids.push_back(net.add_flow(random_path(), Seconds(i % 4 == 0 ? latency(rng) : 0.0), Bytes(bytes), at));
    }
    for (int i = 0; i < 5; ++i) {
      const std::vector<LinkId> links = random_path();
      std::vector<double> bytes;
      for (std::size_t k = 0; k < links.size(); ++k) bytes.push_back(gigabytes(rng) * kGB);
      ids.push_back(net.add_coflow(links, bytes, to_sim_time(Seconds(0.05 + 0.1 * i)), at));
    }
    const SimTime until = to_sim_time(Seconds(0.2 * (wave + 1)));
    if (wave == 3) continue;
    while (const auto e = net.next_event()) {
      if (e->time > until) break;
      step(e->time);
    }
  }
  while (const auto e = net.next_event()) step(e->time);
  filled = net.rates_filled();
  std::vector<std::int64_t> finishes;
  for (const FlowId id : ids) finishes.push_back(finished.contains(id) ? finished.at(id) : -1);
  return {finishes, rates};
}

std::pair<std::vector<std::int64_t>, std::vector<double>> run_mix(bool incremental, std::uint64_t& filled) {
  FlowNetwork net(mix_capacities());
  net.set_incremental(incremental);
  return run_mix_on(net, filled);
}

}  // namespace

TEST_CASE("refilling from the slowest departed flow gives the rates and completions of full refills") {
  std::uint64_t filled_incremental = 0, filled_full = 0;
  const auto [inc_finish, inc_rates] = run_mix(true, filled_incremental);
  const auto [full_finish, full_rates] = run_mix(false, filled_full);
  REQUIRE(inc_finish.size() == 620);  // every flow and coflow of the four waves
  REQUIRE(full_finish.size() == 620);
  REQUIRE(inc_rates.size() == full_rates.size());
  for (std::size_t i = 0; i < inc_rates.size(); ++i) {
    CHECK(inc_rates[i] == doctest::Approx(full_rates[i]).epsilon(1e-9));
  }
  for (std::size_t i = 0; i < inc_finish.size(); ++i) {
    CHECK(full_finish[i] > 0);                             // every flow completed
    CHECK(std::abs(inc_finish[i] - full_finish[i]) <= 1);  // a tick of rounding at most
  }
  // The shortcut was taken: fewer rates filled than by refilling whole components.
  CHECK(filled_incremental < filled_full);
}

TEST_CASE("a network reset runs a workload as a new network does, bit for bit") {
  std::uint64_t filled_new = 0, filled_reused = 0, ignored = 0;
  FlowNetwork fresh(mix_capacities());
  const auto [new_finish, new_rates] = run_mix_on(fresh, filled_new);
  // Another workload to its end, then one left in flight (flows and a coflow,
  // some still in their latency), then the reset.
  FlowNetwork reused(mix_capacities());
  run_mix_on(reused, ignored, 5);
  reused.add_flow(std::vector<LinkId>{0, 1, 2}, Seconds(0.0), Bytes(kGB), SimTime::ns(0));
  reused.add_flow(std::vector<LinkId>{3}, Seconds(0.5), Bytes(kGB), SimTime::ns(0));
  reused.add_coflow(std::vector<LinkId>{4, 5}, std::vector<double>{kGB, kGB / 2}, to_sim_time(Seconds(0.3)),
                    SimTime::ns(0));
  REQUIRE(reused.next_event());
  reused.advance_to(reused.next_event()->time);
  CHECK(reused.flow_count() > 0);
  reused.reset();
  CHECK(reused.flow_count() == 0);
  CHECK(reused.now() == SimTime());
  const auto [reused_finish, reused_rates] = run_mix_on(reused, filled_reused);
  CHECK(reused_finish == new_finish);
  CHECK(reused_rates == new_rates);
  CHECK(filled_reused == filled_new);
}

TEST_CASE("a departure can slow a faster flow, and the refill sees it") {
  // A and B share link 0 (1 GB/s); B and C share link 1 (2 GB/s). With A, B gets 0.5 and C 1.5;
  // without A, B gets 1 and C drops to 1: C was faster than A, so it is refilled.
  FlowNetwork net = network({1, 2});
  const FlowId a = add(net, {0}, 1);
  const FlowId b = add(net, {0, 1}, 10);
  const FlowId c = add(net, {1}, 10);
  CHECK(net.rate(b).value() == doctest::Approx(0.5 * kGB));
  CHECK(net.rate(c).value() == doctest::Approx(1.5 * kGB));
  net.remove_flow(a, SimTime());
  CHECK(net.rate(b).value() == doctest::Approx(1.0 * kGB));
  CHECK(net.rate(c).value() == doctest::Approx(1.0 * kGB));
}

TEST_CASE("departures leave slower flows alone and refill none of them") {
  // Link 0 (1 GB/s) holds four slow flows; link 1 (10 GB/s) two fast ones, one of them also on
  // link 2. Removing a fast flow refills the other fast one and nothing on link 0.
  FlowNetwork net = network({1, 10, 10});
  std::vector<FlowId> slow;
  for (int i = 0; i < 4; ++i) slow.push_back(add(net, {0}, 1));
  const FlowId fast = add(net, {1, 2}, 10);
  const FlowId other = add(net, {1}, 10);
  CHECK(net.rate(fast).value() == doctest::Approx(5 * kGB));
  const std::uint64_t before = net.rates_filled();
  net.remove_flow(other, SimTime());
  CHECK(net.rate(fast).value() == doctest::Approx(10 * kGB));
  CHECK(net.rates_filled() - before == 1);
  for (const FlowId f : slow) CHECK(net.rate(f).value() == doctest::Approx(0.25 * kGB));
}
