#include "sim/time.h"

#include "hardware/collective_run.h"

namespace tcsim::sim {

// hw::to_ticks is the flow engine's own rounding rule (nanosecond ticks,
// rounded up); using it keeps the two clocks in step.
SimTime to_sim_time(Seconds t) { return SimTime::ns(hw::to_ticks(t)); }

Seconds to_seconds(SimTime t) { return hw::from_ticks(t.count()); }

}  // namespace tcsim::sim
