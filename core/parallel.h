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

// Runs f(0) .. f(n-1) on min(resolve_jobs(jobs), n) threads pulling indices
// from one counter (on the calling thread when that is 1). Once stop()
// returns true no new index is taken. Every call runs to its end even when
// another throws; then the exception of the lowest index is rethrown.
template <class F, class Stop>
void parallel_for(std::int64_t n, int jobs, F&& f, Stop&& stop) {
  if (n <= 0) return;
  std::mutex mutex;
  std::int64_t first_error = n;  // the lowest index that threw, guarded by `mutex`
  std::exception_ptr error;
  std::atomic<std::int64_t> next{0};
  const auto work = [&] {
    for (std::int64_t i = next.fetch_add(1); i < n && !stop(); i = next.fetch_add(1)) {
      try {
        f(i);
      } catch (...) {
        const std::lock_guard lock(mutex);
        if (i < first_error) {
          first_error = i;
          error = std::current_exception();
        }
      }
    }
  };
  const auto workers = static_cast<int>(std::min<std::int64_t>(resolve_jobs(jobs), n));
  if (workers <= 1) {
    work();
  } else {
    std::vector<std::jthread> threads;
    threads.reserve(static_cast<std::size_t>(workers));
    for (int w = 0; w < workers; ++w) threads.emplace_back(work);
  }
  if (error) std::rethrow_exception(error);
}

template <class F>
void parallel_for(std::int64_t n, int jobs, F&& f) {
  parallel_for(n, jobs, std::forward<F>(f), [] { return false; });
}

}  // namespace tcsim
