"""Import adapters for the three public datasets, built on their readers and on the grouping.

The CNS database (CSV or the NTI workbook), the nagix ``test.en.json`` and the CSIS
provocations CSV are read by :mod:`nkbrief.importing.io.cns`, :mod:`nkbrief.importing.io.nagix` and
:mod:`nkbrief.importing.io.csis`, and grouped into events by :mod:`nkbrief.importing.grouping`, the same code
that groups the bundled dataset (``scripts/dataset/grouping.py`` builds on it), so that an imported public file yields the events (and
ids) the bundled data has wherever the date decision is the same. Here we only add what
import needs: every input row accounted for as part of an event, rejected (with the
reader's reasons) or skipped (with a reason).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .. import grouping
from ...model import schema
from . import RowProblem
from .cns import read_cns_records
from .csis import MISSILE_TYPE, read_csis_records
from .nagix import read_nagix_records

#: CNS header cells that identify the database in every edition (the CSV export, the NTI
#: workbook with a launch-time column, the 2017 workbook without one), compared case- and
#: space-insensitively. The edition is told by its columns, not by one fixed header.
CNS_SIGNATURE = {"Date", "Missile Name", "Missile Type", "Facility Name", "Apogee", "Distance Travelled"}
CSIS_HEADER = ["date", "type", "event", "description", "resources"]


@dataclass
class PublicResult:
    """Events built from a public file, with every row accounted for."""

    kind_label: str
    rows_total: int
    events: list[tuple[dict, list[dict], list[int]]] = field(default_factory=list)  # (event, missiles, rows)
    rejections: list[RowProblem] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _names(header: list[str]) -> set[str]:
    return {" ".join(str(h).split()).casefold() for h in header}


def is_cns(header: list[str]) -> bool:
    return {h.casefold() for h in CNS_SIGNATURE} <= _names(header)


def cns_edition(header: list[str]) -> str:
    """Which CNS layout a header is, by its columns."""
    names = _names(header)
    if "launch time (utc)" in names:
        return "with a launch-time (UTC) column"
    return f"{len(header)} columns, no launch-time column (as the 2017 edition)"


def is_csis(header: list[str]) -> bool:
    return [h.strip().lower() for h in header] == CSIS_HEADER


def _problems_by_row(report) -> dict[int, list[RowProblem]]:
    out: dict[int, list[RowProblem]] = defaultdict(list)
    for p in report.problems:
        out[p.row].append(p)
    return out


def _build_from_shots(shots: list, rows_of: dict[int, int], result: PublicResult) -> None:
    log = grouping.Log()
    events = grouping.group_shots(shots, grouping.CsisIndex([]), log)
    for ev in events:
        grouping.fill_from_shots(ev)
        finished = grouping.finish_event(ev)
        missiles = grouping.missile_rows(ev, finished["id"])
        for m in missiles:
            m.pop("event_id", None)
        rows = sorted(rows_of[id(s)] for s in ev.shots)
        result.events.append((finished, missiles, rows))


def _build_from_records(records, report, result: PublicResult, row_key: str, date_column: str,
                        make_shot) -> None:
    """Per-missile records -> shots (rejecting rows with problems or no date) -> events."""
    bad = _problems_by_row(report)
    shots, rows_of = [], {}
    for r in records:
        row = r[row_key]
        if row in bad:
            result.rejections.extend(bad[row])
            continue
        if r["date"] is None:
            result.rejections.append(RowProblem(row, date_column, None, "is not a date"))
            continue
        s = make_shot(r, row)
        shots.append(s)
        rows_of[id(s)] = row
    result.notes.extend(report.notes)
    _build_from_shots(shots, rows_of, result)


def read_cns(path: Path, sheet: str | None = None) -> PublicResult:
    """CNS rows (one per missile) -> events, as the bundled dataset groups them."""
    records, report = read_cns_records(path, sheet=sheet)
    result = PublicResult("CNS North Korea Missile Test Database", report.rows_read)

    def shot(r: dict, row: int) -> grouping.Shot:
        return grouping.Shot(
            src="cns", ref=f"CNS F1 {r['source_row']}" if r["source_row"] is not None else f"CNS row {row}",
            num=r["source_row"] or row,
            raw_date=r["date"], precision=r["date_precision"], clock=r["time_utc_clock"],
            name=r["missile_name"], cls=r["missile_class"], site=r["facility_name"],
            site_key=r["facility_name"], lat=r["latitude"], lon=r["longitude"],
            landing=grouping.landing_name(r["landing"]), apo=r["apogee_km"],
            apo_max=r["apogee_km_max"], dist=r["distance_km"], dist_max=r["distance_km_max"],
            outcome=r["outcome"], confirmation=r["confirmation"], text=r["additional_info"],
            sources=r["sources"], other_name=r["other_name"])

    _build_from_records(records, report, result, "row", "Date", shot)
    return result


def nagix_lookup_missing(path: Path) -> list[str]:
    folder = path.parent
    return [n for n in ("facility.en.json", "missile.en.json") if not (folder / n).is_file()]


def read_nagix(path: Path) -> PublicResult:
    """nagix test records (one per missile) -> events."""
    records, report = read_nagix_records(path)
    result = PublicResult("nagix nk-missile-tests (test.en.json)", report.rows_read)

    def shot(r: dict, row: int) -> grouping.Shot:
        return grouping.Shot(
            src="nagix", ref=f"nagix record {row}", num=row, raw_date=r["date"],
            precision=r["date_precision"], clock=r["time_utc_clock"], name=r["missile_name"],
            cls=r["missile_class"], site=grouping.fix_name(r["facility_name"]), site_key=r["facility_key"],
            lat=r["latitude"], lon=r["longitude"], landing=r["landing"], apo=r["apogee_km"],
            apo_max=r["apogee_km_max"], dist=r["distance_km"], dist_max=r["distance_km_max"],
            outcome=r["outcome"], confirmation=None, text=r["description"], sources=[])

    _build_from_records(records, report, result, "record", "date", shot)
    return result


def read_csis(path: Path) -> PublicResult:
    """CSIS missile rows -> events; other provocations and non-launches are skipped."""
    records, report = read_csis_records(path, missiles_only=False)
    result = PublicResult("CSIS Beyond Parallel provocations database", report.rows_read)
    bad = _problems_by_row(report)
    launches = []
    for r in records:
        row = r["row"]
        if r["type"] != MISSILE_TYPE:
            result.skipped.append((row, f"type '{r['type']}' is not a missile launch"))
        elif not r["is_launch"]:
            result.skipped.append((row, f"a missile row but {r['class_note']}"))
        elif row in bad:
            result.rejections.extend(bad[row])
        elif r["date"] is None:
            result.rejections.append(RowProblem(row, "date", None, "is not a date"))
        else:
            launches.append(r)
    log = grouping.Log()
    events = grouping.match_csis([], sorted(launches, key=lambda r: (r["date"], r["row"])), log)
    for ev in events:
        grouping.fill_from_csis_only(ev)
        for r, how in ev.csis[1:]:
            ev.notes.append(f"CSIS {r['date']} '{r['event']}' also describes this launch ({how}).")
        grouping.apply_csis_matches(ev, ev.csis[1:])
        finished = grouping.finish_event(ev)
        result.events.append((finished, [], sorted(r["row"] for r, _ in ev.csis)))
    result.notes.extend(report.notes)
    return result


def event_fields(ev: dict) -> dict:
    """Only the schema's event fields, in order."""
    return {k: ev.get(k) for k in schema.EVENT_FIELDS}


__all__ = ["PublicResult", "is_cns", "cns_edition", "is_csis", "read_cns", "read_nagix", "read_csis",
           "nagix_lookup_missing", "CNS_SIGNATURE"]
