"""The briefing pack's front pages: the cover (a memo) and the summary (figures and charts).

A mixin of :class:`nkbrief.briefing.sheets.PackWriter`; see there for the data it reads.
"""

from __future__ import annotations

import datetime as _dt
import math

import pandas as pd
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.axis import DateAxis
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.pagebreak import Break

from ..model import palette
from . import SECTIONS
from ..model.schema import MISSILE_CLASSES
from ..store import frame_records
from .xlsx_stream import DATE, DATE_FORMATS, INT, KM, Sheet, _darker, _height
from .xlsx_values import long_date, plural, shown_date, to_date


class FrontPages:
    """Cover and Summary sheets."""

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
            r = sh.add([None, sh.cell(o.subtitle, ("subtitle", 14, "wrap"))],
                       height=_height(o.subtitle, 80, 20))
            sh.ws.merged_cells.add(f"B{r}:C{r}")
        sh.blank()
        c = self.counts()
        sh.add([None, sh.cell("Scope", ("heading",)), sh.cell(None, ("heading",))], height=20)
        para("Period", f"{self.span_text()} (Korean Standard Time, UTC+9)")
        missiles = c["totals"].text()  # nkbrief.analysis.totals: the same words as the status bar
        para("Launches", f"{plural(c['events'], 'launch event')} on {plural(c['days'], 'day')} · {missiles} · "
                         f"{plural(c['missile_rows'], 'per-missile record')}")
        para("Classes", self.class_list())
        para("Selection", o.filters or "Events chosen individually; no filter recorded.")
        para("Contents", " · ".join(SECTIONS[k] for k in o.sections if k != "cover"))
        sh.blank()
        sh.add([None, sh.cell("Key judgments", ("heading",)), sh.cell(None, ("heading",))], height=20)
        if o.key_judgments:
            for i, text in enumerate(o.key_judgments, 1):
                sh.add([None, sh.cell(f"{i}.", ("value", None, "big")),
                        sh.cell(text, ("value", None, "big"))],
                       height=_height(text, 88, 17))
        else:
            sh.add([None, None, sh.cell("No key judgments were recorded for this pack.",
                                        ("value", None, "muted"))])
        sh.blank()
        sh.add([None, sh.cell("Data sources", ("heading",)), sh.cell(None, ("heading",))], height=20)
        para("Store", self.origin_note())
        for label, text in self.as_of_lines():
            para(label, text)
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
        labels = {"seed": "from the bundled dataset", "import": "imported",
                  "manual": "entered or edited by hand",
                  "init": "from the initial store"}
        for kind, file_name, n in self.data.origins:
            what = labels.get(kind, kind)
            if kind == "import" and file_name:
                what = f"imported from {file_name}"
            parts.append(f"{n:,} {what}")
        note = "Events: " + "; ".join(parts) + "." if parts else "Events from the nkbrief store."
        return note

    def as_of_lines(self) -> list[tuple[str, str]]:
        """("Latest analyst edit", ...) and ("Data as of", ...): two separate facts."""
        edit = self.data.latest_edit
        return [("Latest analyst edit", f"{edit[:10]} (an edit or import after the events were added)"
                 if edit else "none: the events are as they were added"),
                ("Data as of", f"{self.data.data_as_of} (the latest launch dated to the day in the store)"
                 if self.data.data_as_of else "not known")]

    def sources_note(self) -> str:
        n_src = len(self.bibliography()[0])
        unsourced = self.data.unsourced
        s = f"The events cite {plural(n_src, 'distinct source')}"
        s += ", listed on the Sources sheet." if "sources" in self.o.sections else "."
        if unsourced:
            s += f" {plural(unsourced, 'event')} {plural(unsourced, 'has', number=False)} no source recorded."
        return s

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

        fig("Launch events", c["events"], INT, f"on {plural(c['days'], 'launch day')}")
        t = c["totals"]
        fig("Missiles fired", c["missiles"], '"≥"#,##0' if t.lower_bound else INT,
            " · ".join(x for x in (t.no_number_text(), "a lower bound: some counts are 'at least'"
                                   if t.lower_bound else "") if x))
        fig("Per-missile records", c["missile_rows"], INT)
        fig("Missile classes", len(self.class_counts()), INT, self.class_list())
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
        sh.blank(17)  # the two charts sit here, side by side
        off = self.off_chart_note()
        if off:  # under the distance chart: what a log axis cannot show
            r = sh.add([None] * 7 + [sh.cell(off, ("note", True))], height=_height(off, 95, 12))
            sh.ws.merged_cells.add(f"H{r}:P{r}")
        else:
            sh.blank()
        if len(self._periods()[0]) > 16:  # a long table starts on a page of its own
            sh.ws.row_breaks.append(Break(id=sh.row))
        else:  # a one-page dashboard
            sh.ws.page_setup.fitToHeight = 1

        # Launches per period by class: the bar chart's data, printed as a table.
        periods, by_class, monthly = self._periods()
        classes = [cl for cl, _ in self.class_counts(unknown=True)]  # the chart shows every event
        unit = "month" if monthly else "year"
        sh.heading(f"Launch events per {unit}, by class", min(14, len(classes) + 2))
        cols = [("period", unit.capitalize(), 0, "text")] + [(cl, cl, 0, "int") for cl in classes] + \
               [("total", "Total", 0, "int")]
        header_row = sh.row + 1
        sh.table(self.table_name("LaunchesPerPeriod"), cols,
                 ([p] + [int(by_class[cl][p]) for cl in classes]
                  + [(int(sum(by_class[cl][p] for cl in classes)), "bold")]
                  for p in periods))
        last_printed = sh.row
        bar = BarChart()
        bar.type, bar.grouping, bar.overlap, bar.gapWidth = "col", "stacked", 100, 40
        bar.title = f"Launch events per {unit}, by class"
        bar.y_axis.title = "Launch events"
        data_ref = Reference(sh.ws, min_col=2, max_col=1 + len(classes), min_row=header_row,
                             max_row=header_row + len(periods))
        bar.add_data(data_ref, titles_from_data=True)
        bar.set_categories(Reference(sh.ws, min_col=1, min_row=header_row + 1,
                                     max_row=header_row + len(periods)))
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

        # Distance over time: a line chart with a date axis (ticks on the first of a month,
        # quarter or year), one marker-only series per class. Its data sits below the print
        # area (one row per event with a distance above 0, the distance in its class column).
        sh.blank(2)
        known = ev[ev["distance_km"].notna() & (ev["distance_km"] > 0)]
        scat_classes = [cl for cl in classes if (known["missile_class"] == cl).any()]
        chart = LineChart()
        chart.title = "Distance flown over time"
        chart.y_axis.title = "Distance (km, log scale)"
        chart.x_axis = DateAxis(crossAx=100)
        chart.x_axis.title = "Date (KST)"
        chart.x_axis.axPos = "b"
        chart.x_axis.auto = False  # a date axis, not one Excel may turn into categories
        chart.x_axis.lblOffset = 100
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.y_axis.crossAx = 500
        chart.x_axis.axId = 500
        chart.display_blanks = "gap"
        chart.legend.position = "b"
        chart.width, chart.height = 16.5, 8.5
        if len(known) and scat_classes:
            sh.add([sh.cell("Chart data: distance by class, one row per event with a distance above 0 km "
                            "(read by the distance chart; not printed)", ("note",))])
            hdr = sh.add([sh.cell("Date (KST)", ("header",))]
                         + [sh.cell(cl, ("header",)) for cl in scat_classes])
            idx = {cl: i for i, cl in enumerate(scat_classes)}
            for r in frame_records(known[["date", "missile_class", "distance_km"]]):
                row: list = [sh.cell(to_date(r["date"]), ("value", DATE, "nowrap"))]
                row += [None] * len(scat_classes)
                row[1 + idx[r["missile_class"]]] = sh.cell(r["distance_km"], ("value", KM, "nowrap"))
                sh.add(row)
                self.tick("Summary")
            self.tick("Summary", len(ev) - len(known))
            n = len(known)
            for i, cl in enumerate(scat_classes):
                chart.add_data(Reference(sh.ws, min_col=2 + i, min_row=hdr, max_row=hdr + n),
                               titles_from_data=True)
                s = chart.series[-1]
                col = palette.class_color(cl).lstrip("#")
                s.marker.symbol = "circle"
                s.marker.size = 6
                s.marker.graphicalProperties.solidFill = col
                s.marker.graphicalProperties.line.solidFill = _darker(col)
                s.graphicalProperties.line.noFill = True
                s.smooth = False
            chart.set_categories(Reference(sh.ws, min_col=1, min_row=hdr + 1, max_row=hdr + n))
            d1 = to_date(self.last["date"])
            if self.data.reach:
                d1 = max(d1, to_date(self.data.reach))
            start, end, unit = month_axis(to_date(self.first["date"]), d1)
            chart.x_axis.scaling.min = to_excel(start)
            chart.x_axis.scaling.max = to_excel(end)
            chart.x_axis.baseTimeUnit = "days"
            chart.x_axis.majorTimeUnit = "months"
            chart.x_axis.majorUnit = unit
            chart.x_axis.number_format = "yyyy" if unit % 12 == 0 else "mmm yyyy"
            chart.x_axis.majorTickMark = "out"
            chart.y_axis.scaling.logBase = 10
            lo = float(known["distance_km"].min())
            chart.y_axis.scaling.min = 10 ** math.floor(math.log10(max(lo, 1)))
            chart.y_axis.number_format = "#,##0"
        else:
            self.tick("Summary", len(ev))
        chart.x_axis.majorGridlines = None
        sh.ws.add_chart(chart, f"H{charts_row}")
        sh.finish(last_col=16, last_row=last_printed)

    def off_chart_note(self) -> str:
        """The events the distance chart cannot place (0 km, or no distance reported)."""
        ev = self.data.events
        zero = ev[ev["distance_km"] == 0]
        unknown = int(ev["distance_km"].isna().sum())
        parts = []
        if len(zero):
            ids = ", ".join(zero["id"].head(5)) + (" …" if len(zero) > 5 else "")
            parts.append(f"{plural(len(zero), 'event')} with a reported distance of 0 km ({ids})")
        if unknown:
            parts.append(f"{plural(unknown, 'event')} with no distance reported")
        if not parts:
            return ""
        return "Not on the distance chart (a log scale has no 0): " + " and ".join(parts) + "."

    def _date_range(self) -> tuple[_dt.date, _dt.date]:
        """The first and last days the pack's time axes show (padded; the timeline picture
        also reaches the next party congress or summit a launch's context names)."""
        d0 = to_date(self.first["date"])
        d1 = to_date(self.last["date"])
        pad = max(7, (d1 - d0).days // 40)
        end = d1 + _dt.timedelta(days=pad)
        if self.data.reach:  # the next party congress or summit the context names is in view
            end = max(end, to_date(self.data.reach) + _dt.timedelta(days=2))
        return d0 - _dt.timedelta(days=pad), end

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



#: Month steps a time axis may take: ticks on the first of a month, quarter, half-year, year...
MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)


def month_axis(d0: _dt.date, d1: _dt.date, max_ticks: int = 12) -> tuple[_dt.date, _dt.date, int]:
    """(first tick, last tick, step in months) of a date axis covering ``d0``..``d1``: every
    tick is the first of a month, of a quarter (step 3), a half-year (6) or a year (12 and
    up); the range covers the months of both dates, with at most ``max_ticks`` steps."""
    m0 = d0.year * 12 + d0.month - 1
    m1 = d1.year * 12 + d1.month  # the first of the month after d1
    for step in MONTH_STEPS:
        a = m0 - m0 % step
        b = -(-m1 // step) * step
        if (b - a) // step <= max_ticks:
            break
    return _dt.date(a // 12, a % 12 + 1, 1), _dt.date(b // 12, b % 12 + 1, 1), step
