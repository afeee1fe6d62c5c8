"""Import a colleague's file: read, map, validate, group, merge with the store, apply, undo.

The steps, each usable on its own (the dialog shows the result of each):

1. :func:`read_file` reads any supported file into a :class:`ParsedFile`: the detected
   format, encoding, sheet and header row, the column mapping, and every input row
   accounted for as accepted (part of an incoming event), rejected (with row, column,
   value and reason) or skipped (with a reason). Nothing is written.
2. :func:`plan_merge` matches each incoming event to the store (same id, else same date,
   launch site and class) and marks it new, identical or conflicting, with field diffs.
3. :func:`apply_import` (in :mod:`nkbrief.importing.merge`, re-exported here) writes the plan as one import batch in one transaction: new
   events, and for conflicts the chosen resolution (keep mine, take theirs, keep both).
   A crash or kill at any moment leaves the store as before or as after.
4. :func:`undo_batch` removes exactly what a batch added and restores what it overwrote,
   from the audit log.
"""

from __future__ import annotations

import calendar as _cal
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress, zip_longest
from operator import itemgetter
from pathlib import Path

from . import convert, grouping, mapping
from ..analysis import catalogue
from ..common import gc_paused, sha256_file
from ..model import parse, schema
from .incoming import EventBlock, Incoming, incoming_column
from .io import RowProblem
from .io import public as public_io
from .io.sniff import FileRejected, check_path
from .io.tabular import ColumnRows, Table, _NotAnObject, read_table
from .merge import (RESOLUTION_LABELS, RESOLUTIONS, ImportError_, ImportResult, MergeItem, MergePlan,
                    UndoResult, apply_import, import_batches, last_undoable_batch, plan_merge,
                    undo_batch, unique_id)
from ..progress import Progress, report
from ..store import StoreError

PREVIEW_ROWS = 200
KIND_LABELS = {
    "table": "Table of launch events",
    "nkbrief": "nkbrief dataset export",
    "cns": "CNS North Korea Missile Test Database",
    "nagix": "nagix nk-missile-tests (test.en.json)",
    "csis": "CSIS Beyond Parallel provocations database",
    "nagix-facilities": "nagix facility list (a lookup for test.en.json)",
    "nagix-missiles": "nagix missile list (a lookup for test.en.json)",
}


# ============================================================================ reading
@dataclass
class ImportOptions:
    """Choices the analyst can make before the rows are checked."""

    sheet: str | None = None
    header_row: int | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # header -> field / "ignore" / ""
    rows: str | None = None  # "events" or "missiles" (per-missile rows, grouped); None: detect
    date_order: str | None = None  # "dmy" or "mdy" for slash dates like 03/04/2026; None: settle from the file


class DateOrderNeeded(FileRejected):
    """Slash dates that read both ways (03/04/2026) and no row that settles the order: the
    analyst must say day-first or month-first (the dialog asks; ``--date-order``)."""

    def __init__(self, message: str, example: str, row: int, readings: tuple[str, str] = ("", "")):
        super().__init__(message)
        self.example, self.row, self.readings = example, row, readings  # (day first, month first)


@dataclass
class ColumnMap:
    index: int
    header: str
    field: str  # a mapping.TARGETS entry, mapping.UNMAPPED (kept in notes) or mapping.IGNORE
    unit: str | None = None
    auto: bool = True

    @property
    def label(self) -> str:
        if self.field == mapping.IGNORE:
            return "(ignored)"
        if not self.field:
            return "(kept in notes)"
        return mapping.FIELD_LABELS.get(self.field, self.field)


@dataclass
class PreviewRow:
    row: int
    cells: list
    status: str  # "accepted", "rejected" or "skipped"
    message: str = ""


@dataclass
class ParsedFile:
    """A file read and checked, ready to merge. Nothing has been written."""

    path: Path
    name: str
    sha256: str
    kind: str
    format_label: str
    encoding_label: str | None
    delimiter: str | None
    sheet: str | None
    sheets: list[str]
    header_row: int | None
    header: list[str]
    columns: list[ColumnMap]
    rows_mode: str
    rows_total: int = 0
    accepted_rows: int = 0
    rejections: list[RowProblem] = field(default_factory=list)
    rejected_raw: dict[int, list] = field(default_factory=dict)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    incoming: Sequence[Incoming] = field(default_factory=list)  # a list, or an EventBlock
    preview: list[PreviewRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blank_rows: int = 0
    title_rows: int = 0
    exact: bool = False
    options: ImportOptions = field(default_factory=ImportOptions)
    #: the file's dates may be UTC dates (a public database, or a UTC time column): an event
    #: without a time then matches a store event a day either side (see merge.plan_merge)
    utc_dates: bool = False
    #: how slash dates were read: "dmy", "mdy" or None (the file has no ambiguous ones)
    date_order: str | None = None

    @property
    def not_stated_rows(self) -> int:
        """Accepted rows whose event arrives with no confirmation ("not stated")."""
        inc = self.incoming
        if isinstance(inc, EventBlock):
            return inc.column("confirmation").count("not stated")
        return sum(len(i.rows) for i in inc if i.event["confirmation"] == "not stated")

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def rejected_rows(self) -> int:
        return len(self.rejected_raw) if self.rejected_raw else len({p.row for p in self.rejections})

    @property
    def is_lookup(self) -> bool:
        return self.kind in ("nagix-facilities", "nagix-missiles")

    @property
    def wholly_rejected(self) -> bool:
        """True when the file has rows but none could be used."""
        return not self.incoming and not self.is_lookup

    def check_accounting(self) -> None:
        """Every input row is accepted, rejected or skipped (raises AssertionError if not)."""
        acc = self.accepted_rows + self.rejected_rows + len(self.skipped)
        assert acc == self.rows_total, (acc, self.rows_total)


def read_file(path: str | Path, options: ImportOptions | None = None, *,
              progress: Progress | None = None) -> ParsedFile:
    """Read and check one file (no store needed). Raises :class:`FileRejected`."""
    opts = options or ImportOptions()
    p = check_path(path)
    table = read_table(p, sheet=opts.sheet, header_row=opts.header_row, progress=progress)
    try:
        sha = sha256_file(p)
    except OSError as e:
        raise FileRejected(f"{p.name}: cannot be read ({e.strerror or e})") from None
    pf = ParsedFile(path=p, name=p.name, sha256=sha, kind=table.kind, format_label=table.format_label,
                    encoding_label=table.encoding_label, delimiter=table.delimiter, sheet=table.sheet,
                    sheets=table.sheets, header_row=table.header_row, header=table.header, columns=[],
                    rows_mode="events", blank_rows=table.blank_rows, title_rows=table.title_rows,
                    notes=list(table.notes), options=opts)
    if table.header and not table.rows and table.kind in ("table", "nkbrief"):
        where = f" (sheet '{table.sheet}')" if table.sheet else ""
        raise FileRejected(f"{p.name}: has a header row{where} but no data rows")
    if table.title_rows:
        pf.notes.append(f"{table.title_rows} row(s) above the header (titles) were not read as data")
    if table.kind in ("nagix-facilities", "nagix-missiles"):
        pf.notes.append("a lookup file with no launches of its own; import test.en.json from the same "
                        "folder to use it")
        return pf
    if table.kind == "nagix":
        pf.utc_dates = True
        missing = public_io.nagix_lookup_missing(p)
        if missing:
            raise FileRejected(f"{p.name}: the nagix lookup file(s) {' and '.join(missing)} must be in "
                               "the same folder")
        _from_public(pf, _run_public(public_io.read_nagix, p), table)
        return pf
    pf.utc_dates = any("utc" in h.lower() or "gmt" in h.lower() for h in table.header)
    header_fields = set(table.header) - {"missiles"}
    if table.kind == "nkbrief" or schema.is_export_header(header_fields):
        pf.kind, pf.exact = "nkbrief", True
    elif not opts.mapping and opts.rows in (None, "missiles") and public_io.is_cns(table.header) \
            and opts.header_row is None and (
                (table.format == "delimited" and table.encoding in _PUBLIC_READER_ENCODINGS)
                or table.format == "xlsx"):
        # any CNS edition, on whichever sheet holds it: grouped into launches with the
        # bundled build's KST rules (nkbrief.importing.grouping)
        pf.kind = "cns"
        pf.utc_dates = True
        pf.columns = _columns(table.header, {}, exact=False)
        pf.rows_mode = "missiles"
        pf.notes.append(f"CNS edition: {public_io.cns_edition(table.header)}")
        _from_public(pf, _run_public(lambda q: public_io.read_cns(q, sheet=table.sheet), p), table)
        return pf
    elif not opts.mapping and public_io.is_csis(table.header) and table.format == "delimited" \
            and opts.header_row is None and table.encoding in _PUBLIC_READER_ENCODINGS:
        pf.kind = "csis"
        pf.columns = _columns(table.header, {}, exact=False)
        _from_public(pf, _run_public(public_io.read_csis, p), table)
        return pf
    elif public_io.is_cns(table.header):
        pf.kind = "cns"
    pf.columns = _columns(table.header, opts.mapping, exact=pf.exact)
    if any(c.field == "date" and c.unit == "utc" for c in pf.columns):
        pf.notes.append("the dates are UTC dates: a row with a time takes the Korean date; a row without "
                        "one keeps its date and matches a stored launch a day either side")
    if opts.rows:
        pf.rows_mode = opts.rows
    elif pf.kind == "cns":
        pf.rows_mode = "missiles"
    if not pf.exact:
        pf.date_order = _date_order(pf, table, opts.date_order,
                                    "the CNS database writes them" if pf.kind == "cns" else "")
    _parse_rows(pf, table, progress)
    if pf.exact:
        _attach_extras(pf, table)
    return pf


#: The public-file readers decode UTF-8 or cp1252 themselves; other encodings go the generic way.
_PUBLIC_READER_ENCODINGS = ("utf-8", "utf-8-sig", "cp1252")


_ORDER_WORDS = {"dmy": "day first", "mdy": "month first"}


def _date_order(pf: ParsedFile, table: Table, chosen: str | None, known: str = "") -> str | None:
    """How to read the file's slash dates. A row like 13/04/2026 settles day-first for the
    whole column, 04/13/2026 month-first; the analyst's choice wins over both (rows that
    contradict it are then rejected). With only dates like 03/04/2026 and no choice, the
    file cannot be read: :class:`DateOrderNeeded` says so. Dotted dates are always day-first.
    ``known`` names a format whose slash dates are month first (the CNS database's)."""
    idx = [c.index for c in pf.columns if c.field == "date"]
    if not idx:
        return chosen
    rows = table.rows
    found: dict[str, tuple[str, int]] = {}  # what the column says -> (first example, its row)
    for i in idx:
        if isinstance(rows, ColumnRows):
            values = rows.columns[i] if i < len(rows.columns) else []
            rownums = rows.rownums
        else:
            values = [c[i] if i < len(c) else None for _, c in rows]
            rownums = [n for n, _ in rows]
        distinct = [v for v in dict.fromkeys(values) if v.__class__ is str and "/" in v]  # in file order
        for v in distinct:
            kind = parse.slash_order(v)
            if kind and kind not in found:
                found[kind] = (v, rownums[values.index(v)])
    settled = [k for k in ("dmy", "mdy") if k in found]
    if chosen is None and known and "dmy" not in found:  # a format whose order is known (CNS: month first)
        if found:
            pf.notes.append(f"slash dates read month first, as {known}")
        return "mdy"
    if chosen:
        if found:
            pf.notes.append(f"slash dates read {_ORDER_WORDS[chosen]}, as chosen")
        return chosen
    if len(settled) == 1:
        v, row = found[settled[0]]
        pf.notes.append(f"slash dates read {_ORDER_WORDS[settled[0]]}, as row {row} ('{v}') shows")
        return settled[0]
    if not settled and "ambiguous" not in found:
        return None
    v, row = found.get("ambiguous") or found["dmy"]
    if settled:
        why = (f"rows {found['dmy'][1]} ('{found['dmy'][0]}') and {found['mdy'][1]} ('{found['mdy'][0]}') "
               "contradict each other")
    else:
        why = "no row settles which"
    a, b = (int(x) for x in v.strip().split("/")[:2])
    dm = f"{a} {_cal.month_name[b]}" if b <= 12 else "not a date"
    md = f"{_cal.month_name[a]} {b}" if a <= 12 else "not a date"
    raise DateOrderNeeded(f"{pf.name}: the date '{v}' (row {row}) reads day first as {dm} and month first "
                          f"as {md}, and {why}; choose the order with --date-order dmy or --date-order mdy",
                          v, row, (dm, md))


def _run_public(reader, p: Path) -> public_io.PublicResult:
    try:
        return reader(p)
    except FileRejected:
        raise
    except Exception as e:  # a reader bug must not reach the analyst as a traceback
        raise FileRejected(f"{p.name}: could not be read ({e.__class__.__name__}: {e})") from None


def _columns(header: list[str], overrides: dict[str, str], exact: bool) -> list[ColumnMap]:
    if exact:
        cols = [ColumnMap(i, h, h if h in schema.EVENT_FIELDS else mapping.IGNORE)
                for i, h in enumerate(header)]
    else:
        cols = [ColumnMap(i, h, m.field, m.unit) for i, (h, m) in
                enumerate(zip(header, mapping.auto_mapping(header)))]
    lookup = {h.lower(): i for i, h in enumerate(header)}
    for col, target in overrides.items():
        i = lookup.get(col.strip().lower())
        if i is None:
            continue  # checked by the caller against all files
        c = cols[i]
        c.field, c.auto = target, False
        c.unit = mapping.match_header(c.header).unit if target == mapping.match_header(c.header).field else None
        if target and target not in (mapping.IGNORE, mapping.NOTES):
            for other in cols:  # one column per field: an override takes it from the automatic one
                if other is not c and other.field == target and other.auto:
                    other.field = mapping.UNMAPPED
    return cols


def _from_public(pf: ParsedFile, res: public_io.PublicResult, table: Table) -> None:
    pf.rows_total = res.rows_total
    # the readers note their own decoding; the sniffed encoding is reported already
    pf.notes.extend(n for n in res.notes if not n.startswith("not valid utf-8"))
    pf.rejections = list(res.rejections)
    pf.skipped = list(res.skipped)
    raw_by_row = {n: c for n, c in table.rows}
    pf.rejected_raw = {p.row: raw_by_row.get(p.row, []) for p in res.rejections}
    used_ids: set[str] = set()
    for ev, missiles, rows in res.events:
        ev = public_io.event_fields(ev)
        ev["id"] = unique_id(ev["id"], used_ids)
        provided = frozenset(k for k, v in ev.items() if v not in (None, "", []) and k != "id")
        pf.incoming.append(Incoming(ev, missiles, [], rows, provided))
        pf.accepted_rows += len(rows)
    status: dict[int, tuple[str, str]] = {}
    for p in res.rejections:
        prev = status.get(p.row, ("", ""))[1]
        status[p.row] = ("rejected", f"{prev}; {p}" if prev else str(p))
    for n, reason in res.skipped:
        status[n] = ("skipped", reason)
    rows_for_preview = table.rows if table.rows else [(n, []) for n in range(1, res.rows_total + 1)]
    for n, cells in rows_for_preview[:PREVIEW_ROWS]:
        st, msg = status.get(n, ("accepted", ""))
        pf.preview.append(PreviewRow(n, cells, st, msg))


# ---------------------------------------------------------------------------- row parsing
_PRIVATE = frozenset({"_precision_from_date", "_utc_clock"})
_TIME_FIELDS = frozenset({"time_kst", "time_utc"})
_EVENT_FIELDS = tuple(schema.EVENT_FIELDS)
#: What a field holds when no cell gave it a value (sources: a new empty list per event).
_DEFAULTS = schema.empty_event() | {"sources": None}
_EXACT_DEFAULTS = dict.fromkeys(schema.EVENT_FIELDS) | {"description": "", "notes": ""}
#: The first date whose KST-to-UTC conversion stays in four-digit years (see kst_to_utc_many).
_FIRST_FAST_DATE = "1000-01-02"


@dataclass
class _RowContext:
    """What checking the rows of one file needs (both paths share it, and its caches)."""

    pf: ParsedFile
    width: int
    mapped: list[tuple[int, str, convert.ColumnConverter]]  # (column index, header, converter)
    unmapped: list[tuple[int, str, convert.ColumnConverter]]  # kept in the notes
    field_header: dict[str, str]
    exact: bool
    all_fields: frozenset
    text_only: bool  # every cell is text (a delimited file), so no cell needs a type check

    def problems(self, rownum: int, probs: list[tuple[str, object, str]]) -> list[RowProblem]:
        return [RowProblem(rownum, self.field_header.get(f, f), v, r) for f, v, r in probs]


def _row_context(pf: ParsedFile, table: Table) -> _RowContext:
    cols = pf.columns
    if not any(c.field == "date" for c in cols):
        shown = ", ".join(f"'{h[:40]}'" + ("..." if len(h) > 40 else "") for h in pf.header[:12]) \
            + (", ..." if len(pf.header) > 12 else "")
        raise FileRejected(f"{pf.name}: no column is recognised as the launch date (columns: {shown}); "
                           "map one, e.g. --map \"Launch day=date\"")
    mapped = [(c.index, c.header, convert.ColumnConverter(c.field, pf.date_order if c.field == "date" else c.unit,
                                                          pf.exact))
              for c in cols if c.field and c.field != mapping.IGNORE]
    unmapped = [(c.index, c.header, convert.ColumnConverter(convert.UNMAPPED_TEXT, None, False))
                for c in cols if not c.field]
    field_header = {c.field: c.header for c in cols if c.field and c.field != mapping.IGNORE}
    for f in ("date_precision", "time_kst", "time_utc"):
        field_header.setdefault(f, field_header.get("date", f) if f == "date_precision" else f)
    # An export written before schema 3 has no qualifier or provenance columns: it states nothing
    # about them, so they are not compared or taken.
    absent = frozenset(schema.EVENT_FIELDS_V2) - frozenset(pf.header) if pf.exact else frozenset()
    return _RowContext(pf, len(pf.header), mapped, unmapped, field_header, pf.exact,
                       frozenset(schema.EVENT_FIELDS) - {"id"} - absent, table.format == "delimited")


def _check_row(ctx: _RowContext, rownum: int, cells) -> tuple[list[RowProblem], dict | None, frozenset | None]:
    """One row, cell by cell: (problems, event, provided fields). The reference path."""
    problems: list[RowProblem] = []
    ncells = len(cells)
    if cells and cells[0].__class__ is _NotAnObject:
        problems.append(RowProblem(rownum, "record", repr(cells[0]), "is not an object"))
    elif ncells > ctx.width and any(c not in (None, "") for c in cells[ctx.width:]):
        problems.append(RowProblem(rownum, "row", f"{ncells} values",
                                   f"does not fit the header's {ctx.width} columns"))
    vals: dict = {}
    if not problems:
        for idx, hdr, cc in ctx.mapped:
            v = cells[idx] if idx < ncells else None
            if v is None or v == "":
                continue
            ok, res = cc.cell(v)
            if ok:
                vals.update(res)
            else:
                problems.append(RowProblem(rownum, hdr, v, res))
    extra: list[str] = []
    if not problems:
        for idx, hdr, cc in ctx.unmapped:
            v = cells[idx] if idx < ncells else None
            if v is None or v == "":
                continue
            ok, res = cc.cell(v)
            if not ok:
                problems.append(RowProblem(rownum, hdr, v, res))
                continue
            t = res[convert.UNMAPPED_TEXT]
            if t is not None:
                extra.append(f"Colleague column '{hdr}': {t}")
    if problems:
        return problems, None, None
    exact = ctx.exact
    given = vals.keys() - _PRIVATE
    ev, probs, notes = convert.finish_event(vals, exact)
    if probs:
        return ctx.problems(rownum, probs), None, None
    if not exact and (notes or extra):
        ev["notes"] = "\n".join(x for x in (ev["notes"], *notes, *extra) if x)
    if ev["id"] is None:
        ev["id"] = catalogue.event_id(ev["date"], ev["missile_class"], ev["launch_site"])
    probs = convert.cross_check(ev)
    if probs:
        return ctx.problems(rownum, probs), None, None
    if exact:
        return [], ev, ctx.all_fields
    provided = set(given)
    if "date" in given:
        provided.add("date_precision")
    if given & _TIME_FIELDS:
        provided |= _TIME_FIELDS
    if ev["notes"]:
        provided.add("notes")
    provided.discard("id")
    return [], ev, frozenset(provided)


def _rows_by_column(ctx: _RowContext, rows: Sequence, progress: Progress | None
                    ) -> tuple[dict[str, list], bytearray, list]:
    """What :func:`_check_row` gives for each row, computed a column at a time: (the
    events as columns, field -> one value per row; a mark for each row that must go the
    reference way; the fields each row provides).

    Every column is converted at once (:meth:`convert.ColumnConverter.column`), then the
    events are completed field by field over all rows. A row goes the reference way
    (:func:`_check_row`) when anything about it is out of the ordinary: a rejected cell, a
    malformed row, two columns filling the same field, a UTC time to reconcile, a date
    before 1000, or any rule of ``convert.cross_check`` it might break. So every rejection
    message comes from the reference path, and the events built here equal its events
    (``tests/core/test_import_fastpath.py`` checks both on generated messy files).
    The values of a marked row are meaningless.
    """
    n = len(rows)
    M = convert.MISSING
    exact = ctx.exact
    width = ctx.width
    report(progress, 0, n, "Checking rows")
    slow = bytearray(n)
    if isinstance(rows, ColumnRows):  # a large plain CSV, read as columns: all rows equally wide
        table_cols = rows.columns
        malformed = sorted({i for col in table_cols[width:] for i, x in enumerate(col) if x})
        transposed = None
    else:
        cells_list = [c for _, c in rows]
        lens = set(map(len, cells_list))
        shortest = min(lens)
        malformed = [i for i, c in enumerate(cells_list) if c and c[0].__class__ is _NotAnObject]
        if max(lens) > width:
            malformed += [i for i, c in enumerate(cells_list)
                          if len(c) > width and any(x not in (None, "") for x in c[width:])]
        # one transposition (twice as fast as a pass per column) when all rows are as wide as
        # each other, or none is wider than the columns read (rows that end early, as an .xlsx
        # row does without its empty last cells, are filled with None as a pass would)
        transposed = None
        if not malformed and len(lens) == 1:
            transposed = list(zip(*cells_list))
        elif not malformed and max(lens) <= width:
            transposed = list(zip_longest(*cells_list))
    for i in malformed:
        slow[i] = 1

    def column(idx: int) -> list | tuple:
        if isinstance(rows, ColumnRows):
            if idx >= len(table_cols):
                return (None,) * n
            col = table_cols[idx]
            if malformed:
                col = list(col)
        elif transposed is not None:
            return transposed[idx] if idx < len(transposed) else (None,) * n
        else:
            col = (list(map(itemgetter(idx), cells_list)) if idx < shortest
                   else [c[idx] if idx < len(c) else None for c in cells_list])
        for i in malformed:  # never converted on the reference path either
            col[i] = None
        return col

    # ---- convert every column; collect each key's values over the rows
    by_key: dict[str, list[list]] = {}
    done = 0
    for idx, _hdr, cc in ctx.mapped:
        keyed, bad = cc.column(column(idx), text_only=ctx.text_only)
        for i in bad:
            slow[i] = 1
        for k, values in keyed.items():
            by_key.setdefault(k, []).append(values)
        done += 1
        report(progress, done * n // (2 * len(ctx.mapped)), n, "Checking rows")
    merged: dict[str, list] = {}
    for k, lists in by_key.items():
        out = lists[0]
        for other in lists[1:]:  # later columns win, as dict.update; rows given both go slow
            out = list(out)
            for i, b in enumerate(other):
                if b is not M:
                    if out[i] is not M:
                        slow[i] = 1
                    out[i] = b
        merged[k] = out
    extras: list[list] = []
    for idx, hdr, cc in ctx.unmapped:
        keyed, bad = cc.column(column(idx), text_only=ctx.text_only)
        for i in bad:
            slow[i] = 1
        texts = keyed.get(convert.UNMAPPED_TEXT)
        if texts:
            label = f"Colleague column '{hdr}': "
            extras.append([label + t if t.__class__ is str else None for t in texts])

    # ---- complete the events field by field (convert.finish_event)
    defaults = _EXACT_DEFAULTS if exact else _DEFAULTS
    cols: dict[str, list] = {}
    for f in _EVENT_FIELDS:
        raw = merged.get(f)
        if f == "sources":
            cols[f] = ([[] for _ in range(n)] if raw is None
                       else [list(v) if v.__class__ is list else [] for v in raw])
        elif f != "date_precision":
            d = defaults[f]
            if raw is None:
                cols[f] = [d] * n
            elif M in raw or (d is not None and None in raw):
                cols[f] = [d if v is None or v is M else v for v in raw]
            else:  # every row has a value: the list as it is (each key's list is its own)
                cols[f] = raw if isinstance(raw, list) else list(raw)
    dates = cols["date"]
    raw_prec = merged.get("date_precision") or [M] * n
    from_date = merged.get("_precision_from_date") or [M] * n
    if exact:
        prec = [p if p is not None and p is not M else
                (None if d is None else ((q or "day") if q is not M else "day"))
                for p, d, q in zip(raw_prec, dates, from_date)]
    else:
        prec = [p if p is not None and p is not M else ((q or "day") if q is not M else "day")
                for p, q in zip(raw_prec, from_date)]
    cols["date_precision"] = prec
    if None in dates:
        for i, d in enumerate(dates):
            if d is None:
                slow[i] = 1  # "is required"
    tk, tu = cols["time_kst"], cols["time_utc"]
    if not exact:  # convert._derive_times: a KST time gives the UTC one; anything else goes slow
        if any(tu):
            for i, u in enumerate(tu):
                if u:
                    slow[i] = 1
        clock = merged.get("_utc_clock")
        if clock:
            for i, c in enumerate(clock):
                if c is not M and c:
                    slow[i] = 1
        if all(tk) and None not in dates and set(prec) == {"day"} and min(dates) >= _FIRST_FAST_DATE:
            # every row has a KST time on a day: one conversion for all (slow rows are redone)
            cols["time_utc"] = convert.kst_to_utc_many(dates, tk)
        else:
            fast = []
            for i, k in enumerate(tk):
                if k and not slow[i]:
                    if prec[i] == "day" and dates[i] >= _FIRST_FAST_DATE:
                        fast.append(i)
                    else:
                        slow[i] = 1
            if fast:
                utc = convert.kst_to_utc_many([dates[i] for i in fast], [tk[i] for i in fast])
                tu = cols["time_utc"] = list(tu)
                for i, u in zip(fast, utc):
                    tu[i] = u
        if extras:
            notes = cols["notes"]
            for i, parts in enumerate(zip(*extras)):
                if any(parts):
                    notes[i] = "\n".join(x for x in (notes[i], *parts) if x)
    ids = cols["id"]
    if None in ids:
        classes, sites = cols["missile_class"], cols["launch_site"]
        class_slug = {c: schema.slug(c or "unknown", 10) for c in set(classes)}
        site_slug = {s: catalogue.site_slug(s) for s in set(sites)}  # Hangul: the gazetteer's name
        ids = cols["id"] = [v if v is not None else f"{d}-{class_slug[c]}-{site_slug[s]}"
                            for v, d, c, s in zip(ids, dates, classes, sites)]

    # ---- anything convert.cross_check might object to goes the reference way
    # (each check looks at the rows one by one only when the whole column says it must)
    for name in ("id", "date", "missile_class"):
        col = cols[name]
        if None in col or "" in col:
            for i, v in enumerate(col):
                if v is None or v == "":
                    slow[i] = 1
    for lo, hi in (("distance_km", "distance_km_max"), ("apogee_km", "apogee_km_max")):
        if cols[hi].count(None) != n:
            for i, (a, b) in enumerate(zip(cols[lo], cols[hi])):
                if a is not None and b is not None and b < a:
                    slow[i] = 1
    if "month" in prec or "year" in prec:
        for i, (p, k) in enumerate(zip(prec, tk)):
            if k and p in ("month", "year"):
                slow[i] = 1
    lat, lon = cols["latitude"], cols["longitude"]
    if lat.count(None) not in (0, n) or lon.count(None) != lat.count(None):
        for i, (a, b) in enumerate(zip(lat, lon)):
            if (a is None) != (b is None):
                slow[i] = 1
    limit = schema.MAX_TEXT_CHARS
    for name in ("notes", "id"):
        col = cols[name]
        if max(map(len, filter(None, col)), default=0) > limit:
            for i, v in enumerate(col):
                if v and len(v) > limit:
                    slow[i] = 1

    # ---- which fields each row states (the ones a merge compares)
    if exact:
        provided = [ctx.all_fields] * n
    else:
        const: set[str] = set()
        varying: list[tuple[str, list]] = []
        for k, values in merged.items():
            if k in _PRIVATE:
                continue
            absent = values.count(M)
            if not absent:
                const.add(k)
            elif absent < n:
                varying.append((k, [v is not M for v in values]))
        names = [k for k, _ in varying]
        memo: dict[tuple, frozenset] = {}
        provided = []
        for sig in zip(*(h for _, h in varying), map(bool, cols["notes"])):
            fs = memo.get(sig)
            if fs is None:
                given = const | {k for k, b in zip(names, sig) if b}
                out = set(given)
                if "date" in given:
                    out.add("date_precision")
                if given & _TIME_FIELDS:
                    out |= _TIME_FIELDS
                if sig[-1]:
                    out.add("notes")
                out.discard("id")
                fs = memo[sig] = frozenset(out)
            provided.append(fs)

    report(progress, n // 2, n, "Checking rows")
    return cols, slow, provided


def _parse_rows(pf: ParsedFile, table: Table, progress: Progress | None, *, by_column: bool = True) -> None:
    """Check every row of a table and build the incoming events (nothing is written).

    ``by_column=False`` takes the reference path, one row and one cell at a time; the
    default converts whole columns at once and gives the same result (faster). A table
    of events (one per row) checked column-wise keeps its events as columns
    (:class:`~nkbrief.importing.incoming.EventBlock`).
    """
    with gc_paused():
        ctx = _row_context(pf, table)
        rows = table.rows
        n_rows = pf.rows_total = len(rows)
        if by_column and rows:
            cols, slow, provided = _rows_by_column(ctx, rows, progress)
        else:
            cols, slow, provided = None, bytearray(b"\x01") * n_rows, None
        pf.preview.extend(PreviewRow(rownum, cells, "accepted") for rownum, cells in rows[:PREVIEW_ROWS])
        rejected = bytearray(n_rows)
        checked: dict[int, tuple[dict, frozenset]] = {}  # the reference way: position -> (event, provided)
        marked = _marked(slow)
        for k, i in enumerate(marked):
            if k % 2000 == 0:
                report(progress, n_rows // 2 + k * n_rows // (2 * len(marked)), n_rows, "Checking rows")
            rownum, cells = rows[i]
            problems, ev, prov = _check_row(ctx, rownum, cells)
            if problems:
                _reject(pf, rownum, cells, problems)
                rejected[i] = 1
            else:
                checked[i] = (ev, prov)
        report(progress, n_rows, n_rows, "Checking rows")
        if cols is not None and pf.rows_mode != "missiles":
            _collect_block(pf, ctx, rows, cols, provided, checked, rejected)
            return
        accepted: list[tuple[int, dict, frozenset, list]] = []  # (row, event, provided, cells)
        for i, (rownum, cells) in enumerate(rows):
            if rejected[i]:
                continue
            if i in checked:
                ev, prov = checked[i]
            else:
                ev, prov = {f: cols[f][i] for f in _EVENT_FIELDS}, provided[i]
            accepted.append((rownum, ev, prov, cells))
        _collect(pf, ctx, accepted)


def _marked(flags: bytearray) -> list[int]:
    """Positions of the non-zero bytes."""
    out: list[int] = []
    i = flags.find(1)
    while i >= 0:
        out.append(i)
        i = flags.find(1, i + 1)
    return out


def _collect_block(pf: ParsedFile, ctx: _RowContext, rows: Sequence, cols: dict[str, list], provided: list,
                   checked: dict[int, tuple[dict, frozenset]], rejected: bytearray) -> None:
    """:func:`_collect` for a table of events checked column-wise: the accepted rows' events
    stay columns (an :class:`EventBlock`), with the same ids and rejections."""
    for i, (ev, prov) in checked.items():  # rows checked the reference way
        for f in _EVENT_FIELDS:
            cols[f][i] = ev[f]
        provided[i] = prov
    rownums = rows.rownums if isinstance(rows, ColumnRows) else [r for r, _ in rows]

    def keep_only(keep: list[bool]) -> None:
        nonlocal cols, rownums, provided
        cols = {f: list(compress(c, keep)) for f, c in cols.items()}
        rownums, provided = list(compress(rownums, keep)), list(compress(provided, keep))

    if rejected.count(1):
        keep_only([not r for r in rejected])
    ids = cols["id"]
    if len(set(ids)) != len(ids):
        if "id" in ctx.field_header or ctx.exact:  # the file's own ids: a repeat is rejected
            positions = [i for i, r in enumerate(rejected) if not r]  # each kept row's index in rows
            seen: dict[str, int] = {}
            again = bytearray(len(ids))
            for k, (ev_id, rownum) in enumerate(zip(ids, rownums)):
                first = seen.setdefault(ev_id, rownum)
                if first != rownum:
                    again[k] = 1
                    _reject(pf, rownum, rows[positions[k]][1],
                            [RowProblem(rownum, ctx.field_header.get("id", "id"), ev_id,
                                        f"is already used by row {first} of this file")])
            keep_only([not a for a in again])
        else:  # ids made from date, class and site: a repeat gets -2, -3...
            used: set[str] = set()
            cols["id"] = [unique_id(x, used) for x in ids]
    pf.accepted_rows = len(rownums)
    pf.incoming = EventBlock(cols, rownums, provided)


def _collect(pf: ParsedFile, ctx: _RowContext, accepted: list[tuple[int, dict, frozenset, list]]) -> None:
    """Accepted rows -> incoming events: grouped per missile, or one per row with unique ids."""
    pf.accepted_rows = len(accepted)
    if pf.rows_mode == "missiles":
        _group_missiles(pf, accepted, ctx.field_header)
    else:
        has_id = "id" in ctx.field_header
        used: set[str] = set()
        first_row: dict[str, int] = {}
        incoming = pf.incoming
        for rownum, ev, provided, cells in accepted:
            if has_id or ctx.exact:
                if ev["id"] in used:
                    pf.accepted_rows -= 1
                    _reject(pf, rownum, cells,
                            [RowProblem(rownum, ctx.field_header.get("id", "id"), ev["id"],
                                        f"is already used by row {first_row[ev['id']]} of this file")])
                    continue
                used.add(ev["id"])
                first_row[ev["id"]] = rownum
            else:
                ev["id"] = unique_id(ev["id"], used)
            incoming.append(Incoming(ev, [], [], [rownum], provided))
    pf.preview.sort(key=lambda r: r.row)
    del pf.preview[PREVIEW_ROWS:]


def _reject(pf: ParsedFile, rownum: int, cells: list, problems: list[RowProblem]) -> None:
    pf.rejections.extend(problems)
    pf.rejected_raw[rownum] = list(cells)
    msg = "; ".join(str(p) for p in problems)
    for r in pf.preview:
        if r.row == rownum:
            r.status, r.message = "rejected", msg
            return
    if len(pf.preview) < PREVIEW_ROWS:
        pf.preview.append(PreviewRow(rownum, cells, "rejected", msg))


def _group_missiles(pf: ParsedFile, accepted: list[tuple[int, dict, frozenset, list]],
                    field_header: dict[str, str]) -> None:
    """Per-missile rows -> one event per (date, site, class), missiles kept as rows.

    Text joined from the rows (names, landing areas, descriptions) must still fit the text
    limit; if it does not, the group's rows are rejected, saying so.
    """
    groups: dict[tuple, list] = defaultdict(list)
    for item in accepted:
        ev = item[1]
        groups[(ev["date"], ev["date_precision"], (ev["launch_site"] or "").lower(), ev["missile_class"])].append(item)
    used: set[str] = set()
    for items in groups.values():
        evs = [it[1] for it in items]
        rows = [it[0] for it in items]
        first = min(evs, key=lambda e: (e["time_utc"] or "9999", ))
        out = dict(evs[0])
        out["count"] = len(evs)
        out["time_utc"], out["time_kst"] = first["time_utc"], first["time_kst"]
        names = grouping.dedupe(e["missile_name"] for e in evs)
        out["missile_name"] = " / ".join(names) if names else None
        for f in ("distance_km", "apogee_km"):
            lo = [e[f] for e in evs if e[f] is not None]
            hi = [e[f + "_max"] if e[f + "_max"] is not None else e[f] for e in evs if e[f] is not None]
            out[f] = min(lo) if lo else None
            top = max(hi) if hi else None
            out[f + "_max"] = top if top is not None and lo and top != min(lo) else None
        coords = next(((e["latitude"], e["longitude"]) for e in evs if e["latitude"] is not None), (None, None))
        out["latitude"], out["longitude"] = coords
        out["landing_area"] = " / ".join(grouping.dedupe(e["landing_area"] for e in evs)) or None
        outcomes = grouping.dedupe(e["outcome"] for e in evs)
        out["outcome"] = outcomes[0] if len(outcomes) == 1 else "unknown"
        states = {e["confirmation"] for e in evs}  # rows that all leave it blank claim nothing
        out["confirmation"] = next((c for c in ("confirmed", "unconfirmed") if c in states), "not stated")
        att = [e["leader_attended"] for e in evs if e["leader_attended"] is not None]
        out["leader_attended"] = True if any(att) else (False if att else None)
        out["description"] = "\n\n".join(grouping.dedupe(e["description"] for e in evs))
        out["sources"] = grouping.dedupe(s for e in evs for s in e["sources"])
        notes = [f"Grouped from {len(rows)} row(s) of {pf.name} (rows {_ranges(rows)})."]
        if len(outcomes) > 1:
            split = ", ".join(f"{sum(e['outcome'] == o for e in evs)} {o}" for o in outcomes)
            notes.append(f"Outcome split per missile ({split}); recorded as unknown.")
        out["notes"] = " ".join(notes)
        too_long = [f for f in ("missile_name", "landing_area", "description", "notes")
                    if out[f] and len(out[f]) > schema.MAX_TEXT_CHARS]
        if too_long:
            f = too_long[0]
            reason = (f"is longer than {schema.MAX_TEXT_CHARS:,} characters when the rows of this launch "
                      f"(rows {_ranges(rows)}) are put together")
            for rownum, _ev, _provided, cells in items:
                pf.accepted_rows -= 1
                _reject(pf, rownum, cells, [RowProblem(rownum, field_header.get(f, f), out[f][:40] + "…", reason)])
            continue
        out["id"] = unique_id(catalogue.event_id(out["date"], out["missile_class"], out["launch_site"]), used)
        missiles = []
        for seq, (rownum, e, _, _cells) in enumerate(items, start=1):
            missiles.append({
                "seq": seq, "missile_name": e["missile_name"], "missile_class": e["missile_class"],
                "time_utc": e["time_utc"], "time_kst": e["time_kst"], "distance_km": e["distance_km"],
                "distance_km_max": e["distance_km_max"], "apogee_km": e["apogee_km"],
                "apogee_km_max": e["apogee_km_max"], "landing_area": e["landing_area"],
                "outcome": e["outcome"], "confirmation": e["confirmation"],
                "source_ref": f"{pf.name} row {rownum}",
                "notes": e["notes"] or None,
            })
        provided = frozenset().union(*(it[2] for it in items)) | {"count", "notes"}
        pf.incoming.append(Incoming(out, missiles, [], rows, provided))


def _ranges(nums: list[int]) -> str:
    nums = sorted(nums)
    parts, start, prev = [], nums[0], nums[0]
    for n in nums[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


def _attach_extras(pf: ParsedFile, table: Table) -> None:
    """nkbrief exports: per-missile rows and statements travel with their events."""
    incoming = pf.incoming
    at = {ev_id: k for k, ev_id in enumerate(incoming_column(incoming, "id"))}
    touched: set[int] = set()  # only the events with extras are built one by one
    orphans = {"missiles": 0, "statements": 0}
    for m in table.extra.get("missiles", []):
        pos = at.get(m.get("event_id"))
        if pos is None:
            orphans["missiles"] += 1
            continue
        rec = {k: _exact_missile_value(k, m.get(k)) for k in schema.MISSILE_FIELDS if k != "event_id"}
        incoming[pos].missiles.append(rec)
        touched.add(pos)
    for s in table.extra.get("statements", []):
        pos = at.get(s.get("event_id"))
        if pos is None:
            orphans["statements"] += 1
            continue
        incoming[pos].statements.append({k: (s.get(k) if s.get(k) != "" else None)
                                       for k in schema.STATEMENT_FIELDS if k != "event_id"})
    for pos in touched:
        incoming[pos].missiles.sort(key=lambda m: (m["seq"] is None, m["seq"] or 0))
    for what, n in orphans.items():
        if n:
            pf.notes.append(f"{n} {what[:-1]} row(s) belong to events that are not imported "
                            "(rejected, or not in the file) and were left out")


def _exact_missile_value(k: str, v: object) -> object:
    kind = schema.MISSILE_FIELDS[k]
    if v == "" or v is None:
        return None
    if kind == "km":
        return float(v)
    if kind == "count":
        return int(v)
    return v


__all__ = ["ImportOptions", "DateOrderNeeded", "ParsedFile", "Incoming", "ColumnMap", "MergeItem", "MergePlan", "ImportResult",
           "UndoResult", "ImportError_", "FileRejected", "StoreError", "read_file", "plan_merge",
           "apply_import", "undo_batch", "import_batches", "last_undoable_batch",
           "RESOLUTIONS", "RESOLUTION_LABELS"]
