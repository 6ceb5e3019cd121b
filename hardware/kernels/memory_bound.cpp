// Memory-bound kernels (norms, activations, permutes, the optimizer) in the
// op-time model: op_time.h.
#include "hardware/kernels/families.h"

namespace tcsim::hw {

MemoryFamily memory_family(model::MemoryKind kind) {
  using K = model::MemoryKind;
  switch (kind) {
    case K::quantize: return MemoryFamily::quantize;
    case K::norm: return MemoryFamily::norm;
    case K::rope: return MemoryFamily::rope;
    case K::activation: return MemoryFamily::activation;
    case K::permute: return MemoryFamily::permute;
    case K::routing: return MemoryFamily::routing;
    case K::attention_prep: return MemoryFamily::attention_prep;
    case K::none:
    case K::residual:
    case K::lookup:
    case K::loss:
    case K::copy: return MemoryFamily::elementwise;
  }
  return MemoryFamily::elementwise;
}

namespace kernels {

KernelTime memory_bound(const model::Op& op, model::Pass pass, const CalibrationProfile& p) {
  const int i = static_cast<int>(pass);
  const MemoryFamily family = memory_family(op.memory);
  const std::optional<Sourced<BytesPerSecond>>& own = p.memory[static_cast<std::size_t>(family)];
  const Sourced<BytesPerSecond>& rate = own ? *own : p.hbm;
  // Memory-bound kernels saturate HBM with a fraction of the SMs; the
  // rate is not scaled by compute_sms (an assumption calibration can test).
  const Seconds overhead = op.hbm_bytes[i].value() > 0 ? rate.overhead : Seconds(0);
  return {.time = op.hbm_bytes[i] / rate.value + overhead,
          .rate = rate.value.value(),
          .per_byte = true,
          .overhead = overhead,
          .rate_name = own ? name_of(std::span<const Named<MemoryFamily>>(kMemoryFamilyNames), family) : "HBM",
          .source = rate.source};
}

}  // namespace kernels
}  // namespace tcsim::hw
