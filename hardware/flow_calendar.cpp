#include "hardware/flow_calendar.h"

#include <algorithm>
#include <stdexcept>

namespace tcsim::hw {

void FlowCalendar::place(std::size_t i, const Item& item) {
  heap_[i] = item;
  at_[item.slot] = static_cast<std::uint32_t>(i + 1);
}

void FlowCalendar::sift_up(std::size_t i) {
  const Item item = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!before(item, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, item);
}

void FlowCalendar::sift_down(std::size_t i) {
  const Item item = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], item)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, item);
}

void FlowCalendar::clear() {
  heap_.clear();
  at_.clear();
  order_ = 0;
}

void FlowCalendar::set(std::uint32_t slot, std::int64_t time) { set(slot, time, order_); }

void FlowCalendar::set(std::uint32_t slot, std::int64_t time, std::uint64_t order) {
  if (order < order_) throw std::invalid_argument("flow calendar: an order below one already given");
  order_ = order + 1;
  if (slot >= at_.size()) at_.resize(slot + 1, 0);
  const Item item{time, order, slot};
  if (at_[slot] == 0) {
    heap_.push_back(item);
    sift_up(heap_.size() - 1);
    return;
  }
  // A later order than any entry's: it moves up only for an earlier time.
  const std::size_t i = at_[slot] - 1;
  const bool earlier = time < heap_[i].time;
  heap_[i] = item;
  if (earlier) {
    sift_up(i);
  } else {
    sift_down(i);
  }
}

void FlowCalendar::remove_at(std::size_t i) {
  at_[heap_[i].slot] = 0;
  const Item last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;
  heap_[i] = last;
  at_[last.slot] = static_cast<std::uint32_t>(i + 1);
  if (i > 0 && before(last, heap_[(i - 1) / 2])) {
    sift_up(i);
  } else {
    sift_down(i);
  }
}

void FlowCalendar::erase(std::uint32_t slot) {
  if (slot < at_.size() && at_[slot] != 0) remove_at(at_[slot] - 1);
}

// The entries due at the earliest time form a subtree at the root (a parent
// is never later than its children), found without disturbing the heap. Many
// of them (a collective's flows, due together) are cheaper to drop by
// rebuilding the heap from the others than by one removal each.
void FlowCalendar::pop_front(std::vector<std::uint32_t>& due) {
  due.clear();
  const std::int64_t time = front_time();
  found_.clear();
  found_.push_back(0);
  for (std::size_t k = 0; k < found_.size(); ++k) {
    for (std::size_t child = 2 * found_[k] + 1; child <= 2 * found_[k] + 2 && child < heap_.size(); ++child) {
      if (heap_[child].time == time) found_.push_back(child);
    }
  }
  if (found_.size() * 4 < heap_.size()) {
    while (!heap_.empty() && heap_.front().time == time) {
      due.push_back(heap_.front().slot);
      remove_at(0);
    }
    return;
  }
  // In place, with the scratch reused: a fresh buffer per instant would cost
  // the kernel a zeroed page per 4 KiB.
  dropped_.clear();
  std::size_t kept = 0;
  for (const Item& item : heap_) {
    if (item.time == time) {
      dropped_.push_back(item);
      at_[item.slot] = 0;
    } else {
      heap_[kept++] = item;
    }
  }
  heap_.resize(kept);
  std::sort(dropped_.begin(), dropped_.end(), [](const Item& a, const Item& b) { return a.order < b.order; });
  for (const Item& item : dropped_) due.push_back(item.slot);
  for (std::size_t i = heap_.size() / 2; i-- > 0;) sift_down(i);
  for (std::size_t i = 0; i < heap_.size(); ++i) at_[heap_[i].slot] = static_cast<std::uint32_t>(i + 1);
}

}  // namespace tcsim::hw
