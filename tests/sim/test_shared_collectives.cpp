// Collectives sharing links in the one engine (sim/engine.h, hw::FlowNetwork
// coflows): real ring all-reduces from the flow simulation, against closed
// forms; a collective alone keeps its time alone to the nanosecond; and a whole
// step with shared collectives against the same step with fixed delays.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "hardware/builders.h"
#include "hardware/collective_run.h"
#include "hardware/collectives.h"
#include "scenarios/loader.h"
#include "sim/collective_cache.h"
#include "sim/engine.h"
#include "sim/step.h"
#include "tests/hardware/fixtures.h"

using namespace tcsim;
using namespace tcsim::sim;

namespace {

std::vector<BytesPerSecond> capacities(const hw::ClusterTopology& t) {
  std::vector<BytesPerSecond> caps;
  for (const hw::Link& l : t.links()) caps.push_back(l.bandwidth);
  return caps;
}

// A collective use as the step writes it: a coflow of the pattern's bytes x
// scale and its time alone.
std::int32_t coflow_of(Engine& e, CollectiveCache& cache, const CollectiveUse& use) {
  std::vector<hw::LinkId> links;
  std::vector<double> bytes;
  for (const auto& [l, unit] : cache.pattern_links(use.pattern)) {
    links.push_back(l);
    bytes.push_back(unit * use.scale);
  }
  return e.add_coflow(links, bytes, use.time);
}

std::vector<int> first_gpus(int n) {
  std::vector<int> g(static_cast<std::size_t>(n));
  std::iota(g.begin(), g.end(), 0);
  return g;
}

}  // namespace

TEST_CASE("two concurrent ring all-reduces over the same GPUs each take twice as long") {
  // 16 GPUs on two nodes, one ring per NIC, 1 GiB: bandwidth-bound. Two at once halve each one's
  // share of every link they have in common: each moves its bytes at half its busiest link's
  // capacity, so it takes twice that link's bytes / capacity (the per-step latencies of its time
  // alone are not stretched: together it ends a little before twice its time alone).
  const hw::ClusterTopology t = hw::build_fat_tree(2, hw::test::hgx_node(hw::test::kH800NvLink), hw::test::ib_fabric());
  CollectiveCache cache(t, 8);
  const CollectiveUse use = cache.ring(hw::CollectiveOp::all_reduce, first_gpus(16), gib(1));
  Engine e(16, capacities(t));
  const std::int32_t c = coflow_of(e, cache, use);
  const TaskId a = e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = c});
  const TaskId b = e.add_task({.activity = Activity::collective, .gpu = 8, .coflow = c});
  e.run();
  double busiest = 0;  // seconds: the longest any link needs for its bytes
  for (const auto& [l, unit] : cache.pattern_links(use.pattern)) {
    busiest = std::max(busiest, unit * use.scale / t.link(l).bandwidth.value());
  }
  const double alone = to_seconds(use.time).value();
  CHECK(busiest < alone);
  CHECK(busiest > 0.5 * alone);
  for (const TaskId x : {a, b}) {
    CHECK(to_seconds(e.end_of(x)).value() == doctest::Approx(2 * busiest).epsilon(1e-6));
    CHECK(to_seconds(e.end_of(x)).value() == doctest::Approx(2 * alone).epsilon(0.05));
  }
}

TEST_CASE("a collective that meets nothing on its links takes its time alone, to the nanosecond") {
  const hw::ClusterTopology t = hw::build_fat_tree(2, hw::test::hgx_node(hw::test::kH800NvLink), hw::test::ib_fabric());
  CollectiveCache cache(t, 8);
  for (const Bytes size : {kib(8), mib(3), gib(1)}) {
    const CollectiveUse use = cache.ring(hw::CollectiveOp::reduce_scatter, first_gpus(16), size);
    Engine e(16, capacities(t));
    const std::int32_t c = coflow_of(e, cache, use);
    const TaskId before = e.add_task({.activity = Activity::delay, .time = SimTime::ns(1000)});
    const TaskId coll = e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = c});
    const TaskId next = e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = c});
    e.add_dependency(before, coll);
    e.add_dependency(coll, next);
    e.run();
    CHECK(e.end_of(coll) - e.begin_of(coll) == use.time);
    CHECK(e.end_of(next) == SimTime::ns(1000) + use.time + use.time);
  }
}

TEST_CASE("a pipeline send beside an all-to-all takes its fair share of the NIC") {
  // The send crosses GPU 0's NIC, which the all-to-all also saturates: the send gets less than
  // the NIC alone would give it, and the all-to-all ends later than alone.
  const hw::ClusterTopology t = hw::build_fat_tree(2, hw::test::hgx_node(hw::test::kH800NvLink), hw::test::ib_fabric());
  CollectiveCache cache(t, 8);
  const std::vector<int> gpus = first_gpus(16);
  const SimTime alone = cache.time("a2a", [&] {
    return hw::all_to_all({gpus, hw::test::kGpusPerNode}, gib(1), hw::CollectiveAlgo::direct);
  });
  const int pattern = cache.pattern("a2a unit", [&] {
    return hw::all_to_all({gpus, hw::test::kGpusPerNode}, Bytes(1), hw::CollectiveAlgo::direct);
  });
  const CollectiveUse use{.time = alone, .pattern = pattern, .scale = gib(1).value()};
  const hw::Route route = t.route(0, 8, 0);
  Engine e(16, capacities(t));
  const TaskId coll = e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = coflow_of(e, cache, use)});
  const Bytes send = mib(64);
  const TaskId tr = e.add_task(
      {.activity = Activity::transfer, .gpu = 0, .transfer = e.add_transfer(route.links, route.latency, send)});
  e.run();
  const double nic = t.link(route.links[1]).bandwidth.value();
  const double send_alone = route.latency.value() + send.value() / nic;
  CHECK(to_seconds(e.end_of(tr)).value() > 1.5 * send_alone);
  CHECK(e.end_of(coll) > alone);
}

TEST_CASE("collectives of one lane that overlap are refused") {
  Engine e(1, {gigabytes_per_second(1)});
  const std::vector<hw::LinkId> links{0};
  const std::vector<double> bytes{1e6};
  const std::int32_t c = e.add_coflow(links, bytes, SimTime::ns(2'000'000));
  e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = c, .lane = 3});
  e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = c, .lane = 3});
  CHECK_THROWS_AS(e.run(), std::logic_error);
}

TEST_CASE("a collective in parts ends with its most crowded part") {
  // Two members' links (0 and 1), 1 GB each, 1 s alone; a 1 GB send crosses link 0 only. Part 0
  // shares its link: both at 0.5 GB/s until the send ends at 2 s. Part 1 runs alone and ends at
  // 1 s. The collective ends with part 0 at 2 s.
  Engine e(2, {gigabytes_per_second(1), gigabytes_per_second(1)});
  const std::vector<hw::LinkId> links{0, 1}, send{0};
  const std::vector<double> bytes{1e9, 1e9};
  const std::vector<std::int32_t> parts{0, 1};
  const std::int32_t c = e.add_coflow(links, bytes, SimTime::ns(1'000'000'000), parts);
  const TaskId coll = e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = c});
  const TaskId tr =
      e.add_task({.activity = Activity::transfer, .gpu = 1, .transfer = e.add_transfer(send, Seconds(0), Bytes(1e9))});
  e.run();
  CHECK(e.end_of(coll) == SimTime::ns(2'000'000'000));
  CHECK(e.end_of(tr) == SimTime::ns(2'000'000'000));
  // As one part, the collective would meet the send on link 0 all the same: the same 2 s.
  Engine whole(2, {gigabytes_per_second(1), gigabytes_per_second(1)});
  const std::int32_t w = whole.add_coflow(links, bytes, SimTime::ns(1'000'000'000));
  const TaskId coll2 = whole.add_task({.activity = Activity::collective, .gpu = 0, .coflow = w});
  whole.add_task(
      {.activity = Activity::transfer, .gpu = 1, .transfer = whole.add_transfer(send, Seconds(0), Bytes(1e9))});
  whole.run();
  CHECK(whole.end_of(coll2) == SimTime::ns(2'000'000'000));
}

TEST_CASE("links only one lane crosses are left out of the sharing without changing any time") {
  // Two collectives in one lane, one after the other, on links 0 and 1; a transfer shares link 1.
  // With a lane the engine leaves link 0 out (only that lane crosses it); without one it keeps it.
  // Link 0 is the coflows' busiest link but never their bottleneck while they run one at a time,
  // so both runs end at the same nanosecond, and the transfer slows them on link 1 in both.
  const auto run = [](std::int32_t lane) {
    Engine e(1, {gigabytes_per_second(1), gigabytes_per_second(1)});
    const std::vector<hw::LinkId> links{0, 1}, send{1};
    const std::vector<double> bytes{1e9, 0.6e9};
    const std::int32_t c = e.add_coflow(links, bytes, SimTime::ns(1'200'000'000));
    const TaskId a = e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = c, .lane = lane});
    const TaskId b = e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = c, .lane = lane});
    e.add_dependency(a, b);
    const TaskId tr = e.add_task(
        {.activity = Activity::transfer, .gpu = 0, .transfer = e.add_transfer(send, Seconds(0), Bytes(0.8e9))});
    e.run();
    return std::vector<std::int64_t>{e.end_of(a).count(), e.end_of(b).count(), e.end_of(tr).count()};
  };
  const std::vector<std::int64_t> pruned = run(3), kept = run(-1);
  CHECK(pruned == kept);
  // And the transfer did slow the first collective: it ends after its 1.2 s alone.
  CHECK(pruned[0] > 1'200'000'000);
}

TEST_CASE("a collective shape two lanes run at once keeps its links shared") {
  // The same coflow on lanes 3 and 4 (and 3 again, later): its link carries two things at once, so
  // neither is left out of the sharing, and the two running together each take twice their time alone.
  Engine e(1, {gigabytes_per_second(1)});
  const std::vector<hw::LinkId> links{0};
  const std::vector<double> bytes{1e9};
  const std::int32_t c = e.add_coflow(links, bytes, SimTime::ns(1'000'000'000));
  const TaskId a = e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = c, .lane = 3});
  const TaskId b = e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = c, .lane = 4});
  const TaskId later = e.add_task({.activity = Activity::collective, .gpu = 0, .coflow = c, .lane = 3});
  e.add_dependency(a, later);
  e.add_dependency(b, later);
  e.run();
  CHECK(e.end_of(a).count() == 2'000'000'000);
  CHECK(e.end_of(b).count() == 2'000'000'000);
  CHECK(e.end_of(later).count() == 3'000'000'000);
}

TEST_CASE("rings routed once per group take the times and carry the bytes each routed on its own would") {
  // CollectiveCache::ring routes a group's ring once for every size and op and for its pattern; each
  // result must equal a schedule run and summed with routes of its own.
  const hw::ClusterTopology t =
      hw::build_fat_tree(4, hw::test::hgx_node(hw::test::kH800NvLink), hw::test::ib_fabric(8));
  CollectiveCache cache(t, 8);
  const std::vector<int> gpus = first_gpus(32);
  const hw::GroupLayout group{gpus, t.gpus_per_node()};
  for (const hw::CollectiveOp op :
       {hw::CollectiveOp::all_reduce, hw::CollectiveOp::reduce_scatter, hw::CollectiveOp::all_gather}) {
    for (const Bytes size : {kib(8), mib(3), gib(1)}) {
      const CollectiveUse use = cache.ring(op, gpus, size);
      const hw::Schedule alone = op == hw::CollectiveOp::all_reduce       ? hw::ring_all_reduce(group, size, 8)
                                 : op == hw::CollectiveOp::reduce_scatter ? hw::ring_reduce_scatter(group, size, 8)
                                                                          : hw::ring_all_gather(group, size, 8);
      CHECK(use.time == time_collective(t, alone).time);
      CHECK(cache.pattern_links(use.pattern) == link_bytes(t, hw::ring_reduce_scatter(group, Bytes(1), 8)));
    }
  }
}

TEST_CASE("a cache of times only gives the same times and makes no pattern") {
  // What the bound on a step uses (sim/step_bound.h): the times alone, no link traffic.
  const hw::ClusterTopology t =
      hw::build_fat_tree(4, hw::test::hgx_node(hw::test::kH800NvLink), hw::test::ib_fabric(8));
  CollectiveCache full(t, 8);
  CollectiveCache times(t, 8);
  times.set_times_only(true);
  const std::vector<int> gpus = first_gpus(32);
  for (const hw::CollectiveOp op :
       {hw::CollectiveOp::all_reduce, hw::CollectiveOp::reduce_scatter, hw::CollectiveOp::all_gather}) {
    const CollectiveUse a = full.ring(op, gpus, mib(3));
    const CollectiveUse b = times.ring(op, gpus, mib(3));
    CHECK(b.time == a.time);
    CHECK(a.pattern >= 0);
    CHECK(b.pattern == -1);
  }
  CHECK(times.take_patterns().empty());
}

TEST_CASE("a schedule run with routes that do not match its transfers is refused") {
  const hw::ClusterTopology t = hw::build_fat_tree(2, hw::test::hgx_node(hw::test::kH800NvLink), hw::test::ib_fabric());
  const hw::GroupLayout group{first_gpus(16), t.gpus_per_node()};
  const hw::Schedule ring = hw::ring_all_reduce(group, mib(1), 8);
  const hw::StepRoutes routes = hw::schedule_routes(t, ring);
  CHECK(hw::run_schedule(t, ring, {}, routes).time == hw::run_schedule(t, ring).time);
  // As many steps, fewer transfers in each (four channels instead of eight).
  const hw::StepRoutes fewer = hw::schedule_routes(t, hw::ring_all_reduce(group, mib(1), 4));
  REQUIRE(fewer.steps() == routes.steps());
  CHECK_THROWS_AS(hw::run_schedule(t, ring, {}, fewer), std::invalid_argument);
  CHECK_THROWS_AS(hw::run_schedule(t, ring, {}, hw::StepRoutes{}), std::invalid_argument);
}

TEST_CASE("schedules under one routes key that cross other pairs are routed on their own") {
  // Two rings of the same size over different GPUs: as many steps and transfers, other ends. Reusing the first
  // ring's routes for the second would put its bytes on the first ring's links.
  const hw::ClusterTopology t =
      hw::build_fat_tree(4, hw::test::hgx_node(hw::test::kH800NvLink), hw::test::ib_fabric(8));
  CollectiveCache cache(t, 8);
  std::vector<int> second(16);
  std::iota(second.begin(), second.end(), 16);
  const hw::Schedule a = hw::ring_reduce_scatter({first_gpus(16), t.gpus_per_node()}, mib(1), 8);
  const hw::Schedule b = hw::ring_reduce_scatter({second, t.gpus_per_node()}, mib(1), 8);
  REQUIRE(a.steps.size() == b.steps.size());
  REQUIRE(a.steps.front().transfers.size() == b.steps.front().transfers.size());
  CHECK(cache.shared_time(
            "a", "", [&] { return a; }, "one key") == time_collective(t, a).time);
  const int pattern = cache.shared_pattern(
      "b", [&] { return b; }, "one key");
  CHECK(cache.pattern_links(pattern) == link_bytes(t, b));
  CHECK(cache.pattern_links(pattern) != link_bytes(t, a));
}

TEST_CASE("a schedule's link bytes are each route's bytes added up link by link") {
  // Against the plain sum: every crossing added to its link's total in route order (a map), for a ring,
  // a tree with repeated steps and an all-to-all on a fat-tree; the figures bit for bit, the links in id order.
  const hw::ClusterTopology t =
      hw::build_fat_tree(4, hw::test::hgx_node(hw::test::kH800NvLink), hw::test::ib_fabric(8));
  const hw::GroupLayout group{first_gpus(32), t.gpus_per_node()};
  std::vector<std::int32_t> slots;  // one scratch for all three, as a collective cache keeps it
  for (const hw::Schedule& s : {hw::ring_all_reduce(group, mib(3), 4), hw::tree_all_reduce(group, mib(8), mib(1)),
                                hw::all_to_all(group, mib(2), hw::CollectiveAlgo::direct)}) {
    CAPTURE(s.name);
    const hw::StepRoutes routes = hw::schedule_routes(t, s);
    std::map<hw::LinkId, double> plain;
    for (std::size_t i = 0; i < s.steps.size(); ++i) {
      for (std::size_t j = 0; j < s.steps[i].transfers.size(); ++j) {
        for (const hw::LinkId l : routes.links(i, j)) {
          plain[l] += s.steps[i].transfers[j].bytes.value() * s.steps[i].repeat;
        }
      }
    }
    const LinkBytes expected(plain.begin(), plain.end());
    CHECK(link_bytes(t, s, &routes, &slots) == expected);
    CHECK(link_bytes(t, s) == expected);
    CHECK(std::all_of(slots.begin(), slots.end(), [](std::int32_t v) { return v == -1; }));  // left as found
  }
}
