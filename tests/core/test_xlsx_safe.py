"""Formula-safe cell values, link filtering and the CSV rule."""

from __future__ import annotations

import datetime as dt
import math

import openpyxl
import pytest

from nkbrief.exporting.xlsx_safe import (
    MAX_CELL_CHARS,
    csv_safe,
    needs_quote_prefix,
    safe_cell_value,
    safe_hyperlink,
    set_safe_value,
)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "\n=1", "  =1+1",
                                  "\u00a0=1", "＝1", "=cmd|' /C calc'!A0", "-", "="])
def test_formula_like_text_gets_a_quote_prefix(text):
    assert safe_cell_value(text) == (text, True)


@pytest.mark.parametrize("text", ["", "Hwasong-15", "a=b", "1-2", "#N/A", "e@mail", " leading space"])
def test_ordinary_text_is_left_alone(text):
    assert safe_cell_value(text) == (text, False)


def test_non_text_values():
    assert safe_cell_value(None) == (None, False)
    assert safe_cell_value(-5) == (-5, False)  # a negative number is a number, not a formula
    assert safe_cell_value(-2.5) == (-2.5, False)
    assert safe_cell_value(True) == (True, False)
    assert safe_cell_value(math.nan) == (None, False)
    assert safe_cell_value(math.inf) == (None, False)
    d = dt.date(2026, 1, 27)
    assert safe_cell_value(d) == (d, False)
    aware = dt.datetime(2026, 1, 27, 15, 50, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    assert safe_cell_value(aware) == (dt.datetime(2026, 1, 27, 6, 50), False)
    assert safe_cell_value(["=a", "b"]) == ("=a\nb", True)


def test_xml_illegal_characters_and_length():
    v, q = safe_cell_value("a\x00b\x1bc")
    assert v == "a\ufffdb\ufffdc" and not q
    v, _ = safe_cell_value("x" * (MAX_CELL_CHARS + 10))
    assert len(v) == MAX_CELL_CHARS and v.endswith("…")


def test_set_safe_value_roundtrip(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    values = ["=SUM(A2:A3)", "#N/A", "@x", "plain", 3.5, "=cmd|' /C calc'!A0"]
    for i, v in enumerate(values, 1):
        set_safe_value(ws.cell(i, 1), v)
    wb.save(tmp_path / "x.xlsx")
    ws2 = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    for i, v in enumerate(values, 1):
        c = ws2.cell(i, 1)
        assert c.value == v
        assert c.data_type == ("n" if isinstance(v, float) else "s")
        assert bool(c.quotePrefix) == needs_quote_prefix(v if isinstance(v, str) else "")


@pytest.mark.parametrize("url, ok", [
    ("https://www.example.org/a?b=1#c", True),
    ("http://38north.org/2016/02/x/", True),
    ("  https://example.org  ", True),
    ("HTTPS://EXAMPLE.ORG/", True),
    ("javascript:alert(1)", False),
    ("file:///C:/Windows/system32/calc.exe", False),
    ("\\\\server\\share\\x.xlsx", False),
    ("mailto:a@b.c", False),
    ("ftp://example.org/", False),
    ("https://", False),
    ("https://exa mple.org", False),
    ("https://example.org/\nInjected", False),
    ("=HYPERLINK(\"http://x\")", False),
    ("Yonhap 2016-06-22", False),
    ("https://example.org/" + "a" * 3000, False),
    (None, False),
])
def test_only_http_links(url, ok):
    got = safe_hyperlink(url)
    assert (got == url.strip()) if ok else got is None


def test_csv_rule():
    assert csv_safe("=1+1") == "'=1+1"
    assert csv_safe("\t=1") == "'\t=1"
    assert csv_safe("\r=1") == "'\r=1"
    assert csv_safe("@x") == "'@x"
    assert csv_safe("-x") == "'-x"
    assert csv_safe("plain") == "plain"
    assert csv_safe(-5) == "-5"
    assert csv_safe(None) == ""
    assert csv_safe(math.nan) == ""
