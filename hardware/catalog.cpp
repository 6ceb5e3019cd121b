#include "hardware/catalog.h"

namespace tcsim::hw {
namespace {

struct Row {
  std::string_view key;
  std::string_view alias;
  GpuSpec spec;
};

// Dense (non-sparse) tensor peaks; NVLink per direction (half the
// "both directions together" figure NVIDIA quotes); HBM capacity as the
// device reports it (nvidia-smi / NVML total, in MiB), which is what a
// process can address: an "80 GB" H100 reports 81,559 MiB = 85.5 GB, an
// A100 80GB 81,920 MiB, an H200 143,771 MiB (Modal, "Why does an NVIDIA H100
// 80GB card offer 85.52 GB?", thundergolfer.com/blog/nvidia-gpu-memory-capacity).
// Every preset's default profile holds public measured rates
// (calibrate/profiles/public-*.yaml) until a measured one replaces it.
// clang-format off
const std::vector<Row>& rows() {
  static const std::vector<Row> table{
      // NVIDIA H100 Tensor Core GPU whitepaper / datasheet (SXM5); NVLink 900 GB/s both ways; TDP 700 W.
      // Default profile: the kernel rates measured in DeepSeek's H800 profile (same die; calibrate/profiles/).
      {"h100", "h100-sxm",
       {.name = "h100", .source = "NVIDIA H100 SXM5 datasheet and Hopper whitepaper; memory as nvidia-smi reports it",
        .sms = 132, .bf16_dense = teraflops_per_second(989.4), .fp8_dense = teraflops_per_second(1978.9),
        .hbm_capacity = mib(81559), .hbm_bandwidth = terabytes_per_second(3.35),
        .nvlink_bandwidth = gigabytes_per_second(450), .tdp = Watts(700), .profile = "deepseek-h100"}},
      // Same GH100 die as H100 SXM5; NVLink cut to 400 GB/s both ways (ISCA'25 "Insights into DeepSeek-V3",
      // arXiv:2505.09343 §4.1); compute and HBM as H100 (V3-TR §3.5.1). TDP assumed equal to H100 [estimate].
      {"h800", "h800-sxm",
       {.name = "h800", .source = "H100 SXM5 datasheet; NVLink per arXiv:2505.09343 §4.1; TDP [estimate: same die]; memory as nvidia-smi reports it",
        .sms = 132, .bf16_dense = teraflops_per_second(989.4), .fp8_dense = teraflops_per_second(1978.9),
        .hbm_capacity = mib(81559), .hbm_bandwidth = terabytes_per_second(3.35),
        .nvlink_bandwidth = gigabytes_per_second(200), .tdp = Watts(700), .profile = "deepseek-h800"}},
      // NVIDIA A100 datasheet (SXM4 80GB): 312 TFLOP/s BF16 dense, 2039 GB/s, NVLink 600 GB/s, 400 W; no FP8.
      {"a100", "a100-sxm-80gb",
       {.name = "a100", .source = "NVIDIA A100 80GB SXM4 datasheet; memory as nvidia-smi reports it",
        .sms = 108, .bf16_dense = teraflops_per_second(312), .fp8_dense = FlopsPerSecond(0),
        .hbm_capacity = mib(81920), .hbm_bandwidth = terabytes_per_second(2.039),
        .nvlink_bandwidth = gigabytes_per_second(300), .tdp = Watts(400), .profile = "public-a100"}},
      // A100 with NVLink cut to 400 GB/s both ways for export [estimate: press reports].
      {"a800", "a800-sxm-80gb",
       {.name = "a800", .source = "A100 80GB SXM4 datasheet; NVLink 400 GB/s [estimate: press]; memory as nvidia-smi reports it",
        .sms = 108, .bf16_dense = teraflops_per_second(312), .fp8_dense = FlopsPerSecond(0),
        .hbm_capacity = mib(81920), .hbm_bandwidth = terabytes_per_second(2.039),
        .nvlink_bandwidth = gigabytes_per_second(200), .tdp = Watts(400), .profile = "public-a800"}},
      // H20: no NVIDIA datasheet. Press and operator tables [estimate]: 148 BF16, 296 FP8, 4.0 TB/s, NVLink 900 GB/s
      // both ways. Device-reported: 78 SMs (torch device properties) and, in the nvidia-smi output of
      // deepseek-ai/DeepGEMM issue #268, 97,871 MiB and a 500 W power cap (press tables say 400 W).
      {"h20", "h20-sxm",
       {.name = "h20", .source = "press tables [estimate]; SMs, memory and power cap device-reported",
        .sms = 78, .bf16_dense = teraflops_per_second(148), .fp8_dense = teraflops_per_second(296),
        .hbm_capacity = mib(97871), .hbm_bandwidth = terabytes_per_second(4.0),
        .nvlink_bandwidth = gigabytes_per_second(450), .tdp = Watts(500), .profile = "public-h20"}},
      // NVIDIA H200 datasheet (SXM): 141 GB HBM3e at 4.8 TB/s; tensor peaks as H100 (3958/1979 TFLOP/s sparse
      // FP8/BF16 = 1979/989 dense); NVLink 900 GB/s; up to 700 W.
      {"h200", "h200-sxm",
       {.name = "h200", .source = "NVIDIA H200 Tensor Core GPU datasheet (SXM); memory as nvidia-smi reports it",
        .sms = 132, .bf16_dense = teraflops_per_second(989.4), .fp8_dense = teraflops_per_second(1978.9),
        .hbm_capacity = mib(143771), .hbm_bandwidth = terabytes_per_second(4.8),
        .nvlink_bandwidth = gigabytes_per_second(450), .tdp = Watts(700), .profile = "public-h200"}},
  };
  return table;
}
// clang-format on

}  // namespace

const GpuSpec* find_gpu_preset(std::string_view name) {
  for (const Row& r : rows()) {
    if (r.key == name || r.alias == name) return &r.spec;
  }
  return nullptr;
}

std::vector<std::string> gpu_preset_names() {
  std::vector<std::string> names;
  for (const Row& r : rows()) names.emplace_back(r.key);
  return names;
}

}  // namespace tcsim::hw
