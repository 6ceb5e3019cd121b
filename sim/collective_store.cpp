#include "sim/collective_store.h"

#include <atomic>
#include <cstring>

namespace tcsim::sim {
namespace {

// The topology in full: device kinds and places, then every link's endpoints,
// kind, bandwidth and latency, as bytes (equal bytes, equal cluster).
std::string fingerprint(const hw::ClusterTopology& t) {
  std::string key;
  const auto put = [&key](const auto& v) {
    char bytes[sizeof v];
    std::memcpy(bytes, &v, sizeof v);
    key.append(bytes, sizeof v);
  };
  put(t.gpus_per_node());
  put(t.forwards_across_planes());
  for (const hw::Device& d : t.devices()) {
    put(d.kind);
    put(d.node);
    put(d.index);
    put(d.plane);
  }
  for (const hw::Link& l : t.links()) {
    put(l.from);
    put(l.to);
    put(l.kind);
    put(l.bandwidth.value());
    put(l.latency.value());
  }
  return key;
}

}  // namespace

struct StoredCollectives {
  std::string fingerprint;
  std::size_t capacity = 0;
  std::mutex mutex;
  std::unordered_map<std::string, CollectiveTime> times;
  std::unordered_map<std::string, LinkBytes> patterns;
  std::atomic<std::int64_t>* hits = nullptr;
};

CollectiveStore::CollectiveStore(std::size_t capacity, std::size_t clusters)
    : capacity_(capacity), clusters_(clusters > 0 ? clusters : 1) {}

std::shared_ptr<StoredCollectives> CollectiveStore::cluster(const hw::ClusterTopology& topology) {
  std::string key = fingerprint(topology);
  const std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if ((*it)->fingerprint == key) return *it;
  }
  auto c = std::make_shared<StoredCollectives>();
  c->fingerprint = std::move(key);
  c->capacity = capacity_;
  c->hits = &hits_;
  if (kept_.size() == clusters_) kept_.erase(kept_.begin());
  kept_.push_back(c);
  return c;
}

std::optional<CollectiveTime> CollectiveStore::time(StoredCollectives& c, const std::string& key) {
  const std::lock_guard<std::mutex> lock(c.mutex);
  const auto it = c.times.find(key);
  if (it == c.times.end()) return std::nullopt;
  c.hits->fetch_add(1, std::memory_order_relaxed);
  return it->second;
}

void CollectiveStore::put_time(StoredCollectives& c, const std::string& key, CollectiveTime t) {
  const std::lock_guard<std::mutex> lock(c.mutex);
  if (c.times.size() < c.capacity) c.times.emplace(key, t);
}

std::optional<LinkBytes> CollectiveStore::pattern(StoredCollectives& c, const std::string& key) {
  const std::lock_guard<std::mutex> lock(c.mutex);
  const auto it = c.patterns.find(key);
  if (it == c.patterns.end()) return std::nullopt;
  c.hits->fetch_add(1, std::memory_order_relaxed);
  return it->second;
}

void CollectiveStore::put_pattern(StoredCollectives& c, const std::string& key, const LinkBytes& links) {
  const std::lock_guard<std::mutex> lock(c.mutex);
  if (c.patterns.size() < c.capacity) c.patterns.emplace(key, links);
}

std::int64_t CollectiveStore::hits() const { return hits_.load(std::memory_order_relaxed); }

}  // namespace tcsim::sim
