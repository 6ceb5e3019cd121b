// Collectives timed alone, shared by the steps of a study (a plan search, a
// sweep) that run on the same cluster: the steps of two plans on one cluster
// often run the same data-parallel rings, stage-to-stage sends and gradient
// norm, and a collective's time alone depends only on the cluster and the
// collective (sim/collective_cache.h), so each is simulated once.
//
// Contract:
// - A cluster is the topology exactly: its devices, its links' endpoints,
//   kinds, bandwidths and latencies. Two topologies share times only when
//   all of these are equal (compared in full, not by a hash); link patterns
//   (bytes per link per unit of size, which follow the routes alone) when
//   their shapes are (devices, links' endpoints and kinds).
// - Only keys that name everything their collective depends on, given the
//   cluster, are stored: rings, sends and the gradient norm by their members,
//   algorithm and bytes; expert all-to-alls by their members, how their
//   tokens were drawn (balanced, or the sample's seed and skew) and the bytes
//   of a token copy. A stored entry is what the step would have computed
//   itself, so a step's result does not depend on what the store holds
//   (tested).
// - Thread-safe; two steps that miss the same key at once both simulate it
//   and store the same value. Bounded: beyond `capacity` entries per cluster
//   nothing more is stored (lookups still hit), and beyond `clusters`
//   clusters the oldest is forgotten.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/collective_cache.h"

namespace tcsim::sim {

struct StoredPatterns;  // one shape's link patterns

class CollectiveStore {
 public:
  explicit CollectiveStore(std::size_t capacity = 1 << 16, std::size_t clusters = 8);

  // The cluster's entries (created on first use); the handle stays valid
  // while the store lives, even after the cluster is forgotten.
  std::shared_ptr<StoredCollectives> cluster(const hw::ClusterTopology& topology);

  static std::optional<CollectiveTime> time(StoredCollectives& c, const std::string& key);
  static void put_time(StoredCollectives& c, const std::string& key, CollectiveTime t);
  static std::optional<LinkBytes> pattern(StoredCollectives& c, const std::string& key);
  static void put_pattern(StoredCollectives& c, const std::string& key, const LinkBytes& links);

  std::int64_t hits() const;

 private:
  std::size_t capacity_;
  std::size_t clusters_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<StoredCollectives>> kept_;  // oldest first
  std::vector<std::shared_ptr<StoredPatterns>> shapes_;   // link patterns by shape, oldest first
  std::atomic<std::int64_t> hits_{0};
};

}  // namespace tcsim::sim
