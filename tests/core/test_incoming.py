"""EventBlock: events kept as columns, read as a sequence of Incoming."""

from __future__ import annotations

import pytest

from nkbrief.model import schema
from nkbrief.importing.incoming import EventBlock, Incoming


def _block(n: int = 4) -> EventBlock:
    evs = [schema.empty_event() | {"id": f"e{i}", "date": f"2024-01-0{i + 1}", "missile_class": "SRBM",
                                   "sources": [f"s{i}"]} for i in range(n)]
    cols = {f: [ev[f] for ev in evs] for f in schema.EVENT_FIELDS}
    return EventBlock(cols, [i + 2 for i in range(n)], [frozenset({"date"})] * n)


def test_items_are_built_once_and_read_like_a_list():
    b = _block()
    assert len(b) == 4 and not b.built
    first = b[0]
    assert isinstance(first, Incoming) and first.rows == [2] and first.event["id"] == "e0"
    assert b[0] is first and b[-4] is first
    assert [inc.event["id"] for inc in b[1:3]] == ["e1", "e2"]
    assert [inc.event["id"] for inc in b] == ["e0", "e1", "e2", "e3"]
    with pytest.raises(IndexError):
        b[4]
    first.event["sources"].append("extra")  # a built item's list is its own
    assert b.columns["sources"][0] == ["s0"]


def test_changes_to_built_items_are_what_columns_give():
    b = _block()
    b[2].event["notes"] = "changed"
    assert b.column("notes") == ["", "", "changed", ""]
    whole = b.columns_for(range(4))
    assert whole["notes"] == ["", "", "changed", ""]
    part = b.columns_for([3, 2])
    assert part["id"] == ["e3", "e2"] and part["notes"] == ["", "changed"]
    assert b.columns["notes"] == ["", "", "", ""]  # the block's own columns are untouched


def test_a_block_needs_every_field_and_one_value_per_row():
    cols = _block().columns
    with pytest.raises(ValueError):
        EventBlock({f: c for f, c in cols.items() if f != "notes"}, [1, 2, 3, 4], [frozenset()] * 4)
    with pytest.raises(ValueError):
        EventBlock(cols, [1, 2, 3], [frozenset()] * 3)
