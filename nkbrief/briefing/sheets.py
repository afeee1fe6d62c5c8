"""Sheet writers for the briefing pack (see :mod:`nkbrief.briefing.pack`).

:class:`PackWriter` writes each chosen section in order: the cover and summary come from
:mod:`nkbrief.briefing.summary`, the tables and the timeline picture from here; the
streaming cells and the look from :mod:`nkbrief.briefing.xlsx_stream`.
"""

from __future__ import annotations

import datetime as _dt
import io
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from openpyxl.chart import BarChart, Reference
from openpyxl.drawing.image import Image as XLImage
from openpyxl.packaging.custom import StringProperty

from ..model import palette
from .summary import FrontPages
from ..analysis.context import (CATEGORY_LABELS, CONTEXT_DAYS, NO_DAY_NOTE, REACH_CATEGORIES, Nearby,
                                days_since_previous_launch)
from ..analysis.timing import timing_sheet_sections
from ..analysis.totals import frame_totals
from ..progress import Progress
from ..model.schema import ACTORS, MISSILE_CLASSES, QUALIFIER_SIGNS
from ..store import frame_records
from .timeline_png import timeline_png
from .xlsx_stream import (CHARS_PER_WIDTH, DATE, DATE_FORMATS, FONT, INT, KM, LINE_PT, Sheet, StreamBase, _height,
                          text_lines)
from ..exporting.xlsx_safe import safe_hyperlink
from .xlsx_values import hf_escape, plural, shown_date, to_date, to_time, to_utc

#: (field, header, width, kind) of every Event log column; kind picks the number format.
#: The Event log's printed columns (:data:`EVENT_PRINTED`) come first, then the rest, which
#: are for Excel (the table has every field) and print elsewhere: descriptions on Context &
#: timing, sources and notes on Sources.
EVENT_FIELDS_SPEC: dict[str, tuple[str, float, str]] = {
    "date": ("Date (KST)", 11.5, "date"),
    "time_kst": ("Time (KST)", 7.5, "time"),
    "missile_class": ("Class", 8.5, "class"),
    "missile_name": ("Missile", 17, "text"),
    "count": ("Missiles fired", 8, "int"),
    "distance_km": ("Distance (km)", 10, "km"),
    "apogee_km": ("Apogee (km)", 10, "km"),
    "launch_site": ("Launch site", 17, "text"),
    "landing_area": ("Landing area", 17, "text"),
    "outcome": ("Outcome", 9, "text"),
    "confirmation": ("Confirmation", 12, "text"),
    "leader_attended": ("Leader attended", 8.5, "yesno"),
    "id": ("Event ID", 30, "text"),
    "date_precision": ("Date known to", 9, "text"),
    "time_utc": ("Time (UTC)", 16, "datetime"),
    "distance_km_max": ("Distance max (km)", 10, "km"),
    "apogee_km_max": ("Apogee max (km)", 10, "km"),
    "latitude": ("Latitude", 8.5, "coord"),
    "longitude": ("Longitude", 8.5, "coord"),
    "description": ("Description", 60, "text"),
    "sources": ("Sources", 45, "text"),
    "notes": ("Notes", 35, "text"),
    "provenance": ("Provenance (compiler's notes)", 45, "text"),
    "missiles": ("Per-missile rows", 9, "int"),
}
#: The key facts of a launch: the Event log prints these, at full size on A4 or Letter.
EVENT_PRINTED = ("date", "time_kst", "missile_class", "missile_name", "count", "distance_km", "apogee_km",
                 "launch_site", "landing_area", "outcome", "confirmation", "leader_attended")
#: Printed on the Event log too, narrower, when the sheet that prints them is left out.
EVENT_FALLBACK_WIDTHS = {"description": 38, "sources": 26, "notes": 22}
#: The printed notes column of a fallback Event log carries the provenance too (as Sources does).
FALLBACK_NOTES_HEADER = "Provenance and analyst notes"


def event_columns(sections: Sequence[str] = ()) -> tuple[list[tuple[str, str, float, str]], int]:
    """The Event log's columns in order, and how many of them (from A) are printed.

    The printed key facts come first. Descriptions print on Context & timing and sources
    and notes on Sources; when those sections are left out, those columns join the printed
    ones (narrower) so the paper copy still carries them.
    """
    extra = []
    if "context" not in sections:
        extra.append("description")
    if "sources" not in sections:
        extra += ["sources", "notes"]
    order = list(EVENT_PRINTED) + extra + [f for f in EVENT_FIELDS_SPEC if f not in EVENT_PRINTED
                                           and f not in extra]
    cols = []
    for f in order:
        header, width, kind = EVENT_FIELDS_SPEC[f]
        if f == "notes" and f in extra:
            header = FALLBACK_NOTES_HEADER
        cols.append((f, header, EVENT_FALLBACK_WIDTHS.get(f, width) if f in extra else width, kind))
    # A printed long text flows over several rows (Sheet.table); its whole text is also kept
    # in one cell, for Excel, at the end of the table.
    for f in extra:
        header, width, kind = EVENT_FIELDS_SPEC[f]
        header = FALLBACK_NOTES_HEADER if f == "notes" else header
        cols.append((f + FULL_TEXT, f"{header} (full text)", width, kind))
    return cols, len(EVENT_PRINTED) + len(extra)


#: The suffix of an Event log column that keeps a printed field's whole text in one cell.
FULL_TEXT = "__full"


#: Every Event log column of a full pack (see :func:`event_columns`).
EVENT_COLUMNS, EVENT_PRINT_COLS = event_columns(("context", "sources"))

#: (field, header, width, kind) of the Missiles sheet; the first MISSILE_PRINT_COLS print.
MISSILE_COLUMNS: list[tuple[str, str, float, str]] = [
    ("date", "Event date (KST)", 11.5, "date"),
    ("seq", "No.", 5, "int"),
    ("missile_name", "Missile", 18, "text"),
    ("missile_class", "Class", 9, "class"),
    ("time_kst", "Time (KST)", 7.5, "time"),
    ("distance_km", "Distance (km)", 10, "km"),
    ("apogee_km", "Apogee (km)", 10, "km"),
    ("landing_area", "Landing area", 22, "text"),  # "East Sea (Sea of Japan)" on one line
    ("outcome", "Outcome", 9, "text"),
    ("confirmation", "Confirmation", 12, "text"),
    ("notes", "Notes", 30, "text"),
    ("event_id", "Event ID", 30, "text"),
    ("time_utc", "Time (UTC)", 16, "datetime"),
    ("distance_km_max", "Distance max (km)", 10, "km"),
    ("apogee_km_max", "Apogee max (km)", 10, "km"),
    ("source_ref", "Source", 34, "text"),
]
MISSILE_PRINT_COLS = 11


#: The Context & timing sheet's launch table; the first CONTEXT_PRINT_COLS print. Its
#: columns also carry the timing analysis's tables (dates need at least 11). The calendar
#: context is nkbrief.analysis.context.calendar_contexts, split in two printed columns.
CONTEXT_COLUMNS: list[tuple[str, str, float, str]] = [
    ("date", "Date (KST)", 11.5, "date"),
    ("class", "Class", 10, "class"),
    ("missile", "Missile", 13, "text"),
    ("description", "Description", 50, "text"),
    ("context", f"Calendar context ({CONTEXT_DAYS} days either side)", 34, "text"),
    ("context_other", "Anniversaries and other entries", 24, "text"),
    ("gap", "Days since previous launch", 9, "int"),
    ("reach_days", "Days to the next congress or summit", 11, "int"),
    ("id", "Event ID", 30, "text"),
    ("reach", "Next congress or summit", 26, "text"),
    ("reach_date", "It opens", 11.5, "date"),
]
CONTEXT_PRINT_COLS = 8
#: Context categories that go in the second printed column.
CONTEXT_MINOR = ("anniversary", "other")
#: Timing-analysis table columns moved past the printed ones (the launch table below gives
#: the nearest entries; the id is for Excel).
TIMING_EXCEL_ONLY = ("Event id", "Previous entry ended", "Calendar context")


def _col_letters(first: int, last: int) -> str:
    """'L–W' for columns ``first``..``last`` (1-based)."""
    from openpyxl.utils import get_column_letter

    a, b = get_column_letter(first), get_column_letter(last)
    return a if a == b else f"{a}–{b}"


def _listing(words: Sequence[str]) -> str:
    words = list(words)
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


# ------------------------------------------------------------- calendar context
def context_cells(items: list[Nearby], precision: str | None = "day") -> list:
    """The Context & timing sheet's context cells of one launch, from
    :func:`nkbrief.analysis.context.calendar_contexts`: [major entries, anniversaries and other,
    days to the next congress or summit, its title, its first day]."""
    if precision in ("month", "year"):
        return [NO_DAY_NOTE.format(p=precision), None, None, None, None]
    major = "\n".join(n.phrase() for n in items if n.category not in CONTEXT_MINOR) or None
    minor = "\n".join(n.phrase() for n in items if n.category in CONTEXT_MINOR) or None
    reach = [n for n in items if n.category in REACH_CATEGORIES and n.days > 0]
    r = min(reach, key=lambda n: n.days) if reach else None
    return [major, minor, r.days if r else None, r.title if r else None, to_date(r.date) if r else None]

class PackWriter(FrontPages, StreamBase):
    """Writes every chosen section of one pack into a write-only workbook."""

    def __init__(self, wb, data, opts, progress: Progress | None):
        per_event = sum(1 for s in ("event_log", "context", "sources") if s in opts.sections)
        ev = data.events
        super().__init__(wb, progress, len(ev) * (per_event + ("summary" in opts.sections))
                         + data.missile_rows * ("missiles" in opts.sections)
                         + len(data.statements) * ("stakeholders" in opts.sections))
        self.data = data
        self.o = opts
        # Only the first and last events are kept as dicts; the rest are read as sheets stream.
        self.first, self.last = frame_records(ev.iloc[[0, -1]])

    # ----------------------------------------------------------- plumbing
    def records(self):
        """Each event's full record (plus its number of per-missile records), in date order,
        read from the store one at a time."""
        get, counts = self.data.store.get_event, self.data.missile_counts
        for eid in self.data.events["id"]:
            rec = get(eid)
            rec["missiles"] = counts.get(eid, 0)
            yield rec

    def field_values(self, field: str):
        """One text field of each event, in date order, streamed from the store (cheaper than
        :meth:`records` when a sheet needs a single field beyond the in-memory ones)."""
        if field not in EVENT_FIELDS_SPEC or field in ("sources", "missiles"):
            raise KeyError(field)
        wanted = set(self.data.events["id"])
        cur = self.data.store.event_values(("id", field), ordered=True)
        for eid, value in cur:
            if eid in wanted:
                yield value

    def light_records(self, chunk: int = 2000):
        """The in-memory columns of each event as dicts, in date order, a chunk at a time."""
        ev = self.data.events
        for start in range(0, len(ev), chunk):
            yield from frame_records(ev.iloc[start:start + chunk])

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
        first, last = self.first, self.last
        a = shown_date(first["date"], first["date_precision"])
        b = shown_date(last["date"], last["date_precision"])
        return a if a == b else f"{a} to {b}"

    def counts(self) -> dict:
        ev = self.data.events
        t = frame_totals(ev, self.data.missile_counts)  # the one definition (nkbrief.analysis.totals)
        return {
            "events": len(ev),
            "totals": t,
            "missiles": t.missiles,
            "count_unknown": t.no_number,
            "missile_rows": self.data.missile_rows,
            "days": int(ev["date"].nunique()),
        }

    def class_counts(self, unknown: bool = False) -> list[tuple[str, int]]:
        """(class, events) in the schema's order; "unknown" is not a class and is left out
        unless ``unknown`` (the charts still show those events)."""
        vc = self.data.events["missile_class"].value_counts()
        return [(c, int(vc[c])) for c in MISSILE_CLASSES if c in vc.index and (unknown or c != "unknown")]

    def class_list(self) -> str:
        """"SRBM 3 · ICBM 1", then how many events have no known class."""
        text = " · ".join(f"{cl} {n:,}" for cl, n in self.class_counts())
        ev = self.data.events
        k = int((ev["missile_class"].isna() | (ev["missile_class"] == "unknown")).sum())
        if k:
            text += ("; " if text else "") + f"class not known for {plural(k, 'event')}"
        return text

    def scope_line(self) -> str:
        c = self.counts()
        return (f"{plural(c['events'], 'launch event')} · "
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
    # ------------------------------------------------------------ summary
    # ---------------------------------------------------------- event log
    def write_event_log(self) -> None:
        self.stage("Event log")
        columns, printed = event_columns(self.o.sections)
        sh = Sheet(self, "Event log", [w for _, _, w, _ in columns], gridlines=False, freeze="E4")
        sh.print_cols = printed
        sh.title_block("Event log", self.scope_line() + " · one row per launch event",
                       self.event_log_note(columns, printed))

        def rows():
            for r in self.records():
                vals = []
                for f, head, _, kind in columns:
                    v = r[f.removesuffix(FULL_TEXT)]
                    if head.startswith(FALLBACK_NOTES_HEADER):
                        v = _provenance_and_notes(r)
                    if f == "date":
                        v = (to_date(v), DATE_FORMATS.get(r["date_precision"], DATE))
                    elif kind == "time":
                        v = to_time(v)
                    elif kind == "datetime":
                        v = to_utc(v)
                    elif kind == "yesno":
                        v = None if v is None else ("yes" if v else "no")
                    elif f.startswith("sources"):
                        v = "\n".join(v or [])
                    elif f in ("distance_km", "apogee_km") and v is not None \
                            and r.get(f + "_max") not in (None, v):
                        v = (v, range_format(r[f + "_max"]))  # shows '900–950', still a number
                    elif f in QUALIFIED and v is not None and r.get(QUALIFIED[f]):
                        v = (v, qualified_format(r[QUALIFIED[f]], kind))  # shows '>700 km', still a number
                    vals.append(v)
                yield vals

        sh.table(self.table_name("EventLog"), columns, rows(), "Event log")
        sh.title_rows = "1:3"
        sh.finish()

    def event_log_note(self, columns, printed: int) -> str | None:
        """Row 2's second line: what prints, and where the other fields print."""
        if printed >= len(columns):
            return None
        rest = [h for _, h, _, _ in columns[printed:]]
        where = []
        fields = {f for f, _, _, _ in columns[printed:]}
        if "description" in fields and "context" in self.o.sections:
            where.append("descriptions on Context & timing")
        if "sources" in fields and "sources" in self.o.sections:
            where.append("sources and notes on Sources")
        note = (f"On paper: the key facts (columns A–{_col_letters(printed, printed)}). In Excel the table "
                f"goes on to the right with every field ({_col_letters(printed + 1, len(columns))}: "
                f"{_listing(rest)})")
        return note + (f"; on paper, {_listing(where)}." if where else ".")

    # ----------------------------------------------------------- missiles
    def write_missiles(self) -> None:
        self.stage("Missiles")
        sh = Sheet(self, "Missiles", [w for _, _, w, _ in MISSILE_COLUMNS], freeze="D4")
        sh.print_cols = MISSILE_PRINT_COLS
        total = self.data.missile_rows
        rest = [h for _, h, _, _ in MISSILE_COLUMNS[MISSILE_PRINT_COLS:]]
        sh.title_block("Missiles", f"{plural(total, 'per-missile record')} for the selected events · "
                                   f"{self.o.marking.text}",
                       f"On paper: columns A–{_col_letters(MISSILE_PRINT_COLS, MISSILE_PRINT_COLS)}. "
                       "In Excel the "
                       f"table also has {_listing(rest)} "
                       f"({_col_letters(MISSILE_PRINT_COLS + 1, len(MISSILE_COLUMNS))})." if total else None)
        if not total:
            sh.blank()
            sh.add([sh.cell("No per-missile records are held for the selected events"
                            + ("; the Event log gives each event's count and class."
                               if "event_log" in self.o.sections else "."), ("value", None, "muted"))])
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
                           until=self.data.reach,
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
        cols = CONTEXT_COLUMNS
        sh = Sheet(self, "Context & timing", [w for _, _, w, _ in cols])
        sh.print_cols = CONTEXT_PRINT_COLS
        rest = [h for _, h, _, _ in cols[CONTEXT_PRINT_COLS:]]
        sh.title_block("Context & timing", "Each launch against the political calendar"
                       + (" and the timing analysis" if self.o.timing else "") + " · " + self.o.marking.text,
                       f"On paper: columns A–{_col_letters(CONTEXT_PRINT_COLS, CONTEXT_PRINT_COLS)}. "
                       "In Excel the "
                       f"launch table also has {_listing(rest)} "
                       f"({_col_letters(CONTEXT_PRINT_COLS + 1, len(cols))}).")
        if self.o.timing:
            sh.blank()
            self._write_timing(sh, self.o.timing)
            sh.page_break()
        sh.blank()
        sh.heading("Each launch, what happened, and the calendar entries around it", CONTEXT_PRINT_COLS)
        ev = self.data.events
        ctx = self.data.contexts()  # streamed, a chunk of events at a time
        gaps = days_since_previous_launch(ev).tolist()
        # A long description flows onto the rows below (Sheet.table), whole.

        def rows():
            for r, desc, c, gap in zip(self.light_records(), self.field_values("description"), ctx, gaps):
                major, minor, reach_days, reach, reach_date = context_cells(c, r["date_precision"])
                yield [(to_date(r["date"]), DATE_FORMATS.get(r["date_precision"], DATE)),
                       r["missile_class"], r["missile_name"], desc,
                       major, minor, None if gap is None or gap != gap else int(gap), reach_days,
                       r["id"], reach, reach_date]

        sh.table(self.table_name("Context"), cols, rows(), "Context & timing")
        sh.finish()

    def _write_timing(self, sh: Sheet, timing: dict) -> None:
        """The timing analysis: nkbrief.analysis.timing's sheet sections when the dict is its result
        (or carries ``"sections"`` in that shape), else a generic rendering of the dict."""
        sections = timing_sections(timing)
        if sections is None:
            self._write_mapping(sh, timing)
            return
        for sec in sections:
            kind = sec.get("kind")
            rows = list(sec.get("rows") or [])
            if kind == "table" and sec.get("chart"):
                sh.page_break()  # the chart and its table on a page of their own
            sh.heading(str(sec.get("title") or "Timing analysis"), sh.ncols)
            if kind == "pairs":
                for r in rows:
                    self._pair(sh, r[0] if r else None, r[1] if len(r) > 1 else None)
            elif kind == "notes":
                for r in rows:
                    text = r[0] if r else ""
                    last = sh.print_cols or sh.ncols
                    cpl = int(sum(sh.widths[1:last]) * CHARS_PER_WIDTH) - 3
                    row = sh.add([sh.cell("•", ("value", None, None)), sh.cell(text, ("value", None, None))],
                                 height=_height(str(text), cpl, LINE_PT))
                    sh.ws.merged_cells.add(f"B{row}:{_col_letters(last, last)}{row}")
            elif kind == "table" and rows:
                header = [str(h) for h in sec.get("header") or []]
                # Columns that duplicate the launch table or are for Excel go past the printed ones.
                order = ([i for i, h in enumerate(header) if h not in TIMING_EXCEL_ONLY]
                         + [i for h in TIMING_EXCEL_ONLY for i, x in enumerate(header) if x == h])
                if "Next entry" in header and "Previous entry" in header:
                    # both entry titles in the wide printed columns (D, E), the numbers after
                    prev = header.index("Previous entry")
                    order.remove(prev)
                    order.insert(order.index(header.index("Next entry")) + 1, prev)
                if order != list(range(len(header))):
                    header = [header[i] for i in order]
                    rows = [[r[i] if i < len(r) else None for i in order] for r in rows]
                cols = [(f"c{i}", h or f"Column {i + 1}", 0, _value_kind(rows, i, h))
                        for i, h in enumerate(header)]
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
        # label in A:C, value in D:G (the Context sheet's printed columns)
        text = value if isinstance(value, str) else ""
        lines = max(text_lines(str(label or ""), sum(sh.widths[0:3]) * 0.9),  # bold
                    text_lines(text, sum(sh.widths[3:7])) if text else 1)
        row = sh.add([sh.cell(label, ("label",)), None, None, sh.cell(value, ("value", fmt, None))],
                     height=lines * LINE_PT + 3 if lines > 1 else None)
        sh.ws.merged_cells.add(f"A{row}:C{row}")
        sh.ws.merged_cells.add(f"D{row}:G{row}")

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
        sh.ws.add_chart(chart, f"D{header_row}")

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
                    sh.add([sh.cell("•", ("value", None, None)),
                            sh.cell(_timing_value(x), ("value", None, "nowrap"))])
            else:
                self._pair(sh, label, value)

    # ------------------------------------------------------- stakeholders
    def write_stakeholders(self) -> None:
        self.stage("Stakeholder views")
        cols = [("actor", "Actor", 13, "text"), ("date", "Date (KST)", 11.5, "date"),
                ("missile", "Missile", 18, "text"), ("summary", "Statement", 72, "text"),
                ("source", "Source", 36, "text"), ("id", "Event ID", 30, "text")]
        sh = Sheet(self, "Stakeholder views", [w for _, _, w, _ in cols], freeze="A4")
        sh.print_cols = 5  # the event ID is for Excel
        st = self.data.statements
        n_ev = len(self.data.events)
        with_any = int(st["event_id"].nunique()) if not st.empty else 0
        sh.title_block("Stakeholder views",
                       f"{plural(len(st), 'statement')} by actor and event · {self.o.marking.text}",
                       f"Stakeholder statements: {with_any:,} of {plural(n_ev, 'event')} "
                       f"{plural(with_any, 'has', number=False)} any.")
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
                yield [(s["actor"], "bold"),
                       (to_date(e["date"]), DATE_FORMATS.get(e["date_precision"], DATE)),
                       e["missile_name"] or e["missile_class"], s["summary"],
                       (src, "link:" + src) if src else None, s["event_id"]]

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
        # A–D print; the numbers (E) and the event ID (F) are for Excel.
        sh = Sheet(self, "Sources", [11.5, 80, 16, 44, 12, 30])
        sh.print_cols = 4
        sources, number, cites = self.bibliography()
        sh.title_block("Sources",
                       f"{plural(len(sources), 'source')} cited by the selected events · {self.o.marking.text}")
        sh.blank()
        sh.heading("Bibliography (numbered in order of first citation)", 3)
        if sources:
            bib_cols = [("n", "No.", 0, "int"), ("source", "Source", 0, "text"),
                        ("events", "Events citing", 0, "int")]
            one_line = int(sh.widths[1] * CHARS_PER_WIDTH) - 3
            long_links = 0

            def bib_rows():
                nonlocal long_links
                for s in sources:
                    if len(s) <= one_line or not safe_hyperlink(s):
                        yield [(number[s], "center"), (s, "link:" + s), cites[s]]
                    else:
                        # Too long for one line: the address prints in full as wrapping text
                        # (LibreOffice never wraps a link), and its number is the link.
                        long_links += 1
                        yield [(number[s], "center-link:" + s), s, cites[s]]

            sh.table(self.table_name("Bibliography"), bib_cols, bib_rows())
            if long_links:
                note = (f"Addresses too long for one line ({long_links:,}) print in full as plain text; in "
                        "Excel, click their number to open them.")
                sh.add([None, sh.cell(note, ("note", True))], height=_height(note, one_line, 12))
        else:
            sh.add([None, sh.cell("No sources are recorded for the selected events.",
                                  ("value", None, "muted"))])
        sh.blank()
        sh.heading("Each event's sources, provenance and notes", 4)
        # Each source is printed after its number on its own line, so the numbers line up with
        # wrapped addresses; the numbers alone follow for Excel.
        ev_cols = [("date", "Date (KST)", 0, "date"), ("sources", "Sources", 0, "text"),
                   ("missile", "Missile", 0, "text"), ("notes", "Provenance and analyst notes", 0, "text"),
                   ("refs", "Numbers", 0, "text"), ("id", "Event ID", 0, "text")]

        def rows():
            for r in self.records():
                srcs = list(dict.fromkeys(x.strip() for x in (r["sources"] or []) if x and x.strip()))
                yield [(to_date(r["date"]), DATE_FORMATS.get(r["date_precision"], DATE)),
                       "\n".join(f"[{number[s]}]\u00a0{s}" for s in srcs) or "none recorded",
                       r["missile_name"] or r["missile_class"], _provenance_and_notes(r),
                       " ".join(f"[{number[s]}]" for s in srcs) or None, r["id"]]

        sh.table(self.table_name("EventSources"), ev_cols, rows(), "Sources")
        sh.finish()


#: Number fields and the qualifier that goes with each.
QUALIFIED = {"count": "count_qualifier", "distance_km": "distance_qualifier", "apogee_km": "apogee_qualifier"}


def qualified_format(qualifier: str, kind: str) -> str:
    """An Excel number format that shows the source's qualifier: '">"#,##0 "km"' for 'over'."""
    base = {"km": KM, "int": INT}.get(kind, INT)
    return f'"{QUALIFIER_SIGNS.get(qualifier, "")}"{base}'


def range_format(upper: float) -> str:
    """A number format that shows a range's upper end after the value: '900–950' (the column
    header says km; with the unit it would not fit the printed column)."""
    return f'#,##0"–{upper:,.0f}"'


def _provenance_and_notes(r: dict) -> str | None:
    """The compiler's provenance, then the analyst's own notes, labelled."""
    parts = []
    if r.get("provenance"):
        parts.append(r["provenance"])
    if r.get("notes"):
        parts.append(f"Analyst: {r['notes']}")
    return "\n\n".join(parts) or None


def timing_sections(timing: dict) -> list[dict] | None:
    """The timing analysis as sheet sections, or None when the dict has another shape."""
    secs = timing.get("sections")
    if isinstance(secs, list) and all(isinstance(x, dict) and "kind" in x for x in secs):
        return secs
    if "histogram" in timing and "summary" in timing and "per_launch" in timing:
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
