"""Help ▸ nkbrief Help (F1): the project's docs/*.md, offline, in one searchable window.

The pages are the Markdown files in ``docs/`` (bundled next to ``resources/`` in the
portable folder; see build.spec). Nothing here opens a network connection: links to other
pages open in the window, and web links are shown, never followed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QImageReader, QTextCursor, QTextDocument
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QSplitter,
                               QTextBrowser, QVBoxLayout, QWidget)

from .style import app_icon, style_dialog

#: The page shown first.
FIRST_PAGE = "main_window.md"


def docs_dir() -> Path:
    """The folder of the help pages: <bundle>/docs when frozen, else the checkout's docs/."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "docs"
    return Path(__file__).resolve().parent.parent / "docs"


def help_pages(folder: Path | None = None) -> list[tuple[str, Path]]:
    """(title, path) of every page, the main window's first, then by title."""
    folder = folder or docs_dir()
    pages = []
    for p in sorted(folder.glob("*.md")):
        title = p.stem.replace("_", " ").capitalize()
        try:
            for line in p.read_text(encoding="utf-8").splitlines():
                if line.startswith("# "):
                    title = line[2:].strip()
                    break
        except OSError:
            continue
        pages.append((title, p))
    pages.sort(key=lambda tp: (tp[1].name != FIRST_PAGE, tp[0].casefold()))
    return pages


class HelpWindow(QDialog):
    """Page list and search on the left, the page on the right."""

    def __init__(self, parent=None, folder: Path | None = None):
        super().__init__(parent)
        style_dialog(self)
        self.setObjectName("help_window")
        self.setWindowTitle("nkbrief Help")
        self.setWindowIcon(app_icon())
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.pages = help_pages(folder)
        self._texts = {p: p.read_text(encoding="utf-8") for _, p in self.pages}
        lay = QVBoxLayout(self)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        left = QWidget(split)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self.search = QLineEdit(left)
        self.search.setObjectName("help_search")
        self.search.setPlaceholderText("Search the help…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search)
        self.search.returnPressed.connect(self.find_next)
        ll.addWidget(self.search)
        self.list = QListWidget(left)
        self.list.setObjectName("help_pages")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        ll.addWidget(self.list, 1)
        self.hits = QLabel(left)
        self.hits.setObjectName("muted")
        self.hits.setWordWrap(True)
        ll.addWidget(self.hits)
        self.browser = QTextBrowser(split)
        self.browser.setObjectName("help_browser")
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.anchorClicked.connect(self._on_link)
        split.addWidget(left)
        split.addWidget(self.browser)
        split.setStretchFactor(1, 1)
        split.setSizes([220, 620])
        lay.addWidget(split, 1)
        self.list.currentItemChanged.connect(lambda cur, _prev: self._show(cur))
        self._fill(self.pages)
        if not self.pages:
            self.browser.setPlainText(f"No help pages were found in {docs_dir()}.")
        self.resize(900, 620)

    # ------------------------------------------------------------------
    def _fill(self, pages) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for title, path in pages:
            it = QListWidgetItem(title)
            it.setToolTip(title)
            it.setData(Qt.ItemDataRole.UserRole, str(path))
            self.list.addItem(it)
        self.list.blockSignals(False)
        if self.list.count():
            self.list.setCurrentRow(0)
            self._show(self.list.item(0))

    def _show(self, item) -> None:
        if item is None:
            return
        path = Path(item.data(Qt.ItemDataRole.UserRole))
        self.browser.setSearchPaths([str(path.parent)])
        self.browser.document().setBaseUrl(QUrl.fromLocalFile(str(path.parent) + "/"))
        self.browser.setMarkdown(self._texts.get(path, ""))
        self._fit_images(path.parent)
        self.current_page = path
        if self.search.text().strip():
            self.browser.moveCursor(self.browser.textCursor().MoveOperation.Start)
            self.find_next()

    def _fit_images(self, folder: Path, width: int = 600) -> None:
        """Scale screenshots down to a readable width (Markdown cannot say how wide)."""
        doc = self.browser.document()
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                fmt = frag.charFormat()
                if fmt.isImageFormat():
                    img = fmt.toImageFormat()
                    size = QImageReader(str(folder / img.name())).size()
                    if size.isValid() and size.width() > width:
                        img.setWidth(width)
                        img.setHeight(size.height() * width / size.width())
                        cur = QTextCursor(doc)
                        cur.setPosition(frag.position())
                        cur.setPosition(frag.position() + frag.length(), QTextCursor.MoveMode.KeepAnchor)
                        cur.setCharFormat(img)
                it += 1
            block = block.next()

    def show_page(self, name: str) -> bool:
        for i in range(self.list.count()):
            if Path(self.list.item(i).data(Qt.ItemDataRole.UserRole)).name == name:
                self.list.setCurrentRow(i)
                return True
        return False

    def page_titles(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _on_search(self, text: str) -> None:
        t = text.strip().casefold()
        pages = [(title, p) for title, p in self.pages if not t or t in self._texts[p].casefold()]
        self._fill(pages)
        if t:
            n = sum(self._texts[p].casefold().count(t) for _, p in pages)
            self.hits.setText(f"“{text.strip()}”: {n} match{'es' if n != 1 else ''} on {len(pages)} "
                              f"page{'s' if len(pages) != 1 else ''}" if pages else
                              f"“{text.strip()}” is not in the help.")
        else:
            self.hits.setText("")

    def find_next(self) -> bool:
        """Highlight the next match of the search in the page (wrapping to the start)."""
        t = self.search.text().strip()
        if not t:
            return False
        if self.browser.find(t):
            return True
        self.browser.moveCursor(self.browser.textCursor().MoveOperation.Start)
        return self.browser.find(t, QTextDocument.FindFlag(0))

    def _on_link(self, url: QUrl) -> None:
        name = Path(url.path()).name if url.isLocalFile() or not url.scheme() else ""
        if name.endswith(".md") and self.show_page(name):
            return
        self.hits.setText(f"Web link (not opened; this workstation is offline): {url.toString()}")


def show_help(window) -> HelpWindow:
    """Open (or raise) the help window of ``window``."""
    dlg = getattr(window, "help_window", None)
    if dlg is None:
        dlg = HelpWindow(window)
        window.help_window = dlg
    dlg.show()
    dlg.raise_()
    dlg.search.setFocus()
    return dlg
