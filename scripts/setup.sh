#!/usr/bin/env bash
# Installs the Debian packages tcsim builds with, when any is missing.
# Idempotent: a machine that has them all is left untouched.
set -euo pipefail

# --with-browser adds headless Chromium and Python for the report's screenshot
# check (scripts/check_report.sh), which CI runs; a developer's build needs neither.
packages=(
  cmake ninja-build g++ pkg-config      # build
  libeigen3-dev libyaml-cpp-dev libfmt-dev libboost-graph-dev doctest-dev zlib1g-dev  # libraries
  clang libclang-rt-14-dev clang-format  # fuzzing (libFuzzer) and the format check
  libopenmpi-dev openmpi-bin             # tcsim sweep across MPI ranks (optional: TCSIM_MPI)
  pybind11-dev python3-dev python3-pytest  # the Python module and its tests (docs/python.md)
  python3-pip python3-setuptools python3-wheel  # pip install --no-build-isolation . without a package index
)

if [ "${1:-}" = "--with-browser" ]; then
  packages+=(chromium python3 fonts-dejavu-core)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
