// Reading Kineto traces (calibrate/trace/): a synthetic trace the tests write,
// with two compute streams and a communication stream, nested annotations,
// correlated launches, flow events and an unknown kernel, checked against
// hand arithmetic; gzip; and the errors a bad file gets.
#include <doctest/doctest.h>

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "calibrate/trace/families.h"
#include "calibrate/trace/kernel_table.h"
#include "calibrate/trace/kineto.h"
#include "calibrate/trace/op_families.h"
#include "calibrate/trace/summary.h"
#include "core/error.h"

using namespace tcsim;
using namespace tcsim::trace;

namespace {

std::string kernel(const std::string& name, int stream, double ts, double dur, int correlation) {
  return fmt::format(
      R"({{"ph": "X", "cat": "kernel", "name": "{}", "pid": 0, "tid": {}, "ts": {}, "dur": {}, )"
      R"("args": {{"device": 0, "stream": {}, "correlation": {}, "grid": [4096, 1, 1], "block": [128, 1, 1]}}}})",
      name, stream, ts, dur, stream, correlation);
}

std::string launch(double ts, int correlation) {
  return fmt::format(
      R"({{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 100, "tid": 100, "ts": {}, "dur": 1, )"
      R"("args": {{"correlation": {}}}}})",
      ts, correlation);
}

std::string annotation(const std::string& name, double ts, double dur) {
  return fmt::format(
      R"({{"ph": "X", "cat": "user_annotation", "name": "{}", "pid": 100, "tid": 100, "ts": {}, "dur": {}}})", name, ts,
      dur);
}

// CPU thread 100: "step" [0, 100] holds "attn(F)" [10, 40] and "mlp(F)" [50, 90].
// Launches at 5 (in step only), 12, 20 (attn), 55, 60 (mlp), 95 (step), 200 (outside all).
// GPU: stream 7 compute: an FP8 GEMM [100, 130] (corr 2), a norm [120, 150] (corr 3, overlaps the GEMM);
//      stream 23 compute: a weight-gradient GEMM [140, 160] (corr 4);
//      stream 27 communication: a DeepEP dispatch [110, 190] (corr 5), a combine [300, 310] (corr 6);
//      stream 7: an unknown kernel [400, 405] (corr 1), launched in "step" outside both regions;
//      stream 7: a kernel launched outside every annotation [500, 502] (corr 7).
std::string synthetic_trace() {
  std::vector<std::string> ev;
  ev.push_back(annotation("step", 0, 100));
  ev.push_back(annotation("attn(F)", 10, 30));
  ev.push_back(annotation("mlp(F)", 50, 40));
  ev.push_back(launch(5, 1));
  ev.push_back(launch(12, 2));
  ev.push_back(launch(20, 3));
  ev.push_back(launch(55, 4));
  ev.push_back(launch(60, 5));
  ev.push_back(launch(95, 6));
  ev.push_back(launch(200, 7));
  ev.push_back(kernel("void cutlass::device_kernel<dpsk::grouped_gemm::cuda::fp8_ptp128c::GemmKernel>", 7, 100, 30, 2));
  ev.push_back(kernel("void layer_norm::ln_fwd_kernel<float>", 7, 120, 30, 3));
  ev.push_back(
      kernel("void cutlass::device_kernel<dpsk::grouped_gemm::cuda::fp8_dptp128c_acc::GemmKernel>", 23, 140, 20, 4));
  ev.push_back(kernel("void dpsk::ep::internode::dispatch<false, 8, true, 8>", 27, 110, 80, 5));
  ev.push_back(kernel("void dpsk::ep::internode::combine<false, 8>", 27, 300, 10, 6));
  ev.push_back(kernel("my_custom_kernel", 7, 400, 5, 1));
  ev.push_back(kernel("void at::native::vectorized_elementwise_kernel<4>", 7, 500, 2, 7));
  ev.push_back(R"({"ph": "s", "cat": "ac2g", "id": 2, "pid": 100, "tid": 100, "ts": 12})");
  ev.push_back(
      R"({"ph": "X", "cat": "gpu_memcpy", "name": "Memcpy HtoD", "pid": 0, "tid": 7, "ts": 600, "dur": 4, "args": {"device": 0, "stream": 7}})");
  std::string events;
  for (std::size_t i = 0; i < ev.size(); ++i) events += (i ? ",\n" : "") + ev[i];
  return R"({"schemaVersion": 1, "deviceProperties": [{"id": 0, "name": "NVIDIA H800", "totalGlobalMem": 84943110144, "numSms": 132}],
"traceEvents": [
)" + events +
         "\n], \"traceName\": \"synthetic\"}\n";
}

std::string write(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

double family_ms(const std::vector<FamilyTime>& fs, KernelFamily f) {
  for (const FamilyTime& t : fs) {
    if (t.family == f) return t.us / 1000.0;
  }
  return 0;
}

std::string error_of(const std::string& path) {
  try {
    (void)read_kineto_trace(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a Kineto trace is read event by event: kernels, copies, launches, annotations, devices") {
  const KinetoTrace t = read_kineto_trace(write("tcsim-trace.json", synthetic_trace()));
  CHECK(t.events == 19);            // every traceEvents entry, flow events included
  CHECK(t.activities.size() == 8);  // 7 kernels and a memcpy
  CHECK(t.runtime.size() == 7);
  CHECK(t.annotations.size() == 3);
  REQUIRE(t.devices.size() == 1);
  CHECK(t.devices[0].name == "NVIDIA H800");
  CHECK(t.devices[0].sms == 132);
  CHECK(t.activities[0].stream == 7);
  CHECK(t.activities[0].correlation == 2);
  CHECK(t.activities[0].grid[0] == 4096);
  CHECK(t.activities.back().kind == ActivityKind::memcpy);
}

TEST_CASE("a trace summary: busy time as the union per stream, overlap, families, regions by innermost annotation") {
  const TraceSummary s =
      summarize(read_kineto_trace(write("tcsim-trace.json", synthetic_trace())), builtin_family_patterns());
  CHECK(s.kernels == 7);
  CHECK(s.memcpys == 1);
  CHECK(s.device == "NVIDIA H800");
  // Span: first begin 100, last end 604.
  CHECK(s.span_us == doctest::Approx(504));
  REQUIRE(s.streams.size() == 3);
  // Stream 7: [100, 150] (GEMM and norm overlap) + [400, 405] + [500, 502] + [600, 604]: 50 + 5 + 2 + 4 = 61 busy,
  // 30 + 30 + 5 + 2 + 4 = 71 of activities.
  CHECK(s.streams[0].stream == 7);
  CHECK_FALSE(s.streams[0].communication);
  CHECK(s.streams[0].busy_us == doctest::Approx(61));
  CHECK(s.streams[0].activity_us == doctest::Approx(71));
  CHECK(s.streams[1].stream == 23);
  CHECK(s.streams[2].stream == 27);
  CHECK(s.streams[2].communication);
  CHECK(s.streams[2].busy_us == doctest::Approx(90));
  // Compute union: [100, 160] + [400, 405] + [500, 502] + [600, 604] = 71; communication [110, 190] + [300, 310] = 90;
  // both at once [110, 160] = 50.
  CHECK(s.compute_busy_us == doctest::Approx(71));
  CHECK(s.communication_busy_us == doctest::Approx(90));
  CHECK(s.overlap_us == doctest::Approx(50));
  CHECK(family_ms(s.families, KernelFamily::gemm_fp8) == doctest::Approx(0.030));
  CHECK(family_ms(s.families, KernelFamily::gemm_fp8_wgrad) == doctest::Approx(0.020));
  CHECK(family_ms(s.families, KernelFamily::norm) == doctest::Approx(0.030));
  CHECK(family_ms(s.families, KernelFamily::communication) == doctest::Approx(0.090));
  CHECK(family_ms(s.families, KernelFamily::memcpy) == doctest::Approx(0.004));
  // Regions in order of first launch: attn(F) (GEMM, norm: 60), mlp(F) (wgrad 20, dispatch 80), step (unknown 5,
  // combine 10); the kernel launched at 200 belongs to none.
  REQUIRE(s.regions.size() == 3);
  CHECK(s.regions[0].name == "attn(F)");
  CHECK(s.regions[0].kernel_us == doctest::Approx(60));
  CHECK(s.regions[0].instances == 1);
  CHECK(s.regions[0].annotated_us == doctest::Approx(30));
  CHECK(s.regions[1].name == "mlp(F)");
  CHECK(s.regions[1].kernel_us == doctest::Approx(100));
  CHECK(s.regions[1].communication_us == doctest::Approx(80));
  CHECK(s.regions[2].name == "step");
  CHECK(s.regions[2].kernel_us == doctest::Approx(15));
  CHECK(s.unattributed_us == doctest::Approx(2 + 4));  // the late kernel and the memcpy (no launch)
  REQUIRE(s.unknown.size() == 1);
  CHECK(s.unknown[0].name == "my_custom_kernel");
  CHECK(s.unknown[0].us == doctest::Approx(5));
}

TEST_CASE("a gzip-compressed trace reads the same as the plain one") {
  const std::string text = synthetic_trace();
  const auto path = (std::filesystem::temp_directory_path() / "tcsim-trace.json.gz").string();
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  CHECK(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  gzclose(f);
  const KinetoTrace t = read_kineto_trace(path);
  CHECK(t.activities.size() == 8);
  CHECK(t.annotations.size() == 3);
}

TEST_CASE("kernel names of DeepSeek's profile fall in their families") {
  const auto table = builtin_family_patterns();
  const auto is = [&](const char* name, KernelFamily f) {
    CAPTURE(name);
    CHECK(classify_kernel(name, table) == f);
  };
  is("void cutlass::device_kernel<dpsk::grouped_gemm::cuda::m_grouped_fp8_ptp128c::GemmKernel>(...)",
     KernelFamily::grouped_gemm_fp8);
  is("void cutlass::device_kernel<dpsk::grouped_gemm::cuda::fp8_dptp128c_acc::GemmKernel>(...)",
     KernelFamily::gemm_fp8_wgrad);
  is("void cutlass::device_kernel<dpsk::grouped_gemm::cuda::fp8_ptp128c::GemmKernel>(...)", KernelFamily::gemm_fp8);
  is("void dpsk::grouped_gemm::cuda::utils::transpose<512, 128, 4, 4>(...)", KernelFamily::quantize);
  is("void flash::compute_attn_ws<Flash_fwd_kernel_traits<192, 128, 128>>(...)", KernelFamily::attention_forward);
  is("void cutlass::device_kernel<flash::FlashAttnBwd<flash::CollectiveMainloopBwd<2>>>(...)",
     KernelFamily::attention_backward);
  is("void cutlass::device_kernel<flash::FlashAttnBwdPreprocess<cute::tuple<>>>(...)", KernelFamily::attention_prep);
  is("void cuda::per_token_cast_to_fp8_with_channels<__nv_bfloat16, 128>(...)", KernelFamily::quantize);
  is("void cuda::per_channel_cast_and_transpose<256, 128>(...)", KernelFamily::quantize);
  is("void cuda::swiglu_forward_with_weight_and_per_token_cast_to_fp8_with_channels_impl<>(...)",
     KernelFamily::activation);
  is("void layer_norm::ln_bwd_kernel<layer_norm::Kernel_traits<>>(...)", KernelFamily::norm);
  is("rotary_kernel", KernelFamily::rope);
  is("cuda::expand_to_fused_with_scales_impl(int4 const*)", KernelFamily::moe_permute);
  is("void cuda::reduce_fused_impl<__nv_bfloat16, false, false>(...)", KernelFamily::moe_permute);
  is("void at::native::sbtopk::gatherTopK<float, unsigned int, 2, false>(...)", KernelFamily::routing);
  is("void dpsk::ep::internode::combine<false, 8>(...)", KernelFamily::communication);
  is("ncclDevKernel_AllReduce_Sum_bf16_RING_LL(...)", KernelFamily::communication);
  is("sm90_xmma_gemm_bf16bf16_bf16f32_f32_nn_n_tilesize128x128x64", KernelFamily::gemm_bf16);
  is("void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<c10::BFloat16>>(...)",
     KernelFamily::elementwise);
  is("my_custom_kernel", KernelFamily::unknown);
}

TEST_CASE("a file that is not a whole Kineto trace is refused with its place") {
  const std::string text = synthetic_trace();
  const std::string cut = error_of(write("tcsim-trace-cut.json", text.substr(0, text.size() / 2)));
  CHECK(cut.find("tcsim-trace-cut.json:") != std::string::npos);
  CHECK(cut.find("truncated") != std::string::npos);
  CHECK(error_of(write("tcsim-trace-none.json", R"({"schemaVersion": 1})")).find("no \"traceEvents\"") !=
        std::string::npos);
  CHECK(error_of(write("tcsim-trace-list.json", "[1, 2]")).find("expected '{'") != std::string::npos);
  CHECK(error_of(write("tcsim-trace-ts.json", R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k"}]})"))
            .find("\"ts\" and \"dur\"") != std::string::npos);
  CHECK(error_of(write("tcsim-trace-bad.json", R"({"traceEvents": [{"ph": "X",, }]})")).find("expected") !=
        std::string::npos);
  CHECK(error_of("/nonexistent/trace.json").find("no such file") != std::string::npos);
  CHECK(error_of(std::filesystem::temp_directory_path().string()).find("not a regular file") != std::string::npos);
}

TEST_CASE("a launch from another thread of the process counts in the range open there (autograd's backward)") {
  // "attn(B)" is opened by thread 100; autograd's thread 300 launches a kernel inside it.
  const std::string text = R"json({"traceEvents": [
{"ph": "X", "cat": "user_annotation", "name": "attn(B)", "pid": 100, "tid": 100, "ts": 10, "dur": 20},
{"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 100, "tid": 300, "ts": 15, "dur": 1, "args": {"correlation": 9}},
{"ph": "X", "cat": "kernel", "name": "void cutlass::device_kernel<flash::FlashAttnBwd<x>>", "pid": 0, "tid": 7, "ts": 40, "dur": 6, "args": {"device": 0, "stream": 7, "correlation": 9}}
]})json";
  const TraceSummary s =
      summarize(read_kineto_trace(write("tcsim-trace-threads.json", text)), builtin_family_patterns());
  REQUIRE(s.regions.size() == 1);
  CHECK(s.regions[0].name == "attn(B)");
  CHECK(s.regions[0].kernel_us == doctest::Approx(6));
  CHECK(s.unattributed_us == 0);
}

TEST_CASE("model ops fall in the trace's kernel families pass by pass") {
  model::Op gemm;
  gemm.cls = model::OpClass::gemm;
  gemm.dtype = model::Dtype::fp8;
  CHECK(family_of(gemm, model::Pass::forward) == KernelFamily::gemm_fp8);
  CHECK(family_of(gemm, model::Pass::backward_input) == KernelFamily::gemm_fp8);
  CHECK(family_of(gemm, model::Pass::backward_weight) == KernelFamily::gemm_fp8_wgrad);
  gemm.dtype = model::Dtype::bf16;
  CHECK(family_of(gemm, model::Pass::backward_weight) == KernelFamily::gemm_bf16);
  model::Op experts;
  experts.cls = model::OpClass::grouped_gemm;
  experts.dtype = model::Dtype::fp8;
  CHECK(family_of(experts, model::Pass::forward) == KernelFamily::grouped_gemm_fp8);
  CHECK(family_of(experts, model::Pass::backward_weight) == KernelFamily::gemm_fp8_wgrad);
  model::Op attention;
  attention.cls = model::OpClass::attention;
  CHECK(family_of(attention, model::Pass::backward_input) == KernelFamily::attention_backward);
  model::Op norm;
  norm.cls = model::OpClass::memory;
  norm.memory = model::MemoryKind::norm;
  CHECK(family_of(norm, model::Pass::forward) == KernelFamily::norm);
  norm.memory = model::MemoryKind::permute;
  CHECK(family_of(norm, model::Pass::forward) == KernelFamily::moe_permute);
}

TEST_CASE("predicted beside measured: op times summed per family over every pass, table rows per family") {
  // One FP8 GEMM of 2 x 1024^3 FLOPs per pass and one norm of 1 MB per pass, on a profile of exactly
  // 1 PFLOP/s FP8 (tiles that fill one wave: no quantisation loss) and 1 TB/s HBM.
  hw::CalibrationProfile p;
  p.sms = 1;
  p.tile_m = 1024;
  p.tile_n = 1024;
  p.gemm_fp8.value = FlopsPerSecond(1e15);
  p.gemm_bf16.value = FlopsPerSecond(1e15);
  p.hbm.value = BytesPerSecond(1e12);
  p.attention_forward.value = FlopsPerSecond(1e15);
  p.attention_backward.value = FlopsPerSecond(1e15);
  model::Block b;
  model::Op gemm;
  gemm.cls = model::OpClass::gemm;
  gemm.dtype = model::Dtype::fp8;
  gemm.shape = {1024, 1024, 1024, 1};
  const Flops f(2.0 * 1024 * 1024 * 1024);
  gemm.flops = {f, f, f};
  b.ops.push_back(gemm);
  model::Op norm;
  norm.cls = model::OpClass::memory;
  norm.memory = model::MemoryKind::norm;
  norm.hbm_bytes = {Bytes(1e6), Bytes(1e6), Bytes(0)};
  norm.recomputed = true;  // its forward runs again in backward
  b.ops.push_back(norm);
  KernelTable measured;
  measured.rows.push_back({.name = "a", .family = KernelFamily::gemm_fp8, .duration_us = 5});
  measured.rows.push_back({.name = "b", .family = KernelFamily::quantize, .duration_us = 7});
  measured.rows.push_back({.name = "c", .family = KernelFamily::communication, .duration_us = 100});
  const std::vector<FamilyComparison> rows = compare_families({b}, p, 1, measured);
  const auto row = [&](KernelFamily fam) {
    for (const FamilyComparison& c : rows) {
      if (c.family == fam) return c;
    }
    return FamilyComparison{};
  };
  const double gemm_us = f.value() / 1e15 * 1e6;                                    // 2.147 us per pass
  CHECK(row(KernelFamily::gemm_fp8).predicted_us == doctest::Approx(2 * gemm_us));  // forward, input gradient
  CHECK(row(KernelFamily::gemm_fp8).measured_us == doctest::Approx(5));
  CHECK(row(KernelFamily::gemm_fp8_wgrad).predicted_us == doctest::Approx(gemm_us));
  CHECK(row(KernelFamily::norm).predicted_us == doctest::Approx(3.0));  // forward, backward, forward again: 1 us each
  CHECK(row(KernelFamily::quantize).predicted_us == 0);
  CHECK(row(KernelFamily::quantize).measured_us == doctest::Approx(7));
  for (const FamilyComparison& c : rows) CHECK(c.family != KernelFamily::communication);
}

TEST_CASE("a derived kernel table reads back: provenance, quoted names, numbers; a malformed one names its line") {
  const std::string text =
      "# from a test\n"
      "name,family,device,stream,start_us,duration_us,grid_x,grid_y,grid_z,block_x,block_y,block_z,region\n"
      "\"void k<a, b>(int, \"\"x\"\")\",quantize,0,7,0,52,4096,1,1,128,1,1,attn(F)\n"
      "rotary_kernel,rope,0,7,60.5,3,64,2,1,256,1,1,\n";
  const KernelTable t = parse_kernel_table(text, "t.csv");
  REQUIRE(t.provenance.size() == 1);
  CHECK(t.provenance[0] == "from a test");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0].name == "void k<a, b>(int, \"x\")");
  CHECK(t.rows[0].family == KernelFamily::quantize);
  CHECK(t.rows[0].grid[0] == 4096);
  CHECK(t.rows[0].region == "attn(F)");
  CHECK(t.rows[1].start_us == doctest::Approx(60.5));
  CHECK(t.rows[1].region.empty());
  const auto error = [](const std::string& bad) {
    try {
      (void)parse_kernel_table(bad, "t.csv");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error("name,family\n").find("t.csv:1: expected the header") != std::string::npos);
  CHECK(error(text + "x,rope,0\n").find("t.csv:5: expected 13 fields, got 3") != std::string::npos);
  CHECK(error(text + "x,nrom,0,7,0,1,1,1,1,1,1,1,\n").find("unknown kernel family \"nrom\"") != std::string::npos);
}
