"""The political calendar as CSV: read and check a file, import it into the store, export it.

The format is the bundled ``resources/calendar.csv``: header
``id,date,end_date,category,title,description,sources``, one entry per row, several sources
in one cell separated by " ; ". Importing is all-or-nothing: every row is checked first, and
if any row has a problem nothing is written and every problem is reported as
"row 5: date '2026-02-30' is not a date" (row = the line in the file, header on line 1).
A clean file is written in one store transaction with an import batch and an audit row per
change. Entries whose id is already in the store are updated (each changed field audited);
identical ones are counted and left alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import atomic
from ..model import parse, schema
from ..analysis.context import CATEGORY_LABELS
from ..importing.io import ReadReport, RowProblem, csv_records, decode_bytes
from ..progress import Progress, report
from ..store import Store, StoreError

HEADER = list(schema.CALENDAR_FIELDS)
REQUIRED_COLUMNS = ("date", "category", "title")
SOURCE_SEPARATOR = " ; "
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CalendarProblem(RowProblem):
    """A RowProblem that reads naturally when the cell is empty ("row 5: title is required")."""

    def __str__(self) -> str:
        if self.value in (None, ""):
            return f"row {self.row}: {self.column} {self.reason}"
        return super().__str__()


class CalendarImportError(StoreError):
    """The file was rejected; ``problems`` lists every reason, nothing was written."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {problems[0]}{more}; nothing was imported")


@dataclass
class CalendarImportResult:
    """What an import did; ``ids_added``/``old_values`` let the UI undo it."""

    batch_id: int
    added: int = 0
    updated: int = 0
    identical: int = 0
    ids_added: list[str] = field(default_factory=list)
    old_values: dict[str, dict] = field(default_factory=dict)


# ------------------------------------------------------------------ one entry
def _category(v: str) -> str | None:
    s = v.strip().lower().replace("-", "_").replace(" ", "_")
    if s in schema.CALENDAR_CATEGORIES:
        return s
    for code, label in CATEGORY_LABELS.items():
        if s == label.lower().replace("-", "_").replace(" ", "_"):
            return code
    return None


def _unformula(v: str) -> str:
    """Undo the apostrophe our export puts before a formula-like cell."""
    if len(v) > 1 and v[0] == "'" and v[1] in "=+-@\t\r":
        return v[1:]
    return v


def _day(v: str) -> str:
    iso, precision = parse.parse_date(v)
    if precision != "day":
        raise ValueError(f"is known only to the {precision}; a calendar entry needs a day (YYYY-MM-DD)")
    return iso


def split_calendar_sources(cell: str) -> list[str]:
    """Split a sources cell on " ; " (a semicolon with a space on either side) and on line
    breaks. A bare ";" stays: URLs carry them (``index.do;jsessionid=...``)."""
    return [s.strip() for s in re.split(r"\s+;\s*|\s*;\s+|\r?\n", cell or "") if s.strip()]


def make_calendar_id(category: str, date: str, title: str, taken=()) -> str:
    """A readable id for a new entry: 'summit-2026-01-05-lee-xi-summit' (accents dropped,
    '-2', '-3'... added while the id is in ``taken``)."""
    dashed = re.sub(r"[\u2010-\u2015\u2212]", "-", title)  # "Trump–Kim" -> "trump-kim", not "trumpkim"
    ascii_title = unicodedata.normalize("NFKD", dashed).encode("ascii", "ignore").decode()
    base = f"{category.replace('_', '-')}-{date}-{schema.slug(ascii_title, 30)}"
    eid, n = base, 1
    while eid in taken:
        n += 1
        eid = f"{base}-{n}"
    return eid


def parse_calendar_row(raw: dict, row: int = 0) -> tuple[dict | None, list[CalendarProblem]]:
    """Turn one row of text cells into a calendar entry, or say exactly what is wrong.

    ``raw`` maps column names to cell text (missing columns count as blank). A blank id is
    filled in from category, date and title. Used by the CSV reader and the editor dialog.
    """
    problems: list[CalendarProblem] = []

    def bad(column: str, value, reason: str) -> None:
        problems.append(CalendarProblem(row, column, value, reason))

    cells = {k: _unformula(str(raw.get(k) or "")).replace("\u00a0", " ").strip() for k in HEADER}
    entry: dict = {"id": cells["id"] or None, "date": None, "end_date": None, "category": None,
                   "title": cells["title"] or None, "description": cells["description"],
                   "sources": split_calendar_sources(cells["sources"])}
    for col in ("date", "end_date"):
        if not cells[col]:
            if col == "date":
                bad("date", "", "is required")
            continue
        try:
            entry[col] = _day(cells[col])
        except ValueError as e:
            bad(col, cells[col], str(e))
    if not cells["category"]:
        bad("category", "", "is required")
    else:
        entry["category"] = _category(cells["category"])
        if entry["category"] is None:
            bad("category", cells["category"],
                f"is not a calendar category ({', '.join(schema.CALENDAR_CATEGORIES)})")
    if not entry["title"]:
        bad("title", "", "is required")
    if entry["date"] and entry["end_date"] and entry["end_date"] < entry["date"]:
        bad("end_date", cells["end_date"], f"is before date ({entry['date']})")
    if entry["id"] and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,119}", entry["id"]):
        bad("id", entry["id"], "may hold only letters, digits and . _ : - (at most 120)")
    for col in ("title", "description"):
        if len(cells[col]) > schema.MAX_TEXT_CHARS:
            bad(col, cells[col][:40] + "…", f"is longer than {schema.MAX_TEXT_CHARS:,} characters")
    for s in entry["sources"]:
        if len(s) > schema.MAX_TEXT_CHARS:
            bad("sources", s[:40] + "…", f"is longer than {schema.MAX_TEXT_CHARS:,} characters")
    if problems:
        return None, problems
    if not entry["id"]:
        entry["id"] = make_calendar_id(entry["category"], entry["date"], entry["title"])
    rep = schema.validate_calendar_entry(entry)  # the store's own rules, as a last check
    for p in rep.problems:
        bad(p.field, p.value, p.reason)
    return (None, problems) if problems else (entry, [])


# ------------------------------------------------------------------ files
def read_calendar_csv(path: str | os.PathLike) -> tuple[list[dict], ReadReport]:
    """Read and check a calendar CSV. Returns (entries, report); entries is empty when the
    report has problems (all-or-nothing). File-level problems are reported on row 1."""
    p = Path(path)
    rep = ReadReport(source=p.name)
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        rep.problems.append(CalendarProblem(1, "file", None, f"is larger than {MAX_FILE_BYTES // 2**20} MB"))
        return [], rep
    text = decode_bytes(p.read_bytes(), rep, preferred=("utf-8-sig", "cp1252"))
    try:
        header, rows = csv_records(text)
        header = [h.lower() for h in header]
    except csv.Error as e:
        rep.problems.append(CalendarProblem(1, "file", None, f"is not a readable CSV ({e})"))
        return [], rep
    if not header:
        rep.problems.append(CalendarProblem(1, "file", None, "is empty (expected the header "
                                            + ",".join(HEADER) + ")"))
        return [], rep
    for col in header:
        if col and col not in HEADER:
            rep.problems.append(CalendarProblem(1, "column", col,
                                                f"is not a calendar column ({', '.join(HEADER)})"))
    for col in REQUIRED_COLUMNS:
        if col not in header:
            rep.problems.append(CalendarProblem(1, "column", col, "is missing from the header"))
    if len(set(h for h in header if h)) != len([h for h in header if h]):
        rep.problems.append(CalendarProblem(1, "header", ",".join(header), "names a column twice"))
    if len(rows) > MAX_ROWS:
        rep.problems.append(CalendarProblem(1, "file", None, f"has more than {MAX_ROWS:,} rows"))
    if rep.problems:
        return [], rep
    entries: list[dict] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        rep.rows_read += 1
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
            rep.problems.append(CalendarProblem(line, "row", None,
                                                f"has {len(cells)} cells but the header has {len(header)}"))
            continue
        raw = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}
        entry, probs = parse_calendar_row(raw, line)
        rep.problems.extend(probs)
        if entry is None:
            continue
        if not (raw.get("id") or "").strip():
            entry["id"] = make_calendar_id(entry["category"], entry["date"], entry["title"], seen)
        if entry["id"] in seen:
            rep.problems.append(CalendarProblem(line, "id", entry["id"], f"repeats row {seen[entry['id']]}"))
            continue
        seen[entry["id"]] = line
        entries.append(entry)
    return ([] if rep.problems else entries), rep


def import_calendar_csv(store: Store, path: str | os.PathLike, *,
                        progress: Progress | None = None) -> CalendarImportResult:
    """Check ``path`` and write it to the store in one transaction (audited, one batch).

    Raises :class:`CalendarImportError` listing every problem; the store is then unchanged.
    """
    p = Path(path)
    entries, rep = read_calendar_csv(p)
    if not rep.ok:
        raise CalendarImportError(p.name, rep.messages())
    sha = hashlib.sha256(p.read_bytes()).hexdigest()
    return import_calendar_entries(store, entries, file_name=p.name, sha256=sha, progress=progress)


def import_calendar_entries(store: Store, entries: list[dict], *, file_name: str | None = None,
                            sha256: str | None = None, progress: Progress | None = None) -> CalendarImportResult:
    """Write checked entries (from :func:`read_calendar_csv`) in one transaction and one
    import batch: new ids are added, changed ones updated field by field, the rest counted."""
    with store.write():
        batch = store.new_batch("import", file_name=file_name, sha256=sha256,
                                details={"kind": "calendar", "rows": len(entries)})
        res = CalendarImportResult(batch_id=batch)
        for i, entry in enumerate(entries):
            if i % 200 == 0:
                report(progress, i, len(entries), "importing calendar entries")
            old = store.get_calendar_entry(entry["id"])
            if old is None:
                store.insert_calendar_entry(entry, batch)
                res.added += 1
                res.ids_added.append(entry["id"])
            elif _same(old, entry):
                res.identical += 1
            else:
                changes = {k: v for k, v in entry.items() if k != "id"}
                res.old_values[entry["id"]] = store.update_calendar_entry(entry["id"], changes,
                                                                          batch_id=batch)
                res.updated += 1
        store.finish_batch(batch, added=res.added, updated=res.updated, identical=res.identical)
    report(progress, len(entries), len(entries), "done")
    return res


def undo_import(store: Store, result: CalendarImportResult) -> None:
    """Reverse an import: delete what it added, put back what it changed (audited)."""
    with store.write():
        for eid in result.ids_added:
            if store.get_calendar_entry(eid) is not None:
                store.delete_calendar_entry(eid, batch_id=result.batch_id)
        for eid, old in result.old_values.items():
            store.update_calendar_entry(eid, old, batch_id=result.batch_id)


def _same(old: dict, new: dict) -> bool:
    def norm(d: dict) -> dict:
        return {k: (d.get(k) or ([] if k == "sources" else None)) for k in HEADER}
    return norm(old) == norm(new)


def _safe_cell(v: object) -> str:
    s = "" if v is None or (isinstance(v, float) and v != v) else str(v)
    return "'" + s if s.startswith(_FORMULA_START) else s


def calendar_csv_text(calendar: pd.DataFrame) -> str:
    """The calendar frame as CSV text in the bundled format (formula-like cells escaped)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for rec in calendar.to_dict("records"):
        row = []
        for col in HEADER:
            v = rec.get(col)
            if col == "sources":
                v = SOURCE_SEPARATOR.join(v or [])
            row.append(_safe_cell(v))
        w.writerow(row)
    return buf.getvalue()


def export_calendar_csv(calendar: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the calendar atomically (:func:`nkbrief.atomic.atomic_write`: temp file +
    os.replace, normal file permissions). Returns the path."""
    text = calendar_csv_text(calendar)

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    return atomic.atomic_write(Path(path), write, suffix=".csv.tmp")


# ------------------------------------------------------------------ single edits
def add_entry(store: Store, raw: dict) -> dict:
    """Check and add one entry (text cells as in the CSV). Returns the stored entry."""
    entry, problems = parse_calendar_row(raw)
    if problems:
        raise StoreError("; ".join(_field_message(p) for p in problems))
    if not (raw.get("id") or "").strip():
        taken = set(store.calendar_frame()["id"])
        entry["id"] = make_calendar_id(entry["category"], entry["date"], entry["title"], taken)
    if store.get_calendar_entry(entry["id"]) is not None:
        raise StoreError(f"a calendar entry with id {entry['id']!r} already exists")
    store_entry(store, entry)
    return entry


def store_entry(store: Store, entry: dict) -> None:
    """Write one checked entry as its own manual batch: the one place an entry is created
    (``calendar-add``, the calendar editor and its redo all come here)."""
    with store.write():
        store.insert_calendar_entry(entry, store.new_batch("manual", details={"kind": "calendar"}))


def edit_entry(store: Store, entry_id: str, raw_changes: dict) -> tuple[dict, dict]:
    """Check and apply changes given as text cells. Returns (old values, new values)."""
    old = store.get_calendar_entry(entry_id)
    if old is None:
        raise StoreError(f"no calendar entry with id {entry_id!r}")
    if "id" in raw_changes and raw_changes["id"] not in (None, "", entry_id):
        raise StoreError("a calendar entry's id cannot be changed")
    merged = entry_cells(old) | {k: v for k, v in raw_changes.items() if v is not None}
    merged["id"] = entry_id
    entry, problems = parse_calendar_row(merged)
    if problems:
        raise StoreError("; ".join(_field_message(p) for p in problems))
    changes = {k: v for k, v in entry.items() if k != "id" and old.get(k) != v}
    previous = store.update_calendar_entry(entry_id, changes) if changes else {}
    return previous, {k: changes[k] for k in previous}


def delete_entry(store: Store, entry_id: str) -> dict:
    """Delete one entry (audited). Returns the removed entry."""
    return store.delete_calendar_entry(entry_id)


def entry_cells(entry: dict) -> dict:
    """A stored entry as text cells (the inverse of :func:`parse_calendar_row`)."""
    out = {k: ("" if entry.get(k) is None else str(entry.get(k))) for k in HEADER if k != "sources"}
    out["sources"] = SOURCE_SEPARATOR.join(entry.get("sources") or [])
    return out


def _field_message(p: RowProblem) -> str:
    """'date '2026-02-30' is not a date' (a problem without the row, for single edits)."""
    if p.value in (None, ""):
        return f"{p.column} {p.reason}"
    return f"{p.column} '{p.value}' {p.reason}"
