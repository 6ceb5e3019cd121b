// Calibration profiles: YAML like scenarios, read through the same located
// reader so a bad profile gets the same file:line:column messages.
#include <cstdint>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/text_file.h"
#include "scenarios/loader.h"
#include "scenarios/reader.h"
#include "scenarios/tree.h"

namespace tcsim::scenario {
namespace {

constexpr std::string_view kBuiltinPrefix = "builtin:";
// A fitted profile with its fit report is a few KiB; this is far beyond any.
constexpr std::uintmax_t kMaxProfileFileBytes = 4 << 20;

template <class Q>
void read_rate(MapReader& parent, std::string_view key, hw::Sourced<Q>& out, QuantityKind kind) {
  const Node* n = parent.take(key);
  const std::string path = join_path(parent.path(), key);
  if (n == nullptr)
    fail(parent.node(), path, fmt::format("missing; expected {{rate: {}, source: ...}}", describe(kind)));
  MapReader r(*n, path);
  r.quantity("rate", out.value, kind, /*positive=*/true, /*required=*/true);
  r.text("source", out.source, /*required=*/true);
  // Measured profiles give the fitted per-launch time; public ones do not.
  r.quantity("overhead", out.overhead, QuantityKind::duration, /*positive=*/false);
  r.finish();
}

}  // namespace

hw::CalibrationProfile load_profile_text(std::string_view text, const std::string& file) {
  const Node doc = read_yaml(text, file);
  MapReader top(doc, "");
  hw::CalibrationProfile p;
  p.file = file;
  top.text("name", p.name, /*required=*/true);
  top.text("gpu", p.gpu, /*required=*/true);
  top.text("provenance", p.provenance, /*required=*/true);
  top.integer("sms", p.sms, 1, /*required=*/true);
  top.text("samples", p.samples);
  {
    const Node* g = top.take("gemm");
    if (g == nullptr) fail(doc, "gemm", "missing; expected bf16, tile and (where the GPU has it) fp8");
    MapReader gemm(*g, "gemm");
    read_rate(gemm, "bf16", p.gemm_bf16, QuantityKind::flops_rate);
    // A GPU without FP8 tensor cores (A100, A800) has no fp8 rate; the rules
    // refuse FP8 GEMMs on it before any op is timed.
    if (gemm.has("fp8")) {
      read_rate(gemm, "fp8", p.gemm_fp8, QuantityKind::flops_rate);
    } else {
      p.gemm_fp8 = {FlopsPerSecond(0), "none: the profile gives no FP8 rate (the GPU has no FP8 tensor cores)"};
    }
    const Node* t = gemm.take("tile");
    if (t == nullptr) fail(*g, "gemm.tile", "missing; expected {m, n, source}");
    MapReader tile(*t, "gemm.tile");
    tile.integer("m", p.tile_m, 1, /*required=*/true);
    tile.integer("n", p.tile_n, 1, /*required=*/true);
    tile.text("source", p.tile_source, /*required=*/true);
    tile.finish();
    // A measured profile may rate the grouped and weight-gradient FP8 GEMMs apart.
    if (gemm.has("fp8_grouped")) read_rate(gemm, "fp8_grouped", p.gemm_fp8_grouped.emplace(), QuantityKind::flops_rate);
    if (gemm.has("fp8_wgrad")) read_rate(gemm, "fp8_wgrad", p.gemm_fp8_wgrad.emplace(), QuantityKind::flops_rate);
    gemm.finish();
  }
  read_rate(top, "hbm", p.hbm, QuantityKind::bandwidth);
  if (top.has("memory")) {
    const Node* m = top.take("memory");
    MapReader memory(*m, "memory");
    for (const Named<hw::MemoryFamily>& f : hw::kMemoryFamilyNames) {
      if (memory.has(f.name)) {
        read_rate(memory, f.name, p.memory[static_cast<std::size_t>(f.value)].emplace(), QuantityKind::bandwidth);
      }
    }
    memory.finish();
  }
  {
    const Node* a = top.take("attention");
    if (a == nullptr) fail(doc, "attention", "missing; expected forward and backward");
    MapReader att(*a, "attention");
    read_rate(att, "forward", p.attention_forward, QuantityKind::flops_rate);
    read_rate(att, "backward", p.attention_backward, QuantityKind::flops_rate);
    att.finish();
  }
  // The fit report is free-form, for people: any map is accepted and none of it is kept.
  if (const Node* f = top.take("fit"); f != nullptr && f->kind != Node::Kind::map) {
    fail(*f, "fit", fmt::format("expected a map (the fit report), got {}", shown(*f)));
  }
  top.finish();
  return p;
}

hw::CalibrationProfile load_profile(const std::string& ref) {
  if (ref.starts_with(kBuiltinPrefix)) {
    const std::string name = ref.substr(kBuiltinPrefix.size());
    const std::string_view text = builtin_profile_text(name);
    if (text.empty()) {
      throw ConfigError(fmt::format("{}: no such built-in calibration profile (built-in: {})", ref,
                                    fmt::join(builtin_profile_names(), ", ")));
    }
    return load_profile_text(text, fmt::format("<builtin>/{}.yaml", name));
  }
  return load_profile_text(read_text_file(ref, kMaxProfileFileBytes, "the calibration profile"), ref);
}

}  // namespace tcsim::scenario
