// One pipeline-parallel send: collectives.h.
#include <utility>

#include "hardware/collectives/common.h"

namespace tcsim::hw {

using detail::check_group;
using detail::group_size;

Schedule send_recv(int src, int dst, Bytes size) {
  Schedule s{"send/recv", {}};
  Step step;
  step.transfers.push_back({src, dst, size, 0});
  s.steps.push_back(std::move(step));
  return s;
}

}  // namespace tcsim::hw
