"""The one value-rule table (nkbrief/model/rules.py): every checker reads it.

For each bounded field, the value at each bound is accepted and the first value past it is
refused -- by the table itself, schema.check_value/validate_event, the per-cell and the
column-wise import converters (quick paths included), the store's column check and the
store's insert. KST/UTC conversion exists once.
"""

from __future__ import annotations

import datetime as dt

import pytest

from nkbrief.common import shown
from nkbrief.importing import convert
from nkbrief.model import rules, schema
from nkbrief.store import Store, StoreError, _column_ok

LATEST = rules.latest_date()
AFTER_LATEST = (dt.date.fromisoformat(LATEST) + dt.timedelta(days=1)).isoformat()

#: field -> (values inside, values outside, the bound text)
BOUNDS = {
    "count": ([1, 1000], [0, 1001, 2**63 - 1], "1 to 1,000"),
    "distance_km": ([0.0, 20_000.0], [20_000.5, 1e300], "0 to 20,000 km"),
    "distance_km_max": ([0.0, 20_000.0], [20_001.0], "0 to 20,000 km"),
    "apogee_km": ([0.0, 10_000.0], [10_000.1], "0 to 10,000 km"),
    "apogee_km_max": ([10_000.0], [10_001.0], "0 to 10,000 km"),
    "date": (["1950-01-01", LATEST], ["1949-12-31", AFTER_LATEST], f"1950-01-01 to {LATEST}"),
}


@pytest.mark.parametrize("field", list(BOUNDS))
def test_every_checker_reads_the_same_bounds(field, tmp_path):
    inside, outside, bound = BOUNDS[field]
    rule = rules.EVENT_RULES[field]
    kind = schema.EVENT_FIELDS[field]
    assert rule.bounds_text() == bound
    base = schema.empty_event() | {"id": "e", "date": "2026-01-27", "missile_class": "SRBM"}
    st = Store.open(tmp_path / "s.sqlite3", seed=False)
    b = st.new_batch("manual")
    for i, v in enumerate(inside):
        assert rules.check(rule, v) is None
        assert schema.check_value(kind, field, v) is None
        assert _column_ok(field, kind, [v, None])
        ev = base | {"id": f"in{i}", field: v}
        if field.endswith("_max"):
            ev[field[:-4]] = 0.0
        assert schema.validate_event(ev).ok
        st.insert_events([ev], b)
    for i, v in enumerate(outside):
        reason = f"must be from {bound}"
        assert rules.check(rule, v) == reason
        assert schema.check_value(kind, field, v).reason == reason
        assert not _column_ok(field, kind, [v, None])
        ev = base | {"id": f"out{i}", field: v}
        with pytest.raises(StoreError, match=f"{field} .* must be from"):
            st.insert_events([ev], b)
    st.close()


@pytest.mark.parametrize("field,cell,reason", [
    ("count", "1001", "must be from 1 to 1,000"),
    ("count", "9" * 30, "must be from 1 to 1,000 (it has 30 digits)"),
    ("distance_km", "20,001 km", "must be from 0 to 20,000 km"),
    ("distance_km", "20001", "must be from 0 to 20,000 km"),   # the quick path's number
    ("apogee_km", "10001 km", "must be from 0 to 10,000 km"),
    ("date", "1949-12-31", f"must be from 1950-01-01 to {LATEST}"),   # the quick path's ISO date
    ("date", "31-Dec-1949", f"must be from 1950-01-01 to {LATEST}"),
    ("date", AFTER_LATEST, f"must be from 1950-01-01 to {LATEST}"),
])
def test_import_converters_cell_by_cell_and_by_column(field, cell, reason):
    fn = convert.make_converter(field, None, False)
    with pytest.raises(convert.CellError, match=".*") as e:
        fn(cell)
    assert str(e.value) == reason
    cc = convert.ColumnConverter(field, None, False)
    keyed, bad = cc.column(["", cell, cell, None])
    assert bad == [1, 2]
    assert cc.cell(cell) == (False, reason)


def test_kst_utc_conversion_exists_once():
    assert schema.kst_to_utc is rules.kst_to_utc and schema.utc_to_kst is rules.utc_to_kst
    assert convert.kst_to_utc_many is rules.kst_to_utc_many and convert._utc_text is rules.utc_text
    assert rules.kst_to_utc("2026-01-27", "15:50") == "2026-01-27T06:50:00Z"
    assert rules.utc_to_kst("2016-06-21T20:56:00Z") == ("2016-06-22", "05:56")
    assert rules.kst_to_utc_many(["2026-01-27"], ["00:10"]) == ["2026-01-26T15:10:00Z"]


def test_vocabularies_are_the_tables():
    assert schema.MISSILE_CLASSES is rules.MISSILE_CLASSES
    assert rules.EVENT_RULES["missile_class"].words is rules.MISSILE_CLASSES
    assert rules.EVENT_RULES["confirmation"].words is schema.CONFIRMATIONS
    assert list(schema.EVENT_FIELDS) == list(rules.EVENT_RULES)


def test_rules_import_nothing_from_the_project():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(rules))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("nkbrief"), node.module
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("nkbrief") for a in node.names)


def test_latest_date_on_29_february():
    assert rules.latest_date(dt.date(2028, 2, 29)) == "2029-02-28"
    assert rules.latest_date(dt.date(2026, 12, 7)) == "2027-12-07"


def test_shown_escapes_control_characters_and_surrogates():
    assert shown("a\nb\x1b[31m\ud800\u2028") == "a\\nb\\x1b[31m\\ud800\\u2028"
    assert shown("한국 plain") == "한국 plain"
