#include "reports/op_table.h"

#include <fmt/format.h>

#include "hardware/op_time.h"
#include "model/ops.h"

namespace tcsim::reports {
namespace {

struct LayerOps {
  model::Block block;
  int compute_sms = 0;
};

LayerOps first_layer(const scenario::Scenario& s) {
  const scenario::Phase& ph = s.training.phases.front();
  const bool moe = s.model.moe.has_value();
  const int layer = moe ? s.model.dense_layers : 0;
  const model::BlockKind kind = moe ? model::BlockKind::moe_layer : model::BlockKind::dense_layer;
  const model::MicroBatch mb{ph.parallelism.micro_batch, ph.seq_len};
  // Communication kernels hold comm_sms SMs while they run (V3-TR §3.2.2);
  // the table shows compute on the SMs left, as under DualPipe's overlap.
  return {model::build_block(s.model, ph.parallelism, s.precision, kind, layer, mb),
          s.hardware.gpu.sms - ph.parallelism.comm_sms};
}

constexpr model::Pass kPasses[] = {model::Pass::forward, model::Pass::backward_input, model::Pass::backward_weight};
constexpr const char* kPassNames[] = {"forward", "backward_input", "backward_weight"};

std::string rate_text(const hw::OpTime& t) {
  if (t.per_byte) return fmt::format("{} {}", t.rate_name, BytesPerSecond(t.rate));
  return fmt::format("{} {}", t.rate_name, FlopsPerSecond(t.rate));
}

}  // namespace

Json layer_ops_json(const scenario::Scenario& s) {
  Json out = Json::object();
  if (!s.hardware.profile) return out;
  const hw::CalibrationProfile& prof = *s.hardware.profile;
  const LayerOps l = first_layer(s);
  out.set("layer", l.block.layer);
  out.set("profile", prof.name);
  out.set("compute_sms", l.compute_sms);
  Json ops = Json::array();
  for (const model::Op& op : l.block.ops) {
    if (op.cls == model::OpClass::comm) continue;
    Json o = Json::object();
    o.set("name", op.name);
    for (int i = 0; i < model::kPasses; ++i) {
      if (op.flops[i].value() == 0 && op.hbm_bytes[i].value() == 0) continue;
      const hw::OpTime t = hw::op_time(op, kPasses[i], prof, l.compute_sms);
      Json& p = o.set(kPassNames[i], Json::object());
      p.set("time_s", t.time.value());
      p.set("flops", op.flops[i].value());
      p.set("hbm_bytes", op.hbm_bytes[i].value());
      p.set("rate", t.rate_name);
      p.set("rate_value", t.rate);
      p.set("wave_efficiency", t.efficiency);
      p.set("source", t.source);
    }
    ops.push(std::move(o));
  }
  out.set("ops", std::move(ops));
  return out;
}

std::string layer_ops_table(const scenario::Scenario& s) {
  if (!s.hardware.profile) {
    return fmt::format("\nOp times: no calibration profile for GPU {}; give hardware.calibration\n",
                       s.hardware.gpu.name);
  }
  const hw::CalibrationProfile& prof = *s.hardware.profile;
  const LayerOps l = first_layer(s);
  std::string out = fmt::format(
      "\nOne micro-batch of layer {} on one GPU  (profile {}; compute on {} of {} SMs)\n"
      "  {:<24} {:<15} {:>10} {:>10}  {:<30} {}\n",
      l.block.layer, prof.name, l.compute_sms, s.hardware.gpu.sms, "op", "pass", "time", "waves", "rate", "source");
  std::vector<std::string> sources;
  Seconds total;
  for (const model::Op& op : l.block.ops) {
    if (op.cls == model::OpClass::comm) {
      out += fmt::format("  {:<24} {:<15} {:>10} {:>10}  {:<30}\n", op.name, "forward", "-", "-",
                         fmt::format("network: {} per GPU", op.comm_bytes));
      continue;
    }
    for (int i = 0; i < model::kPasses; ++i) {
      if (op.flops[i].value() == 0 && op.hbm_bytes[i].value() == 0) continue;
      const hw::OpTime t = hw::op_time(op, kPasses[i], prof, l.compute_sms);
      total += t.time;
      std::size_t ref = 0;
      while (ref < sources.size() && sources[ref] != t.source) ++ref;
      if (ref == sources.size()) sources.push_back(t.source);
      const std::string waves = op.cls == model::OpClass::memory || op.cls == model::OpClass::attention
                                    ? "-"
                                    : fmt::format("{:.0f}%", 100 * t.efficiency);
      out += fmt::format("  {:<24} {:<15} {:>10} {:>10}  {:<30} [{}]\n", op.name, kPassNames[i], to_string(t.time),
                         waves, rate_text(t), ref + 1);
    }
  }
  out += fmt::format("  {:<24} {:<15} {:>10}  (compute and memory ops, no overlap, no communication)\n", "total", "",
                     to_string(total));
  out += "  rates from:\n";
  for (std::size_t i = 0; i < sources.size(); ++i) out += fmt::format("    [{}] {}\n", i + 1, sources[i]);
  return out;
}

}  // namespace tcsim::reports
