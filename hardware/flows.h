// Flow-level bandwidth sharing: point-to-point flows cross links, and the links'
// capacities are shared max-min fairly (progressive filling), recomputed when a
// flow starts or ends. This is the network resource the discrete-event engine
// drives; a collective's run (hardware/collective_run.h) drives it the same way.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "core/units.h"
#include "hardware/topology.h"

namespace tcsim::hw {

using FlowId = std::uint64_t;

enum class FlowEventKind {
  start,       // the flow's latency has elapsed: it begins to take bandwidth
  completion,  // the flow's last byte has been sent; it leaves the network
};

struct FlowEvent {
  Seconds time;
  FlowId flow = 0;
  FlowEventKind kind = FlowEventKind::completion;
};

// Contract:
// - A flow is `bytes` over a fixed list of links, added at `now` with a
//   latency (the sum of its links' latencies, once per message). It takes no
//   bandwidth for `latency`, then shares every link it crosses; it completes
//   when its bytes are sent. Rates are max-min fair: no flow can get more
//   without taking from a flow that has no more than it.
// - Time is the caller's clock, in Seconds; calls come with non-decreasing
//   times. The engine keeps integer nanoseconds and converts at this boundary.
// - next_event() is the earliest start or completion under the current rates
//   (nullopt when no flow is left). advance_to(t) applies every start and
//   completion due at or before t as if it happened at t, recomputes the rates
//   of the flows whose links changed, and returns the flows that completed
//   (their ids are dead afterwards). Call it with t = next_event()->time, or
//   that time rounded up to the engine's tick, which merges events within one
//   tick; never with a t beyond the next event's tick.
// - add_flow() and remove_flow() may come at any `now` between events
//   (now >= the last advance_to time); rates are brought up to date lazily,
//   so many adds at one instant cost one recomputation.
// - A route crosses at most kMaxLinks links. A dead FlowId passed to
//   remove_flow(), rate() or remaining() is the caller's bug:
//   std::invalid_argument.
// - Cost: a recomputation touches only the flows connected (through shared
//   links) to a link whose set of flows changed, O(P log L) for P flow-link
//   incidences in that component; flows whose rate did not change are not
//   touched. Progress is lazy: a flow's remaining bytes are settled only when
//   its rate changes.
class FlowNetwork {
 public:
  explicit FlowNetwork(std::vector<BytesPerSecond> link_capacity);
  explicit FlowNetwork(const ClusterTopology& topology);

  FlowId add_flow(std::span<const LinkId> links, Seconds latency, Bytes bytes, Seconds now);
  FlowId add_flow(const Route& route, Bytes bytes, Seconds now) {
    return add_flow(route.links, route.latency, bytes, now);
  }
  void remove_flow(FlowId flow, Seconds now);

  std::optional<FlowEvent> next_event();
  std::vector<FlowId> advance_to(Seconds t);

  BytesPerSecond rate(FlowId flow);  // 0 while the flow is still in its latency
  Bytes remaining(FlowId flow, Seconds now);
  bool alive(FlowId flow) const;
  int flow_count() const { return live_flows_; }
  Seconds now() const { return Seconds(now_); }

  // A route crosses at most this many links (a three-layer fat-tree path with
  // an NVLink detour has 10); each flow's links sit in one fixed-size row.
  static constexpr std::size_t kMaxLinks = 16;

 private:
  struct Flow {
    double remaining = 0.0;  // bytes left at synced_at
    double rate = 0.0;       // bytes per second
    double synced_at = 0.0;
    double start_at = 0.0;
    double finish_at = 0.0;
    std::uint32_t generation = 0;  // part of the FlowId: a reused slot gets a new id
    std::uint32_t version = 0;     // bumps when a calendar entry goes stale
    std::uint8_t link_count = 0;
    bool live = false;
    bool active = false;  // started: holds its links
  };
  struct LinkState {
    double capacity = 0.0;
    double spare = 0.0;  // scratch for the filling
    int unfrozen = 0;    // scratch for the filling
    std::uint64_t mark = 0;
    std::vector<std::uint32_t> flows;  // active flows crossing this link
  };
  // Pending starts or completions bucketed by exact time: collectives put
  // thousands of flows on a handful of instants, so a bucket per instant
  // beats a heap entry per flow. Entries go stale when their flow's version
  // moves on; they are skipped when met.
  struct Entry {
    std::uint32_t flow;
    std::uint32_t version;
  };
  class Calendar {
   public:
    void push(double time, Entry e);
    // The earliest bucket with a current entry, stale entries dropped; null when none.
    template <class Current>
    std::vector<Entry>* front(Current current, double& time);
    void pop_front();

   private:
    std::map<double, std::vector<Entry>> buckets_;
    std::vector<std::vector<Entry>> spare_;  // emptied buckets, reused
  };
  struct Share {
    double share;
    LinkId link;
    bool operator>(const Share& o) const { return share != o.share ? share > o.share : link > o.link; }
  };

  std::span<LinkId> links_of(std::uint32_t slot);
  std::span<std::uint32_t> positions_of(std::uint32_t slot);
  std::uint32_t slot_of(FlowId id) const;
  FlowId id_of(std::uint32_t slot) const;
  std::uint32_t new_slot();
  void activate(std::uint32_t slot);
  void detach(std::uint32_t slot);
  void release(std::uint32_t slot);
  void settle(Flow& f, double now) const;
  void schedule_finish(std::uint32_t slot);
  void move_clock(double now);
  void recompute();
  void collect_component(std::uint64_t epoch);
  void fill_component();
  bool is_current(const Entry& e, bool start) const;

  std::vector<Flow> flows_;
  std::vector<LinkId> flow_links_;             // kMaxLinks per slot
  std::vector<std::uint32_t> flow_positions_;  // kMaxLinks per slot: index in links_[l].flows
  std::vector<std::uint32_t> free_slots_;
  std::vector<LinkState> links_;
  Calendar starts_;
  Calendar finishes_;
  std::vector<LinkId> dirty_links_;
  std::vector<LinkId> component_links_;
  std::vector<std::uint32_t> component_flows_;
  std::vector<double> new_rate_;  // scratch, per flow slot
  std::vector<std::uint64_t> flow_mark_;
  std::vector<Share> share_heap_;  // scratch for the filling
  std::uint64_t epoch_ = 0;
  double now_ = 0.0;
  int live_flows_ = 0;
};

}  // namespace tcsim::hw
