"""The briefing pack's front pages: the cover (a memo) and the summary (figures and charts).

A mixin of :class:`nkbrief.briefing.sheets.PackWriter`; see there for the data it reads.
"""

from __future__ import annotations

import datetime as _dt
import math

import pandas as pd
from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.pagebreak import Break

from ..model import palette
from . import SECTIONS
from ..model.schema import MISSILE_CLASSES
from ..store import frame_records
from .xlsx_stream import DATE, DATE_FORMATS, INT, KM, Sheet, _darker, _height
from .xlsx_values import long_date, shown_date, to_date


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
        para("Launches", f"{c['events']:,} launch events on {c['days']:,} days · {missiles} · "
                         f"{c['missile_rows']:,} per-missile records")
        para("Classes", " · ".join(f"{cl} {n:,}" for cl, n in self.class_counts()))
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
        t = c["totals"]
        fig("Missiles fired", c["missiles"], '"≥"#,##0' if t.lower_bound else INT,
            " · ".join(x for x in (t.no_number_text(), "a lower bound: some counts are 'at least'"
                                   if t.lower_bound else "") if x))
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

