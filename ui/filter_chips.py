"""A row of chips under the filter bar: one per active filter, each with its own ×.

The row also says in words what the filter bar could not apply (an invalid or reversed date
range, a search it cannot read), and hides itself when there is nothing to show. Chips wrap
onto more lines rather than widening the window (:class:`FlowLayout`).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QSizePolicy, QToolButton, QWidget

CHIP_STYLE = """
QWidget#filter_chip { background: #E8EEF7; border: 1px solid #B9C7DD; border-radius: 10px; }
QWidget#filter_chip QLabel { background: transparent; border: none; padding: 0 2px 0 6px; }
QWidget#filter_chip QToolButton { border: none; background: transparent; padding: 0 4px; font-weight: bold; }
QWidget#filter_chip QToolButton:hover { color: #9B1C14; }
QLabel#filter_problem { color: #9B1C14; font-weight: bold; }
"""


class FlowLayout(QLayout):
    """Lays its items out left to right and wraps them onto new lines as the width runs out."""

    def __init__(self, parent=None, spacing: int = 4):
        super().__init__(parent)
        self._items = []
        self._spacing = spacing
        self.setContentsMargins(4, 2, 4, 2)

    def addItem(self, item):  # noqa: N802 (Qt override)
        self._items.append(item)

    def count(self):
        return len(self._items)

    def itemAt(self, i):  # noqa: N802
        return self._items[i] if 0 <= i < len(self._items) else None

    def takeAt(self, i):  # noqa: N802
        return self._items.pop(i) if 0 <= i < len(self._items) else None

    def expandingDirections(self):  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self):  # noqa: N802
        return True

    def heightForWidth(self, width):  # noqa: N802
        return self._place(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect):  # noqa: N802
        super().setGeometry(rect)
        self._place(rect, apply=True)

    def sizeHint(self):  # noqa: N802
        return self.minimumSize()

    def minimumSize(self):  # noqa: N802
        size = QSize()
        for it in self._items:
            size = size.expandedTo(it.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _place(self, rect: QRect, apply: bool) -> int:
        m = self.contentsMargins()
        r = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line = r.x(), r.y(), 0
        for it in self._items:
            if it.widget() is not None and it.widget().isHidden():
                continue
            hint = it.sizeHint()
            widget = it.widget()
            if isinstance(widget, QLabel) and widget.objectName() == "filter_problem":
                # one line, elided to the row (the full text is the tooltip), restored when wider
                full = widget.toolTip()
                hint = QSize(widget.fontMetrics().horizontalAdvance(full) + 8, hint.height())
                w = min(hint.width(), max(r.width(), 1))
                if apply:
                    widget.setText(widget.fontMetrics().elidedText(full, Qt.TextElideMode.ElideRight, w - 8))
            else:
                w = min(hint.width(), max(r.width(), 1))
            if x + w > r.right() + 1 and line > 0:
                x, y, line = r.x(), y + line + self._spacing, 0
            if apply:
                it.setGeometry(QRect(QPoint(x, y), QSize(w, hint.height())))
            x += w + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y() + m.bottom()


class FilterChip(QWidget):
    """One active filter: its description and a × that removes it."""

    def __init__(self, text: str, remove, parent=None):
        super().__init__(parent)
        self.setObjectName("filter_chip")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.label = QLabel(self)
        self.full_text = text
        shown = text if len(text) <= 60 else text[:59] + "…"
        self.label.setText(shown)
        self.label.setToolTip(text)
        lay.addWidget(self.label)
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("chip_close")
        self.close_button.setText("×")
        self.close_button.setToolTip(f"Remove this filter ({text})")
        self.close_button.setAccessibleName(f"Remove filter {text}")
        self.close_button.clicked.connect(lambda *_: remove())
        lay.addWidget(self.close_button)


class FilterChips(QWidget):
    """The chip row for a :class:`ui.filter_bar.FilterBar`; follows its ``state_changed``."""

    def __init__(self, bar, parent=None):
        super().__init__(parent)
        self.setObjectName("filter_chips")
        self.setStyleSheet(CHIP_STYLE)
        self.bar = bar
        self.flow = FlowLayout(self)
        sp = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)
        self.problem = QLabel(self)
        self.problem.setObjectName("filter_problem")
        self.problem.setWordWrap(False)  # one line; the full text is in the tooltip when cut
        self.clear_all = QToolButton(self)
        self.clear_all.setText("Clear all filters")
        self.clear_all.clicked.connect(lambda *_: bar.clear())
        self.chips: list[FilterChip] = []
        bar.state_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        for c in self.chips:
            self.flow.removeWidget(c)
            c.hide()  # at once: deleteLater waits for the event loop
            c.setParent(None)
            c.deleteLater()
        self.flow.removeWidget(self.problem)
        self.flow.removeWidget(self.clear_all)
        active = self.bar.active_filters()
        self.chips = [FilterChip(text, remove, self) for text, remove in active]
        if self.bar.problem:
            self.problem.setText("⚠ " + self.bar.problem)
            self.problem.setToolTip("⚠ " + self.bar.problem)
            self.flow.addWidget(self.problem)
            self.problem.show()
        else:
            self.problem.hide()
        for c in self.chips:
            self.flow.addWidget(c)
            c.show()
        if len(active) > 1:
            self.flow.addWidget(self.clear_all)
            self.clear_all.show()
        else:
            self.clear_all.hide()
        self.setVisible(bool(active) or bool(self.bar.problem))
        self.updateGeometry()

    def texts(self) -> list[str]:
        """The chips' full texts, in order (for tests and the accessibility tree)."""
        return [c.full_text for c in self.chips]

    def hasHeightForWidth(self):  # noqa: N802 (Qt override)
        return True

    def heightForWidth(self, width):  # noqa: N802
        return self.flow.heightForWidth(width)

    def sizeHint(self):  # noqa: N802
        w = max(self.width(), 400)
        return QSize(w, self.flow.heightForWidth(w))


class EmptyOverlay(QWidget):
    """"No events match — clear filters" over the table when the filters hide every event."""

    def __init__(self, table, bar):
        super().__init__(table.viewport())
        self.setObjectName("empty_overlay")
        self.table, self.bar = table, bar
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("QWidget#empty_overlay { background: #FFFFFF; border: 1px solid #C9D2DE; "
                           "border-radius: 6px; } QLabel { border: none; }")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(14, 8, 14, 8)
        self.label = QLabel("No events match —", self)
        lay.addWidget(self.label)
        self.clear_button = QToolButton(self)
        self.clear_button.setObjectName("overlay_clear")
        self.clear_button.setText("Clear filters")
        self.clear_button.clicked.connect(lambda *_: bar.clear())
        lay.addWidget(self.clear_button)
        table.table_model.rows_changed.connect(self.refresh)
        table.viewport().installEventFilter(self)
        self.hide()

    def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        self.adjustSize()
        vp = self.table.viewport()
        self.move(max((vp.width() - self.width()) // 2, 0), max(min(40, vp.height() // 3), 0))

    def refresh(self) -> None:
        view = self.table.table_model.view
        show = view.n > 0 and view.rows.size == 0
        if show:
            self._place()
            self.raise_()
        self.setVisible(show)

    def text(self) -> str:
        return f"{self.label.text()} {self.clear_button.text()}"
