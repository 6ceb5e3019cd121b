// The op-time model against closed forms: wave quantisation, the rate each op
// class uses, and SMs taken by communication kernels.
#include <doctest/doctest.h>

#include "hardware/op_time.h"

using namespace tcsim;
using namespace tcsim::hw;

namespace {

// A profile with round numbers, so every expectation is hand arithmetic.
CalibrationProfile round_profile() {
  CalibrationProfile p;
  p.name = "round";
  p.sms = 100;
  p.gemm_bf16 = {teraflops_per_second(500), "bf16 source"};
  p.gemm_fp8 = {teraflops_per_second(1000), "fp8 source"};
  p.tile_m = 128;
  p.tile_n = 128;
  p.hbm = {terabytes_per_second(2), "hbm source"};
  p.attention_forward = {teraflops_per_second(400), "attn fwd source"};
  p.attention_backward = {teraflops_per_second(300), "attn bwd source"};
  return p;
}

model::Op gemm(std::int64_t m, std::int64_t n, std::int64_t k, model::Dtype dtype, int groups = 1) {
  model::Op op;
  op.cls = groups > 1 ? model::OpClass::grouped_gemm : model::OpClass::gemm;
  op.dtype = dtype;
  op.shape = {m, n, k, groups};
  const Flops f(2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) * groups);
  op.flops = {f, f, f};
  return op;
}

}  // namespace

TEST_CASE("a GEMM that fills whole waves of tiles runs at the full-wave rate") {
  // 1280 x 1280 with 128 x 128 tiles = 100 tiles = one full wave on 100 SMs.
  CHECK(gemm_wave_efficiency({1280, 1280, 4096, 1}, 128, 128, 100) == 1.0);
  const OpTime t = op_time(gemm(1280, 1280, 4096, model::Dtype::bf16), model::Pass::forward, round_profile(), 100);
  // 2 x 1280 x 1280 x 4096 FLOP at 500 TFLOP/s = 26.84 us.
  CHECK(t.time.value() == doctest::Approx(2.0 * 1280 * 1280 * 4096 / 500e12));
  CHECK(t.source == "bf16 source");
}

TEST_CASE("one tile past a full wave costs a whole extra wave") {
  // 101 tiles on 100 SMs: 2 waves of 100 tile-slots for 101 tiles of work: 101/200.
  CHECK(gemm_wave_efficiency({128 * 101, 128, 64, 1}, 128, 128, 100) == doctest::Approx(101.0 / 200.0));
}

TEST_CASE("a small-M GEMM computes whole tiles: tile quantisation") {
  // M = 8 tokens in 128-row tiles: 8/128 of each tile is useful; 10 tiles along N fill 10 of 100 slots.
  CHECK(gemm_wave_efficiency({8, 1280, 7168, 1}, 128, 128, 100) == doctest::Approx((8.0 * 1280) / (100 * 128 * 128)));
}

TEST_CASE("grouped GEMMs quantise over all groups' tiles together") {
  // 4 experts x (256 x 1280) = 4 x 2 x 10 = 80 tiles, one partial wave of 100: 80/100.
  CHECK(gemm_wave_efficiency({256, 1280, 2048, 4}, 128, 128, 100) == doctest::Approx(0.8));
}

TEST_CASE("FP8 GEMMs use the FP8 rate") {
  const CalibrationProfile p = round_profile();
  const model::Op op = gemm(1280, 1280, 4096, model::Dtype::fp8);
  const OpTime t = op_time(op, model::Pass::forward, p, 100);
  CHECK(t.time.value() == doctest::Approx(2.0 * 1280 * 1280 * 4096 / 1000e12));
  CHECK(t.source == "fp8 source");
}

TEST_CASE("SMs held by communication kernels slow compute in proportion") {
  // 20 of 100 SMs taken: the 100 tiles need two waves on 80 SMs (100/160 efficiency) at 80% of the rate.
  const CalibrationProfile p = round_profile();
  const OpTime t = op_time(gemm(1280, 1280, 4096, model::Dtype::bf16), model::Pass::forward, p, 80);
  const double expected = 2.0 * 1280 * 1280 * 4096 / (500e12 * 0.8 * (100.0 / 160.0));
  CHECK(t.time.value() == doctest::Approx(expected));
}

TEST_CASE("backward passes quantise the shapes they compute") {
  // Forward M x N = 1280 x 1280 is one full wave; input gradient M x K = 1280 x 128 = 10 tiles: 10/100.
  const CalibrationProfile p = round_profile();
  const model::Op op = gemm(1280, 1280, 128, model::Dtype::bf16);
  const OpTime bi = op_time(op, model::Pass::backward_input, p, 100);
  CHECK(bi.efficiency == doctest::Approx(0.1));
  // Weight gradient N x K = 1280 x 128: also 10 tiles.
  CHECK(op_time(op, model::Pass::backward_weight, p, 100).efficiency == doctest::Approx(0.1));
}

TEST_CASE("attention runs at the fused-attention rate of its pass") {
  model::Op op;
  op.cls = model::OpClass::attention;
  op.flops = {Flops(4e12), Flops(8e12), Flops(0)};
  const CalibrationProfile p = round_profile();
  // 4 TFLOP at 400 TFLOP/s = 10 ms; backward 8 TFLOP at 300 TFLOP/s = 26.7 ms.
  CHECK(op_time(op, model::Pass::forward, p, 100).time.value() == doctest::Approx(0.01));
  CHECK(op_time(op, model::Pass::backward_input, p, 100).time.value() == doctest::Approx(8.0 / 300.0));
}

TEST_CASE("memory-bound ops take their bytes over the HBM rate") {
  model::Op op;
  op.cls = model::OpClass::memory;
  op.hbm_bytes = {gigabytes(1), gigabytes(2), Bytes(0)};
  // 1 GB at 2 TB/s = 0.5 ms.
  CHECK(op_time(op, model::Pass::forward, round_profile(), 100).time.value() == doctest::Approx(0.5e-3));
  CHECK(op_time(op, model::Pass::forward, round_profile(), 100).source == "hbm source");
}

TEST_CASE("op_seconds is op_time's time, for every op class, pass and SM count") {
  const CalibrationProfile p = round_profile();
  model::Op attention;
  attention.cls = model::OpClass::attention;
  attention.flops = {Flops(4e12), Flops(8e12), Flops(0)};
  model::Op memory;
  memory.cls = model::OpClass::memory;
  memory.hbm_bytes = {gigabytes(1), gigabytes(2), Bytes(0)};
  model::Op comm;
  comm.cls = model::OpClass::comm;
  for (const model::Op& op : {gemm(1280, 1280, 4096, model::Dtype::bf16), gemm(128, 4096, 7168, model::Dtype::fp8, 8),
                              attention, memory, comm}) {
    for (const model::Pass pass : {model::Pass::forward, model::Pass::backward_input, model::Pass::backward_weight}) {
      for (const int sms : {100, 76}) CHECK(op_seconds(op, pass, p, sms) == op_time(op, pass, p, sms).time);
    }
  }
  // The copies own their text: a profile gone after the call leaves the names readable.
  CHECK(op_time(memory, model::Pass::forward, round_profile(), 100).source == "hbm source");
  CHECK(op_time(comm, model::Pass::forward, round_profile(), 100).rate_name == "network (flows)");
}
