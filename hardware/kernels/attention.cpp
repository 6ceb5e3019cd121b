// Fused causal attention kernels in the op-time model: op_time.h.
#include "hardware/kernels/families.h"

namespace tcsim::hw::kernels {

KernelTime attention(const model::Op& op, model::Pass pass, const CalibrationProfile& p, int compute_sms) {
  const int i = static_cast<int>(pass);
  const bool fwd = pass == model::Pass::forward;
  const Sourced<FlopsPerSecond>& rate = fwd ? p.attention_forward : p.attention_backward;
  const FlopsPerSecond achieved = rate.value * (static_cast<double>(compute_sms) / p.sms);
  const Seconds overhead = op.flops[i].value() > 0 ? rate.overhead : Seconds(0);
  return {.time = op.flops[i] / achieved + overhead,
          .rate = achieved.value(),
          .overhead = overhead,
          .rate_name = fwd ? "attention forward" : "attention backward",
          .source = rate.source};
}

}  // namespace tcsim::hw::kernels
