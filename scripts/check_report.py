#!/usr/bin/env python3
"""Checks screenshots of tcsim's HTML report (scripts/check_report.sh).

Usage: check_report.py html|pieces|shot ...
  pieces REPORT.html OUTDIR   writes OUTDIR/views.html (the accounting views
                              section), OUTDIR/tornado.html (the tornado
                              figure) and OUTDIR/charts.html (the waterfall
                              and GPU-hours charts), each with the report's
                              own style
  shot NAME PNG               checks one screenshot: NAME is page, views,
                              tornado or charts, each with the colours it
                              must show

Standard library only: the PNG is decoded here.
"""
import re
import struct
import sys
import zlib

# reports/charts.cpp palette.
BLUE, ORANGE, GREEN, RED, TEAL = (0x4E, 0x79, 0xA7), (0xF2, 0x8E, 0x2B), (0x59, 0xA1, 0x4F), (0xE1, 0x57, 0x59), (
    0x76, 0xB7, 0xB2)
GREY = (0xBA, 0xB0, 0xAC)

# What each screenshot must hold: colour name -> (rgb, least pixels).
EXPECT = {
    # The top of the page: the box, the summary and the views table as text.
    "page": {},
    # The waterfall and the GPU-hours chart fill well over 10,000 pixels of each at 1200 px.
    "charts": {"blue #4e79a7": (BLUE, 2000), "orange #f28e2b": (ORANGE, 2000)},
    # One bar per view (1 blue, 2 orange, 3 green, 4 red, 5 teal) and the grey bracket rows.
    "views": {"view 1 blue": (BLUE, 300), "view 2 orange": (ORANGE, 300), "view 3 green": (GREEN, 300),
              "view 4 red": (RED, 300), "view 5 teal": (TEAL, 300), "brackets grey": (GREY, 300)},
    # Bars to the item's p10 (green) and p90 (red) on each input's row.
    "tornado": {"p10 green": (GREEN, 1500), "p90 red": (RED, 1500)},
}


def fail(message):
    sys.exit(f"check_report: FAIL: {message}")


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG")
    pos, idat = 8, b""
    w = h = bpp = 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace != 0 or ctype not in (2, 6):
                fail(f"unexpected PNG format (depth {depth}, colour type {ctype})")
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


def check_shot(name, path):
    w, h, bpp, rows = read_png(path)
    targets = EXPECT[name]
    counts = {k: 0 for k in targets}
    ink = 0
    for row in rows:
        for x in range(0, w * bpp, bpp):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if r < 235 or g < 235 or b < 235:
                ink += 1
            for key, ((tr, tg, tb), _) in targets.items():
                if abs(r - tr) <= 6 and abs(g - tg) <= 6 and abs(b - tb) <= 6:
                    counts[key] += 1
    print(f"check_report: {name}: {w}x{h}, {100 * ink / (w * h):.1f}% non-white, pixels {counts}")
    if ink < 0.02 * w * h:
        fail(f"{name}: the page looks blank")
    for key, (_, least) in targets.items():
        if counts[key] < least:
            fail(f"{name}: too few {key} pixels ({counts[key]} < {least}): it did not render")


def write_pieces(report, outdir):
    html = open(report, encoding="utf-8").read()
    head = html[:html.index("<body>") + len("<body>")]
    views = re.search(r"<h2>The cost, by what is counted</h2>.*?(?=<h2>)", html, re.S)
    if not views:
        fail("the report has no accounting views section")
    section = views.group(0)
    table = re.search(r"<table>.*?</table>", section, re.S)
    if not table or "<th>what it counts</th>" not in table.group(0):
        fail("the accounting views section has no views table")
    # Five views at least (view 2 is two rows), each a row of its own.
    numbered = re.findall(r"<tr><td>([1-5])\. ", table.group(0))
    if sorted(set(numbered)) != ["1", "2", "3", "4", "5"]:
        fail(f"the views table does not show views 1 to 5 (found {sorted(set(numbered))})")
    tornado = re.search(r"<figure id=\"chart-tornado\">.*?</figure>", html, re.S)
    if not tornado:
        fail("the report has no tornado chart")
    charts = "".join(re.findall(r"<figure id=\"chart-(?:waterfall|phases)\">.*?</figure>", html, re.S))
    if charts.count("<figure") != 2:
        fail("the report lacks the waterfall or the GPU-hours chart")
    for name, body in (("views", section), ("tornado", tornado.group(0)), ("charts", charts)):
        with open(f"{outdir}/{name}.html", "w", encoding="utf-8") as f:
            f.write(head + body + "</body></html>\n")
    print("check_report: the views table (views 1 to 5) and the tornado are in the report")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "pieces":
        write_pieces(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "shot" and sys.argv[2] in EXPECT:
        check_shot(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
