"""The events loader puts a frame built from fetched rows in date order by moving its
arrays' pointers (``_reorder_in_place``): the same frame as a take, the same reference
counts, and a frame held any other way is left alone."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import nkbrief.store as store_mod
from nkbrief.store import _reorder_in_place

#: The store tests here run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")


def _rows(n: int, seed: int = 3) -> list[tuple]:
    """Rows as a database cursor returns them: text, blanks, numbers, 0/1/None, mixed."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        out.append((
            f"ev-{rng.integers(0, 10**9)}-{i}",                  # text, every value its own object
            f"{rng.integers(1984, 2027)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}",
            ["SRBM", "ICBM", "화성-11", ""][i % 4],              # text from a few values
            None if i % 3 == 0 else f"{i % 24:02d}:{i % 60:02d}",  # text with blanks
            i % 7,                                                # integers
            None if i % 5 == 0 else float(i) / 3,                 # floats with NULL
            [None, 0, 1][i % 3],                                  # 0/1/NULL: an object column
            None,                                                 # all NULL
            None if i % 2 else "over",                            # text or NULL
            1.5 if i % 4 else "not a number",                     # mixed: an object column
        ))
    return out


_COLS = ["id", "date", "cls", "time", "k", "x", "flag", "blank", "qual", "mixed"]


@pytest.mark.parametrize("n", [2, 3, 50, 5000])
def test_reorder_in_place_gives_the_take(n):
    rows = _rows(n)
    order = np.random.default_rng(n).permutation(n)
    want = pd.DataFrame(rows, columns=_COLS).take(order).reset_index(drop=True)
    df = pd.DataFrame(rows, columns=_COLS)
    moved = _reorder_in_place(df, order)
    if int(pd.__version__.split(".")[0]) >= 3:
        assert moved  # the layout pandas 3 builds from rows is the one this path knows
    pd.testing.assert_frame_equal(df if moved else df.take(order).reset_index(drop=True), want,
                                  check_exact=True)
    if moved:
        objs = [c for c in _COLS if want[c].dtype.kind != "f"]
        assert [df[c].tolist() for c in objs] == [want[c].tolist() for c in objs]
        # the same objects, in the new places
        assert all(df["id"].iloc[i] is rows[order[i]][0] for i in range(n))


def test_reorder_in_place_keeps_every_reference_count():
    rows = _rows(2000)
    # the values each row has its own object for (shared ones, None or small integers,
    # are counted by the whole interpreter)
    objects = [v for r in rows for v in r if sys.getrefcount(v) < 50]
    assert len(objects) > 3 * len(rows)
    df = pd.DataFrame(rows, columns=_COLS)
    before = [sys.getrefcount(o) for o in objects]
    assert _reorder_in_place(df, np.random.default_rng(1).permutation(len(rows)))
    assert [sys.getrefcount(o) for o in objects] == before
    del df
    # and the frame gave back exactly what it held (no leak, no double free)
    assert [sys.getrefcount(o) for o in objects] <= before


def test_a_frame_held_another_way_is_left_alone():
    n = 100
    big = np.arange(2 * n, dtype=float)  # the column is a view into a larger array
    df = pd.DataFrame({"a": big[:n]}, copy=False)
    order = np.arange(n)[::-1].copy()
    assert np.shares_memory(df["a"].to_numpy(), big)
    assert not _reorder_in_place(df, order)
    assert big.tolist() == list(range(2 * n))
    # nullable columns (masked arrays) are not arrays of their own: untouched, and False
    df = pd.DataFrame({"a": pd.array(range(n), dtype="Int64"), "b": [f"x{i}" for i in range(n)]})
    ref = df.copy()
    assert not _reorder_in_place(df, order)
    pd.testing.assert_frame_equal(df, ref)


def test_events_frame_without_the_pointer_path_is_the_same(empty_store, monkeypatch):
    """The fallback (one take per column) and the pointer path load the same frame, on
    events stored out of date order."""
    from nkbrief.model import schema

    b = empty_store.new_batch("manual")
    rng = np.random.default_rng(7)
    with empty_store.write():
        for i in range(300):
            ev = schema.empty_event() | {
                "id": f"ev-{(i * 37) % 301:03d}",
                "date": f"{rng.integers(1990, 2027)}-{rng.integers(1, 13):02d}-{rng.integers(1, 3):02d}",
                "time_kst": None if i % 4 == 0 else f"{rng.integers(0, 3):02d}:00",
                "missile_class": schema.MISSILE_CLASSES[i % len(schema.MISSILE_CLASSES)],
                "distance_km": None if i % 3 else 100.0 + i, "leader_attended": [None, True, False][i % 3],
                "count": None if i % 5 == 0 else i % 4 + 1, "sources": [f"s{i}"] * (i % 3)}
            empty_store.insert_event(ev, b, missiles=[{"seq": 1, "missile_class": "SRBM"}] if i % 9 == 0 else [],
                                     audit=False)
    calls = []
    real = store_mod._reorder_in_place
    monkeypatch.setattr(store_mod, "_reorder_in_place", lambda df, order: calls.append(real(df, order)) or calls[-1])
    fast = empty_store.events_frame()
    assert calls  # the rows were out of order
    if int(pd.__version__.split(".")[0]) >= 3:
        assert calls == [True]  # and the pointer path took them (both engines' rows are tuples)
    monkeypatch.setattr(store_mod, "_reorder_in_place", lambda df, order: False)
    slow = empty_store.events_frame()
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    keys = list(zip(fast["date"], fast["time_kst"].fillna(""), fast["id"]))
    assert keys == sorted(keys) and len(fast) == 300


def test_views_that_are_not_whole_rows_or_columns_are_left_alone():
    n = 50
    order = np.random.default_rng(2).permutation(n)
    block = np.arange(3 * n, dtype=float).reshape(3, n).copy()  # owns its memory, as a block does
    from nkbrief.store import _column_storage

    assert _column_storage(pd.arrays.NumpyExtensionArray(block[1]), n)[1] == 1  # a whole row
    assert _column_storage(pd.arrays.NumpyExtensionArray(block.ravel()[3:3 + n]), n) is None  # across two rows
    tall = np.arange(n * 4, dtype=float).reshape(n, 4).copy()
    assert _column_storage(pd.arrays.NumpyExtensionArray(tall[:, 2]), n)[1] == 0  # a whole column
    assert _column_storage(pd.arrays.NumpyExtensionArray(tall[:, 2][::-1]), n) is None  # reversed
    df = pd.DataFrame({"a": [1.0] * n}, index=range(1, n + 1))  # labels not 0..n-1
    assert not _reorder_in_place(df, order)
