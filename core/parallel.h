// One way to run independent work on several threads: parallel_for. Each
// call f(i) must write only its own results, so the outcome does not depend
// on the number of workers or on which worker ran what.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace tcsim {

// The worker count when the user gives none (--jobs): the machine's
// hardware threads, at least 1.
int default_jobs();

// `jobs` when positive, else default_jobs().
inline int resolve_jobs(int jobs) { return jobs > 0 ? jobs : default_jobs(); }

namespace detail {

// Calls work() on `workers` threads (on the calling thread when that is 1)
// and returns once every call has returned.
template <class W>
void run_workers(int workers, W& work) {
  if (workers <= 1) {
    work();
    return;
  }
  std::vector<std::jthread> threads;
  threads.reserve(static_cast<std::size_t>(workers));
  for (int w = 0; w < workers; ++w) threads.emplace_back(work);
}

// The exception of the lowest index among those that threw.
class FirstError {
 public:
  explicit FirstError(std::int64_t n) : first_(n) {}
  void record(std::int64_t i) {
    const std::lock_guard lock(mutex_);
    if (i < first_) {
      first_ = i;
      error_ = std::current_exception();
    }
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::int64_t first_;
  std::exception_ptr error_;
};

}  // namespace detail

// Runs f(0) .. f(n-1) on min(resolve_jobs(jobs), n) threads pulling indices
// from one counter (on the calling thread when that is 1). Once stop()
// returns true no new index is taken. Every call runs to its end even when
// another throws; then the exception of the lowest index is rethrown.
template <class F, class Stop>
void parallel_for(std::int64_t n, int jobs, F&& f, Stop&& stop) {
  if (n <= 0) return;
  detail::FirstError error(n);
  std::atomic<std::int64_t> next{0};
  const auto work = [&] {
    for (std::int64_t i = next.fetch_add(1); i < n && !stop(); i = next.fetch_add(1)) {
      try {
        f(i);
      } catch (...) {
        error.record(i);
      }
    }
  };
  detail::run_workers(static_cast<int>(std::min<std::int64_t>(resolve_jobs(jobs), n)), work);
  error.rethrow();
}

// parallel_for(n, jobs, f), with spare work for the tail: a worker that finds
// no index of f left while another worker still runs one calls spare(j), for
// j = 0, 1, ... below spare_n, each at most once, instead of waiting. Which
// spare calls run depends on timing: their results may serve only as a cache
// the outcome does not depend on. spare must not throw. Returns once every
// call of f and of spare has ended.
template <class F, class Spare>
void parallel_for_with_spare(std::int64_t n, int jobs, F&& f, std::int64_t spare_n, Spare&& spare) {
  if (n <= 0) return;
  detail::FirstError error(n);
  std::atomic<std::int64_t> next{0};
  std::atomic<std::int64_t> left{n};
  std::atomic<std::int64_t> next_spare{0};
  const auto work = [&] {
    for (std::int64_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      try {
        f(i);
      } catch (...) {
        error.record(i);
      }
      left.fetch_sub(1);
    }
    while (left.load() > 0) {
      const std::int64_t j = next_spare.fetch_add(1);
      if (j >= spare_n) break;
      spare(j);
    }
  };
  detail::run_workers(
      static_cast<int>(std::min<std::int64_t>(resolve_jobs(jobs), n + std::max<std::int64_t>(spare_n, 0))), work);
  error.rethrow();
}

template <class F>
void parallel_for(std::int64_t n, int jobs, F&& f) {
  parallel_for(n, jobs, std::forward<F>(f), [] { return false; });
}

}  // namespace tcsim
