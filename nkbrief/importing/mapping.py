"""Match a colleague's column headers to nkbrief's event fields, by name, not by position.

English synonyms and the common Korean headers are recognised ("발사일자", "비행거리",
"Distance Travelled (km)", "Launch Time (UTC)"...). A qualifier in brackets refines the
match: "(UTC)"/"(KST)" pick the time basis and "(mi)"/"(miles)" mark a distance column
whose bare numbers are miles. Headers nothing matches stay unmapped; the importer keeps
their values in ``notes``. ``--map "Column=field"`` (or the dialog) overrides any match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model.schema import EVENT_FIELDS

#: Pseudo-targets besides the event fields.
NOTES = "notes"  # a real field; unmapped columns also end up here, labelled
IGNORE = "ignore"  # the user chose to drop the column (never the default)
UNMAPPED = ""  # no field: kept in notes as "Colleague column 'X': value"

#: Fields a column can be mapped to, in the order the dialog lists them.
TARGETS: tuple[str, ...] = tuple(EVENT_FIELDS)

FIELD_LABELS = {
    "id": "Event id",
    "date": "Date (Korean)",
    "date_precision": "Date precision",
    "time_kst": "Time (KST)",
    "time_utc": "Time (UTC)",
    "missile_name": "Missile name",
    "missile_class": "Missile class",
    "count": "Number of missiles",
    "distance_km": "Distance (km)",
    "distance_km_max": "Distance, upper (km)",
    "apogee_km": "Apogee (km)",
    "apogee_km_max": "Apogee, upper (km)",
    "launch_site": "Launch site",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "landing_area": "Landing area",
    "outcome": "Outcome",
    "confirmation": "Confirmation",
    "leader_attended": "Leader attended",
    "description": "Description",
    "sources": "Sources",
    "notes": "Notes",
}

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "event id", "event_id", "eventid", "이벤트 id", "식별자"),
    "date": ("date", "launch date", "date of launch", "event date", "korean date", "local date",
             "date kst", "date_kst", "발사일자", "발사일", "발사 일자", "일자", "날짜", "일시", "발사 날짜"),
    "date_precision": ("date precision", "date_precision", "precision", "날짜 정밀도"),
    "time_kst": ("time", "launch time", "time kst", "time_kst", "kst", "kst time", "local time",
                 "launch time kst", "시각", "시간", "발사시각", "발사 시각", "발사시간", "발사 시간"),
    "time_utc": ("time utc", "time_utc", "utc", "utc time", "launch time utc", "time gmt", "gmt",
                 "datetime utc", "시각 utc"),
    "missile_name": ("missile name", "missile_name", "missile", "name", "system", "weapon",
                     "weapon system", "designation", "미사일", "기종", "미사일명", "미사일 이름",
                     "미사일 명칭", "명칭"),
    "missile_class": ("missile type", "missile class", "missile_class", "class", "type", "category",
                      "종류", "유형", "분류", "미사일 종류", "미사일 유형", "탄종"),
    "count": ("count", "number", "number of missiles", "no. of missiles", "no of missiles",
              "num missiles", "missiles fired", "quantity", "qty", "salvo size", "발수", "수량",
              "발사 수", "발사수", "발사 발수"),
    "distance_km": ("distance", "range", "distance travelled", "distance traveled", "flight distance",
                    "distance_km", "range km", "비행거리", "비행 거리", "사거리", "거리"),
    "distance_km_max": ("distance max", "distance_km_max", "max distance", "range max",
                        "distance upper", "최대 비행거리", "최대거리"),
    "apogee_km": ("apogee", "altitude", "max altitude", "maximum altitude", "peak altitude",
                  "apogee_km", "height", "고도", "정점고도", "정점 고도", "최고고도", "최고 고도"),
    "apogee_km_max": ("apogee max", "apogee_km_max", "apogee upper", "최대 정점고도"),
    "launch_site": ("launch site", "launch_site", "site", "location", "launch location", "facility",
                    "facility name", "launch area", "area", "place", "origin", "발사장소",
                    "발사 장소", "발사지역", "발사 지역", "지역", "장소", "발사지점"),
    "latitude": ("latitude", "lat", "facility latitude", "site latitude", "위도"),
    "longitude": ("longitude", "lon", "lng", "long", "facility longitude", "site longitude", "경도"),
    "landing_area": ("landing area", "landing_area", "landing", "landing location", "impact area",
                     "impact point", "splashdown", "낙하지점", "낙하 지점", "탄착지점", "낙하지역",
                     "낙하 지역", "탄착 지역"),
    "outcome": ("outcome", "result", "test outcome", "success", "결과", "성공 여부", "성공여부"),
    "confirmation": ("confirmation", "confirmation status", "confirmed", "status", "확인",
                     "확인 여부", "확인여부"),
    "leader_attended": ("leader attended", "leader_attended", "kim attended", "leader present",
                        "attended", "참관", "김정은 참관", "참관 여부"),
    "description": ("description", "details", "detail", "summary", "additional information",
                    "additional info", "narrative", "설명", "내용", "개요", "상세"),
    "sources": ("sources", "source", "source(s)", "sources list", "reference", "references", "refs",
                "url", "urls", "link", "links", "citation", "출처", "자료", "참고"),
    "notes": ("notes", "note", "comments", "comment", "remarks", "remark", "memo", "비고", "메모",
              "참고사항"),
}

_LOOKUP: dict[str, str] = {}
for _field, _names in _SYNONYMS.items():
    for _n in _names:
        _LOOKUP.setdefault(_n, _field)

_QUAL = re.compile(r"^(.*?)[\s_]*[\(\[]([^\)\]]*)[\)\]]\s*$")
_UTC = {"utc", "gmt", "z", "zulu", "utc time"}
_KST = {"kst", "local", "korea", "korean", "pyongyang", "seoul", "한국", "한국시간", "현지"}
_KM = {"km", "kms", "kilometers", "kilometres", "킬로미터", "㎞"}
_MILES = {"mi", "mile", "miles", "마일"}


def normalise(header: str) -> str:
    """Lower case, single spaces, no trailing colon or surrounding punctuation."""
    s = str(header).replace("\u00a0", " ").replace("\ufeff", "").strip().lower()
    s = re.sub(r"\s+", " ", s).rstrip(":").strip()
    return s


@dataclass
class HeaderMatch:
    """What a header means: the field it fills, and a unit hint for bare numbers."""

    field: str  # a TARGETS entry, or UNMAPPED
    unit: str | None = None  # "mi" when bare numbers are miles


def match_header(header: str) -> HeaderMatch:
    """The field a header names ("" when nothing matches)."""
    s = normalise(header)
    if not s:
        return HeaderMatch(UNMAPPED)
    if s in _LOOKUP:
        return HeaderMatch(_LOOKUP[s])
    m = _QUAL.match(s)
    if m:
        base, qual = m[1].strip(), m[2].strip()
        field = _LOOKUP.get(base, UNMAPPED)
        if qual in _UTC and field in ("time_kst", "time_utc", "date"):
            # a UTC date: with a UTC time the Korean date follows; without one it is kept, and
            # the merge matches it a day either side (see merge.plan_merge)
            return HeaderMatch("time_utc" if field != "date" else "date", "utc" if field == "date" else None)
        if qual in _KST and field in ("time_kst", "time_utc", "date"):
            return HeaderMatch("time_kst" if field != "date" else "date")
        if field in ("distance_km", "distance_km_max", "apogee_km", "apogee_km_max"):
            if qual in _MILES:
                return HeaderMatch(field, "mi")
            if qual in _KM or not qual:
                return HeaderMatch(field)
        if field:
            return HeaderMatch(field)
    s2 = s.replace("_", " ").replace("-", " ")
    if s2 in _LOOKUP:
        return HeaderMatch(_LOOKUP[s2])
    return HeaderMatch(UNMAPPED)


def auto_mapping(headers: list[str]) -> list[HeaderMatch]:
    """One match per header; a field claimed twice keeps its first column, later ones stay
    unmapped (their values go to notes, and the dialog shows them for the user to decide)."""
    taken: set[str] = set()
    out: list[HeaderMatch] = []
    for h in headers:
        m = match_header(h)
        if m.field and m.field in taken and m.field != NOTES:
            m = HeaderMatch(UNMAPPED)
        if m.field and m.field != NOTES:
            taken.add(m.field)
        out.append(m)
    return out


def header_score(cells: list) -> int:
    """How many cells of a row read as known headers (used to find the header row)."""
    n = 0
    for c in cells:
        if isinstance(c, str) and c.strip() and match_header(c).field:
            n += 1
    return n


def resolve_target(name: str) -> str:
    """A field name or label typed by the user ('distance_km', 'Distance (km)', 'ignore',
    'notes') as a target; raises ValueError with the list of valid names."""
    s = name.strip()
    low = s.lower()
    if low in (IGNORE, "(ignore)", "drop", "skip"):
        return IGNORE
    if low in TARGETS:
        return low
    for f, label in FIELD_LABELS.items():
        if label.lower() == low:
            return f
    raise ValueError(f"{s!r} is not a field (use one of: {', '.join(TARGETS)}, or ignore)")


def parse_map_option(text: str) -> tuple[str, str]:
    """'Column=field' -> (column, target). The column may itself contain '='."""
    col, sep, target = text.rpartition("=")
    if not sep or not col.strip():
        raise ValueError(f"--map {text!r} is not of the form \"Column=field\"")
    return col.strip(), resolve_target(target)


__all__ = ["FIELD_LABELS", "HeaderMatch", "IGNORE", "NOTES", "TARGETS", "UNMAPPED", "auto_mapping",
           "header_score", "match_header", "normalise", "parse_map_option", "resolve_target"]
