// GEMM kernels (dense and grouped) in the op-time model: op_time.h.
#include <cassert>
#include <cstdint>

#include "hardware/kernels/families.h"

namespace tcsim::hw {

double gemm_wave_efficiency(const model::GemmShape& shape, int tile_m, int tile_n, int sms) {
  assert(tile_m > 0 && tile_n > 0 && sms > 0);
  const auto ceil_div = [](std::int64_t a, std::int64_t b) { return (a + b - 1) / b; };
  // Tiles per group: partial tiles along M and N compute their full area.
  const std::int64_t tiles = ceil_div(shape.m, tile_m) * ceil_div(shape.n, tile_n) * shape.groups;
  const std::int64_t waves = ceil_div(tiles, sms);
  const double useful = static_cast<double>(shape.m) * static_cast<double>(shape.n) * shape.groups;
  const double computed = static_cast<double>(waves) * sms * tile_m * tile_n;
  return useful / computed;
}

namespace kernels {

KernelTime gemm(const model::Op& op, model::Pass pass, const CalibrationProfile& p, int compute_sms) {
  const int i = static_cast<int>(pass);
  if (op.flops[i].value() == 0) return {.rate_name = "none"};
  const bool fp8 = op.dtype == model::Dtype::fp8;
  const bool wgrad = fp8 && pass == model::Pass::backward_weight && p.gemm_fp8_wgrad;
  const bool grouped = fp8 && !wgrad && op.cls == model::OpClass::grouped_gemm && p.gemm_fp8_grouped;
  const Sourced<FlopsPerSecond>& rate = wgrad     ? *p.gemm_fp8_wgrad
                                        : grouped ? *p.gemm_fp8_grouped
                                        : fp8     ? p.gemm_fp8
                                                  : p.gemm_bf16;
  // Each pass is a GEMM of the same three extents in another order: forward
  // M x N (over K), input gradient M x K (over N), weight gradient N x K (over M).
  model::GemmShape out = op.shape;
  if (pass == model::Pass::backward_input) out = {op.shape.m, op.shape.k, op.shape.n, op.shape.groups};
  if (pass == model::Pass::backward_weight) out = {op.shape.n, op.shape.k, op.shape.m, op.shape.groups};
  const double eff = gemm_wave_efficiency(out, p.tile_m, p.tile_n, compute_sms);
  // The full-wave rate scales with the SMs left to compute.
  const FlopsPerSecond achieved = rate.value * (static_cast<double>(compute_sms) / p.sms) * eff;
  const Flops work = op.flops[static_cast<int>(pass)];
  return {.time = work / achieved + rate.overhead,
          .rate = achieved.value(),
          .efficiency = eff,
          .overhead = rate.overhead,
          .rate_name = wgrad     ? "FP8 weight-gradient GEMM"
                       : grouped ? "FP8 grouped GEMM"
                       : fp8     ? "FP8 GEMM"
                                 : "BF16 GEMM",
          .source = rate.source};
}

}  // namespace kernels
}  // namespace tcsim::hw
