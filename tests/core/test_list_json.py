"""``list --json`` streams: the same data as before the streaming change, and the same frame.

The reference below is the implementation as it stood before ``list --json`` streamed
(commit 8fc43c4): ``Store.events_frame`` read every row, sorted with ``np.lexsort`` and
turned into records by ``frame_records``; ``cmd_list`` then wrote ``json.dump(records,
indent=1)``. It is kept here, verbatim in what it computes, so the new code is checked
against what the command printed then, not against itself.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from nkbrief.model import schema
from nkbrief.cli import main
from nkbrief.cli.core import json_column, write_json_columns, write_json_list
from nkbrief.store import Store

#: The store tests here run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")

_COLS = list(schema.EVENT_FIELDS)


# ------------------------------------------------------------------ the reference (before)
def _ref_finish(df: pd.DataFrame) -> pd.DataFrame:
    src = df["sources"]
    if len(df) and src.map(lambda v: isinstance(v, str) and v.startswith("[")).all():
        df["sources"] = json.loads("[" + ",".join(src.tolist()) + "]")
    else:
        df["sources"] = [json.loads(v) if isinstance(v, str) and v else [] for v in src]
    for c in ("count", "missiles"):
        df[c] = pd.array(df[c], dtype="Int64")
    for c in ("distance_km", "distance_km_max", "apogee_km", "apogee_km_max", "latitude", "longitude"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["leader_attended"] = pd.array([None if v is None or v != v else bool(v)
                                      for v in df["leader_attended"]], dtype="boolean")
    return df


def ref_events_frame(store: Store, date_from=None, date_to=None, classes=None) -> pd.DataFrame:
    where, args = [], []
    if date_from:
        where.append("e.date >= ?")
        args.append(date_from)
    if date_to:
        where.append("e.date <= ?")
        args.append(date_to)
    if classes:
        cl = list(classes)
        where.append(f"e.missile_class IN ({', '.join('?' * len(cl))})")
        args.extend(cl)
    sql = f"SELECT {', '.join(_COLS)} FROM events e" + (" WHERE " + " AND ".join(where) if where else "")
    cur = store._conn.cursor()
    cur.row_factory = None
    rows = cur.execute(sql, args).fetchall()
    df = pd.DataFrame.from_records(rows, columns=_COLS)
    counts = dict(store._conn.execute("SELECT event_id, COUNT(*) FROM missiles GROUP BY event_id").fetchall())
    df["missiles"] = [counts.get(i, 0) for i in df["id"]] if counts else 0
    if len(df):
        order = np.lexsort((df["id"].to_numpy(str), df["time_kst"].fillna("").to_numpy(str),
                            df["date"].to_numpy(str)))
        df = df.iloc[order].reset_index(drop=True)
    return _ref_finish(df)


def ref_frame_records(df: pd.DataFrame) -> list[dict]:
    cols = list(df.columns)
    out = []
    for row in df.itertuples(index=False, name=None):
        rec = {}
        for c, v in zip(cols, row):
            if v is pd.NA or (isinstance(v, float) and v != v):
                v = None
            elif hasattr(v, "item") and not isinstance(v, (list, str)):
                v = v.item()
            rec[c] = v
        out.append(rec)
    return out


def ref_list_json(store: Store, **filters) -> str:
    """What ``nkbrief list --json`` printed before it streamed."""
    buf = io.StringIO()
    json.dump(ref_frame_records(ref_events_frame(store, **filters)), buf, ensure_ascii=False, indent=1)
    buf.write("\n")
    return buf.getvalue()


# ------------------------------------------------------------------ stores
def _tricky_events() -> list[tuple[dict, list[dict]]]:
    """Events that exercise every conversion: blanks, ranges, booleans, escapes, ties."""
    base = schema.empty_event()
    evs = [
        base | {"id": "b-tie", "date": "2017-07-04", "time_kst": "09:40", "missile_class": "ICBM",
                "distance_km": 933.0, "apogee_km": 2802.0, "leader_attended": True, "count": 1,
                "sources": ["https://a.example/1", "KCNA 5 July"], "latitude": 40.0, "longitude": 125.5},
        base | {"id": "a-tie", "date": "2017-07-04", "time_kst": "09:40", "missile_class": "ICBM",
                "leader_attended": False, "sources": []},
        base | {"id": "c-notime", "date": "2017-07-04", "missile_class": "SRBM", "count": None},
        base | {"id": "d-month", "date": "1986-05-01", "date_precision": "month", "confirmation": "unconfirmed",
                "distance_km": 300.0, "distance_km_max": 350.5, "apogee_km": 0.5, "apogee_km_max": 1.0},
        base | {"id": "e-year", "date": "1984-01-01", "date_precision": "year", "missile_class": "unknown"},
        base | {"id": "f-korean", "date": "2026-01-27", "time_kst": "15:50", "missile_class": "SRBM",
                "missile_name": "화성-11 \"KN-23\"", "launch_site": "평양 북방",
                "description": "line one\nline two\t\\ back\\slash \u2028 sep \x01 ctl",
                "notes": "=SUM(A1)", "sources": ["연합뉴스 2026-01-27", "quote \" and \\ inside"],
                "count": 4, "latitude": 39.3, "longitude": 125.8},
        base | {"id": "g-dup-date", "date": "2026-01-27", "time_kst": "07:00", "missile_class": "MLRS",
                "outcome": "failure", "leader_attended": None},
    ]
    missiles = {"a-tie": [{"seq": 1, "missile_class": "ICBM"}],
                "f-korean": [{"seq": s, "missile_class": "SRBM"} for s in (1, 2, 3)]}
    return [(ev, missiles.get(ev["id"], [])) for ev in evs]


def _make_store(path, n_bulk: int) -> Store:
    st = Store.open(path, seed=False)
    b = st.new_batch("manual")
    with st.write():
        for ev, ms in _tricky_events():
            st.insert_event(ev, b, missiles=ms, audit=False)
        rng = np.random.default_rng(5)
        for i in range(n_bulk):  # many rows, many same-day ties, in no particular order
            d = f"{rng.integers(1990, 2027)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"
            t = "" if i % 5 == 0 else f"{rng.integers(0, 24):02d}:{(i % 2) * 30:02d}"
            ev = schema.empty_event() | {
                "id": f"syn-{(i * 7919) % 100003:06d}", "date": d, "time_kst": t or None,
                "missile_class": schema.MISSILE_CLASSES[i % len(schema.MISSILE_CLASSES)],
                "missile_name": f"Type {i % 13}", "count": None if i % 4 == 0 else 1 + i % 5,
                "distance_km": None if i % 3 == 0 else round(100 + i * 0.37, 1),
                "leader_attended": [None, True, False][i % 3],
                "sources": [f"https://example.invalid/{i}"] * (i % 3), "notes": "" if i % 7 else "note"}
            st.insert_event(ev, b, missiles=[{"seq": 1, "missile_class": "SRBM"}] if i % 11 == 0 else [],
                            audit=False)
    return st


@pytest.fixture
def synthetic_store(tmp_path):
    st = _make_store(tmp_path / "synthetic.sqlite3", 4500)  # more rows than one streamed chunk
    yield st
    st.close()


FILTERS = [{}, {"date_from": "2017-01-01"}, {"date_to": "2017-07-04"},
           {"classes": ["SRBM", "ICBM"]}, {"date_from": "2000-01-01", "date_to": "2020-12-31", "classes": ["SRBM"]}]


def _cli(capsys, *argv) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize("which", ["bundled", "synthetic"])
def test_list_json_equals_the_output_before_streaming(which, seeded_store, synthetic_store, capsys):
    store = seeded_store if which == "bundled" else synthetic_store
    assert store.event_count() > 100
    db = store.target
    before = ref_list_json(store)
    compact = _cli(capsys, "list", "--json", "--db", db)
    assert json.loads(compact) == json.loads(before)
    # compact: no indentation, no spaces after separators, one line
    assert compact.count("\n") == 1 and not compact.startswith("[\n")
    assert compact == json.dumps(json.loads(before), ensure_ascii=False, separators=(",", ":")) + "\n"
    # --pretty prints exactly what the command printed before
    assert _cli(capsys, "list", "--json", "--pretty", "--db", db) == before


@pytest.mark.parametrize("which", ["bundled", "synthetic"])
def test_list_json_filters_equal_the_output_before_streaming(which, seeded_store, synthetic_store, capsys):
    store = seeded_store if which == "bundled" else synthetic_store
    db = store.target
    argv_of = {"date_from": "--from", "date_to": "--to", "classes": "--class"}
    for f in FILTERS[1:]:
        argv = ["list", "--json", "--db", db]
        for k, v in f.items():
            argv += [argv_of[k], ",".join(v) if isinstance(v, list) else v]
        assert json.loads(_cli(capsys, *argv)) == json.loads(ref_list_json(store, **f)), f


@pytest.mark.parametrize("which", ["bundled", "synthetic"])
def test_events_frame_equals_the_frame_before(which, seeded_store, synthetic_store):
    store = seeded_store if which == "bundled" else synthetic_store
    for f in FILTERS:
        pd.testing.assert_frame_equal(store.events_frame(**f), ref_events_frame(store, **f), check_exact=True)


def test_streamed_records_in_any_chunk_size_equal_the_frame_records(synthetic_store):
    want = ref_frame_records(ref_events_frame(synthetic_store))
    for chunk in (1, 7, 1000, 10_000):
        chunks = list(synthetic_store.iter_event_records(chunk=chunk))
        assert all(0 < len(c) <= chunk for c in chunks)
        got = [r for c in chunks for r in c]
        assert got == want
        # same types, not just equal values (1 == 1.0 == True in Python)
        assert [[type(v) for v in r.values()] for r in got] == [[type(v) for v in r.values()] for r in want]


def test_list_json_on_an_empty_store_and_no_match(empty_store, capsys):
    db = empty_store.target
    assert _cli(capsys, "list", "--json", "--db", db) == "[]\n"
    assert _cli(capsys, "list", "--json", "--pretty", "--db", db) == ref_list_json(empty_store) == "[]\n"


def test_write_json_list_joins_chunks_as_one_list():
    recs = [{"a": i, "b": "x" * i, "c": [i, None]} for i in range(5)]
    for pretty, opts in ((False, {"separators": (",", ":")}), (True, {"indent": 1})):
        for split in ([recs], [recs[:2], [], recs[2:]], [[r] for r in recs]):
            buf = io.StringIO()
            write_json_list(buf, iter(split), pretty=pretty)
            assert buf.getvalue() == json.dumps(recs, ensure_ascii=False, **opts) + "\n"


def test_json_column_writes_what_json_dumps_writes():
    odd = ["", "a\"b\\c", "\x00\x1f\x7f", "line\nbreak\t", "\u2028\u2029", "화성-11", "😀", "</script>"]
    columns = [odd + [None], [0, -1, 2**63, 10**30, None], [0.0, -0.0, 1e16, 1.5e-7, 0.1, 933.0,
                                                          float("nan"), float("inf"), float("-inf"), None],
               [True, False, None], [[], ["a", "b\n"], [1, "x"], None, [None, 2.5, {"k": [1]}]],
               [1, 2.5, "mixed", None, True]]
    for col in columns:
        assert json_column(col) == [json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in col]


def test_write_json_columns_is_json_dumps_of_the_records():
    keys = ["id", "n", "x", "flag", "tags"]
    cols = [["a", "b", "ç"], [1, None, 3], [0.5, None, 1e100], [True, None, False], [["s"], [], ["t", "u"]]]
    recs = [dict(zip(keys, r)) for r in zip(*cols)]
    for split in ([(keys, cols)], [(keys, [c[:1] for c in cols]), (keys, [[] for _ in cols]),
                                   (keys, [c[1:] for c in cols])]):
        buf = io.StringIO()
        write_json_columns(buf, iter(split))
        assert buf.getvalue() == json.dumps(recs, ensure_ascii=False, separators=(",", ":")) + "\n"
    buf = io.StringIO()
    write_json_columns(buf, iter([]))
    assert buf.getvalue() == "[]\n"


def test_list_text_output_is_unchanged(synthetic_store, capsys):
    """The plain listing streams too; its lines are what they were, and its total is the one
    definition of missiles fired (issue 14) over the same events."""
    recs = ref_frame_records(ref_events_frame(synthetic_store))
    out = _cli(capsys, "list", "--db", synthetic_store.target).splitlines()
    assert len(out) == len(recs) + 2
    from nkbrief.analysis.totals import missile_totals

    t = missile_totals([r["count"] for r in recs], [r["missiles"] for r in recs],
                       [r.get("count_qualifier") for r in recs])
    assert out[-1] == (f"{len(recs)} events · {t.text()} · "
                       f"{sum(r['missiles'] for r in recs)} per-missile records")
    assert out[1].startswith(recs[0]["date"][:4])


def test_list_json_memory_stays_flat(tmp_path):
    """The streamed writer holds one chunk at a time: its peak Python allocation does not
    grow with the number of events, while the whole list's does."""
    import tracemalloc

    class Sink(io.TextIOBase):
        def write(self, s):
            return len(s)

    peaks = {}
    for n in (1500, 6000):
        st = _make_store(tmp_path / f"m{n}.sqlite3", n)
        tracemalloc.start()
        write_json_columns(Sink(), st.iter_event_columns(chunk=500))
        _, streamed = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        whole = ref_frame_records(ref_events_frame(st))
        _, held = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        st.close()
        assert len(whole) > n
        del whole
        peaks[n] = (streamed, held)
    (s1, w1), (s2, w2) = peaks[1500], peaks[6000]
    assert w2 > 2.5 * w1  # holding every record grows with the events...
    assert s2 < 1.3 * s1, peaks  # ...streaming does not
    assert s2 < w2 / 2, peaks


@pytest.mark.parametrize("shape", ["iso", "blank_times", "odd_text", "in_order", "one_day"])
def test_chronological_order_is_the_text_order(shape):
    """The integer keys order rows exactly as (date, time or '', id) text compares."""
    from nkbrief.store import _chronological_order

    rng = np.random.default_rng(len(shape))
    n = 3000
    dates = [f"{rng.integers(1984, 2027)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}" for _ in range(n)]
    times = [f"{rng.integers(0, 24):02d}:{rng.integers(0, 4) * 15:02d}" for _ in range(n)]
    ids = [f"ev-{rng.integers(0, 10**6)}-{i}" for i in range(n)]
    if shape == "blank_times":
        times = [None if i % 3 == 0 else "" if i % 3 == 1 else t for i, t in enumerate(times)]
    elif shape == "odd_text":
        dates[5], dates[9], times[7], times[11] = "2026-1-5", "1999-12-31x", "9:40", "평양"
    elif shape == "in_order":
        dates, times = sorted(dates), ["" for _ in times]
        ids = [f"{i:06d}" for i in range(n)]
    elif shape == "one_day":
        dates = ["2026-01-27"] * n  # every row ties on the date; times and ids decide
    want = np.lexsort((np.array(ids, dtype=str), np.array([t or "" for t in times], dtype=str),
                       np.array(dates, dtype=str)))
    got = _chronological_order(dates, times, lambda: ids)
    assert (list(range(n)) if got is None else list(got)) == want.tolist()
