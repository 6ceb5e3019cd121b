#!/usr/bin/env bash
# Installs what is missing, builds tcsim, and runs the main job: the built-in
# DeepSeek-V3 on 2048 H800 scenario. Extra arguments go to `tcsim run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target tcsim
exec build/tcsim run "$@"
