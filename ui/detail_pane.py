"""The detail pane: one launch explained (Launch · Map · Context · Sources · Notes), or a summary.

Read-only views are rich text in QTextBrowsers that never follow links: sources can be
copied to the clipboard, never opened (the workstation is offline by design). Notes are
edited in place and saved through the window's undo stack, so they are audited and undoable.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QPlainTextEdit, QPushButton, QTabWidget,
                               QTextBrowser, QVBoxLayout, QWidget)

from nkbrief.analysis import context
from nkbrief.common import html_escape
from nkbrief.model import palette, schema
from nkbrief.analysis.filtering import EventView

from .map_widget import MapWidget
from .style import set_tone

_MUTED = palette.MUTED_TEXT
_CSS = f"""
body {{ color: {palette.TEXT}; }}
h3 {{ margin: 0 0 4px 0; }}
td.k {{ color: {_MUTED}; padding-right: 10px; white-space: nowrap; vertical-align: top; }}
td {{ padding: 1px 8px 1px 0; vertical-align: top; }}
.muted {{ color: {_MUTED}; }}
"""


def _e(v) -> str:
    return html_escape(str(v))


def date_text(ev: dict) -> tuple[str, str]:
    """(KST text, UTC text) with the precision stated: ('May 1986 (month only)', '—')."""
    d, prec = ev.get("date"), ev.get("date_precision") or "day"
    if not d:
        return "date unknown", "—"
    if prec == "month":
        return f"{_dt.date.fromisoformat(d).strftime('%B %Y')} (month only)", "—"
    if prec == "year":
        return f"{d[:4]} (year only)", "—"
    t_kst, t_utc = ev.get("time_kst"), ev.get("time_utc")
    kst = f"{d} {t_kst} KST" if t_kst else f"{d} (time not reported)"
    if t_utc:
        u = pd.Timestamp(t_utc)
        u = u.tz_convert("UTC") if u.tzinfo else u
        utc = f"{u.strftime('%Y-%m-%d %H:%M')} UTC"
    else:
        utc = "—"
    return kst, utc


def km_text(lo, hi, what: str = "", qualifier: str | None = None) -> str:
    """As the sources state it: '>700 km', '~350 km', '350 km', '360–540 km (sources give a range)'."""
    if lo is None:
        return "not reported"
    if hi is not None and hi != lo:
        return f"{schema.number_text(lo, hi, None, 'km')} (sources give a range)"
    return schema.number_text(lo, None, qualifier, "km")


def _yes_no(v) -> str:
    return "not reported" if v is None else ("yes" if v else "no")


def _rows(pairs) -> str:
    return "<table>" + "".join(f"<tr><td class='k'>{_e(k)}</td><td>{v}</td></tr>" for k, v in pairs) + "</table>"


def _browser(parent) -> QTextBrowser:
    b = QTextBrowser(parent)
    b.setOpenLinks(False)
    b.setOpenExternalLinks(False)
    b.document().setDefaultStyleSheet(_CSS)
    b.setFrameShape(QTextBrowser.Shape.NoFrame)
    return b



def _origin_words(origin: dict) -> str:
    """How an event came into the store, from the batch that added it."""
    kind, n = origin["kind"], origin["batch_id"]
    if kind == "import":
        sha = f", sha256 {origin['sha256'][:12]}…" if origin.get("sha256") else ""
        return f"imported from {origin['file_name']} (batch {n}{sha})"
    if kind == "seed":
        return "loaded from the bundled dataset"
    return f"added ({kind} batch {n})"

class DetailPane(QWidget):
    """Follows the selection: :meth:`show_ids`. Emits :attr:`notes_saved` (event id, text)."""

    notes_saved = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("detail_pane")
        self.store = None
        self.frame = pd.DataFrame()
        self._profile_records = None
        self.calendar = pd.DataFrame()
        self._since = pd.Series(dtype="float64")
        self._row_of = pd.Index([])
        self.event_view = EventView(pd.DataFrame({"id": pd.Series(dtype=object)}))
        self.ids: list[str] = []
        self.current: str | None = None
        self.shown_event: dict | None = None

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        lay.addWidget(self.tabs)

        self.launch = _browser(self)
        self.map = MapWidget(self)
        self.context = _browser(self)
        self.tabs.addTab(self.launch, "Launch")
        self.tabs.addTab(self.map, "Map")
        self.tabs.addTab(self.context, "Context")

        src = QWidget(self)
        sl = QVBoxLayout(src)
        sl.setContentsMargins(6, 6, 6, 6)
        self.sources = QListWidget(src)
        self.sources.setWordWrap(True)
        self.sources.setAlternatingRowColors(True)
        self.sources.itemDoubleClicked.connect(lambda it: self.copy_link(it.text()))
        sl.addWidget(self.sources, 1)
        row = QHBoxLayout()
        self.copy_button = QPushButton("Copy link", src)
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.copy_all_button = QPushButton("Copy all", src)
        self.copy_all_button.clicked.connect(self._on_copy_all_clicked)
        row.addWidget(self.copy_button)
        row.addWidget(self.copy_all_button)
        row.addStretch(1)
        sl.addLayout(row)
        hint = QLabel("Links are copied to the clipboard, never opened here.", src)
        set_tone(hint, "muted")
        sl.addWidget(hint)
        prov_label = QLabel("Provenance: how the compiler decided the date and values", src)
        set_tone(prov_label, "muted")
        sl.addWidget(prov_label)
        self.provenance = _browser(src)  # the compiler's notes; the analyst's own are on Notes
        sl.addWidget(self.provenance, 1)
        self.tabs.addTab(src, "Sources")

        notes = QWidget(self)
        nl = QVBoxLayout(notes)
        nl.setContentsMargins(6, 6, 6, 6)
        self.notes_edit = QPlainTextEdit(notes)
        self.notes_edit.setPlaceholderText("Analyst notes for this launch (saved to the store, audited)")
        self.notes_edit.textChanged.connect(self._on_notes_text_changed)
        nl.addWidget(self.notes_edit, 2)
        row = QHBoxLayout()
        self.save_notes_button = QPushButton("Save notes", notes)
        self.save_notes_button.clicked.connect(self.save_notes)
        self.revert_notes_button = QPushButton("Revert", notes)
        self.revert_notes_button.clicked.connect(self._load_notes)
        self.notes_state = QLabel("", notes)
        set_tone(self.notes_state, "muted")
        row.addWidget(self.save_notes_button)
        row.addWidget(self.revert_notes_button)
        row.addWidget(self.notes_state, 1)
        nl.addLayout(row)
        self.history = _browser(notes)
        nl.addWidget(self.history, 1)
        self.tabs.addTab(notes, "Notes")
        self._loading_notes = False
        self.show_ids([])

    # -------------------------------------------------------------- data
    def set_store(self, store) -> None:
        self.store = store

    def set_frames(self, events: pd.DataFrame, calendar: pd.DataFrame, view: EventView | None = None) -> None:
        """The current events and calendar (for days-since and the calendar context).

        ``view`` may be the table's EventView over the same frame, to share its caches."""
        self.frame = events.reset_index(drop=True)
        self._profile_records = None  # the events as the system profile reads them, built on first use
        self.calendar = calendar
        self._row_of = pd.Index(self.frame["id"]) if len(self.frame) else pd.Index([])
        self.event_view = view if view is not None and view.n == len(self.frame) else EventView(self.frame)
        since = context.days_since_previous_launch(self.frame) if len(self.frame) else pd.Series(dtype=float)
        self._since = since

    def refresh(self) -> None:
        """Re-read the shown events from the store (after an edit)."""
        self.show_ids(self.ids, self.current, force=True)

    # ---------------------------------------------------------- selection
    def show_ids(self, ids, current: str | None = None, force: bool = False) -> None:
        given, ids = ids, list(ids)
        current = current if current in ids else (ids[-1] if ids else None)
        if not force and ids == self.ids and current == self.current:
            return
        if self.notes_dirty() and self.shown_event is not None and current != self.shown_event["id"]:
            self.save_notes()  # leaving an event never loses typed notes
        self.ids, self.current = ids, current
        one = len(ids) == 1
        ev = self.store.get_event(current) if (one and self.store is not None and current) else None
        self.shown_event = ev
        if one and ev is not None:
            self._show_one(ev)
        elif len(ids) > 1:
            # the Selection's own tuple: the view knows its rows when the table made it
            self._show_many(given if isinstance(given, tuple) else ids)
        else:
            self._show_none()

    def _show_none(self) -> None:
        msg = "<p class='muted'>Select an event in the table or on the timeline.</p>"
        for b in (self.launch, self.context, self.history):
            b.setHtml(msg if b is not self.history else "")
        self.map.show_events([])
        self.sources.clear()
        self.provenance.clear()
        self._set_notes_enabled(False, "")

    def _show_one(self, ev: dict) -> None:
        self.launch.setHtml(self.launch_html(ev))
        self.context.setHtml(self.context_html(ev))
        self.map.show_events([ev])
        self.sources.clear()
        for s in ev.get("sources") or []:
            self.sources.addItem(s)
        if self.sources.count():
            self.sources.setCurrentRow(0)
        self.provenance.setPlainText(ev.get("provenance") or "None recorded.")
        self._set_notes_enabled(True, ev.get("notes") or "")
        self.history.setHtml(self.history_html(ev["id"]))

    def _show_many(self, ids) -> None:
        rows = self.event_view.frame_rows_for_ids(ids)
        self.launch.setHtml(self.summary_html(rows))
        self.context.setHtml("<p class='muted'>Select one event to see its calendar context.</p>")
        self.map.show_sites(self.event_view, rows)
        self.sources.clear()
        self.provenance.clear()
        self._set_notes_enabled(False, "")
        self.history.setHtml("")

    # -------------------------------------------------------------- html
    def launch_html(self, ev: dict) -> str:
        kst, utc = date_text(ev)
        color = palette.class_color(ev.get("missile_class"))
        cls = _e(ev.get("missile_class") or "unknown")
        name = _e(ev.get("missile_name") or "unnamed system")
        count = ev.get("count")
        n_rows = len(self.store.missiles(ev["id"])) if self.store is not None else 0
        count_txt = (f"{_e(schema.number_text(count, None, ev.get('count_qualifier')))} "
                     f"missile{'s' if count != 1 else ''}" if count else "not reported")
        if n_rows:
            count_txt += f" <span class='muted'>({n_rows} per-missile record{'s' if n_rows != 1 else ''})</span>"
        site = _e(ev.get("launch_site") or "not reported")
        if ev.get("latitude") is not None:
            site += f" <span class='muted'>({ev['latitude']:.2f}° N, {ev['longitude']:.2f}° E)</span>"
        pairs = [
            ("Date (KST)", _e(kst)), ("Time (UTC)", _e(utc)),
            ("Class", f"<span style='color:{color}'>●</span> {cls}"), ("System", name),
            ("Count", count_txt),
            ("Distance", _e(km_text(ev.get("distance_km"), ev.get("distance_km_max"),
                                    qualifier=ev.get("distance_qualifier")))),
            ("Apogee", _e(km_text(ev.get("apogee_km"), ev.get("apogee_km_max"), qualifier=ev.get("apogee_qualifier")))),
            ("Launch site", site), ("Landing area", _e(ev.get("landing_area") or "not reported")),
            ("Outcome", _e(ev.get("outcome") or "unknown")),
            ("Confirmation", _e(ev.get("confirmation") or "not stated")),
            ("Leader attended", _e(_yes_no(ev.get("leader_attended")))),
        ]
        desc = _e(ev.get("description") or "").replace("\n", "<br>")
        return (f"<h3><span style='color:{color}'>●</span> {_e(kst)} · {cls} · {name}</h3>"
                + _rows(pairs)
                + (f"<p>{desc}</p>" if desc else "<p class='muted'>No description.</p>")
                + self.system_html(ev)
                + f"<p class='muted'>id {_e(ev['id'])}</p>")

    def system_html(self, ev: dict) -> str:
        """The profile of each catalogue system the event names: aliases, class, range band,
        and its first and latest launch in the store (computed now, from the events)."""
        # Deferred (start-up): the catalogue is read when an event is first shown, not before
        # the window paints (nothing is selected then).
        from nkbrief.analysis import catalogue

        found = catalogue.find_systems(ev.get("missile_name"))[:2]
        if not found:
            return ""
        if self._profile_records is None:
            cols = [c for c in ("id", "date", "missile_name", "distance_km", "apogee_km") if c in self.frame]
            recs = self.frame[cols].to_dict("records") if len(self.frame) else []
            self._profile_records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
                                     for r in recs]
        out = ""
        for system in found:
            p = catalogue.system_profile(system, self._profile_records)
            cls = _e(p["class"]) + (f" <span class='muted'>(also counted as {_e(', '.join(p['other_classes']))})"
                                    "</span>" if p["other_classes"] else "")
            if p["events"]:
                seen = (f"{p['events']:,} launch{'es' if p['events'] != 1 else ''}; first {_e(p['first'][0])}, "
                        f"latest {_e(p['latest'][0])}")
            else:
                seen = "no launch in the store"
            pairs = [("Also known as", _e(" · ".join(p["aliases"])) or "—"), ("Class", cls),
                     ("Range band", _e(p["range_band"])), ("In the store", seen)]
            if p["longest_km"] is not None:
                pairs.append(("Longest flight", f"{p['longest_km']:,.0f} km"))
            if p["note"]:
                pairs.append(("Note", _e(p["note"])))
            pairs.append(("Catalogue sources", "<span class='muted'>" + _e("; ".join(
                s.split(",")[0] for s in p["sources"])) + "</span>"))
            out += f"<h4>System: {_e(p['name'])}</h4>" + _rows(pairs)
        return out

    def context_items(self, ev: dict) -> list:
        """nkbrief.analysis.context.calendar_context of the event (the one context used everywhere)."""
        if self.calendar is None or not len(self.calendar) or not ev.get("date"):
            return []
        return context.calendar_context(ev["date"], self.calendar, ev.get("date_precision"))

    def context_html(self, ev: dict) -> str:
        parts = []
        pos = self._row_of.get_indexer([ev["id"]])[0] if len(self._row_of) else -1
        since = self._since.iloc[pos] if pos >= 0 else np.nan
        precise = ev.get("date_precision") not in ("month", "year")
        if np.isfinite(since):
            days = int(since)
            parts.append(("Since previous launch", f"{days:,} day{'s' if days != 1 else ''}"))
        elif not precise:
            parts.append(("Since previous launch", f"not counted: the date is known only to the "
                                                   f"{_e(ev['date_precision'])}"))
        elif pos >= 0 and (self.frame["date"] < ev["date"]).any():
            parts.append(("Since previous launch", "not known: a launch dated only to the month or "
                                                   "year may fall in between"))
        else:
            parts.append(("Since previous launch", "first launch in the store"))
        html_out = _rows(parts)
        cal = self.calendar
        if cal is not None and len(cal) and ev.get("date"):
            html_out += f"<h4>Calendar context ({context.CONTEXT_DAYS} days either side)</h4>"
            if not precise:
                html_out += f"<p class='muted'>{_e(context.NO_DAY_NOTE.format(p=ev['date_precision']))}</p>"
            else:
                items = self.context_items(ev)
                if items:
                    html_out += _rows((context.CATEGORY_LABELS.get(n.category, n.category), _e(n.phrase()))
                                      for n in items)
                else:
                    html_out += (f"<p class='muted'>No calendar entry within {context.CONTEXT_DAYS} "
                                 "days.</p>")
        else:
            html_out += "<p class='muted'>No political calendar in the store.</p>"
        html_out += "<h4>Stakeholder statements</h4>" + self.statements_html(ev["id"])
        return html_out

    def statements_html(self, event_id: str) -> str:
        stmts = self.store.statements(event_id) if self.store is not None else []
        if not stmts:
            return "<p class='muted'>None recorded.</p>"
        rows = []
        for s in stmts:
            src = f"<br><span class='muted'>{_e(s['source'])}</span>" if s.get("source") else ""
            rows.append((s.get("actor") or "other", _e(s.get("summary") or "") + src))
        return _rows(rows)

    def summary_html(self, rows) -> str:
        """Several events (frame rows): count, missiles, classes, date span, maximum range."""
        s = self.event_view.summary(rows)
        chips = ", ".join(f"<span style='color:{palette.class_color(c)}'>●</span> {_e(c)}&nbsp;{n}"
                          for c, n in s["classes"].items())
        rng = "not reported"
        if s["max_range_km"] is not None:
            rng = f"{s['max_range_km']:,.0f} km"
            r = self.frame.iloc[s["max_range_row"]]
            rng += f" <span class='muted'>({_e(r['date'])} {_e(r['missile_class'])})</span>"
        span = f"{s['first']} to {s['last']}" if s["first"] != s["last"] else str(s["first"])
        out = (f"<h3>{s['events']:,} events selected</h3>"
               + _rows([("Missiles", _e(s["missiles"].text())), ("Classes", chips or "—"),
                        ("Dates", _e(span)), ("Maximum range", rng)]))
        return out + self._listing_html(rows)

    def _listing_html(self, rows, limit: int = 100) -> str:
        """The selected events in date order, one line each (the first ``limit``).

        Plain lines, not a table: QTextDocument lays out a 200-row table in ~80 ms."""
        v = self.event_view
        r = np.asarray(rows, dtype=np.int64)
        r = np.sort(r) if r.size <= 4 * limit else np.sort(np.partition(r, limit)[:limit])
        dates, cls = v.display("date"), v.display("missile_class")
        names, dist = v.display("missile_name"), v.display("distance_km")
        lines = []
        for i in r[:limit].tolist():
            c = cls[i] or "unknown"
            km = f" · {dist[i]} km" if dist[i] else ""
            name = f" · {_e(names[i])}" if names[i] else ""
            lines.append(f"<span class='muted'>{_e(dates[i])}</span> <span style='color:"
                         f"{palette.class_color(c)}'>●</span> {_e(c)}{name}{_e(km)}")
        total = len(rows)
        more = f"<br><span class='muted'>… and {total - limit:,} more.</span>" if total > limit else ""
        return "<h4>Selected events</h4><p>" + "<br>".join(lines) + more + "</p>"

    def history_html(self, event_id: str) -> str:
        if self.store is None:
            return ""
        a = self.store.audit_frame(record_id=event_id)
        a = a[a["table_name"] == "events"]
        rows = []
        for r in a.tail(8).iloc[::-1].itertuples():
            what = r.field.replace("_", " ") if isinstance(r.field, str) else r.action
            rows.append((f"{r.at_utc[:16].replace('T', ' ')} UTC", f"{_e(r.user)}: {_e(r.action)} {_e(what)}"))
        origin = self.store.event_origin(event_id)
        if origin is not None and not (a["action"] == "insert").any():  # added with no row of its own
            rows.append((f"{origin['created_utc'][:16].replace('T', ' ')} UTC",
                         f"{_e(origin['user'])}: {_e(_origin_words(origin))}"))
        if not rows:
            return "<p class='muted'>No edits recorded since this event was loaded.</p>"
        return "<h4>Change history</h4>" + _rows(rows)

    # ------------------------------------------------------------- sources
    def copy_link(self, text: str | None = None) -> str:
        """Put a source on the clipboard (the selected one by default)."""
        if text is None:
            it = self.sources.currentItem()
            text = it.text() if it is not None else ""
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def _on_copy_clicked(self) -> None:
        self.copy_link()

    def _on_copy_all_clicked(self) -> None:
        texts = [self.sources.item(i).text() for i in range(self.sources.count())]
        if texts:
            QGuiApplication.clipboard().setText("\n".join(texts))

    # --------------------------------------------------------------- notes
    def _set_notes_enabled(self, on: bool, text: str) -> None:
        self._loading_notes = True
        self.notes_edit.setPlainText(text)
        self._loading_notes = False
        self._saved_notes = text
        self.notes_edit.setEnabled(on)
        self.save_notes_button.setEnabled(False)
        self.revert_notes_button.setEnabled(False)
        self.notes_state.setText("" if on else "Select one event to edit its notes.")
        why = getattr(self, "read_only_reason", None)  # set by the window on a read-only store
        self.notes_edit.setReadOnly(bool(why))
        self.notes_edit.setToolTip(f"Read-only: {why}" if why else "")
        if on and why:
            self.notes_state.setText(f"Read-only: {why}")

    def _load_notes(self) -> None:
        if self.shown_event is not None:
            self._set_notes_enabled(True, self.shown_event.get("notes") or "")

    def notes_dirty(self) -> bool:
        return self.notes_edit.isEnabled() and self.notes_edit.toPlainText() != getattr(self, "_saved_notes", "")

    def _on_notes_text_changed(self) -> None:
        if self._loading_notes:
            return
        dirty = self.notes_dirty()
        self.save_notes_button.setEnabled(dirty)
        self.revert_notes_button.setEnabled(dirty)
        self.notes_state.setText("Unsaved changes" if dirty else "")

    def save_notes(self) -> None:
        """Emit :attr:`notes_saved` for the shown event if the notes changed."""
        if self.shown_event is None or not self.notes_dirty():
            return
        text = self.notes_edit.toPlainText()
        self._saved_notes = text
        self.save_notes_button.setEnabled(False)
        self.revert_notes_button.setEnabled(False)
        self.notes_state.setText("Saved (audited; Ctrl+Z undoes)")
        self.notes_saved.emit(self.shown_event["id"], text)

    def notes_save_failed(self, message: str) -> None:
        """The store refused the notes: keep the text, mark it unsaved, say why."""
        self._saved_notes = (self.shown_event or {}).get("notes") or ""
        self._on_notes_text_changed()
        self.notes_state.setText(f"Not saved: {message}")
