// The op-time model: one kernel family per op class, each in a leaf file of
// kernels/ (docs/design.md, "Adding a kernel family").
#include "hardware/op_time.h"

#include "hardware/kernels/families.h"

namespace tcsim::hw {

namespace {

kernels::KernelTime kernel_time(const model::Op& op, model::Pass pass, const CalibrationProfile& p, int compute_sms) {
  switch (op.cls) {
    case model::OpClass::gemm:
    case model::OpClass::grouped_gemm: return kernels::gemm(op, pass, p, compute_sms);
    case model::OpClass::attention: return kernels::attention(op, pass, p, compute_sms);
    case model::OpClass::memory: return kernels::memory_bound(op, pass, p);
    case model::OpClass::comm: return {.rate_name = "network (flows)", .source = "simulated as flows, not an op rate"};
  }
  return {};
}

}  // namespace

OpTime op_time(const model::Op& op, model::Pass pass, const CalibrationProfile& p, int compute_sms) {
  const kernels::KernelTime k = kernel_time(op, pass, p, compute_sms);
  return {.time = k.time,
          .rate = k.rate,
          .per_byte = k.per_byte,
          .efficiency = k.efficiency,
          .overhead = k.overhead,
          .rate_name = std::string(k.rate_name),
          .source = std::string(k.source)};
}

Seconds op_seconds(const model::Op& op, model::Pass pass, const CalibrationProfile& p, int compute_sms) {
  return kernel_time(op, pass, p, compute_sms).time;
}

}  // namespace tcsim::hw
