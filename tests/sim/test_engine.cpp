// The engine's contract (sim/engine.h): streams, dependencies, the rate of
// compute under communication, flows sharing links, collectives over GPU groups, observers and
// bit-reproducibility. Times are nanoseconds.
#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

#include "sim/engine.h"

namespace doctest {
template <>
struct StringMaker<tcsim::SimTime> {
  static String convert(const tcsim::SimTime& t) { return ::doctest::toString(t.count()) + " ns"; }
};
}  // namespace doctest

using namespace tcsim;
using namespace tcsim::sim;

namespace {

TaskSpec compute(int gpu, std::int64_t ns, std::int64_t shared_ns = -1, int priority = 0) {
  return {.activity = Activity::compute,
          .gpu = gpu,
          .priority = priority,
          .time = SimTime::ns(ns),
          .time_shared = SimTime::ns(shared_ns < 0 ? ns : shared_ns)};
}

TaskSpec delay(int gpu, std::int64_t ns, bool holds_comm = false, std::int32_t group = -1) {
  return {.activity = Activity::delay,
          .gpu = gpu,
          .time = SimTime::ns(ns),
          .gpu_group = group,
          .holds_comm_sms = holds_comm};
}

struct Recorder : Observer {
  std::vector<std::int64_t> begins, ends;
  std::vector<TaskId> order;
  void on_begin(const TaskEvent& t) override { begins.push_back(t.begin.count()); }
  void on_end(const TaskEvent& t) override {
    ends.push_back(t.end.count());
    order.push_back(t.id);
  }
};

}  // namespace

TEST_CASE("tasks on one GPU's compute stream run one after another") {
  Engine e(1, {});
  const TaskId a = e.add_task(compute(0, 300));
  const TaskId b = e.add_task(compute(0, 500));
  // Both ready at 0; one stream: 300 + 500.
  CHECK(e.run() == SimTime::ns(800));
  CHECK(e.end_of(a) == SimTime::ns(300));
  CHECK(e.begin_of(b) == SimTime::ns(300));
}

TEST_CASE("different GPUs compute in parallel and a task waits for its last dependency") {
  Engine e(2, {});
  const TaskId a = e.add_task(compute(0, 300));
  const TaskId b = e.add_task(compute(1, 700));
  const TaskId c = e.add_task(compute(0, 100));
  e.add_dependency(a, c);
  e.add_dependency(b, c);
  // c starts at max(300, 700) and runs 100.
  CHECK(e.run() == SimTime::ns(800));
  CHECK(e.begin_of(c) == SimTime::ns(700));
}

TEST_CASE("the ready task with the lowest priority number runs first") {
  Engine e(1, {});
  const TaskId late = e.add_task(compute(0, 10, -1, 5));
  const TaskId early = e.add_task(compute(0, 10, -1, 1));
  e.run();
  CHECK(e.begin_of(early) == SimTime::ns(0));
  CHECK(e.begin_of(late) == SimTime::ns(10));
}

TEST_CASE("communication SMs slow compute for exactly the time they are held") {
  // A needs 100 ns on every SM, 200 ns on the SMs communication leaves (half rate).
  // A delay holding the communication SMs runs from 20 to 60 (after a 20 ns task on GPU 1).
  // Work done: 20/100 by 20, + 40/200 by 60 = 40%; the remaining 60% at full rate ends at 120.
  Engine e(2, {});
  const TaskId a = e.add_task(compute(0, 100, 200));
  const TaskId x = e.add_task(compute(1, 20));
  const TaskId d = e.add_task(delay(0, 40, true));
  e.add_dependency(x, d);
  e.run();
  CHECK(e.end_of(a) == SimTime::ns(120));
  CHECK(e.begin_of(d) == SimTime::ns(20));
}

TEST_CASE("a transfer alone takes its latency plus bytes over the narrowest link") {
  // Links of 1 GB/s and 2 GB/s; 1 MB over both with 2 us latency: 2 us + 1e6 / 1e9 s = 1002 us.
  // The flow network's times are doubles, rounded up to the engine's nanosecond tick: within 1 ns.
  Engine e(1, {gigabytes_per_second(1), gigabytes_per_second(2)});
  const std::vector<hw::LinkId> links{0, 1};
  const std::int32_t tr = e.add_transfer(links, microseconds(2), Bytes(1e6));
  e.add_task({.activity = Activity::transfer, .transfer = tr});
  const std::int64_t end = e.run().count();
  CHECK(end >= 1'002'000);
  CHECK(end <= 1'002'001);
}

TEST_CASE("two transfers on one link share it equally") {
  // 1 GB/s shared by two 1 MB flows: each at 0.5 GB/s, both end at 2 ms.
  Engine e(1, {gigabytes_per_second(1)});
  const std::vector<hw::LinkId> link{0};
  const TaskId a =
      e.add_task({.activity = Activity::transfer, .transfer = e.add_transfer(link, Seconds(0), Bytes(1e6))});
  const TaskId b =
      e.add_task({.activity = Activity::transfer, .transfer = e.add_transfer(link, Seconds(0), Bytes(1e6))});
  e.run();
  CHECK(e.end_of(a) == e.end_of(b));
  CHECK(e.end_of(a).count() >= 2'000'000);
  CHECK(e.end_of(a).count() <= 2'000'001);
}

TEST_CASE("a collective over a GPU group slows the compute of every member while it runs") {
  // GPUs 0 and 1 each compute 100 ns (200 ns on the SMs communication leaves). A delay of 50 ns over
  // both, after a 50 ns task on GPU 2, holds their communication SMs from 50 to 100: by 50 each has
  // done half its work, by 100 another 50/200 = a quarter; the last quarter at full rate ends at 125.
  Engine e(3, {});
  const std::vector<int> members{0, 1};
  const std::int32_t group = e.add_gpu_group(members);
  const TaskId a = e.add_task(compute(0, 100, 200));
  const TaskId b = e.add_task(compute(1, 100, 200));
  const TaskId x = e.add_task(compute(2, 50));
  const TaskId c = e.add_task(delay(0, 50, true, group));
  e.add_dependency(x, c);
  e.run();
  CHECK(e.begin_of(c) == SimTime::ns(50));
  CHECK(e.end_of(a) == SimTime::ns(125));
  CHECK(e.end_of(b) == SimTime::ns(125));
}

TEST_CASE("observers see every begin and end in time order") {
  Engine e(2, {});
  Recorder rec;
  e.add_observer(rec);
  const TaskId a = e.add_task(compute(0, 30));
  const TaskId m = e.add_task({.activity = Activity::marker});
  const TaskId b = e.add_task(compute(1, 20));
  e.add_dependency(a, m);
  e.add_dependency(m, b);
  e.run();
  CHECK(rec.begins.size() == 3);
  CHECK(rec.ends == std::vector<std::int64_t>{30, 30, 50});
  CHECK(rec.order == std::vector<TaskId>{a, m, b});
}

TEST_CASE("the same graph gives the same times bit for bit") {
  const auto build_and_run = [] {
    Engine e(4, {gigabytes_per_second(3)});
    const std::vector<hw::LinkId> link{0};
    std::vector<TaskId> all;
    for (int i = 0; i < 200; ++i) {
      const TaskId c = e.add_task(compute(i % 4, 97 + (i * 31) % 50, 150 + (i * 17) % 70, i % 7));
      const TaskId d = e.add_task(delay(i % 4, 13 + i % 11, true));
      const TaskId f = e.add_task(
          {.activity = Activity::transfer, .transfer = e.add_transfer(link, Seconds(1e-7), Bytes(1000 + i))});
      e.add_dependency(c, d);
      if (i > 3) e.add_dependency(all[static_cast<std::size_t>(i - 3)], c);
      e.add_dependency(d, f);
      all.push_back(f);
    }
    e.run();
    std::vector<std::int64_t> ends;
    for (int t = 0; t < e.task_count(); ++t) ends.push_back(e.end_of(t).count());
    return ends;
  };
  CHECK(build_and_run() == build_and_run());
}

TEST_CASE("a dependency cycle is reported, not run") {
  Engine e(1, {});
  const TaskId a = e.add_task(compute(0, 10));
  const TaskId b = e.add_task(compute(0, 10));
  e.add_dependency(a, b);
  e.add_dependency(b, a);
  CHECK_THROWS_AS(e.run(), std::logic_error);
}
