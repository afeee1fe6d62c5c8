"""Guard against the PySide6 6.12 / Python 3.11 leak of references to None.

PySide6 6.12.0 drops one reference to the value returned by every Python override of a Qt
virtual method; on Python 3.11 None's count drains with every repaint until CPython frees
None and the process aborts. pyproject.toml excludes 6.12; this test fails on any binding
that has the bug, so an upgrade cannot bring it back unnoticed.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget


class _Painted(QWidget):
    def paintEvent(self, event):  # noqa: N802 (Qt override returning None, as every override does)
        pass


def test_repaints_do_not_drain_references_to_none(qtbot):
    w = _Painted()
    qtbot.addWidget(w)
    w.show()
    w.repaint()
    before = sys.getrefcount(None)
    for _ in range(500):
        w.repaint()
    lost = before - sys.getrefcount(None)
    assert lost < 50, f"the Qt binding lost {lost} references to None in 500 repaints"
