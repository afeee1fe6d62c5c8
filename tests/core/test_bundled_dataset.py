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
    assert ev["latitude"] is not None and "approximate" in ev["provenance"]
    assert ev["landing_area"] == "East Sea (Sea of Japan)"
    assert ev["outcome"] == "success"
    assert ev["confirmation"] == "confirmed"
    assert ev["leader_attended"] is True      # KCNA via CSIS 2026-01-28; the basis is in the notes
    assert "Kim Jong-un oversaw" in ev["provenance"]
    assert ev["notes"] == ""                   # the analyst's own notes: none in the bundle
    d = ev["description"]
    assert "Office of National Security" in d and "emergency meeting" in d
    assert "UN Security Council resolutions" in d
    for url in SEED_URLS:
        assert url in ev["sources"]
    assert any(s.startswith("CSIS Beyond Parallel") for s in ev["sources"])
    assert any(s.startswith("nagix/nk-missile-tests") for s in ev["sources"])
    assert any(NEWS_TITLE in s and "secondary" in s for s in ev["sources"])
    assert "five missiles" in ev["provenance"]     # CSIS's count kept in the provenance
    assert "Date basis:" in ev["provenance"]


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
    assert ev["missile_class"] in ("HGV", "IRBM") and "Editorial: class" in ev["provenance"]
    # JCS about 900 km, Japan's MoD 900 and 950 km: a range with both, not "the largest" said of 900
    assert (ev["distance_km"], ev["distance_km_max"]) == (900, 950)
    assert "the event shows the largest" not in ev["provenance"]
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
        assert e["id"] in (schema.make_event_id(e["date"], e["missile_class"], e["launch_site"]),
                           schema.make_event_id(e["date"], e["missile_class"], e["launch_site"], e["time_kst"]))
        assert e["sources"], e["id"]
        assert "1984-04-01" <= e["date"] <= "2026-10-03", e["id"]
        assert e["provenance"].startswith("Date basis:"), e["id"]
        assert e["notes"] == "", e["id"]
        if e["time_kst"]:
            assert e["time_utc"] and schema.kst_to_utc(e["date"], e["time_kst"]) == e["time_utc"], e["id"]
    keys = Counter((e["date"], e["launch_site"], e["missile_class"]) for e in evs)
    # one key twice: two Japan MoD reports from the same coast, 2026-09-20 ~3 h apart
    assert [k for k, n in keys.items() if n > 1] == [("2026-09-20", "East coast of North Korea", "unknown")]
    timed = Counter((e["date"], e["launch_site"], e["missile_class"], e["time_kst"]) for e in evs)
    assert [k for k, n in timed.items() if n > 1] == []
    order = [(e["date"], e["time_kst"] or "", e["id"]) for e in evs]
    assert order == sorted(order)
    assert evs[0]["date"].startswith("1984-04") and evs[-1]["date"] == "2026-10-03"


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


# ----------------------------------------------------------------------------- issue 14: honest data

def test_launches_after_august_2026_from_the_japan_mod_reports(bundle):
    late = [e for e in bundle["events"] if e["date"] > "2026-08-20"]
    assert [(e["date"], e["time_kst"]) for e in late] == [
        ("2026-09-20", "15:00"), ("2026-09-20", "17:54"), ("2026-10-03", "06:36")]
    assert [e["id"] for e in late] == ["2026-09-20-unknown-east-coast-of-north-korea-1500",
                                       "2026-09-20-unknown-east-coast-of-north-korea-1754",
                                       "2026-10-03-unknown-east-coast-of-north-korea"]
    urls = ["https://www.mod.go.jp/j/press/news/2026/09/20e.pdf", "https://www.mod.go.jp/j/press/news/2026/09/20i.pdf",
            "https://www.mod.go.jp/j/press/news/2026/10/03d.pdf"]
    for e, url in zip(late, urls):
        assert url in e["sources"]
        assert e["launch_site"] == "East coast of North Korea"
        assert e["latitude"] is None and e["longitude"] is None       # no invented precision
        assert (e["count"], e["count_qualifier"]) == (1, "at least")
        assert e["distance_qualifier"] == "about" and e["apogee_qualifier"] == "about"
        assert e["confirmation"] == "confirmed" and e["landing_area"] == "East Sea (Sea of Japan)"
        assert e["missile_class"] == "unknown"                          # "ballistic missile" as reported
        assert e["time_utc"] == schema.kst_to_utc(e["date"], e["time_kst"])
    assert [(e["distance_km"], e["apogee_km"]) for e in late] == [(440, 60), (590, 70), (680, 90)]
    assert not any(m["event_id"] in {e["id"] for e in late} for m in bundle["missiles"])


def test_confirmed_needs_a_named_government_source(events):
    # CSIS-only events whose text says only "the sea between Korea and Japan" (or KCNA) are not confirmed
    for eid in ("2025-12-24-unknown-unknown", "2016-04-06-slbm-unknown", "1994-06-02-cruise-unknown",
                "2007-06-27-srbm-unknown", "2016-03-21-srbm-near-hamhung",
                "2026-06-25-srbm-unknown"):           # "Seoul gave no public indication it detected the launch"
        assert events[eid]["confirmation"] == "unconfirmed", eid
        assert "Confirmation: unconfirmed" in events[eid]["provenance"]
    # ... while one citing JCS is
    assert events["2024-05-17-srbm-wonsan"]["confirmation"] == "confirmed"
    assert "JCS" in events["2024-05-17-srbm-wonsan"]["provenance"]
    assert {e["confirmation"] for e in events.values()} <= set(schema.CONFIRMATIONS)


def test_detection_rule_unit():
    from nkbrief.importing.reconcile import detection_sources

    assert detection_sources("fired into the sea between Korea and Japan.") == []
    assert detection_sources("Colin Powell was in Seoul at the time.") == []
    assert detection_sources("According to the KCNA, the missiles hit.") == []
    assert detection_sources("Seoul gave no public indication it detected the launch.") == []
    assert detection_sources("ROK JCS reported North Korea fired") == ["JCS"]
    assert detection_sources("at least 7 missiles, according to Japan's defense ministry.") == \
        ["Japan's defense ministry"]
    assert detection_sources("U.S. Indo-Pacific Command said it was aware") == ["Indo-Pacific Command"]


def test_numbers_keep_their_sources_qualifiers(events):
    fixed = events["2022-05-25-unknown-pyongyang-international-airport"]
    assert (fixed["distance_km"], fixed["apogee_km"]) == (360, 540)          # CNS's swap corrected
    assert "CNS F1 181" in fixed["provenance"] and "swapped" in fixed["provenance"]
    nov5 = events["2024-11-05-srbm-sariwon"]
    assert (nov5["count"], nov5["count_qualifier"]) == (7, "at least")
    apr22 = events["2024-04-22-srbm-samsok"] if "2024-04-22-srbm-samsok" in events else \
        next(e for e in events.values() if e["date"] == "2024-04-22")
    assert apr22["distance_qualifier"] == "over"                             # Japan MoD "more than 250 km"
    assert schema.number_text(apr22["distance_km"], apr22["distance_km_max"], apr22["distance_qualifier"],
                              "km") == ">250 km"
    mar14 = events["2026-03-14-srbm-pyongyang-international-airport"]
    assert (mar14["count"], mar14["count_qualifier"]) == (10, "about")


def test_missile_rows_match_counts_or_a_reason_is_recorded(bundle):
    rows = Counter(m["event_id"] for m in bundle["missiles"])
    for e in bundle["events"]:
        n = rows.get(e["id"], 0)
        if n and e["count"] != n:
            assert "Decision (count" in e["provenance"], e["id"]


def test_numeric_cross_check_on_the_shared_data(shared_data):
    """CI: every count/distance/apogee against every cited source row; >10% needs a decision or a range."""
    from nkbrief.importing import reconcile

    mod = _load_build_script()
    built = reconcile.build(shared_data, mod.EDITORIAL + mod.NUMBER_DECISIONS, mod.ROW_FIXES)
    assert built.log.checks, "the cross-check found nothing at all: is it running?"
    assert all(c["resolved"] for c in built.log.checks)
    by_id = {id(ev): e["id"] for e, ev in zip(built.events, built.evs)}
    flagged = {(by_id[id(c["ev"])], c["field"]) for c in built.log.checks}
    assert ("2022-10-01-srbm-west-sunan", "distance") in flagged
    # Without the decisions the build refuses: 2024-11-05's "at least 7" against its one nagix record,
    # and 2026-03-14's twelve rows against a count of about 10.
    with pytest.raises(ValueError) as err:
        reconcile.build(shared_data, mod.EDITORIAL, mod.ROW_FIXES)
    assert "2026-03-14" in str(err.value) or "2024-11-0" in str(err.value)
    bare = [d for d in mod.NUMBER_DECISIONS if d["date"] != "2026-03-14"]
    with pytest.raises(ValueError, match="2026-03-14-srbm-pyongyang-international-airport: count 10 but 12"):
        reconcile.build(shared_data, mod.EDITORIAL + bare, mod.ROW_FIXES)


def test_build_script_refuses_an_unexplained_contradiction(shared_data, tmp_path, monkeypatch, capsys):
    """The script stops with a one-line reason per problem (no traceback) and writes nothing."""
    mod = _load_build_script()
    monkeypatch.setattr(mod, "NUMBER_DECISIONS", [d for d in mod.NUMBER_DECISIONS if d["date"] != "2026-03-14"])
    out = tmp_path / "events.json"
    assert mod.main(["--shared", str(shared_data), "--out", str(out), "--reconciliation", "-"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("build refused: event count contradicts its missile rows")
    assert "2026-03-14-srbm-pyongyang-international-airport: count 10 but 12 missile rows" in err
    assert "Traceback" not in err and not out.exists()
