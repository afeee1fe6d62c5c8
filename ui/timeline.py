"""The timeline: one point per launch on a date axis (KST), with the political calendar behind.

x is the launch time; y is distance (linear or log) or one lane per class. Points are drawn
by one scatter item per class (so the colours need no per-point brushes), and selection is
an overlay item, so highlighting 20k events is one ``setData`` call. Hover and click use a
numpy hit-test on the visible points (``ScatterPlotItem.pointsAt`` is far too slow at 100k).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyqtgraph as pg
from pyqtgraph.graphicsItems.DateAxisItem import HOUR_SPACING, ZoomLevel
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (QActionGroup, QCursor, QFontMetrics, QIcon, QPainter, QPen, QPixmap, QPixmapCache,
                           QTransform)
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QMenu, QSizePolicy, QToolButton, QToolTip, QVBoxLayout,
                               QWidget)

from nkbrief import atomic
from nkbrief.common import html_escape
from nkbrief.model import palette, schema
from nkbrief.analysis.context import CATEGORY_LABELS, calendar_context
from nkbrief.analysis.filtering import KST_OFFSET_S, launch_times
from nkbrief.write_guard import WriteRefused

from .style import icon, qcolor, set_tone

#: Calendar labels that win when there is no room for all, most important first.
_LABEL_RANK = {c: i for i, c in enumerate(("party_congress", "nuclear_test", "summit", "un_resolution", "plenum",
                                           "inauguration", "spa_session", "exercise", "other", "anniversary"))}


def _swatch(color: str, line: bool = False) -> QIcon:
    """A small colour key: a dot (a class) or a dashed line (a calendar category)."""
    pm = QPixmap(14, 14)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    if line:
        pen = QPen(qcolor(color), 2, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(7, 0, 7, 14)
    else:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(qcolor(color))
        p.drawEllipse(2, 2, 10, 10)
    p.end()
    return QIcon(pm)


Y_MODES = {"distance": "Distance", "log": "Distance (log)", "lanes": "Class lanes"}
DEFAULT_CATEGORIES = frozenset({"party_congress", "summit", "nuclear_test"})
#: Class lanes, top to bottom.
LANE_ORDER = ("ICBM", "SLV", "IRBM", "HGV", "MRBM", "SLBM", "SRBM", "CRBM", "MLRS", "cruise", "unknown")
_LANE_Y = {c: float(len(LANE_ORDER) - 1 - i) for i, c in enumerate(LANE_ORDER)}
_DAY = 86400.0
LABEL_LIMIT = 24  # calendar labels are drawn when at most this many entries are in view
DENSE_POINTS = 3000
_PIXMAP_CACHE_KB = 96 * 1024  # above this many visible points, draw them small and translucent
_OUTLINE = pg.mkPen(255, 255, 255, 160, width=0.8)


def _kst_midnights(dates: list[str]) -> np.ndarray:
    """POSIX seconds of 00:00 KST on each 'YYYY-MM-DD' date; NaN where it is not one."""
    try:  # numpy parses a few hundred ISO dates ~10x faster than pd.to_datetime
        days = np.array(dates, dtype="datetime64[D]")
        ok = ~np.isnat(days) & np.array([len(d) == 10 for d in dates], dtype=bool)
    except ValueError:
        parsed = pd.to_datetime(pd.Series(dates, dtype=object), format="%Y-%m-%d", errors="coerce")
        days = parsed.to_numpy("datetime64[D]")
        ok = ~np.isnat(days)
    out = days.astype("datetime64[s]").astype("int64").astype(float) - KST_OFFSET_S
    out[~ok] = np.nan
    return out


@dataclass(frozen=True)
class CalendarEntry:
    """One political-calendar entry on the time axis (POSIX seconds, end exclusive)."""

    category: str
    start: float
    end: float
    title: str
    dates: str

    @property
    def is_band(self) -> bool:
        return self.end - self.start > 1.5 * _DAY


class _CalendarLayer(pg.GraphicsObject):
    """All calendar lines and bands in one item, painted across the view's full height.

    A few hundred InfiniteLine/LinearRegionItem objects cost ~0.9 s to create at start-up;
    one item that paints only the entries in view costs next to nothing.
    """

    def __init__(self, viewbox):
        super().__init__()
        self._vb = viewbox
        self.entries: list[CalendarEntry] = []
        self._shown: set[str] = set()
        self._highlight: set[str] | None = None
        self._starts = np.zeros(0)
        self._ends = np.zeros(0)

    def set_entries(self, entries: list[CalendarEntry]) -> None:
        self.prepareGeometryChange()
        self.entries = list(entries)
        self._starts = np.array([e.start for e in self.entries], dtype=float)
        self._ends = np.array([e.end for e in self.entries], dtype=float)
        self.update()

    def set_style(self, shown: set[str], highlight: set[str] | None) -> None:
        self._shown, self._highlight = set(shown), (set(highlight) if highlight is not None else None)
        self.update()

    def view_changed(self) -> None:
        self.prepareGeometryChange()

    def entries_near(self, x: float, tol: float, shown: set[str]):
        hit = np.flatnonzero((self._starts - tol <= x) & (x <= self._ends + tol))
        return [self.entries[i] for i in hit if self.entries[i].category in shown]

    def boundingRect(self):  # noqa: N802 (Qt override)
        (x0, x1), (y0, y1) = self._vb.viewRange()
        return QRectF(x0, y0, x1 - x0, y1 - y0)

    def dataBounds(self, axis, frac=1.0, orthoRange=None):  # noqa: N802 (pyqtgraph API)
        return None  # never part of auto-range

    def paint(self, p, *args):
        (x0, x1), (y0, y1) = self._vb.viewRange()
        in_view = np.flatnonzero((self._ends >= x0) & (self._starts <= x1))
        hl = self._highlight
        for i in in_view.tolist():
            e = self.entries[i]
            if e.category not in self._shown:
                continue
            strong = hl is not None and e.category in hl
            dim = hl is not None and not strong
            color = palette.category_color(e.category)
            if e.is_band:
                p.fillRect(QRectF(e.start, y0, e.end - e.start, y1 - y0),
                           qcolor(color, 12 if dim else 60 if strong else 28))
            pen = pg.mkPen(qcolor(color, 50 if dim else 200 if strong else 105),
                           width=2 if strong else 1, style=Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.drawLine(QPointF(e.start, y0), QPointF(e.start, y1))


class _HaloLayer(pg.GraphicsObject):
    """Selected events as dark halos drawn just under their points.

    A few thousand: one antialiased ``drawPoints`` call per distinct symbol size with a
    round cosmetic pen. More (20k selected): aliased squares, drawn as one ``drawRects``
    of whole device pixels, the pixels a square-capped point covers (a wide pen strokes
    every point on its own, ~2 us each). A ScatterPlotItem overlay would build a style
    key per point in Python (~8 us each).
    """

    def __init__(self, viewbox, color: str, pad_px: float):
        super().__init__()
        self._vb = viewbox
        self._color = qcolor(color)
        self._pad = pad_px
        self._x = self._y = np.zeros(0)
        self._px = np.zeros(0, dtype=np.int64)
        self._groups: list[tuple[int, object]] | None = []  # (symbol size, points), made on first need
        self._rects = None  # the device-pixel squares' buffer, kept between paints
        self.count = 0

    def set_points(self, x: np.ndarray, y: np.ndarray, sizes: np.ndarray) -> None:
        self.prepareGeometryChange()
        self._x, self._y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        self._px = np.round(sizes).astype(np.int64)
        self._groups = None
        self.count = int(self._x.size)
        self.update()

    def _point_groups(self) -> list[tuple[int, object]]:
        if self._groups is None:
            self._groups = []
            for size in np.unique(self._px).tolist():
                m = self._px == size
                poly = pg.functions.create_qpolygonf(int(m.sum()))
                arr = pg.functions.ndarray_from_qpolygonf(poly)
                arr[:, 0] = self._x[m]
                arr[:, 1] = self._y[m]
                self._groups.append((size, poly))
        return self._groups

    def view_changed(self) -> None:
        self.prepareGeometryChange()

    def set_style(self, color, pad_px: float) -> None:
        if color != self._color or pad_px != self._pad:
            self._color, self._pad = color, pad_px
            self.update()

    def boundingRect(self):  # noqa: N802 (Qt override)
        (x0, x1), (y0, y1) = self._vb.viewRange()
        return QRectF(x0, y0, x1 - x0, y1 - y0)

    def dataBounds(self, axis, frac=1.0, orthoRange=None):  # noqa: N802 (pyqtgraph API)
        return None

    def paint(self, p, *args):
        if not self.count:
            return
        # Antialiased wide round points cost ~3 us each; beyond a few thousand the halos
        # overlap anyway, so they are drawn aliased and square.
        many = self.count > 3000
        p.setRenderHint(p.RenderHint.Antialiasing, not many)
        if many and p.transform().type().value <= QTransform.TransformationType.TxScale.value:  # no rotation
            self._paint_squares(p)
            return
        cap = Qt.PenCapStyle.SquareCap if many else Qt.PenCapStyle.RoundCap  # squares fill ~3x faster
        for size, poly in self._point_groups():
            pen = QPen(self._color, size + self._pad, Qt.PenStyle.SolidLine, cap)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.drawPoints(poly)

    def _paint_squares(self, p) -> None:
        """The pixels an aliased square-capped point of each width covers, as whole-pixel
        rectangles in device coordinates: the raster engine fills those in one pass.

        Positions are rounded to the 1/64 pixel the rasteriser works in; a pixel is
        covered when its centre lies past the left/top edge and up to the right/bottom
        one, and a stroked point reaches 1/64 further to the right."""
        t = p.transform()
        fx = np.round((self._x * t.m11() + t.dx()) * 64.0)
        fy = np.round((self._y * t.m22() + t.dy()) * 64.0)
        half = np.round((self._px + self._pad) * 32.0)
        x0 = np.floor((fx - half - 32.0) / 64.0) + 1.0
        x1 = np.floor((fx + half - 31.0) / 64.0) + 1.0
        y0 = np.floor((fy - half - 32.0) / 64.0) + 1.0
        y1 = np.floor((fy + half - 32.0) / 64.0) + 1.0
        # Only squares on the device: a point with no position (NaN) or far outside the
        # view must never reach the rasteriser's integer fill.
        dev = p.device()
        w, h = (dev.width(), dev.height()) if dev is not None else (1 << 20, 1 << 20)
        on = (x1 > 0) & (x0 < w) & (y1 > 0) & (y0 < h)  # False for NaN
        if not on.any():
            return
        if self._rects is None:
            self._rects = pg.Qt.internals.PrimitiveArray(QRectF, 4)
        self._rects.resize(int(on.sum()))
        a = self._rects.ndarray()
        a[:, 0], a[:, 1], a[:, 2], a[:, 3] = x0[on], y0[on], (x1 - x0)[on], (y1 - y0)[on]
        p.save()
        p.resetTransform()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._color)
        p.drawRects(*self._rects.drawargs())
        p.restore()


class _ElidedLabel(QLabel):
    """A one-line label that ends in '…' instead of being cut mid-word when narrow."""

    def paintEvent(self, event):  # noqa: N802 (Qt override)
        from PySide6.QtGui import QPainter

        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        p.drawText(self.rect(), int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text)
        p.end()


class _LabelOnce:
    """Axis mixin: the title's HTML is re-laid out only when its text changes.

    pyqtgraph re-sets it on every pen, label and range change (about 0.1 ms each, some
    fifty times while the window opens), almost always to the same string. Auto SI prefixes
    are off as well: our axes carry their own units, and a "(x0.001)" suffix on a log-km
    axis (zoomed below 1) would be wrong.
    """

    _label_html: str | None = None

    def _updateLabel(self):  # noqa: N802 (pyqtgraph override)
        text = self.labelString()
        if text != self._label_html:
            self._label_html = text
            self.label.setHtml(text)
        self._adjustSize()
        self.picture = None
        self.update()


class _PlainAxis(_LabelOnce, pg.AxisItem):
    """The unlabelled top and right axes of the timeline (hidden, still range-linked)."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.enableAutoSIPrefix(False)


class _FixedOffsetZoom(ZoomLevel):
    """A DateAxisItem zoom level for a fixed UTC offset (KST has no daylight saving).

    Ticks are computed in UTC and moved by the offset. pyqtgraph's own zoom levels also
    consult the machine's time zone for every tick: its first look-up costs ~4 ms at
    start-up, and in a zone that is not a whole number of hours from UTC (India, +5:30)
    it put the hourly ticks of this KST axis at half past.
    """

    def moveTicksToLocalTimeCoords(self, ticks, spacing, skipFactor):  # noqa: N802 (pyqtgraph override)
        if len(ticks) and self.utcOffset is not None and (
                spacing > HOUR_SPACING or (spacing == HOUR_SPACING and skipFactor > 1)):
            return ticks + self.utcOffset
        return ticks  # hourly or finer ticks fall on whole hours in any whole-hour offset


class _DateAxis(_LabelOnce, pg.DateAxisItem):
    """The launch-date axis, in KST."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.zoomLevels = type(self.zoomLevels)(
            (spacing, _FixedOffsetZoom(level.tickSpecs, level.exampleText))
            for spacing, level in self.zoomLevels.items())


class _YAxis(_LabelOnce, pg.AxisItem):
    """Distance axis with a labelled 'unknown' lane below zero, decade ticks in log mode."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.enableAutoSIPrefix(False)
        self.mode = "log"
        self.lane_y: float | None = None
        self._scale = 1.0

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph override)
        if self.mode == "log":
            lo, hi = math.floor(minVal), math.ceil(maxVal)
            major = [float(d) for d in range(max(lo, 0), hi + 1) if minVal <= d <= maxVal]
            minor = [d + math.log10(m) for d in range(max(lo, 0), hi + 1) for m in (2, 5)
                     if minVal <= d + math.log10(m) <= maxVal]
            levels = [(1.0, major), (0.5, minor)]
        else:
            levels = [(sp, [v for v in vals if v >= 0])
                      for sp, vals in super().tickValues(minVal, maxVal, size)]
        if self.lane_y is not None and minVal <= self.lane_y <= maxVal and levels:
            levels[0] = (levels[0][0], [*levels[0][1], self.lane_y])
        return levels

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        out = []
        for v in values:
            if self.lane_y is not None and abs(v - self.lane_y) < 1e-9:
                out.append("unknown")
            elif self.mode == "log":
                out.append(f"{10 ** v:,.0f}" if spacing == 1.0 else "")
            else:
                out.append(f"{v:,.0f}")
        return out


class _TimelineViewBox(pg.ViewBox):
    """A ViewBox where Shift+drag picks a time window instead of panning."""

    def __init__(self, timeline, *a, **k):
        super().__init__(*a, **k)
        self._timeline = timeline

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 (pyqtgraph override)
        if ev.button() == Qt.MouseButton.LeftButton and ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            ev.accept()
            a = self.mapSceneToView(ev.buttonDownScenePos()).x()
            b = self.mapSceneToView(ev.scenePos()).x()
            self._timeline._on_region_dragged(min(a, b), max(a, b), ev.isFinish(),
                                              bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier))
            return
        super().mouseDragEvent(ev, axis)


class Timeline(QWidget):
    """Launch timeline. Emits :attr:`points_picked` (ids, mode) when the analyst picks events."""

    points_picked = Signal(object, str)  # ids, "replace" | "toggle" | "add"
    y_mode_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("timeline")
        pg.setConfigOptions(antialias=True)
        self.y_mode = "log"
        self.lane_y: float | None = None
        self.calendar_categories: set[str] = set(DEFAULT_CATEGORIES)
        self.calendar_highlight: set[str] | None = None
        self._calendar: pd.DataFrame | None = None
        self._labels: dict[int, pg.TextItem] = {}
        self.labelled_entries: list = []  # calendar entries with a label now (no two overlap)
        self._empty_arrays()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self._build_bar())

        self.axis_x = _DateAxis(orientation="bottom", utcOffset=-KST_OFFSET_S)
        self.axis_y = _YAxis(orientation="left")
        self.vb = _TimelineViewBox(self, enableMenu=False)  # our own context menu replaces pyqtgraph's
        # The view range is always set explicitly (zoom_to_all and friends); pyqtgraph's
        # auto-range would measure every item's bounds again on each change.
        self.vb.disableAutoRange()
        self._x_fitted = False  # the first set_data fits the time axis to the events
        self.plot = pg.PlotWidget(viewBox=self.vb, axisItems={"bottom": self.axis_x, "left": self.axis_y,
                                                              "top": _PlainAxis("top"),
                                                              "right": _PlainAxis("right")},
                                  background=palette.BACKGROUND)
        self.plot.setObjectName("timeline_plot")
        pi = self.plot.getPlotItem()
        pi.hideAxis("top")
        pi.hideAxis("right")
        pi.hideButtons()
        pi.setMenuEnabled(False)
        pi.showGrid(x=True, y=True, alpha=0.12)
        pi.getAxis("bottom").setLabel("Launch date (KST)")
        for ax in ("bottom", "left"):
            pi.getAxis(ax).setTextPen(palette.MUTED_TEXT)
            pi.getAxis(ax).setPen(pg.mkPen("#B8BDC4"))
        lay.addWidget(self.plot, 1)

        # Layers, back to front: calendar, lane band, spans/whiskers, points, selection.
        self.lane_band = pg.LinearRegionItem(orientation="horizontal", movable=False,
                                             brush=qcolor("#8C98A8", 28), pen=pg.mkPen(None))
        self.lane_band.setZValue(-20)
        pi.addItem(self.lane_band, ignoreBounds=True)
        self.calendar_layer = _CalendarLayer(self.vb)
        self.calendar_layer.setZValue(-15)
        pi.addItem(self.calendar_layer, ignoreBounds=True)
        self.today_line = pg.InfiniteLine(pos=time.time(), angle=90, movable=False,
                                          pen=pg.mkPen(palette.TODAY, width=1, style=Qt.PenStyle.DashLine),
                                          label="today", labelOpts={"position": 0.04, "color": palette.TODAY,
                                                                    "anchors": [(1, 1), (1, 1)]})
        self.today_line.setZValue(-5)
        pi.addItem(self.today_line, ignoreBounds=True)
        self.span_items: dict[str, pg.PlotCurveItem] = {}
        self.whisker_items: dict[str, pg.PlotCurveItem] = {}
        # every event's point, coloured by class, up to DENSE_POINTS; denser, one item per class
        self.points_item = pg.ScatterPlotItem(symbol="o", pxMode=True)
        self.points_item.setZValue(5)
        pi.addItem(self.points_item)
        self.scatter_items: dict[str, pg.ScatterPlotItem] = {}  # dense: per class, made when needed
        self.selection_item = _HaloLayer(self.vb, palette.SELECTION_RING, pad_px=6.0)
        self.current_item = pg.ScatterPlotItem(pen=pg.mkPen(palette.ACCENT, width=3), brush=None,
                                               symbol="o", pxMode=True)
        self.selection_item.setZValue(4.5)  # under the points: a dark halo around each
        self.current_item.setZValue(11)
        pi.addItem(self.selection_item, ignoreBounds=True)
        pi.addItem(self.current_item, ignoreBounds=True)
        self.region_item: pg.LinearRegionItem | None = None  # the Shift+drag band, made on first drag

        scene = self.plot.scene()
        self._hover_proxy = pg.SignalProxy(scene.sigMouseMoved, rateLimit=40, slot=self._on_scene_mouse_moved)
        scene.sigMouseClicked.connect(self._on_scene_mouse_clicked)
        self.vb.sigRangeChanged.connect(self._on_view_range_changed)
        self.vb.sigResized.connect(lambda *_: self._update_calendar_labels())  # label spacing is in pixels
        self.plot.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.plot.customContextMenuRequested.connect(self._on_plot_menu_requested)
        self._update_legend()
        self._apply_y_axis()

    # ------------------------------------------------------------------ UI
    def _build_bar(self) -> QWidget:
        bar = QWidget(self)
        bar.setObjectName("timeline_bar")
        h = QHBoxLayout(bar)
        h.setContentsMargins(6, 2, 6, 2)
        h.setSpacing(4)
        self.mode_buttons: dict[str, QToolButton] = {}
        group = QActionGroup(self)
        for key, text in Y_MODES.items():
            b = QToolButton(bar)
            act = group.addAction(text)
            act.setCheckable(True)
            act.setChecked(key == self.y_mode)
            act.triggered.connect(lambda _=False, k=key: self.set_y_mode(k))
            b.setDefaultAction(act)
            b.setAutoRaise(True)
            h.addWidget(b)
            self.mode_buttons[key] = b
        self.mode_actions = {k: b.defaultAction() for k, b in self.mode_buttons.items()}
        self.calendar_button = QToolButton(bar)
        self.calendar_button.setText("Calendar ")
        self.calendar_button.setAutoRaise(True)
        self.calendar_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.calendar_menu = QMenu(self.calendar_button)
        self.calendar_actions = {}
        for cat, label in CATEGORY_LABELS.items():
            a = self.calendar_menu.addAction(_swatch(palette.category_color(cat), line=True), label)
            a.setCheckable(True)
            a.setChecked(cat in self.calendar_categories)
            a.toggled.connect(lambda on, c=cat: self._on_calendar_category_toggled(c, on))
            self.calendar_actions[cat] = a
        self.calendar_button.setMenu(self.calendar_menu)
        h.addWidget(self.calendar_button)
        self.zoom_selection_button = QToolButton(bar)
        self.zoom_selection_button.setIcon(icon("zoom-selection"))
        self.zoom_selection_button.setToolTip("Zoom to the selected events")
        self.zoom_selection_button.setAutoRaise(True)
        self.zoom_selection_button.clicked.connect(self.zoom_to_selection)
        self.zoom_all_button = QToolButton(bar)
        self.zoom_all_button.setIcon(icon("zoom-all"))
        self.zoom_all_button.setToolTip("Show all events")
        self.zoom_all_button.setAutoRaise(True)
        self.zoom_all_button.clicked.connect(self.zoom_to_all)
        h.addWidget(self.zoom_selection_button)
        h.addWidget(self.zoom_all_button)
        h.addSpacing(12)
        # The key: a menu that always holds it all (classes, calendar categories, marks), and
        # the class chips inline when there is room; the bar never sets the window's width.
        self.key_button = QToolButton(bar)
        self.key_button.setObjectName("timeline_key")
        self.key_button.setText("Key ")
        self.key_button.setToolTip("What the colours and marks mean")
        self.key_button.setAutoRaise(True)
        self.key_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.key_menu = QMenu(self.key_button)
        self.key_menu.aboutToShow.connect(self._fill_key_menu)
        self.key_button.setMenu(self.key_menu)
        h.addWidget(self.key_button)
        self.legend = QLabel(bar)
        self.legend.setObjectName("timeline_legend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setMinimumWidth(1)  # never the bar's minimum: _fit_legend hides it when it does not fit
        h.addWidget(self.legend)
        bar.installEventFilter(self)
        self._bar = bar
        # The key to the marks is clipped first when the window is narrow (it never sets
        # the window's minimum width); the full text is in its tooltip.
        self.legend_hint = _ElidedLabel(bar)
        set_tone(self.legend_hint, "muted")
        self.legend_hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.legend_hint.setText("size = missiles · bar = month/year only · whisker = range · "
                                 "Shift+drag selects a period")
        self.legend_hint.setToolTip(self.legend_hint.text())
        h.addWidget(self.legend_hint, 1)
        return bar

    def present_classes(self) -> list[str]:
        seen = np.bincount(self.cls_codes, minlength=len(schema.MISSILE_CLASSES))
        return [c for k, c in enumerate(schema.MISSILE_CLASSES) if seen[k]] or list(schema.MISSILE_CLASSES)

    def _update_legend(self) -> None:
        chips = " ".join(f'<span style="color:{palette.class_color(c)}">●</span>&nbsp;{html_escape(c)}'
                         for c in self.present_classes())
        if self.legend.text() != chips + "&nbsp;&nbsp;":  # a rich-text layout is not free (~1 ms)
            self.legend.setText(chips + "&nbsp;&nbsp;")
        self._fit_legend()

    def _fit_legend(self) -> None:
        """Show the inline class chips only when they fit beside the buttons."""
        bar = getattr(self, "_bar", None)
        if bar is None:
            return
        lay = bar.layout()
        used = lay.contentsMargins().left() + lay.contentsMargins().right()
        for i in range(lay.count()):
            w = lay.itemAt(i).widget()
            if w is None:
                used += lay.itemAt(i).sizeHint().width()
            elif w is not self.legend and w is not self.legend_hint and not w.isHidden():
                used += w.sizeHint().width() + lay.spacing()
        fits = self.legend.sizeHint().width() <= bar.width() - used
        if fits != (not self.legend.isHidden()):
            self.legend.setVisible(fits)

    def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
        if obj is getattr(self, "_bar", None) and event.type() == event.Type.Resize:
            self._fit_legend()
        return False

    def _fill_key_menu(self) -> None:
        m = self.key_menu
        m.clear()
        m.addSection("Missile classes")
        for c in self.present_classes():
            m.addAction(_swatch(palette.class_color(c)), c).setEnabled(False)
        shown = self._shown_categories()
        if shown:
            m.addSection("Political calendar")
            for cat, label in CATEGORY_LABELS.items():
                if cat in shown:
                    m.addAction(_swatch(palette.category_color(cat), line=True), label).setEnabled(False)
        m.addSection("Marks")
        for text in ("size = number of missiles", "bar = date known to the month or year only",
                     "whisker = a distance range", "grey band = distance unknown",
                     "Shift+drag selects a period; hover a dashed line for its event"):
            m.addAction(text).setEnabled(False)

    # ---------------------------------------------------------------- data
    def _empty_arrays(self) -> None:
        self.ids = np.zeros(0, dtype=object)
        self.xs = self.x0 = self.x1 = self.dist = self.dmax = self.sizes = self.ys = np.zeros(0)
        self.precise = np.zeros(0, dtype=bool)
        self.cls = np.zeros(0, dtype=object)
        self.cls_codes = np.zeros(0, dtype=np.int64)
        self.visible = np.zeros(0, dtype=bool)
        self.names = self.dates = np.zeros(0, dtype=object)
        self.selected_rows = np.zeros(0, dtype=np.int64)
        self.current_row: int | None = None
        self._hit_rows = np.zeros(0, dtype=np.int64)
        self._hit_x = self._hit_y = self._hit_r = np.zeros(0)

    def set_data(self, frame: pd.DataFrame, calendar: pd.DataFrame | None = None) -> None:
        """Take a new events frame (all events; filters come through :meth:`set_visible_rows`)."""
        self._empty_arrays()
        n = len(frame)
        t = launch_times(frame)
        self.ids = frame["id"].to_numpy(dtype=object)
        self.xs, self.x0, self.x1, self.precise = t["x"], t["x0"], t["x1"], t["precise"]
        self.dist = pd.to_numeric(frame["distance_km"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        self.dmax = pd.to_numeric(frame["distance_km_max"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        count = frame["count"].to_numpy(dtype=float, na_value=np.nan)
        self.sizes = 6.0 + 2.6 * np.sqrt(np.clip(np.nan_to_num(count, nan=1.0), 1, 25) - 1)
        self.cls = frame["missile_class"].fillna("unknown").to_numpy(dtype=object)
        codes = pd.Categorical(self.cls, categories=list(schema.MISSILE_CLASSES)).codes.astype(np.int64)
        codes[codes < 0] = schema.MISSILE_CLASSES.index("unknown")
        self.cls_codes = codes
        self.names = frame["missile_name"].fillna("").to_numpy(dtype=object)
        self.dates = frame["date"].fillna("").to_numpy(dtype=object)
        self.precisions = frame["date_precision"].fillna("day").to_numpy(dtype=object)
        self.visible = np.ones(n, dtype=bool)
        if calendar is not None:
            self._calendar = calendar
        self._compute_y()
        self._rebuild_points(zoom_x=not self._x_fitted)
        self._build_calendar()
        self._update_legend()

    def set_visible_rows(self, frame_rows) -> None:
        """Show only these frame rows (the table's filter)."""
        vis = np.zeros(self.ids.size, dtype=bool)
        vis[np.asarray(frame_rows, dtype=np.int64)] = True
        if vis.shape == self.visible.shape and np.array_equal(vis, self.visible):
            return
        self.visible = vis
        self._rebuild_points()

    def set_y_mode(self, mode: str) -> None:
        if mode not in Y_MODES:
            raise ValueError(f"unknown timeline mode {mode!r}")
        self.mode_actions[mode].setChecked(True)
        if mode == self.y_mode:
            return
        self.y_mode = mode
        self._compute_y()
        self._rebuild_points()
        self.y_mode_changed.emit(mode)

    def _compute_y(self) -> None:
        known = np.isfinite(self.dist) & (self.dist > 0)
        if self.y_mode == "lanes":
            self.ys = np.array([_LANE_Y.get(c, 0.0) for c in self.cls], dtype=float)
            self.lane_y = None
        elif self.y_mode == "log":
            lo = float(np.log10(self.dist[known].min())) if known.any() else 1.0
            self.lane_y = math.floor(lo) - 0.6
            self.ys = np.where(known, np.log10(np.where(known, self.dist, 1.0)), self.lane_y)
        else:
            hi = float(self.dist[known].max()) if known.any() else 1000.0
            self.lane_y = -0.07 * hi
            self.ys = np.where(np.isfinite(self.dist), self.dist, self.lane_y)
        self._apply_y_axis()

    def _y_of(self, km: np.ndarray) -> np.ndarray:
        if self.y_mode == "log":
            return np.log10(np.clip(km, 1.0, None))
        return km

    def _apply_y_axis(self) -> None:
        ax = self.axis_y
        ax.mode = self.y_mode
        ax.lane_y = self.lane_y
        if self.y_mode == "lanes":
            ax.setTicks([[(y, c) for c, y in _LANE_Y.items()]])
            ax.setLabel("Class")
            self.vb.setMouseEnabled(x=True, y=False)
            self.lane_band.hide()
        else:
            ax.setTicks(None)
            ax.setLabel("Distance (km, log)" if self.y_mode == "log" else "Distance (km)")
            self.vb.setMouseEnabled(x=True, y=True)
            if self.lane_y is not None:
                half = 0.3 if self.y_mode == "log" else abs(self.lane_y) * 0.5
                self.lane_band.setRegion((self.lane_y - half, self.lane_y + half))
                self.lane_band.show()
        ax.picture = None
        ax.update()

    def _rebuild_points(self, zoom_x: bool = False) -> None:
        vis = self.visible
        n_vis = int(vis.sum())
        # Thousands of points: smaller, translucent, no outline, so density reads as colour
        # rather than a grey wash of outlines. Rare classes are drawn above common ones.
        dense = n_vis > DENSE_POINTS
        scale = self._scale = 0.55 if dense else 1.0
        per_class = np.bincount(self.cls_codes[vis], minlength=len(schema.MISSILE_CLASSES))
        counts = {c: int(per_class[k]) for k, c in enumerate(schema.MISSILE_CLASSES)}
        index = {c: k for k, c in enumerate(schema.MISSILE_CLASSES)}
        if dense and QPixmapCache.cacheLimit() < _PIXMAP_CACHE_KB:
            # The item caches live in QPixmapCache (10 MB by default): one viewport-sized
            # pixmap per class would be evicted on every repaint.
            QPixmapCache.setCacheLimit(_PIXMAP_CACHE_KB)
        # Sparse: a dark halo under each selected point. Dense: translucent marks over the
        # cloud, or the selection would vanish under it.
        self.selection_item.setZValue(6 if dense else 4.5)
        self.selection_item.set_style(qcolor(palette.SELECTION_RING, 150 if dense else 255), 0.0 if dense else 6.0)
        order = sorted(schema.MISSILE_CLASSES, key=lambda c: -counts[c])
        # Rare classes are drawn above common ones. Up to DENSE_POINTS points: one scatter item
        # holds them all, each point's brush its class colour, sorted by their class's rank
        # (stable within a class): one item to build instead of one per class, ~8 ms less to
        # the first paint. Denser: one cached item per class, stacked by rank (pyqtgraph's
        # per-point brushes cost ~3 us a point, ~0.3 s at 100k).
        sc = self.points_item
        rows = np.flatnonzero(vis) if not dense else np.zeros(0, dtype=np.int64)
        if rows.size:
            rank = np.empty(len(schema.MISSILE_CLASSES), dtype=np.int64)
            rank[[index[c] for c in order]] = np.arange(len(order))
            rows = rows[np.argsort(rank[self.cls_codes[rows]], kind="stable")]
            brushes = [pg.mkBrush(qcolor(palette.class_color(c), 215)) for c in schema.MISSILE_CLASSES]
            sc.setData(x=self.xs[rows], y=self.ys[rows], size=self.sizes[rows] * scale, pen=_OUTLINE,
                       brush=[brushes[k] for k in self.cls_codes[rows].tolist()])
        else:
            sc.clear()
        for z, c in enumerate(order):
            m = vis & (self.cls_codes == index[c]) if counts[c] else np.zeros_like(vis)
            item = self.scatter_items.get(c)
            if item is None and dense and counts[c]:
                item = self.scatter_items[c] = pg.ScatterPlotItem(symbol="o", pxMode=True)
                self.plot.getPlotItem().addItem(item)
            if item is not None:
                item.setZValue(5 + z * 0.01)
                # cached in device pixels: a selection change blits them until the view moves
                item.setCacheMode(item.CacheMode.DeviceCoordinateCache)
                if dense and counts[c]:
                    item.setData(x=self.xs[m], y=self.ys[m], size=self.sizes[m] * scale, pen=None,
                                 brush=qcolor(palette.class_color(c), 110))
                else:
                    item.clear()
            spans = m & ~self.precise
            if spans.any():
                xs = np.column_stack([self.x0[spans], self.x1[spans]]).ravel()
                ys = np.repeat(self.ys[spans], 2)
                self._curve(self.span_items, c, 170, 2.5).setData(x=xs, y=ys)
            elif c in self.span_items:
                self.span_items[c].setData(x=[], y=[])
            wh = m & np.isfinite(self.dmax) & (self.dmax > np.nan_to_num(self.dist, nan=np.inf))
            if wh.any() and self.y_mode != "lanes":
                xs = np.repeat(self.xs[wh], 2)
                ys = np.column_stack([self._y_of(self.dist[wh]), self._y_of(self.dmax[wh])]).ravel()
                self._curve(self.whisker_items, c, 150, 1.2).setData(x=xs, y=ys)
            elif c in self.whisker_items:
                self.whisker_items[c].setData(x=[], y=[])
        rows = np.flatnonzero(vis)
        self._hit_rows = rows
        self._hit_x, self._hit_y = self.xs[rows], self.ys[rows]
        self._hit_r = self.sizes[rows] * scale / 2 + 3
        self._refresh_selection()
        self.zoom_to_all(x=zoom_x)

    def _curve(self, items: dict, c: str, alpha: int, width: float) -> pg.PlotCurveItem:
        """The span or whisker item of a class, made on first need (most classes never need one)."""
        it = items.get(c)
        if it is None:
            it = pg.PlotCurveItem(pen=pg.mkPen(qcolor(palette.class_color(c), alpha), width=width),
                                  connect="pairs")
            it.setZValue(1)
            self.plot.getPlotItem().addItem(it)
            items[c] = it
        return it

    # ----------------------------------------------------------- selection
    def show_selection(self, frame_rows, current_row: int | None = None) -> None:
        """Highlight these frame rows (and ring the current one)."""
        self.selected_rows = np.asarray(frame_rows, dtype=np.int64)
        self.current_row = current_row
        self._refresh_selection()

    def _refresh_selection(self) -> None:
        r = self.selected_rows
        r = r[(r >= 0) & (r < self.ids.size)]
        self.selection_item.set_points(self.xs[r], self.ys[r], self.sizes[r] * self._scale)
        c = self.current_row
        if c is not None and 0 <= c < self.ids.size:
            self.current_item.setData(x=[self.xs[c]], y=[self.ys[c]], size=[self.sizes[c] * self._scale + 10])
        else:
            self.current_item.clear()

    def highlighted_ids(self) -> list[str]:
        return [str(i) for i in self.ids[self.selected_rows]]

    # ------------------------------------------------------------- picking
    def hit_test(self, scene_pos: QPointF) -> int | None:
        """The frame row of the visible point under ``scene_pos`` (nearest wins), or None."""
        if self._hit_rows.size == 0 or not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.vb.mapSceneToView(scene_pos)
        pw, ph = self.vb.viewPixelSize()
        if not pw or not ph:
            return None
        dx = (self._hit_x - p.x()) / pw
        dy = (self._hit_y - p.y()) / ph
        d2 = dx * dx + dy * dy
        ok = d2 <= self._hit_r * self._hit_r
        if not ok.any():
            return None
        return int(self._hit_rows[np.argmin(np.where(ok, d2, np.inf))])

    def scene_pos_of(self, frame_row: int) -> QPointF:
        """Where a point is drawn, in scene coordinates (for tests and tooltips)."""
        return self.vb.mapViewToScene(QPointF(float(self.xs[frame_row]), float(self.ys[frame_row])))

    def rows_in_window(self, x0: float, x1: float) -> np.ndarray:
        """Visible frame rows whose launch time falls in [x0, x1]."""
        return np.flatnonzero(self.visible & (self.xs >= x0) & (self.xs <= x1))

    def _on_scene_mouse_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        row = self.hit_test(ev.scenePos())
        if row is None:
            return
        mods = ev.modifiers()
        mode = ("toggle" if mods & Qt.KeyboardModifier.ControlModifier
                else "add" if mods & Qt.KeyboardModifier.ShiftModifier else "replace")
        self.points_picked.emit([str(self.ids[row])], mode)

    def _on_region_dragged(self, x0: float, x1: float, finished: bool, add: bool) -> None:
        if self.region_item is None:
            self.region_item = pg.LinearRegionItem(movable=False, brush=qcolor(palette.ACCENT, 40),
                                                   pen=pg.mkPen(palette.ACCENT))
            self.region_item.setZValue(20)
            self.plot.getPlotItem().addItem(self.region_item, ignoreBounds=True)
        self.region_item.setRegion((x0, x1))
        self.region_item.setVisible(not finished)
        if finished:
            rows = self.rows_in_window(x0, x1)
            self.points_picked.emit([str(i) for i in self.ids[rows]], "add" if add else "replace")

    def _on_scene_mouse_moved(self, args) -> None:
        pos = args[0]
        row = self.hit_test(pos)
        if row is not None:
            QToolTip.showText(QCursor.pos(), self.tooltip_html(row), self.plot)
            return
        entry = self._calendar_at(pos)
        if entry is not None:
            QToolTip.showText(QCursor.pos(), entry, self.plot)
        else:
            QToolTip.hideText()

    def tooltip_html(self, row: int) -> str:
        d = self.dates[row]
        prec = self.precisions[row]
        if prec == "month":
            d = f"{d[:7]} (month only)"
        elif prec == "year":
            d = f"{d[:4]} (year only)"
        dist = self.dist[row]
        km = "distance unknown" if not np.isfinite(dist) else f"{dist:,.0f} km"
        if np.isfinite(self.dmax[row]) and np.isfinite(dist) and self.dmax[row] > dist:
            km = f"{dist:,.0f}–{self.dmax[row]:,.0f} km"
        name = html_escape(str(self.names[row]) or "unnamed")
        col = palette.class_color(self.cls[row])
        text = (f"<b>{html_escape(d)}</b><br><span style='color:{col}'>●</span> "
                f"{html_escape(str(self.cls[row]))} · {name}<br>{km}")
        if self._calendar is not None and not self._calendar.empty:
            # the one calendar context (nkbrief.analysis.context), as in the detail pane and the pack
            items = calendar_context(str(self.dates[row]), self._calendar, prec)
            if items:
                text += "<br>" + "<br>".join(html_escape(n.phrase()) for n in items)
        return text

    def _calendar_at(self, scene_pos) -> str | None:
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        x = self.vb.mapSceneToView(scene_pos).x()
        pw = self.vb.viewPixelSize()[0]
        for e in self.calendar_layer.entries_near(x, 3 * pw, self._shown_categories()):
            return (f"<b>{html_escape(e.title)}</b><br>{html_escape(e.dates)} · "
                    f"{CATEGORY_LABELS.get(e.category, e.category)}")
        return None

    # ------------------------------------------------------------ calendar
    def _shown_categories(self) -> set[str]:
        return self.calendar_categories | (self.calendar_highlight or set())

    def shown_calendar_entries(self) -> list[CalendarEntry]:
        """Calendar entries currently drawn (their category is on or highlighted)."""
        shown = self._shown_categories()
        return [e for e in self.calendar_layer.entries if e.category in shown]

    def _build_calendar(self) -> None:
        entries = []
        cal = self._calendar
        if cal is not None and not cal.empty:
            starts = cal["date"].tolist()
            ends = cal["end_date"].tolist()
            s0 = _kst_midnights([d if isinstance(d, str) else "" for d in starts])
            s1 = _kst_midnights([e if isinstance(e, str) and e else d if isinstance(d, str) else ""
                                 for d, e in zip(starts, ends)]) + _DAY
            ok = np.isfinite(s0) & np.isfinite(s1)  # the store validates dates; skip, never fail
            for i, (cat, title, d, e) in enumerate(zip(cal["category"].tolist(), cal["title"].tolist(),
                                                       starts, ends)):
                if not ok[i]:
                    continue
                dates = d + (f" to {e}" if isinstance(e, str) and e else "")
                entries.append(CalendarEntry(cat if isinstance(cat, str) else "other", float(s0[i]),
                                             float(s1[i]), str(title) if isinstance(title, str) else "", dates))
        self.calendar_layer.set_entries(entries)
        for lab in self._labels.values():
            self.plot.getPlotItem().removeItem(lab)
        self._labels = {}
        self._apply_calendar_style()

    def _apply_calendar_style(self) -> None:
        self.calendar_layer.set_style(self._shown_categories(), self.calendar_highlight)
        self._update_calendar_labels()

    def _update_calendar_labels(self) -> None:
        """Label the entries in view when there are few; party congresses (and highlighted
        categories) always. Labels are made on first need: most entries never get one."""
        (x0, x1), (y0, y1) = self.vb.viewRange()
        shown = self._shown_categories()
        hl = self.calendar_highlight or set()
        in_view = [e for e in self.calendar_layer.entries
                   if e.category in shown and e.end >= x0 and e.start <= x1]
        few = len(in_view) <= LABEL_LIMIT
        cands = [e for e in in_view if few or e.category == "party_congress" or e.category in hl]
        # No two labels overlap: the most important win (highlighted, then by category
        # priority), the rest are left out and shown on hover over their line.
        pw = self.vb.viewPixelSize()[0] or 1.0
        gap = (QFontMetrics(self.font()).height() + 10) * pw  # a label box is the text height + padding
        order = sorted(cands, key=lambda e: (e.category not in hl, _LABEL_RANK.get(e.category, 99), e.start))
        placed: list[float] = []
        want = {}
        for e in order:
            if all(abs(e.start - x) >= gap for x in placed):
                placed.append(e.start)
                want[id(e)] = e
        self.labelled_entries = list(want.values())
        pi = self.plot.getPlotItem()
        for key, lab in self._labels.items():
            lab.setVisible(key in want)
        for key, e in want.items():
            lab = self._labels.get(key)
            if lab is None:
                lab = pg.TextItem(e.title, color=palette.category_color(e.category), angle=90,
                                  anchor=(1, 1))
                lab.setZValue(-4)
                pi.addItem(lab, ignoreBounds=True)
                self._labels[key] = lab
            lab.setPos(e.start, y1)
            lab.setVisible(True)

    def set_calendar_categories(self, categories) -> None:
        """Show calendar entries of these categories (lines and bands)."""
        self.calendar_categories = set(categories)
        for c, a in self.calendar_actions.items():
            a.blockSignals(True)
            a.setChecked(c in self.calendar_categories)
            a.blockSignals(False)
        self._apply_calendar_style()

    def set_calendar_highlight(self, categories: set[str] | None) -> None:
        """Emphasise these calendar categories (shown even if toggled off); None: back to normal."""
        self.calendar_highlight = set(categories) if categories is not None else None
        self._apply_calendar_style()

    def _on_calendar_category_toggled(self, category: str, on: bool) -> None:
        (self.calendar_categories.add if on else self.calendar_categories.discard)(category)
        self._apply_calendar_style()

    def _on_view_range_changed(self, *_):
        self.calendar_layer.view_changed()
        self.selection_item.view_changed()
        self._update_calendar_labels()

    # --------------------------------------------------------------- zoom
    def _y_range(self, rows: np.ndarray | None = None) -> tuple[float, float]:
        if self.y_mode == "lanes":
            return -0.6, len(LANE_ORDER) - 0.4
        y = self.ys if rows is None else self.ys[rows]
        top_km = np.fmax(self.dist, np.nan_to_num(self.dmax, nan=-np.inf))
        top = self._y_of(top_km) if rows is None else self._y_of(top_km[rows])
        top = top[np.isfinite(top)]
        hi = float(top.max()) if top.size else (float(np.nanmax(y)) if y.size else 1.0)
        lo = self.lane_y if self.lane_y is not None else 0.0
        pad = 0.35 if self.y_mode == "log" else 0.12 * (hi - lo)
        return lo - (0.4 if self.y_mode == "log" else abs(lo) * 0.8), hi + pad

    def zoom_to_all(self, x: bool = True) -> None:
        """Fit every visible event (and today) in view."""
        rows = np.flatnonzero(self.visible)
        y_range = self._y_range(rows if rows.size else None)
        if not x:
            self.vb.setYRange(*y_range, padding=0)
            return
        if rows.size:
            lo = float(self.x0[rows].min())
            hi = max(float(self.x1[rows].max()), time.time())
        else:
            hi = time.time()
            lo = hi - 365 * _DAY
        pad = max((hi - lo) * 0.02, 5 * _DAY)
        self.vb.setRange(xRange=(lo - pad, hi + pad), yRange=y_range, padding=0)  # one range change
        self._x_fitted = True

    def zoom_to_selection(self) -> None:
        """Fit the selected events in view (with a little room around them)."""
        r = self.selected_rows
        if r.size == 0:
            return
        lo, hi = float(self.x0[r].min()), float(self.x1[r].max())
        pad = max((hi - lo) * 0.1, 20 * _DAY)
        self.vb.setXRange(lo - pad, hi + pad, padding=0)
        self.vb.setYRange(*self._y_range(r), padding=0)

    def x_range(self) -> tuple[float, float]:
        return tuple(self.vb.viewRange()[0])

    # ------------------------------------------------------------- export
    def export_png(self, path) -> str:
        """Save the timeline (with its legend bar) as a PNG. Returns the path."""
        img = self.grab()

        def write(tmp) -> None:
            if not img.save(str(tmp), "PNG"):
                raise OSError(f"cannot write {path}")

        try:  # through the write guard, atomically
            atomic.atomic_write(path, write)
        except WriteRefused as e:
            raise OSError(str(e)) from None
        return str(path)

    # --------------------------------------------------------------- menu
    def _on_plot_menu_requested(self, pos) -> None:
        self.context_menu().exec(self.plot.mapToGlobal(pos))

    def context_menu(self) -> QMenu:
        m = QMenu(self)
        for a in self.mode_actions.values():
            m.addAction(a)
        m.addSeparator()
        m.addAction(icon("zoom-selection"), "Zoom to selection", self.zoom_to_selection)
        m.addAction(icon("zoom-all"), "Show all", self.zoom_to_all)
        m.addMenu(self.calendar_menu)
        return m
