"""Large delimited files are read by pandas' C tokenizer; it must read them as the csv module does.

``tabular._read_columns`` takes a text only when ``_plain_quoting`` says the two readers
cannot differ; these tests generate messy texts (quotes in every position, doubled quotes,
line breaks inside quotes, CR, CRLF, blank and white-space lines, ragged rows, apostrophes)
and check that, whenever the C tokenizer is used, the table equals the csv module's: the
records (padded with "" to one width), and through ``read_delimited`` the header, its row,
the data rows with their line numbers, and the blank and title row counts.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nkbrief.importing.io import tabular
from nkbrief.importing.io.sniff import Sniffed

CELL_BITS = ["a", "350 km", "Wonsan", " ", "", '"', '""', ",", ";", "\t", "\n", "\r", "\r\n", "'=1", "'",
             "x\"y", "미상", "2026-01-27", "  pad  "]


def _csv_records(text: str, delim: str) -> list[list[str]] | None:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True))
    except csv.Error:
        return None


def _padded(records: list[list[str]], width: int) -> list[list[str]]:
    return [r + [""] * (width - len(r)) for r in records]


@st.composite
def texts(draw):
    delim = draw(st.sampled_from([",", ";", "\t"]))
    width = draw(st.integers(1, 5))
    n = draw(st.integers(1, 12))
    lines = []
    for _ in range(n):
        kind = draw(st.sampled_from(["row", "row", "row", "quoted", "blank", "ragged", "raw"]))
        if kind == "blank":
            lines.append(draw(st.sampled_from(["", "  ", delim * width, '""'])))
            continue
        if kind == "raw":  # anything at all, quotes and line breaks included
            lines.append("".join(draw(st.lists(st.sampled_from(CELL_BITS + [delim]), max_size=6))))
            continue
        w = width if kind != "ragged" else draw(st.integers(1, width + 2))
        cells = []
        for _ in range(w):
            v = "".join(draw(st.lists(st.sampled_from(CELL_BITS), max_size=3)))
            if kind == "quoted" or draw(st.booleans()):
                v = '"' + v.replace('"', '""') + '"'
            cells.append(v)
        lines.append(delim.join(cells))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = ending.join(lines) + draw(st.sampled_from(["", ending, ending * 2]))
    return text, delim


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=texts())
@example(t=('a,b\n"x"y,2\n', ","))
@example(t=('a,b\n"x\ny",2\n', ","))
@example(t=('a,b\nx"y,2\n', ","))
@example(t=('a,b\r1,2\r\n3,4\n\r5,6', ","))
@example(t=('a,b,c\n1,2\n\n  \n,,\n1,2,3', ","))
def test_c_tokenizer_reads_as_the_csv_module(t):
    text, delim = t
    rows = tabular._read_columns(text, delim, None)
    if rows is None:
        return  # the csv module reads it (or refuses it)
    records = _csv_records(text, delim)
    assert records is not None, "the C tokenizer took a text the csv module refuses"
    width = len(rows.columns)
    assert max(map(len, records)) <= width
    assert [cells for _, cells in rows] == _padded(records, width)
    assert rows.rownums == list(range(1, len(records) + 1))


def _sniffed(text: str) -> Sniffed:
    return Sniffed(format="delimited", encoding="utf-8", text=text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(t=texts(), header_row=st.sampled_from([None, None, 1, 2]))
def test_read_delimited_same_either_way(t, header_row):
    text, delim = t
    if tabular.detect_delimiter(text) != delim or tabular._read_columns(text, delim, None) is None:
        return
    outcomes = []
    for threshold in (0, 10**12):  # C tokenizer, then csv module
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(tabular, "COLUMNAR_MIN_CHARS", threshold)
            try:
                tb = tabular.read_delimited(Path("t.csv"), _sniffed(text), header_row=header_row)
            except tabular.FileRejected as e:
                outcomes.append(("rejected", str(e)))
                continue
        assert isinstance(tb.rows, tabular.ColumnRows) == (threshold == 0)
        width = max([len(c) for _, c in tb.rows] + [len(tb.header)])
        outcomes.append((tb.header, tb.header_row, tb.blank_rows, tb.title_rows,
                         [(n, c + [""] * (width - len(c))) for n, c in tb.rows]))
    a, b = outcomes
    if a[0] != "rejected":
        # the C tokenizer pads every row to the widest line; compare at one width
        wa = max((len(c) for _, c in a[4]), default=0)
        b = (*b[:4], [(n, c + [""] * (wa - len(c))) for n, c in b[4]])
    assert a == b


def test_big_plain_file_takes_the_c_tokenizer(tmp_path):
    rows = "\n".join(f'2024-04-{1 + i % 28:02d},SRBM,"Wonsan, {i}",{i} km' for i in range(20_000))
    p = tmp_path / "big.csv"
    p.write_text("Date,Type,Launch site,Distance\n" + rows + "\n", encoding="utf-8")
    tb = tabular.read_table(p)
    assert isinstance(tb.rows, tabular.ColumnRows)
    assert len(tb.rows) == 20_000 and tb.rows[5] == (7, ["2024-04-06", "SRBM", "Wonsan, 5", "5 km"])


def test_big_file_with_a_multiline_cell_takes_the_csv_module(tmp_path):
    rows = "\n".join(f"2024-04-{1 + i % 28:02d},SRBM,Wonsan,{i} km" for i in range(20_000))
    p = tmp_path / "big.csv"
    p.write_text('Date,Type,Launch site,Distance\n2024-01-01,SRBM,"two\nlines",1\n' + rows, encoding="utf-8")
    tb = tabular.read_table(p)
    assert isinstance(tb.rows, list)
    assert tb.rows[1][0] == 4  # the record after the two-line one starts on line 4


def test_big_file_with_an_overlong_cell_is_refused_as_the_csv_module_refuses_it(tmp_path):
    rows = [f"2024-04-{1 + i % 28:02d},SRBM,Wonsan,{i} km" for i in range(8_000)]
    rows[5] = "2024-04-06,SRBM," + "W" * (csv.field_size_limit() + 10) + ",1 km"
    p = tmp_path / "big.csv"
    p.write_text("Date,Type,Launch site,Distance\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(tabular.FileRejected) as e:
        tabular.read_table(p)
    assert str(e.value) == (f"big.csv: line 7: a value is longer than {csv.field_size_limit():,} characters; "
                            f"cells are limited to {tabular.MAX_CELL_CHARS:,}")


@pytest.mark.parametrize("name", ["north_korea_provocations_1958_present.csv",
                                  "north_korea_missile_test_database.csv"])
def test_public_files_read_the_same_either_way(shared_data, name):
    """The real files, as they are: whichever reader takes them, the table is the same."""
    from nkbrief.importing.io.sniff import sniff

    p = shared_data / name
    sn = sniff(p)
    tables = []
    for threshold in (0, 10**12):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(tabular, "COLUMNAR_MIN_CHARS", threshold)
            tables.append(tabular.read_delimited(p, sn))
    a, b = tables
    width = max(len(c) for _, c in a.rows)
    assert (a.header, a.header_row, a.blank_rows, a.title_rows) == (b.header, b.header_row, b.blank_rows, b.title_rows)
    assert [(n, c + [""] * (width - len(c))) for n, c in a.rows] == [(n, c + [""] * (width - len(c))) for n, c in b.rows]
