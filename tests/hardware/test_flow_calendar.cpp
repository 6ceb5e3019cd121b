// The flow network's calendar: earliest first, ties in the order scheduled,
// one entry per flow.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "hardware/flow_calendar.h"

using tcsim::hw::FlowCalendar;

TEST_CASE("the calendar gives the earliest instant's flows in the order they were scheduled") {
  FlowCalendar c;
  c.set(4, 30);
  c.set(1, 10);
  c.set(7, 10);
  c.set(2, 20);
  c.set(3, 10);
  std::vector<std::uint32_t> due;
  REQUIRE(c.front_time() == 10);
  c.pop_front(due);
  CHECK(due == std::vector<std::uint32_t>{1, 7, 3});
  c.pop_front(due);
  CHECK(due == std::vector<std::uint32_t>{2});
  c.pop_front(due);
  CHECK(due == std::vector<std::uint32_t>{4});
  CHECK(c.empty());
}

TEST_CASE("a flow moved to another time has one entry, after those already at that time") {
  FlowCalendar c;
  c.set(1, 10);
  c.set(2, 10);
  c.set(1, 50);  // later
  c.set(3, 50);
  c.set(2, 5);   // earlier
  c.set(1, 50);  // the same time again: now after 3
  std::vector<std::uint32_t> due;
  c.pop_front(due);
  CHECK(due == std::vector<std::uint32_t>{2});
  c.pop_front(due);
  CHECK(due == std::vector<std::uint32_t>{3, 1});
  CHECK(c.empty());
}

TEST_CASE("an erased flow never comes out, and erasing a flow without an entry does nothing") {
  FlowCalendar c;
  c.set(1, 10);
  c.set(2, 10);
  c.erase(1);
  c.erase(9);
  c.erase(1);
  std::vector<std::uint32_t> due;
  c.pop_front(due);
  CHECK(due == std::vector<std::uint32_t>{2});
  CHECK(c.empty());
}

namespace {

// Random schedules, moves, erasures and pops over `times` distinct instants,
// checked against a sorted list; returns the number of pops.
int check_against_sorted_list(int times) {
  std::mt19937 rng(5);  // fixed seed
  struct Ref {
    std::uint32_t slot;
    std::int64_t time;
    std::uint64_t order;
  };
  std::vector<Ref> ref;  // an entry per flow, the reference
  std::uint64_t order = 0;
  FlowCalendar c;
  std::uniform_int_distribution<int> pick_slot(0, 199), pick_time(0, times - 1), action(0, 9);
  std::vector<std::uint32_t> due;
  int pops = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto slot = static_cast<std::uint32_t>(pick_slot(rng));
    const auto mine = std::find_if(ref.begin(), ref.end(), [&](const Ref& r) { return r.slot == slot; });
    const int a = action(rng);
    if (a < 6) {
      const std::int64_t time = pick_time(rng);
      c.set(slot, time);
      if (mine != ref.end()) ref.erase(mine);
      ref.push_back({slot, time, order++});
    } else if (a < 8) {
      c.erase(slot);
      if (mine != ref.end()) ref.erase(mine);
    } else if (!ref.empty()) {
      std::sort(ref.begin(), ref.end(),
                [](const Ref& x, const Ref& y) { return x.time != y.time ? x.time < y.time : x.order < y.order; });
      std::vector<std::uint32_t> expected;
      const std::int64_t first = ref.front().time;
      while (!ref.empty() && ref.front().time == first) {
        expected.push_back(ref.front().slot);
        ref.erase(ref.begin());
      }
      REQUIRE(c.front_time() == first);
      c.pop_front(due);
      CHECK(due == expected);
      ++pops;
    }
    REQUIRE(c.empty() == ref.empty());
  }
  return pops;
}

}  // namespace

TEST_CASE("random schedules, moves and erasures come out as a sorted list says") {
  CHECK(check_against_sorted_list(61) > 1000);
}

TEST_CASE("with most flows due at one instant (a collective), they come out as a sorted list says") {
  // Three instants: an instant's flows are often a quarter of the calendar or more, which the
  // calendar drops by rebuilding its heap from the others.
  CHECK(check_against_sorted_list(3) > 1000);
}

TEST_CASE("orders given by the caller break ties, and an order below one given is refused") {
  // The step engine's running compute tasks: ties in its event sequence, which
  // other events share (orders may skip numbers).
  FlowCalendar c;
  c.set(0, 50, 3);
  c.set(1, 50, 7);
  c.set(2, 40, 9);
  c.set(0, 50, 12);  // moved: now after GPU 1 at the same time
  CHECK(c.front_time() == 40);
  CHECK(c.front_slot() == 2);
  CHECK(c.front_order() == 9);
  c.erase(2);
  CHECK(c.front_slot() == 1);
  CHECK(c.front_order() == 7);
  c.erase(1);
  CHECK(c.front_slot() == 0);
  CHECK(c.front_order() == 12);
  CHECK_THROWS_AS(c.set(3, 10, 11), std::invalid_argument);
  c.set(3, 60);  // its own order continues after the last one given
  c.erase(0);
  CHECK(c.front_order() == 13);
}
