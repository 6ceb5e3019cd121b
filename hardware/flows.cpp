#include "hardware/flows.h"

#include <algorithm>
#include <functional>
#include <stdexcept>

#include <fmt/format.h>

namespace tcsim::hw {
namespace {

constexpr int kSlotBits = 32;  // a FlowId is (generation << 32) | slot
constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kSlotBits) - 1;

std::vector<BytesPerSecond> capacities(const ClusterTopology& topology) {
  std::vector<BytesPerSecond> caps;
  caps.reserve(topology.links().size());
  for (const Link& l : topology.links()) caps.push_back(l.bandwidth);
  return caps;
}

}  // namespace

FlowNetwork::FlowNetwork(std::vector<BytesPerSecond> link_capacity) : links_(link_capacity.size()) {
  for (std::size_t i = 0; i < link_capacity.size(); ++i) {
    if (!(link_capacity[i].value() > 0.0)) {
      throw std::invalid_argument(fmt::format("flow network: link {} has no capacity", i));
    }
    links_[i].capacity = link_capacity[i].value();
  }
}

FlowNetwork::FlowNetwork(const ClusterTopology& topology) : FlowNetwork(capacities(topology)) {}

std::span<LinkId> FlowNetwork::links_of(std::uint32_t slot) {
  return {flow_links_.data() + slot * kMaxLinks, flows_[slot].link_count};
}

std::span<std::uint32_t> FlowNetwork::positions_of(std::uint32_t slot) {
  return {flow_positions_.data() + slot * kMaxLinks, flows_[slot].link_count};
}

std::uint32_t FlowNetwork::slot_of(FlowId id) const {
  const auto slot = static_cast<std::uint32_t>(id & kSlotMask);
  if (!alive(id)) throw std::invalid_argument(fmt::format("flow network: flow {} is not live", id));
  return slot;
}

FlowId FlowNetwork::id_of(std::uint32_t slot) const {
  return (static_cast<std::uint64_t>(flows_[slot].generation) << kSlotBits) | slot;
}

bool FlowNetwork::alive(FlowId id) const {
  const auto slot = static_cast<std::uint32_t>(id & kSlotMask);
  return slot < flows_.size() && flows_[slot].live && flows_[slot].generation == (id >> kSlotBits);
}

std::uint32_t FlowNetwork::new_slot() {
  if (!free_slots_.empty()) {
    const std::uint32_t s = free_slots_.back();
    free_slots_.pop_back();
    return s;
  }
  flows_.emplace_back();
  flow_links_.resize(flows_.size() * kMaxLinks);
  flow_positions_.resize(flows_.size() * kMaxLinks);
  new_rate_.push_back(0.0);
  flow_mark_.push_back(0);
  return static_cast<std::uint32_t>(flows_.size() - 1);
}

// Rates must be current at the old instant before the clock moves on: flows
// progress at them in between.
void FlowNetwork::move_clock(double now) {
  if (now <= now_) return;
  recompute();
  now_ = now;
}

FlowId FlowNetwork::add_flow(std::span<const LinkId> links, Seconds latency, Bytes bytes, Seconds now) {
  if (links.size() > kMaxLinks) {
    throw std::invalid_argument(fmt::format("flow network: a route of {} links exceeds {}", links.size(), kMaxLinks));
  }
  move_clock(now.value());
  const std::uint32_t slot = new_slot();
  Flow& f = flows_[slot];
  f.link_count = static_cast<std::uint8_t>(links.size());
  std::copy(links.begin(), links.end(), flow_links_.begin() + static_cast<std::ptrdiff_t>(slot * kMaxLinks));
  f.remaining = std::max(0.0, bytes.value());
  f.rate = 0.0;
  f.synced_at = now_;
  f.start_at = now_ + std::max(0.0, latency.value());
  f.live = true;
  f.active = false;
  ++live_flows_;
  if (f.start_at <= now_) {
    activate(slot);
  } else {
    starts_.push(f.start_at, {slot, f.version});
  }
  return id_of(slot);
}

void FlowNetwork::activate(std::uint32_t slot) {
  Flow& f = flows_[slot];
  f.active = true;
  f.synced_at = now_;
  const auto links = links_of(slot);
  const auto positions = positions_of(slot);
  for (std::size_t k = 0; k < links.size(); ++k) {
    auto& on_link = links_[static_cast<std::size_t>(links[k])].flows;
    positions[k] = static_cast<std::uint32_t>(on_link.size());
    on_link.push_back(slot);
    dirty_links_.push_back(links[k]);
  }
  // A flow with nothing to send or no link to cross is done as it starts.
  if (links.empty() || f.remaining <= 0.0) schedule_finish(slot);
}

void FlowNetwork::detach(std::uint32_t slot) {
  if (!flows_[slot].active) return;
  const auto links = links_of(slot);
  const auto positions = positions_of(slot);
  for (std::size_t k = 0; k < links.size(); ++k) {
    const LinkId l = links[k];
    auto& on_link = links_[static_cast<std::size_t>(l)].flows;
    const std::uint32_t pos = positions[k];
    const std::uint32_t moved = on_link.back();
    on_link[pos] = moved;
    on_link.pop_back();
    if (moved != slot) {
      const auto moved_links = links_of(moved);
      const auto moved_positions = positions_of(moved);
      for (std::size_t j = 0; j < moved_links.size(); ++j) {
        if (moved_links[j] == l) moved_positions[j] = pos;
      }
    }
    dirty_links_.push_back(l);
  }
  flows_[slot].active = false;
}

void FlowNetwork::release(std::uint32_t slot) {
  Flow& f = flows_[slot];
  f.live = false;
  ++f.generation;
  ++f.version;
  f.link_count = 0;
  free_slots_.push_back(slot);
  --live_flows_;
}

void FlowNetwork::remove_flow(FlowId id, Seconds now) {
  const std::uint32_t slot = slot_of(id);
  move_clock(now.value());
  detach(slot);
  release(slot);
}

void FlowNetwork::settle(Flow& f, double now) const {
  if (f.active) f.remaining = std::max(0.0, f.remaining - f.rate * (now - f.synced_at));
  f.synced_at = now;
}

void FlowNetwork::schedule_finish(std::uint32_t slot) {
  Flow& f = flows_[slot];
  ++f.version;
  const bool instant = f.link_count == 0 || f.remaining <= 0.0;
  if (!instant && f.rate <= 0.0) return;  // waits for a share
  f.finish_at = instant ? f.synced_at : f.synced_at + f.remaining / f.rate;
  finishes_.push(f.finish_at, {slot, f.version});
}

void FlowNetwork::Calendar::push(double time, Entry e) {
  auto [it, fresh] = buckets_.try_emplace(time);
  if (fresh && !spare_.empty()) {
    it->second = std::move(spare_.back());
    spare_.pop_back();
  }
  it->second.push_back(e);
}

template <class Current>
std::vector<FlowNetwork::Entry>* FlowNetwork::Calendar::front(Current current, double& time) {
  while (!buckets_.empty()) {
    auto& [at, bucket] = *buckets_.begin();
    std::erase_if(bucket, [&](const Entry& e) { return !current(e); });
    if (!bucket.empty()) {
      time = at;
      return &bucket;
    }
    pop_front();
  }
  return nullptr;
}

void FlowNetwork::Calendar::pop_front() {
  auto node = buckets_.extract(buckets_.begin());
  node.mapped().clear();
  spare_.push_back(std::move(node.mapped()));
}

bool FlowNetwork::is_current(const Entry& e, bool start) const {
  const Flow& f = flows_[e.flow];
  return f.live && f.version == e.version && f.active != start;
}

std::optional<FlowEvent> FlowNetwork::next_event() {
  recompute();
  double start_at = 0.0, finish_at = 0.0;
  const auto* starts = starts_.front([&](const Entry& e) { return is_current(e, true); }, start_at);
  const auto* finishes = finishes_.front([&](const Entry& e) { return is_current(e, false); }, finish_at);
  if (finishes != nullptr && (starts == nullptr || finish_at <= start_at)) {
    return FlowEvent{Seconds(finish_at), id_of(finishes->front().flow), FlowEventKind::completion};
  }
  if (starts != nullptr) return FlowEvent{Seconds(start_at), id_of(starts->front().flow), FlowEventKind::start};
  return std::nullopt;
}

std::vector<FlowId> FlowNetwork::advance_to(Seconds t) {
  move_clock(t.value());
  std::vector<FlowId> done;
  double at = 0.0;
  const auto finishing = [&](const Entry& e) { return is_current(e, false); };
  for (auto* bucket = finishes_.front(finishing, at); bucket != nullptr && at <= now_;
       bucket = finishes_.front(finishing, at)) {
    for (const Entry& e : *bucket) {
      done.push_back(id_of(e.flow));
      detach(e.flow);
      release(e.flow);
    }
    finishes_.pop_front();
  }
  const auto starting = [&](const Entry& e) { return is_current(e, true); };
  for (auto* bucket = starts_.front(starting, at); bucket != nullptr && at <= now_;
       bucket = starts_.front(starting, at)) {
    const std::vector<Entry> due = std::move(*bucket);  // activating may add to the calendars
    starts_.pop_front();
    for (const Entry& e : due) activate(e.flow);
  }
  return done;
}

BytesPerSecond FlowNetwork::rate(FlowId id) {
  const std::uint32_t slot = slot_of(id);
  recompute();
  return BytesPerSecond(flows_[slot].active ? flows_[slot].rate : 0.0);
}

Bytes FlowNetwork::remaining(FlowId id, Seconds now) {
  const std::uint32_t slot = slot_of(id);
  recompute();
  const Flow& f = flows_[slot];
  if (!f.active) return Bytes(f.remaining);
  return Bytes(std::max(0.0, f.remaining - f.rate * (now.value() - f.synced_at)));
}

void FlowNetwork::recompute() {
  if (dirty_links_.empty()) return;
  collect_component(++epoch_);
  fill_component();
  dirty_links_.clear();
}

// Every link and active flow reachable from a dirty link through shared links.
void FlowNetwork::collect_component(std::uint64_t epoch) {
  component_links_.clear();
  component_flows_.clear();
  const auto visit_link = [&](LinkId l) {
    LinkState& s = links_[static_cast<std::size_t>(l)];
    if (s.mark == epoch) return;
    s.mark = epoch;
    component_links_.push_back(l);
  };
  for (const LinkId l : dirty_links_) visit_link(l);
  for (std::size_t i = 0; i < component_links_.size(); ++i) {
    for (const std::uint32_t slot : links_[static_cast<std::size_t>(component_links_[i])].flows) {
      if (flow_mark_[slot] == epoch) continue;
      flow_mark_[slot] = epoch;
      component_flows_.push_back(slot);
      for (const LinkId l : links_of(slot)) visit_link(l);
    }
  }
}

// Progressive filling (Bertsekas & Gallager, Data Networks, §6.5.2): raise
// all unfrozen flows together; the link with the smallest fair share
// (spare capacity / unfrozen flows) saturates first and freezes its flows at
// that share; repeat. A link's share only grows as other links freeze flows
// (each frozen flow takes no more than the link's share), so a heap entry is
// a lower bound: the smallest entry, if still exact, is the next bottleneck;
// if not, it goes back with its current share.
void FlowNetwork::fill_component() {
  auto& heap = share_heap_;
  heap.clear();
  for (const LinkId l : component_links_) {
    LinkState& s = links_[static_cast<std::size_t>(l)];
    s.spare = s.capacity;
    s.unfrozen = static_cast<int>(s.flows.size());
    if (s.unfrozen > 0) heap.push_back({s.spare / s.unfrozen, l});
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<>());
  constexpr double kUnfrozen = -1.0;
  for (const std::uint32_t slot : component_flows_) new_rate_[slot] = kUnfrozen;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const Share top = heap.back();
    heap.pop_back();
    LinkState& bottleneck = links_[static_cast<std::size_t>(top.link)];
    if (bottleneck.unfrozen == 0) continue;
    const double share = bottleneck.spare / bottleneck.unfrozen;
    if (share != top.share) {
      heap.push_back({share, top.link});
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
      continue;
    }
    for (const std::uint32_t slot : bottleneck.flows) {
      if (new_rate_[slot] != kUnfrozen) continue;
      new_rate_[slot] = share;
      for (const LinkId l : links_of(slot)) {
        LinkState& s = links_[static_cast<std::size_t>(l)];
        s.spare = std::max(0.0, s.spare - share);
        --s.unfrozen;
      }
    }
  }
  for (const std::uint32_t slot : component_flows_) {
    Flow& f = flows_[slot];
    if (new_rate_[slot] == f.rate) continue;
    settle(f, now_);
    f.rate = new_rate_[slot];
    schedule_finish(slot);
  }
}

}  // namespace tcsim::hw
