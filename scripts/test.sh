#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs the full test suite.
# BUILD_DIR and extra CMake options (CMAKE_ARGS) select other configurations,
# e.g. the sanitizer build in .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build_dir="${BUILD_DIR:-build}"
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" ${CMAKE_ARGS:-} >/dev/null
cmake --build "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure
