"""The bundled dataset (resources/events.json): the seed event, 2026, integrity, determinism.

Everything but the last tests reads only resources/; the rebuild tests need ../shared/data.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path

import pytest

from nkbrief.model import schema

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "resources" / "events.json"
SEED_ID = "2026-01-27-srbm-north-of-pyongyang"
NEWS_TITLE = "North Korea's Calculated Provocation Before Party Congress"
SEED_URLS = [
    "https://www.koreaherald.com/article/10663972",
    "https://m.korean-vibe.com/news/amp.html?ncode=179571441726638",
    "https://xennews.ru/news/2026/1/27/north-korea-fires-suspected-ballistic-missiles-into-sea-s-korea-japan-say",
    "https://infoloop.ae/north-korea-launches-second-ballistic-missile-this-year-toward-east-sea",
    "https://news.az/news/north-korea-fires-ballistic-missiles-toward-east-sea",
]


@functools.lru_cache(maxsize=None)
def _bundle() -> dict:
    return json.loads(EVENTS.read_text(encoding="utf-8"))


@pytest.fixture
def bundle() -> dict:
    return _bundle()


@pytest.fixture
def events(bundle) -> dict[str, dict]:
    return {e["id"]: e for e in bundle["events"]}


def test_file_layout(bundle):
    assert bundle["generated_by"] == "scripts/build_dataset.py"
    assert set(bundle) == {"generated_by", "inputs", "events", "missiles", "statements"}
    assert "north_korea_missile_test_database.csv" in bundle["inputs"]
    assert all(len(h) == 64 for h in bundle["inputs"].values())
    assert all(list(e) == list(schema.EVENT_FIELDS) for e in bundle["events"])
    assert all(list(m) == list(schema.MISSILE_FIELDS) for m in bundle["missiles"])
    assert all(list(s) == list(schema.STATEMENT_FIELDS) for s in bundle["statements"])


def test_seed_event_exactly(events):
    ev = events[SEED_ID]
    assert ev["date"] == "2026-01-27" and ev["date_precision"] == "day"
    assert ev["time_kst"] == "15:50"
    assert ev["time_utc"] == "2026-01-27T06:50:00Z"
    assert ev["missile_class"] == "SRBM"
    assert ev["missile_name"] == "SRBM (suspected KN-25 600 mm MRL)"
    assert ev["count"] == 2
    assert ev["distance_km"] == 350 and ev["distance_km_max"] is None
    assert ev["apogee_km"] == 80 and ev["apogee_km_max"] is None
    assert ev["launch_site"] == "North of Pyongyang"
    assert ev["latitude"] is not None and "approximate" in ev["notes"]
    assert ev["landing_area"] == "East Sea (Sea of Japan)"
    assert ev["outcome"] == "success"
    assert ev["confirmation"] == "confirmed"
    assert ev["leader_attended"] is True      # KCNA via CSIS 2026-01-28; the basis is in the notes
    assert "Kim Jong-un oversaw" in ev["notes"]
    d = ev["description"]
    assert "Office of National Security" in d and "emergency meeting" in d
    assert "UN Security Council resolutions" in d
    for url in SEED_URLS:
        assert url in ev["sources"]
    assert any(s.startswith("CSIS Beyond Parallel") for s in ev["sources"])
    assert any(s.startswith("nagix/nk-missile-tests") for s in ev["sources"])
    assert any(NEWS_TITLE in s and "secondary" in s for s in ev["sources"])
    assert "five missiles" in ev["notes"]     # CSIS's count kept as a note
    assert "Date basis:" in ev["notes"]


def test_seed_event_missiles_are_the_two_jmod_missiles(bundle):
    ms = [m for m in bundle["missiles"] if m["event_id"] == SEED_ID]
    got = [(m["seq"], m["time_kst"], m["distance_km"], m["apogee_km"]) for m in ms]
    assert got == [(1, "15:54", 350, 80), (2, "16:02", 340, 70)]


def test_seed_event_statements(bundle):
    st = [s for s in bundle["statements"] if s["event_id"] == SEED_ID]
    assert [s["actor"] for s in st] == ["Pyongyang", "Seoul", "Washington", "Tokyo", "Beijing"]
    for s in st:
        assert NEWS_TITLE in s["source"] and len(s["summary"]) > 40
    seoul = next(s for s in st if s["actor"] == "Seoul")
    assert "https://www.koreaherald.com/article/10663972" in seoul["source"]
    assert "Office of National Security" in seoul["summary"]


def test_hypersonic_launch_of_4_january_2026(events):
    (ev,) = [e for e in events.values() if e["date"] == "2026-01-04"]
    assert ev["missile_class"] in ("HGV", "IRBM") and "Editorial: class" in ev["notes"]
    assert ev["distance_km"] == 900
    assert ev["leader_attended"] is True
    assert ev["time_kst"] == "07:50" and ev["time_utc"] == "2026-01-03T22:50:00Z"
    assert "Xi Jinping" in ev["description"]
    assert "https://world.kbs.co.kr/service/news_view.htm?lang=e&Seq_Code=198587" in ev["sources"]


def test_2026_launches(bundle):
    dates = {e["date"] for e in bundle["events"] if "2026-01-01" <= e["date"] <= "2026-12-31"}
    assert {"2026-01-04", "2026-01-27", "2026-03-14", "2026-08-20"} <= dates
    aug20 = [e for e in bundle["events"] if e["date"] == "2026-08-20"]
    assert len(aug20) == 1 and aug20[0]["distance_km"] == 320 and aug20[0]["count"] == 10


def test_every_record_is_valid(bundle):
    for e in bundle["events"]:
        rep = schema.validate_event(e)
        assert rep.ok, (e["id"], str(rep))
    for m in bundle["missiles"]:
        rep = schema.validate_missile(m)
        assert rep.ok, (m["event_id"], m["seq"], str(rep))
    for s in bundle["statements"]:
        rep = schema.validate_statement(s)
        assert rep.ok, (s["event_id"], str(rep))


def test_events_integrity(bundle):
    evs = bundle["events"]
    ids = [e["id"] for e in evs]
    assert len(ids) == len(set(ids))
    for e in evs:
        assert e["id"] == schema.make_event_id(e["date"], e["missile_class"], e["launch_site"])
        assert e["sources"], e["id"]
        assert "1984-04-01" <= e["date"] <= "2026-08-20", e["id"]
        assert e["notes"].startswith("Date basis:") or "Date basis:" in e["notes"], e["id"]
        if e["time_kst"]:
            assert e["time_utc"] and schema.kst_to_utc(e["date"], e["time_kst"]) == e["time_utc"], e["id"]
    keys = Counter((e["date"], e["launch_site"], e["missile_class"]) for e in evs)
    assert [k for k, n in keys.items() if n > 1] == []
    order = [(e["date"], e["time_kst"] or "", e["id"]) for e in evs]
    assert order == sorted(order)
    assert evs[0]["date"].startswith("1984-04") and evs[-1]["date"] == "2026-08-20"


def test_missile_rows_belong_to_events(bundle):
    ids = {e["id"] for e in bundle["events"]}
    assert all(m["event_id"] in ids for m in bundle["missiles"])
    assert all(s["event_id"] in ids for s in bundle["statements"])
    per_event = Counter(m["event_id"] for m in bundle["missiles"])
    for eid, n in per_event.items():
        seqs = sorted(m["seq"] for m in bundle["missiles"] if m["event_id"] == eid)
        assert seqs == list(range(1, n + 1))
    refs = [m["source_ref"] for m in bundle["missiles"]]
    assert len(refs) == len(set(refs))
    assert sum(r.startswith("CNS F1 ") for r in refs) == 245     # every CNS row is kept


def test_data_sources_lists_every_input_hash(bundle):
    text = (REPO / "resources" / "DATA_SOURCES.md").read_text(encoding="utf-8")
    for name, sha in bundle["inputs"].items():
        assert sha in text, name


def test_store_seeds_from_the_bundle(tmp_path, bundle):
    if not (REPO / "resources" / "calendar.csv").exists():
        pytest.skip("resources/calendar.csv is not there yet")
    from nkbrief.store import Store

    st = Store.open(tmp_path / "s.sqlite3", seed=True)
    try:
        assert st.event_count() == len(bundle["events"])
        assert len(st.missiles(SEED_ID)) == 2 and len(st.statements(SEED_ID)) == 5
    finally:
        st.close()


# ----------------------------------------------------------------------------- rebuild (needs shared data)

def _load_build_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_dataset", REPO / "scripts" / "build_dataset.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_rebuild_is_byte_identical(shared_data, tmp_path):
    mod = _load_build_script()
    out = tmp_path / "events.json"
    assert mod.main(["--shared", str(shared_data), "--out", str(out), "--reconciliation", "-"]) == 0
    assert out.read_bytes() == EVENTS.read_bytes(), \
        "resources/events.json is out of date: run scripts/build_dataset.py"
    # and a second run gives the same bytes again
    out2 = tmp_path / "again.json"
    mod.main(["--shared", str(shared_data), "--out", str(out2), "--reconciliation", "-"])
    assert out2.read_bytes() == out.read_bytes()


def test_reconciliation_tables_are_current(shared_data, tmp_path):
    mod = _load_build_script()
    doc = REPO / "resources" / "RECONCILIATION.md"
    copy = tmp_path / "RECONCILIATION.md"
    copy.write_text(doc.read_text(encoding="utf-8"), encoding="utf-8")
    mod.main(["--shared", str(shared_data), "--out", str(tmp_path / "e.json"), "--reconciliation", str(copy)])
    assert copy.read_text(encoding="utf-8") == doc.read_text(encoding="utf-8"), \
        "resources/RECONCILIATION.md tables are out of date: run scripts/build_dataset.py"
