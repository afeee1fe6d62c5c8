"""Tests for nkbrief.analysis.geo and the bundled coastline (no Qt)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from nkbrief.analysis import geo

REPO = Path(__file__).resolve().parents[2]
COASTLINE = REPO / "resources" / "coastline.json"

PYONGYANG = (39.0194, 125.7381)
TOKYO = (35.6895, 139.6917)


def _densified(lines, step_deg=0.005):
    """All coastline points, with extra points along long segments."""
    out = []
    for ln in lines:
        for a, b in zip(ln[:-1], ln[1:]):
            k = max(1, int(np.ceil(np.abs(b - a).max() / step_deg)))
            t = np.linspace(0.0, 1.0, k, endpoint=False)[:, None]
            out.append(a + t * (b - a))
        out.append(ln[-1:])
    return np.vstack(out)


@pytest.fixture(scope="module")
def coast():
    return geo.load_coastline()


@pytest.fixture(scope="module")
def coast_points(coast):
    return _densified(coast)


def _nearest_km(points, lat, lon):
    return float(np.min(geo.haversine_km(lat, lon, points[:, 1], points[:, 0])))


def test_coastline_loads_with_metadata(coast):
    assert len(coast) > 20
    assert all(isinstance(a, np.ndarray) and a.ndim == 2 and a.shape[1] == 2 for a in coast)
    assert all(len(a) >= 2 for a in coast)
    meta = geo.load_coastline_metadata()
    assert meta["bbox"] == [123.0, 30.0, 146.0, 46.0]
    assert "Natural Earth" in meta["source"]
    assert "==" in meta["package"]
    assert "public domain" in meta["licence"].lower()


def test_coastline_inside_bbox(coast):
    pts = np.vstack(coast)
    lon_min, lat_min, lon_max, lat_max = geo.load_coastline_metadata()["bbox"]
    assert pts[:, 0].min() >= lon_min - 1e-9 and pts[:, 0].max() <= lon_max + 1e-9
    assert pts[:, 1].min() >= lat_min - 1e-9 and pts[:, 1].max() <= lat_max + 1e-9
    # the box is actually covered, not just a corner of it
    assert pts[:, 0].max() - pts[:, 0].min() > 20
    assert pts[:, 1].max() - pts[:, 1].min() > 14


def test_coastline_file_is_small_and_rounded():
    assert COASTLINE.stat().st_size < 300 * 1024
    doc = json.loads(COASTLINE.read_text(encoding="utf-8"))
    sample = [v for ln in doc["lines"][:5] for pt in ln for v in pt]
    assert all(round(v, 3) == v for v in sample)


def test_load_coastline_explicit_path(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"lines": [[[124.0, 38.0], [125.0, 39.0]], [[1.0, 2.0]]]}))
    lines = geo.load_coastline(p)
    assert len(lines) == 1
    np.testing.assert_allclose(lines[0], [[124.0, 38.0], [125.0, 39.0]])


def test_load_coastline_frozen_layout(tmp_path, monkeypatch):
    res = tmp_path / "resources"
    res.mkdir()
    (res / "coastline.json").write_text(json.dumps({"lines": [[[130, 40], [131, 41], [132, 40]]]}))
    monkeypatch.setattr(geo.sys, "_MEIPASS", str(tmp_path), raising=False)
    lines = geo.load_coastline()
    assert len(lines) == 1 and lines[0].shape == (3, 2)


@pytest.mark.parametrize(
    "name, lat, lon, max_km",
    [
        ("Busan", 35.10, 129.04, 20),
        ("Tokyo Bay (Yokohama)", 35.45, 139.65, 20),
        ("Nampo", 38.73, 125.40, 25),
        ("Wonsan", 39.15, 127.44, 20),
        ("Vladivostok", 43.12, 131.90, 20),
    ],
)
def test_coast_passes_near_known_ports(coast_points, name, lat, lon, max_km):
    assert _nearest_km(coast_points, lat, lon) < max_km, name


def test_land_borders_are_not_drawn(coast_points):
    # inland points on the China-DPRK border (Yalu, Tumen) and the DMZ stay
    # far from any line: only coasts are bundled, not country borders
    for lat, lon in [(40.90, 126.60), (42.30, 129.50), (38.30, 127.20)]:
        assert _nearest_km(coast_points, lat, lon) > 40


def test_haversine_pyongyang_tokyo():
    d = geo.haversine_km(*PYONGYANG, *TOKYO)
    assert abs(d - 1290) < 30
    assert geo.haversine_km(*TOKYO, *PYONGYANG) == pytest.approx(d)
    assert geo.haversine_km(*TOKYO, *TOKYO) == pytest.approx(0.0, abs=1e-9)


def test_haversine_arrays():
    d = geo.haversine_km(0.0, 0.0, np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert d.shape == (2,)
    np.testing.assert_allclose(d, 2 * np.pi * geo.EARTH_RADIUS_KM / 360.0, rtol=1e-9)


@pytest.mark.parametrize("bearing", [0.0, 45.0, 90.0, 135.0, 200.0, 300.0])
@pytest.mark.parametrize("dist", [10.0, 500.0, 1500.0])
def test_destination_point_round_trip(bearing, dist):
    lat2, lon2 = geo.destination_point(*PYONGYANG, bearing, dist)
    assert geo.haversine_km(*PYONGYANG, lat2, lon2) == pytest.approx(dist, rel=1e-9)
    assert geo.initial_bearing_deg(*PYONGYANG, lat2, lon2) == pytest.approx(bearing, abs=1e-6)
    # and back: the reverse bearing at the destination leads home
    back = geo.initial_bearing_deg(lat2, lon2, *PYONGYANG)
    lat3, lon3 = geo.destination_point(lat2, lon2, back, dist)
    assert geo.haversine_km(lat3, lon3, *PYONGYANG) < 1e-6


def test_destination_point_cardinal():
    lat, lon = geo.destination_point(0.0, 0.0, 0.0, 2 * np.pi * geo.EARTH_RADIUS_KM / 360.0)
    assert lat == pytest.approx(1.0) and lon == pytest.approx(0.0, abs=1e-12)
    lat, lon = geo.destination_point(0.0, 179.5, 90.0, 111.19508)
    assert lon == pytest.approx(-179.5, abs=1e-4)  # wraps across the antimeridian


def test_range_ring_radius():
    ring = geo.range_ring(*PYONGYANG, 1000.0, n=72)
    assert ring.shape == (73, 2)
    np.testing.assert_array_equal(ring[0], ring[-1])
    d = geo.haversine_km(PYONGYANG[0], PYONGYANG[1], ring[:, 1], ring[:, 0])
    np.testing.assert_allclose(d, 1000.0, rtol=1e-9)
    # first point due north
    assert ring[0, 0] == pytest.approx(PYONGYANG[1])
    assert ring[0, 1] > PYONGYANG[0]


def test_great_circle_arc():
    arc = geo.great_circle_arc(*PYONGYANG, *TOKYO, n=50)
    assert arc.shape == (50, 2)
    np.testing.assert_allclose(arc[0], [PYONGYANG[1], PYONGYANG[0]])
    np.testing.assert_allclose(arc[-1], [TOKYO[1], TOKYO[0]])
    steps = geo.haversine_km(arc[:-1, 1], arc[:-1, 0], arc[1:, 1], arc[1:, 0])
    total = geo.haversine_km(*PYONGYANG, *TOKYO)
    assert steps.sum() == pytest.approx(total, rel=1e-9)
    np.testing.assert_allclose(steps, total / 49, rtol=1e-6)


def test_great_circle_arc_degenerate():
    same = geo.great_circle_arc(*TOKYO, *TOKYO, n=5)
    assert same.shape == (5, 2)
    np.testing.assert_allclose(same[:, 1], TOKYO[0])
    anti = geo.great_circle_arc(0.0, 0.0, 0.0, 180.0, n=3)
    assert anti.shape == (3, 2)
    assert geo.haversine_km(0.0, 0.0, anti[1, 1], anti[1, 0]) == pytest.approx(
        np.pi * geo.EARTH_RADIUS_KM / 2)


# -- the build script's own geometry helpers ---------------------------------

def _build_module():
    spec = importlib.util.spec_from_file_location(
        "build_coastline", REPO / "scripts" / "build_coastline.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_douglas_peucker_and_clip():
    bc = _build_module()
    line = np.array([[0.0, 0.0], [1.0, 0.001], [2.0, -0.001], [3.0, 1.0], [4.0, 0.0]])
    simp = bc.douglas_peucker(line, 0.01)
    np.testing.assert_array_equal(simp, line[[0, 2, 3, 4]])
    ring = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    assert len(bc.douglas_peucker(ring, 0.01)) == 5
    pieces = bc.clip_polyline(np.array([[-1.0, 0.5], [0.5, 0.5], [2.0, 0.5], [0.5, 0.8]]),
                              (0.0, 0.0, 1.0, 1.0))
    assert len(pieces) == 2
    np.testing.assert_allclose(pieces[0], [[0.0, 0.5], [0.5, 0.5], [1.0, 0.5]])
    np.testing.assert_allclose(pieces[1][-1], [0.5, 0.8])


def test_shared_edges_cancel():
    bc = _build_module()
    a = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=float)
    b = np.array([[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]], dtype=float)
    chains = bc.coast_chains([a, b])
    pts = np.vstack(chains)
    # the shared edge x == 1 is not part of any chain as a segment
    for ch in chains:
        for p, q in zip(ch[:-1], ch[1:]):
            assert not (p[0] == 1 and q[0] == 1)
    assert len(pts) >= 6
