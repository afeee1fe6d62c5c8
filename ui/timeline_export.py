"""File ▸ Export timeline…: the plot alone, as a PNG or SVG picture for a slide or a brief.

The picture has the classification marking as a banner at the top and the bottom, a title,
the date range in view (KST) with the number of events shown, the plot itself (no mode
buttons, no cut-off hint), and a key: the missile classes in view and the political
calendar categories drawn, each in its colour, and what the marks mean.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit

from nkbrief.model import classification, palette
from nkbrief.analysis.context import CATEGORY_LABELS
from nkbrief.analysis.filtering import KST_OFFSET_S

from .style import settings, style_dialog

WIDTH, HEIGHT = 1600, 900
MARKS = "size = missiles · bar = month/year only · whisker = distance range · grey band = distance unknown"


def _kst_day(x: float) -> str:
    return (_dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=float(x) + KST_OFFSET_S)).date().isoformat()


def date_range_text(timeline) -> str:
    x0, x1 = timeline.x_range()
    return f"{_kst_day(x0)} to {_kst_day(x1)} (KST)"


def legend_items(timeline) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(classes in view as (name, colour), calendar categories drawn as (label, colour))."""
    (x0, x1), _ = timeline.vb.viewRange()
    vis = np.flatnonzero(timeline.visible) if timeline.visible.size else np.zeros(0, dtype=np.int64)
    if vis.size:
        vis = vis[(timeline.x1[vis] >= x0) & (timeline.x0[vis] <= x1)]
    classes = sorted({str(c) for c in timeline.cls[vis].tolist()}) if vis.size else []
    shown = {e.category for e in timeline.shown_calendar_entries() if e.end >= x0 and e.start <= x1}
    cats = [(label, palette.category_color(c)) for c, label in CATEGORY_LABELS.items() if c in shown]
    return [(c, palette.class_color(c)) for c in classes], cats


def render(timeline, painter: QPainter, size: QSize, *, title: str, marking: str) -> None:
    """Draw the export picture of ``timeline`` on ``painter`` (``size`` pixels)."""
    w, h = size.width(), size.height()
    m = classification.marking(marking)
    painter.fillRect(QRectF(0, 0, w, h), QColor(palette.BACKGROUND))
    base = QFont(timeline.font())
    base.setPixelSize(15)
    bold = QFont(base)
    bold.setBold(True)
    banner_h = 26

    def banner(y: float) -> None:
        painter.fillRect(QRectF(0, y, w, banner_h), QColor(m.colour))
        painter.setPen(QColor(m.text_colour))
        painter.setFont(bold)
        painter.drawText(QRectF(0, y, w, banner_h), Qt.AlignmentFlag.AlignCenter, m.text)

    banner(0)
    banner(h - banner_h)
    y = banner_h + 10
    tfont = QFont(bold)
    tfont.setPixelSize(24)
    painter.setFont(tfont)
    painter.setPen(QColor(palette.TEXT))
    th = QFontMetrics(tfont).height()
    painter.drawText(QRectF(20, y, w - 40, th), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
    y += th + 2
    painter.setFont(base)
    painter.setPen(QColor(palette.MUTED_TEXT))
    bh = QFontMetrics(base).height()
    shown = int(np.count_nonzero(timeline.visible))
    sub = f"{date_range_text(timeline)} · {shown:,} event{'s' if shown != 1 else ''} shown"
    painter.drawText(QRectF(20, y, w - 40, bh), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, sub)
    y += bh + 8

    classes, cats = legend_items(timeline)
    fm = QFontMetrics(base)
    # the key: rows of swatches, wrapped to the width
    rows: list[list[tuple[str, str, bool]]] = [[]]
    x = 20.0
    for label, colour, line in [*[(c, col, False) for c, col in classes],
                                *[(c, col, True) for c, col in cats]]:
        need = 22 + fm.horizontalAdvance(label) + 18
        if x + need > w - 20 and rows[-1]:
            rows.append([])
            x = 20.0
        rows[-1].append((label, colour, line))
        x += need
    key_h = (len(rows) + 1) * (bh + 6) + 6
    plot_rect = QRectF(20, y, w - 40, h - banner_h - 10 - key_h - y)

    # the plot alone, scaled into its rectangle
    # The plot is laid out at the picture's size for the moment of rendering (so its text keeps
    # its size instead of being stretched), then given its size on screen back.
    plot = timeline.plot
    old = plot.size()
    target = plot_rect.adjusted(1, 1, -1, -1)
    plot.resize(int(target.width()), int(target.height()))
    try:
        painter.save()
        plot.render(painter, target, plot.viewport().rect(), Qt.AspectRatioMode.IgnoreAspectRatio)
        painter.restore()
    finally:
        plot.resize(old)
    painter.setPen(QPen(QColor("#C9D2DE")))
    painter.drawRect(plot_rect)

    ky = plot_rect.bottom() + 8
    painter.setFont(base)
    for row in rows:
        x = 20.0
        for label, colour, line in row:
            c = QColor(colour)
            if line:
                painter.setPen(QPen(c, 2, Qt.PenStyle.DashLine))
                painter.drawLine(QPointF(x + 7, ky + 2), QPointF(x + 7, ky + bh - 2))
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(c)
                painter.drawEllipse(QRectF(x + 2, ky + bh / 2 - 6, 12, 12))
            painter.setPen(QColor(palette.TEXT))
            painter.drawText(QRectF(x + 20, ky, w, bh), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             label)
            x += 22 + fm.horizontalAdvance(label) + 18
        ky += bh + 6
    painter.setPen(QColor(palette.MUTED_TEXT))
    painter.drawText(QRectF(20, ky, w - 40, bh), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                     MARKS)


def export(timeline, path, *, title: str = "North Korean missile launches",
           marking: str = classification.PRESETS[0], size: QSize = QSize(WIDTH, HEIGHT)) -> str:
    """Write the picture to ``path``: SVG when it ends in .svg, else PNG. Atomic (temp, rename)."""
    out = Path(path)
    tmp = out.with_name(out.name + ".part")
    svg = out.suffix.lower() == ".svg"
    if svg:
        from PySide6.QtSvg import QSvgGenerator

        gen = QSvgGenerator()
        gen.setFileName(str(tmp))
        gen.setSize(size)
        gen.setViewBox(QRectF(0, 0, size.width(), size.height()))
        gen.setTitle(title)
        gen.setDescription(f"{marking} · {date_range_text(timeline)}")
        p = QPainter()
        if not p.begin(gen):
            raise OSError(f"cannot write {out}")
        render(timeline, p, size, title=title, marking=marking)
        p.end()
    else:
        img = QImage(size, QImage.Format.Format_ARGB32)
        img.fill(QColor(palette.BACKGROUND))
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        render(timeline, p, size, title=title, marking=marking)
        p.end()
        if not img.save(str(tmp), "PNG"):
            tmp.unlink(missing_ok=True)
            raise OSError(f"cannot write {out}")
    if not tmp.exists():
        raise OSError(f"cannot write {out}")
    tmp.replace(out)
    return str(out)


class ExportOptions(QDialog):
    """Title and classification marking of the picture (the marking as in the pack dialog)."""

    def __init__(self, parent=None, marking: str = classification.PRESETS[0]):
        super().__init__(parent)
        style_dialog(self)
        self.setWindowTitle("Export timeline")
        form = QFormLayout(self)
        self.title_edit = QLineEdit("North Korean missile launches", self)
        self.marking_combo = QComboBox(self)
        self.marking_combo.setEditable(True)
        self.marking_combo.addItems(list(classification.PRESETS))
        self.marking_combo.setEditText(marking)
        form.addRow("Title", self.title_edit)
        form.addRow("Classification", self.marking_combo)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)


def export_dialog(window, path: str | None = None) -> str | None:
    """Ask for title, marking and file (PNG or SVG), then export."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    s = settings()
    opts = ExportOptions(window, s.value("pack/classification", classification.PRESETS[0], str))
    if path is None:
        if opts.exec() != QDialog.DialogCode.Accepted:
            return None
        path, chosen = QFileDialog.getSaveFileName(window, "Export timeline", "timeline.png",
                                                   "PNG image (*.png);;SVG drawing (*.svg)")
        if not path:
            return None
        if not path.lower().endswith((".png", ".svg")):
            path += ".svg" if "svg" in chosen.lower() else ".png"
    marking = classification.normalise(opts.marking_combo.currentText()) or classification.PRESETS[0]
    try:
        out = export(window.timeline, path, title=opts.title_edit.text().strip() or "Timeline", marking=marking)
    except (OSError, ValueError) as e:
        QMessageBox.warning(window, "Export timeline", str(e))
        return None
    window.statusBar().showMessage(f"Timeline saved to {out}", 5000)
    return out
