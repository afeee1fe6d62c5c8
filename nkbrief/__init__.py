"""nkbrief: a briefing workstation for analysts tracking North Korean missile launches.

This package is the Qt-free core. It never imports PySide6, pyqtgraph or ``ui``.
"""

__version__ = "0.1.0"
