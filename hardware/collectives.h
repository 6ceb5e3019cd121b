// Collectives as point-to-point flows. A schedule is a sequence of steps; a
// step is a set of concurrent transfers whose completion gates the next step
// (the algorithms' dependency structure, with a barrier per step). A step that
// repeats unchanged (ring all-reduce's 2(n-1) steps) is stored once with a
// count. Sizes follow nccl-tests: all-reduce's size is the buffer on each
// rank; reduce-scatter's and all-gather's the full (n-chunk) buffer; all-to-all's
// each rank's whole send buffer.
#pragma once

#include <string>
#include <vector>

#include "core/units.h"

namespace tcsim::hw {

enum class CollectiveOp { all_reduce, reduce_scatter, all_gather, all_to_all, send_recv };
enum class CollectiveAlgo { ring, tree, hierarchical, direct, pairwise };

struct Transfer {
  int src = 0;  // GPU ids in the cluster
  int dst = 0;
  Bytes bytes;
  int channel = 0;  // a connection (ring, tree, rail): it keeps one ECMP path across steps
  // Streams right behind the previous chunk on its connection (a pipeline in
  // flight, NCCL keeps NCCL_STEPS slices outstanding): the start-up latency was
  // paid by the connection's first chunk, so this one pays none.
  bool pipelined = false;
};

struct Step {
  std::vector<Transfer> transfers;
  int repeat = 1;  // consecutive identical steps
};

struct Schedule {
  std::string name;
  std::vector<Step> steps;
};

// Ranks are cluster GPU ids in the order the algorithm uses them (a ring in
// this order). `channels` parallel rings (or tree pairs) each carry
// 1/channels of the data, as NCCL's channels do.
struct GroupLayout {
  std::vector<int> ranks;
  int gpus_per_node = 1;  // of the cluster: a rank's node is rank / gpus_per_node
};

// Ring: 2(n-1) steps of size/(n x channels) per channel per rank. With
// channels > 1, channel c's ring visits each node's GPUs starting at local
// index (c - node position) mod g, so every node-to-node hop joins NICs of one
// index (one rail, one plane) and each channel leaves a node through a
// different GPU.
Schedule ring_all_reduce(const GroupLayout& group, Bytes size, int channels);
Schedule ring_reduce_scatter(const GroupLayout& group, Bytes size, int channels);
Schedule ring_all_gather(const GroupLayout& group, Bytes size, int channels);

// Double binary tree (NCCL 2.4+): two binary trees over the ranks, the second
// mirrored (even n) or shifted by one (odd n) so that a rank that is a leaf in
// one is interior in the other; each tree reduces then broadcasts half the
// data, pipelined in chunks of `chunk` bytes (one chunk per tree edge per step;
// only an edge's first chunk pays the path latency).
Schedule tree_all_reduce(const GroupLayout& group, Bytes size, Bytes chunk);

// Intra-node ring reduce-scatter, inter-node ring all-reduce among the GPUs of
// one local index (one per node), intra-node ring all-gather. The group must
// hold the same GPUs of every node it touches.
Schedule hierarchical_all_reduce(const GroupLayout& group, Bytes size);

// All-to-all: every rank sends size/n to every other rank. direct: all at once
// (NCCL posts every send and receive of the group together); pairwise: n-1
// steps, rank i sending to i+k at step k.
Schedule all_to_all(const GroupLayout& group, Bytes size, CollectiveAlgo algo);

// One pipeline-parallel activation or gradient send.
Schedule send_recv(int src, int dst, Bytes size);

// NCCL's pipeline slice: the Simple protocol's 4 MiB buffer per channel
// (NCCL_BUFFSIZE default, NCCL env docs) split into NCCL_STEPS = 8 slots
// (src/include/device.h).
inline constexpr Bytes kNcclSliceBytes = kib(512);

struct CollectiveOptions {
  int channels = 1;                    // parallel rings (ring algorithms)
  Bytes tree_chunk = kNcclSliceBytes;  // pipeline chunk (tree)
};

// The schedule of `op` with `algo`; ConfigError for a pair with no algorithm
// here (all-gather has no tree, say). send-recv sends from the group's first
// rank to its last.
Schedule make_collective(CollectiveOp op, CollectiveAlgo algo, const GroupLayout& group, Bytes size,
                         const CollectiveOptions& options);

// The algorithm a step's collectives use when none is named.
CollectiveAlgo default_algorithm(CollectiveOp op);

// Every algorithm there is for `op`, the default first.
std::vector<CollectiveAlgo> algorithms_for(CollectiveOp op);

// nccl-tests' bus-bandwidth factor (doc/PERFORMANCE.md): busbw = algbw x factor.
double bus_bandwidth_factor(CollectiveOp op, int ranks);

// Bytes each rank sends over the whole schedule (sum over transfers x repeat).
std::vector<Bytes> bytes_sent_per_rank(const Schedule& schedule, int gpu_count);

}  // namespace tcsim::hw
