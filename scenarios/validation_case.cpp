// Validation cases: YAML files read through the same located reader as
// scenarios, so every mistake names file:line:column and the key path.
#include "scenarios/validation_case.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/text_file.h"
#include "scenarios/loader.h"
#include "scenarios/reader.h"
#include "scenarios/tree.h"

namespace tcsim::scenario {
namespace {

// Far beyond any case a person writes.
constexpr std::uintmax_t kMaxCaseFileBytes = 1 << 20;

CaseKind kind_of(CaseQuantity q) {
  switch (q) {
    case CaseQuantity::gpu_hours:
    case CaseQuantity::final_run_usd: return CaseKind::run;
    case CaseQuantity::compute_kernels_ms:
    case CaseQuantity::pipeline_pair_ms: return CaseKind::kernels;
    default: return CaseKind::step;
  }
}

bool counts_flops(CaseQuantity q) { return q == CaseQuantity::tflops_per_gpu || q == CaseQuantity::mfu; }

PublishedFigure read_figure(const Node& node, const std::string& path, CaseKind kind) {
  MapReader r(node, path);
  PublishedFigure f;
  r.choice("quantity", f.quantity, kCaseQuantities, /*required=*/true);
  if (kind_of(f.quantity) != kind) {
    fail(r.at("quantity"), join_path(path, "quantity"),
         fmt::format("{} is a quantity of {} cases, and this case is a {} case",
                     name_of<CaseQuantity>(kCaseQuantities, f.quantity),
                     name_of<CaseKind>(kCaseKinds, kind_of(f.quantity)), name_of<CaseKind>(kCaseKinds, kind)));
  }
  // A kernels case's figure may leave the value to its measured table.
  r.number("value", f.value, 0, /*required=*/kind != CaseKind::kernels);
  if (r.has("value") && f.value <= 0) fail(r.at("value"), join_path(path, "value"), "expected a number > 0");
  if (f.quantity == CaseQuantity::mfu && f.value > 1) {
    fail(r.at("value"), join_path(path, "value"), "expected MFU as a fraction in (0, 1], e.g. 0.43 for 43%");
  }
  r.text("source", f.source, /*required=*/true);
  if (counts_flops(f.quantity)) {
    FlopConvention c = FlopConvention::tcsim;
    r.choice("flops", c, kFlopConventions, /*required=*/true);
    f.flops = c;
  } else if (r.has("flops")) {
    fail(r.at("flops"), join_path(path, "flops"), "only tflops_per_gpu and mfu count FLOPs");
  }
  if (f.quantity == CaseQuantity::mfu) {
    r.number("peak_tflops", f.peak_tflops, 0);
  } else if (r.has("peak_tflops")) {
    fail(r.at("peak_tflops"), join_path(path, "peak_tflops"), "only mfu takes a peak");
  }
  if (f.quantity == CaseQuantity::gpu_hours) {
    r.text("phase", f.phase);
  } else if (r.has("phase")) {
    fail(r.at("phase"), join_path(path, "phase"), "only gpu_hours is counted per phase");
  }
  r.finish();
  return f;
}

std::vector<std::string> text_list(const Node* n, const std::string& path) {
  std::vector<std::string> out;
  if (n == nullptr || n->kind == Node::Kind::null) return out;
  if (n->kind != Node::Kind::sequence) fail(*n, path, fmt::format("expected a list of texts, got {}", shown(*n)));
  for (std::size_t i = 0; i < n->items.size(); ++i) {
    const Node& item = n->items[i];
    if (item.kind != Node::Kind::scalar) {
      fail(item, fmt::format("{}[{}]", path, i), fmt::format("expected a text, got {}", shown(item)));
    }
    out.push_back(item.scalar);
  }
  return out;
}

Scenario read_scenario(const Node& n, const std::string& file, bool builtin) {
  if (n.kind == Node::Kind::map) return load_scenario_document(n, file, builtin);
  if (n.kind != Node::Kind::scalar || n.scalar.empty()) {
    fail(n, "scenario",
         fmt::format("expected builtin:NAME, a scenario file's path or a scenario map, got {}", shown(n)));
  }
  std::string ref = n.scalar;
  if (builtin && !ref.starts_with("builtin:")) {
    fail(n, "scenario", fmt::format("a built-in case names a built-in scenario (builtin:NAME), got {}", shown(n)));
  }
  if (!ref.starts_with("builtin:") && std::filesystem::path(ref).is_relative()) {
    ref = (std::filesystem::path(file).parent_path() / ref).lexically_normal().string();
  }
  // A scenario that is not there is this key's mistake; errors inside it carry its own file.
  const bool exists = ref.starts_with("builtin:") ? !builtin_scenario_text(ref.substr(8)).empty()
                                                  : std::filesystem::is_regular_file(ref);
  if (!exists) fail(n, "scenario", fmt::format("no scenario {} (looked for {})", shown(n), ref));
  return load_scenario(ref);
}

ValidationCase read_case(std::string_view text, const std::string& file, std::string name, bool builtin) {
  const Node doc = read_yaml(text, file);
  if (doc.kind != Node::Kind::map) {
    fail(doc, "", "expected a validation case: a map with title, source, scenario and published (docs/validation.md)");
  }
  MapReader r(doc, "");
  ValidationCase c;
  c.name = std::move(name);
  c.file = file;
  r.text("title", c.title, /*required=*/true);
  r.choice("kind", c.kind, kCaseKinds);
  r.text("source", c.source, /*required=*/true);
  const Node* scenario = r.take("scenario");
  if (scenario == nullptr) fail(doc, "scenario", "missing; expected builtin:NAME, a file's path or a scenario map");
  c.scenario = read_scenario(*scenario, file, builtin);
  const Node* published = r.take("published");
  if (published == nullptr || published->kind != Node::Kind::sequence || published->items.empty()) {
    fail(published != nullptr ? *published : doc, "published",
         "expected a list of figures, each {quantity, value, source} (docs/validation.md)");
  }
  for (std::size_t i = 0; i < published->items.size(); ++i) {
    c.published.push_back(read_figure(published->items[i], fmt::format("published[{}]", i), c.kind));
  }
  r.flag("plan_ran", c.plan_ran);
  c.not_published = text_list(r.take("not_published"), "not_published");
  if (c.kind == CaseKind::kernels) {
    r.text("kernel_table", c.kernel_table, /*required=*/true);
    r.integer("kernel_layers", c.kernel_layers, 1, /*required=*/true);
  }
  r.finish();
  return c;
}

}  // namespace

ValidationCase load_validation_case_text(std::string_view text, const std::string& file, std::string name) {
  return read_case(text, file, std::move(name), /*builtin=*/false);
}

ValidationCase load_validation_case(const std::string& path) {
  if (path.starts_with("builtin:")) {
    const std::string name = path.substr(8);
    const std::string_view text = builtin_case_text(name);
    if (text.empty()) {
      throw ConfigError(fmt::format("{}: no such built-in validation case (built-in: {})", path,
                                    fmt::join(builtin_case_names(), ", ")));
    }
    return read_case(text, fmt::format("<builtin>/validation/{}.yaml", name), name, /*builtin=*/true);
  }
  const std::string text = read_text_file(path, kMaxCaseFileBytes, "the validation case");
  return read_case(text, path, std::filesystem::path(path).stem().string(), /*builtin=*/false);
}

}  // namespace tcsim::scenario
