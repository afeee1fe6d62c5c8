"""Group per-missile CNS and nagix rows and CSIS launch rows into launch events, with Korean dates.

The grouping the importer runs when an analyst imports a public file (a CNS database, a nagix
``test.en.json`` or the CSIS provocations CSV; see :mod:`nkbrief.importing.io.public`), and the
same code the bundled dataset is built with (``scripts/dataset/reconcile.py`` adds what only the
build needs: the news notes, the confirmation rule, the numeric cross-check, the analyst decisions).
One event per launch episode (Korean date + site + class) and its per-missile rows.

The central problem is the date basis. CNS (and nagix, which copies it) files a launch
under the UTC date in most rows but under the Korean date in some; the two differ only
when the UTC time is 15:00 or later. For every such group the Korean date is decided from
local-date evidence — a CSIS row on one of the two candidate dates, and month/day
mentions in the CNS or nagix text — and the decision is written into the event notes.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..model import parse, schema
from .io.csis import parse_leader

CNS_CITATION = ("James Martin Center for Nonproliferation Studies (CNS), CNS North Korea Missile "
                "Test Database, Nuclear Threat Initiative")
CSIS_CITATION = "CSIS Beyond Parallel, Database of North Korean Provocations"
NAGIX_CITATION = "nagix/nk-missile-tests (data/test.en.json, based on the CNS database)"

#: Classes that can describe the same ballistic launch when sources label it differently.
BALLISTIC = {"SRBM", "CRBM", "MRBM", "IRBM", "ICBM", "SLBM", "HGV", "SLV", "unknown"}

LANDING_NAMES = {
    "sea of japan or east sea": "East Sea (Sea of Japan)",
    "yellow sea or west sea": "Yellow Sea (West Sea)",
    "pacific ocean": "Pacific Ocean",
}
#: Obvious spelling slips in nagix facility names, corrected for display (see DATA_SOURCES.md).
NAGIX_NAME_FIXES = {"missle": "missile", "Wast Sunan": "West Sunan"}

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_MON_RE = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
_MD = re.compile(r"\b" + _MON_RE + r"\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?!:)")
_DM = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MON_RE + r"\b")
_TRIVIAL = re.compile(r"^\(?\d+ of \d+(?: tests?)?\)?\.?$", re.I)
_STATE_MEDIA = re.compile(r"state media|KCNA|Rodong|Korean Central News|according to North Korea", re.I)
_FAILED = re.compile(r"\b(failed|failure|exploded|malfunction\w*|blew up|broke apart)\b", re.I)


def add_days(date: str, n: int) -> str:
    return (_dt.date.fromisoformat(date) + _dt.timedelta(days=n)).isoformat()


def day_diff(a: str, b: str) -> int:
    return (_dt.date.fromisoformat(a) - _dt.date.fromisoformat(b)).days


def month_days(text: str | None) -> set[tuple[int, int]]:
    """(month, day) pairs mentioned in prose: 'June 22', '22 June', 'Jan. 17'."""
    out: set[tuple[int, int]] = set()
    for m in _MD.finditer(text or ""):
        out.add((parse.MONTHS[m.group(1)[:3].lower()], int(m.group(2))))
    for m in _DM.finditer(text or ""):
        out.add((parse.MONTHS[m.group(2)[:3].lower()], int(m.group(1))))
    return {(mo, d) for mo, d in out if 1 <= d <= 31}


def _md(date: str) -> tuple[int, int]:
    d = _dt.date.fromisoformat(date)
    return d.month, d.day


def fmt_km(v: float | None) -> str:
    if v is None:
        return "?"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def landing_name(v: str | None) -> str | None:
    if v is None:
        return None
    return LANDING_NAMES.get(v.strip().lower(), v.strip())


def dedupe(items) -> list:
    """Truthy items in first-seen order, each once."""
    seen, out = set(), []
    for x in items:
        if x and x not in seen:
            seen.add(x)
            out.append(x)
    return out


# ============================================================================= model

@dataclass
class Shot:
    """One missile from CNS or nagix, before and after the date decision."""

    src: str  # 'cns' or 'nagix'
    ref: str  # 'CNS F1 84', 'nagix record 312'
    num: int  # CNS F1 / nagix record number
    raw_date: str
    precision: str
    clock: str | None  # UTC HH:MM as written
    name: str | None
    cls: str
    site: str | None
    site_key: str | None
    lat: float | None
    lon: float | None
    landing: str | None
    apo: float | None
    apo_max: float | None
    dist: float | None
    dist_max: float | None
    outcome: str
    confirmation: str | None
    text: str | None
    sources: list[str]
    other_name: str | None = None
    kst_date: str | None = None
    time_utc: str | None = None
    time_kst: str | None = None
    fix_note: str | None = None  # an analyst correction of this row's values, with its reason


@dataclass
class Ev:
    """An event under construction. ``news`` to ``csis_siblings`` are set only by the dataset
    build (scripts/dataset/reconcile.py); the importer leaves them empty."""

    origin: str  # 'cns', 'nagix', 'csis'
    date: str
    precision: str
    cls: str
    site: str | None
    site_key: str | None
    shots: list[Shot] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    csis: list[tuple[dict, str]] = field(default_factory=list)  # (row, how matched)
    notes: list[str] = field(default_factory=list)
    basis: dict | None = None
    values: dict = field(default_factory=dict)  # final field values set along the way
    news: dict | None = None
    news_rows: list = field(default_factory=list)  # NewsRow(s) applied to this event
    count_reason: str | None = None  # why ``count`` differs from the per-missile rows, if it does
    resolved: dict = field(default_factory=dict)  # field -> reason: an analyst decision on a number
    csis_siblings: dict = field(default_factory=dict)  # CSIS label -> every event that row matched

    def key(self) -> tuple:
        return self.date, self.site_key, self.cls


@dataclass
class Log:
    """Everything the grouping (and the dataset build) decided, for RECONCILIATION.md; the
    importer does not keep it. ``news``, ``reports``, ``checks`` and ``fixes`` are the build's."""

    basis: list[dict] = field(default_factory=list)
    csis: list[dict] = field(default_factory=list)
    news: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    reports: list = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)  # numeric cross-check findings (cross_check)
    fixes: list = field(default_factory=list)  # (source ref, fix) applied to source rows


def fix_name(name: str | None) -> str | None:
    """A nagix facility name with its known misspellings corrected (``NAGIX_NAME_FIXES``);
    None or "" unchanged. Used for the bundled dataset and by the nagix importer."""
    if not name:
        return name
    for bad, good in NAGIX_NAME_FIXES.items():
        name = name.replace(bad, good)
    return name


# ============================================================================= CSIS helpers

def is_sam(row: dict) -> bool:
    return row["missile_class"] == "unknown" and "surface-to-air" in (row["class_note"] or "")


def compat(row: dict, cls: str) -> int | None:
    """How well a CSIS row's class fits an event class: 1 exact, 2 same family, None not."""
    if is_sam(row):
        return 1 if cls == "unknown" else None
    classes = set(row["classes"]) | {row["missile_class"]}
    if cls in classes and cls != "unknown":
        return 1
    primary = row["missile_class"]
    if primary in BALLISTIC and cls in BALLISTIC:
        return 2
    if primary == "MLRS" and cls == "SRBM" or primary == "SRBM" and cls == "MLRS":
        return 2  # the 600 mm "super-large MRL" is an SRBM to JCS/CNS, an MLRS to KCNA
    return None


class CsisIndex:
    def __init__(self, rows: list[dict]):
        self.rows = rows
        self.by_date: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            self.by_date[csis_date(r)].append(r)

    def best(self, date: str, cls: str) -> tuple[int | None, list[dict]]:
        tiers = [(compat(r, cls), r) for r in self.by_date.get(date, [])]
        tiers = [(t, r) for t, r in tiers if t is not None]
        if not tiers:
            return None, []
        top = min(t for t, _ in tiers)
        return top, [r for t, r in tiers if t == top]


def csis_date(r: dict) -> str:
    """The day a CSIS row describes: its own text's date when that differs from the row date."""
    return r.get("stated_date") or r["date"]


def csis_label(r: dict) -> str:
    return f"CSIS {r['date']} '{r['event']}'"


# ============================================================================= date basis

def decide_basis(shots: list[Shot], cls: str, csis: CsisIndex, taken: set[str] | None = None) -> dict:
    """Decide whether a raw group's date is the UTC or the Korean date.

    Returns {'basis': 'utc'|'local'|'same'|'none'|'next', 'evidence': str, 'how': str, ...}.
    ``taken`` holds the other dates the same source has a launch of this class on.
    """
    d = shots[0].raw_date
    clocks = [s.clock for s in shots if s.clock]
    if shots[0].precision != "day":
        return {"basis": "none", "how": "month only", "evidence": "date known only to the month"}
    if not clocks:
        nxt = add_days(d, 1)
        if (csis.best(d, cls)[0] is None and csis.best(nxt, cls)[0] == 1
                and nxt not in (taken or set())):
            return {"basis": "next", "how": "CSIS (no time)", "candidates": {"utc": nxt, "local": d},
                    "evidence": (f"no launch time; no CSIS row on {d} but CSIS has {nxt} (and the source "
                                 f"has no other launch that day), read as an early-morning Korean launch "
                                 f"filed under its UTC date")}
        return {"basis": "none", "how": "no time", "evidence": "no launch time; date kept as recorded"}
    if all(c < "15:00" for c in clocks):
        return {"basis": "same", "how": "UTC before 15:00",
                "evidence": "UTC time before 15:00, so the UTC and Korean dates are the same"}
    cand = {"utc": add_days(d, 1), "local": d}
    votes: dict[str, list[str]] = {"utc": [], "local": []}
    # 1. CSIS rows (Korean local dates) on either candidate date.
    tiers = {b: csis.best(date, cls) for b, date in cand.items()}
    t_utc, t_loc = tiers["utc"][0], tiers["local"][0]
    csis_vote = None
    if t_utc is not None and (t_loc is None or t_utc < t_loc):
        csis_vote = "utc"
    elif t_loc is not None and (t_utc is None or t_loc < t_utc):
        csis_vote = "local"
    if csis_vote:
        votes[csis_vote].append(f"agrees with CSIS {cand[csis_vote]}")
    # 2. Month/day mentions in the CNS / nagix text of the group. A mention in a sentence that
    #    says "local time" (or KST) is strong; any other mention is weak.
    strong, weak = set(), set()
    for sh in shots:
        for sent in re.split(r"(?<=[.!?])\s+", sh.text or ""):
            found = month_days(sent)
            (strong if re.search(r"local time|\bKST\b", sent, re.I) else weak).update(found)
    src_name = "CNS Additional Information" if shots[0].src == "cns" else "nagix description"

    def vote(mentions: set) -> str | None:
        hits = {b for b, date in cand.items() if _md(date) in mentions}
        return hits.pop() if len(hits) == 1 else None

    strong_vote, weak_vote = vote(strong), vote(weak - strong)
    stray = sorted(md for md in strong if md not in {_md(x) for x in cand.values()})

    def says(b: str, how: str) -> str:
        mo, dd = _md(cand[b])
        return f"{src_name} gives {_MONTHS[mo - 1]} {dd}{how}"

    if strong_vote:
        basis, how = strong_vote, "text (local time)"
        ev = says(basis, " (local time)")
        if csis_vote == basis:
            ev = votes[basis][0] + "; " + ev
            how = "CSIS + text (local time)"
        elif csis_vote:
            ev += f"; CSIS has {cand[csis_vote]} but the source's explicit local date was followed"
    elif csis_vote and weak_vote and csis_vote != weak_vote:
        basis, how = "utc", "conflict; column label"
        ev = (f"CSIS has {cand[csis_vote]} but {says(weak_vote, '')}; with the local-date evidence "
              f"split, the 'Launch Time (UTC)' date was read as UTC")
    elif csis_vote:
        basis, how = csis_vote, "CSIS"
        ev = votes[basis][0]
        if weak_vote == basis:
            ev += "; " + says(basis, "")
            how = "CSIS + text"
    elif weak_vote:
        basis, how = weak_vote, "text"
        ev = says(basis, "")
    else:
        basis, how = "utc", "assumed"
        ev = "no local-date source on either candidate date; assumed the 'Launch Time (UTC)' date is UTC"
    if stray:
        ev += ("; the text also gives " + ", ".join(f"{_MONTHS[m - 1]} {d}" for m, d in stray)
               + " (local time), which fits neither candidate and was not used")
    return {"basis": basis, "how": how, "evidence": ev, "candidates": cand,
            "csis_tiers": {k: v[0] for k, v in tiers.items()}}


def apply_basis(shots: list[Shot], basis: str) -> None:
    untimed = []
    for s in shots:
        if s.precision != "day" or not s.clock:
            s.kst_date = add_days(s.raw_date, 1) if basis == "next" else s.raw_date
            untimed.append(s)
            continue
        utc_date = s.raw_date
        if basis == "local" and s.clock >= "15:00":
            utc_date = add_days(s.raw_date, -1)
        s.time_utc = f"{utc_date}T{s.clock}:00Z"
        s.kst_date, s.time_kst = schema.utc_to_kst(s.time_utc)
    timed_dates = {s.kst_date for s in shots if s.clock and s.precision == "day"}
    if untimed and len(timed_dates) == 1:
        for s in untimed:  # a salvo member without a time shares its salvo's Korean date
            s.kst_date = next(iter(timed_dates))


def basis_note(src: str, raw: str, info: dict, kst: str, first: Shot) -> str:
    label = "CNS" if src == "cns" else "nagix"
    b = info["basis"]
    if b == "none":
        return f"Date basis: {label} date {raw} kept ({info['evidence']})."
    if b == "next":
        return f"Date basis: {label} date {raw}; KST date {kst} — {info['evidence']}."
    if b == "same":
        return f"Date basis: {label} date {raw}; {info['evidence']}."
    clock = first.clock
    if b == "utc":
        if info["how"] == "assumed":
            return (f"Date basis: {label} date {raw} assumed UTC (column labelled UTC); KST date {kst} "
                    f"from UTC {clock} + 9h; no local-date source to confirm.")
        return (f"Date basis: {label} date {raw} read as UTC; KST date {kst} from UTC {clock} + 9h, "
                f"{info['evidence']}.")
    return (f"Date basis: {label} date {raw} read as the Korean date (UTC {clock} falls on "
            f"{add_days(raw, -1)}); KST date {kst}, {info['evidence']}.")


# ============================================================================= events from shots

def group_shots(shots: list[Shot], csis: CsisIndex, log: Log) -> list[Ev]:
    raw_groups: dict[tuple, list[Shot]] = defaultdict(list)
    for s in shots:
        raw_groups[(s.src, s.raw_date, s.site_key, s.cls)].append(s)
    taken: dict[tuple, set[str]] = defaultdict(set)
    for (src, raw, _site, cls) in raw_groups:
        taken[(src, cls)].add(raw)
    for (src, raw, _site, cls), grp in sorted(raw_groups.items(), key=lambda kv: (kv[0][1], kv[1][0].num)):
        info = decide_basis(grp, cls, csis, taken[(src, cls)] - {raw})
        apply_basis(grp, info["basis"])
        kst_dates = sorted({s.kst_date for s in grp})
        if info["basis"] in ("utc", "local", "next"):
            log.basis.append({"src": src, "raw": raw, "cls": cls, "site": grp[0].site,
                              "refs": ref_range(grp), "kst": ", ".join(kst_dates),
                              "clock": min((s.clock for s in grp if s.clock), default="—"), **info})
        for s in grp:
            s._basis = info  # type: ignore[attr-defined]
    events: dict[tuple, Ev] = {}
    for s in sorted(shots, key=lambda s: (s.kst_date, s.time_utc or "", s.src, s.num)):
        key = (s.kst_date, s.site_key, s.cls)
        ev = events.get(key)
        if ev is None:
            ev = events[key] = Ev(origin=s.src, date=s.kst_date, precision=s.precision, cls=s.cls,
                                  site=s.site, site_key=s.site_key, lat=s.lat, lon=s.lon)
            info = s._basis  # type: ignore[attr-defined]
            ev.basis = info
            ev.notes.append(basis_note(s.src, s.raw_date, info, s.kst_date, s))
        ev.shots.append(s)
    return list(events.values())


def ref_range(shots: list[Shot]) -> str:
    nums = sorted(s.num for s in shots)
    label = "CNS F1" if shots[0].src == "cns" else "nagix records"
    if len(nums) == 1:
        return f"{label} {nums[0]}"
    if nums == list(range(nums[0], nums[-1] + 1)):
        return f"{label} {nums[0]}–{nums[-1]}"
    return f"{label} " + ", ".join(str(n) for n in nums)


# ============================================================================= CSIS matching

def match_csis(events: list[Ev], rows: list[dict], log: Log) -> list[Ev]:
    """Attach each CSIS launch row to event(s), or make it an event of its own."""
    by_date: dict[str, list[Ev]] = defaultdict(list)
    for ev in events:
        by_date[ev.date].append(ev)
    unmatched: list[dict] = []
    for r in rows:
        if not r["is_launch"]:
            log.csis.append({"row": r, "result": "excluded", "detail": r["class_note"]})
            log.counts["CSIS rows excluded (not a launch)"] += 1
            continue
        cands = [(compat(r, ev.cls), ev) for ev in by_date.get(csis_date(r), [])]
        if r["date_precision"] == "month":
            cands = [(compat(r, ev.cls), ev) for ev in events if ev.date[:7] == r["date"][:7]]
        cands = [(t, ev) for t, ev in cands if t is not None]
        if cands:
            top = min(t for t, _ in cands)
            hits = [ev for t, ev in cands if t == top]
            how = "same month" if r["date_precision"] == "month" else "same date"
            for ev in hits:
                ev.csis.append((r, how))
            log.csis.append({"row": r, "result": "matched", "detail": how,
                             "events": hits, "tier": top})
            log.counts[f"CSIS rows matched ({how})"] += 1
        else:
            unmatched.append(r)
    # Second pass: one day apart, for rows whose own date has no compatible event.
    exact_dates = {(ev.date, id(ev)) for ev in events for (_r, how) in ev.csis if how == "same date"}
    covered = {k[1] for k in exact_dates}
    still: list[dict] = []
    for r in unmatched:
        best = []
        for delta in (-1, 1):
            for ev in by_date.get(add_days(csis_date(r), delta), []):
                t = compat(r, ev.cls)
                if t != 1 and not (t == 2 and ev.cls == "unknown"):
                    continue
                report_day_after = delta == -1 and _STATE_MEDIA.search(r["description"] or "")
                if id(ev) in covered and not report_day_after:
                    continue
                best.append((delta, ev))
        if best:
            for delta, ev in best:
                why = ("state-media report dated the day after" if delta == -1 and id(ev) in covered
                       else "no event on the CSIS date")
                ev.csis.append((r, f"±1 day ({why})"))
            log.csis.append({"row": r, "result": "matched", "detail": "one day apart",
                             "events": [ev for _, ev in best], "tier": 1})
            log.counts["CSIS rows matched (one day apart)"] += 1
        else:
            still.append(r)
    # Third pass: the rest become events of their own (oldest first, so a test spread over two
    # days with the same CSIS text joins the first day's event).
    new_events: list[Ev] = []
    # Specific classes first, so that a same-day row with a generic label joins them.
    for r in sorted(still, key=lambda r: (csis_date(r), r["missile_class"] == "unknown", r["row"])):
        twin, why = None, ""
        for ev in new_events:
            first = ev.csis[0][0]
            if ev.date == csis_date(r) and compat(r, ev.cls) is not None and not is_sam(r) \
                    and not is_sam(first):
                twin, why = ev, "same date as another CSIS row on this launch"
            elif (abs(day_diff(ev.date, csis_date(r))) == 1 and first["description"] == r["description"]
                    and compat(r, ev.cls) == 1):
                twin, why = ev, "±1 day (same CSIS text on consecutive days)"
        if twin is not None:
            twin.csis.append((r, why))
            log.csis.append({"row": r, "result": "matched", "detail": why, "events": [twin], "tier": 1})
            log.counts["CSIS rows matched (another CSIS row's event)"] += 1
            continue
        ev = Ev(origin="csis", date=csis_date(r), precision=r["date_precision"], cls=r["missile_class"],
                site=r["site"], site_key=r["site"])
        ev.csis.append((r, "own event"))
        if r["date_precision"] == "month":
            ev.notes.append(f"Date basis: CSIS {r['date']}, known only to the month (CSIS writes the 1st).")
        elif r.get("stated_date"):
            ev.notes.append(f"Date basis: CSIS row dated {r['date']}, but its text says \"{r['stated_text']}\", "
                            f"so {r['stated_date']}; no CNS/nagix record.")
        else:
            ev.notes.append(f"Date basis: CSIS {r['date']} (a Korean local date); no CNS/nagix record.")
        new_events.append(ev)
        log.csis.append({"row": r, "result": "added", "detail": "no matching CNS/nagix event",
                         "events": [ev]})
        log.counts["CSIS rows added as events"] += 1
    return events + new_events


# ============================================================================= values

def _num_spread(vals: list[tuple[float | None, float | None]]) -> tuple[float | None, float | None, str | None]:
    """Event value from per-missile (lo, hi) values: a range only if a source gave one."""
    known = [(lo, hi) for lo, hi in vals if lo is not None]
    if not known:
        return None, None, None
    if any(hi is not None for _, hi in known):
        lo = min(lo for lo, _ in known)
        hi = max(hi if hi is not None else lo for lo, hi in known)
        return lo, hi, None
    singles = [lo for lo, _ in known]
    top, bottom = max(singles), min(singles)
    spread = None if top == bottom else f"{fmt_km(bottom)}–{fmt_km(top)} km"
    return top, None, spread


def _outcome(shots: list[Shot]) -> tuple[str, str | None]:
    c = Counter(s.outcome for s in shots)
    known = {k: v for k, v in c.items() if k != "unknown"}
    if not known:
        return "unknown", None
    if len(known) == 1:
        return next(iter(known)), None
    top = max(known.values())
    winners = [k for k, v in known.items() if v == top]
    split = ", ".join(f"{v} {k}" for k, v in sorted(known.items()))
    if len(winners) > 1:
        return "unknown", f"Outcome split per missile ({split}); recorded as unknown."
    return winners[0], f"Outcome split per missile ({split}); event shows the majority."


def fill_from_shots(ev: Ev) -> None:
    shots = sorted(ev.shots, key=lambda s: (s.time_utc or "9999", s.num))
    ev.shots = shots
    v = ev.values
    names = dedupe(s.name for s in shots if s.name)
    v["missile_name"] = " / ".join(names) if names else None
    v["count"] = len(shots)
    first = next((s for s in shots if s.time_utc), None)
    v["time_utc"] = first.time_utc if first else None
    v["time_kst"] = first.time_kst if first else None
    d, dmax, dspread = _num_spread([(s.dist, s.dist_max) for s in shots])
    a, amax, aspread = _num_spread([(s.apo, s.apo_max) for s in shots])
    v.update(distance_km=d, distance_km_max=dmax, apogee_km=a, apogee_km_max=amax)
    # The qualifier the source text puts on the figure shown ("more than 250 kilometers").
    for key, val, vmax, attr in (("distance_qualifier", d, dmax, "dist"), ("apogee_qualifier", a, amax, "apo")):
        if val is not None and vmax is None:
            qs = {stated_qualifier(s.text, val) for s in shots if getattr(s, attr) == val}
            v[key] = qs.pop() if len(qs) == 1 else None
    for s in shots:
        if s.fix_note:
            ev.notes.append(f"{s.ref}: {s.fix_note}")
    label = "CNS" if ev.origin == "cns" else "nagix"
    if dspread:
        ev.notes.append(f"Per-missile distances {dspread} ({label}); the event shows the largest.")
    if aspread:
        ev.notes.append(f"Per-missile apogees {aspread} ({label}); the event shows the largest.")
    landings = Counter(s.landing for s in shots if s.landing)
    v["landing_area"] = landings.most_common(1)[0][0] if landings else None
    v["outcome"], onote = _outcome(shots)
    if onote:
        ev.notes.append(onote)
    confs = {s.confirmation for s in shots if s.confirmation}
    if confs:  # CNS's own Confirmation Status; nagix has none (decided in decide_confirmation)
        v["confirmation"] = "confirmed" if "confirmed" in confs else "unconfirmed"
    texts = dedupe(s.text for s in shots if s.text and not _TRIVIAL.match(s.text))
    v["description"] = "\n\n".join(texts)
    srcs = dedupe(x for s in shots for x in s.sources)
    cite = CNS_CITATION + ", " + ref_range(shots) if ev.origin == "cns" else \
        NAGIX_CITATION + ", " + ref_range(shots)
    v["sources"] = srcs + [cite]
    for s in shots:
        lead, words = parse_leader(s.text or "")
        if lead:
            v["leader_attended"] = True
            ev.notes.append(f"Leader attendance from {s.ref}: \"{words}\".")
            break


_SYSTEM = re.compile(
    r"\b(KN-\d+|Hwasong(?:pho)?-\d+\w*|Hwasal-\d+(?: Ra-\d+)?|Pulhwasal-[\d-]+|Padasuri-\d+|"
    r"Pyoljji-[\d-]+|Nodong(?:-\d)?|Taepodong-\d|Unha-\d|Chollima-\d|Pukguksong-\d|Musudan|"
    r"Kwangmyongsong-\d|Scud(?:-[A-Z]+)?|FROG|HY-2 Silkworm|AG-1|KH-35|Styx)\b")


def name_from_text(r: dict) -> str | None:
    """A system the CSIS text names ("Hwasong-11D", "KN-01"), or what kind of weapon it was."""
    m = _SYSTEM.search(r["description"] or "")
    if m:
        return m.group(1)
    d = (r["description"] or "").lower()
    if is_sam(r):
        return "Surface-to-air missile"
    mm = re.search(r"\b(600|300|240)\s?mm\b", d)
    if r["missile_class"] == "MLRS" and mm:
        return f"{mm.group(1)} mm multiple rocket launcher"
    if r["missile_class"] == "cruise" and re.search(r"anti-ship|surface-to-ship|ship-to-ship", d):
        return "Anti-ship cruise missile"
    return None


def fill_from_csis_only(ev: Ev) -> None:
    r = ev.csis[0][0]
    v = ev.values
    v["missile_name"] = name_from_text(r)
    v["count"] = r["count"]
    if r["count_text"]:
        ev.notes.append(f"Count from CSIS text: \"{r['count_text']}\".")
        v["count_qualifier"] = qualifier_word(r["count_text"])
    if r["time_kst"] and ev.precision == "day":
        v["time_kst"] = r["time_kst"]
        v["time_utc"] = schema.kst_to_utc(ev.date, r["time_kst"])
        ev.notes.append(f"Time from CSIS text (KST): \"{r['time_text']}\".")
    v["distance_km"], v["distance_km_max"] = r["distance_km"], r["distance_km_max"]
    v["apogee_km"], v["apogee_km_max"] = r["apogee_km"], r["apogee_km_max"]
    if r["distance_km_max"] is None:
        v["distance_qualifier"] = stated_qualifier(r["description"], r["distance_km"])
    if r["apogee_km_max"] is None:
        v["apogee_qualifier"] = stated_qualifier(r["description"], r["apogee_km"])
    if r["distance_text"]:
        ev.notes.append(f"Distance from CSIS text: \"{r['distance_text']}\".")
    if r["apogee_text"]:
        ev.notes.append(f"Apogee from CSIS text: \"{r['apogee_text']}\".")
    if r["site_text"]:
        ev.notes.append(f"Launch area from CSIS text: \"{r['site_text']}\".")
    desc = r["description"] or ""
    own = desc
    v["landing_area"] = landing_from_text(own)
    v["outcome"] = "failure" if _FAILED.search(own) else "unknown"
    v["description"] = desc
    v["sources"] = list(r["sources"]) + [f"{CSIS_CITATION}, {r['date']} '{r['event']}'"]
    if r["class_note"]:
        ev.notes.append(f"Class: CSIS event '{r['event']}' — {r['class_note']}.")
    if r["leader_attended"]:
        v["leader_attended"] = True
        ev.notes.append(f"Leader attendance from CSIS text: \"{r['leader_text']}\".")


def landing_from_text(text: str) -> str | None:
    t = text.lower()
    hits = []
    for pat, name in ((r"sea between korea and japan|east sea|sea of japan|eastern waters", "East Sea (Sea of Japan)"),
                      (r"yellow sea|west sea|sea between korea and china|western waters|off the west coast",
                       "Yellow Sea (West Sea)"),
                      (r"pacific", "Pacific Ocean")):
        m = re.search(pat, t)
        if m:
            hits.append((m.start(), name))
    return min(hits)[1] if hits else None


def apply_csis_matches(ev: Ev, rows: list[tuple[dict, str]] | None = None) -> None:
    """Add matched CSIS rows to an event as sources, notes and (if stated) attendance."""
    v = ev.values
    for r, how in (ev.csis if rows is None else rows):
        v["sources"] = dedupe([*v["sources"], *r["sources"], f"{CSIS_CITATION}, {r['date']} '{r['event']}'"])
        bits = []
        if r.get("stated_date"):
            bits.append(f"row dated {r['date']}, its text says \"{r['stated_text']}\"")
        if how.startswith("±1"):
            bits.append(f"CSIS files this under {r['date']} ({how[8:-1]})")
        if r["count"] is not None and r["count"] != v.get("count"):
            bits.append(f"CSIS count \"{r['count_text']}\"")
        if r["distance_km"] is not None and v.get("distance_km") is not None:
            if abs(r["distance_km"] - v["distance_km"]) > 0.1 * max(v["distance_km"], 1):
                bits.append(f"CSIS distance \"{r['distance_text']}\"")
        if r["time_kst"] and v.get("time_kst") and ev.precision == "day":
            if abs(_minutes(r["time_kst"]) - _minutes(v["time_kst"])) > 30:
                bits.append(f"CSIS time \"{r['time_text']}\" KST")
        if bits:
            ev.notes.append(f"{csis_label(r)}: " + "; ".join(bits) + ".")
        if r["leader_attended"] and not v.get("leader_attended"):
            v["leader_attended"] = True
            ev.notes.append(f"Leader attendance from {csis_label(r)}: \"{r['leader_text']}\".")
        if r["description"] and r["description"] not in v["description"]:
            sep = "\n\n" if v["description"] else ""
            v["description"] += f"{sep}CSIS Beyond Parallel ({r['date']}): {r['description']}"


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


# ============================================================================= qualifiers

#: Qualifier words as sources write them -> schema.QUALIFIERS.
_QUALIFIER_WORDS = (
    (r"more than|over|above|in excess of|>", "over"),
    (r"at least|a minimum of", "at least"),
    (r"up to|as (?:far|high) as|a maximum of", "up to"),
    (r"less than|under|below|fewer than|<", "under"),
    (r"about|approximately|approx\.?|around|roughly|some|nearly|an estimated|estimated|~", "about"),
)
QUALIFIER_RE = "|".join(f"(?:{w})" for w, _ in _QUALIFIER_WORDS)


def qualifier_word(text: str) -> str | None:
    """'over' for 'more than', 'about' for '~' …: the qualifier a phrase starts with, or None."""
    return schema.qualifier_of(text)


def stated_qualifier(text: str | None, value: float | int | None, unit: str = "km") -> str | None:
    """The qualifier a source puts on ``value`` ('flew more than 700 km' -> 'over'), or None.

    Looks for the number (as written, with or without thousands commas) after a qualifier word,
    followed by ``unit`` ('km'/'kilometers'; '' for a count, followed by a word)."""
    if value is None or not text:
        return None
    n = int(value) if float(value).is_integer() else value
    num = f"(?:{n:,}|{n})" if isinstance(n, int) else re.escape(str(n))
    after = r"\s*(?:km|kilomet)" if unit == "km" else r"\b"
    m = re.search(rf"(?<![\w.])((?:(?:{QUALIFIER_RE})\s*)+){num}(?![\d,]){after}", text, re.I)
    return qualifier_word(m.group(1)) if m else None


# ============================================================================= output

def missile_rows(ev: Ev, event_id: str) -> list[dict]:
    out = []
    desc = ev.values.get("description") or ""
    for i, s in enumerate(ev.shots, start=1):
        notes = []
        if s.text and (_TRIVIAL.match(s.text) or s.text not in desc):
            notes.append(s.text)
        if s.other_name:
            notes.append(f"Other site name: {s.other_name}")
        if s.src == "nagix" and s.name and s.cls != ev.cls:
            notes.append(f"nagix types {s.name} as {s.cls}")
        if s.fix_note:
            notes.append(s.fix_note)
        rec = {
            "event_id": event_id, "seq": i, "missile_name": s.name, "missile_class": s.cls,
            "time_utc": s.time_utc, "time_kst": s.time_kst, "distance_km": s.dist,
            "distance_km_max": s.dist_max, "apogee_km": s.apo, "apogee_km_max": s.apo_max,
            "landing_area": s.landing, "outcome": s.outcome, "confirmation": s.confirmation,
            "source_ref": s.ref, "notes": " ".join(notes),
        }
        out.append({k: rec[k] for k in schema.MISSILE_FIELDS})
    return out


def finish_event(ev: Ev) -> dict:
    v = ev.values
    out = schema.empty_event()
    out.update(
        date=ev.date, date_precision=ev.precision, missile_class=ev.cls,
        launch_site=ev.site, latitude=ev.lat, longitude=ev.lon,
    )
    for k in ("time_kst", "time_utc", "missile_name", "count", "count_qualifier", "distance_km",
              "distance_km_max", "distance_qualifier", "apogee_km", "apogee_km_max", "apogee_qualifier",
              "landing_area", "outcome", "confirmation", "leader_attended", "description", "sources"):
        if k in v:
            out[k] = v[k]
    if ev.precision != "day":
        out["time_kst"] = out["time_utc"] = None
    for k in ("distance_km", "distance_km_max", "apogee_km", "apogee_km_max", "latitude", "longitude"):
        if out[k] is not None:
            out[k] = float(out[k])
    for k, vmax in (("distance", "distance_km_max"), ("apogee", "apogee_km_max")):
        if out[f"{k}_km"] is None or out[vmax] is not None:
            out[f"{k}_qualifier"] = None  # a range carries no qualifier; nothing to qualify
    if out["count"] is None:
        out["count_qualifier"] = None
    # The compiler's reconciliation notes are provenance; notes are the analyst's own (none yet).
    out["provenance"] = " ".join(dedupe(ev.notes))
    out["notes"] = ""
    out["id"] = schema.make_event_id(ev.date, ev.cls, ev.site)
    return {k: out[k] for k in schema.EVENT_FIELDS}
