"""Add or edit one launch event in a validated form.

Cells are parsed with :mod:`nkbrief.model.parse` (so '25-90 km', '15:50' or 'May 1986' work as
they do in imports) and the result is checked with :func:`nkbrief.model.schema.validate_event`.
Problems appear under the field they concern; the dialog refuses to save while any remain.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QPlainTextEdit, QScrollArea, QVBoxLayout, QWidget)

from nkbrief.analysis import catalogue
from nkbrief.model import parse, rules, schema

from .style import app_icon, mark_invalid, style_dialog


def _km_text(lo, hi, qualifier=None) -> str:
    if lo is None:
        return ""
    fmt = (lambda v: f"{v:g}")
    if hi is None or hi == lo:
        return f"{qualifier} {fmt(lo)}" if qualifier else fmt(lo)  # 'over 700': the source's words
    return f"{fmt(lo)}-{fmt(hi)}"


_QUALIFIER_WORDS = re.compile(r"^\s*(?:more than|over|at least|up to|less than|under|about|approx\.?|"
                              r"approximately|around|~|>=|<=|>|<|≥|≤)\s*", re.I)


def _qualified(parse_fn):
    """A parser that also returns the qualifier the analyst wrote ('at least 7' -> (7, 'at least'))."""
    def parse_q(raw):
        q = schema.qualifier_of(raw) if isinstance(raw, str) else None
        value = parse_fn(_QUALIFIER_WORDS.sub("", raw) if q and isinstance(raw, str) else raw)
        return value, q
    return parse_q


class EventEditDialog(QDialog):
    """``EventEditDialog(store, event=None)``: None adds a new event; else edits ``event``."""

    def __init__(self, store, event: dict | None = None, parent=None):
        super().__init__(parent)
        style_dialog(self)
        self.store = store
        self.original = dict(event) if event else None
        self.setWindowTitle(f"Edit {event['id']}" if event else "Add launch event")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(560)
        self.result_event: dict | None = None
        self.problems: dict[str, str] = {}
        # Problems show under the fields the analyst has edited (all of them for an existing
        # event, or after Save is pressed): a new form opens without red.
        self._touched: set[str] = set()
        self._show_all = event is not None

        outer = QVBoxLayout(self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        body = QWidget(scroll)
        form = QFormLayout(body)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        self.form = form
        self.fields: dict[str, QWidget] = {}
        self.problem_labels: dict[str, QLabel] = {}

        ev = schema.empty_event() | (event or {})

        def line(key, label, text="", placeholder=""):
            w = QLineEdit(body)
            w.setText(text)
            w.setPlaceholderText(placeholder)
            w.textChanged.connect(lambda *_, k=key: self._on_field_changed(k))
            self._add(key, label, w)
            return w

        def combo(key, label, items, current):
            w = QComboBox(body)
            for value, text in items:
                w.addItem(text, value)
            i = w.findData(current)
            if i < 0 and key == "confirmation":  # unknown or blank: never shown as "confirmed"
                i = w.findData("not stated")
            w.setCurrentIndex(max(i, 0))
            w.currentIndexChanged.connect(lambda *_, k=key: self._on_field_changed(k))
            self._add(key, label, w)
            return w

        def text(key, label, value, lines=3):
            w = QPlainTextEdit(body)
            w.setPlainText(value or "")
            w.setFixedHeight(w.fontMetrics().lineSpacing() * lines + 12)
            w.textChanged.connect(lambda *_, k=key: self._on_field_changed(k))
            self._add(key, label, w)
            return w

        line("date", "Date (KST) *", ev["date"] or "", "YYYY-MM-DD, or YYYY-MM / YYYY when only that is "
             f"known ({rules.DATE.bounds_text()})")
        combo("date_precision", "Date known to the", [(p, p) for p in schema.DATE_PRECISIONS],
              ev["date_precision"])
        line("time_kst", "Time (KST)", ev["time_kst"] or "", "HH:MM, blank if not reported")
        combo("missile_class", "Class *", [(c, c) for c in schema.MISSILE_CLASSES], ev["missile_class"])
        line("missile_name", "System", ev["missile_name"] or "", "e.g. Hwasong-15 / 화성-15")
        line("count", "Count", "" if ev["count"] is None else
             (f"{ev['count_qualifier']} " if ev.get("count_qualifier") else "") + str(ev["count"]),
             f"missiles launched ({rules.COUNT.bounds_text()}); 'at least 7' keeps the source's words")
        line("distance", "Distance (km)", _km_text(ev["distance_km"], ev["distance_km_max"],
                                                   ev.get("distance_qualifier")),
             f"350, 'over 700', or a range such as 25-90 ({rules.DISTANCE.bounds_text()})")
        line("apogee", "Apogee (km)", _km_text(ev["apogee_km"], ev["apogee_km_max"], ev.get("apogee_qualifier")),
             f"80, 'about 60', or 60-100 ({rules.APOGEE.bounds_text()})")
        line("launch_site", "Launch site", ev["launch_site"] or "")
        line("latitude", "Latitude (°N)", "" if ev["latitude"] is None else f"{ev['latitude']:g}")
        line("longitude", "Longitude (°E)", "" if ev["longitude"] is None else f"{ev['longitude']:g}")
        line("landing_area", "Landing area", ev["landing_area"] or "")
        combo("outcome", "Outcome", [(o, o) for o in schema.OUTCOMES], ev["outcome"])
        combo("confirmation", "Confirmation", [(c, c) for c in schema.CONFIRMATIONS], ev["confirmation"])
        combo("leader_attended", "Leader attended", [(None, "not reported"), (True, "yes"), (False, "no")],
              ev["leader_attended"])
        text("description", "Description", ev["description"], 4)
        text("sources", "Sources (one per line)", "\n".join(ev["sources"] or []), 3)
        text("notes", "Notes", ev["notes"], 3)

        self.summary = QLabel(self)
        self.summary.setObjectName("problem")
        self.summary.setWordWrap(True)
        outer.addWidget(self.summary)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        self.resize(600, 720)
        self.check()

    def _add(self, key: str, label: str, w: QWidget) -> None:
        box = QWidget(w.parentWidget())
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(1)
        v.addWidget(w)
        prob = QLabel(box)
        prob.setObjectName("problem")
        prob.setWordWrap(True)
        prob.hide()
        v.addWidget(prob)
        self.form.addRow(label, box)
        self.fields[key] = w
        self.problem_labels[key] = prob

    # ------------------------------------------------------------ values
    def _raw(self, key: str):
        w = self.fields[key]
        if isinstance(w, QLineEdit):
            return w.text().strip()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        return w.currentData()

    def set_value(self, key: str, value) -> None:
        """Set a field as the analyst would (for tests and previews)."""
        w = self.fields[key]
        if isinstance(w, QLineEdit):
            w.setText(str(value))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(str(value))
        else:
            w.setCurrentIndex(max(w.findData(value), 0))

    def build(self) -> tuple[dict, dict[str, str]]:
        """Parse the form into an event dict and {field: problem} (empty when valid)."""
        probs: dict[str, str] = {}
        ev = schema.empty_event()
        if self.original:
            ev |= {k: v for k, v in self.original.items() if k in schema.EVENT_FIELDS}

        def parsed(key, fn, label):
            raw = self._raw(key)
            try:
                return fn(raw)
            except ValueError as e:
                probs[key] = f"{label} {raw!r} {e}"
                return None

        date_raw = self._raw("date")
        precision = self._raw("date_precision")
        if not date_raw:
            probs["date"] = "Date is required"
            ev["date"] = None
        else:
            d = parsed("date", parse.parse_date, "Date")
            if d is not None:
                ev["date"] = d[0]
                # A month-only or year-only entry ('1986-05') sets the precision itself.
                ev["date_precision"] = d[1] if d[1] != "day" else precision
                if d[1] == "day" and precision != "day":
                    ev["date"] = d[0][:7] + "-01" if precision == "month" else d[0][:4] + "-01-01"
        ev["time_kst"] = parsed("time_kst", parse.parse_time, "Time")
        ev["missile_class"] = self._raw("missile_class")
        ev["missile_name"] = self._raw("missile_name") or None
        ev["count"], ev["count_qualifier"] = parsed("count", _qualified(parse.parse_int), "Count") or (None, None)
        if ev["count"] is None:
            ev["count_qualifier"] = None
        for key, label in (("distance", "Distance"), ("apogee", "Apogee")):
            (lo, hi), q = parsed(key, _qualified(parse.parse_km), label) or ((None, None), None)
            ev[f"{key}_km"], ev[f"{key}_km_max"] = lo, hi
            ev[f"{key}_qualifier"] = q if lo is not None and hi is None else None
        ev["launch_site"] = self._raw("launch_site") or None
        ev["latitude"] = parsed("latitude", parse.parse_float, "Latitude")
        ev["longitude"] = parsed("longitude", parse.parse_float, "Longitude")
        ev["landing_area"] = self._raw("landing_area") or None
        ev["outcome"] = self._raw("outcome")
        ev["confirmation"] = self._raw("confirmation")
        ev["leader_attended"] = self._raw("leader_attended")
        ev["description"] = self._raw("description").strip()
        ev["sources"] = parse.split_sources(self._raw("sources"))
        ev["notes"] = self._raw("notes").strip()
        if ev["date"] and ev["time_kst"] and ev.get("date_precision") == "day" \
                and rules.date_in_bounds(ev["date"]):
            ev["time_utc"] = rules.kst_to_utc(ev["date"], ev["time_kst"])
        else:
            ev["time_utc"] = None
        if self.original is None:
            ev["id"] = catalogue.event_id(ev["date"] or "0000-00-00", ev["missile_class"], ev["launch_site"])
            if ev["date"] and "date" not in probs and self.store is not None and self.store.has_event(ev["id"]):
                probs.setdefault("date", f"An event with this date, class and site already exists ({ev['id']})")
        field_map = {"distance_km": "distance", "distance_km_max": "distance", "apogee_km": "apogee",
                     "apogee_km_max": "apogee", "id": "date", "time_utc": "time_kst"}
        for p in schema.validate_event(ev).problems:
            key = field_map.get(p.field, p.field)
            if key in self.fields:
                probs.setdefault(key, f"{p.field.replace('_', ' ').capitalize()} {p.value!r} {p.reason}")
        return ev, probs

    def changes(self) -> dict:
        """Fields that differ from the original event (edit mode)."""
        ev, _ = self.build()
        if self.original is None:
            return ev
        return {k: v for k, v in ev.items() if k != "id" and self.original.get(k) != v}

    def check(self) -> dict[str, str]:
        """Validate and show problems inline; returns them."""
        _, probs = self.build()
        self.problems = probs
        for key, lab in self.problem_labels.items():
            msg = probs.get(key) if (self._show_all or key in self._touched) else None
            lab.setText(msg or "")
            lab.setVisible(bool(msg))
            w = self.fields[key]
            if isinstance(w, QLineEdit):
                mark_invalid(w, bool(msg))
        n = len(probs)
        shown = self._show_all or bool(self._touched)
        self.summary.setText("" if not n or not shown else f"{n} problem{'s' if n > 1 else ''} to fix before saving.")
        return probs

    def _on_field_changed(self, key: str | None = None, *_):
        if key:
            self._touched.add(key)
        self.check()

    def accept(self) -> None:
        """Save only a valid event; otherwise keep the dialog open with the problems shown."""
        self._show_all = True
        probs = self.check()
        if probs:
            first = next(iter(probs))
            self.fields[first].setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.result_event, _ = self.build()
        super().accept()


if __name__ == "__main__":  # preview on the bundled data: python -m ui.edit_dialog
    import sys

    from PySide6.QtWidgets import QApplication

    from nkbrief.store import Store

    app = QApplication(sys.argv)
    import tempfile
    from pathlib import Path

    st = Store.open(Path(tempfile.mkdtemp()) / "preview.sqlite3")
    df = st.events_frame(date_from="2026-01-27", date_to="2026-01-27")
    ev = st.get_event(df["id"].iloc[0]) if len(df) else None
    dlg = EventEditDialog(st, ev)
    dlg.show()
    sys.exit(app.exec())
