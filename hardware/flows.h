// Flow-level bandwidth sharing: point-to-point flows cross links, and the links'
// capacities are shared max-min fairly (progressive filling), recomputed when a
// flow starts or ends. This is the network resource the discrete-event engine
// drives; a collective's run (hardware/collective_run.h) drives it the same way.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "core/sim_time.h"
#include "core/units.h"
#include "hardware/flow_calendar.h"
#include "hardware/topology.h"

namespace tcsim::hw {

using FlowId = std::uint64_t;

enum class FlowEventKind {
  start,       // the flow's latency has elapsed: it begins to take bandwidth
  completion,  // the flow's last byte has been sent; it leaves the network
};

struct FlowEvent {
  SimTime time;
  FlowId flow = 0;
  FlowEventKind kind = FlowEventKind::completion;
};

// Contract:
// - A flow is `bytes` over a fixed list of links, added at `now` with a
//   latency (the sum of its links' latencies, once per message). It takes no
//   bandwidth for `latency`, then shares every link it crosses; it completes
//   when its bytes are sent. Rates are max-min fair: no flow can get more
//   without taking from a flow that has no more than it.
// - A coflow is a collective seen as one flow (add_coflow): it carries
//   link_bytes[i] over links[i] and takes `alone` when nothing else crosses
//   its links (its time simulated on its own, latencies included). Its rate is
//   its share on its busiest link (the most bytes, weight 1); on link i it
//   uses link_bytes[i] / busiest of that rate; it never runs faster than
//   alone. Leaving links out (with the busiest link's bytes as `reference`)
//   keeps every rate the same unit, so the links left only drop constraints. Sharing is max-min fair between flows and
//   coflows alike, in bytes per second on each flow's busiest link: two equal coflows on their common bottleneck take
//   twice as long; one alone takes exactly `alone`.
// - Time is the simulator's clock (core/sim_time.h): calls come with
//   non-decreasing times; starts and completions fall on ticks (a duration
//   rounds up to the next tick).
// - next_event() is the earliest start or completion under the current rates
//   (nullopt when no flow is left). advance_to(t) applies every start and
//   completion due at or before t as if it happened at t, recomputes the rates
//   of the flows whose links changed, and returns the flows that completed
//   (their ids are dead afterwards). Call it with t = next_event()->time or
//   earlier, never beyond.
// - add_flow(), add_coflow() and remove_flow() may come at any `now` between
//   events (now >= the last advance_to time); rates are brought up to date
//   lazily, so many adds at one instant cost one recomputation.
// - A flow's route crosses at most kMaxLinks links (a coflow any number). A
//   link id outside the network, or a dead FlowId passed to remove_flow(),
//   rate() or remaining(), is the caller's bug: std::invalid_argument, and
//   the network is as it was.
// - Memory: a few bytes per link of the network, and a link's sharing state
//   only once a flow has crossed it.
// - Cost: a recomputation touches only the flows connected (through shared
//   links) to a link whose set of flows changed, O(P log L) for P flow-link
//   incidences in that component; flows whose rate did not change are not
//   touched. Where flows have only left since the last recomputation, it
//   also leaves alone every flow slower than the slowest of them: those keep
//   their rates (see recompute()). Progress is lazy: a flow's remaining bytes
//   are settled only when its rate changes.
class FlowNetwork {
 public:
  explicit FlowNetwork(std::vector<BytesPerSecond> link_capacity);
  explicit FlowNetwork(const ClusterTopology& topology);

  FlowId add_flow(std::span<const LinkId> links, Seconds latency, Bytes bytes, SimTime now);
  FlowId add_flow(const Route& route, Bytes bytes, SimTime now) {
    return add_flow(route.links, route.latency, bytes, now);
  }
  // links and link_bytes pair up; at least one link with bytes > 0, alone > 0.
  // `reference`: the bytes on the collective's busiest link, which its rate is
  // counted in, when `links` leave that link out (a part of a collective, or
  // links no one else crosses); 0: the most on any given link.
  FlowId add_coflow(std::span<const LinkId> links, std::span<const double> link_bytes, SimTime alone, SimTime now,
                    double reference = 0.0);
  // Back to the network as built (no flow, the clock at 0, every id free
  // again; set_incremental as set), keeping the storage its flows and links
  // grew: a caller that runs many collectives on one cluster reuses one
  // network (collective_run.h), with the same results as a new one.
  void reset();
  void remove_flow(FlowId flow, SimTime now);

  std::optional<FlowEvent> next_event();
  std::vector<FlowId> advance_to(SimTime t);

  // 0 while the flow is still in its latency; a coflow's on its busiest link.
  BytesPerSecond rate(FlowId flow);
  Bytes remaining(FlowId flow, SimTime now);  // a coflow's on its busiest link
  bool alive(FlowId flow) const;
  // A live flow's index: distinct among live flows, below the most flows live
  // at once (callers keep per-flow data in a vector by it).
  static std::uint32_t index_of(FlowId flow) { return static_cast<std::uint32_t>(flow & 0xffffffffU); }
  int flow_count() const { return live_flows_; }
  // Whether a recomputation after departures alone starts from the slowest
  // departed flow's rate (the default) or refills the whole component: the
  // same rates up to rounding; for tests and benchmarks of the shortcut.
  void set_incremental(bool on) { incremental_ = on; }
  // Flow rates the fillings have computed so far (a measure of their work).
  std::uint64_t rates_filled() const { return rates_filled_; }
  SimTime now() const { return SimTime::ns(now_); }

  // A route crosses at most this many links (a three-layer fat-tree path with
  // an NVLink detour has 10); each flow's links sit in one fixed-size row.
  static constexpr std::size_t kMaxLinks = 16;

 private:
  // A flow's progress is counted in units: bytes for a flow; for a coflow,
  // seconds of its run alone (scale = its busiest link's bytes per second
  // alone), so that at its cap it advances exactly one unit per second.
  struct Flow {
    double remaining = 0.0;      // units left at synced_at
    double rate = 0.0;           // bytes per second on its busiest link
    double scale = 1.0;          // bytes per unit
    double cap = 0.0;            // most bytes per second (coflows; 0: none)
    std::int64_t synced_at = 0;  // ticks
    std::int64_t start_at = 0;
    std::int64_t finish_at = 0;
    std::uint32_t generation = 0;  // part of the FlowId: a reused slot gets a new id
    std::int32_t wide = -1;        // a coflow's links in wide_; -1: in its fixed row
    std::uint8_t link_count = 0;
    bool live = false;
    bool active = false;  // started: holds its links
  };
  // A coflow's links, their weights (bytes / busiest link's bytes) and its
  // positions in each link's list; recycled with their capacity.
  struct Wide {
    std::vector<LinkId> links;
    std::vector<std::uint32_t> positions;
    std::vector<double> weights;
  };
  // An active flow on a link: its slot, and this link's index in its links.
  struct OnLink {
    std::uint32_t slot;
    std::uint32_t k;
  };
  // A link some flow has crossed, made on first use: a collective on a
  // 100,000-GPU cluster touches a sliver of its million links, and each run
  // starts from an empty network. Flows name links by their index here (their
  // `state`), so the hot loops index states_ directly.
  struct LinkState {
    LinkId id = 0;  // the topology's link id: ties between equal shares break by it
    double capacity = 0.0;
    double spare = 0.0;   // scratch for the filling
    double weight = 0.0;  // scratch: unfrozen flows' weights
    double used = 0.0;    // bytes per second taken at the current rates
    int unfrozen = 0;     // scratch for the filling: flows whose rate it sets
    std::uint64_t mark = 0;
    std::vector<OnLink> flows;  // active flows crossing this link
  };
  // A link's fair share (link: its state; id: its link id), or
  // (link = id = kCapEntry) a coflow's cap.
  struct Share {
    double share;
    LinkId link;
    LinkId id;
    std::uint32_t flow = 0;
    bool operator>(const Share& o) const {
      if (share != o.share) return share > o.share;
      return id != o.id ? id > o.id : flow > o.flow;
    }
  };
  static constexpr LinkId kCapEntry = -1;

  LinkId state_of(LinkId link);  // its state's index, made on first use
  std::span<LinkId> links_of(std::uint32_t slot);
  std::span<const LinkId> links_of(std::uint32_t slot) const;
  std::span<std::uint32_t> positions_of(std::uint32_t slot);
  std::uint32_t slot_of(FlowId id) const;
  FlowId id_of(std::uint32_t slot) const;
  double weight(std::uint32_t slot, std::size_t k) const;
  bool has_room(LinkId l, double extra) const;
  bool quiet(std::uint32_t slot, double extra) const;
  // Spare capacity below this fraction of a link's is rounding: the link is full.
  static constexpr double kRoundingShare = 1e-9;
  double unit_rate(const Flow& f) const { return f.rate / f.scale; }
  void freeze(std::uint32_t slot, double share);
  std::uint32_t new_slot();
  void activate(std::uint32_t slot);
  void detach(std::uint32_t slot);
  void release(std::uint32_t slot);
  void settle(Flow& f, std::int64_t now) const;
  void schedule_finish(std::uint32_t slot);
  void move_clock(std::int64_t now);
  void recompute();
  void collect_component(std::uint64_t epoch, double floor);
  void fill_component();

  std::vector<Flow> flows_;
  std::vector<LinkId> flow_links_;             // kMaxLinks per slot
  std::vector<std::uint32_t> flow_positions_;  // kMaxLinks per slot: index in links_[l].flows
  std::vector<std::uint32_t> free_slots_;
  std::vector<Wide> wide_;
  std::vector<std::int32_t> free_wide_;
  std::vector<double> capacity_;             // by link id, when built from capacities
  std::optional<ClusterTopology> topology_;  // or its links' bandwidths
  std::size_t link_count_ = 0;
  std::vector<std::uint32_t> state_at_;  // by link id: 1 + its index in links_, 0 before first use
  std::vector<LinkState> links_;         // by state index; the first links_used_ in use, the rest kept for reuse
  std::size_t links_used_ = 0;
  FlowCalendar starts_;
  FlowCalendar finishes_;
  std::vector<std::uint32_t> due_;  // scratch: flows due at one instant
  std::vector<LinkId> dirty_links_;
  std::vector<LinkId> component_links_;
  std::vector<std::uint32_t> component_flows_;
  std::vector<double> new_rate_;  // scratch, per flow slot
  std::vector<std::uint64_t> flow_mark_;
  std::vector<Share> share_heap_;  // scratch for the filling
  // Since the last recomputation: whether a flow joined (the filling starts
  // from zero), else the lowest rate among the flows that left.
  bool joined_ = false;
  double left_floor_ = std::numeric_limits<double>::infinity();
  bool incremental_ = true;
  std::uint64_t rates_filled_ = 0;
  std::uint64_t epoch_ = 0;
  std::int64_t now_ = 0;
  int live_flows_ = 0;
};

}  // namespace tcsim::hw
