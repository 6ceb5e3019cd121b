// Memory-bound kernels (norms, activations, permutes, the optimizer) in the
// op-time model: op_time.h.
#include "hardware/kernels/families.h"

namespace tcsim::hw::kernels {

OpTime memory_bound(const model::Op& op, model::Pass pass, const CalibrationProfile& p) {
  const int i = static_cast<int>(pass);
  // Memory-bound kernels saturate HBM with a fraction of the SMs; the
  // rate is not scaled by compute_sms (an assumption calibration can test).
  const Seconds overhead = op.hbm_bytes[i].value() > 0 ? p.hbm.overhead : Seconds(0);
  return {.time = op.hbm_bytes[i] / p.hbm.value + overhead,
          .rate = p.hbm.value.value(),
          .overhead = overhead,
          .rate_name = "HBM",
          .source = p.hbm.source};
}

}  // namespace tcsim::hw::kernels
