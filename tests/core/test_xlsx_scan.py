"""The guard's single pass over a sheet: its long-run check and the sheet's extent.

The reference functions below are the algorithms as they stood before the extent was
found in the guard's own pass (one regex search per 1 MiB chunk, one split of the chunk
at every '<'); the fast paths are checked against them on hand-made XML, including row
tags with namespace prefixes, without numbers, and tags cut by chunk boundaries.
"""

from __future__ import annotations

import random
import re

import openpyxl
import pytest

from nkbrief.importing.io import tabular, xlsx_guard
from nkbrief.importing.io.xlsx_guard import MAX_TEXT_RUN_BYTES, SheetExtent, _run_over_limit

_REF_LAST_VALUE = re.compile(rb"(?s).*<(?:[A-Za-z_][\w.-]*:)?(?:v|is|f)[\s/>]")
_REF_LAST_ROW = re.compile(rb"(?s).*<(?:[A-Za-z_][\w.-]*:)?row\s[^>]*?\br=\"(\d+)\"")
_REF_ROW_WITHOUT_NUMBER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?:\s(?![^>]*\br=)[^>]*)?/?>")


def ref_extent(chunks) -> tuple[int, int] | None:
    last_value = last_row = 0
    tail = b""
    for chunk in chunks:
        buf = tail + chunk
        if _REF_ROW_WITHOUT_NUMBER.search(buf):
            return None
        v = _REF_LAST_VALUE.match(buf)
        if v is not None:
            r = _REF_LAST_ROW.match(buf, 0, v.start() + len(v.group()) - 1)
            last_value = int(r.group(1)) if r else last_row
        r = _REF_LAST_ROW.match(buf)
        if r is not None:
            last_row = max(last_row, int(r.group(1)))
        tail = buf[-512:]
    return last_value, last_row


def _sheet_xml(rng: random.Random, n: int, prefix: str = "", numbered: bool = True,
               spans: bool = False, empty_tail: int = 0) -> bytes:
    p = f"{prefix}:" if prefix else ""
    rows = []
    for r in range(1, n + 1):
        cells = []
        for c in "ABCD":
            kind = rng.random()
            if kind < 0.3:
                cells.append(f'<{p}c r="{c}{r}" s="1"/>')  # styled, empty
            elif kind < 0.6:
                cells.append(f'<{p}c r="{c}{r}" t="inlineStr"><{p}is><{p}t>{"x" * rng.randint(0, 300)}</{p}t></{p}is></{p}c>')
            else:
                cells.append(f'<{p}c r="{c}{r}"><{p}v>{rng.random()}</{p}v></{p}c>')
        attrs = (f' spans="1:4" r="{r}"' if spans else f' r="{r}"') if numbered or r % 50 else ' spans="1:4"'
        rows.append(f"<{p}row{attrs}>{''.join(cells)}</{p}row>")
    rows += [f'<{p}row r="{r}"><{p}c r="A{r}" s="1"/></{p}row>' for r in range(n + 1, n + 1 + empty_tail)]
    return (f'<?xml version="1.0"?><{p}worksheet xmlns{":" + prefix if prefix else ""}="x"><{p}sheetData>'
            + "".join(rows) + f"</{p}sheetData></{p}worksheet>").encode()


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("shape", ["plain", "prefixed", "unnumbered", "prefixed_unnumbered", "spans", "empty_tail"])
def test_sheet_extent_equals_the_regex_scan(shape):
    rng = random.Random(shape)
    xml = _sheet_xml(rng, 400, prefix="x" if shape.startswith("prefixed") else "", numbered="unnumbered" not in shape,
                     spans=shape == "spans", empty_tail=2500 if shape == "empty_tail" else 0)
    for size in (97, 1000, 4096, 70_000, len(xml)):  # tags cut anywhere, windows past 64 KiB
        chunks = _chunks(xml, size)
        ext = SheetExtent()
        for c in chunks:
            ext.feed(c)
        assert ext.result() == ref_extent(chunks), (shape, size)
    if "unnumbered" in shape:
        assert ext.result() is None
    if shape == "empty_tail":
        assert ext.result()[1] == 2900 and ext.result()[0] <= 400  # values end over 64 KiB before the end


def _ref_over(chunk: bytes, first: int, last: int) -> bool:
    return max(map(len, chunk[first:last].split(b"<"))) > MAX_TEXT_RUN_BYTES


def test_long_run_check_equals_the_split():
    rng = random.Random(7)
    lim = MAX_TEXT_RUN_BYTES
    for run in (lim - 1, lim, lim + 1, lim + 2, 2 * lim, 3 * lim + 5):
        for lead in (0, 1, 17, lim // 2, lim - 1, lim + 3):
            chunk = b"<a>" + b"y" * lead + b"<b>" + b"z" * run + b"<c>" + b"q" * rng.randint(0, 500) + b"<d>"
            first, last = chunk.find(b"<"), chunk.rfind(b"<")
            assert _run_over_limit(chunk, first, last) == _ref_over(chunk, first, last), (run, lead)


def test_guard_finds_the_extent_and_the_reader_does_not_scan_again(tmp_path, monkeypatch):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Date", "Type", "Count"])
    for i in range(40):
        ws.append([f"2026-01-{i % 28 + 1:02d}", "SRBM", 1])
    for r in range(60, 90):  # styled, empty rows after the values
        ws.cell(row=r, column=1).number_format = "0.00"
    p = tmp_path / "w.xlsx"
    wb.save(p)
    seen = xlsx_guard.check_xlsx(p)
    assert seen["extents"] == {"xl/worksheets/sheet1.xml": (41, 89)}

    def no_second_pass(ws):
        raise AssertionError("the sheet was scanned a second time")

    monkeypatch.setattr(tabular, "_sheet_extent", no_second_pass)
    table = tabular.read_xlsx(p)
    assert len(table.rows) == 40
