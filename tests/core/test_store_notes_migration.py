"""Store schema 3 (issue 14): qualifier columns, and the compiler's notes move to ``provenance``.

A schema-1 store kept the bundled compiler notes in ``notes`` with the analyst's own text
appended. The migration must leave exactly the analyst's text in ``notes``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from nkbrief.model import schema
from nkbrief.analysis.filtering import EventView, FilterSpec
from nkbrief.store import MIGRATIONS, SCHEMA_VERSION, Store, _split_sql, _V1_EVENT_FIELDS

REPO = Path(__file__).resolve().parents[2]


def _bundled() -> dict[str, dict]:
    return {e["id"]: e for e in json.loads((REPO / "resources" / "events.json").read_text("utf-8"))["events"]}


def _v1_store(path: Path, events: list[dict]) -> None:
    """A store as schema 1 wrote it: the v1 tables, the events' notes as given."""
    c = sqlite3.connect(path)
    for stmt in _split_sql(MIGRATIONS[0]):
        c.execute(stmt)
    c.execute("PRAGMA user_version = 1")
    c.execute("INSERT INTO batches(id, kind, created_utc, user) VALUES (1, 'seed', '2026-01-01T00:00:00Z', 't')")
    cols = list(_V1_EVENT_FIELDS)
    for ev in events:
        vals = [json.dumps(ev[k]) if k == "sources" else ev.get(k) for k in cols]
        c.execute(f"INSERT INTO events({', '.join(cols)}, batch_id) VALUES ({', '.join('?' * len(cols))}, 1)", vals)
    c.commit()
    c.close()


def _old(ev: dict, notes: str) -> dict:
    """A bundled event as schema 1 held it: compiler notes in ``notes``, no new fields."""
    out = {k: ev[k] for k in _V1_EVENT_FIELDS}
    out["notes"] = notes
    return out


def test_migration_moves_bundled_notes_to_provenance_and_keeps_the_analysts(tmp_path):
    bundled = _bundled()
    # Events whose provenance is still the text schema 1 shipped (CNS events untouched by issue 14).
    a = bundled["1984-04-09-srbm-tonghae-satellite-launching-ground"]
    b = bundled["1984-09-01-srbm-tonghae-satellite-launching-ground"]
    c = bundled["1986-05-01-unknown-tonghae-satellite-launching-ground"]
    hand = schema.empty_event() | {"id": "2026-11-30-srbm-my-site", "date": "2026-11-30", "missile_class": "SRBM",
                                   "sources": ["my source"], "confirmation": "unconfirmed"}
    edited_inside = a["provenance"].replace("Date basis", "DATE BASIS (checked)", 1)
    path = tmp_path / "v1.sqlite3"
    _v1_store(path, [
        _old(a, a["provenance"] + "\n\nAnalyst: JCS briefing of 10 April disagrees on the time."),
        _old(b, b["provenance"]),                       # no analyst text
        _old(c, edited_inside),                         # the analyst edited inside the bundled text
        _old(hand, "My own note on this launch."),      # not a bundled event
    ])

    st = Store.open(path, seed=False)
    try:
        assert st.schema_version == SCHEMA_VERSION == 3
        ea, eb, ec, eh = (st.get_event(e["id"]) for e in (a, b, c, hand))
        assert ea["provenance"] == a["provenance"]
        assert ea["notes"] == "Analyst: JCS briefing of 10 April disagrees on the time."
        assert eb["provenance"] == b["provenance"] and eb["notes"] == ""
        # not recognisable as the bundled text: nothing is lost, all of it stays the analyst's
        assert ec["notes"] == edited_inside and not ec["provenance"]
        assert eh["notes"] == "My own note on this launch." and not eh["provenance"]
        for e in (ea, eb, ec, eh):
            assert e["count_qualifier"] is None and e["distance_qualifier"] is None
        # "Has notes" now means the analyst's notes
        frame = st.events_frame()
        view = EventView(frame, FilterSpec(has_notes=True))
        assert sorted(view.ids[view.rows]) == sorted([a["id"], c["id"], hand["id"]])
    finally:
        st.close()
    # the columns exist in the same order as in a store created at the current schema
    fresh = Store.open(tmp_path / "fresh.sqlite3", seed=False)
    try:
        cols = [r[1] for r in fresh.execute("PRAGMA table_info(events)")]
    finally:
        fresh.close()
    migrated = sqlite3.connect(path)
    try:
        assert [r[1] for r in migrated.execute("PRAGMA table_info(events)")] == cols
    finally:
        migrated.close()


def test_seeded_store_separates_provenance_from_analyst_notes(tmp_path):
    st = Store.open(tmp_path / "s.sqlite3", seed=True)
    try:
        frame = st.events_frame()
        assert frame["notes"].fillna("").eq("").all()          # no bundled event "has notes"
        assert frame["provenance"].str.startswith("Date basis:").all()
        assert EventView(frame, FilterSpec(has_notes=True)).rows.size == 0
        ev = st.get_event("2024-11-05-srbm-sariwon")
        assert (ev["count"], ev["count_qualifier"]) == (7, "at least")
    finally:
        st.close()


def test_new_event_defaults_to_not_stated():
    ev = schema.empty_event()
    assert ev["confirmation"] == "not stated"
    assert schema.CONFIRMATIONS == ("confirmed", "unconfirmed", "not stated")
    assert schema.validate_event(ev | {"id": "x", "date": "2026-01-01"}).ok
    assert not schema.validate_event(ev | {"id": "x", "date": "2026-01-01", "distance_qualifier": "roughly"}).ok
