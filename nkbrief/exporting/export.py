"""Export the dataset for colleagues: CSV, XLSX or JSON, written atomically, formula-safe.

Every format round-trips: importing an export into an empty store gives the same events
(the importer recognises nkbrief's own header and then takes every value as written).
The .xlsx and .json exports also carry the per-missile rows and stakeholder statements;
the .csv export holds the events only (one flat table).

Formula safety, and how the round trip stays exact:

- **CSV** follows OWASP: text that starts with ``= + - @``, tab, CR or LF (or a full-width
  ＝ ＋ － ＠) gets a leading apostrophe, so a spreadsheet shows it as text. So that the
  importer can remove exactly the apostrophes the export added, text that already starts
  with apostrophes followed by such a character gets one more; the importer strips one
  apostrophe only from text that is apostrophes followed by a trigger character. Numbers
  (a longitude of -33.5) are numbers and are left alone.
- **XLSX**: text is always a string cell (never a formula), with ``quotePrefix`` when it
  looks like a formula. Characters XML cannot hold (and CR, which XML would turn into LF)
  are written with Excel's own ``_xHHHH_`` escape, which the importer decodes.
- **JSON** is plain data.

Writes go to a temporary file in the target folder, then ``os.replace``: a crash leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import json
import os  # noqa: F401 - kept: tests patch export.os.fsync (the writes are in nkbrief.atomic)
from collections.abc import Callable, Iterable
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import atomic, private_tmp, write_guard
from ..write_guard import write_error  # noqa: F401 - the exports' own name for it
from ..common import CSV_TRIGGERS, UserError, csv_escape, csv_unescape, xlsx_escape, xlsx_unescape  # noqa: F401
from ..importing.convert import sources_value
from ..importing.io.tabular import _NotAnObject
from ..model import schema
from ..common import shown
from ..progress import Progress, report
from ..store import frame_records

if TYPE_CHECKING:
    from ..importing.importer import ParsedFile

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json"}
JSON_FORMAT = "nkbrief-dataset"
JSON_VERSION = 1

class ExportError(UserError):
    """An export that could not be written, phrased for the analyst."""


def needs_quote_prefix(text: str) -> bool:
    """Text an xlsx reader could take for a formula (also after leading spaces)."""
    return text.startswith(CSV_TRIGGERS) or text.lstrip(" \u00a0\u3000").startswith(CSV_TRIGGERS)


def sources_cell(sources: list[str]) -> str:
    """Sources as one cell: 'a ; b' when that splits back exactly, else a JSON list."""
    if not sources:
        return ""
    joined = " ; ".join(sources)
    try:
        if sources_value(joined, True) == list(sources):
            return joined
    except ValueError:
        pass
    return json.dumps(list(sources), ensure_ascii=False)


# ---------------------------------------------------------------------------- atomic writes
def atomic_write(path: Path, write: Callable[[Path], None], keep: Iterable = ()) -> None:
    """Run ``write(temp_path)`` then move the temp file over ``path`` in one step
    (:func:`nkbrief.atomic.atomic_write`: the write guard first, normal permissions).
    ``keep``: files that must not be written (the file being imported)."""
    path = Path(path)
    try:
        atomic.atomic_write(path, write, suffix=".part", keep=keep)
    except write_guard.WriteRefused as e:
        raise ExportError(str(e)) from None
    except OSError as e:
        raise ExportError(write_error(path, e)) from None


def write_csv_rows(path: Path, header: list[str], rows: Iterable[list], keep: Iterable = ()) -> None:
    """A formula-safe UTF-8 (with BOM, for Excel) CSV of arbitrary rows, written atomically
    (never over the store or a file in ``keep``)."""
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow([csv_escape(h) for h in header])
            for r in rows:
                w.writerow(["" if v is None else csv_escape(v) if isinstance(v, str) else v for v in r])
    atomic_write(path, write, keep)


# ---------------------------------------------------------------------------- rejected rows
def write_rejected_rows(parsed: ParsedFile, out_path: str | Path) -> int:
    """Save the rejected rows, as they were, with the reasons, for the colleague. Returns n.
    Never over the file being imported or the store (:mod:`nkbrief.write_guard`); raises
    :class:`ExportError`."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for p in parsed.rejections:
        reasons[p.row].append(f"{p.column} '{p.value}' {p.reason}" if p.value not in (None, "")
                              else f"{p.column} {p.reason}")
    header = ["File row", "Problem", *parsed.header]
    rows = []
    for n in sorted(parsed.rejected_raw):
        cells = parsed.rejected_raw[n]
        rows.append([n, "; ".join(reasons[n]), *[_cell_text(c) for c in cells]])
    write_csv_rows(Path(out_path), header, rows, keep=[parsed.path])
    return len(rows)


def _cell_text(v: object) -> object:
    if isinstance(v, _NotAnObject):
        return repr(v)
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return v


# ---------------------------------------------------------------------------- the dataset
@dataclass
class ExportResult:
    path: Path
    format: str
    events: int
    missiles: int
    statements: int


def collect(store, *, date_from: str | None = None, date_to: str | None = None,
            classes: Iterable[str] | None = None, ids: Iterable[str] | None = None) -> dict:
    """The events (and their missiles and statements) to export, as plain records.

    The store's frame picks and orders the events; the values are read from the table
    itself, so that nothing passes through pandas' missing-value handling (a NULL
    ``leader_attended`` next to a False one must stay NULL).
    """
    df = store.events_frame(date_from=date_from, date_to=date_to, classes=classes)
    order = list(df["id"])
    if ids is not None:
        wanted = set(ids)
        order = [i for i in order if i in wanted]
    keep = set(order)
    cols = list(schema.EVENT_FIELDS)
    raw = {}
    for row in store.event_values(cols):
        if row[0] in keep:
            raw[row[0]] = row
    events = []
    for ev_id in order:
        ev = {}
        for n, v in zip(cols, raw[ev_id]):
            kind = schema.EVENT_FIELDS[n]
            if kind == "list":
                v = json.loads(v) if v else []
            elif kind == "bool" and v is not None:
                v = bool(v)
            ev[n] = v
        for k in ("description", "notes"):
            ev[k] = ev[k] or ""
        events.append(ev)
    missiles = []
    for m in frame_records(store.missiles_frame(order)) if events else []:
        missiles.append({k: _typed(schema.MISSILE_FIELDS[k], m.get(k)) for k in schema.MISSILE_FIELDS})
    statements = [{k: s.get(k) for k in schema.STATEMENT_FIELDS}
                  for s in frame_records(store.statements_frame()) if s.get("event_id") in keep]
    return {"events": events, "missiles": missiles, "statements": statements}


def _typed(kind: str, v: object) -> object:
    if v is None:
        return None
    if kind == "count":
        return int(v)
    if kind == "km":
        return float(v)
    return v


def export_dataset(store, path: str | Path, *, date_from: str | None = None, date_to: str | None = None,
                   classes: Iterable[str] | None = None, ids: Iterable[str] | None = None,
                   progress: Progress | None = None) -> ExportResult:
    """Write the selected events to ``path`` (.csv, .xlsx or .json, by its suffix)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExportError(f"cannot export to {shown(path.name)}: use a file name ending in .csv, .xlsx "
                          "or .json")
    try:
        write_guard.check(path)  # before any work
    except write_guard.WriteRefused as e:
        raise ExportError(str(e)) from None
    data = collect(store, date_from=date_from, date_to=date_to, classes=classes, ids=ids)
    report(progress, 0, len(data["events"]), "Writing")
    if fmt == "csv":
        write_csv(path, data["events"], progress)
    elif fmt == "xlsx":
        write_xlsx(path, data, progress)
    else:
        write_json(path, data, {"date_from": date_from, "date_to": date_to,
                                "classes": list(classes) if classes else None})
    n = len(data["events"])
    report(progress, n, n, "Written")
    return ExportResult(path, fmt, n, len(data["missiles"]) if fmt != "csv" else 0,
                        len(data["statements"]) if fmt != "csv" else 0)


def _csv_value(kind: str, v: object) -> object:
    if v is None:
        return ""
    if kind == "list":
        return csv_escape(sources_cell(v))
    if kind == "bool":
        return "yes" if v else "no"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return csv_escape(v)
    return v


def write_csv(path: Path, events: list[dict], progress: Progress | None = None) -> None:
    kinds = schema.EVENT_FIELDS

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(list(kinds))
            for i, ev in enumerate(events):
                if i % 5000 == 0:
                    report(progress, i, len(events), "Writing CSV")
                w.writerow([_csv_value(k, ev.get(n)) for n, k in kinds.items()])
    atomic_write(path, write)


def write_json(path: Path, data: dict, scope: dict) -> None:
    doc = {"format": JSON_FORMAT, "version": JSON_VERSION,
           "exported_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "scope": scope, **data}

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")
    atomic_write(path, write)


def _xlsx_cell(ws, kind: str, v: object, bold=None):
    from openpyxl.cell import WriteOnlyCell

    if v is None:
        return None
    if kind == "list":
        v = sources_cell(v)
        if not v:
            return None
    if kind == "date" and isinstance(v, str):
        try:
            d = _dt.date.fromisoformat(v)
        except ValueError:
            d = None
        if d is not None and len(v) == 10:
            c = WriteOnlyCell(ws, value=d)
            c.number_format = "yyyy-mm-dd"
            return c
    if isinstance(v, str):
        c = WriteOnlyCell(ws)
        text = xlsx_escape(v)
        c.value = text
        c.data_type = "s"  # never a formula, never an error value
        if needs_quote_prefix(text):
            c.quotePrefix = True
        if bold is not None:
            c.font = bold
        return c
    if isinstance(v, float) and float("%.16g" % v) != v:
        # openpyxl writes numbers with 16 significant digits; a few doubles need 17 to
        # come back exactly. Hand it the shortest exact text, still as a number cell.
        c = WriteOnlyCell(ws)
        c.value = repr(v)
        c.data_type = "n"
        return c
    return WriteOnlyCell(ws, value=v)


def write_xlsx(path: Path, data: dict, progress: Progress | None = None) -> None:
    import openpyxl
    from openpyxl.styles import Font

    def write(tmp: Path) -> None:
        with contextlib.suppress(OSError):
            private_tmp.use_for_openpyxl()  # the sheets stream through private files
        wb = openpyxl.Workbook(write_only=True)
        try:
            _fill(wb)
            buf = io.BytesIO()
            wb.save(buf)
        except BaseException:
            private_tmp.discard_openpyxl_files(wb)
            raise
        tmp.write_bytes(buf.getvalue())

    def _fill(wb) -> None:
        bold = Font(bold=True)
        for title, fields, rows in (("Events", schema.EVENT_FIELDS, data["events"]),
                                    ("Missiles", schema.MISSILE_FIELDS, data["missiles"]),
                                    ("Statements", schema.STATEMENT_FIELDS, data["statements"])):
            ws = wb.create_sheet(title)
            ws.freeze_panes = "A2"
            ws.append([_xlsx_cell(ws, "str", n, bold) for n in fields])
            for i, r in enumerate(rows):
                if title == "Events" and i % 5000 == 0:
                    report(progress, i, len(rows), "Writing xlsx")
                ws.append([_xlsx_cell(ws, k, r.get(n)) for n, k in fields.items()])
    atomic_write(path, write)


__all__ = ["ExportError", "ExportResult", "export_dataset", "collect", "atomic_write", "write_csv_rows",
           "csv_escape", "csv_unescape", "xlsx_escape", "xlsx_unescape", "sources_cell", "FORMATS"]
