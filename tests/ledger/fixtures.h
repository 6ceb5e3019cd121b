// Shared inputs for the cost-side tests: a small scenario whose closed forms
// are easy to write by hand, and step-time oracles with known answers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "scenarios/loader.h"
#include "sim/run_level.h"

namespace tcsim::test {

// Mixtral 8x7B on 64 H100 (8 nodes), TP1 PP4 EP8 DP16: a micro-batch round is
// dp x micro_batch = 16 sequences. No reliability or cost sections: each test
// adds what it needs with --set.
inline constexpr const char* kSmall = R"(model: mixtral-8x7b
parallelism: {tp: 1, pp: 4, ep: 8, dp: 16}
hardware: {gpu: h100, gpus_per_node: 8, nodes: 8}
training:
  seq_len: 1000
  phases:
    - {name: main, tokens: "1B", batch: 2048, batch_ramp: {from: 1024, over_tokens: "500M"}}
    - {name: long, steps: 100, batch: 64, seq_len: 8000}
    - {name: tuned, gpu_hours: "500 GPU-h", source: "a measured figure"}
)";

inline scenario::Scenario load_small(const std::vector<std::string>& sets = {}) {
  return scenario::load_scenario_text(kSmall, "s.yaml", sets);
}

// The ConfigError message of loading `text` with `sets`, or "" when it loads.
inline std::string load_error(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    scenario::load_scenario_text(text, "s.yaml", sets);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// time = tokens / rate: a step of b sequences of s tokens takes b s / rate.
inline sim::StepOracle rate_oracle(double tokens_per_second, int* calls = nullptr) {
  sim::StepOracle o;
  o.name = "rate";
  o.description = "test oracle: tokens / rate";
  o.stand_in = true;
  o.time = [tokens_per_second, calls](const scenario::Phase& ph, std::int64_t batch) {
    if (calls != nullptr) ++*calls;
    return Seconds(static_cast<double>(batch) * ph.seq_len / tokens_per_second);
  };
  return o;
}

}  // namespace tcsim::test
