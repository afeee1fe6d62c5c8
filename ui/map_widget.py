"""A small map: bundled coastlines, the launch site, and a range ring at the reported distance.

Equirectangular (x = longitude, y = latitude) with the aspect ratio locked to cos(latitude)
of the view's centre, which is faithful enough at Korean latitudes. Everything is drawn
from ``resources/coastline.json``; nothing is fetched.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from nkbrief.analysis import geo
from nkbrief.model import palette

from .style import qcolor, set_tone

#: Reference places for orientation (lat, lon).
PLACES = {
    "Pyongyang": (39.02, 125.75),
    "Seoul": (37.57, 126.98),
    "Tokyo": (35.68, 139.69),
    "Vladivostok": (43.12, 131.89),
    "Beijing": (39.90, 116.40),
}
HOME_VIEW = (123.0, 146.0, 30.0, 46.0)  # lon0, lon1, lat0, lat1: the coastline's extent


_BRUSHES: dict = {}


def _brush(missile_class):
    """One shared brush per class (pyqtgraph caches symbols per brush object)."""
    b = _BRUSHES.get(missile_class)
    if b is None:
        b = _BRUSHES[missile_class] = pg.mkBrush(palette.class_color(missile_class))
    return b


class MapWidget(QWidget):
    """Shows one or several events' launch sites; one event also gets its range ring(s)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("map")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self._lay = lay
        self.caption = QLabel(self)
        set_tone(self.caption, "muted")
        self.caption.setWordWrap(True)
        lay.addWidget(self.caption)
        self.plot = None  # built the first time the map is on screen (start-up stays lean)
        self._caption_text: str | None = None
        self.shown_events: list[dict] = []
        self.ring_radii_km: list[float] = []
        self.rings: list[pg.PlotCurveItem] = []
        self._coast_loaded = False

    def _build(self) -> None:
        if self.plot is not None:
            return
        self.plot = pg.PlotWidget(background="#F4F7FA")
        pi = self.plot.getPlotItem()
        pi.hideButtons()
        pi.setMenuEnabled(False)
        pi.showGrid(x=True, y=True, alpha=0.15)
        for ax in ("left", "bottom"):
            pi.getAxis(ax).setTextPen(palette.MUTED_TEXT)
            pi.getAxis(ax).setPen(pg.mkPen("#B8BDC4"))
        pi.getAxis("bottom").setLabel("longitude °E")
        pi.getAxis("left").setLabel("latitude °N")
        self.vb = pi.getViewBox()
        self._lay.insertWidget(0, self.plot, 1)
        self.coast = pg.PlotCurveItem(pen=pg.mkPen("#5B6770", width=1), connect="finite")
        pi.addItem(self.coast)
        self.places = pg.ScatterPlotItem(symbol="s", size=4, brush=qcolor("#5B6770"), pen=None)
        pi.addItem(self.places)
        self._place_labels = []
        for name, (lat, lon) in PLACES.items():
            t = pg.TextItem(name, color="#7A858E", anchor=(0, 1))
            t.setPos(lon, lat)
            pi.addItem(t)
            self._place_labels.append(t)
        self.places.setData(x=[p[1] for p in PLACES.values()], y=[p[0] for p in PLACES.values()])
        self.sites = pg.ScatterPlotItem(symbol="star", size=16, pen=pg.mkPen("#FFFFFF", width=1))
        self.sites.setZValue(10)
        pi.addItem(self.sites)
        self.site_label = pg.TextItem("", color=palette.TEXT, anchor=(0, 0))
        self.site_label.setZValue(11)
        pi.addItem(self.site_label)
        self._site_pos: tuple[float, float] | None = None
        self._near_site: set[int] = set()
        self.vb.sigRangeChanged.connect(lambda *_: self._declutter())
        self._set_view(*HOME_VIEW)

    def _declutter(self) -> None:
        """Place the labels so none is cut at the plot's edge or drawn over another: each goes
        right of its point, or left when it would run off the right edge (below when off the
        top); a label that still overlaps one already placed is left out (the site first)."""
        vb = self.vb
        area = vb.sceneBoundingRect()
        if area.width() <= 0:
            return
        placed: list[QRectF] = []
        items: list[tuple[pg.TextItem, float, float]] = []
        if self._site_pos is not None and self.site_label.textItem.toPlainText():
            items.append((self.site_label, *self._site_pos))
        for k, ((lat, lon), t) in enumerate(zip(PLACES.values(), self._place_labels)):
            if k in self._near_site:
                t.setVisible(False)
            else:
                items.append((t, lat, lon))
        for t, lat, lon in items:
            p = vb.mapViewToScene(QPointF(lon, lat))
            br = t.textItem.boundingRect()
            w, h = br.width(), br.height()
            ax = 0.0 if p.x() + w <= area.right() else 1.0
            ay = 1.0 if p.y() - h >= area.top() else 0.0
            if t is self.site_label and p.y() + h <= area.bottom():
                ay = 0.0
            rect = QRectF(p.x() - ax * w, p.y() - ay * h, w, h)
            inside = area.contains(rect)
            if not inside or any(rect.intersects(r) for r in placed):
                t.setVisible(t is self.site_label and area.contains(p))
                if t.isVisible():
                    t.setAnchor((ax, ay))
                    placed.append(rect)
                continue
            t.setAnchor((ax, ay))
            t.setVisible(True)
            placed.append(rect)

    def visible_place_labels(self) -> list[str]:
        return [t.textItem.toPlainText() for t in self._place_labels if t.isVisible()]

    def _ensure_coastline(self) -> None:
        if self._coast_loaded:
            return
        self._coast_loaded = True
        try:
            lines = geo.load_coastline()
        except (OSError, ValueError):
            self.caption.setText("The coastline file is missing (resources/coastline.json).")
            return
        parts = []
        for ln in lines:
            parts.append(ln)
            parts.append(np.array([[np.nan, np.nan]]))
        xy = np.vstack(parts) if parts else np.zeros((0, 2))
        self.coast.setData(x=xy[:, 0], y=xy[:, 1])

    def _set_view(self, lon0: float, lon1: float, lat0: float, lat1: float) -> None:
        mid = (lat0 + lat1) / 2
        self.vb.setAspectLocked(True, ratio=math.cos(math.radians(mid)))
        self.vb.setRange(xRange=(lon0, lon1), yRange=(lat0, lat1), padding=0.02)

    def show_sites(self, view, frame_rows) -> None:
        """Many events (rows of an EventView's frame): one star per distinct site and class."""
        f = view.frame
        r = np.asarray(frame_rows, dtype=np.int64)
        lat = f["latitude"].to_numpy(dtype=float, na_value=np.nan)[r]
        lon = f["longitude"].to_numpy(dtype=float, na_value=np.nan)[r]
        ok = np.isfinite(lat) & np.isfinite(lon)
        codes, classes = view.class_codes(r)  # reads only these rows
        # One int64 key per (site, class): a 1-D unique is far faster than unique(axis=0).
        la = np.round(lat[ok] * 1e4).astype(np.int64) + 1_000_000
        lo = np.round(lon[ok] * 1e4).astype(np.int64) + 2_000_000
        site_key = (la << 23) | lo
        key = (site_key << 5) | codes[ok].astype(np.int64)
        _, first = np.unique(key, return_index=True)
        idx = np.flatnonzero(ok)[first]
        recs = [{"latitude": float(lat[i]), "longitude": float(lon[i]), "missile_class": classes[int(codes[i])]}
                for i in idx.tolist()]
        caption = None
        if recs:
            n_sites = int(np.unique(site_key).size)
            missing = int((~ok).sum())
            caption = (f"{r.size:,} events from {n_sites:,} launch sites"
                       + (f"; {missing:,} without coordinates" if missing else ""))
        self.show_events(recs, caption)

    def showEvent(self, event):  # noqa: N802 (Qt override)
        # The plot and the coastline are made the first time the map is on screen.
        if self.plot is None:
            self._build()
            self._ensure_coastline()
            self._draw(self.shown_events)
            if self._caption_text is not None:
                self.caption.setText(self._caption_text)
        super().showEvent(event)

    def show_events(self, events: list[dict], caption: str | None = None) -> None:
        """Draw the launch sites of ``events`` (dicts with latitude/longitude/distance_km...).

        ``caption`` replaces the text under the map that would otherwise be written."""
        self.shown_events = list(events)
        self._caption_text = caption
        if self.plot is not None:
            self._draw(self.shown_events)
        else:
            self._caption_for(self.shown_events)
        if caption is not None:
            self.caption.setText(caption)

    def _caption_for(self, events) -> None:
        located = [e for e in events if e.get("latitude") is not None and e.get("longitude") is not None]
        if len(events) == 1 and not located:
            self.caption.setText("Launch site coordinates unknown; no map position.")
        elif not located:
            self.caption.setText("No launch site coordinates for the selection." if events else
                                 "Select an event to see its launch site.")
        else:
            self.caption.setText("")

    def _draw(self, events: list[dict]) -> None:
        pi = self.plot.getPlotItem()
        for r in self.rings:
            pi.removeItem(r)
        self.rings = []
        self.ring_radii_km = []
        located = [e for e in events if e.get("latitude") is not None and e.get("longitude") is not None]
        if located:
            self.sites.setData(x=[e["longitude"] for e in located], y=[e["latitude"] for e in located],
                               brush=[_brush(e.get("missile_class")) for e in located])
        else:
            self.sites.clear()
        self.site_label.setText("")
        self._site_pos = None
        # A reference place right next to a shown site would print over the site's label.
        self._near_site = {k for k, (lat, lon) in enumerate(PLACES.values())
                           if any(abs(e["latitude"] - lat) < 0.6 and abs(e["longitude"] - lon) < 0.9
                                  for e in located[:50])}
        if len(events) == 1 and located:
            self._show_one(located[0])
        elif len(events) == 1:
            self.caption.setText("Launch site coordinates unknown; no map position.")
            self._set_view(*HOME_VIEW)
        elif located:
            lons = [e["longitude"] for e in located]
            lats = [e["latitude"] for e in located]
            self._fit(min(lons), max(lons), min(lats), max(lats), margin=1.5)
            missing = len(events) - len(located)
            self.caption.setText(f"{len(located)} launch sites"
                                 + (f"; {missing} events without coordinates" if missing else ""))
        else:
            self.caption.setText("No launch site coordinates for the selection." if events else
                                 "Select an event to see its launch site.")
            self._set_view(*HOME_VIEW)
        self._declutter()

    def _show_one(self, e: dict) -> None:
        lat, lon = float(e["latitude"]), float(e["longitude"])
        color = palette.class_color(e.get("missile_class"))
        pi = self.plot.getPlotItem()
        self.site_label.setText(f" {e.get('launch_site') or 'launch site'}")
        self.site_label.setPos(lon, lat)
        self._site_pos = (lat, lon)
        radii = [r for r in (e.get("distance_km"), e.get("distance_km_max")) if r]
        bounds = [lon, lon, lat, lat]
        for i, r in enumerate(dict.fromkeys(radii)):
            ring = geo.range_ring(lat, lon, float(r), n=180)
            item = pg.PlotCurveItem(x=ring[:, 0], y=ring[:, 1], pen=pg.mkPen(
                qcolor(color, 220), width=1.6, style=Qt.PenStyle.DashLine if i else Qt.PenStyle.SolidLine))
            pi.addItem(item)
            self.rings.append(item)
            self.ring_radii_km.append(float(r))
            bounds = [min(bounds[0], ring[:, 0].min()), max(bounds[1], ring[:, 0].max()),
                      min(bounds[2], ring[:, 1].min()), max(bounds[3], ring[:, 1].max())]
        if radii:
            rng = " to ".join(f"{r:,.0f}" for r in dict.fromkeys(radii))
            self.caption.setText(f"Ring: {rng} km from the launch site (reported flight distance; "
                                 f"direction not drawn). Landing area: {e.get('landing_area') or 'not reported'}.")
        else:
            self.caption.setText("Distance unknown: launch site only.")
        self._fit(*bounds, margin=1.2)

    def _fit(self, lon0, lon1, lat0, lat1, margin: float = 1.0) -> None:
        # Never zoom in closer than ~6° so the coastline stays recognisable.
        cx, cy = (lon0 + lon1) / 2, (lat0 + lat1) / 2
        w = max(lon1 - lon0 + 2 * margin, 6.0)
        h = max(lat1 - lat0 + 2 * margin, 5.0)
        self._set_view(cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)
