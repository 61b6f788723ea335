#!/usr/bin/env python3
"""Judges a page rendered by browser-check.sh (stdlib only).

Fails (exit 1) when the browser console logged anything (a JavaScript error, say), when the
rendered DOM references anything outside the page (src=, href= other than #…, url(…)), when
the page's filter bar is still hidden after its script should have shown it, or when the
screenshot is blank (one colour, or nearly). Exit 2 when the inputs cannot be read.
"""

import argparse
import re
import struct
import sys
import zlib
from collections import Counter

# Console lines Chromium writes with --enable-logging=stderr, e.g.
#   [..:INFO:CONSOLE:12] "Uncaught ReferenceError: x is not defined", source: file:///… (12)
# The log does not carry the level (console.error and console.log look alike), and shelf's
# page never writes to the console, so any console line fails the check.
CONSOLE_LINE = re.compile(r":CONSOLE[:(]|Uncaught|Refused to (load|connect|execute)|net::ERR_")
# Anything in the rendered DOM that would make the browser fetch something.
OUTSIDE_REF = re.compile(
    r"""\b(src|href|srcset|action|poster|xlink:href)\s*=\s*["']?(?!#|["'\s>])"""
    r"""|url\(\s*["']?(?!#|data:)|@import""",
    re.IGNORECASE,
)


def fail(msg):
    print(f"browser-check: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def broken(msg):
    print(f"browser-check: {msg}", file=sys.stderr)
    sys.exit(2)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(path):
    """Returns (width, height, channels, rows) for 8-bit RGB/RGBA/grey PNGs."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        broken(f"{path} is not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if ihdr is None:
        broken(f"{path}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = ihdr
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        broken(f"{path}: unsupported PNG (bit depth {depth}, colour type {colour}, interlace {interlace})")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        ftype = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if ftype == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif ftype == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif ftype == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif ftype == 4:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                upleft = prev[i - channels] if i >= channels else 0
                line[i] = (line[i] + paeth(left, prev[i], upleft)) & 255
        elif ftype != 0:
            broken(f"{path}: bad PNG filter {ftype} on row {y}")
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def check_screenshot(path):
    width, height, channels, rows = decode_png(path)
    colours = Counter()
    for row in rows[::2]:  # every other row is plenty to tell a page from a blank
        for x in range(0, len(row), channels * 2):
            colours[row[x : x + channels]] += 1
    total = sum(colours.values())
    top, top_n = colours.most_common(1)[0]
    share = top_n / total
    print(
        f"browser-check: screenshot {width}x{height}, {len(colours)} distinct colours, "
        f"most common {tuple(top)} covers {share:.1%}",
        file=sys.stderr,
    )
    if len(colours) < 32:
        fail(f"screenshot {path} looks blank: only {len(colours)} distinct colours")
    if share > 0.97:
        fail(f"screenshot {path} looks blank: one colour covers {share:.1%} of it")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--html", required=True)
    ap.add_argument("--png", required=True)
    ap.add_argument("--dom", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()

    try:
        log = open(a.log, encoding="utf-8", errors="replace").read()
        dom = open(a.dom, encoding="utf-8", errors="replace").read()
        page = open(a.html, encoding="utf-8", errors="replace").read()
    except OSError as e:
        broken(str(e))

    errors = [l for l in log.splitlines() if CONSOLE_LINE.search(l)]
    if errors:
        fail("the page wrote to the browser console (JS error?):\n  " + "\n  ".join(errors[:20]))
    if "<body" not in dom:
        fail("chromium dumped no DOM: the page did not load")
    outside = [m.group(0) for m in OUTSIDE_REF.finditer(dom)]
    if outside:
        fail(
            "the page points outside itself (it must be self-contained): "
            + ", ".join(sorted(set(outside))[:10])
        )
    # shelf's report hides its filter bar until its script runs: still hidden means the
    # script never ran to the end.
    if 'id="filters"' in page and re.search(r'id="filters"[^>]*\shidden', dom):
        fail("the page's inline script did not run (the filter bar is still hidden)")

    check_screenshot(a.png)
    print(f"browser-check: ok: {a.html} -> {a.png}", file=sys.stderr)


if __name__ == "__main__":
    main()
