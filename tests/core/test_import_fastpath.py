"""The column-wise checking of a file gives exactly what the row-by-row reference gives.

Two levels, both on generated messy input:

- one column: ``ColumnConverter.column`` against the per-cell converter on every cell;
- a whole table: ``importer._parse_rows`` column-wise against ``by_column=False`` (events,
  provided fields, every rejection message, rejected rows, preview), and the same through
  ``read_file`` for CSV text.
"""

from __future__ import annotations

import copy
import datetime as dt
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nkbrief.importing import convert, importer, mapping
from nkbrief.model import rules, schema
from nkbrief.importing.io.tabular import Table, _NotAnObject

MISSING = convert.MISSING

# Cells as colleagues' files hold them: clean, messy, null words, hostile, and the typed
# values an .xlsx or JSON file gives.
TEXTS = ["", " ", "Wonsan", " Wonsan ", "Wonsan\u00a0area", "\u00a0Sinpo\u00a0", "unknown", "N/A", " n/a ",
         "-", "—", "?", "Unknown ", "미상", "İstanbul", "İ", "a\x01b", "\x0bvalue\x0b", "tab\there",
         "line\nbreak", "cr\rhere", "x" * (schema.MAX_TEXT_CHARS + 1),
         " " + "y" * schema.MAX_TEXT_CHARS + " ", "'=1+1", "=SUM(A1)", "some, text; with | marks"]
DATES = ["2024-04-19", "2024-4-19", "19-Apr-24", "Sep-84", "2026년 1월 27일", "2026년 1월", "31-Feb-26",
         "0001-01-01", "0999-12-31", "1000-01-01", "1000-01-02", "9999-12-31", "1999", "4/19/2024",
         "2024.4.19", " 2024-04-19 ", "45000", "2024-04-19T10:00", "not a date"]
TIMES = ["15:50", "00:05", "10:22:00 PM", "25:00", "오후 3시 50분", "~07:50", "15:54 (UTC)", "7:5"]
UTCS = ["2016-06-21T20:56:00Z", "2016-06-21 20:56", "20:56", "2016-02-30T20:56:00Z", "20:56 (UTC)"]
CLASSES = ["SRBM", "srbm", "SRBMs", "short-range ballistic missile", "단거리탄도미사일", "ICBM (Hwasong-18)",
           "cruise", "rocket", "HGV", "unknown"]
NUMBERS = ["2", "-2", "2 missiles", "multiple", "0", "350 km", "~350km", "1,380 km", "1,380.5 km",
           "between 110 and 670 km", "670-110 km", "220 miles", "60000", "-5 km", "abc", "350 lm", "39.03",
           "95", "-200", "39.0°", "nan", "inf", "1e3", "127.5", "~ 127.5 km", "349.5", "350"]
WORDS = ["success", "Failed", "fail", "confirmed", "yes", "no", "true", "0", "1", "참석", "day", "month",
         "year", "월", "attended", "maybe"]
SOURCES = ["JCS", "https://a.example/1", "https://a.example/1 https://b.example/2", "a; b", "a|b", "a | b",
           '["x", "y"]', "[x]", "[1, 2]", "unknown", " x\u00a0 ", "KCNA\nYonhap", "see http://x.example",
           "Korea\u00a0Herald", "\u00a0 \u00a0"]
TYPED = [None, 2, 2.0, 2.5, -1, 0, True, False, float("nan"), 45000, 45000.5, 0.5,
         dt.datetime(2016, 6, 21, 20, 56), dt.date(2024, 4, 19), dt.time(12, 30), ["a", "b"], [1], {"k": 1}]
POOL = TEXTS + DATES + TIMES + UTCS + CLASSES + NUMBERS + WORDS + SOURCES

cells = st.one_of(st.sampled_from(POOL), st.sampled_from(TYPED),
                  st.text(alphabet=st.sampled_from(list("0123456789-:.,~ kmAPM/년월일\u00a0ab;")), max_size=12))
str_cells = st.one_of(st.sampled_from(POOL), st.just(None),
                      st.text(alphabet=st.sampled_from(list("0123456789-:.,~ kmhtps/;|\n[]\"\u00a0abc")),
                              max_size=14))

FIELDS = [*schema.EVENT_FIELDS, convert.UNMAPPED_TEXT]


def _by_cell(field: str, unit: str | None, exact: bool, column: list) -> tuple[dict, list]:
    """The reference: the per-cell converter on each cell, with no memo and no fast path."""
    fn = convert._text_converter if field == convert.UNMAPPED_TEXT else convert.make_converter(field, unit, exact)
    keyed: dict[str, list] = {}
    bad: list[tuple[int, str]] = []
    for i, v in enumerate(column):
        if v is None or v == "":
            continue
        try:
            res = fn(v)
        except convert.CellError as e:
            bad.append((i, str(e)))
            continue
        for k, x in res.items():
            keyed.setdefault(k, [MISSING] * len(column))[i] = x
    return keyed, bad


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _compare_column(field, unit, exact, column):
    cc = convert.ColumnConverter(field, unit, exact)
    keyed, bad = cc.column(list(column))
    ref_keyed, ref_bad = _by_cell(field, unit, exact, column)
    assert [(i, cc.cell(column[i])[1]) for i in bad] == ref_bad
    assert all(not cc.cell(column[i])[0] for i in bad)
    # a key that no cell filled may be absent or all MISSING
    for k in set(keyed) | set(ref_keyed):
        got = keyed.get(k, [MISSING] * len(column))
        want = ref_keyed.get(k, [MISSING] * len(column))
        assert len(got) == len(want)
        for i, (x, y) in enumerate(zip(got, want)):
            if i in {j for j, _ in ref_bad}:
                continue  # a rejected cell's values are never used
            assert _same(x, y), (k, i, column[i], x, y)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), exact=st.booleans(), column=st.lists(cells, min_size=1, max_size=25))
def test_column_equals_cell_by_cell(field, exact, column):
    _compare_column(field, "mi" if field == "distance_km" and len(column) % 3 == 0 else None, exact, column)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), exact=st.booleans(), column=st.lists(str_cells, min_size=1, max_size=30))
def test_text_column_equals_cell_by_cell(field, exact, column):
    """Columns of text only (a CSV) take the vectorised paths."""
    _compare_column(field, None, exact, column)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("exact", [False, True])
def test_every_pool_value_in_every_field(field, exact):
    _compare_column(field, None, exact, POOL + [None])
    _compare_column(field, None, exact, POOL + TYPED)


@settings(max_examples=40, deadline=None)
@given(dates=st.lists(st.dates(min_value=dt.date(1000, 1, 2)), min_size=1, max_size=20),
       times=st.lists(st.times(), min_size=20, max_size=20))
def test_kst_to_utc_many(dates, times):
    hhmm = [t.strftime("%H:%M") for t in times[:len(dates)]]
    iso = [d.isoformat() for d in dates]
    assert convert.kst_to_utc_many(iso, hhmm) == [schema.kst_to_utc(d, t) for d, t in zip(iso, hhmm)]


# ------------------------------------------------------------------ whole tables
HEADERS = ["Date", "Time (KST)", "Time (UTC)", "Type", "Missile", "Number", "Distance", "Range (miles)",
           "Distance max", "Apogee", "Launch site", "Latitude", "Longitude", "Landing", "Result", "Status",
           "Leader attended", "Description", "Source", "Notes", "Precision", "Analyst", "Remarks 2", "id"]
BY_HEADER = {"Date": DATES, "Time (KST)": TIMES, "Time (UTC)": UTCS, "Type": CLASSES, "Number": NUMBERS,
             "Distance": NUMBERS, "Range (miles)": NUMBERS, "Distance max": NUMBERS, "Apogee": NUMBERS,
             "Latitude": NUMBERS, "Longitude": NUMBERS, "Result": WORDS, "Status": WORDS,
             "Leader attended": WORDS, "Source": SOURCES, "Precision": WORDS}
GOOD = {"Date": ["2024-04-19", "2010-09-29", "1984-04-01"], "Time (KST)": ["15:37", "09:07", ""],
        "Type": ["SRBM", "IRBM", ""], "Number": ["1", "2", ""], "Distance": ["509.8 km", "1,380 km", "Unknown"],
        "Apogee": ["~127.5km", "N/A", "60"], "Launch site": ["Wonsan", "Pyongyang area", ""],
        "Latitude": ["39.03", ""], "Longitude": ["125.75", ""], "Source": ["https://example.invalid/1", "JCS"],
        "Notes": ["", "note"], "Description": ["Synthetic launch.", ""], "id": ["", "e-1", "e-2"]}


def _value(draw, header: str, messy: bool):
    if messy or header not in GOOD:
        pool = BY_HEADER.get(header, TEXTS)
        return draw(st.one_of(st.sampled_from(pool), st.sampled_from(["", "", None]),
                              st.sampled_from(POOL)))
    return draw(st.sampled_from(GOOD[header]))


@st.composite
def tables(draw, typed: bool = False):
    headers = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=10, unique=True))
    if "Date" not in headers:
        headers.insert(draw(st.integers(0, len(headers))), "Date")
    n = draw(st.integers(1, 30))
    rows = []
    for r in range(n):
        messy = draw(st.integers(0, 3)) == 0
        cells = [_value(draw, h, messy) for h in headers]
        if typed and draw(st.integers(0, 4)) == 0:
            cells[draw(st.integers(0, len(cells) - 1))] = draw(st.sampled_from(TYPED))
        shape = draw(st.integers(0, 12))
        if shape == 0:
            cells = cells[:draw(st.integers(0, len(cells)))]  # a short row
        elif shape == 1:
            cells = cells + [draw(st.sampled_from(["", None, "extra"]))]  # a wide row
        elif shape == 2 and typed:
            cells = [_NotAnObject(draw(st.sampled_from([1, "x", None])))] + [None] * (len(headers) - 1)
        rows.append((r + 2, cells))
    return headers, rows


def _parsed(headers, rows, *, exact=False, rows_mode="events", overrides=None, fmt="delimited"):
    table = Table(name="t.csv", format=fmt, header=headers, rows=rows, header_row=1)
    pf = importer.ParsedFile(path=None, name="t.csv", sha256="", kind="table", format_label="", encoding_label=None,
                             delimiter=",", sheet=None, sheets=[], header_row=1, header=headers, columns=[],
                             rows_mode=rows_mode, exact=exact)
    pf.columns = importer._columns(headers, overrides or {}, exact=exact)
    return pf, table


def _outcome(pf):
    return {
        "incoming": [(i.event, i.provided, i.rows, i.missiles) for i in pf.incoming],
        "rejections": [(p.row, p.column, repr(p.value), p.reason, str(p)) for p in pf.rejections],
        "rejected_raw": {k: repr(v) for k, v in pf.rejected_raw.items()},
        "preview": [(r.row, repr(r.cells), r.status, r.message) for r in pf.preview],
        "accepted": pf.accepted_rows, "total": pf.rows_total,
    }


def _both(headers, rows, **kw):
    a, table = _parsed(headers, copy.deepcopy(rows), **kw)
    b, table_b = _parsed(headers, copy.deepcopy(rows), **kw)
    errors = []
    for pf, t, by_column in ((a, table, True), (b, table_b, False)):
        try:
            importer._parse_rows(pf, t, None, by_column=by_column)
            errors.append(None)
        except importer.FileRejected as e:
            errors.append(str(e))
    assert errors[0] == errors[1]
    if errors[0] is None:
        ours, ref = _outcome(a), _outcome(b)
        assert ours == ref
        for inc in a.incoming:  # the events the fast path builds are valid events
            assert schema.validate_event(inc.event).ok, inc.event
        return a
    return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=tables(), rows_mode=st.sampled_from(["events", "events", "missiles"]))
def test_table_column_wise_equals_row_by_row(t, rows_mode):
    headers, rows = t
    _both(headers, rows, rows_mode=rows_mode)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=tables(typed=True))
def test_typed_cells_column_wise_equals_row_by_row(t):
    """Cells as an .xlsx or JSON file gives them (numbers, dates, lists, non-objects)."""
    headers, rows = t
    _both(headers, rows, fmt="json")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=tables(), target=st.sampled_from(["distance_km_max", "notes", "ignore", "time_utc", "launch_site"]))
def test_overridden_mapping_equals_row_by_row(t, target):
    """Two columns may fill the same field (a later one wins, as dict.update does)."""
    headers, rows = t
    _both(headers, rows, overrides={headers[-1]: target})


def test_exact_export_columns_equal_row_by_row():
    headers = list(schema.EVENT_FIELDS)
    good = schema.empty_event() | {"id": "e1", "date": "2024-04-19", "time_kst": "15:37",
                                   "time_utc": "2024-04-19T06:37:00Z", "missile_class": "SRBM",
                                   "distance_km": "350.0", "distance_km_max": "", "sources": "a ; b",
                                   "description": " kept as written ", "notes": "'=1"}
    rows = []
    for i in range(40):
        ev = dict(good, id=f"e{i}")
        if i % 5 == 1:
            ev["date_precision"] = "month"
        if i % 7 == 2:
            ev["missile_class"] = ""
        if i % 9 == 3:
            ev["distance_km_max"] = "100.0"
        if i % 11 == 4:
            ev["id"] = "e0"
        if i % 6 == 5:
            ev["latitude"] = "39.0"
        rows.append((i + 2, [ev[h] if not isinstance(ev[h], list) else " ; ".join(ev[h]) for h in headers]))
    pf = _both(headers, rows, exact=True)
    assert pf.rejections and pf.incoming


def test_each_cross_check_rule_equals_row_by_row():
    """Rows that break a rule spanning fields, one rule each, next to clean rows."""
    headers = ["Date", "Time (KST)", "Precision", "Distance", "Distance max", "Apogee", "Apogee max",
               "Latitude", "Longitude", "Notes", "Time (UTC)", "id", "Analyst"]
    clean = ["2024-04-19", "15:37", "", "350 km", "", "100", "", "39.0", "125.7", "n", "", "", ""]
    odd = {3: ("Distance max", "349.5"), 4: ("Apogee max", "99.9"), 5: ("Precision", "month"),
           6: ("Latitude", ""), 7: ("Longitude", ""), 8: ("Analyst", "z" * schema.MAX_TEXT_CHARS),
           9: ("id", "y" * (schema.MAX_TEXT_CHARS + 1)), 10: ("Time (UTC)", "06:37"), 11: ("Time (UTC)", "06:38"),
           12: ("Date", "0999-12-31"), 13: ("Date", "1000-01-01"), 14: ("Date", "1000-01-02"),
           15: ("Time (UTC)", "2024-04-19T06:37:00Z"), 16: ("Distance max", "351"), 17: ("Precision", "year"),
           18: ("Date", "Sep-84")}
    rows = []
    for r in range(2, 22):
        cells = list(clean)
        if r in odd:
            h, v = odd[r]
            cells[headers.index(h)] = v
        cells[headers.index("id")] = cells[headers.index("id")] or f"e{r}"
        rows.append((r, cells))
    pf = _both(headers, rows)
    assert {p.row for p in pf.rejections} >= {3, 4, 5, 6, 7, 8, 9, 11, 17}
    assert pf.incoming


def test_large_table_goes_mostly_column_wise(monkeypatch):
    """On a clean file the fast path really is taken: only odd rows use the reference."""
    headers = ["Date", "Time (KST)", "Type", "Distance", "Launch site", "Source", "Analyst"]
    rows = [(i + 2, [f"20{10 + i % 10}-0{1 + i % 9}-1{i % 10}", f"{i % 24:02d}:{i % 60:02d}", "SRBM",
                     f"{100 + i} km", "Wonsan", f"https://x.example/{i}", "A"]) for i in range(300)]
    rows[7][1][0] = "31-Feb-26"
    rows[8][1][3] = "between 900 and 100 km"
    pf = _both(headers, rows)
    assert [p.row for p in pf.rejections] == [9, 10]
    assert pf.incoming[0].event["notes"] == "Colleague column 'Analyst': A"
    assert pf.incoming[0].event["time_utc"] == "2010-01-09T15:00:00Z"
    calls = []
    real = importer._check_row
    monkeypatch.setattr(importer, "_check_row", lambda *a: calls.append(a[1]) or real(*a))
    pf, table = _parsed(headers, rows)
    importer._parse_rows(pf, table, None)
    assert calls == [9, 10]  # only the rejected rows took the reference path


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=tables())
def test_csv_files_read_the_same_both_ways(tmp_path_factory, t):
    import csv
    import io

    headers, rows = t
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for _, cells in rows:
        w.writerow(["" if c is None else c for c in cells])
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    results = []
    real = importer._parse_rows
    for by_column in (True, False):
        importer._parse_rows = lambda pf, table, progress, _bc=by_column: real(pf, table, progress, by_column=_bc)
        try:
            try:
                results.append(_outcome(importer.read_file(path)))
            except importer.FileRejected as e:
                results.append(str(e))
        finally:
            importer._parse_rows = real
    assert results[0] == results[1]


def test_mapping_module_names_are_stable():
    # the table strategy relies on these headers mapping as documented
    assert mapping.match_header("Range (miles)").unit == "mi"
    assert mapping.match_header("Time (UTC)").field == "time_utc"


# ------------------------------------------------------------------ reading CSV records
csv_text = st.lists(st.lists(st.sampled_from(["a", "", "b c", '"q"', '"x\ny"', '"x\r\ny"', "'=1", '"bad"x', "1,5",
                                             "\r"]), min_size=0, max_size=4), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(rows=csv_text, eol=st.sampled_from(["\n", "\r\n", "\r"]))
def test_one_line_records_equal_record_by_record(rows, eol):
    """Reading 20,000 records at a time gives the records and line numbers the careful
    record-by-record reading gives, or hands over to it."""
    from nkbrief.importing.io import tabular

    text = eol.join(",".join(r) for r in rows) + eol
    total = text.count("\n") + 1
    quick = tabular._one_line_records(text, ",", "f.csv", None, total)
    try:
        careful = tabular._records(text, ",", "f.csv", None, total)
    except importer.FileRejected:
        assert quick is None  # broken quoting: the careful reading says where
        return
    if quick is not None:
        assert quick == careful
    else:  # handed over only because a cell holds a line break
        assert any("\n" in c or "\r" in c for _, r in careful for c in r)


# ------------------------------------------------------------------ found by the property tests
def _read(tmp_path, text, **kw):
    p = tmp_path / "f.csv"
    p.write_text(text, encoding="utf-8")
    return importer.read_file(p, importer.ImportOptions(**kw))


def test_times_outside_the_calendar_are_rejected_not_a_traceback(tmp_path):
    pf = _read(tmp_path, "Date,Time (KST),Time (UTC),Type\n0001-01-01,05:00,,SRBM\n9999-12-31,,20:00,SRBM\n"
                         "0999-01-01,15:00,,SRBM\n2024-04-19,15:00,,SRBM\n")
    bound = f"must be from 1950-01-01 to {rules.latest_date()}"
    assert [str(p) for p in pf.rejections] == [
        f"row 2: Date '0001-01-01' {bound}", f"row 3: Date '9999-12-31' {bound}",
        f"row 4: Date '0999-01-01' {bound}"]
    (ok,) = pf.incoming
    assert (ok.event["date"], ok.event["time_utc"]) == ("2024-04-19", "2024-04-19T06:00:00Z")
    assert all(schema.validate_event(i.event).ok for i in pf.incoming)


def test_grouped_missile_rows_too_long_together_are_rejected(tmp_path):
    name = "N" * (schema.MAX_TEXT_CHARS // 2 + 10)
    pf = _read(tmp_path, f"Date,Type,Missile,Launch site\n2024-04-19,SRBM,{name}A,Wonsan\n"
                         f"2024-04-19,SRBM,{name}B,Wonsan\n2024-04-20,SRBM,KN-23,Wonsan\n", rows="missiles")
    assert [p.row for p in pf.rejections] == [2, 3]
    assert pf.rejections[0].reason == ("is longer than 32,000 characters when the rows of this launch "
                                       "(rows 2–3) are put together")
    assert pf.accepted_rows == 1 and len(pf.incoming) == 1
    pf.check_accounting()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=tables(), rows_mode=st.sampled_from(["events", "events", "missiles"]))
def test_column_table_equals_row_by_row(t, rows_mode):
    """A large CSV read as columns (``ColumnRows``: every row as wide as the widest, text
    only) is checked as its rows would be, and its events (an ``EventBlock``) equal them."""
    from nkbrief.importing.incoming import EventBlock
    from nkbrief.importing.io.tabular import ColumnRows

    headers, rows = t
    width = max([len(headers)] + [len(c) for _, c in rows])
    padded = [(n, ["" if v is None else v for v in c] + [""] * (width - len(c))) for n, c in rows]
    a, table = _parsed(headers, copy.deepcopy(padded), rows_mode=rows_mode)
    table.rows = ColumnRows([n for n, _ in padded], [list(col) for col in zip(*(c for _, c in padded))])
    b, table_b = _parsed(headers, copy.deepcopy(padded), rows_mode=rows_mode)
    importer._parse_rows(a, table, None)
    importer._parse_rows(b, table_b, None, by_column=False)
    assert isinstance(a.incoming, EventBlock) == (rows_mode == "events")
    assert _outcome(a) == _outcome(b)
