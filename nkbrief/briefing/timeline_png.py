"""The briefing pack's timeline picture, drawn with Pillow (no Qt): launches by date and
distance, one colour per missile class, political calendar entries marked and labelled.

Uncertainty is shown as on screen: a date known only to the month or year is a bar over
that month or year, a distance range is a whisker, and launches with no known distance sit
(or a reported 0 km, which a log scale cannot show) in their own lane under the plot.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as _dt
import io
import math
import os
from collections.abc import Iterable
from functools import lru_cache

import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from ..model.palette import BACKGROUND, GRID, MUTED_TEXT, TEXT, category_color, class_color, rgb
from ..model.schema import MISSILE_CLASSES

#: Categories whose labels win when there is no room for all, most important first.
LABEL_PRIORITY = ("party_congress", "nuclear_test", "summit", "un_resolution", "plenum",
                  "inauguration", "spa_session", "exercise", "other", "anniversary")

_FONT_CANDIDATES = {
    False: ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
            r"C:\Windows\Fonts\segoeui.ttf", r"C:\Windows\Fonts\arial.ttf",
            "/System/Library/Fonts/Supplemental/Arial.ttf", "DejaVuSans.ttf", "arial.ttf"],
    True: ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
           "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
           r"C:\Windows\Fonts\segoeuib.ttf", r"C:\Windows\Fonts\arialbd.ttf",
           "/System/Library/Fonts/Supplemental/Arial Bold.ttf", "DejaVuSans-Bold.ttf", "arialbd.ttf"],
}


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A TrueType font found on this machine, else Pillow's bundled one (no files needed)."""
    for path in _FONT_CANDIDATES[bold]:
        if os.path.isabs(path) and not os.path.exists(path):
            continue
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _day(d: _dt.date) -> int:
    return d.toordinal()


def _span(date: str, precision: str | None) -> tuple[int, int]:
    """First and last ordinal day a date with a precision may mean."""
    d = _dt.date.fromisoformat(date)
    if precision == "year":
        return _day(_dt.date(d.year, 1, 1)), _day(_dt.date(d.year, 12, 31))
    if precision == "month":
        last = _calendar.monthrange(d.year, d.month)[1]
        return _day(d.replace(day=1)), _day(d.replace(day=last))
    return _day(d), _day(d)


def _nice_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks between lo and hi (log axis)."""
    out = []
    for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10 ** k
            if lo <= v <= hi:
                out.append(v)
    return out


def _date_ticks(d0: int, d1: int, max_ticks: int) -> tuple[list[int], str]:
    """Tick days and a label format for the range [d0, d1]."""
    span = d1 - d0
    steps = [("day", 1), ("day", 2), ("day", 7), ("day", 14), ("month", 1), ("month", 2),
             ("month", 3), ("month", 6), ("year", 1), ("year", 2), ("year", 5), ("year", 10),
             ("year", 20), ("year", 50)]
    approx = {"day": 1, "month": 30.4, "year": 365.25}
    unit, step = steps[-1]
    for u, s in steps:
        if span / (approx[u] * s) <= max_ticks:
            unit, step = u, s
            break
    first = _dt.date.fromordinal(d0)
    ticks: list[int] = []
    if unit == "day":
        d = first
        while _day(d) <= d1:
            ticks.append(_day(d))
            d += _dt.timedelta(days=step)
        return ticks, "%Y-%m-%d"
    if unit == "month":
        y, m = first.year, first.month
        m = ((m - 1) // step) * step + 1
        while True:
            d = _dt.date(y, m, 1)
            if _day(d) > d1:
                break
            if _day(d) >= d0:
                ticks.append(_day(d))
            m += step
            if m > 12:
                y, m = y + 1, m - 12
        return ticks, "%b %Y"
    y = (first.year // step) * step
    while _day(_dt.date(y, 1, 1)) <= d1:
        if _day(_dt.date(y, 1, 1)) >= d0:
            ticks.append(_day(_dt.date(y, 1, 1)))
        y += step
    return ticks, "%Y"


def _records(df: pd.DataFrame | None, cols: Iterable[str]) -> list[dict]:
    if df is None or df.empty:
        return []
    cols = [c for c in cols if c in df.columns]
    out = []
    for row in df[cols].itertuples(index=False, name=None):
        rec = {}
        for c, v in zip(cols, row):
            if v is pd.NA or (isinstance(v, float) and v != v):
                v = None
            rec[c] = v
        out.append(rec)
    return out


def render_timeline(events: pd.DataFrame, calendar: pd.DataFrame | None = None, *,
                    width: int = 2400, height: int = 1200, title: str | None = None,
                    until: str | None = None) -> Image.Image:
    """Draw the timeline; returns an RGB Pillow image ``width`` x ``height``.

    ``events`` needs date, date_precision, missile_class, distance_km, distance_km_max;
    ``calendar`` needs id, date, end_date, category, title (either may be empty).
    ``until``: an ISO day the time axis must reach (the pack passes the last day of the
    next party congress or summit its calendar context names).
    """
    s = width / 1200  # everything below is laid out for 1200 px wide and scaled
    W, H = width, height

    def px(v: float) -> int:
        return int(round(v * s))

    evs = _records(events, ["date", "date_precision", "missile_class", "distance_km",
                            "distance_km_max"])
    cal = _records(calendar, ["id", "date", "end_date", "category", "title"])

    spans = [_span(e["date"], e["date_precision"]) for e in evs]
    if spans:
        lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
    else:
        today = _day(_dt.date.today())
        lo, hi = today - 30, today
    if until:
        hi = max(hi, _day(_dt.date.fromisoformat(until)))
    if hi - lo < 20:
        mid = (lo + hi) // 2
        lo, hi = mid - 10, mid + 10
    pad = max(2, int((hi - lo) * 0.02))
    d0, d1 = lo - pad, hi + pad

    known = [e["distance_km"] for e in evs if e["distance_km"] is not None and e["distance_km"] > 0]
    highs = [e["distance_km_max"] for e in evs if e["distance_km_max"]]
    if known:
        vmin = max(1.0, min(known) * 0.7)
        vmax = max(known + highs) * 1.4
    else:
        vmin, vmax = 50.0, 10_000.0
    vmin = 10 ** math.floor(math.log10(vmin))
    vmax = max(vmax, vmin * 10)

    f_title, f_label = _font(px(17), True), _font(px(11))
    f_small, f_axis = _font(px(10)), _font(px(11))
    f_axis_title = _font(px(11), True)

    n_lanes = 4
    lane_h = px(16)
    lanes_top = px(44)
    x0, x1 = px(78), W - px(24)
    y0 = lanes_top + n_lanes * lane_h + px(10)
    legend_h = px(52)
    y1 = H - legend_h - px(72)  # bottom of the distance plot
    uy0, uy1 = y1 + px(10), y1 + px(34)  # "distance unknown" lane

    def xd(day: float) -> float:
        return x0 + (day - d0) / (d1 - d0) * (x1 - x0)

    def yv(v: float) -> float:
        v = min(max(v, vmin), vmax)
        return y1 - (math.log10(v) - math.log10(vmin)) / (math.log10(vmax) - math.log10(vmin)) * (y1 - y0)

    # One RGB canvas (no full-size alpha layers: the picture stays cheap for any number of
    # events). Translucent-looking bands are drawn first, their colours mixed with the
    # background, so the grid, labels and points sit on top of them.
    bg = rgb(BACKGROUND)
    img = Image.new("RGB", (W, H), bg)
    draw = ImageDraw.Draw(img)
    text_c, muted_c, grid_c = rgb(TEXT), rgb(MUTED_TEXT), rgb(GRID)

    def mix(col: tuple[int, int, int], alpha: int, under: tuple[int, int, int] = bg) -> tuple[int, int, int]:
        return tuple(round(u + (c - u) * alpha / 255) for c, u in zip(col, under))

    lane_fill = (246, 246, 246)
    draw.rectangle([x0, uy0, x1, uy1], fill=lane_fill)

    # Political calendar: bands/lines behind the points, labels in lanes above the plot.
    visible = []
    for c in cal:
        if not c.get("date"):
            continue
        a = _day(_dt.date.fromisoformat(c["date"]))
        b = _day(_dt.date.fromisoformat(c["end_date"])) if c.get("end_date") else a
        if b < d0 or a > d1:
            continue
        col = rgb(category_color(c.get("category")))
        xa, xb = xd(max(a, d0)), xd(min(b, d1))
        faint = c.get("category") in ("anniversary", "other")
        if xb - xa >= px(3):
            alpha = 22 if faint else 38
            draw.rectangle([xa, y0 + 1, xb, y1], fill=mix(col, alpha))
            draw.rectangle([xa, uy0, xb, uy1], fill=mix(col, alpha, lane_fill))
        else:
            alpha = 70 if faint else 150
            for yy in range(int(y0), int(uy1), px(6)):  # dashed
                draw.line([(xa, yy), (xa, min(yy + px(3), uy1))], fill=mix(col, alpha), width=max(1, px(1)))
        visible.append((c, xa, col))

    # Title.
    draw.text((x0, px(12)), title or "Launches by date and distance flown (KST dates)",
              font=f_title, fill=text_c)

    # Plot frame and grid.
    for v in _nice_ticks(vmin, vmax):
        y = yv(v)
        major = str(v).lstrip("0.")[:1] == "1"
        draw.line([(x0, y), (x1, y)], fill=grid_c if major else tuple(min(255, c + 10) for c in grid_c),
                  width=max(1, px(1)))
        label = f"{v:,.0f}"
        tw = draw.textlength(label, font=f_axis)
        draw.text((x0 - px(6) - tw, y - px(7)), label, font=f_axis, fill=muted_c)
    ticks, fmt = _date_ticks(d0, d1, max_ticks=max(4, int((x1 - x0) / px(90))))
    for t in ticks:
        x = xd(t)
        draw.line([(x, y0), (x, uy1)], fill=grid_c, width=max(1, px(1)))
        label = _dt.date.fromordinal(t).strftime(fmt)
        tw = draw.textlength(label, font=f_axis)
        draw.text((x - tw / 2, uy1 + px(6)), label, font=f_axis, fill=muted_c)
    draw.rectangle([x0, y0, x1, y1], outline=muted_c, width=max(1, px(1)))
    draw.rectangle([x0, uy0, x1, uy1], outline=grid_c)
    # The lane holds what a log scale cannot: no distance reported, or 0 km.
    for i, word in enumerate(("unknown", "or 0 km")):
        tw = draw.textlength(word, font=f_axis)
        draw.text((x0 - px(6) - tw, uy0 + px(1) + i * px(11)), word, font=f_axis, fill=muted_c)
    # Axis title, written sideways.
    at = "Distance flown (km, log scale)"
    tw = int(draw.textlength(at, font=f_axis_title)) + 4
    tmp = Image.new("L", (tw, px(16)), 0)
    ImageDraw.Draw(tmp).text((0, 0), at, font=f_axis_title, fill=255)
    tmp = tmp.rotate(90, expand=True)
    img.paste(Image.new("RGB", tmp.size, muted_c), (px(6), int((y0 + y1) / 2 - tmp.height / 2)), tmp)

    occupied: list[list[tuple[float, float]]] = [[] for _ in range(n_lanes)]
    order = sorted(visible, key=lambda t: (LABEL_PRIORITY.index(t[0].get("category"))
                                           if t[0].get("category") in LABEL_PRIORITY else 99, t[1]))
    for c, xa, col in order:
        text = (c.get("title") or "").strip()
        if len(text) > 34:
            text = text[:33] + "…"
        tw = draw.textlength(text, font=f_label)
        left = xa + px(3)
        if left + tw > x1:
            left = xa - px(3) - tw
        if left < px(4):
            left = px(4)
        gap = px(6)

        def free(lane: int, a0: float, b0: float) -> bool:
            return all(b0 + gap < a or a0 > b + gap for a, b in occupied[lane])

        for lane in range(n_lanes):
            # the label's own lane, and its connector's path through the lanes below
            if free(lane, left, left + tw) and all(free(k, xa - 1, xa + 1) for k in range(lane + 1, n_lanes)):
                occupied[lane].append((left, left + tw))
                for k in range(lane + 1, n_lanes):
                    occupied[k].append((xa - 1, xa + 1))
                ly = lanes_top + lane * lane_h
                draw.line([(xa, ly + lane_h - px(3)), (xa, y0)], fill=col, width=max(1, px(1)))
                draw.text((left, ly), text, font=f_label, fill=col)
                break

    # Launches.
    r = px(5)
    uy = (uy0 + uy1) / 2
    counts: dict[str, int] = {}
    for e, (a, b) in zip(evs, spans):
        cls = e["missile_class"] or "unknown"
        counts[cls] = counts.get(cls, 0) + 1
        fill = rgb(class_color(cls))
        edge = tuple(int(c * 0.55) for c in fill)
        d = e["distance_km"]
        y = yv(d) if d is not None and d > 0 else uy
        if d is not None and e["distance_km_max"] and e["distance_km_max"] > d:
            yt = yv(e["distance_km_max"])
            x = xd((a + b) / 2)
            draw.line([(x, y), (x, yt)], fill=edge, width=max(1, px(1.5)))
            draw.line([(x - r * 0.7, yt), (x + r * 0.7, yt)], fill=edge, width=max(1, px(1.5)))
        if b > a:  # known only to the month or year
            xa, xb = xd(a), xd(b + 1)
            draw.rounded_rectangle([xa, y - px(3), max(xb, xa + px(4)), y + px(3)], radius=px(3),
                                   fill=fill, outline=edge)
        else:
            x = xd(a + 0.5)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=edge, width=max(1, px(1)))

    # Legend: classes present (with counts), then how to read the marks.
    lx, ly = x0, H - legend_h
    for cls in MISSILE_CLASSES:
        if cls not in counts:
            continue
        label = f"{'class not known' if cls == 'unknown' else cls} ({counts[cls]:,})"  # not a class
        fill = rgb(class_color(cls))
        draw.ellipse([lx, ly + px(3), lx + 2 * r, ly + px(3) + 2 * r], fill=fill,
                     outline=tuple(int(c * 0.55) for c in fill))
        draw.text((lx + 2 * r + px(5), ly), label, font=f_axis, fill=text_c)
        lx += 2 * r + px(5) + draw.textlength(label, font=f_axis) + px(18)
    note = ("Bars: date known only to the month or year · whiskers: distance range · "
            "coloured lines and bands: political calendar")
    draw.text((x0, ly + px(22)), note, font=f_small, fill=muted_c)
    return img


def timeline_png(events: pd.DataFrame, calendar: pd.DataFrame | None = None, **kwargs) -> bytes:
    """:func:`render_timeline` as PNG bytes."""
    buf = io.BytesIO()
    render_timeline(events, calendar, **kwargs).save(buf, format="PNG")
    return buf.getvalue()
