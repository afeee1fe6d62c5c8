"""Read a delimited text file, an .xlsx sheet or a JSON list into one plain table.

The result, :class:`Table`, is a header plus ``(row number as seen in the file, cells)``
pairs, whatever the format: the importer maps and validates it the same way for all.
Row numbers are what the analyst sees: the physical line where a CSV record starts (a
quoted cell with line breaks spans several lines), the sheet row in Excel, and the
position (1, 2, ...) of an object in a JSON list.

The header is found by name: the row among the first 30 whose cells most look like known
headers (English or Korean), so title rows and blank rows above it are skipped. Excel
cells keep their types (dates, times, numbers); formula cells give their cached value.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from ...common import csv_unescape, gc_paused, xlsx_unescape
from ...common import shown as _shown
from ...model import parse, rules, schema
from ..mapping import header_score
from ...progress import Progress, report
from .xlsx_guard import SheetExtent, assert_defusedxml, check_xlsx
from .xlsx_rows import Unsupported, XmlRefused, install_string_table_reader, sheet_values
from .sniff import DELIMITER_LABELS, FileRejected, Sniffed, check_path, detect_delimiter, sniff

#: Limits, documented in docs/import.md.
MAX_ROWS = 1_000_000
MAX_COLUMNS = 1_000
MAX_CELL_CHARS = schema.MAX_TEXT_CHARS
HEADER_SEARCH_ROWS = 30

NKBRIEF_JSON_FORMAT = "nkbrief-dataset"


class ColumnRows(Sequence):
    """The rows of a table kept as columns: a sequence of ``(row number, cells)`` like the
    plain list every reader gives, built a row at a time only when asked for.

    A large delimited file is parsed a column at a time (see :func:`_read_columns`), and
    the importer checks it a column at a time; only the preview and rejected rows are ever
    needed as rows. Every row has the same number of cells (missing ones are "").
    """

    __slots__ = ("rownums", "columns")

    def __init__(self, rownums: list[int], columns: list[list]):
        self.rownums = rownums
        self.columns = columns

    def __len__(self) -> int:
        return len(self.rownums)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self.rownums)))]
        return self.rownums[i], [c[i] for c in self.columns]

    def __iter__(self):
        return zip(self.rownums, map(list, zip(*self.columns)) if self.columns else ([] for _ in self.rownums))

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented


@dataclass
class Table:
    """One sheet-like table read from a file, before any mapping."""

    name: str
    format: str  # "delimited", "xlsx" or "json"
    header: list[str]
    rows: Sequence[tuple[int, list]]  # non-blank rows below the header (a list or ColumnRows)
    header_row: int | None = None
    encoding: str | None = None
    encoding_label: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    blank_rows: int = 0  # blank rows below the header (nothing to import)
    title_rows: int = 0  # non-blank rows above the header (titles, notes)
    kind: str = "table"  # "table", "nkbrief", "nagix", "nagix-facilities", "nagix-missiles"
    extra: dict = field(default_factory=dict)  # nkbrief exports: missiles, statements
    notes: list[str] = field(default_factory=list)

    @property
    def format_label(self) -> str:
        if self.format == "delimited":
            return f"{DELIMITER_LABELS.get(self.delimiter or ',', 'delimited')}-separated text"
        return {"xlsx": "Excel workbook (.xlsx)", "json": "JSON"}.get(self.format, self.format)


def read_table(path: str | Path, *, sheet: str | None = None, header_row: int | None = None,
               progress: Progress | None = None) -> Table:
    """Read ``path`` into a :class:`Table`; raises :class:`FileRejected` for unusable files."""
    p = check_path(path)
    sn = sniff(p)
    with gc_paused():  # many small rows: the cyclic collector only slows this down
        if sn.format == "xlsx":
            return read_xlsx(p, sheet=sheet, header_row=header_row, progress=progress)
        if sn.format == "json":
            return read_json(p, sn, header_row=header_row)
        return read_delimited(p, sn, header_row=header_row, progress=progress)


# ------------------------------------------------------------------------ header finding
def _header_name(v: object, i: int) -> str:
    s = "" if v is None else str(v).replace("\r\n", " ").replace("\n", " ").strip()
    return s or f"Column {i + 1}"


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = n.lower()
        if k in seen:
            seen[k] += 1
            n = f"{n} ({seen[k]})"
        else:
            seen[k] = 1
        out.append(n)
    return out


def _nonblank(cells: list) -> int:
    return sum(1 for c in cells if c is not None and not (isinstance(c, str) and not c.strip()))


def _has_value(cells: list) -> bool:
    """True when any cell holds something (stops at the first one)."""
    for c in cells:
        if c is None or c == "":
            continue
        if c.__class__ is str and c.isspace():
            continue
        return True
    return False


def find_header(rows: list[tuple[int, list]]) -> int:
    """Index (into ``rows``, non-blank rows only) of the header row."""
    head = rows[:HEADER_SEARCH_ROWS]
    best, best_score = -1, 0
    for i, (_, cells) in enumerate(head):
        s = header_score(cells)
        if s > best_score:
            best, best_score = i, s
    if best_score >= 2:
        return best
    # nothing recognisable: the first row that is about as wide as the table
    widest = max((_nonblank(c) for _, c in head), default=0)
    for i, (_, cells) in enumerate(head):
        if _nonblank(cells) >= max(2, widest // 2) or widest < 2:
            return i
    return 0


def _header_index(name: str, rownums: Iterable[int], head: list[tuple[int, list]],
                  header_row: int | None) -> int:
    """Index (among the non-blank rows, whose row numbers are ``rownums``; ``head``: the
    first of them) of the header: row ``header_row`` when asked for, else found by name."""
    if header_row is None:
        return find_header(head)
    idx = next((i for i, n in enumerate(rownums) if n == header_row), None)
    if idx is None:
        raise FileRejected(f"{name}: row {header_row} is blank or beyond the end; it cannot "
                           "be the header")
    return idx


def _header_names(name: str, cells: list) -> list[str]:
    """Column names from the header row's cells (blank cells at its end dropped)."""
    while cells and (cells[-1] is None or (isinstance(cells[-1], str) and not cells[-1].strip())):
        cells = cells[:-1]
    if len(cells) > MAX_COLUMNS:
        raise FileRejected(f"{name}: the header has {len(cells):,} columns; the import limit is "
                           f"{MAX_COLUMNS:,}")
    return _dedupe([_header_name(v, i) for i, v in enumerate(cells)])


def _split_header(name: str, all_rows: list[tuple[int, list]], header_row: int | None,
                  blank_rows: int) -> tuple[list[str], int, list[tuple[int, list]], int, int]:
    """(header names, header row number, data rows, blank rows below, title rows above)."""
    nonblank = []
    blank_at: list[int] = []
    for n, c in all_rows:
        if _has_value(c):
            nonblank.append((n, c))
        else:
            blank_at.append(n)
    if not nonblank:
        raise FileRejected(f"{name}: has no data (every row is blank)")
    idx = _header_index(name, (n for n, _ in nonblank), nonblank, header_row)
    hnum, hcells = nonblank[idx]
    header = _header_names(name, hcells)
    data = nonblank[idx + 1:]
    blank_below = sum(1 for n in blank_at if n > hnum) + blank_rows
    return header, hnum, data, blank_below, idx


# ------------------------------------------------------------------------ delimited text
def read_delimited(p: Path, sn: Sniffed, *, header_row: int | None = None,
                   progress: Progress | None = None) -> Table:
    name = p.name
    text = sn.text or ""
    if not text.strip():
        raise FileRejected(f"{name}: has no data (it holds only blank space)")
    delim = detect_delimiter(text)
    columns = _read_columns(text, delim, progress) if len(text) >= COLUMNAR_MIN_CHARS else None
    if columns is not None:
        if _may_hold_apostrophes(text, delim):
            columns.columns = [[csv_unescape(c) if c[:1] == "'" else c for c in col]
                               if any(c[:1] == "'" for c in col) else col for col in columns.columns]
        header, hnum, data, blank, title = _split_header_columns(name, columns, header_row)
        if len(data) > MAX_ROWS:
            raise FileRejected(f"{name}: has {len(data):,} rows; the import limit is {MAX_ROWS:,}")
        return Table(name=name, format="delimited", header=header, rows=data, header_row=hnum,
                     encoding=sn.encoding, encoding_label=sn.encoding_label, delimiter=delim,
                     blank_rows=blank, title_rows=title)
    total_lines = text.count("\n") + 1
    rows = _one_line_records(text, delim, name, progress, total_lines)
    if rows is None:  # a record spans lines (or the quoting is broken): one record at a time
        rows = _records(text, delim, name, progress, total_lines)
    if _may_hold_apostrophes(text, delim):
        for _, cells in rows:
            for j, c in enumerate(cells):
                if c[:1] == "'":  # the OWASP apostrophe an export added (see nkbrief.exporting.export)
                    cells[j] = csv_unescape(c)
    header, hnum, data, blank, title = _split_header(name, rows, header_row, 0)
    if len(data) > MAX_ROWS:
        raise FileRejected(f"{name}: has {len(data):,} rows; the import limit is {MAX_ROWS:,}")
    return Table(name=name, format="delimited", header=header, rows=data, header_row=hnum,
                 encoding=sn.encoding, encoding_label=sn.encoding_label, delimiter=delim,
                 blank_rows=blank, title_rows=title)


#: Texts at least this long are offered to pandas' C tokenizer first (below it the csv
#: module is as quick, and small files are where odd layouts live).
COLUMNAR_MIN_CHARS = 200_000
_LINE_SPACE = r"[^\S\r\n]"


def _plain_quoting(text: str, delim: str) -> bool:
    """True when the C tokenizer and the csv module (strict) must read ``text`` alike.

    That is: every quote opens a cell at the start of a line or after a delimiter, is
    doubled inside it, or closes it before a delimiter or line end -- with no line break
    (CR or LF) inside quotes, so every line is one record. Anything
    else (a record over several lines, a stray quote, broken quoting) goes the csv
    module's way, which reads it record by record and says where the quoting breaks.
    """
    if '"' not in text:
        return True
    # split at the quotes: the pieces alternate outside / inside a quoted cell; an empty
    # outside piece between two inside ones is a doubled quote. All checks below are C-level
    # (str.split, join, map), so a file with a quote in every cell still checks quickly.
    parts = text.split('"')
    if len(parts) % 2 == 0:  # an odd number of quotes
        return False
    inside = "\x00".join(parts[1::2])
    if "\n" in inside or "\r" in inside:
        return False
    first, last = parts[0], parts[-1]
    if first and first[-1] not in (delim, "\n"):
        return False
    if last and last[0] not in (delim, "\n", "\r"):
        return False
    between = list(filter(None, parts[2:-1:2]))  # after a closing quote, before an opening one
    return (set(map(itemgetter(0), between)) <= {delim, "\n", "\r"}
            and set(map(itemgetter(-1), between)) <= {delim, "\n"})


def _read_columns(text: str, delim: str, progress: Progress | None) -> ColumnRows | None:
    """Every line of a plain delimited text as columns of text, read by pandas' C tokenizer,
    or None when the text is not plain (see :func:`_plain_quoting`), a line is wider than
    the first, or a cell is longer than the csv module allows -- the csv module's reading
    then decides, and says what is wrong.

    What it gives equals the csv module's records (``tests/core/test_import_reader.py``),
    except that every row has the same number of cells: a short row is padded with "".
    Blank lines are kept (as cells of ""), so row numbers are line numbers.
    """
    if not _plain_quoting(text, delim):
        return None
    import pandas as pd

    report(progress, 0, 0, "Reading rows")
    try:
        data = text.encode("utf-8")
        df = pd.read_csv(io.BytesIO(data), sep=delim, header=None, dtype=str, na_filter=False,
                         keep_default_na=False, skip_blank_lines=False, engine="c",
                         quoting=csv.QUOTE_MINIMAL, quotechar='"', doublequote=True, escapechar=None,
                         comment=None, skipinitialspace=False, encoding="utf-8", low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, UnicodeError, OverflowError):
        return None  # a wider line, say: the csv module reads it and says what is wrong
    # (anything else -- a parser module missing from a build -- is a fault to see, not hide)
    if len(df) > MAX_ROWS + HEADER_SEARCH_ROWS or df.shape[1] > MAX_COLUMNS:
        return None
    columns = [df.iloc[:, j].tolist() for j in range(df.shape[1])]
    limit = csv.field_size_limit()
    if any(max(map(len, col), default=0) > limit for col in columns):
        return None
    return ColumnRows(list(range(1, len(df) + 1)), columns)


def _blank_mask(rows: ColumnRows) -> list[bool]:
    """For each row, True when no cell holds anything but white space (see _has_value).

    A blank row has a blank first cell, so only those rows are looked at cell by cell.
    """
    n = len(rows)
    if not rows.columns:
        return [True] * n
    blank = [False] * n
    cols = rows.columns
    for i, c in enumerate(cols[0]):
        if not c or c.isspace():
            blank[i] = not _has_value([col[i] for col in cols])
    return blank


def _split_header_columns(name: str, rows: ColumnRows, header_row: int | None
                          ) -> tuple[list[str], int, ColumnRows, int, int]:
    """:func:`_split_header` for rows kept as columns (the data rows stay columns)."""
    from itertools import compress

    blank = _blank_mask(rows)
    keep = [not b for b in blank]
    nonblank_at = list(compress(range(len(blank)), keep))
    if not nonblank_at:
        raise FileRejected(f"{name}: has no data (every row is blank)")
    head = [rows[i] for i in nonblank_at[:HEADER_SEARCH_ROWS]]
    idx = _header_index(name, (rows.rownums[i] for i in nonblank_at), head, header_row)
    at = nonblank_at[idx]
    hnum, hcells = rows[at]
    header = _header_names(name, hcells)
    below = keep[at + 1:]
    if all(below):
        data = ColumnRows(rows.rownums[at + 1:], [col[at + 1:] for col in rows.columns])
    else:
        data = ColumnRows(list(compress(rows.rownums[at + 1:], below)),
                          [list(compress(col[at + 1:], below)) for col in rows.columns])
    blank_below = len(below) - len(data)
    return header, hnum, data, blank_below, idx


def _may_hold_apostrophes(text: str, delim: str) -> bool:
    """Whether a cell may start with the OWASP apostrophe an export adds (see
    :func:`nkbrief.common.csv_unescape`): one can only stand at the start of a line, after
    a delimiter or after an opening quote."""
    return "'" in text and re.search(r"(?:^|[\r\n\"" + re.escape(delim) + r"])'", text) is not None


def _records(text: str, delim: str, name: str, progress: Progress | None,
             total_lines: int) -> list[tuple[int, list]]:
    """(line where the record starts, cells) of each record; broken quoting is refused."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    rows: list[tuple[int, list]] = []
    last_line = 0
    try:
        for cells in reader:
            start = last_line + 1
            last_line = reader.line_num
            rows.append((start, cells))
            if len(rows) % 20000 == 0:
                report(progress, last_line, total_lines, "Reading rows")
                if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
                    raise FileRejected(f"{name}: has more than {MAX_ROWS:,} rows; the import limit "
                                       f"is {MAX_ROWS:,}")
    except csv.Error as e:
        msg = str(e)
        line = reader.line_num
        if "unexpected end of data" in msg:
            raise FileRejected(f"{name}: line {last_line + 1}: a quoted value is never closed "
                               "(a \" is missing)") from None
        if "field larger than field limit" in msg:
            raise FileRejected(f"{name}: line {last_line + 1}: a value is longer than "
                               f"{csv.field_size_limit():,} characters; cells are limited to "
                               f"{MAX_CELL_CHARS:,}") from None
        raise FileRejected(f"{name}: line {line}: the quoting is broken ({msg})") from None
    return rows


def _one_line_records(text: str, delim: str, name: str, progress: Progress | None,
                      total_lines: int) -> list[tuple[int, list]] | None:
    """(line number, cells) of each record, read 20,000 at a time by the csv module, when no
    record spans more than one line; None when one does, or the quoting is broken (the
    record-by-record reading then says where)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    records: list[list] = []
    try:
        while True:
            chunk = list(itertools.islice(reader, 20000))
            if not chunk:
                break
            records += chunk
            if reader.line_num != len(records):
                return None
            if len(chunk) == 20000:
                report(progress, reader.line_num, total_lines, "Reading rows")
                if len(records) > MAX_ROWS + HEADER_SEARCH_ROWS:
                    raise FileRejected(f"{name}: has more than {MAX_ROWS:,} rows; the import limit "
                                       f"is {MAX_ROWS:,}")
    except csv.Error:
        return None
    return list(zip(range(1, len(records) + 1), records))


# ------------------------------------------------------------------------ xlsx
def xlsx_sheet_names(p: Path) -> list[str]:
    """Sheet names of a workbook (after the safety checks)."""
    wb, _, _ = _open_workbook(p)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


#: defusedxml's refusals, should anything get past xlsx_guard's own scan.
_DEFUSED_ERRORS = ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden", "NotSupportedError")
_ENTITY_MESSAGE = ("{name}: contains XML entity declarations (a possible entity-expansion attack); "
                   "defusedxml refused to read it")


def _in_chain(e: BaseException | None, test) -> BaseException | None:
    """The first error in ``e``'s chain of causes (openpyxl wraps errors in its own) that is
    a ``test`` (a class), or for which ``test(error)`` is true; None if none is."""
    seen = 0
    while e is not None and seen < 10:
        if isinstance(e, test) if isinstance(test, type) else test(e):
            return e
        e = e.__cause__ or e.__context__
        seen += 1
    return None


def _defused(e: BaseException | None) -> bool:
    """True when defusedxml refused the XML (openpyxl wraps its error in its own)."""
    return _in_chain(e, lambda x: x.__class__.__name__ in _DEFUSED_ERRORS) is not None


def _guard_number_cells() -> None:
    """Make openpyxl's reader hand over a number cell of more than 18 digits as a rejected
    cell (:class:`nkbrief.model.rules.Refused`) instead of converting it: Python refuses 4,300
    digits and more with an error that would stop the whole sheet."""
    from openpyxl.worksheet import _reader

    cast = _reader._cast_number
    if getattr(cast, "_nkbrief", False):
        return

    def _cast_number(value: str):
        if len(value) > parse.MAX_INT_DIGITS and not ("." in value or "E" in value or "e" in value):
            digits = len(value.lstrip("-+").lstrip("0"))
            if digits > parse.MAX_INT_DIGITS:
                return rules.Refused(_cut(value), f"is too large a number ({digits:,} digits)", digits)
        return cast(value)

    _cast_number._nkbrief = True  # type: ignore[attr-defined]
    _reader._cast_number = _cast_number


def _open_workbook(p: Path):
    """(read-only workbook, whether its text may hold _xHHHH_ escapes, the extents of its
    worksheet parts the guard found), after the guard."""
    seen = check_xlsx(p)
    assert_defusedxml()
    import openpyxl

    _guard_number_cells()
    install_string_table_reader()

    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        return wb, bool(seen.get("escapes", True)), seen.get("extents") or {}
    except FileRejected:
        raise
    except Exception as e:  # openpyxl raises many kinds for damaged parts
        refused = _in_chain(e, XmlRefused)  # in the shared string table, read by xlsx_rows
        if refused is not None:
            raise FileRejected(f"{p.name}: its shared strings contain {refused} (a possible "
                               "entity-expansion attack); the workbook was not opened") from None
        kind = e.__class__.__name__
        detail = str(e).replace(str(p), p.name).splitlines()[0][:120] if str(e) else kind
        if _defused(e):
            raise FileRejected(_ENTITY_MESSAGE.format(name=p.name)) from None
        raise FileRejected(f"{p.name}: is not a readable .xlsx workbook ({detail})") from None


def _sheet_rows(ws, name: str, limit: int | None = None, escapes: bool = True,
                notes: list[str] | None = None, extents: dict | None = None) -> list[tuple[int, list]]:
    """The rows of a sheet as (sheet row number, values), reading the cells that are there.

    The ``<dimension>`` a sheet declares is often stale (other tools write it once, or
    never update it), so it is ignored: every row is read up to its last cell, streaming,
    and the limits apply to the cells found, not the size declared. Empty cells at a row's
    end and empty rows after the last row with a value (a million styled, empty rows) are
    not kept. ``notes`` hears when the declared dimension was wrong. ``extents``: the
    guard's extents by worksheet part (:func:`check_xlsx`), so the sheet is not inflated
    a second time to find them.
    """
    declared = (ws.max_row, ws.max_column) if hasattr(ws, "reset_dimensions") else None
    extent = None
    if declared is not None:
        ws.reset_dimensions()  # read what is there, not what the sheet says it holds
        # where the values end: the (often many) styled empty rows after them are not parsed
        part = getattr(ws, "_worksheet_path", None)
        extent = extents[part] if extents and part in extents else _sheet_extent(ws)
    stop = extent[0] if extent else None
    if stop is not None and limit is not None:
        stop = min(stop, limit)
    if extent is not None and extent[0] == 0:
        out, last_cell_row, widest = [], 0, 0  # no value anywhere
    else:
        fast = sheet_values(ws, stop)
        try:
            got = None if fast is None else _collect_rows(fast, ws.title, name, limit, escapes)
        except Unsupported:
            got = None
        if got is None:  # not a read-only sheet, or an unusual one: openpyxl's reading, result or error
            got = _collect_rows(ws.iter_rows(max_row=stop, values_only=True), ws.title, name, limit, escapes)
        out, last_cell_row, widest = got
    if extent is not None:
        last_cell_row = max(last_cell_row, extent[1])
    if notes is not None and declared is not None and limit is None and declared != (None, None):
        if declared != (last_cell_row, widest) and (last_cell_row, widest) != (0, 0):
            notes.append(f"sheet '{ws.title}' declares {_span(*declared)} but holds cells in "
                         f"{_span(last_cell_row, widest)}; every cell that is there was read")
    return out


def _collect_rows(rows, title: str, name: str, limit: int | None, escapes: bool
                  ) -> tuple[list[tuple[int, list]], int, int]:
    """(the rows holding a value, with the blank rows between them, as (sheet row number,
    values); the last row holding any cell; the widest row) from a sheet's row values."""
    out: list[tuple[int, list]] = []
    blank_from = None  # the first of the empty rows seen since the last row with a value
    last_cell_row = widest = 0  # the sheet's real extent: any cell, even styled and empty
    too_many = MAX_ROWS + HEADER_SEARCH_ROWS
    for n, values in enumerate(rows, start=1):
        if limit is not None and n > limit:
            break
        if values:
            last_cell_row = n
            if len(values) > widest:
                widest = len(values)
            if values[-1] is None:  # trailing empty (styled) cells
                values = list(values)
                while values and values[-1] is None:
                    values.pop()
        if not values or not any(v is not None and v != "" for v in values):
            if blank_from is None:
                blank_from = n
            continue
        if len(values) > MAX_COLUMNS:
            raise FileRejected(f"{name}: sheet '{title}' is {len(values):,} columns wide; the import "
                               f"limit is {MAX_COLUMNS:,}")
        if blank_from is not None:  # empty rows between rows with values are kept (as blank rows)
            out.extend((b, []) for b in range(blank_from, n))
            blank_from = None
        if escapes:  # Excel's _xHHHH_ escape (CR, control characters); the guard saw some "_x"
            values = [xlsx_unescape(c) if c.__class__ is str and "_x" in c else c for c in values]
        out.append((n, values))
        if len(out) > too_many:
            raise FileRejected(f"{name}: sheet '{title}' has more than {MAX_ROWS:,} rows; the "
                               f"import limit is {MAX_ROWS:,}")
    return out, last_cell_row, widest


_SCAN_CHUNK = 1 << 20


def _sheet_extent(ws) -> tuple[int, int] | None:
    """(the last row holding a value, the last row of any kind) of a read-only sheet, from
    one streaming pass over its XML (:class:`SheetExtent`: C-speed searches, bounded
    memory); None when it cannot be told (rows without numbers, no XML source). Used when
    the guard's own pass did not give it."""
    get = getattr(ws, "_get_source", None)
    if get is None:
        return None
    extent = SheetExtent()
    try:
        with get() as src:
            while not extent.unknown:
                chunk = src.read(_SCAN_CHUNK)
                if not chunk:
                    break
                extent.feed(chunk)
    except (OSError, ValueError, KeyError):
        return None
    return extent.result()


def _span(rows: int | None, cols: int | None) -> str:
    """'A1:H3' for 3 rows of 8 columns."""
    from openpyxl.utils import get_column_letter

    if not rows or not cols:
        return "A1"
    return "A1" if (rows, cols) == (1, 1) else f"A1:{get_column_letter(min(cols, 16384))}{rows}"


def read_xlsx(p: Path, *, sheet: str | None = None, header_row: int | None = None,
              progress: Progress | None = None) -> Table:
    name = p.name
    wb, escapes, extents = _open_workbook(p)
    try:
        names = list(wb.sheetnames)
        if not names:
            raise FileRejected(f"{name}: the workbook has no sheets")
        if sheet is not None:
            match = [s for s in names if s == sheet] or [s for s in names if s.lower() == sheet.lower()]
            if not match:
                raise FileRejected(f"{name}: has no sheet '{sheet}' (sheets: {', '.join(names)})")
            chosen = match[0]
        else:
            chosen = _best_sheet(wb, names, name, extents)
        ws = wb[chosen]
        report(progress, 0, 0, f"Reading sheet {chosen}")
        dimension_notes: list[str] = []
        try:
            rows = _sheet_rows(ws, name, escapes=escapes, notes=dimension_notes, extents=extents)
        except FileRejected:
            raise
        except XmlRefused as e:
            raise FileRejected(f"{name}: sheet '{chosen}' contains {e} (a possible entity-expansion "
                               "attack); it was not read") from None
        except Exception as e:
            if _defused(e):
                raise FileRejected(_ENTITY_MESSAGE.format(name=name)) from None
            detail = str(e).splitlines()[0][:120] if str(e) else e.__class__.__name__
            raise FileRejected(f"{name}: sheet '{chosen}' cannot be read ({detail})") from None
        header, hnum, data, blank, title = _split_header(f"{name} (sheet '{chosen}')", rows,
                                                         header_row, 0)
        table = Table(name=name, format="xlsx", header=header, rows=data, header_row=hnum,
                      sheet=chosen, sheets=names, blank_rows=blank, title_rows=title,
                      encoding_label="binary (xlsx)")
        table.notes.extend(dimension_notes)
        if schema.is_export_header(header):
            table.kind = "nkbrief"
            for extra, fields in (("Missiles", schema.MISSILE_FIELDS), ("Statements", schema.STATEMENT_FIELDS)):
                if extra in names:
                    xrows = _sheet_rows(wb[extra], name, escapes=escapes, extents=extents)
                    xh, _, xdata, _, _ = _split_header(name, xrows, None, 0) if any(
                        _has_value(c) for _, c in xrows) else ([], 0, [], 0, 0)
                    if xh == list(fields):
                        table.extra[extra.lower()] = [dict(zip(xh, c)) | {"_row": n} for n, c in xdata]
        return table
    finally:
        wb.close()


def _best_sheet(wb, names: list[str], name: str, extents: dict | None = None) -> str:
    """The sheet whose first rows look most like a launch table (ties: the first sheet)."""
    if len(names) == 1:
        return names[0]
    best, best_score = names[0], -1
    for s in names:
        ws = wb[s]
        if getattr(ws, "sheet_state", "visible") != "visible" and best_score >= 0:
            continue
        try:
            rows = _sheet_rows(ws, name, limit=HEADER_SEARCH_ROWS + 10, extents=extents)
        except (FileRejected, XmlRefused):  # not chosen for it; refused if it is chosen all the same
            continue
        score = max((header_score(c) for _, c in rows[:HEADER_SEARCH_ROWS]), default=0)
        if score > best_score:
            best, best_score = s, score
    return best


# ------------------------------------------------------------------------ JSON
def read_json(p: Path, sn: Sniffed, *, header_row: int | None = None) -> Table:
    name = p.name
    try:
        data = json.loads(sn.text or "", parse_constant=_json_constant, parse_int=_json_int,
                          object_pairs_hook=_json_object)
    except json.JSONDecodeError as e:
        raise FileRejected(f"{name}: is not valid JSON (line {e.lineno}, column {e.colno}: "
                           f"{e.msg})") from None
    except RecursionError:
        raise FileRejected(f"{name}: is nested too deeply to be a data file") from None
    base = dict(name=name, format="json", encoding=sn.encoding, encoding_label=sn.encoding_label)
    if isinstance(data, dict):
        if data.get("format") == NKBRIEF_JSON_FORMAT:
            events = data.get("events")
            if not isinstance(events, list):
                raise FileRejected(f"{name}: is an nkbrief export without an \"events\" list")
            t = _objects_table(name, events, base, fixed=list(schema.EVENT_FIELDS))
            t.kind = "nkbrief"
            for extra in ("missiles", "statements"):
                items = data.get(extra) or []
                if not isinstance(items, list):
                    raise FileRejected(f"{name}: \"{extra}\" is not a list")
                t.extra[extra] = [dict(o) | {"_row": i} if isinstance(o, dict) else {"_row": i, "_bad": o}
                                  for i, o in enumerate(items, start=1)]
            return t
        if isinstance(data.get("timeBins"), list):
            return Table(header=[], rows=[], kind="nagix", **base)
        if isinstance(data.get("facilities"), dict):
            t = Table(header=[], rows=[], kind="nagix-facilities", **base)
            t.notes.append(f"{len(data['facilities'])} facilities")
            return t
        if data and all(isinstance(v, dict) and "type" in v and "name" in v for v in data.values()):
            t = Table(header=[], rows=[], kind="nagix-missiles", **base)
            t.notes.append(f"{len(data)} missile types")
            return t
        if isinstance(data.get("events"), list):
            return _objects_table(name, data["events"], base)
        raise FileRejected(f"{name}: is JSON but not a list of launch events (expected a list of "
                           "objects, an object with an \"events\" list, or an nkbrief export)")
    if isinstance(data, list):
        return _objects_table(name, data, base)
    raise FileRejected(f"{name}: is JSON but not a list of launch events (expected a list of "
                       "objects, an object with an \"events\" list, or an nkbrief export)")


def _objects_table(name: str, items: list, base: dict, fixed: list[str] | None = None) -> Table:
    if not items:
        raise FileRejected(f"{name}: the list of events is empty")
    if len(items) > MAX_ROWS:
        raise FileRejected(f"{name}: has {len(items):,} records; the import limit is {MAX_ROWS:,}")
    header: list[str] = list(fixed or [])
    seen = set(header)
    for o in items:
        if isinstance(o, dict):
            for k in o:
                if k not in seen:
                    if len(header) >= MAX_COLUMNS:
                        raise FileRejected(f"{name}: the records have more than {MAX_COLUMNS:,} "
                                           "different keys; the import limit is "
                                           f"{MAX_COLUMNS:,}")
                    seen.add(k)
                    header.append(str(k))
    if not any(isinstance(o, dict) for o in items):
        raise FileRejected(f"{name}: is JSON but its list holds no objects (expected one object "
                           "per launch event)")
    rows: list[tuple[int, list]] = []
    for i, o in enumerate(items, start=1):
        if isinstance(o, dict):
            rows.append((i, [_json_cell(o.get(k)) for k in header]))
        else:
            rows.append((i, [_NotAnObject(o)] + [None] * (len(header) - 1)))
    return Table(header=header, rows=rows, header_row=None, **base)


class _NotAnObject:
    """Marks a JSON list item that is not an object (the importer rejects its row)."""

    def __init__(self, value: object):
        self.value = value

    def __repr__(self) -> str:
        return json.dumps(self.value, ensure_ascii=False)[:60]


def _cut(text: str) -> str:
    return text if len(text) <= 20 else text[:20] + "…"


def _json_constant(name: str) -> rules.Refused:
    """JSON's NaN, Infinity and -Infinity: not numbers; their cells are rejected."""
    return rules.Refused(name, "is not a number")


def _json_int(text: str) -> int | rules.Refused:
    """A JSON integer; one longer than any real value could be is rejected (Python would
    refuse 4,300 digits and more with its own message)."""
    digits = len(text.lstrip("-").lstrip("0"))
    if digits > parse.MAX_INT_DIGITS:
        return rules.Refused(_cut(text), f"is too large a number ({digits:,} digits)", digits)
    return int(text)


def _json_object(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object; a key given twice, or text holding a lone surrogate, becomes a
    rejected cell (never silently the last value, never a crash when printed)."""
    out: dict = {}
    for k, v in pairs:
        if not rules.is_encodable(k):
            k = _shown(k)
        if v.__class__ is str and not v.isascii() and not rules.is_encodable(v):
            v = rules.Refused(_shown(v), "holds a lone surrogate (not a character)")
        if k in out:
            first = out[k]
            shown = _shown(json.dumps(v, ensure_ascii=False, default=str))[:40]
            out[k] = rules.Refused(shown, f"is given twice in this record (first as {_shown(first)!s:.40})"
                                   if not isinstance(first, rules.Refused) else first.reason)
            continue
        out[k] = v
    return out


def _json_cell(v: object) -> object:
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False, default=str)
    return v


__all__ = ["Table", "read_table", "read_delimited", "read_xlsx", "read_json", "xlsx_sheet_names",
           "find_header", "MAX_ROWS", "MAX_COLUMNS", "MAX_CELL_CHARS", "NKBRIEF_JSON_FORMAT"]
