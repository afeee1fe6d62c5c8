"""Sheet writers for the briefing pack (see :mod:`nkbrief.briefing`).

Everything is streamed into openpyxl write-only sheets, row by row, so column widths,
frozen panes and row heights are set before a sheet's first row. Every value goes through
:mod:`nkbrief.xlsx_safe`: text is always a string cell, with quotePrefix when it looks like
a formula; links are only http(s).
"""

from __future__ import annotations

import datetime as _dt
import io
import math
import unicodedata
import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.drawing.image import Image as XLImage
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.packaging.relationship import RelationshipList
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.xml.functions import Element
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from . import palette
from .briefing import SECTIONS
from .context import CATEGORY_LABELS, Nearby, days_array, days_since_previous_launch
from .progress import Progress
from .schema import ACTORS, MISSILE_CLASSES
from .store import frame_records
from .timeline_png import timeline_png
from .xlsx_safe import safe_cell_value, safe_hyperlink

FONT = "Arial"  # on every Windows; LibreOffice maps it to the metric-compatible Liberation Sans
FONT_SIZE = 10
LINE_PT = 12.75  # one line of 10 pt Arial
CHARS_PER_WIDTH = 1.15  # characters of running text per unit of column width (conservative)
HEADER_FILL = "23313F"  # dark slate: the header row of every table
HEADER_TEXT = "FFFFFF"
BAND_FILL = "EEF2F6"
BORDER = "B8C0CC"
TEXT = palette.TEXT.lstrip("#")
MUTED = palette.MUTED_TEXT.lstrip("#")
LINK = "1F5FAD"

KM = '#,##0 "km"'
INT = "#,##0"
DAYS = '#,##0 "d"'
COORD = "0.000"
DATE_FORMATS = {"day": "yyyy-mm-dd", "month": "yyyy-mm", "year": "yyyy"}
DATE = "yyyy-mm-dd"
TIME = "hh:mm"
DATETIME = "yyyy-mm-dd hh:mm"

_THIN = Side(style="thin", color=BORDER)
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_DTYPES = {str: "s", bool: "b", int: "n", float: "n", _dt.date: "d", _dt.datetime: "d", _dt.time: "d"}

#: (field, header, width, kind) of the Event log; kind picks the number format.
EVENT_COLUMNS: list[tuple[str, str, float, str]] = [
    ("id", "Event ID", 30, "text"),
    ("date", "Date (KST)", 11.5, "date"),
    ("date_precision", "Date known to", 9, "text"),
    ("time_kst", "Time (KST)", 8, "time"),
    ("time_utc", "Time (UTC)", 16, "datetime"),
    ("missile_name", "Missile", 20, "text"),
    ("missile_class", "Class", 9, "class"),
    ("count", "Missiles fired", 8.5, "int"),
    ("distance_km", "Distance (km)", 10, "km"),
    ("distance_km_max", "Distance max (km)", 10, "km"),
    ("apogee_km", "Apogee (km)", 10, "km"),
    ("apogee_km_max", "Apogee max (km)", 10, "km"),
    ("launch_site", "Launch site", 22, "text"),
    ("latitude", "Latitude", 8.5, "coord"),
    ("longitude", "Longitude", 8.5, "coord"),
    ("landing_area", "Landing area", 22, "text"),
    ("outcome", "Outcome", 9, "text"),
    ("confirmation", "Confirmation", 12, "text"),
    ("leader_attended", "Leader attended", 9, "yesno"),
    ("description", "Description", 60, "text"),
    ("sources", "Sources", 45, "text"),
    ("notes", "Notes", 35, "text"),
    ("missiles", "Per-missile rows", 9, "int"),
]

MISSILE_COLUMNS: list[tuple[str, str, float, str]] = [
    ("event_id", "Event ID", 30, "text"),
    ("date", "Event date (KST)", 11.5, "date"),
    ("seq", "No.", 5, "int"),
    ("missile_name", "Missile", 20, "text"),
    ("missile_class", "Class", 9, "class"),
    ("time_kst", "Time (KST)", 8, "time"),
    ("time_utc", "Time (UTC)", 16, "datetime"),
    ("distance_km", "Distance (km)", 10, "km"),
    ("distance_km_max", "Distance max (km)", 10, "km"),
    ("apogee_km", "Apogee (km)", 10, "km"),
    ("apogee_km_max", "Apogee max (km)", 10, "km"),
    ("landing_area", "Landing area", 24, "text"),
    ("outcome", "Outcome", 9, "text"),
    ("confirmation", "Confirmation", 12, "text"),
    ("source_ref", "Source", 34, "text"),
    ("notes", "Notes", 40, "text"),
]

_KIND_FORMAT = {"km": KM, "int": INT, "coord": COORD, "time": TIME, "datetime": DATETIME,
                "date": DATE, "days": DAYS, "float": "#,##0.00", "plain": "0"}


# ------------------------------------------------------------------ values
def to_date(v: object) -> _dt.date | None:
    if not v or not isinstance(v, str):
        return None
    try:
        return _dt.date.fromisoformat(v[:10])
    except ValueError:
        return None


def to_time(v: object) -> _dt.time | None:
    if not v or not isinstance(v, str):
        return None
    try:
        h, m = v.split(":")[:2]
        return _dt.time(int(h), int(m))
    except ValueError:
        return None


def to_utc(v: object) -> _dt.datetime | None:
    """An ISO instant as a naive UTC datetime (Excel has no time zones)."""
    if not v or not isinstance(v, str):
        return None
    try:
        t = _dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return t


def shown_date(date: str | None, precision: str | None) -> str:
    """'2017-05-14', or '2017-05' / '2017' when known only to the month / year."""
    if not date:
        return ""
    return date[:7] if precision == "month" else date[:4] if precision == "year" else date


def fmt_km(v, vmax=None) -> str:
    if v is None:
        return "unknown"
    s = f"{v:,.0f}"
    if vmax is not None and vmax > v:
        s += f"–{vmax:,.0f}"
    return s + " km"


def long_date(d: _dt.date) -> str:
    return f"{d.day} {d.strftime('%B %Y')}"


def hf_escape(text: str) -> str:
    """Header/footer text: '&' starts a code there, so a literal one is '&&'."""
    return text.replace("&", "&&")


# ------------------------------------------------------------- vectorised context
def iter_calendar_context(dates: Sequence[str], calendar: pd.DataFrame):
    """``nkbrief.context.nearest_entries`` for many dates at once (same results, tested), yielded
    one date at a time.

    Sorting the calendar once and using ``searchsorted`` keeps a 10,000-event pack fast.
    """
    if calendar is None or calendar.empty or not len(dates):
        for _ in dates:
            yield {"previous": None, "next": None, "during": []}
        return
    cal = calendar.reset_index(drop=True)
    start = days_array(cal["date"])
    ends = cal["end_date"].where(cal["end_date"].notna() & (cal["end_date"] != ""), cal["date"])
    end = days_array(ends)
    d = days_array(list(dates))
    n = len(cal)
    order_s = np.argsort(start, kind="stable")
    s_sorted = start[order_s]
    k = np.searchsorted(s_sorted, d, side="right")
    order_e = np.argsort(end, kind="stable")
    e_sorted = end[order_e]
    j = np.searchsorted(e_sorted, d, side="left") - 1
    recs = frame_records(cal[["id", "title", "category", "date", "end_date"]])

    def entry(i: int, days: int, during: bool = False) -> Nearby:
        r = recs[i]
        e = r["end_date"] if isinstance(r["end_date"], str) and r["end_date"] else None
        return Nearby(r["id"], r["title"], r["category"], r["date"], e, days, during)

    multi = np.flatnonzero(end > start)
    m_start, m_end = start[multi], end[multi]
    for x in range(len(d)):
        dx = int(d[x])
        res: dict = {"previous": None, "next": None, "during": []}
        if k[x] < n:
            i = int(order_s[k[x]])
            res["next"] = entry(i, int(start[i] - dx))
        if j[x] >= 0:
            first = int(np.searchsorted(e_sorted, e_sorted[j[x]], side="left"))
            i = int(order_e[first])
            res["previous"] = entry(i, int(end[i] - dx))
        lo = np.searchsorted(s_sorted, dx, side="left")
        hi = np.searchsorted(s_sorted, dx, side="right")
        today = set(order_s[lo:hi].tolist())  # entries starting that day
        today.update(multi[(m_start <= dx) & (m_end >= dx)].tolist())
        res["during"] = [entry(i, int(start[i] - dx), during=bool(end[i] > start[i]))
                         for i in sorted(today)]
        yield res


def calendar_context(dates: Sequence[str], calendar: pd.DataFrame) -> list[dict]:
    """:func:`iter_calendar_context` as a list."""
    return list(iter_calendar_context(dates, calendar))


# ------------------------------------------------------------------ cells
class _PackCell(Cell):
    """A cell whose style id is worked out once per style, not looked up per cell, and whose
    link is a plain (already checked) URL until the row is written."""

    __slots__ = ("style_id", "link")
    has_style = True


HYPERLINK_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class _LinkRels(RelationshipList):
    """A sheet's relationships, its hyperlink targets kept as plain strings until written."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def __bool__(self) -> bool:
        return bool(len(self) or self.links)

    def to_tree(self):
        tree = super().to_tree()
        for i, url in enumerate(self.links, 1):
            tree.append(Element("Relationship", Type=HYPERLINK_REL, Target=url, TargetMode="External",
                                Id=f"rIdL{i}"))
        return tree


class _StreamWriter(WorksheetWriter):
    """Writes a :class:`_StreamSheet`'s hyperlinks from (cell, URL) pairs, without an object each."""

    def __init__(self, ws, out=None):
        super().__init__(ws, out)
        self._rels = _LinkRels()

    def write_hyperlinks(self):
        links = self.ws.links
        if not links:
            return super().write_hyperlinks()
        xf = self.xf.send(True)
        raw = xf._file
        raw("<hyperlinks>")
        for i, (ref, _) in enumerate(links, 1):
            raw(f'<hyperlink xmlns:r="{_R_NS}" ref="{ref}" r:id="rIdL{i}" />')
        raw("</hyperlinks>")
        self.xf.send(None)
        self._rels.links = [url for _, url in links]
        self.ws.links = []


class _StreamSheet(WriteOnlyWorksheet):
    """A write-only sheet fed ready-made cells.

    Every value already went through :func:`nkbrief.xlsx_safe.safe_cell_value`, so the
    rows are serialised here straight to XML text (several times faster than building an
    element per cell); with lxml installed, or any writer without a raw output, openpyxl's
    own cell writer is used instead. Row heights come from :attr:`heights`.
    """

    def __init__(self, parent, title):
        super().__init__(parent, title)
        self.heights: dict[int, float] = {}
        self.links: list[tuple[str, str]] = []  # (cell, URL), written with the sheet's tail

    def _get_writer(self):
        if self._writer is None:
            self._writer = _StreamWriter(self)
            self._writer.write_top()

    def _values_to_row(self, values, row_idx):  # for openpyxl's cell writer (the fallback)
        for col_idx, cell in enumerate(values, 1):
            if cell is None:
                continue
            cell.column = col_idx
            cell.row = row_idx
            if cell.link:
                cell.hyperlink = cell.link
            yield cell

    def _write_rows(self):
        try:
            xf = self._writer.xf.send(True)
        except StopIteration:
            self._already_saved()
        raw = getattr(xf, "_file", None) if FAST_ROWS else None
        epoch = self.parent.epoch
        with xf.element("sheetData"):
            row_idx = 1
            try:
                while True:
                    row = (yield)
                    if callable(raw):
                        raw(_row_xml(self, row, row_idx, epoch))
                    else:
                        h = self.heights.get(row_idx)
                        if h:
                            self.row_dimensions[row_idx].height = h
                        self._writer.write_row(xf, self._values_to_row(row, row_idx), row_idx)
                    row_idx += 1
            except GeneratorExit:
                pass
        self._writer.xf.send(None)


#: Serialise rows as text (False: openpyxl's per-cell writer; the tests compare the two).
FAST_ROWS = True


def _xml_text(s: str) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s.replace("\r", "&#13;") if "\r" in s else s  # a raw CR would read back as LF


def _row_xml(ws: _StreamSheet, cells, r: int, epoch) -> str:
    """One ``<row>`` of cells, as openpyxl's writer would produce it (inline strings)."""
    h = ws.heights.get(r)
    out = [f'<row r="{r}" ht="{h}" customHeight="1">' if h else f'<row r="{r}">']
    for col, c in enumerate(cells, 1):
        if c is None:
            continue
        ref = f"{get_column_letter(col)}{r}"
        v, t, sid = c._value, c.data_type, c.style_id
        if c.link:
            ws.links.append((ref, c.link))
        if v is None or v == "":
            out.append(f'<c r="{ref}" s="{sid}"/>')
        elif t == "s":
            sp = ' xml:space="preserve"' if v != v.strip() else ""
            out.append(f'<c r="{ref}" s="{sid}" t="inlineStr"><is><t{sp}>{_xml_text(v)}</t></is></c>')
        elif t == "d":
            out.append(f'<c r="{ref}" s="{sid}" t="n"><v>{"%.16g" % to_excel(v, epoch)}</v></c>')
        elif t == "b":
            out.append(f'<c r="{ref}" s="{sid}" t="b"><v>{1 if v else 0}</v></c>')
        else:
            out.append(f'<c r="{ref}" s="{sid}" t="n"><v>{"%.16g" % v}</v></c>')
    out.append("</row>")
    return "".join(out)


# ------------------------------------------------------------------ styles
class Styles:
    """Style arrays registered once per workbook; each key has a plain and a quoted form."""

    def __init__(self, ws):
        self._ws = ws
        self._cache: dict[tuple, tuple] = {}

    def get(self, key: tuple) -> tuple[tuple[StyleArray, int], tuple[StyleArray, int]]:
        """``((plain, its style id), (quoted, its style id))`` for a style key."""
        hit = self._cache.get(key)
        if hit is None:
            c = Cell(self._ws, row=1, column=1)
            self._apply(c, key)
            plain = StyleArray(c._style)
            quoted = StyleArray(plain)
            quoted.quotePrefix = 1
            ids = self._ws.parent._cell_styles
            hit = self._cache[key] = ((plain, ids.add(plain)), (quoted, ids.add(quoted)))
        return hit

    def _apply(self, c: Cell, key: tuple) -> None:
        kind = key[0]
        if kind == "body":  # ("body", band, number_format, extra)
            _, band, fmt, extra = key
            color, bold, underline = TEXT, False, None
            if extra and extra.startswith("class:"):
                color, bold = palette.class_color(extra[6:]).lstrip("#"), True
            elif extra == "link":
                color, underline = LINK, "single"
            elif extra == "bold":
                bold = True
            c.font = Font(name=FONT, size=FONT_SIZE, color=color, bold=bold, underline=underline)
            c.fill = PatternFill("solid", fgColor=BAND_FILL if band else "FFFFFF")
            c.border = _BOX
            c.alignment = Alignment(vertical="top", wrap_text=True,
                                    horizontal="center" if extra == "center" else None)
            if fmt:
                c.number_format = fmt
        elif kind == "header":
            c.font = Font(name=FONT, size=FONT_SIZE, bold=True, color=HEADER_TEXT)
            c.fill = PatternFill("solid", fgColor=HEADER_FILL)
            c.border = Border(left=Side("thin", HEADER_FILL), right=Side("thin", "56657A"),
                              top=Side("thin", HEADER_FILL), bottom=Side("thin", HEADER_FILL))
            c.alignment = Alignment(vertical="center", wrap_text=True)
        elif kind == "banner":  # ("banner", fill, text colour, size)
            _, fill, text, size = key
            c.font = Font(name=FONT, size=size, bold=True, color=text)
            c.fill = PatternFill("solid", fgColor=fill)
            c.alignment = Alignment(horizontal="center", vertical="center")
        elif kind == "title":
            c.font = Font(name=FONT, size=key[1], bold=True, color=TEXT)
            c.alignment = Alignment(vertical="center", wrap_text=len(key) > 2)
        elif kind == "subtitle":  # ("subtitle", size[, "wrap"])
            c.font = Font(name=FONT, size=key[1], italic=True, color=MUTED)
            c.alignment = Alignment(vertical="top", wrap_text=len(key) > 2)
        elif kind == "heading":
            c.font = Font(name=FONT, size=11, bold=True, color=HEADER_FILL)
            c.border = Border(bottom=Side("medium", HEADER_FILL))
        elif kind == "label":
            c.font = Font(name=FONT, size=FONT_SIZE, bold=True, color=MUTED)
            c.alignment = Alignment(vertical="top", wrap_text=True)
        elif kind == "value":  # ("value", number_format, extra)
            _, fmt, extra = key
            c.font = Font(name=FONT, size=FONT_SIZE if extra != "big" else 12, bold=extra in ("bold", "big"),
                          color=TEXT, italic=extra == "muted")
            c.alignment = Alignment(vertical="top", wrap_text=extra != "nowrap",
                                    horizontal="left" if fmt else None)
            if fmt:
                c.number_format = fmt
        elif kind == "note":
            c.font = Font(name=FONT, size=9, italic=True, color=MUTED)
            c.alignment = Alignment(vertical="top", wrap_text=key[1] if len(key) > 1 else False)
        else:  # pragma: no cover - a programming error
            raise KeyError(key)


# ------------------------------------------------------------------- sheets
class Sheet:
    """One write-only worksheet with the pack's page set-up, header and footer."""

    def __init__(self, writer: PackWriter, title: str, widths: Sequence[float], *,
                 gridlines: bool = False, freeze: str | None = None):
        self.w = writer
        self.ws = ws = _StreamSheet(parent=writer.wb, title=title)
        writer.wb._add_sheet(ws)
        self.title = title
        self.widths = list(widths)
        self.ncols = len(widths)
        self.row = 0
        for i, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.sheet_view.showGridLines = gridlines
        ws.sheet_view.zoomScale = 100
        if freeze:
            ws.freeze_panes = freeze
        ps = ws.page_setup
        ps.orientation = "landscape"
        ps.fitToWidth = 1
        ps.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_options.horizontalCentered = True
        m = ws.page_margins
        m.left = m.right = 0.5
        m.top = m.bottom = 0.8
        m.header = m.footer = 0.3
        writer.header_footer(ws)
        self.title_rows = "1:2"

    # rows
    def cell(self, value: object, style: tuple, link: str | None = None) -> Cell:
        return self.w.cell(self.ws, value, style, link)

    def add(self, cells: Sequence, height: float | None = None) -> int:
        self.row += 1
        if height:
            self.ws.heights[self.row] = height
        self.ws.append(cells)
        return self.row

    def blank(self, n: int = 1) -> None:
        for _ in range(n):
            self.add([])

    def heading(self, text: str, span: int | None = None) -> None:
        span = span or self.ncols
        self.add([self.cell(text, ("heading",))] + [self.cell(None, ("heading",)) for _ in range(span - 1)],
                 height=20)

    def title_block(self, title: str, subtitle: str) -> None:
        self.add([self.cell(title, ("title", 15))], height=24)
        self.add([self.cell(subtitle, ("subtitle", 10))], height=16)

    def table(self, name: str, columns: Sequence[tuple[str, str, float, str]], rows: Iterable[list],
              progress_text: str = "") -> int:
        """Header + banded rows + an Excel table with a filter. Returns the number of rows."""
        w = self.w
        header_row = self.add([self.cell(h, ("header",)) for _, h, _, _ in columns], height=30)
        n = 0
        for n, values in enumerate(rows, 1):
            cells, lines = w.body_cells(self.ws, columns, values, band=n % 2 == 0, widths=self.widths)
            self.add(cells, height=lines * LINE_PT + 2.5 if lines > 1 else None)
            w.tick(progress_text)
        if n:
            ref = f"A{header_row}:{get_column_letter(len(columns))}{header_row + n}"
            t = Table(displayName=name, ref=ref, headerRowCount=1)
            t.tableColumns = [TableColumn(id=i, name=h) for i, (_, h, _, _) in enumerate(columns, 1)]
            t.autoFilter = AutoFilter(ref=ref)
            t.tableStyleInfo = TableStyleInfo(name="TableStyleLight15", showRowStripes=False,
                                              showColumnStripes=False, showFirstColumn=False,
                                              showLastColumn=False)
            with warnings.catch_warnings():  # "add table columns manually": done above
                warnings.simplefilter("ignore", UserWarning)
                self.ws.add_table(t)
        return n

    def finish(self, last_col: int | None = None, last_row: int | None = None) -> None:
        col = get_column_letter(last_col or self.ncols)
        self.ws.print_area = f"A1:{col}{max(1, last_row or self.row)}"
        self.ws.print_title_rows = self.title_rows


def use_pack_font(wb) -> None:
    """Make Arial 10 the workbook's Normal font, so column widths (measured in the Normal
    font's digits) and our row-height estimates mean the same in Excel and LibreOffice."""
    from openpyxl.utils.indexed_list import IndexedList

    base = Font(name=FONT, size=FONT_SIZE, family=2)
    wb._fonts = IndexedList([base])
    wb._named_styles["Normal"].font = base


class PackWriter:
    """Writes every chosen section of one pack into a write-only workbook."""

    def __init__(self, wb, data, opts, progress: Progress | None):
        self.wb = wb
        use_pack_font(wb)
        self.data = data
        self.o = opts
        self.progress = progress
        self.styles: Styles | None = None
        ev = data.events
        # Rows are turned into dicts chunk by chunk as each sheet streams, not all at once.
        self.first, self.last = frame_records(ev.iloc[[0, -1]])
        per_event = sum(1 for s in ("event_log", "context", "sources") if s in opts.sections)
        self.total = max(1, len(ev) * (per_event + ("summary" in opts.sections))
                         + data.missile_rows * ("missiles" in opts.sections)
                         + len(data.statements) * ("stakeholders" in opts.sections))
        self.done = 0
        self._table_names: set[str] = set()

    # ----------------------------------------------------------- plumbing
    def records(self):
        """Each event's full record (plus its number of per-missile records), in date order,
        read from the store one at a time."""
        get, counts = self.data.store.get_event, self.data.missile_counts
        for eid in self.data.events["id"]:
            rec = get(eid)
            rec["missiles"] = counts.get(eid, 0)
            yield rec

    def light_records(self, chunk: int = 2000):
        """The in-memory columns of each event as dicts, in date order, a chunk at a time."""
        ev = self.data.events
        for start in range(0, len(ev), chunk):
            yield from frame_records(ev.iloc[start:start + chunk])

    def tick(self, text: str = "", n: int = 1) -> None:
        self.done += n
        if self.progress is not None and (self.done % 200 == 0 or self.done >= self.total):
            self.progress(min(self.done, self.total), self.total, text)

    def stage(self, text: str) -> None:
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total, text)

    def cell(self, ws, value: object, style: tuple, link: str | None = None) -> Cell:
        if self.styles is None:
            self.styles = Styles(ws)
        v, quote = safe_cell_value(value)
        c = _PackCell.__new__(_PackCell)  # the fields Cell.__init__ would set, without its work
        c.parent = ws
        c.row = c.column = 1
        c._value = v
        c.data_type = "n" if v is None else (_DTYPES.get(type(v)) or ("d" if isinstance(v, _dt.date) else "n"))
        c._hyperlink = c._comment = None
        c._style, c.style_id = self.styles.get(style)[1 if quote else 0]
        c.link = safe_hyperlink(link) if link else None
        return c

    def body_cells(self, ws, columns, values: Sequence, *, band: bool,
                   widths: Sequence[float] = ()) -> tuple[list[Cell], int]:
        """A table row's cells, and the number of text lines its tallest cell needs."""
        out = []
        lines = 1
        for i, ((_, _, _, kind), v) in enumerate(zip(columns, values)):
            fmt, extra, link = _KIND_FORMAT.get(kind), None, None
            if isinstance(v, tuple):  # (value, number format / "link:url" / "bold" / "center")
                v, hint = v
                if hint and hint.startswith("link:"):
                    link, extra = hint[5:], "link" if safe_hyperlink(hint[5:]) else None
                elif hint in ("bold", "center"):
                    extra = hint
                elif hint:
                    fmt = hint
            if kind == "class" and v:
                extra = f"class:{v}"
            if isinstance(v, str) and i < len(widths):
                lines = max(lines, text_lines(v, widths[i]))
            out.append(self.cell(ws, v, ("body", band, fmt, extra), link))
        return out, lines

    def table_name(self, base: str) -> str:
        name, i = base, 1
        while name in self._table_names:
            i += 1
            name = f"{base}{i}"
        self._table_names.add(name)
        return name

    def header_footer(self, ws) -> None:
        m = self.o.marking
        color = m.colour.lstrip("#")
        mark = hf_escape(m.text)
        title = self.o.title if len(self.o.title) <= 60 else self.o.title[:59] + "…"
        for part in (ws.oddHeader.center, ws.oddFooter.center):
            part.text = mark
            part.font = f"{FONT},Bold"
            part.size = 12
            part.color = color
        ws.oddHeader.left.text = hf_escape(title)
        ws.oddHeader.left.size = 8
        ws.oddHeader.right.text = "&A"
        ws.oddHeader.right.size = 8
        ws.oddFooter.left.text = hf_escape(f"Prepared {self.o.date.isoformat()}")
        ws.oddFooter.left.size = 8
        ws.oddFooter.right.text = "Page &P of &N"
        ws.oddFooter.right.size = 8

    # -------------------------------------------------------------- scope
    def span_text(self) -> str:
        ev = self.data.events
        first, last = self.first, self.last
        a = shown_date(first["date"], first["date_precision"])
        b = shown_date(last["date"], last["date_precision"])
        return a if a == b else f"{a} to {b}"

    def counts(self) -> dict:
        ev = self.data.events
        fired = ev["count"].dropna()
        return {
            "events": len(ev),
            "missiles": int(fired.sum()) if len(fired) else 0,
            "count_unknown": int(ev["count"].isna().sum()),
            "missile_rows": self.data.missile_rows,
            "days": int(ev["date"].nunique()),
        }

    def class_counts(self) -> list[tuple[str, int]]:
        vc = self.data.events["missile_class"].value_counts()
        return [(c, int(vc[c])) for c in MISSILE_CLASSES if c in vc.index]

    def scope_line(self) -> str:
        c = self.counts()
        return (f"{c['events']:,} launch event{'s' if c['events'] != 1 else ''} · "
                f"{self.span_text()} (Korean dates) · {self.o.marking.text}")

    # -------------------------------------------------------------- write
    def write(self) -> None:
        props = self.wb.properties
        props.title = self.o.title
        props.subject = self.o.subtitle or None
        props.creator = self.o.author or None
        props.lastModifiedBy = self.o.author or None
        props.keywords = self.o.marking.text
        props.description = f"Classification: {self.o.marking.text}"
        props.category = self.o.marking.text
        self.wb.custom_doc_props.append(StringProperty(name="Classification", value=self.o.marking.text))
        if self.o.organisation:
            self.wb.custom_doc_props.append(StringProperty(name="Organisation", value=self.o.organisation))
        self.wb.custom_doc_props.append(StringProperty(name="Prepared on", value=self.o.date.isoformat()))
        for key in self.o.sections:
            getattr(self, f"write_{key}")()

    # -------------------------------------------------------------- cover
    def write_cover(self) -> None:
        self.stage("Cover")
        o, m = self.o, self.o.marking
        sh = Sheet(self, "Cover", [2.5, 20, 100, 2.5])
        banner = ("banner", m.colour.lstrip("#"), m.text_colour.lstrip("#"), 14)

        def banner_row() -> None:
            r = sh.add([sh.cell(m.text, banner)] + [sh.cell(None, banner) for _ in range(3)], height=26)
            sh.ws.merged_cells.add(f"A{r}:D{r}")

        def para(label: str, text: str, style=("value", None, None), chars: int = 105) -> None:
            sh.add([None, sh.cell(label, ("label",)), sh.cell(text, style)], height=_height(text, chars))

        banner_row()
        sh.blank()
        r = sh.add([None, sh.cell(o.title, ("title", 22, "wrap"))], height=_height(o.title, 62, 30))
        sh.ws.merged_cells.add(f"B{r}:C{r}")
        if o.subtitle:
            r = sh.add([None, sh.cell(o.subtitle, ("subtitle", 14, "wrap"))], height=_height(o.subtitle, 80, 20))
            sh.ws.merged_cells.add(f"B{r}:C{r}")
        sh.blank()
        c = self.counts()
        sh.add([None, sh.cell("Scope", ("heading",)), sh.cell(None, ("heading",))], height=20)
        para("Period", f"{self.span_text()} (Korean Standard Time, UTC+9)")
        missiles = f"{c['missiles']:,} missiles fired"
        if c["count_unknown"]:
            missiles += f" (number not reported for {c['count_unknown']:,} events)"
        para("Launches", f"{c['events']:,} launch events on {c['days']:,} days · {missiles} · "
                         f"{c['missile_rows']:,} per-missile records")
        para("Classes", " · ".join(f"{cl} {n:,}" for cl, n in self.class_counts()))
        para("Selection", o.filters or "Events chosen individually; no filter recorded.")
        para("Contents", " · ".join(SECTIONS[k] for k in o.sections if k != "cover"))
        sh.blank()
        sh.add([None, sh.cell("Key judgments", ("heading",)), sh.cell(None, ("heading",))], height=20)
        if o.key_judgments:
            for i, text in enumerate(o.key_judgments, 1):
                sh.add([None, sh.cell(f"{i}.", ("value", None, "big")), sh.cell(text, ("value", None, "big"))],
                       height=_height(text, 88, 17))
        else:
            sh.add([None, None, sh.cell("No key judgments were recorded for this pack.", ("value", None, "muted"))])
        sh.blank()
        sh.add([None, sh.cell("Data sources", ("heading",)), sh.cell(None, ("heading",))], height=20)
        para("Store", self.origin_note())
        para("Sources", self.sources_note())
        para("Conventions", "Dates and times are Korean Standard Time (UTC+9) unless marked UTC. A date "
             "known only to the month or year is shown as such. Distances and apogees are as reported "
             "by the cited sources; a range is given as low and high values. Text from the data is "
             "reproduced as recorded.")
        sh.blank()
        who = ", ".join(x for x in (o.author, o.organisation) if x) or "not recorded"
        para("Prepared by", who, ("value", None, "bold"))
        para("Prepared on", long_date(o.date), ("value", None, "bold"))
        sh.blank()
        banner_row()
        sh.title_rows = "1:1"
        sh.ws.page_setup.fitToHeight = 1  # a memo: one page
        sh.finish()

    def origin_note(self) -> str:
        parts = []
        labels = {"seed": "from the bundled dataset", "import": "imported", "manual": "entered or edited by hand",
                  "init": "from the initial store"}
        for kind, file_name, n in self.data.origins:
            what = labels.get(kind, kind)
            if kind == "import" and file_name:
                what = f"imported from {file_name}"
            parts.append(f"{n:,} {what}")
        note = "Events " + "; ".join(parts) + "." if parts else "Events from the nkbrief store."
        if self.data.data_as_of:
            note += f" Latest change to these events: {self.data.data_as_of[:10]}."
        return note

    def sources_note(self) -> str:
        n_src = len(self.bibliography()[0])
        unsourced = self.data.unsourced
        s = f"The events cite {n_src:,} distinct sources, listed on the Sources sheet."
        if unsourced:
            s += f" {unsourced:,} event{' has' if unsourced == 1 else 's have'} no source recorded."
        return s

    # ------------------------------------------------------------ summary
    def write_summary(self) -> None:
        self.stage("Summary")
        ev = self.data.events
        sh = Sheet(self, "Summary", [26, 15] + [10] * 14)
        sh.title_block("Summary", self.scope_line())
        sh.blank()
        sh.heading("Key figures", 7)
        c = self.counts()

        def fig(label: str, value: object, fmt: str | None = None, note: str = "") -> None:
            sh.add([sh.cell(label, ("label",)), sh.cell(value, ("value", fmt, "big")),
                    sh.cell(note, ("note",))])

        fig("Launch events", c["events"], INT, f"on {c['days']:,} launch days")
        fig("Missiles fired", c["missiles"], INT,
            f"number not reported for {c['count_unknown']:,} events" if c["count_unknown"] else "")
        fig("Per-missile records", c["missile_rows"], INT)
        fig("Missile classes", len(self.class_counts()), INT,
            " · ".join(f"{cl} {n:,}" for cl, n in self.class_counts()))
        for what, lo, hi in (("Longest distance", "distance_km", "distance_km_max"),
                             ("Highest apogee", "apogee_km", "apogee_km_max")):
            best = ev[hi].fillna(ev[lo])
            if best.notna().any():
                i = int(best.idxmax())
                r = frame_records(ev.iloc[[i]])[0]
                fig(what, float(best.iloc[i]), KM, f"{r['missile_name'] or r['missile_class']}, "
                    f"{shown_date(r['date'], r['date_precision'])} ({r['id']})")
            else:
                fig(what, "not reported")
        first, last = self.first, self.last
        fig("First launch", to_date(first["date"]), DATE_FORMATS.get(first["date_precision"], DATE),
            f"{first['missile_name'] or first['missile_class']} ({first['id']})")
        fig("Last launch", to_date(last["date"]), DATE_FORMATS.get(last["date_precision"], DATE),
            f"{last['missile_name'] or last['missile_class']} ({last['id']})")
        oc = ev["outcome"].value_counts()
        fig("Failures reported", int(oc.get("failure", 0)), INT,
            " · ".join(f"{k} {int(oc[k]):,}" for k in ("success", "failure", "unknown") if k in oc))
        sh.blank()
        charts_row = sh.row + 1
        sh.blank(18)  # the two charts sit here, side by side
        if len(self._periods()[0]) > 16:  # a long table starts on a page of its own
            sh.ws.row_breaks.append(Break(id=sh.row))
        else:  # a one-page dashboard
            sh.ws.page_setup.fitToHeight = 1

        # Launches per period by class: the bar chart's data, printed as a table.
        periods, by_class, monthly = self._periods()
        classes = [cl for cl, _ in self.class_counts()]
        unit = "month" if monthly else "year"
        sh.heading(f"Launch events per {unit}, by class", min(14, len(classes) + 2))
        cols = [("period", unit.capitalize(), 0, "text")] + [(cl, cl, 0, "int") for cl in classes] + \
               [("total", "Total", 0, "int")]
        header_row = sh.row + 1
        sh.table(self.table_name("LaunchesPerPeriod"), cols,
                 ([p] + [int(by_class[cl][p]) for cl in classes] + [(int(sum(by_class[cl][p] for cl in classes)), "bold")]
                  for p in periods))
        last_printed = sh.row
        bar = BarChart()
        bar.type, bar.grouping, bar.overlap, bar.gapWidth = "col", "stacked", 100, 40
        bar.title = f"Launch events per {unit}, by class"
        bar.y_axis.title = "Launch events"
        data_ref = Reference(sh.ws, min_col=2, max_col=1 + len(classes), min_row=header_row,
                             max_row=header_row + len(periods))
        bar.add_data(data_ref, titles_from_data=True)
        bar.set_categories(Reference(sh.ws, min_col=1, min_row=header_row + 1, max_row=header_row + len(periods)))
        for s, cl in zip(bar.series, classes):
            col = palette.class_color(cl).lstrip("#")
            s.graphicalProperties.solidFill = col
            s.graphicalProperties.line.solidFill = col
        bar.x_axis.delete = False
        bar.y_axis.delete = False
        bar.x_axis.tickLblSkip = max(1, math.ceil(len(periods) / 24))
        bar.legend.position = "b"
        bar.width, bar.height = 16.5, 8.5
        sh.ws.add_chart(bar, f"A{charts_row}")

        # Distance over time: one scatter series per class. Its data sits below the print
        # area (one row per event with a known distance, the distance in its class column).
        sh.blank(2)
        known = ev[ev["distance_km"].notna()]
        scat_classes = [cl for cl in classes if (known["missile_class"] == cl).any()]
        scatter = ScatterChart()
        scatter.title = "Distance flown over time"
        scatter.style = 13
        scatter.x_axis.title = "Date (KST)"
        scatter.y_axis.title = "Distance (km, log scale)"
        scatter.x_axis.delete = False
        scatter.y_axis.delete = False
        scatter.legend.position = "b"
        scatter.width, scatter.height = 16.5, 8.5
        if len(known) and scat_classes:
            sh.add([sh.cell("Chart data: distance by class, one row per event with a known distance "
                            "(read by the scatter chart; not printed)", ("note",))])
            hdr = sh.add([sh.cell("Date (KST)", ("header",))] + [sh.cell(cl, ("header",)) for cl in scat_classes])
            idx = {cl: i for i, cl in enumerate(scat_classes)}
            for r in frame_records(known[["date", "missile_class", "distance_km"]]):
                row: list = [sh.cell(to_date(r["date"]), ("value", DATE, "nowrap"))] + [None] * len(scat_classes)
                row[1 + idx[r["missile_class"]]] = sh.cell(r["distance_km"], ("value", KM, "nowrap"))
                sh.add(row)
                self.tick("Summary")
            self.tick("Summary", len(ev) - len(known))
            n = len(known)
            xref = Reference(sh.ws, min_col=1, min_row=hdr + 1, max_row=hdr + n)
            for i, cl in enumerate(scat_classes):
                yref = Reference(sh.ws, min_col=2 + i, min_row=hdr, max_row=hdr + n)
                s = Series(yref, xref, title_from_data=True)
                col = palette.class_color(cl).lstrip("#")
                s.marker.symbol = "circle"
                s.marker.size = 6
                s.marker.graphicalProperties.solidFill = col
                s.marker.graphicalProperties.line.solidFill = _darker(col)
                s.graphicalProperties.line.noFill = True
                scatter.series.append(s)
            d0, d1 = self._date_range()
            scatter.x_axis.scaling.min = math.floor(to_excel(d0))
            scatter.x_axis.scaling.max = math.ceil(to_excel(d1))
            span_years = (d1 - d0).days / 365.25
            if span_years > 3:
                scatter.x_axis.number_format = "yyyy"
                scatter.x_axis.majorUnit = 365.25 * max(1, math.ceil(span_years / 10))
            else:
                scatter.x_axis.number_format = "mmm yyyy"
                scatter.x_axis.majorUnit = 30.44 * max(1, math.ceil(span_years * 12 / 10))
            scatter.y_axis.scaling.logBase = 10
            lo = float(known["distance_km"][known["distance_km"] > 0].min() or 1)
            scatter.y_axis.scaling.min = 10 ** math.floor(math.log10(max(lo, 1)))
            scatter.y_axis.number_format = "#,##0"
        else:
            self.tick("Summary", len(ev))
        scatter.x_axis.majorGridlines = None
        sh.ws.add_chart(scatter, f"H{charts_row}")
        sh.finish(last_col=16, last_row=last_printed)

    def _date_range(self) -> tuple[_dt.date, _dt.date]:
        d0 = to_date(self.first["date"])
        d1 = to_date(self.last["date"])
        pad = max(7, (d1 - d0).days // 40)
        return d0 - _dt.timedelta(days=pad), d1 + _dt.timedelta(days=pad)

    def _periods(self) -> tuple[list[str], dict, bool]:
        """Contiguous periods (years, or months for spans up to two years) and counts by class."""
        ev = self.data.events
        d0, d1 = to_date(self.first["date"]), to_date(self.last["date"])
        monthly = (d1 - d0).days <= 731
        if monthly:
            periods, y, mo = [], d0.year, d0.month
            while (y, mo) <= (d1.year, d1.month):
                periods.append(f"{y:04d}-{mo:02d}")
                y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
            keys = ev["date"].str[:7]
        else:
            periods = [str(y) for y in range(d0.year, d1.year + 1)]
            keys = ev["date"].str[:4]
        table = pd.crosstab(keys, ev["missile_class"])
        by_class = {cl: {p: (int(table.at[p, cl]) if p in table.index and cl in table.columns else 0)
                         for p in periods} for cl in MISSILE_CLASSES}
        return periods, by_class, monthly

    # ---------------------------------------------------------- event log
    def write_event_log(self) -> None:
        self.stage("Event log")
        sh = Sheet(self, "Event log", [w for _, _, w, _ in EVENT_COLUMNS], gridlines=False, freeze="C4")
        sh.title_block("Event log", self.scope_line() + " · one row per launch event")

        def rows():
            for r in self.records():
                vals = []
                for f, _, _, kind in EVENT_COLUMNS:
                    v = r[f]
                    if f == "date":
                        v = (to_date(v), DATE_FORMATS.get(r["date_precision"], DATE))
                    elif kind == "time":
                        v = to_time(v)
                    elif kind == "datetime":
                        v = to_utc(v)
                    elif kind == "yesno":
                        v = None if v is None else ("yes" if v else "no")
                    elif f == "sources":
                        v = "\n".join(v or [])
                    vals.append(v)
                yield vals

        sh.table(self.table_name("EventLog"), EVENT_COLUMNS, rows(), "Event log")
        sh.title_rows = "1:3"
        sh.finish()

    # ----------------------------------------------------------- missiles
    def write_missiles(self) -> None:
        self.stage("Missiles")
        sh = Sheet(self, "Missiles", [w for _, _, w, _ in MISSILE_COLUMNS], freeze="B4")
        total = self.data.missile_rows
        sh.title_block("Missiles", f"{total:,} per-missile records for the selected events · "
                                   f"{self.o.marking.text}")
        if not total:
            sh.blank()
            sh.add([sh.cell("No per-missile records are held for the selected events; the Event log "
                            "gives each event's count and class.", ("value", None, "muted"))])
            sh.finish()
            return
        counts, missiles_of = self.data.missile_counts, self.data.store.missiles

        def rows():  # event by event in date order, each event's missiles in sequence
            for e in self.light_records():
                if not counts.get(e["id"]):
                    continue
                date = (to_date(e["date"]), DATE_FORMATS.get(e["date_precision"], DATE))
                for r in missiles_of(e["id"]):
                    vals = []
                    for f, _, _, kind in MISSILE_COLUMNS:
                        v = date if f == "date" else r.get(f)
                        if kind == "time":
                            v = to_time(v)
                        elif kind == "datetime":
                            v = to_utc(v)
                        elif f == "source_ref" and v:
                            v = (v, "link:" + v)
                        elif kind == "int" and v is not None:
                            v = int(v)
                        vals.append(v)
                    yield vals

        sh.table(self.table_name("Missiles"), MISSILE_COLUMNS, rows(), "Missiles")
        sh.title_rows = "1:3"
        sh.finish()

    # ----------------------------------------------------------- timeline
    def write_timeline(self) -> None:
        self.stage("Timeline picture")
        cols = [("date", "Date (KST)", 11.5, "date"), ("end_date", "Until", 11.5, "date"),
                ("category", "Category", 16, "text"), ("title", "Calendar entry", 40, "text"),
                ("description", "Description", 72, "text")]
        sh = Sheet(self, "Timeline", [w for _, _, w, _ in cols])
        sh.title_block("Timeline", "Launches by date and distance flown, with the political calendar · "
                       + self.o.marking.text)
        png = timeline_png(self.data.events, self.data.calendar, width=2400, height=1200,
                           title=f"{self.o.title}: launches by date and distance (KST)")
        img = XLImage(io.BytesIO(png))
        img.width, img.height = 1120, 560
        sh.ws.add_image(img, "A3")
        sh.blank(int(560 / 20) + 2)
        # The calendar entries the picture can show, as a table to read them by.
        d0, d1 = self._date_range()
        cal = self.data.calendar
        if not cal.empty:
            end = cal["end_date"].where(cal["end_date"].notna() & (cal["end_date"] != ""), cal["date"])
            cal = cal[(end >= d0.isoformat()) & (cal["date"] <= d1.isoformat())]
        sh.heading("Political calendar entries in this period", len(cols))
        if cal.empty:
            sh.add([sh.cell("No calendar entries fall in this period.", ("value", None, "muted"))])
        else:
            sh.table(self.table_name("Calendar"), cols,
                     ([to_date(r["date"]), to_date(r["end_date"]),
                       CATEGORY_LABELS.get(r["category"], r["category"]), r["title"], r["description"]]
                      for r in frame_records(cal)))
        sh.finish()

    # ------------------------------------------------------------ context
    def write_context(self) -> None:
        self.stage("Context & timing")
        # Every column is at least 11 wide: the timing analysis's tables share them, with dates.
        cols = [("date", "Date (KST)", 11.5, "date"), ("id", "Event ID", 30, "text"),
                ("class", "Class", 11, "class"), ("missile", "Missile", 20, "text"),
                ("prev", "Previous calendar entry", 44, "text"), ("prev_days", "Days after", 11, "int"),
                ("next", "Next calendar entry", 44, "text"), ("next_days", "Days before", 11, "int"),
                ("during", "Under way that day", 36, "text"),
                ("gap", "Days since previous launch", 11, "int")]
        # an 11th column for the timing analysis's widest table
        sh = Sheet(self, "Context & timing", [w for _, _, w, _ in cols] + ([30] if self.o.timing else []))
        sh.title_block("Context & timing", "Each launch against the political calendar"
                       + (" and the timing analysis" if self.o.timing else "") + " · " + self.o.marking.text)
        if self.o.timing:
            sh.blank()
            self._write_timing(sh, self.o.timing)
        sh.blank()
        sh.heading("Each launch and the calendar entries around it", len(cols))
        ev = self.data.events
        ctx = iter_calendar_context(list(ev["date"]), self.data.calendar)
        gaps = days_since_previous_launch(ev).tolist()

        def rows():
            for r, c, gap in zip(self.light_records(), ctx, gaps):
                prev, nxt = c["previous"], c["next"]
                yield [(to_date(r["date"]), DATE_FORMATS.get(r["date_precision"], DATE)), r["id"],
                       r["missile_class"], r["missile_name"],
                       prev.phrase() if prev else None, -prev.days if prev else None,
                       nxt.phrase() if nxt else None, nxt.days if nxt else None,
                       "\n".join(n.phrase() for n in c["during"]) or None,
                       None if gap is None or gap != gap else int(gap)]

        sh.table(self.table_name("Context"), cols, rows(), "Context & timing")
        sh.finish()

    def _write_timing(self, sh: Sheet, timing: dict) -> None:
        """The timing analysis: nkbrief.timing's sheet sections when the dict is its result
        (or carries ``"sections"`` in that shape), else a generic rendering of the dict."""
        sections = timing_sections(timing)
        if sections is None:
            self._write_mapping(sh, timing)
            return
        for sec in sections:
            kind = sec.get("kind")
            rows = list(sec.get("rows") or [])
            sh.heading(str(sec.get("title") or "Timing analysis"), sh.ncols)
            if kind == "pairs":
                for r in rows:
                    self._pair(sh, r[0] if r else None, r[1] if len(r) > 1 else None)
            elif kind == "notes":
                for r in rows:
                    text = r[0] if r else ""
                    row = sh.add([sh.cell("•", ("value", None, None)), sh.cell(text, ("value", None, None))],
                                 height=_height(str(text), int(sum(sh.widths[1:9]) * CHARS_PER_WIDTH) - 3, LINE_PT))
                    sh.ws.merged_cells.add(f"B{row}:I{row}")
            elif kind == "table" and rows:
                header = [str(h) for h in sec.get("header") or []]
                cols = [(f"c{i}", h or f"Column {i + 1}", 0, _value_kind(rows, i, h)) for i, h in enumerate(header)]
                header_row = sh.row + 1
                sh.table(self.table_name("Timing"), cols, ([_timing_value(v) for v in r] for r in rows))
                if sec.get("chart") and len(header) >= 3:
                    self._timing_chart(sh, header_row, len(rows), header)
            elif kind == "table":
                sh.add([sh.cell("None.", ("value", None, "muted"))])
            sh.blank()

    def _pair(self, sh: Sheet, label: object, value: object) -> None:
        value = _timing_value(value)
        fmt = None
        if isinstance(value, float):
            fmt = "0.0000" if abs(value) < 1 else "#,##0.00"
        elif isinstance(value, int) and not isinstance(value, bool):
            fmt = "0" if _is_label_number(str(label)) else INT
        elif isinstance(value, _dt.date):
            fmt = DATE
        width = sum(sh.widths[2:7])
        text = value if isinstance(value, str) else ""
        row = sh.add([sh.cell(label, ("label",)), None, sh.cell(value, ("value", fmt, None))],
                     height=_height(text, int(width * CHARS_PER_WIDTH) - 3, LINE_PT) if len(text) > 60 else None)
        sh.ws.merged_cells.add(f"A{row}:B{row}")
        sh.ws.merged_cells.add(f"C{row}:G{row}")

    def _timing_chart(self, sh: Sheet, header_row: int, n: int, header: list[str]) -> None:
        chart = BarChart()
        chart.type, chart.grouping, chart.gapWidth = "col", "clustered", 30
        chart.title = header[0]
        chart.y_axis.title = header[1]
        chart.add_data(Reference(sh.ws, min_col=2, max_col=3, min_row=header_row, max_row=header_row + n),
                       titles_from_data=True)
        chart.set_categories(Reference(sh.ws, min_col=1, min_row=header_row + 1, max_row=header_row + n))
        for s, col in zip(chart.series, (palette.ACCENT.lstrip("#"), "B8C0CC")):
            s.graphicalProperties.solidFill = col
            s.graphicalProperties.line.solidFill = col
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.legend.position = "b"
        chart.width, chart.height = 16, 8
        sh.ws.add_chart(chart, f"E{header_row}")

    def _write_mapping(self, sh: Sheet, timing: dict, depth: int = 0) -> None:
        """Any other dict: scalars as label/value, lists as bullets, lists of dicts as tables."""
        title = timing.get("title") if isinstance(timing.get("title"), str) else None
        sh.heading(title or "Timing analysis", sh.ncols)
        for key, value in timing.items():
            if key == "title":
                continue
            label = str(key).replace("_", " ").capitalize()
            if isinstance(value, dict):
                if depth < 2:
                    sh.blank()
                    self._write_mapping(sh, {"title": label, **value}, depth + 1)
                    continue
                value = "; ".join(f"{k}: {v}" for k, v in value.items())
            if isinstance(value, pd.DataFrame):
                value = frame_records(value)
            if isinstance(value, (list, tuple)) and value and all(isinstance(x, dict) for x in value):
                keys = list(dict.fromkeys(k for x in value for k in x))[: sh.ncols]
                sh.add([sh.cell(label, ("label",))])
                cols = [(str(k), str(k).replace("_", " ").capitalize(), 0, "text") for k in keys]
                sh.table(self.table_name("Timing"), cols,
                         ([_timing_value(x.get(k)) for k in keys] for x in value))
            elif isinstance(value, (list, tuple)):
                sh.add([sh.cell(label, ("label",))])
                for x in value:
                    sh.add([sh.cell("•", ("value", None, None)), sh.cell(_timing_value(x), ("value", None, "nowrap"))])
            else:
                self._pair(sh, label, value)

    # ------------------------------------------------------- stakeholders
    def write_stakeholders(self) -> None:
        self.stage("Stakeholder views")
        cols = [("actor", "Actor", 13, "text"), ("date", "Date (KST)", 11.5, "date"),
                ("id", "Event ID", 30, "text"), ("missile", "Missile", 20, "text"),
                ("summary", "Statement", 80, "text"), ("source", "Source", 40, "text")]
        sh = Sheet(self, "Stakeholder views", [w for _, _, w, _ in cols], freeze="A4")
        st = self.data.statements
        sh.title_block("Stakeholder views", f"{len(st):,} statements by actor and event · {self.o.marking.text}")
        if st.empty:
            sh.blank()
            sh.add([sh.cell("No statements are recorded for the selected events.", ("value", None, "muted"))])
            sh.finish()
            return
        ev = self.data.events
        by_id = {r["id"]: r for r in frame_records(ev[ev["id"].isin(set(st["event_id"]))])}
        order = {a: i for i, a in enumerate(ACTORS)}
        recs = frame_records(st)
        recs.sort(key=lambda s: (order.get(s["actor"], len(order)), by_id[s["event_id"]]["date"],
                                 s["event_id"]))

        def rows():
            for s in recs:
                e = by_id[s["event_id"]]
                src = s["source"]
                yield [(s["actor"], "bold"), (to_date(e["date"]), DATE_FORMATS.get(e["date_precision"], DATE)),
                       s["event_id"], e["missile_name"] or e["missile_class"], s["summary"],
                       (src, "link:" + src) if src else None]

        sh.table(self.table_name("Statements"), cols, rows(), "Stakeholder views")
        sh.title_rows = "1:3"
        sh.finish()

    # ------------------------------------------------------------ sources
    def bibliography(self) -> tuple[list[str], dict[str, int], dict[str, int]]:
        """(sources in order of first citation, number of each, events citing each)."""
        if getattr(self, "_biblio", None) is None:
            order: dict[str, int] = {}
            cites: dict[str, int] = {}
            for r in self.records():
                for s in dict.fromkeys(x.strip() for x in (r["sources"] or []) if x and x.strip()):
                    if s not in order:
                        order[s] = len(order) + 1
                    cites[s] = cites.get(s, 0) + 1
            self._biblio = (list(order), order, cites)
        return self._biblio

    def write_sources(self) -> None:
        self.stage("Sources")
        sh = Sheet(self, "Sources", [11.5, 80, 12, 30, 24])
        sources, number, cites = self.bibliography()
        sh.title_block("Sources", f"{len(sources):,} sources cited by the selected events · {self.o.marking.text}")
        sh.blank()
        sh.heading("Bibliography (numbered in order of first citation)", 3)
        if sources:
            bib_cols = [("n", "No.", 0, "int"), ("source", "Source", 0, "text"),
                        ("events", "Events citing", 0, "int")]
            sh.table(self.table_name("Bibliography"), bib_cols,
                     ([(number[s], "center"), (s, "link:" + s), cites[s]] for s in sources))
        else:
            sh.add([None, sh.cell("No sources are recorded for the selected events.", ("value", None, "muted"))])
        sh.blank()
        sh.heading("Each event's sources", 5)
        ev_cols = [("date", "Date (KST)", 0, "date"), ("sources", "Sources", 0, "text"),
                   ("refs", "Numbers", 0, "text"), ("id", "Event ID", 0, "text"),
                   ("missile", "Missile", 0, "text")]

        def rows():
            for r in self.records():
                srcs = list(dict.fromkeys(x.strip() for x in (r["sources"] or []) if x and x.strip()))
                yield [(to_date(r["date"]), DATE_FORMATS.get(r["date_precision"], DATE)),
                       "\n".join(srcs) or "none recorded",
                       " ".join(f"[{number[s]}]" for s in srcs) or None,
                       r["id"], r["missile_name"] or r["missile_class"]]

        sh.table(self.table_name("EventSources"), ev_cols, rows(), "Sources")
        sh.finish()


def _text_width(s: str) -> int:
    """Characters, counting East Asian wide ones twice."""
    if s.isascii():
        return len(s)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def text_lines(text: str, width: float) -> int:
    """Lines ``text`` needs when wrapped in a column ``width`` units wide.

    Row heights are set explicitly, because LibreOffice does not fit them when it opens a
    file and Excel never fits merged cells. 10 pt Arial averages about 1.2 characters of
    running text per unit of column width; a few are kept back for word breaks.
    """
    cpl = max(4, int(width * CHARS_PER_WIDTH) - 3)
    if len(text) <= cpl and "\n" not in text and text.isascii():
        return 1
    return sum(max(1, math.ceil(_text_width(p) / cpl)) for p in text.split("\n"))


def _height(text: str | None, chars_per_line: int, line_height: float = 14.5) -> float:
    """Row height (points) for wrapped text in one cell; Excel does not auto-fit merged cells."""
    if not text:
        return line_height + 2
    lines = sum(max(1, math.ceil(len(p) / chars_per_line)) for p in str(text).split("\n"))
    return min(409, lines * line_height + 3)


def timing_sections(timing: dict) -> list[dict] | None:
    """The timing analysis as sheet sections, or None when the dict has another shape."""
    secs = timing.get("sections")
    if isinstance(secs, list) and all(isinstance(x, dict) and "kind" in x for x in secs):
        return secs
    if "histogram" in timing and "summary" in timing and "per_launch" in timing:
        try:
            from .timing import timing_sheet_sections
        except ImportError:  # the timing module is optional for the pack
            return None
        return timing_sheet_sections(timing)
    return None


def _timing_value(v: object) -> object:
    """Numbers, dates and text as they are; lists and dicts as readable text."""
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {x}" for k, x in v.items())
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _is_label_number(name: str) -> bool:
    """Years, seeds and ids are written without thousands separators."""
    n = name.strip().lower()
    return n in ("year", "seed", "no.", "id") or n.endswith((" year", " seed", " id"))


def _value_kind(rows: list, i: int, header: str = "") -> str:
    """The number format kind of column ``i``, from its first non-empty value."""
    for r in rows:
        v = r[i] if i < len(r) else None
        if v is None:
            continue
        if isinstance(v, bool) or isinstance(v, str):
            return "text"
        if isinstance(v, _dt.date):
            return "date"
        if isinstance(v, int):
            return "plain" if _is_label_number(header) else "int"
        if isinstance(v, float):
            return "float"
        return "text"
    return "text"


def _darker(hex6: str, f: float = 0.6) -> str:
    return "".join(f"{int(int(hex6[i:i + 2], 16) * f):02X}" for i in (0, 2, 4))
