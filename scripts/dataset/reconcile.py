"""Merge the public datasets into launch events: Korean dates, grouping, matching, notes.

Inputs are the per-missile CNS rows (to 2023-04-12), the nagix records after that, the
CSIS Beyond Parallel missile rows (to 2026-08) and the hand-compiled 2025–26 news notes.
The result is one event per launch episode (Korean date + site + class), per-missile rows
and a log of every decision, which ``scripts/build_dataset.py`` turns into
``resources/events.json`` and the tables in ``resources/RECONCILIATION.md``.

Build time only: nothing under nkbrief/ or ui/ imports this module. The grouping into events
and the Korean-date decision are :mod:`nkbrief.importing.grouping`, which the importer runs on a
public file an analyst imports; this module adds what only the build does: the CNS and nagix
files as the build reads them, the news notes, the confirmation rule, the numeric cross-check
and the analyst decisions.

The central problem is the date basis. CNS (and nagix, which copies it) files a launch
under the UTC date in most rows but under the Korean date in some; the two differ only
when the UTC time is 15:00 or later. For every such group the Korean date is decided from
local-date evidence — a CSIS row on one of the two candidate dates, and month/day
mentions in the CNS or nagix text — and the decision is written into the event notes.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from nkbrief.importing.grouping import (
    BALLISTIC,
    QUALIFIER_RE,
    CsisIndex,
    Ev,
    Log,
    Shot,
    apply_csis_matches,
    compat,
    csis_label,
    dedupe,
    fill_from_csis_only,
    fill_from_shots,
    finish_event,
    fix_name,
    fmt_km,
    group_shots,
    is_sam,
    landing_from_text,
    landing_name,
    match_csis,
    missile_rows,
    qualifier_word,
    ref_range,
    stated_qualifier,
)
from nkbrief.importing.io.cns import read_cns_records
from nkbrief.importing.io.csis import parse_leader, read_csis_records
from nkbrief.importing.io.nagix import read_nagix_records
from nkbrief.model import schema

CNS_FILE = "north_korea_missile_test_database.csv"
CSIS_FILE = "north_korea_provocations_1958_present.csv"
NAGIX_DIR = "nagix-nk-missile-tests"
NEWS_FILE = "recent_launches_notes.md"
SEED_FILE = "seed_event_notes.md"

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


# ============================================================================= CSIS class

def adopt_csis_class(ev: Ev) -> None:
    """An event whose sources give no type takes the one class a matched CSIS row states."""
    if ev.cls != "unknown":
        return
    specific = set()
    for r, _how in ev.csis:
        if is_sam(r):
            continue
        if r["missile_class"] != "unknown":
            specific.add(r["missile_class"])
        else:
            specific |= {c for c in r["classes"] if c not in ("unknown", "SLV")}
    if len(specific) == 1:
        new = specific.pop()
        r = ev.csis[0][0]
        ev.notes.append(f"Class: {ev.origin.upper()} gives no missile type; {new} from {csis_label(r)}.")
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
    cm = re.match(rf"^((?:(?:{QUALIFIER_RE})\s*)+)?(\d+)$", number.strip(), re.I)
    if cm:
        count, count_q = int(cm.group(2)), qualifier_word(cm.group(1)) if cm.group(1) else None
    else:
        jm = re.search(r"JMoD:\s*(\d+)\b", number)
        if jm and "dataset" not in number[:jm.start()]:
            count = int(jm.group(1))
    raw_range = c.get("range", "")
    rng = _DATASET_PAREN.sub(" ", raw_range)
    dist, dist_q = None, None
    dm = (re.search(rf"JCS:\s*((?:(?:{QUALIFIER_RE})\s*)+)?([\d,]+)\s*km", rng, re.I)
          or re.search(rf"((?:(?:{QUALIFIER_RE})\s*)+)?([\d,]+)\s*km", rng, re.I))
    if dm:
        dist = float(dm.group(2).replace(",", ""))
        dist_q = qualifier_word(dm.group(1)) if dm.group(1) else None
    am = re.search(rf"(?:apogee|max(?:imum)? altitude)\s*((?:(?:{QUALIFIER_RE})\s*)+)?([\d,]+)\s*km", rng, re.I)
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
                changed.append(f"distance {fmt_km(v.get('distance_km'))} → {fmt_km(n.distance_km)} km "
                               f"(news: \"{_DATASET_PAREN.sub('', n.range_text).strip()}\")")
                v["distance_km"], v["distance_km_max"] = n.distance_km, None
                _reword_spread(ev, "distances")
            if n.distance_km is not None:
                v["distance_qualifier"] = n.distance_qualifier
            if n.apogee_km is not None and n.apogee_km != v.get("apogee_km"):
                changed.append(f"apogee {fmt_km(v.get('apogee_km'))} → {fmt_km(n.apogee_km)} km")
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
    v["landing_area"] = landing_from_text(n.landing or "") or n.landing
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
        out.append(("count", f"{ref_range(ev.shots)} (one row per missile)", [(float(len(ev.shots)), None)], []))
        for fld, lo, hi in (("distance", "dist", "dist_max"), ("apogee", "apo", "apo_max")):
            vals = [(float(x), stated_qualifier(s.text, x)) for s in ev.shots
                    for x in (getattr(s, lo), getattr(s, hi)) if x is not None]
            if vals:
                out.append((fld, ref_range(ev.shots), vals, []))
    for r, _how in ev.csis:
        label = csis_label(r)
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
                   f"{TOLERANCE:.0%} apart); shown as the range {fmt_km(new_lo)}–{fmt_km(new_hi)} km "
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
                ev.notes.append(f"{csis_label(r)} also describes this launch ({how}).")
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
        ev.csis_siblings = {csis_label(r): [o for o in by_day[ev.date] if compat(r, o.cls) is not None]
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
                             f"{fmt_km(c['event_value'][0])} vs {c['source']} "
                             f"{', '.join(fmt_km(x) for x, _q in c['source_values'])}" for c in open_checks))
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
