#!/usr/bin/env python3
"""Fail when a screenshot is blank: ``python scripts/screenshot_check.py PATH [--size 1600x1000]``.

A real render of the window has many colours (class colours, text anti-aliasing, icons) and
strong contrast. A blank or failed render is one flat colour, or nearly so. Exit status 0
means the image looks like a window; 1 prints each problem on its own line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MIN_COLOURS = 48  # distinct colours after reducing each channel to 5 bits
MIN_STDDEV = 12.0  # of luminance, 0-255
MAX_DOMINANT = 0.97  # share of pixels in the most common colour


def check(path, size: tuple[int, int] | None = None) -> list[str]:
    """Problems with the screenshot at ``path`` (empty when it looks like a rendered window)."""
    from PIL import Image, ImageStat

    p = Path(path)
    if not p.is_file():
        return [f"{p}: no such file"]
    try:
        img = Image.open(p)
        img.load()
    except Exception as e:  # any decoding failure is a failed screenshot
        return [f"{p}: not a readable image ({e})"]
    problems = []
    if size and img.size != tuple(size):
        problems.append(f"{p}: size {img.size[0]}x{img.size[1]}, expected {size[0]}x{size[1]}")
    rgb = img.convert("RGB")
    small = rgb.resize((min(800, rgb.width), min(500, rgb.height)))
    reduced = small.point(lambda v: v & 0xF8)
    colours = reduced.getcolors(maxcolors=1 << 16) or []
    n_colours = len(colours) if colours else 1 << 16
    if n_colours < MIN_COLOURS:
        problems.append(f"{p}: only {n_colours} distinct colours (a rendered window has hundreds)")
    if colours:
        top = max(c for c, _ in colours) / (small.width * small.height)
        if top > MAX_DOMINANT:
            problems.append(f"{p}: {top:.1%} of the image is one colour")
    sd = ImageStat.Stat(rgb.convert("L")).stddev[0]
    if sd < MIN_STDDEV:
        problems.append(f"{p}: nearly uniform (luminance stddev {sd:.1f})")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--size", help="expected WIDTHxHEIGHT, e.g. 1600x1000")
    a = ap.parse_args(argv)
    size = None
    if a.size:
        try:
            w, h = (int(v) for v in a.size.lower().split("x"))
            size = (w, h)
        except ValueError:
            print(f"screenshot_check: --size {a.size!r} is not WIDTHxHEIGHT", file=sys.stderr)
            return 2
    problems = check(a.path, size)
    for msg in problems:
        print(f"screenshot_check: {msg}", file=sys.stderr)
    if not problems:
        print(f"screenshot_check: {a.path} looks like a rendered window")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
