"""Read the nagix "nk-missile-tests" data: test.en.json plus its facility and missile files.

Records are per missile, in year bins. ``missile`` and ``facility`` are keys into
missile.en.json and facility.en.json. ``apogee``/``distance`` mix ints, floats, numeric
strings and "unknown"/"na"; ``time`` is "HH:MM (UTC)" or "unknown"; a few dates hold only
a month. As with CNS, ``time_utc`` joins the record's date with its UTC clock time as
written; whether that date is the UTC or the Korean date is decided in reconciliation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ...model import parse
from . import ReadReport, records_frame

LANDING_SLUGS = {
    "sea-of-japan": "East Sea (Sea of Japan)",
    "yellow-sea": "Yellow Sea (West Sea)",
    "pacific-ocean": "Pacific Ocean",
    "north-korea": "North Korea (inland)",
}
TYPE_MAP = {
    "srbm": "SRBM", "crbm": "CRBM", "mrbm": "MRBM", "irbm": "IRBM", "icbm": "ICBM",
    "slbm": "SLBM", "slv": "SLV", "hgv": "HGV", "cruise": "cruise", "mlrs": "MLRS",
    "unknown": "unknown",
}
OUTCOMES = {"success": "success", "failure": "failure", "unknown": "unknown"}

COLUMNS = (
    "record", "year_bin", "series", "date", "date_precision", "time_utc_clock", "time_utc",
    "missile_key", "missile_name", "missile_class", "maneuver", "facility_key", "facility_name",
    "latitude", "longitude", "landing", "apogee_km", "apogee_km_max", "distance_km",
    "distance_km_max", "bearing", "outcome", "description", "glide",
)


def _paths(path: str | Path) -> tuple[Path, Path, Path]:
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    test = p if p.is_file() else folder / "test.en.json"
    return test, folder / "facility.en.json", folder / "missile.en.json"


def _load_json(path: Path, report: ReadReport) -> object:
    try:
        return json.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        report.notes.append(f"{path.name} is missing")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        report.notes.append(f"{path.name} is not valid JSON ({e})")
    return None


def read_nagix_records(path: str | Path) -> tuple[list[dict], ReadReport]:
    """Read test.en.json (path to it or to its folder) with keys resolved; one dict per record.

    ``record`` numbers the records 1.. in file order; problems are reported as
    "row N: field 'value' reason" with N that record number.
    """
    test_path, fac_path, mis_path = _paths(path)
    report = ReadReport(source=test_path.name, encoding="utf-8")
    tests = _load_json(test_path, report)
    facilities = (_load_json(fac_path, report) or {}).get("facilities", {})
    missiles = _load_json(mis_path, report) or {}
    if not isinstance(tests, dict):
        return [], report

    records: list[dict] = []
    n = 0
    for tbin in tests.get("timeBins", []):
        for r in tbin.get("data", []):
            n += 1
            report.rows_read += 1
            rec = dict.fromkeys(COLUMNS)
            rec["record"], rec["year_bin"] = n, tbin.get("year")
            rec["series"] = r.get("series")
            try:
                rec["date"], rec["date_precision"] = parse.parse_date(r.get("date"))
            except ValueError as e:
                report.add(n, "date", r.get("date"), str(e))
            try:
                clock = parse.parse_time(r.get("time"))
            except ValueError as e:
                clock = None
                report.add(n, "time", r.get("time"), str(e))
            rec["time_utc_clock"] = clock
            if clock and rec["date"] and rec["date_precision"] == "day":
                rec["time_utc"] = f"{rec['date']}T{clock}:00Z"

            mkey = r.get("missile")
            rec["missile_key"] = mkey
            m = missiles.get(mkey) if isinstance(mkey, str) else None
            if m is None:
                report.add(n, "missile", mkey, "is not a key in missile.en.json")
                rec["missile_class"] = "unknown"
            else:
                name = m.get("name")
                rec["missile_name"] = None if parse.is_null(name) else name
                rec["missile_class"] = TYPE_MAP.get(str(m.get("type", "unknown")).lower(), "unknown")
                rec["maneuver"] = m.get("maneuver")

            fkey = r.get("facility")
            rec["facility_key"] = fkey
            f = facilities.get(fkey) if isinstance(fkey, str) else None
            if f is None:
                report.add(n, "facility", fkey, "is not a key in facility.en.json")
            elif fkey != "unknown":  # the 'unknown' facility carries placeholder coordinates
                rec["facility_name"] = f.get("name")
                rec["latitude"], rec["longitude"] = f.get("lat"), f.get("lon")

            landing = r.get("landing")
            if isinstance(landing, str) and landing in LANDING_SLUGS:
                rec["landing"] = LANDING_SLUGS[landing]
            elif not parse.is_null(landing):
                report.add(n, "landing", landing, "is not a known landing area")

            for field, key in (("apogee", "apogee_km"), ("distance", "distance_km")):
                v = r.get(field)
                try:
                    rec[key], rec[key + "_max"] = parse.parse_km(v)
                except ValueError as e:
                    report.add(n, field, v, str(e))
            rec["bearing"] = r.get("bearing")
            outcome = str(r.get("outcome", "unknown")).lower()
            if outcome not in OUTCOMES:
                report.add(n, "outcome", r.get("outcome"), "is not success, failure or unknown")
            rec["outcome"] = OUTCOMES.get(outcome, "unknown")
            rec["description"] = parse.clean_text(r.get("description"))
            rec["glide"] = r.get("glide")
            records.append(rec)
    return records, report


def read_nagix(path: str | Path) -> tuple[pd.DataFrame, ReadReport]:
    """Read the nagix data (folder or test.en.json path) into a frame, one row per record."""
    records, report = read_nagix_records(path)
    return records_frame(records, COLUMNS), report


def read_facilities(path: str | Path) -> dict[str, dict]:
    """facility.en.json as {key: {name, lat, lon}}."""
    _, fac_path, _ = _paths(path)
    return json.loads(fac_path.read_text(encoding="utf-8"))["facilities"]


def read_missile_types(path: str | Path) -> dict[str, dict]:
    """missile.en.json as {key: {name, type, maneuver?}}."""
    _, _, mis_path = _paths(path)
    return json.loads(mis_path.read_text(encoding="utf-8"))


__all__ = ["read_nagix", "read_nagix_records", "read_facilities", "read_missile_types", "COLUMNS"]
