"""Read the CSIS Beyond Parallel "Database of North Korean Provocations" CSV.

The file has only ``date, type, event, description, resources``. Missile rows are the
ones typed ``Missile Provocation``. This module classifies the free-text ``event`` (helped
by the description where the label is generic or plainly wrong) into the schema's missile
classes, and pulls from the description only what it states plainly: the Korean (JCS)
time, a missile count, flight distance, apogee, launch area and whether Kim Jong Un
oversaw the launch. Everything else stays in the description. Each parsed value comes
with the words it was read from (``*_text`` columns) so that notes can quote them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ...model import parse
from . import ReadReport, clean_sources, csv_records, decode_bytes, records_frame

MISSILE_TYPE = "Missile Provocation"

COLUMNS = (
    "row", "date", "date_precision", "type", "event", "missile_class", "classes", "is_launch",
    "class_note", "time_kst", "time_text", "count", "count_text", "distance_km", "distance_km_max",
    "distance_text", "apogee_km", "apogee_km_max", "apogee_text", "site", "site_text",
    "leader_attended", "leader_text", "stated_date", "stated_text", "description", "sources",
)

# ----------------------------------------------------------------------------- classes

_BALLISTIC_WORDS = (
    ("CRBM", r"close-range ballistic|\bcrbms?\b"),
    ("ICBM", r"intercontinental|inter-continental|\bicbms?\b"),
    ("IRBM", r"intermediate-range|\birbms?\b"),
    ("MRBM", r"medium-range ballistic|\bmrbms?\b"),
    ("SLBM", r"submarine[- ]launched ballistic|\bslbms?\b"),
    ("SRBM", r"short-range ballistic|\bsrbms?\b"),
)
_MENTIONS = (
    *_BALLISTIC_WORDS,
    ("HGV", r"hypersonic"),
    ("cruise", r"cruise missile|surface-to-ship|anti-ship|ship-to-ship"),
    ("MLRS", r"\bmlrs\b|multiple[- ]launch(?:ing)? rocket|multiple rocket launcher|artillery rocket"),
    ("SRBM", r"\b600\s?mm\b|\bkn-25\b"),  # JCS and CNS count the 600 mm "super-large" MRL as an SRBM
    ("SLV", r"satellite"),
)
_SAM = re.compile(r"surface-to-air|anti-air(?:craft)?", re.I)
_OTHER_DAY = re.compile(r"day before|day after|previous day|following day|next day|earlier this|"
                        r"last (?:week|month|year)|\bsince\b", re.I)
_SPECULATION = re.compile(r"[^.]*\b(?:could have been|may have been|might have been|possibly)\b[^.]*", re.I)


def _own_sentences(text: str) -> str:
    """The description without sentences about another day's launches (for classifying)."""
    parts = re.split(r"(?<=[a-z0-9)\]\"”])\.\s+(?=[A-Z])", text)
    kept = [p for p in parts if not _OTHER_DAY.search(p)]
    return ". ".join(kept) if kept else text


def classify(event: str, description: str = "") -> tuple[str | None, set[str], str | None]:
    """Classify a CSIS row: (class, every class the text mentions, note).

    The class is None for rows that are not launches at all (an engine ground test, a test
    held in China). ``note`` says why a class differs from the bare label.
    """
    e = (event or "").lower()
    d = _own_sentences(description or "").lower()
    mentions = {c for c, pat in _MENTIONS if re.search(pat, d)}

    if "engine test" in e:
        return None, mentions, "a ground test of a rocket engine, not a launch"
    if "with china" in e:
        return None, mentions, "a test reportedly held in China, not a North Korean launch"
    if "satellite" in e:
        return "SLV", mentions | {"SLV"}, None
    if "multiple la" in e or "mlrs" in e:
        return "MLRS", mentions | {"MLRS"}, None
    if "artillery" in e:
        return "MLRS", mentions | {"MLRS"}, "labelled artillery fire; the text describes rocket artillery"
    if "cruise" in e:
        return "cruise", mentions | {"cruise"}, None
    if _SAM.search(e):
        if "cruise" in mentions:
            return "cruise", mentions, "labelled a surface-to-air launch; the text also reports cruise missiles"
        return "unknown", mentions, "surface-to-air missile (the schema has no air-defence class)"
    label = None
    for cls, pat in _BALLISTIC_WORDS:
        if re.search(pat, e):
            label = cls
            break
    if label is None and "short-range" in e:
        label = "SRBM"
    if label in ("SRBM", "CRBM"):
        ballistic_text = re.search(r"ballistic|\bscud|\bkn-02\b|\bsrbms?\b|\bfrog\b|free rocket|rocket", d)
        if not ballistic_text:
            if "cruise" in mentions:
                return "cruise", mentions, "labelled short-range; the text describes cruise or anti-ship missiles"
            if _SAM.search(d):
                return "unknown", mentions, "labelled short-range; the text describes surface-to-air missiles"
        if re.search(r"hypersonic", _SPECULATION.sub(" ", d)):
            return "HGV", mentions | {label}, "labelled short-range; the text calls it a hypersonic missile"
        return label, mentions | {label}, None
    if label is not None:
        return label, mentions | {label}, None
    # Generic labels: 'Ballistic Missile Launch', '(type unknown)', 'Nuclear Detonation Device',
    # 'Mixed Tactical Weapons Test': decide from the text, else unknown.
    for cls, pat in (("CRBM", _BALLISTIC_WORDS[0][1]), ("HGV", r"hypersonic"),
                     ("ICBM", _BALLISTIC_WORDS[1][1]), ("IRBM", _BALLISTIC_WORDS[2][1]),
                     ("MRBM", _BALLISTIC_WORDS[3][1]), ("SLBM", _BALLISTIC_WORDS[4][1]),
                     ("SRBM", _BALLISTIC_WORDS[5][1])):
        if re.search(pat, d):
            note = f"labelled '{event}'; class taken from the text"
            return cls, mentions | {"unknown"}, note
    return "unknown", mentions | {"unknown"}, None


# ----------------------------------------------------------------------------- prose values

_WORD_NUM = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "twenty-five": 25, "thirty": 30,
}
_NUMWORD = r"\d{1,3}|" + "|".join(sorted(_WORD_NUM, key=len, reverse=True))
_COUNT_PLURAL = re.compile(
    r"\b(?:(?:around|about|approximately|at least|over|more than|some|an estimated|estimated|a total of)\s+)?"
    r"(" + _NUMWORD + r")\s+(?:[\w‑-]+\s+){0,4}?"
    r"(missiles|rockets|projectiles|srbms|icbms|irbms|mrbms|slbms|rounds)\b(?!/)", re.I)
_COUNT_ONE = re.compile(
    r"\b(?:fired|fires|launched|launches|test-fired|test-launched|tested)\s+(?:a|an|one)\s+"
    r"(?:[\w‑-]+\s+){0,4}?(missile|rocket|projectile|srbm|icbm|irbm|mrbm|slbm)\b(?!s)", re.I)

_MER = r"([ap])\.?\s?m\b\.?"
_TIME_HM = re.compile(r"(?<![\d,.])(\d{1,2}):(\d{2})(?:\s*" + _MER + r")?", re.I)
_TIME_H = re.compile(r"(?<![\d:,.])(\d{1,2})\s*" + _MER, re.I)
_BORROW_MER = re.compile(r"^\s*(?:and|to|-|–)\s*\d{1,2}:\d{2}\s*" + _MER, re.I)
_NEXT_DAY = re.compile(r"^[^.]{0,30}\b(?:the following day|the next day)", re.I)

_QTY = re.compile(
    r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)\s*(?:(km|kilomet(?:er|re)s?|miles?)\s*)?"
    r"(?:(?:-|–|to)\s*(\d[\d,]*(?:\.\d+)?)\s*)?(km|kilomet(?:er|re)s?|miles?)\b", re.I)
_DIST_KEYS = re.compile(r"\b(flew|fly|flying|flown|travel\w*|flight|distance|downrange|away|cover\w*|"
                        r"hit (?:a )?targets?|struck (?:a )?target)\b", re.I)
_APO_KEYS = re.compile(r"\b(altitudes?|apogees?|height|peaks?)\b", re.I)
_LOCATION_AFTER = re.compile(r"^\s*(?:\([^)]*\)\s*)?(?:(?:north|south|east|west)[\w-]*\s+of\b|off\b|from\b)", re.I)

_CAP = r"[A-Z][\w'’‑-]*"
_NAME = _CAP + r"(?:[ -]" + _CAP + r"){0,2}"
_SITE_PATTERNS = (
    (re.compile(r"\bfrom (?:the |its )?(?:[a-z]+ ){0,3}?(" + _NAME + r") area\b"), "{} area"),
    (re.compile(r"\b(?:city|county|town|port city|coastal city|port county) of (" + _NAME + r")"), "{}"),
    (re.compile(r"\bfrom (?:waters off the coast of |a location near |an area near |areas around |"
                r"an area (?:in or )?around |a site near |an? [a-z]+ area near )(" + _NAME + r")"), "near {}"),
    (re.compile(r"\bfrom (" + _NAME + r")"), "{}"),
    (re.compile(r"\b(?:launched|fired) near (" + _NAME + r")"), "near {}"),
)
_NOT_SITES = ("North Korea", "South Korea", "Japan", "China", "The", "Seoul", "Kim", "KCNA", "U",
              "Tokyo", "Korea", "Russia", "Moscow", "Washington", "March", "April", "May", "June",
              "July", "August", "September", "October", "November", "December", "January", "February",
              "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Academy")

_LEADER = re.compile(
    r"Kim Jong[ -]?(?:Un|un|Il|il)(?:[’']s)?\s+(?:\w+\s+){0,2}?(?:personally\s+)?"
    r"(?:oversaw|oversees|overseeing|attended|attending|guided|guiding|supervised|supervising|"
    r"inspected|observed|observing|watched|watching)\b"
    r"|(?:overseen|guided|supervised|attended|observed) by (?:leader )?Kim Jong"
    r"|under (?:leader )?Kim Jong[ -]?[Uu]n[’']s (?:direct |personal )?(?:supervision|guidance)"
    r"|\bleader\b[^.]{0,40}?\b(?:oversaw|inspected|guided|supervised|attended)\b")

_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_STATED_MD = re.compile(r"\b[Oo]n (?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),? )?"
                        r"(January|February|March|April|May|June|July|August|September|October|"
                        r"November|December) (\d{1,2})(?:st|nd|rd|th)?(?:,? (\d{4}))?\b")
_STATED_WD = re.compile(r"\b(?:on|On) (Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_MONTH_ONLY = re.compile(r"exact (?:day|date) of the (?:launch|test) (?:is|was) unknown", re.I)


def _num(s: str) -> float:
    return float(s.replace(",", ""))


def _km(v: float, unit: str) -> float:
    return round(v * parse.MILES_TO_KM, 1) if unit.lower().startswith("mi") else v


def parse_time_kst(text: str) -> tuple[str | None, str | None]:
    """The first clock time stated ("at around 5:00 p.m." -> "17:00"), with its words."""
    found = []
    for m in _TIME_HM.finditer(text):
        found.append((m.start(), m, "hm"))
    for m in _TIME_H.finditer(text):
        found.append((m.start(), m, "h"))
    for _, m, kind in sorted(found, key=lambda t: t[0]):
        if _NEXT_DAY.match(text[m.end():]):
            continue  # "around 8:30 a.m. the following day": not the day the row is filed under
        h = int(m.group(1))
        mi = int(m.group(2)) if kind == "hm" else 0
        mer = m.group(3) if kind == "hm" else m.group(2)
        if mer is None:
            b = _BORROW_MER.match(text[m.end():])
            mer = b.group(1) if b else None
        if mer is None:
            continue  # a bare "7:52" could be anything; only clock times with a.m./p.m. count
        if not 0 <= h <= 12 or mi > 59:
            continue
        if mer.lower() == "p" and h < 12:
            h += 12
        elif mer.lower() == "a" and h == 12:
            h = 0
        return f"{h:02d}:{mi:02d}", m.group(0).strip()
    return None, None


def parse_count(text: str) -> tuple[int | None, str | None]:
    """A stated number of missiles ("around 10", "two", "fired a ... missile" -> 1)."""
    best = None
    for pat in (_COUNT_PLURAL, _COUNT_ONE):
        for m in pat.finditer(text):
            if re.search(r"\bof\b", m.group(0)[len(m.group(1)) if pat is _COUNT_PLURAL else 0:]):
                continue  # "one of the missiles", "two of the rockets"
            if best is None or m.start() < best.start():
                best = m
            break
    if best is None:
        return None, None
    if best.re is _COUNT_ONE:
        if re.search(r"\b(?:multiple|several)\b", text[:best.start()], re.I):
            return None, None  # "multiple cruise missiles ... tested a new-type anti-aircraft missile"
        return 1, best.group(0)
    word = best.group(1).lower()
    n = _WORD_NUM.get(word) if not word.isdigit() else int(word)
    return n, best.group(0)


def parse_measures(text: str) -> dict:
    """Flight distance and apogee stated in the prose, in km (miles converted).

    Conversions in brackets ("217 miles (350 km)") use the km figure. A stated range
    ("60 to 100 kilometers") gives (low, high); several single figures give the largest
    as the value. Figures that locate a point ("250 km west of Okushiri") are skipped.
    """
    quantities: list[dict] = []
    prev_end = 0
    for m in _QTY.finditer(text):
        lo = _km(_num(m.group(1)), m.group(4) if not m.group(2) else m.group(2))
        hi = _km(_num(m.group(3)), m.group(4)) if m.group(3) else None
        q = {"lo": lo, "hi": hi, "start": m.start(), "end": m.end(), "text": m.group(0),
             "miles": m.group(4).lower().startswith("mi")}
        between = text[prev_end:m.start()]
        if quantities and re.fullmatch(r"\s*\(\s*(?:about|approximately|around|roughly|some|~)?\s*", between):
            last = quantities[-1]
            if last["miles"] and not q["miles"]:
                last.update(lo=q["lo"], hi=q["hi"], miles=False, text=last["text"] + " (" + q["text"] + ")")
            prev_end = m.end()
            continue
        quantities.append(q)
        prev_end = m.end()

    out = {"distance": [], "apogee": []}
    for i, q in enumerate(quantities):
        if _LOCATION_AFTER.match(text[q["end"]:]):
            continue
        start = quantities[i - 1]["end"] if i else 0
        window = text[max(start, q["start"] - 90):q["start"]]
        window = re.split(r"(?<=[a-z0-9)])\.\s", window)[-1]
        dist = [m.end() for m in _DIST_KEYS.finditer(window)]
        apo = [m.end() for m in _APO_KEYS.finditer(window)]
        if not dist and not apo:
            continue
        role = "apogee" if (apo and (not dist or max(apo) > max(dist))) else "distance"
        out[role].append(q)

    result: dict = {}
    for role in ("distance", "apogee"):
        qs = out[role]
        if not qs:
            result[role] = (None, None, None)
            continue
        ranged = [q for q in qs if q["hi"] is not None]
        if ranged:
            lo = min(q["lo"] for q in ranged)
            hi = max(q["hi"] for q in ranged)
        else:
            lo, hi = max(q["lo"] for q in qs), None
        result[role] = (lo, hi, "; ".join(q["text"] for q in qs))
    return result


def parse_site(text: str) -> tuple[str | None, str | None]:
    """The launch area as stated ("from the Pyongyang area" -> "Pyongyang area")."""
    for pat, fmt in _SITE_PATTERNS:
        for m in pat.finditer(text):
            if m.group(1).endswith(("'s", "’s")):
                continue  # "from Pyongyang's destroyer ...": not a place of launch
            name = re.sub(r"^North[’']s ", "", m.group(1))
            if name.split()[0].split("-")[0] in _NOT_SITES or name.startswith(("North Korea", "South Korea")):
                continue
            return fmt.format(name), m.group(0)
    return None, None


def parse_leader(text: str) -> tuple[bool | None, str | None]:
    """True when the text says Kim Jong Un (or the leader) oversaw/attended; else None."""
    for m in _LEADER.finditer(text or ""):
        if re.search(r"\bnot\b|\bno\b|n't", m.group(0)):
            continue
        return True, m.group(0)
    return None, None


def parse_stated_date(text: str, row_date: str | None) -> tuple[str | None, str | None]:
    """A launch day the first sentence states that differs from the row's date.

    "On March 9, 2020 at 7:36 a.m." under a row dated 2020-03-06 gives ("2020-03-09", words);
    "on Wednesday" under a Tuesday's date gives the Wednesday within a day of it. Dates
    more than three days away from the row's date are ignored.
    """
    import datetime as _dt

    if not row_date or not text:
        return None, None
    first = re.split(r"(?<=[a-z0-9)])\.\s+(?=[A-Z])", text, maxsplit=1)[0]
    base = _dt.date.fromisoformat(row_date)
    m = _STATED_MD.search(first)
    if m:
        year = int(m.group(3)) if m.group(3) else base.year
        try:
            d = _dt.date(year, _MONTH_NAMES.index(m.group(1).lower()) + 1, int(m.group(2)))
        except ValueError:
            return None, None
        if d != base and abs((d - base).days) <= 3:
            return d.isoformat(), m.group(0)
        return None, None
    m = _STATED_WD.search(first)
    if m:
        wd = _WEEKDAYS.index(m.group(1).lower())
        if base.weekday() == wd:
            return None, None
        for delta in (1, -1):
            d = base + _dt.timedelta(days=delta)
            if d.weekday() == wd:
                return d.isoformat(), m.group(0)
    return None, None


# ----------------------------------------------------------------------------- reader

def read_csis_records(path: str | Path, missiles_only: bool = True) -> tuple[list[dict], ReadReport]:
    """Read the CSIS CSV; one dict per (missile) row with parsed values and their words."""
    p = Path(path)
    report = ReadReport(source=p.name)
    text = decode_bytes(p.read_bytes(), report)
    header, raw = csv_records(text)
    index = {h.strip().lower(): i for i, h in enumerate(header)}
    missing = [h for h in ("date", "type", "event", "description", "resources") if h not in index]
    if missing:
        report.notes.append("missing columns: " + ", ".join(missing))

    def cell(cells: list[str], name: str) -> str | None:
        i = index.get(name)
        return cells[i] if i is not None and i < len(cells) else None

    out: list[dict] = []
    skipped = 0
    for row, cells in raw:
        report.rows_read += 1
        typ = parse.clean_text(cell(cells, "type"))
        if missiles_only and typ != MISSILE_TYPE:
            skipped += 1
            continue
        rec = dict.fromkeys(COLUMNS)
        rec.update(row=row, type=typ, sources=[], classes=[])
        desc = (parse.clean_text(cell(cells, "description")) or "").replace("\u2011", "-")
        event = parse.clean_text(cell(cells, "event")) or ""
        rec["event"], rec["description"] = event, desc
        raw_date = cell(cells, "date")
        try:
            rec["date"], rec["date_precision"] = parse.parse_date(raw_date)
        except ValueError as e:
            report.add(row, "date", raw_date, str(e))
        if rec["date_precision"] == "day" and _MONTH_ONLY.search(desc):
            rec["date_precision"] = "month"  # "the test date was written as June 1"
        cls, mentions, note = classify(event, desc)
        rec["missile_class"], rec["classes"], rec["class_note"] = cls, sorted(mentions), note
        rec["is_launch"] = cls is not None
        rec["time_kst"], rec["time_text"] = parse_time_kst(desc)
        rec["count"], rec["count_text"] = parse_count(desc)
        meas = parse_measures(desc)
        rec["distance_km"], rec["distance_km_max"], rec["distance_text"] = meas["distance"]
        rec["apogee_km"], rec["apogee_km_max"], rec["apogee_text"] = meas["apogee"]
        rec["site"], rec["site_text"] = parse_site(desc)
        rec["leader_attended"], rec["leader_text"] = parse_leader(desc)
        if rec["date_precision"] == "day":
            rec["stated_date"], rec["stated_text"] = parse_stated_date(desc, rec["date"])
        rec["sources"] = clean_sources(parse.split_sources(cell(cells, "resources")))
        out.append(rec)
    if missiles_only:
        report.notes.append(f"{skipped} rows of other types (not '{MISSILE_TYPE}') left out")
    return out, report


def read_csis_csv(path: str | Path, missiles_only: bool = True) -> tuple[pd.DataFrame, ReadReport]:
    """Read the CSIS provocations CSV into a frame (missile rows only unless told otherwise).

    ``row`` is the file line of the record (header = 1); ``rows_read`` in the report counts
    every data row, and a note says how many non-missile rows were left out.
    """
    records, report = read_csis_records(path, missiles_only)
    return records_frame(records, COLUMNS), report


__all__ = ["read_csis_csv", "read_csis_records", "classify", "parse_time_kst", "parse_count",
           "parse_measures", "parse_site", "parse_leader", "parse_stated_date", "COLUMNS"]
