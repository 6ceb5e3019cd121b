// The flow network's pending starts and completions: at most one entry per
// flow, earliest first; flows due at one instant come out in the order they
// were scheduled. An indexed binary heap: moving a flow's entry when its rate
// changes costs O(log n) in place and leaves nothing stale behind, so a
// workload whose rates change millions of times keeps a calendar the size of
// its live flows. The step engine keeps its GPUs' running compute tasks in
// one too (sim/engine.cpp), their ties in its own event order.
#pragma once

#include <cstdint>
#include <vector>

namespace tcsim::hw {

class FlowCalendar {
 public:
  // Schedules flow `slot` at `time`, replacing its entry if it has one (it
  // then comes after every entry already scheduled at that time).
  void set(std::uint32_t slot, std::int64_t time);
  // The same with the caller's order for ties (the engine's event sequence,
  // sim/engine.cpp): at least every order given before, or invalid_argument.
  void set(std::uint32_t slot, std::int64_t time, std::uint64_t order);
  void erase(std::uint32_t slot);  // drops the flow's entry, if it has one
  // Drops every entry and the orders given, keeping the storage.
  void clear();
  bool empty() const { return heap_.empty(); }
  // The earliest entry (not empty()).
  std::int64_t front_time() const { return heap_.front().time; }
  std::uint32_t front_slot() const { return heap_.front().slot; }
  std::uint64_t front_order() const { return heap_.front().order; }
  // Moves every entry due at the earliest time into `due` (cleared first), in
  // the order they were scheduled.
  void pop_front(std::vector<std::uint32_t>& due);

 private:
  struct Item {
    std::int64_t time;
    std::uint64_t order;  // when it was scheduled: ties at one time
    std::uint32_t slot;
  };
  static bool before(const Item& a, const Item& b) { return a.time != b.time ? a.time < b.time : a.order < b.order; }
  void place(std::size_t i, const Item& item);
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void remove_at(std::size_t i);

  std::vector<Item> heap_;
  std::vector<std::uint32_t> at_;  // by slot: 1 + its position in heap_, 0 for none
  std::uint64_t order_ = 0;
  std::vector<std::size_t> found_;  // scratch: positions due at the earliest time
  std::vector<Item> dropped_;       // scratch: the entries due, rebuilding
};

}  // namespace tcsim::hw
