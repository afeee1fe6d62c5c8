"""bulk_layout: which columns a bulk insert binds per row, once per statement, or not at all."""

from __future__ import annotations

import random

from nkbrief.store import bulk_layout


def _reference(cols):
    """The layout by its definition: every column counted in full."""
    n = len(cols[0])
    varying, same = [], []
    for i, col in enumerate(cols):
        if col.count(None) == n:
            continue
        if i and isinstance(col[0], str) and col.count(col[0]) == n:
            same.append(i)
        else:
            varying.append(i)
    return varying, same


def test_each_kind_of_column():
    cols = [
        ["a", "a", "a"],            # the id: always per row, even when equal
        [None, None, None],         # null throughout: left out
        ["x", "x", "x"],            # one text throughout: bound once
        ["x", "y", "x"],            # the ends agree, the middle differs: per row
        [None, "y", None],          # null at both ends only: per row
        [None, None, "z"],          # null first: per row
        [1, 1, 1],                  # one number throughout: per row (only text is bound once)
        ["x", "x", None],           # text, then null: per row
    ]
    assert bulk_layout(cols) == ([0, 3, 4, 5, 6, 7], [2]) == _reference(cols)


def test_random_columns_as_the_definition_says():
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 6)
        cols = [[rng.choice([None, "", "a", "b", 1, 1.0]) for _ in range(n)] for _ in range(6)]
        assert bulk_layout(cols) == _reference(cols), cols
