"""The expat sheet reader (nkbrief.importing.io.xlsx_rows) gives exactly the values openpyxl's
read-only ``iter_rows(values_only=True)`` gives, on every shape of sheet it claims to read;
anything else it hands back to openpyxl (``Unsupported``), so the import's result or error is
then openpyxl's own. Entity and DTD declarations are refused as defusedxml refuses them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from nkbrief.importing.importer import read_file
from nkbrief.importing.io import tabular, xlsx_rows
from nkbrief.importing.io.xlsx_rows import MAIN_NS, Unsupported, sheet_values
from nkbrief.model.rules import Refused

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def _plain(rows):
    """Rows with the reader's refused cells made comparable."""
    return [tuple(("Refused", v.shown, v.reason) if isinstance(v, Refused) else v for v in r)
            for r in rows]


def _both(path: Path, sheet: str | None = None, max_row: int | None = None):
    """(expat reader's rows, openpyxl's rows) of a sheet, read as the importer reads it."""
    tabular._guard_number_cells()
    out = []
    for fast in (True, False):
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            ws = wb[sheet or wb.sheetnames[0]]
            ws.reset_dimensions()
            if fast:
                it = sheet_values(ws, max_row)
                assert it is not None
            else:
                it = ws.iter_rows(max_row=max_row, values_only=True)
            out.append(_plain(list(it)))
        finally:
            wb.close()
    return out


def _styled_workbook(tmp_path: Path, epoch1904: bool = False) -> tuple[Path, dict[str, str]]:
    """A workbook openpyxl writes (shared strings), and the style index of each kind of
    date cell in it: {"date": s, "datetime": s, "time": s, "delta": s}."""
    wb = openpyxl.Workbook()
    if epoch1904:
        wb.epoch = openpyxl.utils.datetime.MAC_EPOCH
    ws = wb.active
    ws.title = "Launches"
    ws.append(["Date", "Type", "Count", "Fired", "Flight", "Note", "OK"])
    ws.append([dt.date(2026, 1, 27), "SRBM", 2, dt.datetime(2026, 1, 27, 5, 30), dt.time(5, 30),
               "약 350 km 비행", True])
    ws.append([dt.date(2025, 10, 22), "SRBM", 1, None, dt.timedelta(hours=30, minutes=5),
               "over 700 km", False])
    ws.append([None, None, None, None, None, None, None])
    ws.append([dt.date(1984, 4, 9), "Scud-B", 3, 1.5, -2, "=1+1", "text with _x000D_ escape"])
    ws["A1"].number_format = "General"
    ws["E3"].number_format = "[h]:mm:ss"
    p = tmp_path / ("styled1904.xlsx" if epoch1904 else "styled.xlsx")
    wb.save(p)
    with zipfile.ZipFile(p) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    style = {}
    for key, ref in (("date", "A2"), ("datetime", "D2"), ("time", "E2"), ("delta", "E3")):
        m = re.search(rf'<c r="{ref}" s="(\d+)"', xml)
        assert m, ref
        style[key] = m.group(1)
    return p, style


#: The shared strings every hand-made workbook carries (as Excel writes them): plain text,
#: rich text in runs, and text with a phonetic reading that is not part of it.
SHARED_STRINGS = (
    '<sst xmlns="{ns}" count="3" uniqueCount="3"><si><t>Hwasong-11</t></si>'
    '<si><r><rPr><b/></rPr><t>Rich</t></r><r><t xml:space="preserve"> text</t></r></si>'
    '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si></sst>'
).format(ns=MAIN_NS)


def _with_sheet_data(src: Path, dest: Path, sheet_data: str, *, root: str | None = None) -> Path:
    """``src`` with its first sheet's XML replaced by ``sheet_data`` inside a worksheet root,
    and a shared string table (:data:`SHARED_STRINGS`)."""
    with zipfile.ZipFile(src) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts["xl/worksheets/sheet1.xml"] = (root or (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN_NS}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheetPr><outlinePr summaryBelow="1" summaryRight="1"/></sheetPr><dimension ref="A1"/>'
        '<sheetData>{data}</sheetData></worksheet>')).format(data=sheet_data).encode("utf-8")
    parts["xl/sharedStrings.xml"] = SHARED_STRINGS.encode("utf-8")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", (b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/'
                              b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                              b"</Relationships>"))
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
    return dest


def _hand_made(tmp_path: Path, name: str, sheet_data: str, **kw) -> Path:
    src, style = _styled_workbook(tmp_path)
    return _with_sheet_data(src, tmp_path / name, sheet_data.format(**style), **kw)


# Every shape the reader claims to read, each compared with openpyxl's reading of it.
SHAPES = {
    "rich inline text, phonetic run left out": (
        '<row r="1"><c r="A1" t="inlineStr"><is><r><rPr><b/><sz val="11"/></rPr><t>Bold</t></r>'
        '<r><t xml:space="preserve"> and plain</t></r><rPh sb="0" eb="1"><t>ふり</t></rPh>'
        '<phoneticPr fontId="1"/></is></c></row>'),
    "shared strings: plain, rich and with a phonetic reading": (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s" s="{date}">'
        '<v>2</v></c><c r="D1" t="s"><v>0</v></c></row>'),
    "plain and run text together": (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>lead </t><r><t>run</t></r></is></c></row>'),
    "formula string, error, boolean, ISO date, unknown type": (
        '<row r="1"><c r="A1" t="str"><f>B1&amp;"x"</f><v>SRBMx</v></c><c r="B1" t="e"><v>#N/A</v></c>'
        '<c r="C1" t="b"><v>1</v></c><c r="D1" t="b"><v>0</v></c>'
        '<c r="E1" t="d"><v>2026-01-27T05:30:00</v></c><c r="F1" t="zz"><v>odd</v></c></row>'),
    "formula without a cached value, shared formula": (
        '<row r="1"><c r="A1"><f>1+1</f></c><c r="B1"><f t="shared" ref="B1:B2" si="0">A1*2</f>'
        '<v>4</v></c></row><row r="2"><c r="B2"><f t="shared" si="0"/><v>8</v></c></row>'),
    "rows and cells without references, gaps": (
        '<row r="2"><c><v>12</v></c><c><v></v></c><c><v>1.5E3</v></c><c t="s"><v>0</v></c></row>'
        '<row><c r="C3"><v>7</v></c></row><row r="7"><c r="B7"><v>-0.25</v></c></row>'),
    "cells out of column order: the row ends at its last cell": (
        '<row r="1"><c r="D1"><v>4</v></c><c r="B1"><v>2</v></c></row>'
        '<row r="2"><c r="B2"><v>2</v></c><c r="XFD2"><v>16384</v></c></row>'),
    "empty rows, styled and spanned": (
        '<row r="1" spans="1:3" ht="20" customHeight="1"/><row r="2"><c r="A2" s="{date}"/></row>'
        '<row r="4"><c r="A4" t="inlineStr"/><c r="B4" t="inlineStr"><is><t/></is></c>'
        '<c r="C4" t="inlineStr"><is><t></t></is></c></row>'),
    "date, date-time, time and duration styles": (
        '<row r="1"><c r="A1" s="{date}"><v>46049</v></c><c r="B1" s="{datetime}"><v>46049.229166666664</v></c>'
        '<c r="C1" s="{time}"><v>0.22916666666666666</v></c><c r="D1" s="{delta}"><v>1.2534722222222223</v></c>'
        '<c r="E1" s="{date}"><v>30</v></c><c r="F1" s="{date}"><v>61</v></c></row>'),
    "entities, character references, CDATA, line ends": (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>a &amp; b &lt;c&gt; &#10;line&#13;end &#xD55C;</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t><![CDATA[<not a tag> & such]]></t></is></c>'
        '<c r="C1" t="inlineStr"><is><t>two\r\nlines</t></is></c><c r="D1" t="inlineStr"><is>'
        '<t xml:space="preserve">  padded  </t></is></c></row>'),
    "a number too long to convert": (
        '<row r="1"><c r="A1"><v>123456789012345678901234567890</v></c><c r="B1"><v>-0001</v></c>'
        '<c r="C1"><v>1e400</v></c></row>'),
    "an unknown element in a cell": (
        '<row r="1"><c r="A1"><v>1</v><note><y><z/></y></note></c></row>'),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_shape_reads_as_openpyxl_reads_it(tmp_path, shape):
    p = _hand_made(tmp_path, "shape.xlsx", SHAPES[shape])
    fast, slow = _both(p)
    assert fast == slow
    assert any(any(v is not None for v in r) for r in slow) or shape.startswith("empty")


def test_a_date_beyond_the_calendar_is_an_error_value_as_in_openpyxl(tmp_path):
    p = _hand_made(tmp_path, "overflow.xlsx", '<row r="1"><c r="A1" s="{date}"><v>99999999</v></c></row>')
    with pytest.warns(UserWarning, match="outside the limits for dates"):
        fast, slow = _both(p)
    assert fast == slow == [("#VALUE!",)]


def test_a_prefixed_namespace_reads_the_same(tmp_path):
    root = ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData>{{data}}</x:sheetData></x:worksheet>')
    data = ('<x:row x:r="1" r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>SRBM</x:t></x:is></x:c>'
            '<x:c r="B1"><x:v>350</x:v></x:c></x:row>')
    p = _hand_made(tmp_path, "prefixed.xlsx", data, root=root)
    fast, slow = _both(p)
    assert fast == slow == [("SRBM", 350)]


def test_rows_in_another_namespace_are_not_rows_for_either(tmp_path):
    root = ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<worksheet xmlns="{MAIN_NS}" xmlns:o="urn:other"><sheetData>{{data}}</sheetData></worksheet>')
    data = '<row r="1"><c r="A1"><v>1</v></c></row><o:row r="2"><o:c r="A2"><o:v>2</o:v></o:c></o:row>'
    fast, slow = _both(_hand_made(tmp_path, "other.xlsx", data, root=root))
    assert fast == slow == [(1,)]


def test_workbooks_as_openpyxl_writes_them(tmp_path):
    p, _ = _styled_workbook(tmp_path)
    fast, slow = _both(p)
    assert fast == slow and len(slow) == 5 and slow[1][0] == dt.datetime(2026, 1, 27)
    p1904, _ = _styled_workbook(tmp_path, epoch1904=True)
    fast, slow = _both(p1904)
    assert fast == slow and slow[1][0] == dt.datetime(2026, 1, 27)

    wb = openpyxl.Workbook(write_only=True)  # inline strings, no shared string table
    ws = wb.create_sheet("Launches")
    for i in range(300):
        ws.append([f"2026-01-{i % 28 + 1:02d}", "SRBM", i, f"{i * 1.5} km", None, "Sunan" if i % 2 else ""])
    p2 = tmp_path / "write_only.xlsx"
    wb.save(p2)
    fast, slow = _both(p2)
    assert fast == slow and len(slow) == 300
    for stop in (1, 17, 300, 400):
        fast, slow = _both(p2, max_row=stop)
        assert fast == slow and len(slow) == min(stop, 300)


def test_a_limit_inside_a_gap_gives_the_empty_rows_up_to_it(tmp_path):
    p = _hand_made(tmp_path, "gap.xlsx", '<row r="1"><c r="A1"><v>1</v></c></row><row r="10"><c r="A10"><v>2</v></c></row>')
    for stop in (5, 10, 12):
        fast, slow = _both(p, max_row=stop)
        assert fast == slow and len(slow) == min(stop, 10)


@pytest.mark.skipif(shutil.which("soffice") is None and shutil.which("libreoffice") is None,
                    reason="LibreOffice is not installed")
def test_the_cns_database_as_libreoffice_saves_it(tmp_path):
    """A real file from a real writer: the CNS missile test database (cp1252 CSV) opened and
    saved as .xlsx by LibreOffice (shared strings, dates and numbers as typed cells)."""
    src = DATA / "north_korea_missile_test_database.csv"
    csv = tmp_path / "cns.csv"
    csv.write_bytes(src.read_bytes())
    office = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([office, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
                    "--infilter=CSV:44,34,1252,1", "--convert-to", "xlsx", "--outdir", str(tmp_path), str(csv)],
                   check=True, capture_output=True, timeout=180)
    p = tmp_path / "cns.xlsx"
    fast, slow = _both(p)
    assert fast == slow
    from openpyxl.reader.strings import read_string_table

    with zipfile.ZipFile(p) as z:
        table = z.read("xl/sharedStrings.xml")
    assert xlsx_rows.shared_strings(io.BytesIO(table)) == read_string_table(io.BytesIO(table))
    assert len(slow) > 100 and any(isinstance(v, (int, float)) for v in slow[1])
    assert any(isinstance(v, dt.datetime) for r in slow for v in r)  # typed dates, read the same


def _summary(pf) -> tuple:
    """What an import shows the analyst: columns, rows accepted and rejected with their
    messages, notes, and every incoming event's fields."""
    return ("read", pf.accepted_rows, pf.rows_total, [(c.header, c.field) for c in pf.columns],
            [str(r) for r in pf.rejections], pf.notes,
            [sorted((k, repr(v)) for k, v in i.event.items()) for i in pf.incoming])


# Shapes the reader leaves to openpyxl: its result (or its error) is the import's.
LEFT_TO_OPENPYXL = {
    "markup inside a value": '<row r="1"><c r="A1"><v>1<b/>2</v></c></row>',
    "markup inside a text": '<row r="1"><c r="A1" t="inlineStr"><is><t>a<b/>c</t></is></c></row>',
    "an element in a row that is not a cell": '<row r="1"><c r="A1"><v>1</v></c><foo/></row>',
    "two values in a cell": '<row r="1"><c r="A1"><v>1</v><v>2</v></c></row>',
    "a lower-case reference": '<row r="1"><c r="b1"><v>1</v></c></row>',
    "a reference without a row": '<row r="1"><c r="B"><v>1</v></c></row>',
    "a row number with a decimal point": '<row r="2.0"><c r="A2"><v>1</v></c></row>',
    "a row inside a cell": '<row r="1"><c r="A1"><f><row r="5"/></f><v>1</v></c></row>',
    "a shared string that is not there": '<row r="1"><c r="A1" t="s"><v>999</v></c></row>',
    "a cut-off document": '<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2',
}


def _header_plus(data: str) -> str:
    return ('<row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c><c r="B1" t="inlineStr"><is>'
            '<t>Type</t></is></c></row>' + data.replace('r="1"', 'r="2"').replace("A1", "A2")
            .replace('"b1"', '"b2"').replace('r="2.0"', 'r="3.0"'))


@pytest.mark.parametrize("shape", list(LEFT_TO_OPENPYXL))
def test_unusual_sheets_are_left_to_openpyxl(tmp_path, monkeypatch, shape):
    p = _hand_made(tmp_path, "unusual.xlsx", _header_plus(LEFT_TO_OPENPYXL[shape]))
    tabular._guard_number_cells()
    wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    try:
        ws = wb[wb.sheetnames[0]]
        ws.reset_dimensions()
        with pytest.raises(Unsupported):
            list(sheet_values(ws))
    finally:
        wb.close()

    def outcome():
        try:
            return _summary(read_file(p))
        except Exception as e:  # the message the analyst sees
            return ("refused", e.__class__.__name__, str(e))

    with_fast = outcome()
    monkeypatch.setattr(tabular, "sheet_values", lambda *a, **k: None)
    assert outcome() == with_fast


def test_whole_imports_agree_with_and_without_the_expat_reader(tmp_path, monkeypatch):
    """The importer's whole result (rows accepted, rejections and their messages, notes)
    on workbooks of every kind above is the same when the sheet is read by openpyxl."""
    files = [_styled_workbook(tmp_path)[0], _styled_workbook(tmp_path, epoch1904=True)[0]]
    files += [_hand_made(tmp_path, f"s{i}.xlsx", _header_plus(d)) for i, d in enumerate(SHAPES.values())]

    def results():
        out = []
        for f in files:
            try:
                out.append(_summary(read_file(f)))
            except Exception as e:
                out.append(("refused", str(e)))
        return out

    fast = results()
    monkeypatch.setattr(tabular, "sheet_values", lambda *a, **k: None)
    assert results() == fast
    assert sum(1 for r in fast if r[0] != "refused" and r[1] > 0) >= 2


def _parse(xml: bytes):
    sheet = xlsx_rows._Sheet([], set(), set(), openpyxl.utils.datetime.WINDOWS_EPOCH, int)
    return list(xlsx_rows._rows(lambda: io.BytesIO(xml), sheet, None))


def test_entity_and_dtd_declarations_are_refused_as_defusedxml_refuses_them():
    body = f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>'
    assert _parse(body.encode()) == [(1,)]
    with pytest.raises(xlsx_rows.XmlRefused, match="document type"):
        _parse(b'<?xml version="1.0"?><!DOCTYPE worksheet>' + body.encode())
    with pytest.raises(xlsx_rows.XmlRefused):
        _parse(b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaa">]>' + body.encode())
    with pytest.raises(xlsx_rows.XmlRefused):
        xlsx_rows.shared_strings(io.BytesIO(b'<!DOCTYPE sst [<!ENTITY a "aaaa">]>' + _sst("<si><t>&a;</t></si>")))
    # and each refusal stays one: never handed back to openpyxl as "unsupported"
    assert not issubclass(xlsx_rows.XmlRefused, Unsupported)


def _utf16_sheet(tmp_path: Path, doctype: str) -> Path:
    root = (f'<?xml version="1.0" encoding="UTF-16"?>{doctype}'
            f'<worksheet xmlns="{MAIN_NS}"><dimension ref="A1:B3"/><sheetData>{{data}}</sheetData></worksheet>')
    data = _header_plus('<row r="1"><c r="A1" t="inlineStr"><is><t>2026-01-27</t></is></c>'
                        '<c r="B1" t="inlineStr"><is><t>SRBM</t></is></c></row>')
    p = _hand_made(tmp_path, "utf16.xlsx", data, root=root)
    with zipfile.ZipFile(p) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].decode("utf-8").encode("utf-16")
    with zipfile.ZipFile(p, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    return p


def test_a_utf16_sheet_is_read_whole(tmp_path):
    """XML may be UTF-16 (Excel writes UTF-8): the guard's byte searches cannot find where its
    values end, so every row is read, not none."""
    p = _utf16_sheet(tmp_path, "")
    fast, slow = _both(p)
    assert fast == slow == [("Date", "Type"), ("2026-01-27", "SRBM")]
    pf = read_file(p)
    assert pf.accepted_rows == 1 and pf.incoming[0].event["date"] == "2026-01-27"


def test_a_utf16_sheet_with_a_dtd_is_refused(tmp_path):
    """The guard's byte scan cannot see a UTF-16 ``<!DOCTYPE``; the reader's parser refuses
    it, and the analyst reads why."""
    from nkbrief.importing.io.sniff import FileRejected

    with pytest.raises(FileRejected) as e:
        read_file(_utf16_sheet(tmp_path, "<!DOCTYPE worksheet>"))
    assert str(e.value) == ("utf16.xlsx: sheet 'Launches' contains an XML document type declaration (a possible "
                            "entity-expansion attack); it was not read")


def test_an_unknown_worksheet_object_is_read_by_openpyxl():
    assert sheet_values(object()) is None


# ---------------------------------------------------------------- shared strings
def _sst(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}">{body}</sst>'.encode()


STRING_TABLES = {
    "as hand-made workbooks carry it": SHARED_STRINGS.encode(),
    "empty items, entities, openpyxl's x005F_ removal": _sst(
        '<si/><si><t/></si><si><t></t></si><si><t>a &amp; b&#10;c</t></si><si><t>_x005F_x000D_ kept?</t></si>'
        '<si><t xml:space="preserve">  spaced  </t></si><si><r><t>run only</t></r></si>'),
    "runs with properties and phonetic runs everywhere": _sst(
        '<si><rPh sb="0" eb="1"><t>ph</t></rPh><r><rPr><rFont val="Calibri"/></rPr><t>A</t></r>'
        '<t>plain</t><r><t>B</t></r><phoneticPr fontId="0"/></si><si><r><rPr/></r></si>'),
    "a prefixed namespace": (f'<x:sst xmlns:x="{MAIN_NS}"><x:si><x:t>prefixed</x:t></x:si>'
                             '<x:si><x:r><x:t>run</x:t></x:r></x:si></x:sst>').encode(),
}


@pytest.mark.parametrize("table", list(STRING_TABLES))
def test_shared_strings_read_as_openpyxl_reads_them(table):
    from openpyxl.reader.strings import read_string_table

    xml = STRING_TABLES[table]
    assert xlsx_rows.shared_strings(io.BytesIO(xml)) == read_string_table(io.BytesIO(xml))


@pytest.mark.parametrize("xml", [_sst("<si><t>a<b/>c</t></si>"), _sst("<si><si><t>x</t></si></si>"),
                                 _sst("<si><r><t>x</t><si/></r></si>"), _sst("<si><t>cut off</t></si><si><t>")])
def test_unusual_string_tables_are_left_to_openpyxl(tmp_path, xml):
    with pytest.raises(Unsupported):
        xlsx_rows.shared_strings(io.BytesIO(xml))


def test_loading_goes_back_to_openpyxls_reader_for_an_unusual_table(tmp_path):
    """With the fast table reader installed, a workbook whose table it leaves to openpyxl
    loads with openpyxl's strings (the part is read again from its start)."""
    from openpyxl.reader.strings import read_string_table

    xlsx_rows.install_string_table_reader()
    p = _hand_made(tmp_path, "odd_sst.xlsx", '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>')
    odd = _sst("<si><t>first</t></si><si><t>a<b/>c</t></si>")
    with zipfile.ZipFile(p) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts["xl/sharedStrings.xml"] = odd
    with zipfile.ZipFile(p, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    try:
        ws = wb[wb.sheetnames[0]]
        ws.reset_dimensions()
        values = list(ws.iter_rows(values_only=True))
        assert values == [tuple(read_string_table(io.BytesIO(odd)))] == [("first", "a")]
    finally:
        wb.close()


def test_a_utf16_string_table_with_a_dtd_is_refused(tmp_path):
    from nkbrief.importing.io.sniff import FileRejected

    p = _hand_made(tmp_path, "sst16.xlsx", '<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    with zipfile.ZipFile(p) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts["xl/sharedStrings.xml"] = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE sst>'
                                     + SHARED_STRINGS).encode("utf-16")
    with zipfile.ZipFile(p, "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    with pytest.raises(FileRejected) as e:
        read_file(p)
    assert str(e.value) == ("sst16.xlsx: its shared strings contain an XML document type declaration (a "
                            "possible entity-expansion attack); the workbook was not opened")
