"""Malformed and hostile files: one clear message each, exit 2, and a store left byte for byte
as it was. Every file is generated here; nothing on disk is trusted.

Limits exercised (documented in docs/import.md): 256 MiB per file; .xlsx parts at most
256 MiB declared and 100:1 compression for parts over 1 MiB; 1,000 columns; 1,000,000 rows;
32,000 characters per cell (longer cells reject their row; a run over 192,000 bytes in
the sheet XML, or over 131,072 characters in a CSV cell, rejects the file).
"""

from __future__ import annotations

import io
import json
import os
import random
import struct
import zipfile

import openpyxl
import pytest
from import_helpers import raw_xlsx, sheet_xml

from nkbrief.model import schema
from nkbrief.cli import main
from nkbrief.store import Store

CASES = []
LONG = "x" * 40_000
CLASSES = ", ".join(schema.MISSILE_CLASSES)


def case(name, message=None, rejections=None):
    def deco(fn):
        CASES.append(pytest.param(fn, message, rejections, id=name))
        return fn
    return deco


def _csv(tmp, name, text, encoding="utf-8"):
    p = tmp / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


def _xlsx_bytes(rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _patch_member(path, member, *, size=None, encrypted=False):
    """Rewrite a member's declared uncompressed size / encryption flag in both ZIP headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo(member)
        local = info.header_offset
    cd = data.find(b"PK\x01\x02" + b"\x00" * 0)  # first central directory entry
    while cd >= 0:
        name_len = struct.unpack_from("<H", data, cd + 28)[0]
        if data[cd + 46:cd + 46 + name_len].decode() == member:
            break
        cd = data.find(b"PK\x01\x02", cd + 4)
    if size is not None:
        struct.pack_into("<I", data, local + 22, size)
        struct.pack_into("<I", data, cd + 24, size)
    if encrypted:
        struct.pack_into("<H", data, local + 6, struct.unpack_from("<H", data, local + 6)[0] | 1)
        struct.pack_into("<H", data, cd + 8, struct.unpack_from("<H", data, cd + 8)[0] | 1)
    path.write_bytes(bytes(data))
    return path


# ---------------------------------------------------------------------- paths
@case("missing-path", "nope.csv: no such file")
def _missing(tmp, mp):
    return tmp / "nope.csv"


@case("directory", "folder.csv: is a folder, not a file")
def _directory(tmp, mp):
    (tmp / "folder.csv").mkdir()
    return tmp / "folder.csv"


@case("device", "null: is not a regular file")
def _device(tmp, mp):
    return "/dev/null"


@case("locked-file", "locked.csv: cannot be read (permission denied)")
def _locked(tmp, mp):
    p = _csv(tmp, "locked.csv", "Date,Type\n2026-01-27,SRBM\n")
    if os.geteuid() != 0:
        p.chmod(0)
    else:  # root reads anything: make opening fail as it would for a locked file
        import nkbrief.importing.io.sniff as sniff

        def denied(*a, **k):
            raise PermissionError(13, "Permission denied", str(p))
        mp.setattr(sniff, "open", denied, raising=False)
    return p


# ---------------------------------------------------------------------- empty / blank / header-only
@case("empty-file", "empty.csv: the file is empty")
def _empty(tmp, mp):
    return _csv(tmp, "empty.csv", b"")


@case("blank-file", "blank.csv: has no data (it holds only blank space)")
def _blank(tmp, mp):
    return _csv(tmp, "blank.csv", "\n\r\n   \n\t\n")


@case("only-commas", "commas.csv: has no data (every row is blank)")
def _commas(tmp, mp):
    return _csv(tmp, "commas.csv", ",,,\n,,\n")


@case("header-only-csv", "header.csv: has a header row but no data rows")
def _header_only(tmp, mp):
    return _csv(tmp, "header.csv", "Date,Type,Distance\n\n")


@case("header-only-xlsx", "header.xlsx: has a header row (sheet 'Sheet') but no data rows")
def _header_only_xlsx(tmp, mp):
    return _csv(tmp, "header.xlsx", _xlsx_bytes([["Date", "Type"]]))


@case("empty-xlsx", "empty.xlsx (sheet 'Sheet'): has no data (every row is blank)")
def _empty_xlsx(tmp, mp):
    return _csv(tmp, "empty.xlsx", _xlsx_bytes([]))


@case("empty-json-list", "empty.json: the list of events is empty")
def _empty_json(tmp, mp):
    return _csv(tmp, "empty.json", "[]")


# ---------------------------------------------------------------------- binary and encodings
@case("binary-garbage", "garbage.csv: is binary data, not a CSV, Excel or JSON file")
def _garbage(tmp, mp):
    rnd = random.Random(4)
    return _csv(tmp, "garbage.csv", bytes(rnd.randrange(256) for _ in range(5000)))


@case("png-renamed", "picture.csv: is binary data, not a CSV, Excel or JSON file")
def _png(tmp, mp):
    return _csv(tmp, "picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)


@case("nul-bytes", "nul.csv: contains NUL bytes (the first at byte 21); it is not a text file")
def _nul(tmp, mp):
    return _csv(tmp, "nul.csv", b"Date,Type\n2026-01-27,\x00SRBM\n" + b"2026-01-28,SRBM\n" * 20)


@case("bad-utf8-after-bom", "bom.csv: starts with a UTF-8 BOM but is not valid UTF-8 (byte 18)")
def _bad_bom(tmp, mp):
    return _csv(tmp, "bom.csv", b"\xef\xbb\xbfDate,Type\n2026-\xff-27,SRBM\n")


@case("undecodable", "odd.csv: cannot be decoded as UTF-8, UTF-16, CP949 (EUC-KR) or cp1252 text")
def _undecodable(tmp, mp):
    return _csv(tmp, "odd.csv", b"Date,Type\n2026-01-27,SR\x81 BM\n")


@case("old-xls", "old.xls: is an old-format (.xls) or password-protected Excel file; save it as .xlsx "
                 "(Excel Workbook) and import that")
def _xls(tmp, mp):
    return _csv(tmp, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)


@case("text-named-xlsx", "fake.xlsx: is not a valid .xlsx workbook (it is not a ZIP archive)")
def _fake_xlsx(tmp, mp):
    return _csv(tmp, "fake.xlsx", "Date,Type\n2026-01-27,SRBM\n")


@case("markdown", "notes.md: is a document, not a data table; import CSV, TSV, .xlsx or JSON files")
def _markdown(tmp, mp):
    return _csv(tmp, "notes.md", "# Launches\n\n| Date | Type |\n| --- | --- |\n| 2026-01-27 | SRBM |\n")


# ---------------------------------------------------------------------- broken CSV
@case("unterminated-quote", "quote.csv: line 3: a quoted value is never closed (a \" is missing)")
def _quote(tmp, mp):
    return _csv(tmp, "quote.csv", 'Date,Type\n2026-01-27,SRBM\n2026-01-28,"SRBM\n2026-01-29,SRBM\n')


@case("broken-quoting", "quote2.csv: line 2: the quoting is broken (',' expected after '\"')")
def _quote2(tmp, mp):
    return _csv(tmp, "quote2.csv", 'Date,Type\n"2026-01-27"x,SRBM\n')


@case("cell-over-csv-limit", "huge.csv: line 2: a value is longer than 131,072 characters; cells are "
                             "limited to 32,000")
def _huge_csv(tmp, mp):
    return _csv(tmp, "huge.csv", "Date,Description\n2026-01-27,\"" + "y" * 200_000 + "\"\n")


@case("too-many-columns", "wide.csv: the header has 1,001 columns; the import limit is 1,000")
def _wide(tmp, mp):
    head = ",".join(["Date"] + [f"c{i}" for i in range(1000)])
    return _csv(tmp, "wide.csv", head + "\n" + "2026-01-27" + ",x" * 1000 + "\n")


@case("too-many-rows", "long.csv: has 60 rows; the import limit is 50")
def _long(tmp, mp):
    import nkbrief.importing.io.tabular as tabular

    mp.setattr(tabular, "MAX_ROWS", 50)
    return _csv(tmp, "long.csv", "Date,Type\n" + "2026-01-27,SRBM\n" * 60)


@case("no-date-column", "nodate.csv: no column is recognised as the launch date (columns: 'Foo', 'Bar'); "
                        "map one, e.g. --map \"Launch day=date\"")
def _nodate(tmp, mp):
    return _csv(tmp, "nodate.csv", "Foo,Bar\n1,2\n")


# ---------------------------------------------------------------------- broken / hostile xlsx
@case("truncated-xlsx", "cut.xlsx: is not a valid .xlsx workbook (the ZIP archive is damaged or truncated)")
def _truncated(tmp, mp):
    data = _xlsx_bytes([["Date", "Type"], ["2026-01-27", "SRBM"]])
    return _csv(tmp, "cut.xlsx", data[: len(data) // 2])


@case("corrupt-xlsx-data", "flip.xlsx: is not a valid .xlsx workbook (xl/worksheets/sheet1.xml is damaged: "
                           "Bad CRC-32 for file 'xl/worksheets/sheet1.xml')")
def _corrupt(tmp, mp):
    p = raw_xlsx(tmp / "flip.xlsx", sheet_xml([["Date", "Type"], ["2026-01-27", "SRBM"]]),
                 compress=zipfile.ZIP_STORED)
    data = bytearray(p.read_bytes())
    i = data.find(b"SRBM")
    data[i:i + 4] = b"ICBM"
    p.write_bytes(bytes(data))
    return p


@case("zip-not-workbook", "archive.xlsx: is a ZIP archive but not an Excel workbook (it has no xl/workbook.xml)")
def _zip_not_xlsx(tmp, mp):
    p = tmp / "archive.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "hello")
    return p


@case("xlsx-zip-bomb-ratio", "bomb.xlsx: looks like a ZIP bomb: xl/worksheets/sheet1.xml would expand from "
                             "48 KiB to 48 MiB (ratio 1,025:1; the limit is 100:1)")
def _bomb_ratio(tmp, mp):
    # one cell holding 48 MiB of one repeated letter: tiny compressed, huge declared
    body = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
            + b"A" * (48 * 2**20) + b"</t></is></c></row></sheetData></worksheet>")
    return raw_xlsx(tmp / "bomb.xlsx", body)


@case("xlsx-zip-bomb-declared-size", "big.xlsx: looks like a ZIP bomb: xl/worksheets/sheet1.xml would expand "
                                     "to 3,072 MiB; the limit per part is 256 MiB")
def _bomb_declared(tmp, mp):
    p = raw_xlsx(tmp / "big.xlsx", sheet_xml([["Date"], ["2026-01-27"]]))
    return _patch_member(p, "xl/worksheets/sheet1.xml", size=3 * 2**30)


@case("xlsx-lying-size", "liar.xlsx: is not a valid .xlsx workbook (xl/worksheets/sheet1.xml is damaged: "
                         "Bad CRC-32 for file 'xl/worksheets/sheet1.xml')")
def _lying(tmp, mp):
    # declares 200 bytes but holds more: zipfile stops at the declared size, the CRC fails
    p = raw_xlsx(tmp / "liar.xlsx", sheet_xml([["Date", "Type"]] + [["2026-01-27", "SRBM"]] * 50))
    return _patch_member(p, "xl/worksheets/sheet1.xml", size=200)


@case("xlsx-encrypted-part", "locked.xlsx: is encrypted; save it without a password and import that")
def _encrypted(tmp, mp):
    p = raw_xlsx(tmp / "locked.xlsx", sheet_xml([["Date"], ["2026-01-27"]]))
    return _patch_member(p, "xl/worksheets/sheet1.xml", encrypted=True)


_BOMB_DTD = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
             b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
             b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')


@case("entity-bomb-sheet", "lol.xlsx: xl/worksheets/sheet1.xml contains an XML document type declaration "
                           "(a possible entity-expansion attack); the workbook was not opened")
def _bomb_sheet(tmp, mp):
    body = _BOMB_DTD + (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>'
                        b'</sheetData></worksheet>')
    return raw_xlsx(tmp / "lol.xlsx", body)


@case("entity-bomb-shared-strings", "lol2.xlsx: xl/sharedStrings.xml contains an XML document type declaration "
                                    "(a possible entity-expansion attack); the workbook was not opened")
def _bomb_strings(tmp, mp):
    sst = _BOMB_DTD + (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
                       b'uniqueCount="1"><si><t>&lol3;</t></si></sst>')
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>')
    return raw_xlsx(tmp / "lol2.xlsx", sheet, shared_strings=sst)


@case("xxe-workbook", "xxe.xlsx: xl/workbook.xml contains an XML document type declaration (a possible "
                      "entity-expansion attack); the workbook was not opened")
def _xxe(tmp, mp):
    wb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
          b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
          b'<sheets><sheet name="&e;" sheetId="1" r:id="rId1"/></sheets></workbook>')
    return raw_xlsx(tmp / "xxe.xlsx", sheet_xml([["Date"], ["2026-01-27"]]), workbook_xml=wb)


@case("xlsx-giant-cell", "giant.xlsx: xl/worksheets/sheet1.xml holds a cell over 192,000 bytes long; cells "
                         "are limited to 32,000 characters")
def _giant(tmp, mp):
    rnd = random.Random(7)
    text = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(300_000))
    return raw_xlsx(tmp / "giant.xlsx", sheet_xml([["Date", "Description"], ["2026-01-27", text]]))


@case("xlsx-too-wide", "wide.xlsx: sheet 'Sheet1' is 16,384 columns wide; the import limit is 1,000")
def _xlsx_wide(tmp, mp):
    body = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<dimension ref="A1:XFD2"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c>'
            b'</row><row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>')
    return raw_xlsx(tmp / "wide.xlsx", body)


@case("defusedxml-off", "Excel import is disabled: openpyxl is not using defusedxml (is defusedxml "
                        "installed, and OPENPYXL_DEFUSEDXML unset?)")
def _no_defused(tmp, mp):
    mp.setattr(openpyxl, "DEFUSEDXML", False)
    return _csv(tmp, "ok.xlsx", _xlsx_bytes([["Date"], ["2026-01-27"]]))


# ---------------------------------------------------------------------- broken JSON
@case("json-syntax", "broken.json: is not valid JSON (line 1, column 24: Expecting ',' delimiter)")
def _json_syntax(tmp, mp):
    return _csv(tmp, "broken.json", '[{"date": "2026-01-27" "missile_class": "SRBM"}]')


@case("json-deep", "deep.json: is nested too deeply to be a data file")
def _json_deep(tmp, mp):
    return _csv(tmp, "deep.json", "[" * 200_000 + "]" * 200_000)


@case("json-scalars", "nums.json: is JSON but its list holds no objects (expected one object per launch event)")
def _json_scalars(tmp, mp):
    return _csv(tmp, "nums.json", "[1, 2, 3]")


@case("nagix-without-lookups", "test.en.json: the nagix lookup file(s) facility.en.json and missile.en.json "
                               "must be in the same folder")
def _nagix_alone(tmp, mp):
    return _csv(tmp, "test.en.json", '{"timeBins": [{"year": 2026, "data": []}]}')


# ---------------------------------------------------------------------- every row bad
def _all_rows(name, n):
    return f"{name}: no row could be imported ({n} rejected, 0 skipped)"


@case("impossible-dates", _all_rows("dates.csv", 3), [
    "row 2: Date '31-Feb-26' is not a date", "row 3: Date '2026-13-01' is not a date",
    "row 4: Date '0/0/2026' is not a date"])
def _dates(tmp, mp):
    return _csv(tmp, "dates.csv", "Date,Type\n31-Feb-26,SRBM\n2026-13-01,SRBM\n0/0/2026,SRBM\n")


@case("missing-dates", _all_rows("nodates.csv", 2), [
    "row 2: Date '' is required", "row 3: Date '' is required"])
def _no_dates(tmp, mp):
    return _csv(tmp, "nodates.csv", "Date,Type\n,SRBM\nUnknown,SRBM\n")


@case("coordinates-out-of-range", _all_rows("coords.csv", 3), [
    "row 2: Latitude '95' is not a latitude (-90 to 90)",
    "row 3: Longitude '200.5' is not a longitude (-180 to 180)",
    "row 4: Latitude '' and longitude must be given together"])
def _coords(tmp, mp):
    return _csv(tmp, "coords.csv", "Date,Latitude,Longitude\n2026-01-27,95,125\n2026-01-27,39,200.5\n"
                                   "2026-01-27,,125\n")


@case("negative-values", _all_rows("neg.csv", 4), [
    "row 2: Number '-2' must not be negative", "row 3: Number '0' must be from 1 to 1,000",
    "row 4: Distance '-350 km' must not be negative",
    "row 5: Distance 'between 670 and 110 km' is a range whose upper end is below its lower end"])
def _negative(tmp, mp):
    return _csv(tmp, "neg.csv", "Date,Number,Distance\n2026-01-27,-2,\n2026-01-27,0,\n2026-01-27,,-350 km\n"
                                "2026-01-27,,between 670 and 110 km\n")


@case("absurd-distance", _all_rows("far.csv", 1), ["row 2: Distance '60,000 km' must be from 0 to 20,000 km"])
def _far(tmp, mp):
    return _csv(tmp, "far.csv", 'Date,Distance\n2026-01-27,"60,000 km"\n')


@case("time-on-month-date", _all_rows("month.csv", 1),
      ["row 2: Time (KST) '15:50' is given for a date known only to the month"])
def _month_time(tmp, mp):
    return _csv(tmp, "month.csv", "Date,Time (KST)\nSep-84,15:50\n")


@case("bad-vocabulary", _all_rows("vocab.csv", 2), [
    f"row 2: Type 'Hwasong-15' is not a missile class ({CLASSES})",
    "row 3: Result 'partly' is not one of success, failure, unknown"])
def _vocab(tmp, mp):
    return _csv(tmp, "vocab.csv", "Date,Type,Result\n2026-01-27,Hwasong-15,\n2026-01-27,SRBM,partly\n")


@case("oversize-cell", _all_rows("long.csv", 1),
      [f"row 2: Description '{'x' * 77}...' is longer than 32,000 characters"])
def _oversize(tmp, mp):
    return _csv(tmp, "long.csv", f"Date,Description\n2026-01-27,{LONG}\n")


@case("oversize-cell-xlsx", _all_rows("long.xlsx", 1),
      [f"row 2: Description '{'x' * 77}...' is longer than 32,000 characters"])
def _oversize_xlsx(tmp, mp):
    return _csv(tmp, "long.xlsx", _xlsx_bytes([["Date", "Description"], ["2026-01-27", LONG]]))


@case("control-characters", _all_rows("ctl.csv", 1),
      ["row 2: Launch site 'Won\\x07san' contains control characters"])
def _control(tmp, mp):
    return _csv(tmp, "ctl.csv", "Date,Launch site\n2026-01-27,Won\x07san\n")


@case("misaligned-row", _all_rows("shift.csv", 1), ["row 2: row '4 values' does not fit the header's 2 columns"])
def _misaligned(tmp, mp):
    return _csv(tmp, "shift.csv", "Date,Type\n2026-01-27,SRBM,extra,cells\n")


@case("json-bad-records", _all_rows("recs.json", 2), [
    "row 1: date '2026-02-30' is not a date", "row 2: record '\"not an object\"' is not an object"])
def _json_records(tmp, mp):
    return _csv(tmp, "recs.json", json.dumps([{"date": "2026-02-30"}, "not an object"]))


@case("utf16-with-nul", "nul16.csv: contains NUL characters (the first at character 20); it is not a text file")
def _utf16_nul(tmp, mp):
    return _csv(tmp, "nul16.csv", "Date,Type\n2026-01-27\x00,SRBM\n" + "2026-01-28,SRBM\n" * 30, "utf-16")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "store.sqlite3"
    st = Store.open(path, seed=False)
    b = st.new_batch("manual")
    st.insert_event(schema.empty_event() | {"id": "x", "date": "2026-01-27", "missile_class": "SRBM"}, b)
    st.close()
    return path


def test_there_are_at_least_40_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("build, message, rejections", CASES)
def test_hostile_file(build, message, rejections, tmp_path, monkeypatch, capsys, db):
    files = tmp_path / "files"
    files.mkdir()
    path = build(files, monkeypatch)
    before = db.read_bytes()
    code = main(["import", str(path), "--json", "--db", str(db)])
    out, err = capsys.readouterr()
    assert db.read_bytes() == before
    assert code == 2
    assert err == f"nkbrief: {message}\n"
    doc = json.loads(out)
    assert doc["imported"] is False
    if rejections is not None:
        assert [r["message"] for r in doc["files"][0]["rejections"]] == rejections


@pytest.mark.parametrize("build, expected", [
    (_bomb_sheet, "lol.xlsx: contains XML entity declarations (a possible entity-expansion attack); "
                  "defusedxml refused to read it"),
    (_xxe, "xxe.xlsx: contains XML entity declarations (a possible entity-expansion attack); "
           "defusedxml refused to read it"),
])
def test_defusedxml_is_the_second_line(build, expected, tmp_path, monkeypatch):
    """Even with our own scan switched off, openpyxl (through defusedxml) refuses entities."""
    import nkbrief.importing.io.xlsx_guard as guard
    from nkbrief.importing.importer import FileRejected, read_file

    monkeypatch.setattr(guard, "_scan_part", lambda *a, **k: None)
    with pytest.raises(FileRejected) as e:
        read_file(build(tmp_path, monkeypatch))
    assert str(e.value) == expected
