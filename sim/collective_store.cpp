#include "sim/collective_store.h"

#include <atomic>
#include <cstring>

namespace tcsim::sim {
namespace {

// The topology's shape (device kinds and places, every link's endpoints and
// kind) and its speeds (every link's bandwidth and latency), as bytes: equal
// bytes, equal shape or speeds.
template <class T>
void put(std::string& key, const T& v) {
  char bytes[sizeof v];
  std::memcpy(bytes, &v, sizeof v);
  key.append(bytes, sizeof v);
}

std::string shape_of(const hw::ClusterTopology& t) {
  std::string key;
  put(key, t.gpus_per_node());
  put(key, t.forwards_across_planes());
  for (const hw::Device& d : t.devices()) {
    put(key, d.kind);
    put(key, d.node);
    put(key, d.index);
    put(key, d.plane);
  }
  for (const hw::Link& l : t.links()) {
    put(key, l.from);
    put(key, l.to);
    put(key, l.kind);
  }
  return key;
}

std::string speeds_of(const hw::ClusterTopology& t) {
  std::string key;
  for (const hw::Link& l : t.links()) {
    put(key, l.bandwidth.value());
    put(key, l.latency.value());
  }
  return key;
}

}  // namespace

// Link patterns depend on the routes alone, so on the shape: clusters of one
// shape (a sweep over link speeds) share them.
struct StoredPatterns {
  std::string shape;
  std::size_t capacity = 0;
  std::mutex mutex;
  std::unordered_map<std::string, LinkBytes> patterns;
};

struct StoredCollectives {
  std::string speeds;
  std::shared_ptr<StoredPatterns> shape;
  std::size_t capacity = 0;
  std::mutex mutex;
  std::unordered_map<std::string, CollectiveTime> times;
  std::atomic<std::int64_t>* hits = nullptr;
};

CollectiveStore::CollectiveStore(std::size_t capacity, std::size_t clusters)
    : capacity_(capacity), clusters_(clusters > 0 ? clusters : 1) {}

std::shared_ptr<StoredCollectives> CollectiveStore::cluster(const hw::ClusterTopology& topology) {
  std::string shape = shape_of(topology);
  std::string speeds = speeds_of(topology);
  const std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& c : kept_) {
    if (c->shape->shape == shape && c->speeds == speeds) return c;
  }
  std::shared_ptr<StoredPatterns> patterns;
  for (const auto& p : shapes_) {
    if (p->shape == shape) patterns = p;
  }
  if (!patterns) {
    patterns = std::make_shared<StoredPatterns>();
    patterns->shape = std::move(shape);
    patterns->capacity = capacity_;
    if (shapes_.size() == clusters_) shapes_.erase(shapes_.begin());
    shapes_.push_back(patterns);
  }
  auto c = std::make_shared<StoredCollectives>();
  c->speeds = std::move(speeds);
  c->shape = std::move(patterns);
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
  StoredPatterns& p = *c.shape;
  const std::lock_guard<std::mutex> lock(p.mutex);
  const auto it = p.patterns.find(key);
  if (it == p.patterns.end()) return std::nullopt;
  c.hits->fetch_add(1, std::memory_order_relaxed);
  return it->second;
}

void CollectiveStore::put_pattern(StoredCollectives& c, const std::string& key, const LinkBytes& links) {
  StoredPatterns& p = *c.shape;
  const std::lock_guard<std::mutex> lock(p.mutex);
  if (p.patterns.size() < p.capacity) p.patterns.emplace(key, links);
}

std::int64_t CollectiveStore::hits() const { return hits_.load(std::memory_order_relaxed); }

}  // namespace tcsim::sim
