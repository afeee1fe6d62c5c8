"""Helpers for the core tests: workbook builders, a canonical dump of a store, a launch event."""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from pathlib import Path

import openpyxl


def write_xlsx(path: Path, sheets: dict[str, list[list]], cached: dict[tuple[str, str], object] | None = None,
               hidden: tuple[str, ...] = ()) -> Path:
    """A workbook with ``sheets`` (name -> rows; ``None`` cells are blank).

    ``cached`` gives formula cells their cached result, as Excel saves it:
    {(sheet, "C2"): 700}. The formula text itself is the cell value in ``sheets``.
    """
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        if name in hidden:
            ws.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if cached:
        data = _patch_cached(data, list(sheets), cached)
    path.write_bytes(data)
    return path


def _patch_cached(data: bytes, names: list[str], cached: dict) -> bytes:
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if m:
                sheet = names[int(m.group(1)) - 1]
                text = body.decode("utf-8")
                for (sname, ref), value in cached.items():
                    if sname != sheet:
                        continue
                    t = ' t="str"' if isinstance(value, str) else ""
                    text, n = re.subn(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/>',
                                      lambda mm: f'<c r="{ref}"{mm.group(1)}{t}><f>{mm.group(2)}</f>'
                                                 f'<v>{value}</v>', text)
                    assert n == 1, (ref, text[:400])
                body = text.encode("utf-8")
            zout.writestr(info, body)
    return out.getvalue()


def raw_xlsx(path: Path, sheet_xml: bytes, *, shared_strings: bytes | None = None,
             workbook_xml: bytes | None = None, compress: int = zipfile.ZIP_DEFLATED,
             extra: dict[str, bytes] | None = None) -> Path:
    """A hand-made minimal workbook whose parts we control byte for byte (hostile tests)."""
    ct = (b'<?xml version="1.0" encoding="UTF-8"?>'
          b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          b'<Default Extension="xml" ContentType="application/xml"/>'
          b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          + (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
             if shared_strings is not None else b"")
          + b'</Types>')
    rels = (b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            b'</Relationships>')
    wb = workbook_xml or (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wbrels = (b'<?xml version="1.0" encoding="UTF-8"?>'
              b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
              + (b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                 if shared_strings is not None else b"")
              + b'</Relationships>')
    with zipfile.ZipFile(path, "w", compress) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", wbrels)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared_strings is not None:
            z.writestr("xl/sharedStrings.xml", shared_strings)
        for name, body in (extra or {}).items():
            z.writestr(name, body)
    return path


def sheet_xml(rows: list[list[str]]) -> bytes:
    """Inline-string sheet XML for rows of text."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
    for i, r in enumerate(rows, start=1):
        out.append(f'<row r="{i}">')
        for j, v in enumerate(r):
            ref = f"{chr(65 + j)}{i}"
            out.append(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>')
        out.append("</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out).encode("utf-8")


def canonical_dump(db: Path) -> dict:
    """Everything that makes up the dataset, minus timestamps: events, missiles,
    statements, calendar, batches (without times) and the audit (without times)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = {}
        for table, cols, order in (
            ("events", "*", "id"), ("missiles", "*", "id"), ("statements", "*", "id"),
            ("calendar", "*", "id"),
            ("batches", "id, kind, file_name, sha256, user, added, updated, identical, rejected, "
                        "undone_utc IS NOT NULL", "id"),
            ("audit", "id, user, action, table_name, record_id, field, old_value, new_value, batch_id", "id"),
        ):
            rows = con.execute(f"SELECT {cols} FROM {table} ORDER BY {order}").fetchall()
            if table == "events":
                names = [d[0] for d in con.execute("SELECT * FROM events LIMIT 0").description]
                skip = names.index("updated_utc")
                rows = [tuple(v for i, v in enumerate(r) if i != skip) for r in rows]
            out[table] = rows
        return out
    finally:
        con.close()


def dataset_dump(store) -> dict:
    """Events, missiles and statements only (what an export carries), as sorted tuples."""
    ev = [tuple(r) for r in store._execute(
        "SELECT id, date, date_precision, time_kst, time_utc, missile_name, missile_class, count, "
        "distance_km, distance_km_max, apogee_km, apogee_km_max, launch_site, latitude, longitude, "
        "landing_area, outcome, confirmation, leader_attended, description, sources, notes "
        "FROM events ORDER BY id").fetchall()]
    mi = [tuple(r) for r in store._execute(
        "SELECT event_id, seq, missile_name, missile_class, time_utc, time_kst, distance_km, "
        "distance_km_max, apogee_km, apogee_km_max, landing_area, outcome, confirmation, source_ref, notes "
        "FROM missiles ORDER BY event_id, seq, id").fetchall()]
    st = [tuple(r) for r in store._execute(
        "SELECT event_id, actor, summary, source FROM statements ORDER BY event_id, actor, summary").fetchall()]
    return {"events": ev, "missiles": mi, "statements": st}


#: The 27 January 2026 launch as :func:`launch_event` makes it (the store tests' one event).
LAUNCH_ID = "2026-01-27-srbm-north-of-pyongyang"


def launch_event(**kw) -> dict:
    """A valid event for the 27 January 2026 launch, with ``kw`` over its fields; its id from
    its date, class and site."""
    from nkbrief.model import schema

    ev = schema.empty_event() | {"date": "2026-01-27", "missile_class": "SRBM", "launch_site": "North of Pyongyang",
                                 "count": 2, "sources": ["a"]} | kw
    ev["id"] = schema.make_event_id(ev["date"], ev["missile_class"], ev["launch_site"])
    return ev
