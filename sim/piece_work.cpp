#include "sim/piece_work.h"

#include <algorithm>

#include "hardware/op_time.h"

namespace tcsim::sim {

PieceWork piece_work(const model::StepWorkload& workload, const model::WorkPiece& piece,
                     const hw::CalibrationProfile& profile, int sms, int shared_sms) {
  const auto seconds = [&](const model::Op& op, model::Pass pass, int n) {
    return hw::op_seconds(op, pass, profile, n);
  };
  PieceWork w;
  for (const model::OpUse& u : piece.ops) {
    const model::Op& op = workload.op(u);
    Seconds full = seconds(op, u.pass, sms), shared = seconds(op, u.pass, shared_sms);
    if (u.with_forward) {
      full += seconds(op, model::Pass::forward, sms);
      shared += seconds(op, model::Pass::forward, shared_sms);
    }
    if (op.role == model::OpRole::routed_expert) {
      w.expert_full += full;
      w.expert_shared += shared;
    } else {
      w.full += full;
      w.shared += shared;
    }
  }
  return w;
}

SimTime least_time(const PieceWork& w) {
  return std::min(to_sim_time(w.full + w.expert_full), to_sim_time(w.shared + w.expert_shared));
}

}  // namespace tcsim::sim
