#!/usr/bin/env bash
# Builds the scenario-loader fuzzer with clang (libFuzzer, ASan, UBSan) and runs
# it for a bounded time from the seed corpus. FUZZ_SECONDS sets the budget.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCSIM_FUZZ=ON -DTCSIM_SANITIZE=ON \
  -DTCSIM_TESTS=ON -DTCSIM_CUDA=OFF >/dev/null
cmake --build build-fuzz --target fuzz_loader
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tests/fuzz/corpus/* "$work"/
mkdir -p build-fuzz/artifacts
build-fuzz/tests/fuzz/fuzz_loader -max_total_time="${FUZZ_SECONDS:-60}" -max_len=8192 -timeout=10 \
  -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1 "$work"
