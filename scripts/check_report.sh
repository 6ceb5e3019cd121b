#!/usr/bin/env bash
# Renders `tcsim report` in a real headless browser and checks the screenshot:
# the page is not blank and the inline SVG charts were drawn (pixels of the
# charts' bar colours are present), and that the accounting views table and
# the tornado chart are on the page (Chromium's own DOM after layout).
# Where chromium or python3 is absent it skips with exit code 0, unless
# CHECK_REPORT_REQUIRED=1 (CI, which installs them with
# scripts/setup.sh --with-browser): then that is a failure. Expects a built
# binary (BUILD_DIR, default build); CHECK_REPORT_KEEP=DIR keeps the report
# and the screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"

browser=""
for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
skip() {
  if [ "${CHECK_REPORT_REQUIRED:-0}" = 1 ]; then
    echo "check_report: FAIL: $1 (scripts/setup.sh --with-browser installs it)" >&2
    exit 1
  fi
  echo "check_report: skipped: $1 (scripts/setup.sh --with-browser installs it)"
  exit 0
}
if [ -z "$browser" ]; then skip "chromium is not installed"; fi
if ! command -v python3 >/dev/null 2>&1; then skip "python3 is not installed (it decodes the screenshot)"; fi
if [ ! -x "$build_dir/tcsim" ]; then
  echo "check_report: $build_dir/tcsim is missing; build first (scripts/test.sh)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$build_dir/tcsim" report --out "$work/report" --trials 200 --samples 2000 >/dev/null

# One screenshot per page; no network: each must render from the file alone.
shoot() {  # PAGE.html PNG HEIGHT
  timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --screenshot="$2" --window-size="1200,$3" \
    "file://$1" >"$work/browser.log" 2>&1 || {
    echo "check_report: $browser failed on $1:" >&2
    tail -20 "$work/browser.log" >&2
    exit 1
  }
}

shoot "$work/report/report.html" "$work/shot.png" 2000
python3 scripts/check_report.py pieces "$work/report/report.html" "$work"
shoot "$work/views.html" "$work/views.png" 2400
shoot "$work/tornado.html" "$work/tornado.png" 700
shoot "$work/charts.html" "$work/charts.png" 900
if [ -n "${CHECK_REPORT_KEEP:-}" ]; then
  mkdir -p "$CHECK_REPORT_KEEP"
  cp -r "$work/report" "$work"/*.png "$CHECK_REPORT_KEEP/"
fi
python3 scripts/check_report.py shot page "$work/shot.png"
python3 scripts/check_report.py shot views "$work/views.png"
python3 scripts/check_report.py shot tornado "$work/tornado.png"
python3 scripts/check_report.py shot charts "$work/charts.png"
echo "check_report: ok"
