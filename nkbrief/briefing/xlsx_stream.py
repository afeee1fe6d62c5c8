"""Streaming xlsx for the briefing pack: write-only sheets fed ready-made, formula-safe cells.

Rows are serialised to XML text as they come (several times faster than one element per
cell) and hyperlinks are kept as (cell number, URL) until the sheet's tail, so memory stays
flat however long a sheet is. Column widths, frozen panes and row heights are set before a
sheet's first row. Every value goes through :func:`nkbrief.exporting.xlsx_safe.safe_cell_value`: text
is always a string cell, with quotePrefix when it looks like a formula; links are only
http(s). Also here: the pack's look (font, fills, borders, number formats) as style keys.
"""

from __future__ import annotations

import datetime as _dt
import math
import unicodedata
import warnings
from collections.abc import Iterable, Sequence

from array import array

from openpyxl.cell.cell import Cell
from openpyxl.packaging.relationship import RelationshipList
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.xml.functions import Element

from ..model import palette
from ..progress import Progress
from ..exporting.xlsx_safe import safe_cell_value, safe_hyperlink

FONT = "Arial"  # on every Windows; LibreOffice maps it to the metric-compatible Liberation Sans
FONT_SIZE = 10
LINE_PT = 12.75  # one line of 10 pt Arial
CHARS_PER_WIDTH = 1.15  # characters of running text per unit of column width (conservative)
MAX_ROW_HEIGHT = 409  # points: Excel's limit
#: Wrapped lines a printed table cell holds; longer text flows onto continuation rows. A row
#: much taller than this leaves LibreOffice counting a page it never prints (a blank page
#: with no marking) and wastes paper where a tall row cannot start at a page's foot.
FLOW_LINES = 16
DEFAULT_ROW_PT = 12.75  # a row with no height set (LibreOffice and Excel, Arial 10)
#: A4 landscape's printable width and height in points (841.9 x 595.3 less the margins): of
#: A4 and Letter, the page that holds the fewest rows of a sheet fitted to the page width.
#: The height keeps 3% back for rounding.
PAGE_WIDTH_PT = 841.9 - 2 * 0.5 * 72
PAGE_HEIGHT_PT = (595.3 - 2 * 0.8 * 72) * 0.97
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

_KIND_FORMAT = {"km": KM, "int": INT, "coord": COORD, "time": TIME, "datetime": DATETIME,
                "date": DATE, "days": DAYS, "float": "#,##0.00", "plain": "0"}


# ------------------------------------------------------------------ cells
class _PackCell(Cell):
    """A cell whose style id is worked out once per style, not looked up per cell, and whose
    link is a plain (already checked) URL until the row is written."""

    __slots__ = ("style_id", "link")
    has_style = True


HYPERLINK_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


_COL_BITS = 14  # a sheet has at most 16,384 columns
_COL_MASK = (1 << _COL_BITS) - 1


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
    """Writes a :class:`_StreamSheet`'s hyperlinks from its cell numbers and URLs, without an object each."""

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
        for i, cell in enumerate(self.ws.link_cells, 1):
            ref = f"{get_column_letter(cell & _COL_MASK)}{cell >> _COL_BITS}"
            raw(f'<hyperlink xmlns:r="{_R_NS}" ref="{ref}" r:id="rIdL{i}" />')
        raw("</hyperlinks>")
        self.xf.send(None)
        self._rels.links = links
        self.ws.links, self.ws.link_cells = [], array("q")


class _StreamSheet(WriteOnlyWorksheet):
    """A write-only sheet fed ready-made cells.

    Every value already went through :func:`nkbrief.exporting.xlsx_safe.safe_cell_value`, so the
    rows are serialised here straight to XML text (several times faster than building an
    element per cell); with lxml installed, or any writer without a raw output, openpyxl's
    own cell writer is used instead. Row heights come from :attr:`heights`.
    """

    def __init__(self, parent, title):
        super().__init__(parent, title)
        self.heights: dict[int, float] = {}  # of rows not written yet
        # Hyperlinks, written with the sheet's tail: each URL, and its cell packed in one
        # integer (row << _COL_BITS | column), not a string and a tuple per link.
        self.links: list[str] = []
        self.link_cells = array("q")

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
                        h = self.heights.pop(row_idx, None)
                        if h:
                            self.row_dimensions[row_idx].height = h
                        self._writer.write_row(xf, self._values_to_row(row, row_idx), row_idx)
                    row_idx += 1
            except GeneratorExit:
                pass
        self._writer.xf.send(None)


#: Which estimated page ends become manual page breaks (see Sheet.finish): "last" (the start
#: of the last page), True (all; pages then end early wherever Excel fits more) or False.
AUTO_BREAKS = "last"

#: Serialise rows as text (False: openpyxl's per-cell writer; the tests compare the two).
FAST_ROWS = True


def _xml_text(s: str) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s.replace("\r", "&#13;") if "\r" in s else s  # a raw CR would read back as LF


def _row_xml(ws: _StreamSheet, cells, r: int, epoch) -> str:
    """One ``<row>`` of cells, as openpyxl's writer would produce it (inline strings)."""
    h = ws.heights.pop(r, None)  # written once: the sheet keeps no height per row
    out = [f'<row r="{r}" ht="{h}" customHeight="1">' if h else f'<row r="{r}">']
    for col, c in enumerate(cells, 1):
        if c is None:
            continue
        ref = f"{get_column_letter(col)}{r}"
        v, t, sid = c._value, c.data_type, c.style_id
        if c.link:
            ws.links.append(c.link)
            ws.link_cells.append(r << _COL_BITS | col)
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
            elif extra in ("link", "link-center"):
                color, underline = LINK, "single"
            elif extra == "bold":
                bold = True
            c.font = Font(name=FONT, size=FONT_SIZE, color=color, bold=bold, underline=underline)
            c.fill = PatternFill("solid", fgColor=BAND_FILL if band else "FFFFFF")
            c.border = _BOX
            c.alignment = Alignment(vertical="top", wrap_text=extra != "nowrap",
                                    horizontal="center" if extra in ("center", "link-center") else None)
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

    def __init__(self, writer: StreamBase, title: str, widths: Sequence[float], *,
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
        self._row_pt: list[float] = []  # every row's height (points)
        self._page_pos = 0.0  # points used on the current printed page
        self._kept = -1  # the row of the last heading (kept with what follows it)
        self._auto_breaks: list[int] = []  # where the estimate starts a new page
        self._manual_breaks: set[int] = set()
        #: Columns printed (from A); None: all. Columns past it are for Excel only.
        self.print_cols: int | None = None

    # rows
    def cell(self, value: object, style: tuple, link: str | None = None) -> Cell:
        return self.w.cell(self.ws, value, style, link)

    def add(self, cells: Sequence, height: float | None = None) -> int:
        self.row += 1
        if height:
            height = self.ws.heights[self.row] = min(height, MAX_ROW_HEIGHT)
        h = height or DEFAULT_ROW_PT
        self._row_pt.append(h)
        if self._page_pos + h > self.page_height() and self._page_pos > self._title_pt():
            self._page_pos = self._title_pt() + h  # the row starts the next page
            self._auto_breaks.append(self.row - 1)
        else:
            self._page_pos += h
        self.ws.append(cells)
        return self.row

    def page_break(self) -> None:
        """Start a new printed page after the current row."""
        if self.row:
            self.ws.row_breaks.append(Break(id=self.row))
            self._manual_breaks.add(self.row)
            self._page_pos = self._title_pt()

    # page estimate (for keeping a heading with its table)
    def _title_pt(self) -> float:
        """Height of the title rows repeated at the top of every page."""
        a, _, b = self.title_rows.partition(":")
        return sum(self._row_pt[int(a) - 1:int(b or a)])

    def page_height(self) -> float:
        """The printable height of a page in the sheet's own points: A4 or Letter landscape
        (the shorter, A4), less the margins, at the scale that fits the printed columns to the
        page width (the narrower, Letter)."""
        cols = self.widths[:self.print_cols or self.ncols]
        sheet_pt = sum(w * 7 + 5 for w in cols) * 0.75  # Excel's column width to pixels to points
        scale = min(1.0, PAGE_WIDTH_PT / sheet_pt) if sheet_pt else 1.0
        return PAGE_HEIGHT_PT / scale

    def page_left(self) -> float:
        """Points left on the current printed page (an estimate from the rows' heights)."""
        return self.page_height() - self._page_pos

    def blank(self, n: int = 1) -> None:
        for _ in range(n):
            self.add([])

    def heading(self, text: str, span: int | None = None,
                keep: float = 20 + 4 * LINE_PT + 4 + 2 * (LINE_PT + 2.5)) -> None:
        """A section heading, on a new page unless ``keep`` points (by default the heading,
        a table header of up to four lines and two rows) still fit on this one."""
        span = span or self.ncols
        self.keep_together(keep)
        self._kept = self.row + 1  # a table right under it needs no check of its own
        self.add([self.cell(text, ("heading",))] + [self.cell(None, ("heading",)) for _ in range(span - 1)],
                 height=20)

    def title_block(self, title: str, subtitle: str, note: str | None = None) -> None:
        """Row 1 the title, row 2 the subtitle; a ``note`` goes on row 2 as a second line
        (wrapped across the printed columns, so it is repeated with the title rows)."""
        self.add([self.cell(title, ("title", 15))], height=24)
        if not note:
            self.add([self.cell(subtitle, ("subtitle", 10))], height=16)
            return
        span = self.print_cols or self.ncols
        text = f"{subtitle}\n{note}"
        cpl = max(20, int(sum(self.widths[:span]) * CHARS_PER_WIDTH) - 6)
        row = self.add([self.cell(text, ("subtitle", 10, "wrap"))]
                       + [self.cell(None, ("subtitle", 10, "wrap")) for _ in range(span - 1)],
                       height=_height(text, cpl, 13.5))
        if span > 1:
            self.ws.merged_cells.add(f"A{row}:{get_column_letter(span)}{row}")

    def table(self, name: str, columns: Sequence[tuple[str, str, float, str]], rows: Iterable[list],
              progress_text: str = "", *, keep: int = 2) -> int:
        """Header + banded rows + an Excel table with a filter. Returns the number of rows.

        Text in a printed column longer than :data:`FLOW_LINES` lines flows onto the rows
        below it ("(continued)" at the foot of a piece, "(continued from DATE, Column)" at
        the head of the next), so a printed row is never cut; the Excel-only columns of a
        continuation row repeat the row's values, so a filter on them keeps the pieces
        together. The heading before the table is kept on the header's page and the header
        with ``keep`` rows (see :meth:`keep_together`).
        """
        w = self.w
        printed = self.print_cols or len(columns)
        widths = self.widths[:printed]
        # Headers are bold: about 10% wider than body text.
        head_lines = max(text_lines(h, wd * 0.9) for (_, h, _, _), wd in zip(columns, widths))
        head_h = max(2, head_lines) * LINE_PT + 4
        if self._kept != self.row:
            self.keep_together(head_h + keep * (LINE_PT + 2.5))
        header_row = self.add([self.cell(h, ("header",)) for _, h, _, _ in columns], height=head_h)
        n = 0
        band = False
        # Rows are as tall as their printed cells need (every row's height is set, so a
        # wrapping cell past the printed columns never makes a row taller); text past the
        # printed columns is shown on one line (the full text is in the cell, for Excel).
        for values in rows:
            n += 1
            band = not band
            for piece in self._flow(columns, values, printed):
                cells, lines = w.body_cells(self.ws, columns, piece, band=not band,
                                            widths=widths, nowrap_from=printed)
                self.add(cells, height=lines * LINE_PT + 2.5)
            w.tick(progress_text)
        last = self.row
        if n:
            ref = f"A{header_row}:{get_column_letter(len(columns))}{last}"
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

    def _flow(self, columns, values: list, printed: int) -> list[list]:
        """One row's values, or the row and its continuation rows when a printed text cell
        is too long for one row (see :meth:`table`)."""
        split = {}
        first = values[0][0] if isinstance(values[0], tuple) else values[0]
        where = first.isoformat() if isinstance(first, (_dt.date, _dt.datetime)) else str(first or "").strip()
        for i in range(min(printed, len(values))):
            v = values[i]
            if isinstance(v, tuple):
                continue  # links, dates and styled values are short
            if isinstance(v, str) and columns[i][3] == "text" and text_lines(v, self.widths[i]) > FLOW_LINES:
                marker = f"(continued from {where}, {columns[i][1]})"
                split[i] = flow_text(v, self.widths[i], reserve=text_lines(marker, self.widths[i]) + 1)
        if not split:
            return [values]
        out = []
        for k in range(max(len(p) for p in split.values())):
            # Excel-only values repeat on continuation rows (ids, for filtering); long text does not.
            row = list(values) if k == 0 else [None] * printed + [
                None if isinstance(v, str) and len(v) > 200 else v for v in values[printed:]]
            for i, pieces in split.items():
                if k >= len(pieces):
                    continue
                text = pieces[k]
                if k:
                    label = ", ".join(x for x in (where, columns[i][1]) if x)
                    text = f"(continued from {label})\n{text}"
                if k + 1 < len(pieces):
                    text += "\n(continued)"
                row[i] = text
            out.append(row)
        return out

    def keep_together(self, height: float) -> None:
        """Start a new page unless ``height`` points still fit on the current printed page
        (by the rows' heights as set; see :meth:`page_left`)."""
        if self.row and self.page_left() < height:
            self.page_break()

    def finish(self, last_col: int | None = None, last_row: int | None = None) -> None:
        # Left to itself, LibreOffice lays out a sheet of tall rows with a blank, unmarked last
        # page that "Page X of Y" counts (the all-events pack's Sources and Context & timing).
        # A manual break where the estimate starts the last page avoids it; the estimate is
        # conservative (A4, Excel's column widths), so that page is never overfull.
        if AUTO_BREAKS and self.ws.page_setup.fitToHeight != 1:
            end = last_row or self.row
            breaks = self._auto_breaks if AUTO_BREAKS != "last" else self._auto_breaks[-1:]
            for r in breaks:
                if 0 < r < end and r not in self._manual_breaks:
                    self.ws.row_breaks.append(Break(id=r))
        col = get_column_letter(last_col or self.print_cols or self.ncols)
        self.ws.print_area = f"A1:{col}{max(1, last_row or self.row)}"
        self.ws.print_title_rows = self.title_rows


def use_pack_font(wb) -> None:
    """Make Arial 10 the workbook's Normal font, so column widths (measured in the Normal
    font's digits) and our row-height estimates mean the same in Excel and LibreOffice."""
    from openpyxl.utils.indexed_list import IndexedList

    base = Font(name=FONT, size=FONT_SIZE, family=2)
    wb._fonts = IndexedList([base])
    wb._named_styles["Normal"].font = base


class StreamBase:
    """Cells, rows and progress for a writer of :class:`Sheet` s (the pack writer's base)."""

    def __init__(self, wb, progress: Progress | None, total: int = 1):
        self.wb = wb
        use_pack_font(wb)
        self.progress = progress
        self.styles: Styles | None = None
        self.total = max(1, total)
        self.done = 0
        self._table_names: set[str] = set()

    def header_footer(self, ws) -> None:  # overridden by the pack writer
        pass

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
        c.data_type = "n" if v is None else (_DTYPES.get(type(v))
                                             or ("d" if isinstance(v, _dt.date) else "n"))
        c._hyperlink = c._comment = None
        c._style, c.style_id = self.styles.get(style)[1 if quote else 0]
        c.link = safe_hyperlink(link) if link else None
        return c

    def body_cells(self, ws, columns, values: Sequence, *, band: bool, widths: Sequence[float] = (),
                   nowrap_from: int | None = None) -> tuple[list[Cell], int]:
        """A table row's cells, and the number of text lines its tallest cell needs (counting
        the columns ``widths`` covers). Text cells from column ``nowrap_from`` on do not wrap."""
        out = []
        lines = 1
        for i, ((_, _, _, kind), v) in enumerate(zip(columns, values)):
            fmt, extra, link = _KIND_FORMAT.get(kind), None, None
            if isinstance(v, tuple):  # (value, number format / "link:url" / "bold" / "center")
                v, hint = v
                if hint and hint.startswith("link:"):
                    link, extra = hint[5:], "link" if safe_hyperlink(hint[5:]) else None
                elif hint and hint.startswith("center-link:"):
                    link, extra = hint[12:], "link-center" if safe_hyperlink(hint[12:]) else "center"
                elif hint in ("bold", "center"):
                    extra = hint
                elif hint:
                    fmt = hint
            if kind == "class" and v:
                extra = f"class:{v}"
            elif nowrap_from is not None and i >= nowrap_from and extra is None and kind == "text":
                extra = "nowrap"
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
    if "\n" not in text:
        if len(text) <= cpl and text.isascii():
            return 1
        if _text_width(text) <= int(width * CHARS_PER_WIDTH) - 1:  # one line: no room lost to word breaks
            return 1
    return sum(max(1, math.ceil(_text_width(p) / cpl)) for p in text.split("\n"))


def flow_text(text: str, width: float, max_lines: int = FLOW_LINES, reserve: int = 2) -> list[str]:
    """``text`` in pieces that each wrap to at most ``max_lines`` lines in a column ``width``
    wide (by :func:`text_lines`' estimate), cut between words; ``[text]`` when it fits.

    The pieces joined with a space (a newline where a piece ends a paragraph) are the text
    again: nothing is dropped. ``reserve`` lines of each piece are kept for the
    "(continued)" markers :meth:`Sheet.table` adds.
    """
    if not text or text_lines(text, width) <= max_lines:
        return [text]
    cpl = max(4, int(width * CHARS_PER_WIDTH) - 3)
    budget = max(1, max_lines - reserve)
    pieces: list[str] = []
    paras: list[str] = []  # finished paragraphs of the current piece
    used = 0  # their lines
    for para in text.split("\n"):
        words: list[str] = []
        w = 0  # width of ``words`` joined
        for word in para.split(" "):
            ww = _text_width(word)
            grown = w + ww + (1 if words else 0)
            if words and used + math.ceil(grown / cpl) > budget:
                pieces.append("\n".join(paras + [" ".join(words)]))
                paras, used, words, w = [], 0, [], 0
                grown = ww
            words.append(word)
            w = grown
        paras.append(" ".join(words))
        used += max(1, math.ceil(w / cpl))
        if used >= budget:
            pieces.append("\n".join(paras))
            paras, used = [], 0
    if paras:
        pieces.append("\n".join(paras))
    return [p for p in pieces if p.strip()] or [text]


def _height(text: str | None, chars_per_line: int, line_height: float = 14.5) -> float:
    """Row height (points) for wrapped text in one cell; Excel does not auto-fit merged cells."""
    if not text:
        return line_height + 2
    lines = sum(max(1, math.ceil(len(p) / chars_per_line)) for p in str(text).split("\n"))
    return min(409, lines * line_height + 3)


def _darker(hex6: str, f: float = 0.6) -> str:
    return "".join(f"{int(int(hex6[i:i + 2], 16) * f):02X}" for i in (0, 2, 4))
