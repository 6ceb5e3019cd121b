// Expert-parallel dispatch and combine as flows, with DeepSeek-V3's
// node-limited routing (V3-TR arXiv:2412.19437 §2.1.2): each token goes to
// at most M nodes, chosen by the sum of the highest top_k/M affinities of the
// experts on each node, then to its top_k experts among those nodes. Dispatch
// sends a token once over the scale-out network to the GPU with the sender's
// local index on each target node, which forwards it over NVLink to the
// target GPUs there (DeepEP's normal kernels; ISCA'25 arXiv:2505.09343 §5);
// combine is the reverse.
#pragma once

#include <cstdint>
#include <vector>

#include "core/units.h"
#include "hardware/collectives.h"

namespace tcsim::hw {

struct MoeRouting {
  int experts = 0;    // routed experts, spread evenly over the group's ranks in order
  int top_k = 0;      // experts per token
  int max_nodes = 0;  // at most this many nodes per token; 0: no limit
  // A node's score is the sum of the best `node_score_experts` affinities of
  // its experts; 0: top_k / max_nodes (V3-TR §2.1.2). DeepEP's benchmark uses
  // the single best (1).
  int node_score_experts = 0;
  // Relative load of each expert (Plackett-Luce: a token's first choice is
  // expert e with probability w_e / sum w); empty: uniform.
  std::vector<double> expert_weights;
  std::uint64_t seed = 1;  // the sampled affinities are reproducible
};

// w_e proportional to (e + 1)^-exponent: expert 0 is the hottest, and the
// hottest experts sit together on the first ranks.
std::vector<double> zipf_weights(int experts, double exponent);

// Each token's chosen experts. Tokens are sampled with random affinities
// (Gumbel noise on log w_e), tokens_per_rank on every rank.
struct RoutedTokens {
  int top_k = 0;
  std::vector<int> source;   // per token: its position in the group
  std::vector<int> experts;  // per token: top_k expert ids, token t at [t*top_k, (t+1)*top_k)
};

RoutedTokens route_tokens(const GroupLayout& group, const MoeRouting& routing, int tokens_per_rank);

struct ExpertTraffic {
  Schedule schedule;      // one step: scale-out sends and NVLink forwards together (pipelined)
  Bytes scale_out_bytes;  // total over the scale-out network
  Bytes nvlink_bytes;     // total over NVLink
  // The figures DeepEP's benchmarks divide by time (tests/test_internode.py,
  // test_intranode.py), mean per rank: token copies per target node including
  // the sender's own ("RDMA"), and tokens received including from itself ("NVL").
  Bytes deepep_rdma_bytes_per_rank;
  Bytes deepep_nvl_bytes_per_rank;
};

// Dispatch moves `bytes_per_token` (FP8 activations with scales in DeepSeek-V3)
// to experts; combine moves results back (BF16). Experts on the sender's own GPU
// need no transfer.
ExpertTraffic expert_dispatch(const GroupLayout& group, const RoutedTokens& tokens, int experts, Bytes bytes_per_token);
ExpertTraffic expert_combine(const GroupLayout& group, const RoutedTokens& tokens, int experts, Bytes bytes_per_token);

}  // namespace tcsim::hw
