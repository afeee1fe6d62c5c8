"""An .xlsx is read by the cells it holds, not by the <dimension> it declares.

Hand-made workbooks declare a short, a narrow, a huge (A1:XFD1048576) and an `A1`
dimension; each imports every real row and column, and the report says the declared size
was wrong. A sheet with a million styled, empty rows after its data is neither refused nor
read into memory.
"""

from __future__ import annotations

import re
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from nkbrief.importing.importer import read_file

HEADER = ["Date", "Type", "Count", "Distance", "Apogee", "Launch site", "Latitude", "Longitude"]
ROWS = [
    ["2026-01-27", "SRBM", 2, "350 km", "80 km", "Pyongyang", 39.0, 125.7],
    ["2026-02-03", "ICBM", 1, "1,000 km", "6,000 km", "Sunan", 39.2, 125.6],
    ["2026-03-10", "cruise", 4, "1,500 km", None, "Nampo", 38.7, 125.4],
]


def _workbook(tmp_path: Path, name: str) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for r in ROWS:
        ws.append(r)
    p = tmp_path / name
    wb.save(p)
    return p


def _rewrite_sheet(path: Path, change) -> None:
    """Rewrite xl/worksheets/sheet1.xml of ``path`` with ``change(xml) -> xml``."""
    src = zipfile.ZipFile(path)
    parts = {i.filename: src.read(i.filename) for i in src.infolist()}
    src.close()
    name = "xl/worksheets/sheet1.xml"
    parts[name] = change(parts[name].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)


def _declare(path: Path, ref: str) -> None:
    def change(xml: str) -> str:
        out, n = re.subn(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', xml)
        assert n == 1
        return out
    _rewrite_sheet(path, change)


def _check_every_row_and_column(pf) -> None:
    assert pf.rejections == [] and pf.accepted_rows == 3
    events = sorted((i.event for i in pf.incoming), key=lambda e: e["date"])
    assert [e["date"] for e in events] == ["2026-01-27", "2026-02-03", "2026-03-10"]
    assert [e["count"] for e in events] == [2, 1, 4]
    assert [e["distance_km"] for e in events] == [350.0, 1000.0, 1500.0]
    assert [e["apogee_km"] for e in events] == [80.0, 6000.0, None]
    assert [e["launch_site"] for e in events] == ["Pyongyang", "Sunan", "Nampo"]
    assert [e["longitude"] for e in events] == [125.7, 125.6, 125.4]
    assert [c.header for c in pf.columns] == HEADER


@pytest.mark.parametrize("ref", ["A1:H2", "A1:D3", "A1:D2", "A1", "A1:XFD1048576"])
def test_declared_dimension_is_ignored(tmp_path, ref):
    p = _workbook(tmp_path, "dim.xlsx")
    _declare(p, ref)
    pf = read_file(p)
    _check_every_row_and_column(pf)
    assert f"sheet 'Sheet' declares {ref} but holds cells in A1:H4; every cell that is there was read" \
        in pf.notes


def test_a_right_dimension_gives_no_note(tmp_path):
    pf = read_file(_workbook(tmp_path, "ok.xlsx"))
    _check_every_row_and_column(pf)
    assert not [n for n in pf.notes if "declares" in n]


def test_a_million_styled_empty_rows_are_neither_refused_nor_held(tmp_path):
    """Real files carry formatting down to row 1,048,576. The rows after the data are not
    kept (memory stays far below what a million rows would take) and not counted against
    the row limit."""
    p = _workbook(tmp_path, "styled.xlsx")
    n = 1_000_000

    def change(xml: str) -> str:
        rows = "".join(f'<row r="{r}"><c r="A{r}" s="0"/></row>' for r in range(5, 5 + n))
        xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:H{n + 4}"/>', xml)
        return xml.replace("</sheetData>", rows + "</sheetData>")
    _rewrite_sheet(p, change)
    tracemalloc.start()
    try:
        pf = read_file(p)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _check_every_row_and_column(pf)
    assert peak < 50 * 2**20, f"peak {peak / 2**20:.0f} MiB"  # a list of a million rows alone is ~100 MiB
    assert not [x for x in pf.notes if "declares" in x]
