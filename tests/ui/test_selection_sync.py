"""Many rows selected in the table after a load: every view follows, with no id lookup of the
whole store; the timeline's halos for thousands of events cover the pixels Qt's own wide
square points would."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTransform

from nkbrief.analysis.filtering import merge_runs


def _select_view_rows(table, rows) -> None:
    """What a Shift/Ctrl drag over these rows does: one select() of their ranges."""
    m = table.table_model
    sel = QItemSelection()
    for a, b in merge_runs(np.asarray(rows)):
        sel.select(m.index(a, 0), m.index(b, m.columnCount() - 1))
    table.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)


def test_table_selection_after_a_reload_reaches_every_view_without_an_id_index(qtbot, window):
    window.reload()
    view = window.table.table_model.view
    n = view.rows.size
    rows = np.r_[0:5, 9:12, n - 3:n]
    _select_view_rows(window.table, rows)
    ids = view.ids_for_view_rows(rows)
    frame_rows = view.rows[rows]
    assert list(window.selection.ids) == ids
    assert view._row_of is None  # the table named the rows; nobody hashed every id
    assert sorted(window.timeline.selected_rows.tolist()) == sorted(frame_rows.tolist())
    assert window.detail.ids == ids
    text = window.detail.launch.toPlainText()
    assert f"{len(ids):,} events selected" in text
    s = view.summary(frame_rows)
    assert s == view.summary(view.frame_rows_for_ids(list(ids)))  # the same through a lookup
    assert f"{len(ids):,} selected" in window.status_counts.text()
    assert window.status_counts.text().startswith(view.status_text())
    # a filter hiding some selected events: the counts line says so, the totals follow the rows
    window.filter_bar.search.setText(str(view.display("missile_name")[frame_rows[0]]))
    qtbot.waitUntil(lambda: window.table.table_model.view.rows.size < n, timeout=3000)
    v2 = window.table.table_model.view
    hidden = int((v2.inverse[v2.frame_rows_for_ids(window.selection.ids)] < 0).sum())
    assert hidden and f"({hidden:,} hidden)" in window.status_counts.text()
    assert window.status_counts.text().startswith(v2.status_text())


def _paint(layer, transform: QTransform, reference: bool) -> np.ndarray:
    img = QImage(400, 300, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QColor("white"))
    p = QPainter(img)
    p.setTransform(transform)
    if reference:  # Qt's own: one wide square-capped cosmetic point each, aliased
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for size, poly in layer._point_groups():
            pen = QPen(layer._color, size + layer._pad, Qt.PenStyle.SolidLine, Qt.PenCapStyle.SquareCap)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.drawPoints(poly)
    else:
        layer.paint(p)
    p.end()
    return np.frombuffer(img.constBits(), np.uint8).reshape(300, img.bytesPerLine() // 4, 4)[:, :400].copy()


def test_many_halos_cover_the_pixels_of_wide_square_points(qapp):
    from ui.timeline import _HaloLayer

    rng = np.random.default_rng(7)
    n = 4000  # more than 3000: drawn as whole-pixel squares
    layer = _HaloLayer(None, "#1B2330", pad_px=0.0)
    layer.set_style(QColor(27, 35, 48, 150), 0.0)
    # data coordinates as the timeline has them (seconds, log km), mapped by a scale + offset
    x = 1.5e9 + rng.random(n) * 3e8
    y = rng.random(n) * 4.0
    layer.set_points(x, y, rng.choice([3.3, 4.4, 5.5, 6.6], n))
    t = QTransform(380 / 3e8, 0, 0, -280 / 4.0, 10 - 1.5e9 * 380 / 3e8, 290)
    ours, ref = _paint(layer, t, False), _paint(layer, t, True)
    marked = (ref[..., :3] != 255).any(axis=2)
    assert marked.sum() > 10_000
    differ = (ours != ref).any(axis=2)
    assert differ.sum() <= 0.005 * marked.sum()  # the same squares but for rounding ties


def test_halos_with_no_position_or_far_off_are_left_out(qapp):
    from ui.timeline import _HaloLayer

    n = 3500
    layer = _HaloLayer(None, "#1B2330", pad_px=0.0)
    x = np.full(n, np.nan)
    y = np.full(n, 1.0)
    x[:10] = 1e12  # far outside the device
    x[10:20] = 50.0  # on it
    layer.set_points(x, y, np.full(n, 4.0))
    img = _paint(layer, QTransform(1, 0, 0, 1, 0, 100), False)
    marked = (img[..., :3] != 255).any(axis=2)
    ys, xs = np.nonzero(marked)
    assert marked.any() and xs.min() >= 48 and xs.max() <= 52 and ys.min() >= 99 and ys.max() <= 103
