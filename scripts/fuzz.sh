#!/usr/bin/env bash
# Builds the fuzzers with clang (libFuzzer, ASan, UBSan) and runs each for a
# bounded time from its seed corpus: the scenario loader for FUZZ_SECONDS, the
# sweep-table reader for a quarter of it (at least 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCSIM_FUZZ=ON -DTCSIM_SANITIZE=ON \
  -DTCSIM_TESTS=ON -DTCSIM_CUDA=OFF >/dev/null
cmake --build build-fuzz --target fuzz_loader fuzz_sweep_table
mkdir -p build-fuzz/artifacts
# run TARGET CORPUS SECONDS: a bounded run from a copy of the seed corpus.
run() {
  local work
  work=$(mktemp -d)
  cp "$2"/* "$work"/
  "build-fuzz/tests/fuzz/$1" -max_total_time="$3" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1 "$work"
  rm -rf "$work"
}
run fuzz_loader tests/fuzz/corpus "${FUZZ_SECONDS:-60}"
# Sweep tables (resume, merge): a quarter of the loader's budget, at least 10 s.
table_seconds=$(( ${FUZZ_SECONDS:-60} / 4 ))
run fuzz_sweep_table tests/fuzz/corpus-sweep "$(( table_seconds < 10 ? 10 : table_seconds ))"
