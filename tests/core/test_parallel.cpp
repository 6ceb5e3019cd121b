// core/parallel.h: every index once, on any number of workers; errors and
// stops as documented.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/parallel.h"

using namespace tcsim;

TEST_CASE("parallel_for calls f once per index whatever the worker count") {
  for (const int jobs : {0, 1, 2, 7, 64}) {
    CAPTURE(jobs);
    std::vector<int> calls(1000, 0);
    parallel_for(1000, jobs, [&](std::int64_t i) { ++calls[static_cast<std::size_t>(i)]; });
    // Each slot written by its own call only: every count is exactly 1.
    CHECK(std::accumulate(calls.begin(), calls.end(), 0) == 1000);
    CHECK(*std::min_element(calls.begin(), calls.end()) == 1);
  }
  parallel_for(0, 4, [](std::int64_t) { CHECK(false); });
  CHECK(resolve_jobs(3) == 3);
  CHECK(resolve_jobs(0) == default_jobs());
  CHECK(default_jobs() >= 1);
}

TEST_CASE("parallel_for rethrows the exception of the lowest index after every call has ended") {
  std::atomic<int> ran{0};
  try {
    parallel_for(100, 4, [&](std::int64_t i) {
      ++ran;
      if (i == 70 || i == 30) throw std::runtime_error("at " + std::to_string(i));
    });
    CHECK(false);
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "at 30");
  }
  CHECK(ran == 100);
}

TEST_CASE("parallel_for takes no new index once stop() says so") {
  std::atomic<int> ran{0};
  // One worker: index i runs only while fewer than 10 have run, so exactly 10 run.
  parallel_for(
      1000, 1, [&](std::int64_t) { ++ran; }, [&] { return ran >= 10; });
  CHECK(ran == 10);
}

TEST_CASE("parallel_for_with_spare runs every index once and spare work only beside it") {
  for (const int jobs : {1, 2, 5}) {
    CAPTURE(jobs);
    std::vector<int> calls(200, 0);
    std::vector<std::atomic<int>> spares(50);
    parallel_for_with_spare(
        200, jobs, [&](std::int64_t i) { ++calls[static_cast<std::size_t>(i)]; }, 50,
        [&](std::int64_t j) { ++spares[static_cast<std::size_t>(j)]; });
    CHECK(std::accumulate(calls.begin(), calls.end(), 0) == 200);
    CHECK(*std::min_element(calls.begin(), calls.end()) == 1);
    for (const auto& s : spares) CHECK(s.load() <= 1);
    // One worker has no one to fill in for: it never runs spare work.
    if (jobs == 1) {
      for (const auto& s : spares) CHECK(s.load() == 0);
    }
  }
}

TEST_CASE("parallel_for_with_spare fills a long last call's tail, then stops") {
  std::atomic<int> started{0};
  std::atomic<int> ended{0};
  // One index, two workers: the second has only spare work. The index waits
  // (a few seconds at most) until three spare calls have run.
  parallel_for_with_spare(
      1, 2,
      [&](std::int64_t) {
        for (int k = 0; k < 20000 && ended.load() < 3; ++k) std::this_thread::sleep_for(std::chrono::microseconds(100));
      },
      1000000,
      [&](std::int64_t) {
        ++started;
        ++ended;
      });
  CHECK(ended.load() >= 3);
  CHECK(started.load() == ended.load());  // none is running after the return
  CHECK(started.load() < 1000000);        // it stopped taking spare work when the index ended
}

TEST_CASE("parallel_for_with_spare rethrows the lowest index's exception") {
  try {
    parallel_for_with_spare(
        10, 2,
        [](std::int64_t i) {
          if (i == 7 || i == 4) throw std::runtime_error("at " + std::to_string(i));
        },
        5, [](std::int64_t) {});
    CHECK(false);
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "at 4");
  }
}
