"""Geodesy helpers and the bundled coastline for the map (Qt-free, numpy only).

All functions use a spherical Earth of mean radius ``EARTH_RADIUS_KM``; the
error against the WGS-84 ellipsoid is below about 0.5 % which is far finer
than anything the briefing map shows.  Angles are in degrees, distances in
kilometres.  Arrays of points are always ``(N, 2)`` with columns
``(lon, lat)`` - the x/y order a map wants - while scalar arguments follow
the usual ``lat, lon`` order.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius

COASTLINE_FILE = "coastline.json"


def _default_coastline_path() -> Path:
    """Where ``resources/coastline.json`` lives: PyInstaller bundle or checkout."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidate = Path(frozen) / "resources" / COASTLINE_FILE
        if candidate.exists():
            return candidate
    return Path(__file__).resolve().parents[2] / "resources" / COASTLINE_FILE


def load_coastline(path: str | Path | None = None) -> list[np.ndarray]:
    """Load the bundled coastline as a list of ``(N, 2)`` float arrays of lon/lat.

    ``path`` defaults to ``resources/coastline.json`` next to the package (or
    inside the PyInstaller bundle when frozen).  The file is produced by
    ``scripts/build_coastline.py``; lines with fewer than two points are
    skipped.
    """
    p = Path(path) if path is not None else _default_coastline_path()
    with open(p, encoding="utf-8") as fh:
        doc = json.load(fh)
    lines = []
    for line in doc.get("lines", []):
        arr = np.asarray(line, dtype=float)
        if arr.ndim == 2 and arr.shape[0] >= 2 and arr.shape[1] == 2:
            lines.append(arr)
    return lines


def load_coastline_metadata(path: str | Path | None = None) -> dict:
    """Return the coastline file's metadata (source, package, licence, bbox)."""
    p = Path(path) if path is not None else _default_coastline_path()
    with open(p, encoding="utf-8") as fh:
        doc = json.load(fh)
    return {k: v for k, v in doc.items() if k != "lines"}


def _wrap_lon(lon):
    """Wrap longitudes into [-180, 180)."""
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km between two points (scalars or arrays).

    Uses the haversine formula, which stays accurate for small distances.
    """
    p1, l1, p2, l2 = map(np.radians, (lat1, lon1, lat2, lon2))
    a = (np.sin((p2 - p1) / 2.0) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2.0) ** 2)
    d = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d


def initial_bearing_deg(lat1, lon1, lat2, lon2):
    """Initial great-circle bearing from point 1 to point 2, degrees in [0, 360)."""
    p1, l1, p2, l2 = map(np.radians, (lat1, lon1, lat2, lon2))
    dl = l2 - l1
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    b = np.degrees(np.arctan2(y, x)) % 360.0
    return float(b) if np.ndim(b) == 0 else b


def destination_point(lat, lon, bearing_deg, distance_km):
    """Point reached from ``(lat, lon)`` going ``distance_km`` along ``bearing_deg``.

    Follows the great circle with the given initial bearing (clockwise from
    true north).  Returns ``(lat, lon)`` with lon wrapped to [-180, 180).
    Accepts scalars or broadcastable arrays.
    """
    p1 = np.radians(lat)
    l1 = np.radians(lon)
    th = np.radians(bearing_deg)
    dr = np.asarray(distance_km, dtype=float) / EARTH_RADIUS_KM
    sin_p2 = np.sin(p1) * np.cos(dr) + np.cos(p1) * np.sin(dr) * np.cos(th)
    p2 = np.arcsin(np.clip(sin_p2, -1.0, 1.0))
    l2 = l1 + np.arctan2(np.sin(th) * np.sin(dr) * np.cos(p1),
                         np.cos(dr) - np.sin(p1) * sin_p2)
    lat2 = np.degrees(p2)
    lon2 = _wrap_lon(np.degrees(l2))
    if np.ndim(lat2) == 0 and np.ndim(lon2) == 0:
        return float(lat2), float(lon2)
    return lat2, lon2


def range_ring(lat, lon, radius_km, n=120):
    """Geodesic circle of ``radius_km`` around ``(lat, lon)``.

    Returns an ``(n + 1, 2)`` array of ``(lon, lat)``; the last row repeats the
    first so the ring is closed and can be drawn as one polyline.  Points
    start due north and go clockwise.
    """
    n = max(int(n), 3)
    bearings = np.linspace(0.0, 360.0, n, endpoint=False)
    lats, lons = destination_point(lat, lon, bearings, radius_km)
    ring = np.column_stack([lons, lats])
    return np.vstack([ring, ring[:1]])


def _to_xyz(lat, lon):
    p, lam = np.radians(lat), np.radians(lon)
    return np.array([np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)])


def great_circle_arc(lat1, lon1, lat2, lon2, n=50):
    """Points along the shorter great-circle arc between two points.

    Returns an ``(n, 2)`` array of ``(lon, lat)`` including both end points
    (``n`` is at least 2).  For coincident points every row is that point;
    for antipodal points the arc is not unique and an arbitrary one of the
    possible half circles is returned.
    """
    n = max(int(n), 2)
    a = _to_xyz(lat1, lon1)
    b = _to_xyz(lat2, lon2)
    dot = float(np.clip(np.dot(a, b), -1.0, 1.0))
    omega = np.arccos(dot)
    t = np.linspace(0.0, 1.0, n)
    if omega < 1e-12:
        pts = np.repeat(a[None, :], n, axis=0)
    else:
        if np.pi - omega < 1e-9:
            # antipodal: pick a perpendicular direction to make the plane
            helper = np.array([0.0, 0.0, 1.0]) if abs(a[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
            perp = np.cross(np.cross(a, helper), a)
            perp /= np.linalg.norm(perp)
            ang = t * np.pi
            pts = np.cos(ang)[:, None] * a + np.sin(ang)[:, None] * perp
        else:
            s = np.sin(omega)
            pts = (np.sin((1.0 - t) * omega) / s)[:, None] * a \
                + (np.sin(t * omega) / s)[:, None] * b
    lat = np.degrees(np.arcsin(np.clip(pts[:, 2], -1.0, 1.0)))
    lon = np.degrees(np.arctan2(pts[:, 1], pts[:, 0]))
    out = np.column_stack([lon, lat])
    # keep the exact end points
    out[0] = (float(_wrap_lon(lon1)), lat1)
    out[-1] = (float(_wrap_lon(lon2)), lat2)
    return out
