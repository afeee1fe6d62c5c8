"""The window's looks without a style sheet on the window (ui/style.py says why): the table,
status bar, line edits and labels look as the app's sheet draws them in a dialog."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from ui import style


def _pixels(widget: QWidget, rect) -> set[str]:
    """The colours painted in ``rect`` of ``widget`` (a fresh grab)."""
    img = widget.grab(rect).toImage()
    return {img.pixelColor(x, y).name().upper() for x in range(img.width()) for y in range(img.height())}


def test_the_window_and_what_it_shows_at_start_paint_with_the_application_style(small_window):
    """No sheet on the window, so the table, the timeline and the detail pane paint with the
    application's style (a sheet anywhere above them would put them under Qt's sheet style)."""
    app_style = QApplication.style()
    assert small_window.styleSheet() == ""
    for w in (small_window.table, small_window.table.viewport(), small_window.timeline.plot,
              small_window.detail, small_window.detail.launch):
        assert w.style() is app_style, w.objectName()


def test_a_selected_row_and_every_other_row_have_the_sheet_colours(qtbot, small_window):
    table = small_window.table
    small_window.select_ids([table.table_model.view.frame["id"].iloc[0]])
    qtbot.wait(20)
    row = table.visualRect(table.model().index(0, 0)).adjusted(2, 1, -2, -1)
    assert style.SELECTION_BACKGROUND.upper() in _pixels(table.viewport(), row)
    other = table.visualRect(table.model().index(1, 0)).adjusted(2, 1, -2, -1)
    assert style.ALTERNATE_ROW.upper() in _pixels(table.viewport(), other)
    table.clearFocus()  # an inactive window's selection keeps the colour, as the sheet's did
    assert table.palette().color(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight) \
        == QColor(style.SELECTION_BACKGROUND)


def test_the_header_and_status_bar_carry_their_own_sheets(small_window):
    assert small_window.table.horizontalHeader().styleSheet() == style.HEADER_STYLE
    header = small_window.table.horizontalHeader()
    first = header.sectionViewportPosition(header.logicalIndex(0))
    from PySide6.QtCore import QRect

    cell = QRect(first + 8, 2, 4, 4)
    assert "#F1F3F5" in _pixels(header, cell)
    assert small_window.statusBar().styleSheet() == style.STATUS_BAR_STYLE


def _under_the_app_sheet(widget) -> bool:
    while widget is not None:
        if widget.styleSheet() == style.STYLESHEET:
            return True
        widget = widget.parentWidget()
    return False


def test_muted_labels_in_the_window_take_the_muted_colour(small_window):
    """Every muted label of the window (the timeline's key, the detail pane's notes) that no
    dialog's or late dock's sheet colours gets the colour from its palette."""
    muted = [w for w in small_window.findChildren(QLabel)
             if w.objectName() == "muted" and not _under_the_app_sheet(w)]
    assert small_window.timeline.legend_hint in muted and len(muted) >= 5
    for label in muted:
        assert label.palette().color(QPalette.ColorRole.WindowText) == QColor(style.TONES["muted"]), label.text()


def test_an_invalid_line_edit_is_marked_and_unmarked(small_window):
    edit = small_window.filter_bar.date_from
    edit.setText("2017-13")
    small_window.filter_bar._emit()
    assert edit.property("invalid") is True and edit.styleSheet() == style.INVALID_STYLE
    edit.setText("2017")
    small_window.filter_bar._emit()
    assert edit.property("invalid") is False and edit.styleSheet() == ""


def test_dialogs_and_late_docks_carry_the_app_sheet(qtbot, small_window):
    from ui.edit_dialog import EventEditDialog

    dlg = EventEditDialog(small_window.store, parent=small_window)
    qtbot.addWidget(dlg)
    assert dlg.styleSheet() == style.STYLESHEET
    assert small_window.timing_view.styleSheet() == style.STYLESHEET
