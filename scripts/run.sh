#!/usr/bin/env bash
# Installs what is missing, builds tcsim, and runs the main job: the built-in
# DeepSeek-V3 on 2048 H800 scenario. Extra arguments go to `tcsim run`.
# The build is the one scripts/test.sh makes (same directory, same type), so
# switching between the two never rebuilds; whatever setup and the build
# print goes to stderr, so `scripts/run.sh --json > f` writes JSON alone.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  scripts/setup.sh
  build_dir="${BUILD_DIR:-build}"
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
  cmake --build "$build_dir" --target tcsim
} 1>&2
exec "${BUILD_DIR:-build}/tcsim" run "$@"
