"""The PySide6 6.12 / Python 3.11 guard: repainting a Python-overridden widget must not drain None."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QWidget

from ui.style import pin_singletons


class _Painted(QWidget):
    def paintEvent(self, event):  # noqa: N802 (Qt override returning None, as every override does)
        pass


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_none_survives_many_repaints(qtbot):
    assert pin_singletons()  # idempotent: already applied when ui.style was imported
    w = _Painted()
    qtbot.addWidget(w)
    w.show()
    before = sys.getrefcount(None)
    assert before > 1 << 28
    for _ in range(2000):
        w.repaint()
    # With the guard, even a binding that drops one reference per call leaves None far from 0.
    assert sys.getrefcount(None) > 1 << 28
