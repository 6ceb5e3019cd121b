// The op-time model: one kernel family per op class, each in a leaf file of
// kernels/ (docs/design.md, "Adding a kernel family").
#include "hardware/op_time.h"

#include "hardware/kernels/families.h"

namespace tcsim::hw {

OpTime op_time(const model::Op& op, model::Pass pass, const CalibrationProfile& p, int compute_sms) {
  switch (op.cls) {
    case model::OpClass::gemm:
    case model::OpClass::grouped_gemm: return kernels::gemm(op, pass, p, compute_sms);
    case model::OpClass::attention: return kernels::attention(op, pass, p, compute_sms);
    case model::OpClass::memory: return kernels::memory_bound(op, pass, p);
    case model::OpClass::comm: return {.rate_name = "network (flows)", .source = "simulated as flows, not an op rate"};
  }
  return {};
}

}  // namespace tcsim::hw
