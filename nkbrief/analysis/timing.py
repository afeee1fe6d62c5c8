"""Timing analysis: how launches fall around the political calendar, tested against chance.

Counting unit: the **launch day**. Several events on one Korean calendar day (a salvo from
two sites, or separate records of one test) are one timing decision, so they count once.
Counting events would treat them as independent and overstate the evidence.

Statistic: the number of launch days that fall in the window of a calendar entry of the
chosen categories. A window is *before* (1..N days before the entry's first day), *during*
(its first to last day) or *around* (during, or within N days before). Exercises default to
during or within 7 days before; other categories to 1..30 days before.

Null models (``null``): ``shift`` (default) keeps each year's launch pattern, its campaigns
and gaps, and moves the whole pattern by one random circular offset within that year's
analysed days; ``shuffle`` places each year's launch days uniformly at random without
replacement (the hypergeometric null, which ignores clustering). For both, the null
distribution is also computed exactly (per-year distributions convolved), which gives
``p_value_exact``, ``expected`` and the 95% null interval without simulation error; the
seeded Monte Carlo gives ``p_value``. One test per chosen category (and one for any of them),
Holm-adjusted together.

Launches known only to the month or year are left out (listed under ``excluded``): their
day counts are unknown and moving them within their month would invent precision.

See docs/timing.md for the justification, the assumptions and the limitations.
"""

from __future__ import annotations

import datetime as _dt
import math
import secrets
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .context import CATEGORY_LABELS, Nearby, calendar_contexts, days_array
from ..progress import Progress, report
from ..model.schema import CALENDAR_CATEGORIES, MISSILE_CLASSES

DEFAULT_WINDOW = 30
DEFAULT_SIMULATIONS = 10_000
MAX_SIMULATIONS = 1_000_000
MAX_WINDOW = 3_650
HISTOGRAM_BIN_DAYS = 7
HISTOGRAM_MAX_DAYS = 182

UNIT = "launch day"
UNIT_NOTE = ("Launches are counted by distinct Korean launch day: several events on one day are "
             "one timing decision and count once.")
#: The null models, by the name ``--null`` takes; the sentence the JSON and the pack print.
NULL_MODELS = {
    "shift": ("Circular shift within each year: each year's launch days keep their spacing "
              "(campaigns and salvos stay together) and the whole pattern is moved by one random "
              "offset, wrapping round that year's analysed days."),
    "shuffle": ("Per-year shuffle: each year keeps its number of launch days, placed uniformly at "
                "random without replacement on that year's analysed days; it ignores clustering, so "
                "its p-values are too small when launches come in campaigns."),
}
NULL_NAMES = {"shift": "circular shift within each year", "shuffle": "per-year shuffle"}
DEFAULT_NULL = "shift"
#: Counted by default; satellite launches (SLV) are a choice.
BALLISTIC_CLASSES = ("SRBM", "MRBM", "IRBM", "ICBM", "SLBM", "HGV")
SATELLITE_CLASS = "SLV"
WINDOW_MODES = ("before", "during", "around")
#: Categories whose default window is not "1 to 30 days before".
DEFAULT_WINDOWS = {"exercise": ("around", 7)}
#: Fewer entries than this in the analysed period: the test cannot tell.
MIN_ENTRIES = 5
ADJUSTMENT = ("Holm: the p-values of the tests made together (one per category and, with several "
              "categories, one for any of them) are adjusted for their number.")

#: Singular noun phrases for the plain-words summary ("a summit or party congress").
CATEGORY_NOUNS = {
    "party_congress": "party congress",
    "plenum": "plenum",
    "spa_session": "SPA session",
    "summit": "summit",
    "exercise": "US–ROK exercise",
    "inauguration": "inauguration",
    "anniversary": "anniversary",
    "un_resolution": "UN resolution",
    "nuclear_test": "nuclear test",
    "other": "other calendar entry",
}

_EPOCH = _dt.date(1970, 1, 1)


def day_to_iso(day: int) -> str:
    """Inverse of :func:`nkbrief.analysis.context.to_day`."""
    return (_EPOCH + _dt.timedelta(days=int(day))).isoformat()


def parse_categories(values: Iterable[str] | None) -> list[str]:
    """Category names from the user: codes or labels, any case, comma lists allowed.

    Returns them in the schema's order without repeats; an empty input means every
    category. Raises ``ValueError("category 'x' is not a calendar category (...)")``.
    """
    lookup = {c: c for c in CALENDAR_CATEGORIES}
    lookup.update({_norm(label): code for code, label in CATEGORY_LABELS.items()})
    lookup.update({_norm(noun): code for code, noun in CATEGORY_NOUNS.items()})
    lookup["congress"] = "party_congress"
    chosen: set[str] = set()
    for raw in values or ():
        for part in str(raw).split(","):
            if not part.strip():
                continue
            code = lookup.get(_norm(part))
            if code is None:
                raise ValueError(f"category {part.strip()!r} is not a calendar category "
                                 f"({', '.join(CALENDAR_CATEGORIES)})")
            chosen.add(code)
    if not chosen:
        return list(CALENDAR_CATEGORIES)
    return [c for c in CALENDAR_CATEGORIES if c in chosen]


def _norm(s: str) -> str:
    return s.strip().lower().replace("-", "_").replace(" ", "_").replace("–", "_")


def category_phrase(categories: Iterable[str]) -> str:
    """'a party congress or summit'; every category -> 'any calendar entry'."""
    cats = [c for c in CALENDAR_CATEGORIES if c in set(categories)]
    if not cats or len(cats) == len(CALENDAR_CATEGORIES):
        return "any calendar entry"
    nouns = [CATEGORY_NOUNS[c] for c in cats]
    text = nouns[0] if len(nouns) == 1 else ", ".join(nouns[:-1]) + " or " + nouns[-1]
    # by sound: "an inauguration", "an SPA session", but "a US–ROK exercise", "a UN resolution"
    article = "an" if nouns[0][0] in "aeioAEIO" or nouns[0].startswith("SPA") else "a"
    return f"{article} {text}"


def format_p(p: float | None) -> str:
    """'p = 0.02', 'p = 0.004', 'p < 0.001'."""
    if p is None:
        return "p not defined"
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


# ------------------------------------------------------------------ calendar arrays
class _Entries:
    """Start/end day numbers of a set of calendar entries, for vectorised look-ups."""

    def __init__(self, calendar: pd.DataFrame, categories: Iterable[str] | None = None):
        cal = calendar if categories is None else calendar[calendar["category"].isin(list(categories))]
        self.frame = cal.reset_index(drop=True)
        n = len(self.frame)
        if n:
            self.start = days_array(self.frame["date"])
            ends = self.frame["end_date"].where(
                self.frame["end_date"].notna() & (self.frame["end_date"] != ""), self.frame["date"])
            self.end = days_array(ends)
        else:
            self.start = self.end = np.zeros(0, dtype="int64")
        self._s_order = np.argsort(self.start, kind="stable")
        self._s_sorted = self.start[self._s_order]
        self._e_order = np.argsort(self.end, kind="stable")
        self._e_sorted = self.end[self._e_order]
        # plain lists: building thousands of Nearby objects from iloc rows would be slow
        f = self.frame
        self._rows = list(zip(f["id"], f["title"], f["category"], f["date"],
                              [e if isinstance(e, str) and e else None for e in f["end_date"]])) if n else []

    def __len__(self) -> int:
        return len(self.start)

    def next_after(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each day: (entry index or -1, days until that entry starts) of the first
        entry starting strictly later. Ties go to the earlier calendar row, as in
        :func:`nkbrief.analysis.context.nearest_entries`."""
        n = len(self.start)
        if n == 0:
            return np.full(days.shape, -1), np.full(days.shape, -1)
        i = np.searchsorted(self._s_sorted, days, side="right")
        has = i < n
        ic = np.minimum(i, n - 1)
        idx = np.where(has, self._s_order[ic], -1)
        gap = np.where(has, self._s_sorted[ic] - days, -1)
        return idx, gap

    def previous_before(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each day: (entry index or -1, days since it ended) of the entry that ended
        most recently, strictly before the day."""
        n = len(self.end)
        if n == 0:
            return np.full(days.shape, -1), np.full(days.shape, -1)
        j = np.searchsorted(self._e_sorted, days, side="left") - 1
        has = j >= 0
        jc = np.maximum(j, 0)
        # among entries ending on the same day, take the first calendar row
        first = np.searchsorted(self._e_sorted, self._e_sorted[jc], side="left")
        idx = np.where(has, self._e_order[first], -1)
        gap = np.where(has, days - self._e_sorted[jc], -1)
        return idx, gap

    def nearby(self, i: int, days: int, during: bool = False) -> Nearby:
        eid, title, category, date, end = self._rows[i]
        return Nearby(eid, title, category, date, end, int(days), during)


# ------------------------------------------------------------------ per launch
def per_launch_frame(events: pd.DataFrame, calendar: pd.DataFrame) -> pd.DataFrame:
    """Day counts of every day-precision launch against every calendar category.

    Columns: ``id``, ``date``, then for each category with entries ``next_<category>``
    (days until the next entry starts) and ``since_<category>`` (days since the last one
    ended), then ``nearest_id``, ``nearest_title``, ``nearest_category`` and
    ``nearest_days`` (the nearest entry of any category: > 0 before it starts, < 0 after it
    ended, 0 on its day or while it is under way). Missing values are <NA>.
    """
    ev = _day_precision(events)
    days = days_array(ev["date"]) if len(ev) else np.zeros(0, dtype="int64")
    out = pd.DataFrame({"id": ev["id"].to_numpy(), "date": ev["date"].to_numpy()})
    for cat in CALENDAR_CATEGORIES:
        ent = _Entries(calendar, [cat])
        if not len(ent):
            continue
        _, nxt = ent.next_after(days)
        _, prv = ent.previous_before(days)
        out[f"next_{cat}"] = _int_array(nxt)
        out[f"since_{cat}"] = _int_array(prv)
    every = _Entries(calendar)
    near = [_nearest(every, int(d)) if len(every) else None for d in days]
    out["nearest_id"] = pd.Series([n.id if n else None for n in near], dtype=object)
    out["nearest_title"] = pd.Series([n.title if n else None for n in near], dtype=object)
    out["nearest_category"] = pd.Series([n.category if n else None for n in near], dtype=object)
    out["nearest_days"] = pd.array([n.days if n else None for n in near], dtype="Int64")
    return out


def _int_array(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Day counts with -1 for 'none' as a nullable integer array."""
    return pd.array([int(v) if v >= 0 else None for v in values], dtype="Int64")


def _nearest(ent: _Entries, day: int) -> Nearby | None:
    """The entry nearest in time to ``day``, in any direction (under way counts as 0)."""
    d = np.array([day])
    under = np.flatnonzero((ent.start <= day) & (ent.end >= day))
    if under.size:
        i = int(under[0])
        return ent.nearby(i, 0, during=bool(ent.end[i] > ent.start[i]))
    ni, nd = ent.next_after(d)
    pi, pd_ = ent.previous_before(d)
    cands = []
    if ni[0] >= 0:
        cands.append((int(nd[0]), 0, ent.nearby(int(ni[0]), nd[0])))
    if pi[0] >= 0:
        cands.append((int(pd_[0]), 1, ent.nearby(int(pi[0]), -pd_[0])))
    return min(cands, key=lambda c: (c[0], c[1]))[2] if cands else None


def _day_precision(events: pd.DataFrame) -> pd.DataFrame:
    if "date_precision" not in events.columns:
        return events
    prec = events["date_precision"].fillna("day")
    return events[prec == "day"]


def _ref(n: Nearby | None, *, previous: bool = False) -> dict | None:
    if n is None:
        return None
    return {"id": n.id, "title": n.title, "category": n.category, "date": n.date,
            "end_date": n.end_date, "days": abs(n.days) if previous else n.days,
            "phrase": n.phrase()}


# ------------------------------------------------------------------ the test
def _check_int(name: str, v, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= int(v) <= hi:
        raise ValueError(f"{name} {v!r} must be a whole number from {lo:,} to {hi:,}")
    return int(v)


def _hypergeom_pmf(k: int, good: int, total: int) -> np.ndarray:
    """P(X = x) for x = 0..k when k of ``total`` days are drawn and ``good`` are in the window."""
    bad = total - good
    out = np.zeros(k + 1)
    lo, hi = max(0, k - bad), min(k, good)
    if lo > hi:
        return out

    def lc(n: int, r: int) -> float:
        return math.lgamma(n + 1) - math.lgamma(r + 1) - math.lgamma(n - r + 1)

    denom = lc(total, k)
    for x in range(lo, hi + 1):
        out[x] = math.exp(lc(good, x) + lc(bad, k - x) - denom)
    return out / out.sum()


def holm(p_values: Iterable[float | None]) -> list[float | None]:
    """Holm's step-down adjustment: the i-th smallest of m p-values times (m - i + 1), made
    monotone and capped at 1. None (no test) stays None and does not count in m."""
    ps = list(p_values)
    idx = [i for i, p in enumerate(ps) if p is not None]
    m = len(idx)
    out: list[float | None] = [None] * len(ps)
    running = 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: ps[i])):
        running = max(running, min(1.0, (m - rank) * float(ps[i])))
        out[i] = running
    return out


def parse_classes(values: Iterable[str] | None) -> list[str] | None:
    """Classes from the user (repeat or comma lists, any case). Empty -> the ballistic
    default; 'all' -> None (every class); 'ballistic' and 'satellite' are shorthands."""
    lookup = {c.lower(): c for c in MISSILE_CLASSES}
    chosen: list[str] = []
    for raw in values or ():
        for part in str(raw).split(","):
            w = part.strip().lower()
            if not w:
                continue
            if w == "all":
                return None
            if w == "ballistic":
                add = list(BALLISTIC_CLASSES)
            elif w in ("satellite", "satellites"):
                add = [SATELLITE_CLASS]
            elif w in lookup:
                add = [lookup[w]]
            else:
                raise ValueError(f"class {part.strip()!r} is not a missile class "
                                 f"({', '.join(MISSILE_CLASSES)}, ballistic, satellite, all)")
            chosen += [c for c in add if c not in chosen]
    if not chosen:
        return list(BALLISTIC_CLASSES)
    return [c for c in MISSILE_CLASSES if c in chosen]


def classes_phrase(classes: Iterable[str] | None, include_failed: bool = True) -> str:
    """'ballistic launches (SRBM, MRBM, IRBM, ICBM, SLBM, HGV), failed ones included'."""
    if classes is None:
        text = "launches of every class"
    else:
        cl = list(classes)
        base = [c for c in BALLISTIC_CLASSES if c in cl]
        rest = [c for c in cl if c not in BALLISTIC_CLASSES]
        if len(base) == len(BALLISTIC_CLASSES):
            text = "ballistic launches (" + ", ".join(BALLISTIC_CLASSES) + ")"
            if rest:
                text += " and " + ", ".join("satellite launches (SLV)" if c == SATELLITE_CLASS else c
                                            for c in rest)
        else:
            text = ", ".join(cl) + " launches"
    return text + (", failed ones included" if include_failed else ", failed ones left out")


def window_spec(category: str, window: int | None = None, when: str | None = None) -> dict:
    """The window of one category: ``{"mode", "days", "phrase"}``.

    Defaults: exercises during or within 7 days before (``around``, 7); every other category
    1 to 30 days before. ``window`` alone sets the days of the categories whose default is
    *before*; with ``when`` both apply to every category.
    """
    d_mode, d_days = DEFAULT_WINDOWS.get(category, ("before", DEFAULT_WINDOW))
    if when is None:
        mode = d_mode
        days = window if window is not None and category not in DEFAULT_WINDOWS else d_days
    else:
        mode = when
        days = window if window is not None else (d_days if mode == d_mode else DEFAULT_WINDOW)
    days = 0 if mode == "during" else int(days)
    return {"mode": mode, "days": days, "phrase": _mode_phrase(mode, days)}


def _mode_phrase(mode: str, days: int) -> str:
    unit = "day" if days == 1 else "days"
    if mode == "during":
        return "during"
    if mode == "around":
        return f"during or within {days} {unit} before"
    return f"within {days} {unit} before"


def windows_phrase(windows: dict[str, dict], cats: list[str]) -> str:
    """'within 30 days before a party congress or summit, or during or within 7 days before
    a US–ROK exercise'."""
    groups: dict[str, list[str]] = {}
    for c in cats:
        groups.setdefault(windows[c]["phrase"], []).append(c)
    if len(groups) == 1:
        return f"{next(iter(groups))} {category_phrase(cats)}"
    if len(cats) == len(CALENDAR_CATEGORIES):
        main = max(groups, key=lambda g: len(groups[g]))
        others = "; ".join(f"{g} for {category_phrase(cs)[2:].lstrip()}s" if len(cs) == 1 else
                           f"{g} for " + category_phrase(cs) for g, cs in groups.items() if g != main)
        return f"{main} any calendar entry ({others})"
    return ", or ".join(f"{g} {category_phrase(cs)}" for g, cs in groups.items())


def _check_choice(name: str, v, choices) -> str:
    if v not in choices:
        raise ValueError(f"{name} {v!r} must be one of {', '.join(choices)}")
    return v


def _window_mask(entries: _Entries, spec: dict, lo: int, hi: int) -> tuple[np.ndarray, int]:
    """Which days lo..hi lie in the window of any of ``entries``; and how many entries have
    a window that reaches into lo..hi."""
    n = hi - lo + 1
    if not len(entries):
        return np.zeros(n, bool), 0
    s, e, days = entries.start, entries.end, spec["days"]
    if spec["mode"] == "before":
        a, b = s - days, s - 1
    elif spec["mode"] == "during":
        a, b = s, e
    else:
        a, b = s - days, e
    inside = (b >= lo) & (a <= hi)
    a, b = np.clip(a[inside], lo, hi) - lo, np.clip(b[inside], lo, hi) - lo
    diff = np.zeros(n + 1, dtype="int64")
    np.add.at(diff, a, 1)
    np.add.at(diff, b + 1, -1)
    return np.cumsum(diff[:-1]) > 0, int(inside.sum())


def _null_test(mask: np.ndarray, lo: int, launch_days: np.ndarray, y_lo: np.ndarray, y_hi: np.ndarray,
               null: str, rng: np.random.Generator, simulations: int) -> dict:
    """The window count of one test and its null distribution (exact and Monte Carlo)."""
    observed = int(mask[launch_days - lo].sum())
    pmf = np.ones(1)
    expected = 0.0
    tables = []
    ks, ws, ds = [], [], []
    for a, b in zip(y_lo, y_hi):
        w_y = mask[a - lo:b - lo + 1]
        dy = int(b - a + 1)
        off = launch_days[(launch_days >= a) & (launch_days <= b)] - a
        ky, wy = len(off), int(w_y.sum())
        ks.append(ky), ws.append(wy), ds.append(dy)
        expected += ky * wy / dy
        if null == "shuffle":
            pmf = np.convolve(pmf, _hypergeom_pmf(ky, wy, dy))
        else:
            # the count for every circular shift s of this year's pattern
            counts = w_y[(off[:, None] + np.arange(dy)[None, :]) % dy].sum(axis=0)
            tables.append(counts)
            pmf = np.convolve(pmf, np.bincount(counts, minlength=ky + 1) / dy)
    pmf = pmf / pmf.sum()
    xs = np.arange(len(pmf))
    var = float((pmf * (xs - expected) ** 2).sum())
    cdf = np.cumsum(pmf)
    q_lo = int(np.searchsorted(cdf, 0.025 - 1e-12))
    q_hi = int(np.searchsorted(cdf, 0.975 - 1e-12))
    p_exact = float(min(1.0, pmf[observed:].sum()))
    k, w, d = np.array(ks), np.array(ws), np.array(ds)
    draws = np.empty(simulations, dtype="int64")
    chunk = 20_000
    if null == "shift":
        table = np.zeros((len(tables), int(d.max())), dtype="int64")
        for i, t in enumerate(tables):
            table[i, :len(t)] = t
        rows = np.arange(len(tables))
    for start in range(0, simulations, chunk):
        n = min(chunk, simulations - start)
        if null == "shuffle":
            draws[start:start + n] = rng.hypergeometric(w, d - w, k, size=(n, len(k))).sum(axis=1)
        else:
            shifts = (rng.random((n, len(k))) * d).astype("int64")
            draws[start:start + n] = table[rows, shifts].sum(axis=1)
    p_value = float((1 + np.count_nonzero(draws >= observed)) / (1 + simulations))
    ratio = observed / expected if expected > 0 else None
    interval = None
    if expected > 0:
        interval = [max(0.0, (observed - (q_hi - expected)) / expected),
                    (observed + (expected - q_lo)) / expected]
    return {"within_window": observed, "expected": expected, "ratio": ratio,
            "rate_ratio_interval": interval, "excess": observed - expected,
            "p_value": p_value, "p_value_exact": p_exact, "null_sd": math.sqrt(var),
            "null_interval": [q_lo, q_hi], "days_in_window": int(w.sum())}


def verdict(test: dict, family: int) -> str:
    """The wording follows the Holm-adjusted p: 'consistent with random timing' or 'more than
    random timing would usually produce'; 'rarely' only when the adjusted p is below 0.05.
    With fewer than MIN_ENTRIES entries in the period: the test cannot tell."""
    if test.get("expected") is None:
        return "No launches with a known day in this scope, so there is nothing to test."
    n = test["entries_in_period"]
    if n < MIN_ENTRIES:
        what = "entry of this kind falls" if n == 1 else "entries of this kind fall"
        return (f"The test cannot tell: only {n} calendar {what} in the analysed "
                f"period, too few to tell timing from chance (it needs at least {MIN_ENTRIES}).")
    adj = test["p_adjusted"]
    padj = format_p(adj).replace("p ", "adjusted p ", 1)
    if adj < 0.05:
        return (f"That is more than random timing would usually produce ({padj}); random timing "
                f"would rarely produce so many.")
    text = f"That is consistent with random timing ({padj})."
    if test["p_value"] < 0.05 and family > 1:
        text += (f" The unadjusted {format_p(test['p_value'])} does not survive the correction for "
                 f"{family} tests.")
    return text


def timing_analysis(events: pd.DataFrame, calendar: pd.DataFrame, categories: Iterable[str] | None = None,
                    *, window: int | None = None, when: str | None = None, null: str = DEFAULT_NULL,
                    classes: Iterable[str] | None = BALLISTIC_CLASSES, include_failed: bool = True,
                    date_from: str | None = None, date_to: str | None = None,
                    observed_until: str | None = None, seed: int | None = None,
                    simulations: int = DEFAULT_SIMULATIONS, per_launch: bool = True,
                    progress: Progress | None = None) -> dict:
    """Test whether launches cluster in the windows of entries of ``categories``.

    ``events``: a frame with ``id``, ``date`` (Korean ISO date) and optionally
    ``date_precision``, ``missile_class``, ``outcome`` (e.g. ``Store.events_frame()``).
    ``calendar``: ``Store.calendar_frame()``. ``categories``: codes (None/empty = all).
    ``window``/``when``: days and mode (``before``, ``during``, ``around`` = during or within
    N days before) for every category; left out, each category takes its default
    (:func:`window_spec`). ``null``: ``shift`` (default, keeps clustering) or ``shuffle``.
    ``classes``: the missile classes counted (default ballistic only; None = every class).
    ``include_failed`` False leaves failed launches out.
    ``date_from``/``date_to`` bound the analysis period (events outside are ignored; the
    null only uses days inside). ``observed_until`` is the last day the data covers (the
    null never moves a launch past it); by default the latest launch in ``events``.
    ``seed`` None picks a fresh one; the seed used is in the result. ``per_launch`` False
    leaves the per-launch list empty (for callers that only need the test).

    One test per chosen category and, when several are chosen, one for any of them; the
    Holm adjustment runs over that family. The top-level numbers are the last test (any of
    the chosen categories). Returns a JSON-ready dict; see docs/timing.md ("The result").
    """
    cats = parse_categories(categories)
    if window is not None:
        window = _check_int("window", window, 1, MAX_WINDOW)
    if when is not None:
        _check_choice("when", when, WINDOW_MODES)
    null = _check_choice("null", null, NULL_MODELS)
    simulations = _check_int("simulations", simulations, 1, MAX_SIMULATIONS)
    if classes is not None:
        bad = [c for c in classes if c not in MISSILE_CLASSES]
        if bad:
            raise ValueError(f"class {bad[0]!r} is not a missile class ({', '.join(MISSILE_CLASSES)})")
        classes = [c for c in MISSILE_CLASSES if c in set(classes)]
    if seed is None:
        seed = secrets.randbelow(2**31)
    seed = _check_int("seed", seed, 0, 2**63 - 1)
    for name, v in (("date_from", date_from), ("date_to", date_to), ("observed_until", observed_until)):
        if v is not None:
            try:
                _dt.date.fromisoformat(v)
            except (TypeError, ValueError):
                raise ValueError(f"{name} {v!r} is not a date (YYYY-MM-DD)") from None
    report(progress, 0, 3, "preparing")
    windows = {c: window_spec(c, window, when) for c in cats}
    main_window = window if window is not None else DEFAULT_WINDOW

    ev = events
    if date_from:
        ev = ev[ev["date"] >= date_from]
    if date_to:
        ev = ev[ev["date"] <= date_to]
    left_out = {"class": 0, "failed": 0, "date_precision": 0}
    class_counts: dict[str, int] = {}
    if classes is not None:
        if "missile_class" not in ev.columns:
            raise ValueError("the events have no missile_class column; pass classes=None to count "
                             "every launch")
        cls = ev["missile_class"].fillna("unknown")
        keep = cls.isin(classes)
        class_counts = {str(k): int(v) for k, v in cls[~keep].value_counts().sort_index().items()}
        left_out["class"] = int((~keep).sum())
        ev = ev[keep]
    if not include_failed and "outcome" in ev.columns:
        failed = ev["outcome"] == "failure"
        left_out["failed"] = int(failed.sum())
        ev = ev[~failed]
    day_ev = _day_precision(ev)
    excluded = [{"id": r["id"], "date": r["date"], "date_precision": r["date_precision"],
                 "reason": f"date known only to the {r['date_precision']}"}
                for _, r in ev[~ev.index.isin(day_ev.index)].iterrows()]
    left_out["date_precision"] = len(excluded)
    day_ev = day_ev.sort_values(["date", "id"], kind="stable")
    ev_days = days_array(day_ev["date"]) if len(day_ev) else np.zeros(0, dtype="int64")
    launch_days = np.unique(ev_days)
    entries = _Entries(calendar, cats)
    multi = len(cats) > 1

    base = {
        "category": cats,
        "category_phrase": category_phrase(cats),
        "window_days": main_window,
        "windows": windows,
        "windows_phrase": windows_phrase(windows, cats),
        "null": null,
        "null_name": NULL_NAMES[null],
        "null_model": NULL_MODELS[null],
        "classes": classes,
        "include_failed": include_failed,
        "counted": classes_phrase(classes, include_failed),
        "left_out": left_out,
        "left_out_by_class": class_counts,
        "unit": UNIT,
        "unit_note": UNIT_NOTE,
        "adjustment": ADJUSTMENT,
        "seed": seed,
        "simulations": simulations,
        "events": int(len(day_ev)),
        "launches": int(len(launch_days)),
        "calendar_entries": int(len(entries)),
        "excluded": excluded,
    }
    if not len(launch_days):
        nothing = "No launches with a known day in this scope, so there is nothing to test."
        return base | {
            "date_from": date_from, "date_to": date_to, "within_window": 0, "within_window_events": 0,
            "expected": None, "ratio": None, "rate_ratio_interval": None, "excess": None,
            "p_value": None, "p_value_exact": None, "p_adjusted": None, "entries_in_period": 0,
            "can_tell": False, "verdict": nothing, "null_sd": None, "null_interval": None,
            "family_size": 0, "tests": [], "years": [], "per_launch": [],
            "histogram": _histogram(np.zeros(0, "int64"), np.zeros(0, "int64"), np.zeros(0), main_window),
            "summary": nothing,
        }

    # --- the analysis period and each year's part of it
    first_year = int(day_to_iso(launch_days[0])[:4])
    lo = _to_day(date_from) if date_from else _to_day(f"{first_year}-01-01")
    until = _to_day(observed_until) if observed_until else int(launch_days[-1])
    until = max(until, int(launch_days[-1]))
    hi = min(_to_day(date_to), until) if date_to else until
    years_of = np.array([int(day_to_iso(d)[:4]) for d in launch_days])
    years = np.unique(years_of)
    y_lo = np.array([max(lo, _to_day(f"{y}-01-01")) for y in years])
    y_hi = np.array([min(hi, _to_day(f"{y}-12-31")) for y in years])
    y_days = y_hi - y_lo + 1
    k = np.array([(years_of == y).sum() for y in years])

    # --- one window mask per category over the period; the union for "any of them"
    masks, in_period = {}, {}
    for c in cats:
        masks[c], in_period[c] = _window_mask(_Entries(calendar, [c]), windows[c], lo, hi)
    union = np.zeros(hi - lo + 1, bool)
    for c in cats:
        union |= masks[c]
    family = [(c, masks[c], in_period[c]) for c in cats]
    if multi:
        family.append((None, union, sum(in_period.values())))

    report(progress, 1, 3, "simulating")
    tests = []
    for i, (c, mask, n_in) in enumerate(family):
        rng = np.random.default_rng([seed, i])
        t = _null_test(mask, lo, launch_days, y_lo, y_hi, null, rng, simulations)
        label = CATEGORY_LABELS.get(c, c) if c else "Any of them"
        tests.append({"category": c, "label": label,
                      "window": windows[c] if c else None,
                      "calendar_entries": int(len(_Entries(calendar, [c]))) if c else int(len(entries)),
                      "entries_in_period": int(n_in), "can_tell": n_in >= MIN_ENTRIES} | t)
        report(progress, 1, 3, f"simulating ({i + 1} of {len(family)} tests)")
    for t, adj in zip(tests, holm([t["p_value"] for t in tests])):
        t["p_adjusted"] = adj
    for t in tests:
        t["verdict"] = verdict(t, len(tests))
    top = tests[-1]
    report(progress, 2, 3, "per-launch table")

    # --- per launch
    l_within = union[launch_days - lo]
    within_set = set(launch_days[l_within].tolist())
    launch_rows = (_per_launch_records(day_ev, ev_days, calendar, entries, within_set)
                   if per_launch else [])
    l_year = np.searchsorted(years, years_of)
    year_rows = []
    for i, y in enumerate(years):
        wy = int(union[y_lo[i] - lo:y_hi[i] - lo + 1].sum())
        year_rows.append({
            "year": int(y), "period_from": day_to_iso(y_lo[i]), "period_to": day_to_iso(y_hi[i]),
            "days": int(y_days[i]), "window_days_in_year": wy, "launches": int(k[i]),
            "within_window": int(l_within[l_year == i].sum()), "expected": float(k[i] * wy / y_days[i]),
        })
    all_days = np.concatenate([np.arange(a, b + 1) for a, b in zip(y_lo, y_hi)])
    year_idx = np.repeat(np.arange(len(years)), y_days)
    _, all_next = entries.next_after(all_days)
    _, l_next = entries.next_after(launch_days)
    weights = (k / y_days)[year_idx]
    hist = _histogram(l_next, all_next, weights, main_window)
    result = base | {
        "date_from": day_to_iso(lo), "date_to": day_to_iso(hi),
        "within_window_events": int(np.isin(ev_days, launch_days[l_within]).sum()),
        "family_size": len(tests),
        **{key: top[key] for key in ("within_window", "expected", "ratio", "rate_ratio_interval",
                                     "excess", "p_value", "p_value_exact", "p_adjusted",
                                     "entries_in_period", "can_tell", "verdict", "null_sd",
                                     "null_interval")},
        "tests": tests,
        "years": year_rows,
        "per_launch": launch_rows,
        "histogram": hist,
    }
    result["summary"] = summary_text(result)
    report(progress, 3, 3, "done")
    return result


def _to_day(iso: str) -> int:
    return (_dt.date.fromisoformat(iso) - _EPOCH).days


def _per_launch_records(day_ev: pd.DataFrame, ev_days: np.ndarray, calendar: pd.DataFrame,
                        entries: _Entries, within_set: set) -> list[dict]:
    ni, nd = entries.next_after(ev_days)
    pi, pdays = entries.previous_before(ev_days)
    every = _Entries(calendar)
    # the one calendar context (nkbrief.analysis.context), as the detail pane, show and the pack give it
    contexts = calendar_contexts(day_ev["date"], calendar)
    by_cat = {}
    for cat in CALENDAR_CATEGORIES:
        ent = _Entries(calendar, [cat])
        if len(ent):
            by_cat[cat] = (ent.next_after(ev_days)[1], ent.previous_before(ev_days)[1])
    under = ((entries.start[None, :] <= ev_days[:, None]) & (entries.end[None, :] >= ev_days[:, None])
             if len(entries) else np.zeros((len(ev_days), 0), bool))
    cls = day_ev["missile_class"].tolist() if "missile_class" in day_ev.columns else [None] * len(day_ev)
    out = []
    for r, (eid, date) in enumerate(zip(day_ev["id"], day_ev["date"])):
        nxt = entries.nearby(int(ni[r]), nd[r]) if ni[r] >= 0 else None
        prv = entries.nearby(int(pi[r]), -pdays[r]) if pi[r] >= 0 else None
        during = [entries.nearby(int(j), entries.start[j] - ev_days[r],
                                 during=bool(entries.end[j] > entries.start[j]))
                  for j in np.flatnonzero(under[r])]
        near = _nearest(every, int(ev_days[r])) if len(every) else None
        out.append({
            "id": eid, "date": date, "missile_class": cls[r] if isinstance(cls[r], str) else None,
            "within_window": int(ev_days[r]) in within_set,
            "next": _ref(nxt), "previous": _ref(prv, previous=True),
            "during": [_ref(d) for d in during],
            "nearest": None if near is None else {**_ref(near), "days": near.days},
            "calendar_context": [c.phrase() for c in contexts[r]],
            "by_category": {c: {"next": int(a[r]) if a[r] >= 0 else None,
                                "previous": int(b[r]) if b[r] >= 0 else None}
                            for c, (a, b) in by_cat.items()},
        })
    return out


def histogram_bins(window: int) -> tuple[int, int]:
    """(bin width, last edge) so that the window ends on a bin edge when it can.

    A week when the window is a whole number of weeks, else the first of 6, 5, 8, 10, 4, 9, 3
    (and 2, 1 for windows up to 14 days) that divides it into at most 40 bins (30 days ->
    6-day bins), else a week; the histogram reaches at least 182 days and twice the window
    (at most 730).
    """
    width = HISTOGRAM_BIN_DAYS
    for w in (7, 6, 5, 8, 10, 4, 9, 3) + ((2, 1) if window <= 14 else ()):
        if window % w == 0 and window // w <= 40:
            width = w
            break
    reach = min(max(HISTOGRAM_MAX_DAYS, 2 * window), 730)
    return width, int(-(-reach // width) * width)


def _histogram(launch_next: np.ndarray, day_next: np.ndarray, day_weights: np.ndarray,
               window: int = DEFAULT_WINDOW) -> dict:
    """Observed launch days, and the expectation under the null, by days to the next entry.

    Bin i holds ``edges[i] < days <= edges[i+1]`` (see :func:`histogram_bins`); ``beyond`` is
    past the last edge; ``none`` means no later entry of the chosen categories is in the
    calendar.
    """
    bin_days, max_days = histogram_bins(window)
    edges = np.arange(0, max_days + bin_days, bin_days)

    def count(values: np.ndarray, weights=None):
        has = values >= 1
        v = values[has]
        wts = None if weights is None else weights[has]
        inner = v <= max_days
        h = np.histogram(v[inner], bins=edges + 0.5, weights=None if wts is None else wts[inner])[0]
        beyond = float((~inner).sum() if wts is None else wts[~inner].sum())
        none = float((~has).sum() if weights is None else weights[~has].sum())
        return h, beyond, none

    obs, ob_beyond, ob_none = count(launch_next)
    exp, ex_beyond, ex_none = count(day_next, day_weights)
    return {
        "bin_days": bin_days, "edges": [int(e) for e in edges],
        "observed": [int(x) for x in obs], "expected": [float(x) for x in exp],
        "beyond": int(ob_beyond), "beyond_expected": ex_beyond,
        "none": int(ob_none), "none_expected": ex_none,
    }


def _period_phrase(result: dict) -> str:
    a, b = result["date_from"], result["date_to"]
    if a[:4] == b[:4]:
        return f"in {a[:4]}"
    if a.endswith("-01-01"):  # the last year may end at the data's last day; still "in A–B"
        return f"in {a[:4]}–{b[:4]}"
    return f"from {a} to {b}"


def summary_text(result: dict) -> str:
    """The test in plain words: '2 of 14 launch days in 2026 fell within 30 days before ...;
    random timing (...) would give about 1.3 (rate ratio 1.5, 95% interval 0.0–3.1; p = 0.41).
    That is consistent with random timing (adjusted p = 0.62).' The verdict follows the
    Holm-adjusted p (:func:`verdict`)."""
    n, x = result["launches"], result["within_window"]
    if not n:
        return "No launches with a known day in this scope, so there is nothing to test."
    unit = "launch day" if n == 1 else "launch days"
    text = (f"{x} of {n} {unit} {_period_phrase(result)} fell {result['windows_phrase']}; "
            f"random timing ({result['null_name']}) would give about {result['expected']:.1f}")
    if result["calendar_entries"] == 0:
        return text + ". The calendar has no entries of the chosen categories."
    rr, ci = result["ratio"], result["rate_ratio_interval"]
    if rr is not None and ci is not None:
        text += (f" (rate ratio {rr:.1f}, 95% interval {ci[0]:.1f}–{ci[1]:.1f}; "
                 f"{format_p(result['p_value'])}).")
    else:
        text += f" ({format_p(result['p_value'])})."
    text += " " + result["verdict"]
    for t in result.get("tests", [])[:-1] if result.get("family_size", 0) > 1 else []:
        if t["can_tell"] and t["p_adjusted"] is not None and t["p_adjusted"] < 0.05:
            text += (f" {t['label']} alone: {t['within_window']} launch days, more than random timing "
                     f"would usually produce ({format_p(t['p_adjusted']).replace('p ', 'adjusted p ', 1)}).")
    if result["excluded"]:
        k = len(result["excluded"])
        text += f" {k} launch{'es' if k != 1 else ''} known only to the month or year left out."
    return text


# ------------------------------------------------------------------ for the briefing pack
#: Assumptions and limitations, said once for the pack, the view and the docs.
ASSUMPTIONS = (
    "Counting unit: distinct Korean launch days; several events on one day count once.",
    "Launches counted: ballistic classes (SRBM, MRBM, IRBM, ICBM, SLBM, HGV) unless another choice is "
    "stated; satellite launches are a choice; failed launches count unless left out on purpose.",
    "Windows: 'before' is 1 to N days before an entry's first day, 'during' its first to last day, "
    "'around' during or within N days before. Exercises default to during or within 7 days before.",
    "Null model 'shift' (default) keeps each year's launch pattern and moves it by one random circular "
    "offset within the year, so campaigns stay together; 'shuffle' places launch days independently and "
    "ignores clustering, which makes its p-values too small for clustered launches.",
    "Each year keeps its own launches and only its analysed days (the last year ends at the last day "
    "the data covers), so busy and quiet years are not mixed.",
    "One-sided test for more launches in the windows than chance; p = (k + 1) / (n + 1) over n "
    "simulations, so it is never 0. The exact p-value is computed too.",
    "Several tests at once (one per category, and one for any of them) are Holm-adjusted; the wording "
    "follows the adjusted p-value.",
    "Rate ratio = observed / expected; its 95% interval is the observed count shifted by the null "
    "distribution's central 95% spread, divided by the expected count.",
    "With fewer than 5 entries of a category in the analysed period the test cannot tell: there is too "
    "little to tell timing from chance, whatever the p-value.",
    "The calendar is not random either: many entries are announced in advance, recur at the same "
    "time each year, or were chosen by the same leadership that times launches.",
    "Association is not intent: a small p-value says the pattern is unusual under random timing, "
    "not why launches were timed that way.",
    "Launches known only to the month or year are left out of the day counts and the test.",
)


def _date(iso: str | None) -> _dt.date | None:
    return _dt.date.fromisoformat(iso) if iso else None


def timing_sheet_sections(result: dict) -> list[dict]:
    """The "Timing analysis" sheet as sections the pack writer can style.

    Each section is ``{"title", "kind", "header", "rows"}``. ``kind`` is ``"pairs"``
    (label, value), ``"notes"`` (one text cell per row), or ``"table"`` (``header`` names
    the columns). Dates are ``datetime.date``; numbers are numbers; text from the data
    (titles) is raw and must be written formula-safe. The section titled
    "Days to the next entry" has ``"chart": True``: a column chart of observed launch days
    with the expected count as a second series.
    """
    r = result
    lo_hi = r.get("null_interval") or [None, None]
    ci = r.get("rate_ratio_interval") or [None, None]
    left = r.get("left_out") or {}
    test = [
        ("Result", r["summary"]),
        ("Categories", ", ".join(CATEGORY_LABELS.get(c, c) for c in r["category"])),
        ("Windows", r["windows_phrase"]),
        ("Launches counted", r["counted"]),
        ("Null model", f"{r['null']}: {r['null_model']}"),
        ("Several tests", r["adjustment"]),
        ("Period from", _date(r.get("date_from"))),
        ("Period to", _date(r.get("date_to"))),
        ("Launch days analysed", r["launches"]),
        ("Events analysed", r["events"]),
        ("Launch days within the windows", r["within_window"]),
        ("Expected under random timing", r["expected"]),
        ("Rate ratio (observed / expected)", r["ratio"]),
        ("Rate ratio, 95% interval from", ci[0]),
        ("Rate ratio, 95% interval to", ci[1]),
        ("p-value (Monte Carlo)", r["p_value"]),
        ("p-value, Holm-adjusted", r["p_adjusted"]),
        ("p-value (exact)", r["p_value_exact"]),
        ("95% of the null, from", lo_hi[0]),
        ("95% of the null, to", lo_hi[1]),
        ("Simulations", r["simulations"]),
        ("Seed", r["seed"]),
        ("Left out: other classes", left.get("class", 0)),
        ("Left out: failed launches", left.get("failed", 0)),
        ("Left out: month or year only", left.get("date_precision", len(r["excluded"]))),
    ]
    def ci_text(t: dict) -> str | None:
        if t["ratio"] is None:
            return None
        ci = t["rate_ratio_interval"]
        return f"{t['ratio']:.2f} ({ci[0]:.2f}–{ci[1]:.2f})" if ci else f"{t['ratio']:.2f}"

    # what prints first (the pack prints 8 columns): the reading, the ratio and both p-values
    tests = [[t["label"], t["entries_in_period"], t["within_window"], t["verdict"],
              t["window"]["phrase"] if t["window"] else "any of the above", ci_text(t),
              t["p_value"], t["p_adjusted"], t["expected"],
              (t["rate_ratio_interval"] or [None, None])[0], (t["rate_ratio_interval"] or [None, None])[1]]
             for t in r.get("tests", [])]
    h = r["histogram"]
    # Binned over the data's range: trailing bins that neither launches nor chance reach
    # (nothing observed, under 0.005 expected) are left out; "more than" starts after the last kept.
    filled = [i for i, (o, e) in enumerate(zip(h["observed"], h["expected"])) if o or e >= 0.005]
    keep = (filled[-1] + 1) if filled else 1
    hist_rows = [[f"{a + 1}–{b}", o, e]
                 for a, b, o, e in zip(h["edges"][:keep], h["edges"][1:keep + 1], h["observed"][:keep],
                                       h["expected"][:keep])]
    hist_rows.append([f"more than {h['edges'][keep]}", h["beyond"] + sum(h["observed"][keep:]),
                      h["beyond_expected"] + sum(h["expected"][keep:])])
    hist_rows.append(["no later entry", h["none"], h["none_expected"]])
    per = []
    for p in r["per_launch"]:
        n, v = p["next"], p["previous"]
        per.append([_date(p["date"]), p["id"], p.get("missile_class"),
                    "yes" if p["within_window"] else "no",
                    n["title"] if n else None, _date(n["date"]) if n else None, n["days"] if n else None,
                    v["title"] if v else None, _date(v["end_date"] or v["date"]) if v else None,
                    v["days"] if v else None, "; ".join(p.get("calendar_context") or []) or None])
    years = [[y["year"], _date(y["period_from"]), _date(y["period_to"]), y["days"],
              y["window_days_in_year"], y["launches"], y["within_window"], y["expected"]]
             for y in r["years"]]
    return [
        {"title": "Timing analysis", "kind": "pairs", "header": ["", ""], "rows": test},
        {"title": "Tests (Holm-adjusted together)", "kind": "table",
         "header": ["Category", "Entries in the period", "Launch days in the window", "Reading",
                    "Window", "Rate ratio (95% interval)", "p-value", "Adjusted p-value",
                    "Expected", "Rate ratio, 95% from", "Rate ratio, 95% to"], "rows": tests},
        {"title": "Days to the next entry", "kind": "table", "chart": True,
         "header": ["Days to the next entry", "Launch days", "Expected under random timing"],
         "rows": hist_rows},
        {"title": "By year", "kind": "table",
         "header": ["Year", "Period from", "Period to", "Days", "Days in the window", "Launch days",
                    "Within the window", "Expected"], "rows": years},
        {"title": "Per launch", "kind": "table",
         "header": ["Date (KST)", "Event id", "Class", "Within the window", "Next entry",
                    "Next entry starts", "Days to it", "Previous entry", "Previous entry ended",
                    "Days since", "Calendar context"], "rows": per},
        {"title": "Assumptions and limitations", "kind": "notes", "header": [],
         "rows": [[a] for a in ASSUMPTIONS]},
    ]


def timing_sheet_rows(result: dict) -> list[list]:
    """The sections of :func:`timing_sheet_sections` flattened to rows: a title row, the
    header row (tables only), the rows, then one blank row between sections."""
    rows: list[list] = []
    for sec in timing_sheet_sections(result):
        rows.append([sec["title"]])
        if sec["kind"] == "table":
            rows.append(list(sec["header"]))
        rows.extend(list(r) for r in sec["rows"])
        rows.append([])
    return rows[:-1]
