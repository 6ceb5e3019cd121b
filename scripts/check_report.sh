#!/usr/bin/env bash
# Renders `tcsim report` in a real headless browser and checks the screenshot:
# the page is not blank and the inline SVG charts were drawn (pixels of the
# charts' bar colours are present). Skips, with a message and exit code 0,
# when chromium or python3 is absent. Expects a built binary (BUILD_DIR,
# default build); set CHECK_REPORT_KEEP=DIR to keep the report and screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"

browser=""
for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then
  echo "check_report: skipped: chromium is not installed (Debian: apt-get install chromium)"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "check_report: skipped: python3 is not installed (it decodes the screenshot)"
  exit 0
fi
if [ ! -x "$build_dir/tcsim" ]; then
  echo "check_report: $build_dir/tcsim is missing; build first (scripts/test.sh)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$build_dir/tcsim" report --out "$work/report" --trials 200 --samples 2000 >/dev/null
# No network: the page must render from the file alone.
timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --screenshot="$work/shot.png" --window-size=1200,2000 \
  "file://$work/report/report.html" >"$work/browser.log" 2>&1 || {
  echo "check_report: $browser failed:" >&2
  tail -20 "$work/browser.log" >&2
  exit 1
}
if [ -n "${CHECK_REPORT_KEEP:-}" ]; then
  mkdir -p "$CHECK_REPORT_KEEP"
  cp -r "$work/report" "$work/shot.png" "$CHECK_REPORT_KEEP/"
fi

python3 - "$work/shot.png" <<'PY'
# Decodes the PNG with the standard library only and counts pixels.
import struct, sys, zlib

def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("check_report: the screenshot is not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace != 0 or ctype not in (2, 6):
                sys.exit(f"check_report: unexpected PNG format (depth {depth}, colour type {ctype})")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows, i = [], 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows

w, h, bpp, rows = read_png(sys.argv[1])
# reports/charts.cpp palette: totals and simulated compute #4e79a7, increases #f28e2b.
targets = {"blue #4e79a7": (0x4E, 0x79, 0xA7), "orange #f28e2b": (0xF2, 0x8E, 0x2B)}
counts = {k: 0 for k in targets}
ink = 0
for row in rows:
    for x in range(0, w * bpp, bpp):
        r, g, b = row[x], row[x + 1], row[x + 2]
        if r < 235 or g < 235 or b < 235:
            ink += 1
        for name, (tr, tg, tb) in targets.items():
            if abs(r - tr) <= 6 and abs(g - tg) <= 6 and abs(b - tb) <= 6:
                counts[name] += 1
total = w * h
print(f"check_report: {w}x{h} screenshot, {100 * ink / total:.1f}% non-white, chart pixels {counts}")
if ink < 0.02 * total:
    sys.exit("check_report: FAIL: the page looks blank")
for name, n in counts.items():
    # The waterfall and the GPU-hours chart fill well over 10,000 pixels of each colour at 1200 px.
    if n < 2000:
        sys.exit(f"check_report: FAIL: too few {name} chart pixels ({n}): the SVG charts did not render")
print("check_report: ok")
PY
