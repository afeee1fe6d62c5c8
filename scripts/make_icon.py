"""Make the application icon files: resources/icons/nkbrief.png (256 px) and nkbrief.ico.

The Windows build embeds the .ico in nkbrief.exe; the PNG serves the window icon and Linux
desktop shortcuts. The design is resources/icons/app.svg (the window's icon), rendered with
Qt's SVG renderer so every icon looks the same; without PySide6 or the SVG, a similar tile
is drawn with Pillow. Run it again after changing app.svg: ``python scripts/make_icon.py``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZE = 1024  # drawn large, then scaled down for a smooth edge
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]

BACKGROUND = (24, 36, 56, 255)   # dark slate, the header colour of the pack
GRID = (58, 76, 102, 255)
TRACK = (236, 240, 245, 255)
ACCENT = (200, 16, 46, 255)      # one warm accent: the impact point


def draw(size: int = SIZE) -> Image.Image:
    """A rounded dark tile with a ballistic arc rising from a launch point to an impact mark."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    r = size // 6
    d.rounded_rectangle([0, 0, size - 1, size - 1], radius=r, fill=BACKGROUND)

    # a faint range grid: the timeline/map look of the app
    m = size // 8
    for i in range(1, 4):
        y = m + i * (size - 2 * m) // 4
        d.line([(m, y), (size - m, y)], fill=GRID, width=max(2, size // 128))

    # ground line
    ground = int(size * 0.78)
    d.line([(m, ground), (size - m, ground)], fill=TRACK, width=max(3, size // 48))

    # ballistic arc: a parabola from the launch point (left) to the impact point (right)
    x0, x1 = int(size * 0.20), int(size * 0.80)
    top = int(size * 0.20)
    pts = []
    for k in range(0, 101):
        t = k / 100
        x = x0 + (x1 - x0) * t
        y = ground - (ground - top) * 4 * t * (1 - t)
        pts.append((x, y))
    d.line(pts, fill=TRACK, width=max(4, size // 28), joint="curve")

    # launch point and impact mark
    lr = size // 22
    d.ellipse([x0 - lr, ground - lr, x0 + lr, ground + lr], fill=TRACK)
    ir = size // 12
    d.ellipse([x1 - ir, ground - ir, x1 + ir, ground + ir], fill=ACCENT)
    # a short dash at the apogee
    ax = (x0 + x1) / 2
    dash = size // 14
    d.line([(ax - dash, top - size // 20), (ax + dash, top - size // 20)], fill=ACCENT,
           width=max(3, size // 40))
    return img


def render_svg(svg: Path, size: int = 256) -> Image.Image | None:
    """app.svg as a Pillow image, or None when PySide6 is not installed."""
    try:
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
        from PySide6.QtGui import QGuiApplication, QImage, QPainter
        from PySide6.QtSvg import QSvgRenderer
    except ImportError:
        return None
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (keeps Qt alive)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icon: {svg} is not a valid SVG")
    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    painter = QPainter(img)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    buf.close()
    import io

    return Image.open(io.BytesIO(bytes(data))).convert("RGBA")


def _atomic_save(img: Image.Image, path: Path, **kw) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        img.save(tmp, format=kw.pop("format"), **kw)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    svg = ICONS / "app.svg"
    png = render_svg(svg) if svg.is_file() else None
    source = f"rendered from {svg.name}"
    if png is None:
        png = draw().resize((256, 256), Image.LANCZOS)
        source = "drawn with Pillow (no app.svg or no PySide6)"
    _atomic_save(png, ICONS / "nkbrief.png", format="PNG", optimize=True)
    _atomic_save(png, ICONS / "nkbrief.ico", format="ICO", sizes=ICO_SIZES)
    print(f"wrote {ICONS / 'nkbrief.png'} and {ICONS / 'nkbrief.ico'}, {source}")


if __name__ == "__main__":
    main()
