#include "hardware/flows.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace tcsim::hw {
namespace {

constexpr int kSlotBits = 32;  // a FlowId is (generation << 32) | slot (FlowNetwork::index_of)
constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kSlotBits) - 1;

}  // namespace

FlowNetwork::FlowNetwork(std::vector<BytesPerSecond> link_capacity)
    : link_count_(link_capacity.size()), state_at_(link_capacity.size(), 0) {
  capacity_.reserve(link_capacity.size());
  for (std::size_t i = 0; i < link_capacity.size(); ++i) {
    if (!(link_capacity[i].value() > 0.0)) {
      throw std::invalid_argument(fmt::format("flow network: link {} has no capacity", i));
    }
    capacity_.push_back(link_capacity[i].value());
  }
}

FlowNetwork::FlowNetwork(const ClusterTopology& topology)
    : topology_(topology), link_count_(topology.links().size()), state_at_(topology.links().size(), 0) {}

LinkId FlowNetwork::state_of(LinkId link) {
  const auto l = static_cast<std::size_t>(link);
  if (link < 0 || l >= link_count_) {
    throw std::invalid_argument(fmt::format("flow network: no link {} among {}", link, link_count_));
  }
  if (state_at_[l] == 0) {
    const double capacity = topology_ ? topology_->link(link).bandwidth.value() : capacity_[l];
    if (!(capacity > 0.0)) throw std::invalid_argument(fmt::format("flow network: link {} has no capacity", link));
    if (links_used_ < links_.size()) {
      LinkState& s = links_[links_used_];
      std::vector<OnLink> flows = std::move(s.flows);
      flows.clear();
      s = {.id = link, .capacity = capacity, .flows = std::move(flows)};
    } else {
      links_.push_back({.id = link, .capacity = capacity});
    }
    state_at_[l] = static_cast<std::uint32_t>(++links_used_);
  }
  return static_cast<LinkId>(state_at_[l] - 1);
}

void FlowNetwork::reset() {
  for (std::size_t i = 0; i < links_used_; ++i) state_at_[static_cast<std::size_t>(links_[i].id)] = 0;
  links_used_ = 0;
  flows_.clear();
  flow_links_.clear();
  flow_positions_.clear();
  free_slots_.clear();
  wide_.clear();
  free_wide_.clear();
  starts_.clear();
  finishes_.clear();
  due_.clear();
  dirty_links_.clear();
  component_links_.clear();
  component_flows_.clear();
  new_rate_.clear();
  flow_mark_.clear();
  share_heap_.clear();
  joined_ = false;
  left_floor_ = std::numeric_limits<double>::infinity();
  rates_filled_ = 0;
  epoch_ = 0;
  now_ = 0;
  live_flows_ = 0;
}

std::span<LinkId> FlowNetwork::links_of(std::uint32_t slot) {
  const Flow& f = flows_[slot];
  if (f.wide >= 0) return wide_[static_cast<std::size_t>(f.wide)].links;
  return {flow_links_.data() + slot * kMaxLinks, f.link_count};
}

std::span<const LinkId> FlowNetwork::links_of(std::uint32_t slot) const {
  const Flow& f = flows_[slot];
  if (f.wide >= 0) return wide_[static_cast<std::size_t>(f.wide)].links;
  return {flow_links_.data() + slot * kMaxLinks, f.link_count};
}

std::span<std::uint32_t> FlowNetwork::positions_of(std::uint32_t slot) {
  const Flow& f = flows_[slot];
  if (f.wide >= 0) return wide_[static_cast<std::size_t>(f.wide)].positions;
  return {flow_positions_.data() + slot * kMaxLinks, f.link_count};
}

double FlowNetwork::weight(std::uint32_t slot, std::size_t k) const {
  const Flow& f = flows_[slot];
  return f.wide >= 0 ? wide_[static_cast<std::size_t>(f.wide)].weights[k] : 1.0;
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
void FlowNetwork::move_clock(std::int64_t now) {
  if (now <= now_) return;
  recompute();
  now_ = now;
}

FlowId FlowNetwork::add_flow(std::span<const LinkId> links, Seconds latency, Bytes bytes, SimTime now) {
  if (links.size() > kMaxLinks) {
    throw std::invalid_argument(fmt::format("flow network: a route of {} links exceeds {}", links.size(), kMaxLinks));
  }
  std::array<LinkId, kMaxLinks> states{};
  for (std::size_t k = 0; k < links.size(); ++k) states[k] = state_of(links[k]);
  move_clock(now.count());
  const std::uint32_t slot = new_slot();
  Flow& f = flows_[slot];
  f.link_count = static_cast<std::uint8_t>(links.size());
  std::copy_n(states.begin(), links.size(), flow_links_.begin() + static_cast<std::ptrdiff_t>(slot * kMaxLinks));
  f.remaining = std::max(0.0, bytes.value());
  f.rate = 0.0;
  f.scale = 1.0;
  f.cap = 0.0;
  f.synced_at = now_;
  f.start_at = add_ticks(now_, to_sim_time(Seconds(std::max(0.0, latency.value()))).count());
  f.live = true;
  f.active = false;
  ++live_flows_;
  if (f.start_at <= now_) {
    activate(slot);
  } else {
    starts_.set(slot, f.start_at);
  }
  return id_of(slot);
}

FlowId FlowNetwork::add_coflow(std::span<const LinkId> links, std::span<const double> link_bytes, SimTime alone,
                               SimTime now, double reference) {
  if (links.size() != link_bytes.size()) {
    throw std::invalid_argument(
        fmt::format("flow network: a coflow with {} links and {} byte counts", links.size(), link_bytes.size()));
  }
  double most = 0.0;
  for (const double b : link_bytes) most = std::max(most, b);
  if (!(most > 0.0) || !std::isfinite(most) || alone <= SimTime()) {
    throw std::invalid_argument("flow network: a coflow needs bytes on a link and a time alone");
  }
  if (reference != 0.0 && !(reference >= most && std::isfinite(reference))) {
    throw std::invalid_argument("flow network: a coflow's reference bytes are below the bytes of one of its links");
  }
  const double busiest = reference != 0.0 ? reference : most;
  for (const LinkId l : links) state_of(l);  // refuses a link the network lacks before anything changes
  move_clock(now.count());
  const std::uint32_t slot = new_slot();
  std::int32_t w = 0;
  if (!free_wide_.empty()) {
    w = free_wide_.back();
    free_wide_.pop_back();
  } else {
    w = static_cast<std::int32_t>(wide_.size());
    wide_.emplace_back();
  }
  Wide& wd = wide_[static_cast<std::size_t>(w)];
  wd.links.clear();
  wd.weights.clear();
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (!(link_bytes[i] > 0.0)) continue;
    wd.links.push_back(state_of(links[i]));
    wd.weights.push_back(link_bytes[i] / busiest);
  }
  wd.positions.assign(wd.links.size(), 0);
  Flow& f = flows_[slot];
  f.wide = w;
  f.link_count = 0;
  const double seconds = to_seconds(alone).value();
  f.remaining = seconds;
  f.scale = busiest / seconds;
  f.cap = f.scale;  // the same double: at its cap a coflow advances by exactly 1 unit per second
  f.rate = 0.0;
  f.synced_at = now_;
  f.start_at = now_;
  f.live = true;
  f.active = false;
  ++live_flows_;
  activate(slot);
  return id_of(slot);
}

// Whether link l has room beyond `extra` bytes per second at the current rates,
// by more than rounding.
bool FlowNetwork::has_room(LinkId l, double extra) const {
  const LinkState& s = links_[static_cast<std::size_t>(l)];
  return s.capacity - s.used - extra > kRoundingShare * s.capacity;
}

// A coflow that fits under its cap on every link without saturating one joins
// or leaves without moving anyone: no other flow's bottleneck is among its
// links (a bottleneck is saturated), so every other rate stays max-min fair,
// and the coflow's own rate is its cap. Rates must be current (nothing dirty).
bool FlowNetwork::quiet(std::uint32_t slot, double extra) const {
  const Flow& f = flows_[slot];
  if (f.cap <= 0.0 || !dirty_links_.empty()) return false;
  const auto links = links_of(slot);
  for (std::size_t k = 0; k < links.size(); ++k) {
    if (!has_room(links[k], weight(slot, k) * extra)) return false;
  }
  return true;
}

void FlowNetwork::activate(std::uint32_t slot) {
  Flow& f = flows_[slot];
  f.active = true;
  f.synced_at = now_;
  if (f.cap > 0.0) recompute();  // current rates, for the quiet test
  const bool joins_quietly = quiet(slot, f.cap);
  const auto links = links_of(slot);
  const auto positions = positions_of(slot);
  for (std::size_t k = 0; k < links.size(); ++k) {
    LinkState& s = links_[static_cast<std::size_t>(links[k])];
    positions[k] = static_cast<std::uint32_t>(s.flows.size());
    s.flows.push_back({slot, static_cast<std::uint32_t>(k)});
    if (joins_quietly) {
      s.used += weight(slot, k) * f.cap;
    } else {
      dirty_links_.push_back(links[k]);
    }
  }
  if (joins_quietly) {
    f.rate = f.cap;
    schedule_finish(slot);
    return;
  }
  joined_ = true;
  // A flow with nothing to send or no link to cross is done as it starts.
  if (links.empty() || f.remaining <= 0.0) schedule_finish(slot);
}

void FlowNetwork::detach(std::uint32_t slot) {
  if (!flows_[slot].active) return;
  const double rate = flows_[slot].rate;
  const bool leaves_quietly = quiet(slot, 0.0);
  const auto links = links_of(slot);
  const auto positions = positions_of(slot);
  for (std::size_t k = 0; k < links.size(); ++k) {
    const LinkId l = links[k];
    LinkState& state = links_[static_cast<std::size_t>(l)];
    state.used = std::max(0.0, state.used - weight(slot, k) * rate);
    auto& on_link = state.flows;
    const std::uint32_t pos = positions[k];
    const OnLink moved = on_link.back();
    on_link[pos] = moved;
    on_link.pop_back();
    if (moved.slot != slot) positions_of(moved.slot)[moved.k] = pos;
    if (on_link.empty()) state.used = 0.0;
    if (!leaves_quietly) dirty_links_.push_back(l);
  }
  if (!leaves_quietly) left_floor_ = std::min(left_floor_, rate);
  flows_[slot].active = false;
}

void FlowNetwork::release(std::uint32_t slot) {
  Flow& f = flows_[slot];
  f.live = false;
  ++f.generation;
  starts_.erase(slot);
  finishes_.erase(slot);
  f.link_count = 0;
  if (f.wide >= 0) free_wide_.push_back(f.wide);
  f.wide = -1;
  free_slots_.push_back(slot);
  --live_flows_;
}

void FlowNetwork::remove_flow(FlowId id, SimTime now) {
  const std::uint32_t slot = slot_of(id);
  move_clock(now.count());
  detach(slot);
  release(slot);
}

void FlowNetwork::settle(Flow& f, std::int64_t now) const {
  if (f.active) {
    f.remaining = std::max(0.0, f.remaining - unit_rate(f) * to_seconds(SimTime::ns(now - f.synced_at)).value());
  }
  f.synced_at = now;
}

void FlowNetwork::schedule_finish(std::uint32_t slot) {
  Flow& f = flows_[slot];
  const bool instant = links_of(slot).empty() || f.remaining <= 0.0;
  if (!instant && f.rate <= 0.0) {  // waits for a share
    finishes_.erase(slot);
    return;
  }
  f.finish_at =
      instant ? f.synced_at : add_ticks(f.synced_at, to_sim_time(Seconds(f.remaining / unit_rate(f))).count());
  finishes_.set(slot, f.finish_at);
}

std::optional<FlowEvent> FlowNetwork::next_event() {
  recompute();
  if (!finishes_.empty() && (starts_.empty() || finishes_.front_time() <= starts_.front_time())) {
    return FlowEvent{SimTime::ns(finishes_.front_time()), id_of(finishes_.front_slot()), FlowEventKind::completion};
  }
  if (!starts_.empty()) {
    return FlowEvent{SimTime::ns(starts_.front_time()), id_of(starts_.front_slot()), FlowEventKind::start};
  }
  return std::nullopt;
}

std::vector<FlowId> FlowNetwork::advance_to(SimTime t) {
  move_clock(t.count());
  std::vector<FlowId> done;
  while (!finishes_.empty() && finishes_.front_time() <= now_) {
    finishes_.pop_front(due_);
    for (const std::uint32_t slot : due_) {
      done.push_back(id_of(slot));
      detach(slot);
      release(slot);
    }
  }
  while (!starts_.empty() && starts_.front_time() <= now_) {
    starts_.pop_front(due_);
    for (const std::uint32_t slot : due_) activate(slot);  // may schedule completions, never starts
  }
  return done;
}

BytesPerSecond FlowNetwork::rate(FlowId id) {
  const std::uint32_t slot = slot_of(id);
  recompute();
  return BytesPerSecond(flows_[slot].active ? flows_[slot].rate : 0.0);
}

Bytes FlowNetwork::remaining(FlowId id, SimTime now) {
  const std::uint32_t slot = slot_of(id);
  recompute();
  const Flow& f = flows_[slot];
  const double elapsed = f.active ? to_seconds(SimTime::ns(now.count() - f.synced_at)).value() : 0.0;
  return Bytes(std::max(0.0, f.remaining - unit_rate(f) * elapsed) * f.scale);
}

// Departures alone change no rate below the slowest departed flow's: in the
// progressive filling, a link it crossed saturated no lower than its rate r
// (it would have frozen it there), so below r the same links saturate in the
// same order and freeze the same flows at the same shares. The filling can
// start at r: flows slower than r stay as they are, and take their share of
// each link's capacity off the top, and the others are filled afresh in what
// is left (which is where the full filling would stand at r). The margin
// keeps a flow whose rate equals r up to rounding among those filled afresh.
void FlowNetwork::recompute() {
  if (dirty_links_.empty()) return;
  constexpr double kRoundingMargin = 1e-9;
  const double floor = incremental_ && !joined_ ? left_floor_ * (1.0 - kRoundingMargin) : 0.0;
  collect_component(++epoch_, floor);
  rates_filled_ += component_flows_.size();
  fill_component();
  dirty_links_.clear();
  joined_ = false;
  left_floor_ = std::numeric_limits<double>::infinity();
}

// Every link and active flow reachable from a dirty link through shared links
// and flows at `floor` or faster; each such link's spare capacity (its
// capacity less the slower flows' rates) and the number of flows on it to fill.
void FlowNetwork::collect_component(std::uint64_t epoch, double floor) {
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
    LinkState& s = links_[static_cast<std::size_t>(component_links_[i])];
    double kept = 0.0;
    int unfrozen = 0;
    for (const auto [slot, k] : s.flows) {
      if (flows_[slot].rate < floor) {
        kept += weight(slot, k) * flows_[slot].rate;
        continue;
      }
      ++unfrozen;
      if (flow_mark_[slot] == epoch) continue;
      flow_mark_[slot] = epoch;
      component_flows_.push_back(slot);
      for (const LinkId l : links_of(slot)) visit_link(l);
    }
    // (links_of may have grown component_links_; s stays valid: links_ does not move.)
    s.spare = std::max(0.0, s.capacity - kept);
    s.unfrozen = unfrozen;
  }
}

// Progressive filling (Bertsekas & Gallager, Data Networks, §6.5.2): raise
// all unfrozen flows together; the link with the smallest fair share (spare
// capacity / the unfrozen flows' weights) saturates first and freezes its
// flows at that share, and a coflow whose cap comes first freezes at its cap;
// repeat. A link's share only grows as other links freeze flows (each frozen
// flow takes no more than the link's share), so a heap entry is a lower bound:
// the smallest entry, if still exact, is the next bottleneck; if not, it goes
// back with its current share. Plain flows weigh 1 on every link.
void FlowNetwork::freeze(std::uint32_t slot, double share) {
  new_rate_[slot] = share;
  const auto links = links_of(slot);
  for (std::size_t k = 0; k < links.size(); ++k) {
    LinkState& s = links_[static_cast<std::size_t>(links[k])];
    const double w = weight(slot, k);
    s.spare = std::max(0.0, s.spare - w * share);
    s.weight -= w;
    --s.unfrozen;
  }
}

void FlowNetwork::fill_component() {
  // One flow alone (a collective with nothing beside it, most often): its
  // tightest link or its cap, without the heap.
  if (component_flows_.size() == 1) {
    const std::uint32_t slot = component_flows_.front();
    Flow& f = flows_[slot];
    double rate = f.cap > 0.0 ? f.cap : std::numeric_limits<double>::infinity();
    const auto links = links_of(slot);
    for (std::size_t k = 0; k < links.size(); ++k) {
      rate = std::min(rate, links_[static_cast<std::size_t>(links[k])].spare / weight(slot, k));
    }
    // (A component's flow crosses at least one link: the component was found through them.)
    for (const LinkId l : component_links_) {
      LinkState& s = links_[static_cast<std::size_t>(l)];
      s.used = s.capacity - s.spare;  // the slower flows'
    }
    for (std::size_t k = 0; k < links.size(); ++k) {
      links_[static_cast<std::size_t>(links[k])].used += weight(slot, k) * rate;
    }
    if (rate != f.rate) {
      settle(f, now_);
      f.rate = rate;
      schedule_finish(slot);
    }
    return;
  }
  auto& heap = share_heap_;
  heap.clear();
  for (const LinkId l : component_links_) links_[static_cast<std::size_t>(l)].weight = 0.0;
  constexpr double kUnfrozen = -1.0;
  for (const std::uint32_t slot : component_flows_) {
    new_rate_[slot] = kUnfrozen;
    const auto links = links_of(slot);
    for (std::size_t k = 0; k < links.size(); ++k) links_[static_cast<std::size_t>(links[k])].weight += weight(slot, k);
    if (flows_[slot].cap > 0.0) heap.push_back({flows_[slot].cap, kCapEntry, kCapEntry, slot});
  }
  for (const LinkId l : component_links_) {
    const LinkState& s = links_[static_cast<std::size_t>(l)];
    if (s.unfrozen > 0) heap.push_back({s.spare / s.weight, l, s.id});
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<>());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const Share top = heap.back();
    heap.pop_back();
    if (top.link == kCapEntry) {
      if (new_rate_[top.flow] == kUnfrozen) freeze(top.flow, top.share);
      continue;
    }
    LinkState& bottleneck = links_[static_cast<std::size_t>(top.link)];
    if (bottleneck.unfrozen == 0) continue;
    const double share = bottleneck.spare / bottleneck.weight;
    if (share != top.share) {
      heap.push_back({share, top.link, top.id});
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
      continue;
    }
    for (const auto [slot, k] : bottleneck.flows) {
      if (flow_mark_[slot] == epoch_ && new_rate_[slot] == kUnfrozen) freeze(slot, share);
    }
  }
  for (const LinkId l : component_links_) {
    LinkState& s = links_[static_cast<std::size_t>(l)];
    s.used = s.flows.empty() ? 0.0 : s.capacity - s.spare;
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
