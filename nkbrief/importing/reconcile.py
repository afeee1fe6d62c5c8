"""Merge the public datasets into launch events: Korean dates, grouping, matching, notes.

Inputs are the per-missile CNS rows (to 2023-04-12), the nagix records after that, the
CSIS Beyond Parallel missile rows (to 2026-08) and the hand-compiled 2025–26 news notes.
The result is one event per launch episode (Korean date + site + class), per-missile rows
and a log of every decision, which ``scripts/build_dataset.py`` turns into
``resources/events.json`` and the tables in ``resources/RECONCILIATION.md``.

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
from pathlib import Path

from ..model import parse, schema
from .io.cns import read_cns_records
from .io.csis import parse_leader, read_csis_records
from .io.nagix import read_nagix_records

CNS_FILE = "north_korea_missile_test_database.csv"
CSIS_FILE = "north_korea_provocations_1958_present.csv"
NAGIX_DIR = "nagix-nk-missile-tests"
NEWS_FILE = "recent_launches_notes.md"
SEED_FILE = "seed_event_notes.md"

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
#: A named government detection source: South Korea's JCS or military, Japan's Ministry of
#: Defense or government, or a US command or department. A bare "Japan" or "Seoul" is not one
#: ("the sea between Korea and Japan", "Colin Powell was in Seoul").
_DETECTED = re.compile(
    r"Joint Chiefs|\bJCS\b|South Korea(?:n|'s|’s)?\s+(?:military|officials|defen[cs]e ministry|"
    r"Ministry of (?:National )?Defen[cs]e|government|navy|army|air force)|"
    r"\bROK\s+(?:military|MND|Ministry)|Ministry of National Defen[cs]e|"
    r"Japan(?:ese|'s|’s)?\s+(?:Ministry of Defen[cs]e|defen[cs]e ministry|defen[cs]e minister|"
    r"government|Coast Guard|officials|military|prime minister|chief cabinet secretary)|\bJMoD\b|"
    r"\bINDOPACOM\b|Indo-Pacific Command|\bUSFK\b|U\.?S\.? Forces Korea|Pentagon|"
    r"(?:U\.S\.|US|United States)\s+(?:military|officials|Department of Defen[cs]e|Defen[cs]e Department|"
    r"Strategic Command|Pacific Command|Northern Command|government|intelligence)|\bNORAD\b|\bDoD\b",
    re.I)
#: A sentence that names a detection source only to say it did not detect the launch.
_NOT_DETECTED = re.compile(r"\bno (?:public )?indication\b|did not detect|not detected|"
                           r"could not (?:confirm|detect)|did not confirm|has not confirmed", re.I)


def detection_sources(text: str | None) -> list[str]:
    """The government detection sources a text cites ('Joint Chiefs', "Japan's defense ministry").

    Sentence by sentence; a sentence saying the source did *not* detect the launch is skipped."""
    found = []
    for sent in re.split(r"(?<=[.!?])\s+", text or ""):
        if _NOT_DETECTED.search(sent):
            continue
        found += [m.group(0) for m in _DETECTED.finditer(sent)]
    return dedupe(found)


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


def _fmt_km(v: float | None) -> str:
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
    """An event under construction."""

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
    """Everything the build decided, for RECONCILIATION.md."""

    basis: list[dict] = field(default_factory=list)
    csis: list[dict] = field(default_factory=list)
    news: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    reports: list = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)  # numeric cross-check findings (cross_check)
    fixes: list = field(default_factory=list)  # (source ref, fix) applied to source rows


# ============================================================================= loading

def _cns_shots(path: Path, log: Log) -> list[Shot]:
    records, report = read_cns_records(path)
    log.reports.append(report)
    shots = []
    for r in records:
        if r["date"] is None:
            log.warnings.append(f"CNS F1 {r['source_row']}: no usable date; left out of events")
            continue
        shots.append(Shot(
            src="cns", ref=f"CNS F1 {r['source_row']}", num=r["source_row"], raw_date=r["date"],
            precision=r["date_precision"], clock=r["time_utc_clock"], name=r["missile_name"],
            cls=r["missile_class"], site=r["facility_name"], site_key=r["facility_name"],
            lat=r["latitude"], lon=r["longitude"], landing=landing_name(r["landing"]),
            apo=r["apogee_km"], apo_max=r["apogee_km_max"], dist=r["distance_km"],
            dist_max=r["distance_km_max"], outcome=r["outcome"], confirmation=r["confirmation"],
            text=r["additional_info"], sources=r["sources"], other_name=r["other_name"]))
    return shots


def fix_name(name: str | None) -> str | None:
    """A nagix facility name with its known misspellings corrected (``NAGIX_NAME_FIXES``);
    None or "" unchanged. Used for the bundled dataset and by the nagix importer."""
    if not name:
        return name
    for bad, good in NAGIX_NAME_FIXES.items():
        name = name.replace(bad, good)
    return name


def _nagix_shots(folder: Path, after: str, log: Log) -> list[Shot]:
    records, report = read_nagix_records(folder)
    log.reports.append(report)
    shots = []
    for r in records:
        if r["date"] is None:
            continue
        if r["date"] <= after:
            log.counts["nagix records up to the CNS cut-off (duplicates of CNS rows, not used)"] += 1
            continue
        log.counts["nagix records after the CNS cut-off"] += 1
        shots.append(Shot(
            src="nagix", ref=f"nagix record {r['record']}", num=r["record"], raw_date=r["date"],
            precision=r["date_precision"], clock=r["time_utc_clock"], name=r["missile_name"],
            cls=r["missile_class"], site=fix_name(r["facility_name"]), site_key=r["facility_key"],
            lat=r["latitude"], lon=r["longitude"], landing=r["landing"], apo=r["apogee_km"],
            apo_max=r["apogee_km_max"], dist=r["distance_km"], dist_max=r["distance_km_max"],
            outcome=r["outcome"], confirmation=None, text=r["description"], sources=[]))
    return shots


# ============================================================================= CSIS helpers

def _is_sam(row: dict) -> bool:
    return row["missile_class"] == "unknown" and "surface-to-air" in (row["class_note"] or "")


def compat(row: dict, cls: str) -> int | None:
    """How well a CSIS row's class fits an event class: 1 exact, 2 same family, None not."""
    if _is_sam(row):
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


def _csis_label(r: dict) -> str:
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
                              "refs": _ref_range(grp), "kst": ", ".join(kst_dates),
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


def _ref_range(shots: list[Shot]) -> str:
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
            if ev.date == csis_date(r) and compat(r, ev.cls) is not None and not _is_sam(r) \
                    and not _is_sam(first):
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
    spread = None if top == bottom else f"{_fmt_km(bottom)}–{_fmt_km(top)} km"
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
    cite = CNS_CITATION + ", " + _ref_range(shots) if ev.origin == "cns" else \
        NAGIX_CITATION + ", " + _ref_range(shots)
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
    if _is_sam(r):
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
    v["landing_area"] = _landing_from_text(own)
    v["outcome"] = "failure" if _FAILED.search(own) else "unknown"
    v["description"] = desc
    v["sources"] = list(r["sources"]) + [f"{CSIS_CITATION}, {r['date']} '{r['event']}'"]
    if r["class_note"]:
        ev.notes.append(f"Class: CSIS event '{r['event']}' — {r['class_note']}.")
    if r["leader_attended"]:
        v["leader_attended"] = True
        ev.notes.append(f"Leader attendance from CSIS text: \"{r['leader_text']}\".")


def _landing_from_text(text: str) -> str | None:
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
            ev.notes.append(f"{_csis_label(r)}: " + "; ".join(bits) + ".")
        if r["leader_attended"] and not v.get("leader_attended"):
            v["leader_attended"] = True
            ev.notes.append(f"Leader attendance from {_csis_label(r)}: \"{r['leader_text']}\".")
        if r["description"] and r["description"] not in v["description"]:
            sep = "\n\n" if v["description"] else ""
            v["description"] += f"{sep}CSIS Beyond Parallel ({r['date']}): {r['description']}"


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def adopt_csis_class(ev: Ev) -> None:
    """An event whose sources give no type takes the one class a matched CSIS row states."""
    if ev.cls != "unknown":
        return
    specific = set()
    for r, _how in ev.csis:
        if _is_sam(r):
            continue
        if r["missile_class"] != "unknown":
            specific.add(r["missile_class"])
        else:
            specific |= {c for c in r["classes"] if c not in ("unknown", "SLV")}
    if len(specific) == 1:
        new = specific.pop()
        r = ev.csis[0][0]
        ev.notes.append(f"Class: {ev.origin.upper()} gives no missile type; {new} from {_csis_label(r)}.")
        ev.cls = new


# ============================================================================= news notes

@dataclass
class NewsRow:
    date: str
    time_kst: str | None
    type_text: str
    count: int | None
    count_text: str
    distance_km: float | None
    apogee_km: float | None
    range_text: str
    area: str
    urls: list[str]
    notes: str
    leader: bool | None
    leader_text: str | None
    landing: str | None = None  # the landing column of the Japan MoD table
    jmod: bool = False  # a row of the table of Japan MoD press releases (the report is the source)
    count_qualifier: str | None = None
    distance_qualifier: str | None = None
    apogee_qualifier: str | None = None


_DATASET_PAREN = re.compile(r"\((?:JMoD in )?dataset[^)]*\)", re.I)

#: Header words of the notes tables -> NewsRow column; a table is read by its header, so the
#: Japan MoD table (with its Landing column) and the news table each land in the right fields.
_NEWS_COLUMNS = (
    ("date", re.compile(r"^date", re.I)), ("time", re.compile(r"^time", re.I)),
    ("type", re.compile(r"type", re.I)), ("number", re.compile(r"^number", re.I)),
    ("range", re.compile(r"range|apogee", re.I)), ("landing", re.compile(r"^landing", re.I)),
    ("area", re.compile(r"launch area", re.I)), ("urls", re.compile(r"source url", re.I)),
    ("notes", re.compile(r"^notes", re.I)),
)

#: Qualifier words as sources write them -> schema.QUALIFIERS.
_QUALIFIER_WORDS = (
    (r"more than|over|above|in excess of|>", "over"),
    (r"at least|a minimum of", "at least"),
    (r"up to|as (?:far|high) as|a maximum of", "up to"),
    (r"less than|under|below|fewer than|<", "under"),
    (r"about|approximately|approx\.?|around|roughly|some|nearly|an estimated|estimated|~", "about"),
)
_QUAL_RE = "|".join(f"(?:{w})" for w, _ in _QUALIFIER_WORDS)


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
    m = re.search(rf"(?<![\w.])((?:(?:{_QUAL_RE})\s*)+){num}(?![\d,]){after}", text, re.I)
    return qualifier_word(m.group(1)) if m else None


def _news_tables(text: str) -> list[list[dict[str, str]]]:
    """Every markdown table whose header has date, time and number columns, as dicts by column."""
    tables: list[list[dict[str, str]]] = []
    cols: list[str | None] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            cols = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if cols is None:
            names = []
            for c in cells:
                names.append(next((k for k, rx in _NEWS_COLUMNS if rx.search(c)), None))
            if {"date", "time", "number"} <= set(names):
                cols = names
                tables.append([])
            else:
                cols = [None] * len(cells)  # some other table: skip its rows
            continue
        if set(line.replace("|", "").strip()) <= set("-: ") or all(c is None for c in cols):
            continue
        if len(cells) != len(cols):
            continue
        tables[-1].append({k: v for k, v in zip(cols, cells) if k})
    return tables


def read_launch_notes(path: Path) -> list[NewsRow]:
    """Parse the launch tables of recent_launches_notes.md: one row per 2025–26 launch.

    Tables are read by their header, so the Japan MoD press-release table (which has a
    Landing column and no Notes) is read as correctly as the news table."""
    rows: list[NewsRow] = []
    for table in _news_tables(Path(path).read_text(encoding="utf-8")):
        for c in table:
            m = re.search(r"\d{4}-\d{2}-\d{2}", c.get("date", ""))
            if not m:
                continue
            rows.append(_news_row(m.group(0), c))
    return rows


def _news_row(date: str, c: dict[str, str]) -> NewsRow:
    number = c.get("number", "")
    jmod = "landing" in c  # the Japan MoD table
    tm = re.match(r"^~?(\d{1,2}:\d{2})", c.get("time", ""))
    count, count_q = None, None
    cm = re.match(rf"^((?:(?:{_QUAL_RE})\s*)+)?(\d+)$", number.strip(), re.I)
    if cm:
        count, count_q = int(cm.group(2)), qualifier_word(cm.group(1)) if cm.group(1) else None
    else:
        jm = re.search(r"JMoD:\s*(\d+)\b", number)
        if jm and "dataset" not in number[:jm.start()]:
            count = int(jm.group(1))
    raw_range = c.get("range", "")
    rng = _DATASET_PAREN.sub(" ", raw_range)
    dist, dist_q = None, None
    dm = (re.search(rf"JCS:\s*((?:(?:{_QUAL_RE})\s*)+)?([\d,]+)\s*km", rng, re.I)
          or re.search(rf"((?:(?:{_QUAL_RE})\s*)+)?([\d,]+)\s*km", rng, re.I))
    if dm:
        dist = float(dm.group(2).replace(",", ""))
        dist_q = qualifier_word(dm.group(1)) if dm.group(1) else None
    am = re.search(rf"(?:apogee|max(?:imum)? altitude)\s*((?:(?:{_QUAL_RE})\s*)+)?([\d,]+)\s*km", rng, re.I)
    apo = float(am.group(2).replace(",", "")) if am else None
    apo_q = qualifier_word(am.group(1)) if am and am.group(1) else None
    lead, lead_text = parse_leader(c.get("type", ""))
    return NewsRow(date=date, time_kst=tm.group(1).zfill(5) if tm else None,
                   type_text=c.get("type", ""), count=count, count_text=number,
                   distance_km=dist, apogee_km=apo, range_text=raw_range, area=c.get("area", ""),
                   urls=re.findall(r"https?://[^\s;|]+", c.get("urls", "")), notes=c.get("notes", ""),
                   leader=lead, leader_text=lead_text, landing=c.get("landing"), jmod=jmod,
                   count_qualifier=count_q, distance_qualifier=dist_q, apogee_qualifier=apo_q)


def apply_news(events: list[Ev], news: list[NewsRow], log: Log) -> list[Ev]:
    """Apply the 2025–26 news notes: JCS/JMoD figures from the pages, their URLs as sources.

    A row on a date with no CNS, nagix or CSIS launch (the Japan MoD reports after 2026-08-20)
    becomes an event of its own. Returns the events with those added."""
    existing = list(events)
    added: list[Ev] = []
    for n in news:
        hits = [ev for ev in existing if ev.date == n.date and ev.cls in BALLISTIC]
        if not hits:
            ev = news_event(n)
            added.append(ev)
            log.counts["news rows added as events (no CNS, nagix or CSIS record)"] += 1
            log.news.append({"row": n, "events": [ev], "changed": ["new event"]})
            continue
        if len(hits) != 1:
            log.warnings.append(f"news row {n.date}: {len(hits)} ballistic events on that date")
            log.news.append({"row": n, "events": hits})
        for ev in hits:
            ev.news = n.__dict__
            ev.news_rows.append(n)
            v = ev.values
            v["sources"] = dedupe([*n.urls, *v["sources"]])
            changed = []
            if n.time_kst and ev.precision == "day" and n.time_kst != v.get("time_kst"):
                changed.append(f"time {v.get('time_kst') or '?'} → {n.time_kst} KST (JCS detection time "
                               "in the news reports; per-missile times are kept on the missile rows)")
                v["time_kst"] = n.time_kst
                v["time_utc"] = schema.kst_to_utc(ev.date, n.time_kst)
            if n.distance_km is not None and n.distance_km != v.get("distance_km"):
                changed.append(f"distance {_fmt_km(v.get('distance_km'))} → {_fmt_km(n.distance_km)} km "
                               f"(news: \"{_DATASET_PAREN.sub('', n.range_text).strip()}\")")
                v["distance_km"], v["distance_km_max"] = n.distance_km, None
                _reword_spread(ev, "distances")
            if n.distance_km is not None:
                v["distance_qualifier"] = n.distance_qualifier
            if n.apogee_km is not None and n.apogee_km != v.get("apogee_km"):
                changed.append(f"apogee {_fmt_km(v.get('apogee_km'))} → {_fmt_km(n.apogee_km)} km")
                v["apogee_km"], v["apogee_km_max"] = n.apogee_km, None
                _reword_spread(ev, "apogees")
            if n.apogee_km is not None:
                v["apogee_qualifier"] = n.apogee_qualifier
            if n.count is not None and n.count != v.get("count"):
                changed.append(f"count {v.get('count')} → {n.count} (news: \"{n.count_text}\")")
                v["count"] = n.count
            if n.count is not None:
                v["count_qualifier"] = n.count_qualifier
            if n.leader and not v.get("leader_attended"):
                v["leader_attended"] = True
                ev.notes.append(f"Leader attendance from the news notes: \"{n.leader_text}\".")
            if ev.cls == "unknown" and re.search(r"\bSRBMs?\b", n.type_text):
                changed.append("class unknown → SRBM (news: \"" + n.type_text + "\")")
                ev.cls = "SRBM"
            ev.notes.append(f"News reports (recent_launches_notes.md): type \"{n.type_text}\"; "
                            f"number \"{n.count_text}\"; range \"{n.range_text}\"; area \"{n.area}\".")
            if changed:
                ev.notes.append("Values from the news reports: " + "; ".join(changed) + ".")
            if n.notes:
                ev.notes.append(f"Context (news): {n.notes}")
            log.news.append({"row": n, "events": [ev], "changed": changed})
    return events + added


def _reword_spread(ev: Ev, what: str) -> None:
    """A per-missile spread note stops saying 'the event shows the largest' once the news
    figure replaced the value (the note on the news values says what the event shows)."""
    for i, note in enumerate(ev.notes):
        if note.startswith(f"Per-missile {what} ") and note.endswith("; the event shows the largest."):
            ev.notes[i] = note[:-len("; the event shows the largest.")] + "."


def news_event(n: NewsRow) -> Ev:
    """An event from one news-notes row that no dataset has (a Japan MoD press release).

    Only what the report states: the area in its words (no coordinates), the type as reported
    (class unknown: the report says only "ballistic missile"), numbers with their qualifiers."""
    area = n.area.split(",")[0].strip()
    area = re.sub(r"^(?:near|off|from)\s+(?:the\s+)?", "", area, flags=re.I)
    site = area[:1].upper() + area[1:] if area else None
    ev = Ev(origin="news", date=n.date, precision="day", cls="unknown", site=site, site_key=site)
    v = ev.values
    who = "Japan's Ministry of Defense" if n.jmod else "News reports"
    ev.notes.append(f"Date basis: {n.date}, the Korean date of the report ({who}; JST = KST); "
                    "no CNS, nagix or CSIS record.")
    v["missile_name"] = n.type_text[:1].upper() + n.type_text[1:] if n.type_text else None
    if n.time_kst:
        v["time_kst"] = n.time_kst
        v["time_utc"] = schema.kst_to_utc(n.date, n.time_kst)
    v["count"], v["count_qualifier"] = n.count, n.count_qualifier
    v["distance_km"], v["distance_qualifier"] = n.distance_km, n.distance_qualifier
    v["apogee_km"], v["apogee_qualifier"] = n.apogee_km, n.apogee_qualifier
    v["landing_area"] = _landing_from_text(n.landing or "") or n.landing
    v["outcome"] = "unknown"
    v["sources"] = list(n.urls)
    cnt = f"{n.count_qualifier + ' ' if n.count_qualifier else ''}{n.count}" if n.count else "an unstated number of"
    bits = [f"{who} reported {cnt} {n.type_text or 'missile'}{'' if n.count == 1 else 's'}"
            + (f" launched at about {n.time_kst} (JST, the same as KST)" if n.time_kst else "")
            + (f" from {n.area}" if n.area else "")]
    if n.distance_km is not None:
        flew = f"it flew {schema.number_text(n.distance_km, None, n.distance_qualifier, 'km')}"
        if n.apogee_km is not None:
            flew += f" with an apogee of {schema.number_text(n.apogee_km, None, n.apogee_qualifier, 'km')}"
        bits.append(flew)
    if n.landing:
        bits.append(f"it fell in the {n.landing}")
    v["description"] = "; ".join(bits).replace("~", "about ") + "."
    ev.notes.append(f"{who} (recent_launches_notes.md): type \"{n.type_text}\"; number \"{n.count_text}\"; "
                    f"range \"{n.range_text}\"; launch area \"{n.area}\""
                    + (f"; landing \"{n.landing}\"" if n.landing else "") + ".")
    ev.notes.append("Launch site: the area in the report's words, without coordinates (the report gives none).")
    if n.notes:
        ev.notes.append(f"Context (news): {n.notes}")
    ev.news = n.__dict__
    ev.news_rows.append(n)
    return ev


# ============================================================================= confirmation

def decide_confirmation(ev: Ev) -> None:
    """'confirmed' only when a named government detection source is cited for the event.

    CNS events keep CNS's own Confirmation Status. Every other event is confirmed when its
    nagix description, a matched CSIS description or its news-notes row cites South Korea's
    JCS or military, Japan's Ministry of Defense (or government), or a US command or
    department; otherwise it is unconfirmed (a state-media claim, or no attribution)."""
    v = ev.values
    if ev.origin == "cns" and v.get("confirmation"):
        return
    cited: list[str] = []
    for sh in ev.shots:
        cited += detection_sources(sh.text)
    for r, _how in ev.csis:
        cited += detection_sources(r["description"])
    for n in ev.news_rows:
        if n.jmod:
            cited.append("Japan Ministry of Defense press release")
            continue
        own = _DATASET_PAREN.sub(" ", " ".join((n.type_text, n.count_text, n.range_text, n.area)))
        cited += [f"{t} (news notes)" for t in ("JCS", "JMoD") if re.search(rf"\b{t}\b", own)]
    cited = dedupe(cited)
    if cited:
        v["confirmation"] = "confirmed"
        ev.notes.append("Confirmation: confirmed — government detection cited: "
                        + ", ".join(f"\"{c}\"" for c in cited[:4]) + ".")
    else:
        v["confirmation"] = "unconfirmed"
        ev.notes.append("Confirmation: unconfirmed — no South Korean, Japanese or US government "
                        "detection is cited (state-media or unattributed reports only).")


# ============================================================================= numeric cross-check

#: Relative difference beyond which a source's figure disagrees with the event's.
TOLERANCE = 0.10
_KM_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(?:km\b|kilomet)", re.I)


def _agrees(lo: float, hi: float, x: float, qualifier: str | None = None,
            own: str | None = None) -> bool:
    """Whether a source's figure ``x`` (with its qualifier) fits the event's value or range
    (``own`` is the event's qualifier: 'over 250 km' fits a source's 300 km)."""
    if qualifier in ("at least", "over") and hi >= x * (1 - TOLERANCE):
        return True
    if qualifier in ("up to", "under") and lo <= x * (1 + TOLERANCE):
        return True
    if own in ("at least", "over") and x >= lo * (1 - TOLERANCE):
        return True
    if own in ("up to", "under") and x <= hi * (1 + TOLERANCE):
        return True
    gap = 0.0 if lo <= x <= hi else min(abs(x - lo), abs(x - hi))
    return gap <= TOLERANCE * max(abs(x), abs(hi), 1.0)


def _text_km(text: str | None) -> list[float]:
    """Every kilometre figure in a text ('217 miles (350 km)' -> [350.0])."""
    return [float(m.group(1).replace(",", "")) for m in _KM_NUMBER.finditer(text or "")]


_MILES = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(?:mi\b|miles)", re.I)


def _text_figures(text: str | None) -> list[float]:
    """Every distance figure in a text, in km ('205 miles' -> 329.9, '350 km' -> 350)."""
    km = _text_km(text)
    km += [round(float(m.group(1).replace(",", "")) * 1.609344, 1) for m in _MILES.finditer(text or "")]
    return km


def source_figures(ev: Ev) -> list[tuple[str, str, list[tuple[float, str | None]], list[float]]]:
    """Every numeric fact each cited source row states for the event.

    (field, source label, stated, also) for field in count/distance/apogee: ``stated`` are the
    source's own figures for the field, with their qualifiers; ``also`` are the other figures
    its text gives (one per missile of a salvo, miles converted) — the event agrees with the
    source if it fits any of them, but only ``stated`` figures are compared at all."""
    out = []
    if ev.shots:
        out.append(("count", f"{_ref_range(ev.shots)} (one row per missile)", [(float(len(ev.shots)), None)], []))
        for fld, lo, hi in (("distance", "dist", "dist_max"), ("apogee", "apo", "apo_max")):
            vals = [(float(x), stated_qualifier(s.text, x)) for s in ev.shots
                    for x in (getattr(s, lo), getattr(s, hi)) if x is not None]
            if vals:
                out.append((fld, _ref_range(ev.shots), vals, []))
    for r, _how in ev.csis:
        label = _csis_label(r)
        if r["count"] is not None:
            out.append(("count", label, [(float(r["count"]), qualifier_word(r["count_text"] or ""))], []))
        for fld in ("distance", "apogee"):
            stated = [(float(x), stated_qualifier(r["description"], x))
                      for x in (r[f"{fld}_km"], r[f"{fld}_km_max"]) if x is not None]
            if stated:
                text = r["description"] if fld == "distance" else r[f"{fld}_text"]
                out.append((fld, label, stated, _text_figures(text)))
    for n in ev.news_rows:
        label = f"news notes {n.date} ({'Japan MoD report' if n.jmod else 'news reports'})"
        for fld, x, q in (("count", n.count, n.count_qualifier), ("distance", n.distance_km, n.distance_qualifier),
                          ("apogee", n.apogee_km, n.apogee_qualifier)):
            if x is not None:
                out.append((fld, label, [(float(x), q)], []))
    return out


def cross_check(ev: Ev) -> list[dict]:
    """Check the event's count, distance and apogee against every source row it cites.

    Returns one finding per source whose figures disagree with the event's by more than
    ``TOLERANCE``. A finding is resolved by an analyst decision on that field
    (``ev.resolved``, from EDITORIAL in scripts/build_dataset.py); failing that, a distance or
    apogee from a source row that describes only this event is shown as a range spanning both
    figures, with both sources named in the provenance. Anything else stays unresolved, and the
    build refuses it. Per-missile rows against the count are :func:`count_problems`.
    """
    v = ev.values
    found = []
    for fld, label, stated, also in source_figures(ev):
        shared = len(ev.csis_siblings.get(label, [])) > 1
        if fld == "count":
            if v.get("count") is None or label.endswith("(one row per missile)"):
                continue
            lo = hi = float(v["count"])
            # A CSIS row fitting several events of one day counts the missiles of all of them.
            if shared:
                share = [o.values.get("count") or 0 for o in ev.csis_siblings[label]]
                if any(_agrees(x, x, y, q) for x in (lo, float(sum(share))) for y, q in stated):
                    continue
        else:
            if v.get(f"{fld}_km") is None:
                continue
            lo = float(v[f"{fld}_km"])
            hi = float(v[f"{fld}_km_max"]) if v.get(f"{fld}_km_max") is not None else lo
        own = v.get(f"{fld}_qualifier")
        if any(_agrees(lo, hi, x, q, own) for x, q in stated) or any(_agrees(lo, hi, x, None, own) for x in also):
            continue
        finding = {"ev": ev, "field": fld, "event_value": (lo, hi), "source": label,
                   "source_values": stated, "resolved": ev.resolved.get(fld)}
        if finding["resolved"] is None and fld != "count" and not shared:
            # No decision: show both figures as a range, and say so.
            x, q = min(stated, key=lambda xq: min(abs(xq[0] - lo), abs(xq[0] - hi)))
            new_lo, new_hi = min(lo, x), max(hi, x)
            v[f"{fld}_km"], v[f"{fld}_km_max"], v[f"{fld}_qualifier"] = new_lo, new_hi, None
            why = (f"{fld.capitalize()}: {label} gives {schema.number_text(x, None, q, 'km')} against the "
                   f"event's {schema.number_text(lo, hi if hi != lo else None, None, 'km')} (more than "
                   f"{TOLERANCE:.0%} apart); shown as the range {_fmt_km(new_lo)}–{_fmt_km(new_hi)} km "
                   "with both sources.")
            ev.notes.append(why)
            finding["resolved"] = "shown as a range with both sources"
        found.append(finding)
    return found


def count_problems(events: list[dict], missiles: list[dict], evs: list[Ev]) -> list[str]:
    """Events whose count differs from their per-missile rows with no recorded reason."""
    rows = Counter(m["event_id"] for m in missiles)
    out = []
    for e, ev in zip(events, evs):
        n = rows.get(e["id"], 0)
        if n and e["count"] is not None and e["count"] != n and not ev.count_reason:
            out.append(f"{e['id']}: count {e['count']} but {n} missile rows, and no recorded reason")
    return out


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


# ============================================================================= pipeline

@dataclass
class Built:
    events: list[dict]
    missiles: list[dict]
    statements: list[dict]
    log: Log
    evs: list[Ev]


def build(shared: Path, editorial: list[dict] | None = None,
          row_fixes: dict[str, dict] | None = None) -> Built:
    """Run the whole merge. ``editorial`` lists documented analyst decisions, one per event;
    ``row_fixes`` corrects named source rows ('CNS F1 181') before anything is built from them,
    each with a 'note' giving the reason (kept on the missile row and in the provenance)."""
    shared = Path(shared)
    log = Log()
    cns = _cns_shots(shared / CNS_FILE, log)
    cutoff = max(s.raw_date for s in cns)
    log.counts["CNS rows"] = len(cns)
    nagix = _nagix_shots(shared / NAGIX_DIR, cutoff, log)
    by_ref = {sh.ref: sh for sh in cns + nagix}
    for ref, fix in (row_fixes or {}).items():
        if ref not in by_ref:
            raise ValueError(f"row fix for {ref}: no such source row")
        for k, val in fix.items():
            setattr(by_ref[ref], "fix_note" if k == "note" else k, val)
        log.fixes.append((ref, fix))
    csis_rows, csis_report = read_csis_records(shared / CSIS_FILE)
    log.reports.append(csis_report)
    log.counts["CSIS missile rows"] = len(csis_rows)
    launch_rows = [r for r in csis_rows if r["is_launch"]]
    index = CsisIndex(launch_rows)

    events = group_shots(cns + nagix, index, log)
    for ev in events:
        fill_from_shots(ev)
    events = match_csis(events, sorted(csis_rows, key=lambda r: (r["date"], r["row"])), log)
    for ev in events:
        if ev.origin == "csis":
            fill_from_csis_only(ev)
            for r, how in ev.csis[1:]:
                ev.notes.append(f"{_csis_label(r)} also describes this launch ({how}).")
            apply_csis_matches(ev, ev.csis[1:])
        else:
            apply_csis_matches(ev)
            adopt_csis_class(ev)
    events = apply_news(events, read_launch_notes(shared / NEWS_FILE), log)
    for ev in events:
        decide_confirmation(ev)

    statements: list[dict] = []
    for ed in editorial or []:
        hits = [ev for ev in events if ev.date == ed["date"] and ev.cls in ed["match_classes"]
                and ed.get("match_site", ev.site) == ev.site]
        if len(hits) != 1:
            raise ValueError(f"editorial entry for {ed['date']} fits {len(hits)} events, not 1")
        statements += apply_editorial(hits[0], ed)

    by_day: dict[str, list[Ev]] = defaultdict(list)
    for ev in events:
        by_day[ev.date].append(ev)
    for ev in events:  # the events of that day a CSIS row's class fits (its count covers them all)
        ev.csis_siblings = {_csis_label(r): [o for o in by_day[ev.date] if compat(r, o.cls) is not None]
                            for r, _how in ev.csis}
        log.checks += cross_check(ev)
    finished: list[tuple[dict, Ev]] = [(finish_event(ev), ev) for ev in events]
    clash = Counter(e["id"] for e, _ in finished)
    for e, _ev in finished:  # two launches from one site on one day (2026-09-20): the time tells them apart
        if clash[e["id"]] > 1 and e["time_kst"]:
            e["id"] = schema.make_event_id(e["date"], e["missile_class"], e["launch_site"], e["time_kst"])
    finished.sort(key=lambda p: (p[0]["date"], p[0]["time_kst"] or "", p[0]["id"]))
    ids = Counter(e["id"] for e, _ in finished)
    dup = [i for i, n in ids.items() if n > 1]
    if dup:
        raise ValueError(f"duplicate event ids: {dup}")
    missiles = []
    for e, ev in finished:
        missiles += missile_rows(ev, e["id"])
    problems = count_problems([e for e, _ in finished], missiles, [ev for _, ev in finished])
    open_checks = [c for c in log.checks if not c["resolved"]]
    if open_checks:
        raise ValueError("numbers that disagree with a cited source by more than "
                         f"{TOLERANCE:.0%}, with no decision:\n  " + "\n  ".join(
                             f"{c['ev'].date} {c['ev'].cls} {c['ev'].site}: {c['field']} "
                             f"{_fmt_km(c['event_value'][0])} vs {c['source']} "
                             f"{', '.join(_fmt_km(x) for x, _q in c['source_values'])}" for c in open_checks))
    if problems:
        raise ValueError("event count contradicts its missile rows:\n  " + "\n  ".join(problems))
    for s in statements:
        target = s.pop("_ev")
        s["event_id"] = next(e["id"] for e, ev in finished if ev is target)
    statements = [{k: s[k] for k in schema.STATEMENT_FIELDS} for s in statements]
    return Built([e for e, _ in finished], missiles, statements, log, [ev for _, ev in finished])


def apply_editorial(ev: Ev, ed: dict) -> list[dict]:
    """Apply an analyst decision to one event; returns its statements (with '_ev' set)."""
    for k in ("cls", "site", "lat", "lon"):
        if k in ed:
            setattr(ev, k, ed[k])
    for k, val in ed.get("values", {}).items():
        ev.values[k] = val
    if "description_lead" in ed:
        rest = ev.values.get("description") or ""
        ev.values["description"] = ed["description_lead"] + ("\n\n" + rest if rest else "")
    if "sources_append" in ed:
        ev.values["sources"] = dedupe([*ev.values["sources"], *ed["sources_append"]])
    for note in ed.get("notes", []):
        ev.notes.append(note)
    for fld, why in ed.get("resolves", {}).items():
        ev.resolved[fld] = why
        ev.notes.append(f"Decision ({fld}): {why}")
    if "count_reason" in ed:
        ev.count_reason = ed["count_reason"]
        if ed["count_reason"] != ed.get("resolves", {}).get("count"):
            ev.notes.append(f"Decision (count against the per-missile rows): {ed['count_reason']}")

    return [dict(s, _ev=ev) for s in ed.get("statements", [])]
