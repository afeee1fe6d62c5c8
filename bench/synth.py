"""Synthetic launch events for benchmarks: realistic shapes, reproducible from a seed."""

from __future__ import annotations

import numpy as np

from nkbrief.model import schema

_SITES = [("Pyongyang area", 39.03, 125.75), ("Wonsan", 39.15, 127.45), ("Sinpo", 40.03, 128.18),
          ("Tongchang-ri", 39.66, 124.71), ("Sunan", 39.2, 125.67), ("Kusong", 39.98, 125.24),
          ("Hamhung", 39.92, 127.54), ("North of Pyongyang", 39.3, 125.8)]
_CLASSES = ["SRBM", "SRBM", "SRBM", "CRBM", "MRBM", "IRBM", "ICBM", "SLBM", "cruise", "MLRS", "unknown"]


def make_events(n: int, seed: int = 0) -> list[dict]:
    """``n`` valid events with unique ids spread over 1984–2026."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("1984-04-01")
    days = rng.integers(0, (np.datetime64("2026-08-20") - start).astype(int), n)
    minutes = rng.integers(0, 24 * 60, n)
    site_i = rng.integers(0, len(_SITES), n)
    class_i = rng.integers(0, len(_CLASSES), n)
    dist = rng.lognormal(6.0, 0.8, n)
    known = rng.random(n) > 0.25
    out = []
    for i in range(n):
        date = str(start + days[i])
        name, lat, lon = _SITES[site_i[i]]
        kst = f"{minutes[i] // 60:02d}:{minutes[i] % 60:02d}"
        ev = schema.empty_event() | {
            "id": f"syn-{i:06d}", "date": date, "time_kst": kst,
            "time_utc": schema.kst_to_utc(date, kst),
            "missile_name": f"Type-{class_i[i]}", "missile_class": _CLASSES[class_i[i]],
            "count": int(rng.integers(1, 6)),
            "distance_km": round(float(dist[i]), 1) if known[i] else None,
            "apogee_km": round(float(dist[i]) / 4, 1) if known[i] else None,
            "launch_site": name, "latitude": lat, "longitude": lon,
            "landing_area": "East Sea", "outcome": "success",
            "description": f"Synthetic launch {i} for benchmarks.",
            "sources": [f"https://example.invalid/{i}"], "notes": "" if i % 7 else "note",
        }
        out.append(ev)
    return out


def make_store(path, n: int, seed: int = 0):
    """A store at ``path`` holding ``n`` synthetic events (no bundled data)."""
    from nkbrief.store import Store

    st = Store.open(path, seed=False)
    b = st.new_batch("manual")
    with st.write():
        for ev in make_events(n, seed):
            st.insert_event(ev, b, audit=False)
    return st
