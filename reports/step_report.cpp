#include "reports/step_report.h"

#include <map>

#include <fmt/format.h>

#include "reports/validation_report.h"
#include "study/validation.h"

namespace tcsim::reports {
namespace {

std::string_view fidelity_name(sim::Fidelity f) { return f == sim::Fidelity::full ? "full" : "symmetric"; }

std::string_view link_kind_name(hw::LinkKind k) {
  switch (k) {
    case hw::LinkKind::nvlink: return "nvlink";
    case hw::LinkKind::host: return "host";
    case hw::LinkKind::access: return "access";
    case hw::LinkKind::fabric: return "fabric";
  }
  return "?";
}

std::string device_name(const hw::ClusterTopology& t, hw::DeviceId id) {
  const hw::Device& d = t.devices()[static_cast<std::size_t>(id)];
  switch (d.kind) {
    case hw::DeviceKind::gpu: return fmt::format("gpu {}", id);
    case hw::DeviceKind::nvswitch: return fmt::format("nvswitch {}", d.node);
    case hw::DeviceKind::nic: return fmt::format("nic {}.{}", d.node, d.index);
    case hw::DeviceKind::leaf:
      return fmt::format("leaf {}{}", d.plane >= 0 ? fmt::format("p{}.", d.plane) : "", d.index);
    case hw::DeviceKind::spine:
      return fmt::format("spine {}{}", d.plane >= 0 ? fmt::format("p{}.", d.plane) : "", d.index);
    case hw::DeviceKind::core: return fmt::format("core {}", d.index);
  }
  return "?";
}

Json breakdown_json(const sim::StepBreakdown& b) {
  Json j = Json::object();
  j.set("forward", b.forward.value());
  j.set("backward_input", b.backward_input.value());
  j.set("backward_weight", b.backward_weight.value());
  j.set("bubble", b.bubble.value());
  j.set("exposed_comm", b.exposed_comm.value());
  j.set("optimizer", b.optimizer.value());
  return j;
}

Json gpus_json(const sim::StepResult& r) {
  Json a = Json::array();
  for (const sim::GpuUse& g : r.gpu_use) {
    Json j = Json::object();
    j.set("gpu", g.gpu);
    j.set("pipeline_rank", g.pipeline_rank);
    j.set("compute_s", g.compute.value());
    j.set("comm_s", g.comm.value());
    j.set("compute_utilisation", g.compute_utilisation);
    a.push(std::move(j));
  }
  return a;
}

Json links_json(const sim::StepResult& r, const hw::ClusterTopology& t) {
  Json a = Json::array();
  for (std::size_t i = 0; i < r.link_use.size() && i < static_cast<std::size_t>(kListedLinks); ++i) {
    const sim::LinkUse& u = r.link_use[i];
    const hw::Link& l = t.link(u.link);
    Json j = Json::object();
    j.set("link", u.link);
    j.set("from", device_name(t, l.from));
    j.set("to", device_name(t, l.to));
    j.set("kind", link_kind_name(l.kind));
    j.set("bytes", u.bytes.value());
    j.set("utilisation", u.utilisation);
    a.push(std::move(j));
  }
  return a;
}

Json link_kinds_json(const sim::StepResult& r, const hw::ClusterTopology& t) {
  struct Sum {
    int links = 0;
    double total = 0;
    double max = 0;
  };
  std::map<std::string_view, Sum> kinds;
  for (const sim::LinkUse& u : r.link_use) {
    Sum& s = kinds[link_kind_name(t.link(u.link).kind)];
    ++s.links;
    s.total += u.utilisation;
    s.max = std::max(s.max, u.utilisation);
  }
  Json j = Json::object();
  for (const auto& [kind, s] : kinds) {
    Json& k = j.set(kind, Json::object());
    k.set("links_with_traffic", s.links);
    k.set("mean_utilisation", s.total / s.links);
    k.set("max_utilisation", s.max);
  }
  return j;
}

Json simulation_json(const sim::StepResult& r) {
  Json j = Json::object();
  j.set("simulated_gpus", r.simulated_gpus);
  j.set("tasks", r.tasks);
  j.set("dependencies", r.dependencies);
  j.set("events", r.events);
  j.set("collective_runs", r.collective_runs);
  j.set("collective_flows", r.collective_flows);
  return j;
}

std::string percent(double x) { return fmt::format("{:+.1f}%", 100.0 * x); }

void row(std::string& out, std::string_view label, const std::string& value, std::string_view note = "") {
  out += fmt::format("  {:<32}{:>14}  {}\n", label, value, note);
}

}  // namespace

Json step_json(const scenario::Scenario& s, const sim::StepResult& r, const hw::ClusterTopology& topology) {
  Json j = Json::object();
  j.set("time_s", r.time.value());
  j.set("tokens", r.tokens);
  j.set("tokens_per_s_per_gpu", r.tokens_per_second_per_gpu);
  j.set("tflops_per_gpu", r.flops_per_gpu.value() / 1e12);
  j.set("tflops_per_gpu_full_attention", r.flops_per_gpu_full_attention.value() / 1e12);
  j.set("mfu_bf16", r.mfu_bf16);
  j.set("mfu_bf16_full_attention", r.mfu_bf16_full_attention);
  j.set("attention_flops_convention", "causal");
  j.set("gpu_hours_per_trillion_tokens", r.gpu_hours_per_trillion_tokens);
  j.set("breakdown_s", breakdown_json(r.breakdown));
  j.set("critical_gpu", r.critical_gpu);
  j.set("critical_pipeline_rank", r.critical_pipeline_rank);
  j.set("fidelity", fidelity_name(r.fidelity));
  j.set("seed", static_cast<std::int64_t>(r.seed));
  j.set("phase", s.training.phases.front().name);
  j.set("micro_batches_per_pipeline", r.micro_batches);
  const std::vector<study::PublishedStepFigure> published = study::published_step_figures(s);
  if (!published.empty()) {
    Json& list = j.set("published", Json::array());
    for (const study::PublishedStepFigure& p : published) {
      const double predicted = study::predict_step_figure(p.figure, s, r);
      Json v = Json::object();
      v.set("case", p.case_name);
      v.set("quantity", name_of<scenario::CaseQuantity>(scenario::kCaseQuantities, p.figure.quantity));
      v.set("value", p.figure.value);
      v.set("predicted", predicted);
      v.set("error", study::relative_error(predicted, p.figure.value));
      v.set("source", p.figure.source);
      list.push(std::move(v));
    }
  }
  j.set("gpus", gpus_json(r));
  j.set("links", links_json(r, topology));
  j.set("links_with_traffic", static_cast<std::int64_t>(r.link_use.size()));
  j.set("link_kinds", link_kinds_json(r, topology));
  j.set("simulation", simulation_json(r));
  return j;
}

std::string step_table(const scenario::Scenario& s, const sim::StepResult& r) {
  const scenario::Phase& ph = s.training.phases.front();
  std::string out;
  const std::string how =
      r.fidelity == sim::Fidelity::full
          ? fmt::format("full: all {} GPUs, seed {}", r.simulated_gpus, r.seed)
          : fmt::format("symmetric: one pipeline of {} GPUs stands for all {}", r.simulated_gpus, r.gpus);
  out += fmt::format("\nStep  ({}; phase {}, batch {} x {}, {} micro-batches per pipeline)\n", how, ph.name, ph.batch,
                     ph.seq_len, r.micro_batches);
  row(out, "step time", to_string(r.time));
  row(out, "tokens per step", to_count_string(static_cast<double>(r.tokens)));
  row(out, "throughput", fmt::format("{:.0f}", r.tokens_per_second_per_gpu), "tokens/s/GPU");
  row(out, "model FLOP/s per GPU", to_string(r.flops_per_gpu),
      fmt::format("causal attention; {} counting full attention", to_string(r.flops_per_gpu_full_attention)));
  row(out, "MFU vs BF16 dense peak", fmt::format("{:.1f}%", 100 * r.mfu_bf16),
      fmt::format("causal attention; {:.1f}% counting full attention", 100 * r.mfu_bf16_full_attention));
  row(out, "GPU-hours per trillion tokens", to_count_string(r.gpu_hours_per_trillion_tokens));
  for (const study::PublishedStepFigure& p : study::published_step_figures(s)) {
    const double predicted = study::predict_step_figure(p.figure, s, r);
    row(out, "published", figure_value(p.figure, p.figure.value),
        fmt::format("{}, case {} ({})", quantity_label(p.figure), p.case_name, p.figure.source));
    row(out, "tcsim vs published", percent(study::relative_error(predicted, p.figure.value)),
        fmt::format("{} predicted; tcsim validate --case {}", figure_value(p.figure, predicted), p.case_name));
  }
  const sim::StepBreakdown& b = r.breakdown;
  out += fmt::format("\nWhere the critical GPU's step went  (GPU {}, pipeline rank {}: the most compute)\n",
                     r.critical_gpu, r.critical_pipeline_rank);
  const auto part = [&](std::string_view label, Seconds t, std::string_view note = "") {
    row(out, label, to_string(t), fmt::format("{:5.1f}%  {}", 100 * (t / r.time), note));
  };
  part("forward", b.forward);
  part("backward, input gradients", b.backward_input, "with recomputed forward ops");
  part("backward, weight gradients", b.backward_weight);
  part("optimizer", b.optimizer);
  part("exposed communication", b.exposed_comm, "idle while a collective or send it waits for runs");
  part("bubble", b.bubble, "idle, waiting for other stages or stragglers");
  row(out, "total", to_string(b.total()));
  out += fmt::format("\nSimulation: {} tasks, {} dependencies, {} events; {} collectives simulated as flows\n", r.tasks,
                     r.dependencies, r.events, r.collective_runs);
  return out;
}

}  // namespace tcsim::reports
