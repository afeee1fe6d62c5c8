"""Read the CNS North Korea Missile Test Database (NTI) export: one row per missile.

The CSV export is cp1252 with CRLF records and bare LF line breaks inside quoted cells;
the original workbook has the same 19 headers below a blank first row. Both are read
here. Nothing is reconciled yet: ``date`` is the CNS ``Date`` as written and
``time_utc`` joins that date with the ``Launch Time (UTC)`` clock time, exactly as the
column label claims. Whether the CNS date was really the UTC date or the Korean date is
decided later (see :mod:`nkbrief.importing.grouping`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...model import parse
from . import ReadReport, clean_sources, csv_records, decode_bytes, records_frame

HEADERS = (
    "F1", "Date", "Date Entered/Updated", "Launch Time (UTC)", "Missile Name", "Missile Type",
    "Launch Agency/Authority", "Facility Name", "Facility Location", "Other Name",
    "Facility Latitude", "Facility Longitude", "Landing Location", "Apogee",
    "Distance Travelled", "Confirmation Status", "Test Outcome", "Additional Information",
    "Source(s)",
)

#: CNS ``Missile Type`` -> schema class (compared case-insensitively).
CLASS_MAP = {
    "srbm": "SRBM", "crbm": "CRBM", "mrbm": "MRBM", "irbm": "IRBM", "icbm": "ICBM",
    "slbm": "SLBM", "slv": "SLV", "hgv": "HGV", "cruise": "cruise", "mlrs": "MLRS",
    "unknown": "unknown",
}
OUTCOME_MAP = {"success": "success", "failure": "failure", "fail": "failure", "unknown": "unknown"}
CONFIRMATION_MAP = {"confirmed": "confirmed", "unconfirmed": "unconfirmed"}

#: Output columns, in order.
COLUMNS = (
    "source_row", "row", "date", "date_precision", "date_entered", "time_utc_clock", "time_utc",
    "missile_name", "missile_class", "launch_agency", "facility_name", "facility_location",
    "other_name", "latitude", "longitude", "landing", "apogee_km", "apogee_km_max",
    "distance_km", "distance_km_max", "confirmation", "outcome", "additional_info", "sources",
)


def _rows_from_xlsx(path: Path, report: ReadReport, sheet: str | None = None
                    ) -> tuple[list[str], list[tuple[int, list[object]]]]:
    """Read a sheet of the NTI workbook (``sheet``, else the first); the header is the first
    non-blank row."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        header: list[str] | None = None
        out: list[tuple[int, list[object]]] = []
        for idx, values in enumerate(ws.iter_rows(values_only=True), start=1):
            vals = list(values)
            if not any(v not in (None, "") for v in vals):
                continue
            if header is None:
                header = ["" if v is None else str(v).strip() for v in vals]
                continue
            out.append((idx, vals))
    finally:
        wb.close()
    report.encoding = "xlsx"
    return header or [], out


def _text(v: object) -> str | None:
    """Cell text with line endings normalised and outer whitespace (incl. NBSP) removed."""
    if v is None:
        return None
    s = str(v).replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").strip()
    return s or None


def _mapped(v: object, mapping: dict[str, str], row: int, column: str, report: ReadReport,
            default: str | None) -> str | None:
    s = _text(v)
    if s is None:
        return default
    key = s.lower()
    if key in mapping:
        return mapping[key]
    if parse.is_null(s):
        return default
    report.add(row, column, s, f"is not one of {', '.join(sorted(set(mapping.values())))}")
    return default


def _key(name: object) -> str:
    return " ".join(str(name or "").split()).casefold()


def read_cns_records(path: str | Path, sheet: str | None = None) -> tuple[list[dict], ReadReport]:
    """Read the CNS file into one dict per input row (see :data:`COLUMNS`) plus a report.

    Every edition is read by its column names (case and spacing aside), wherever they
    stand: the 2017 workbook has 18 columns and no ``Launch Time (UTC)``; its dates are
    then CNS's as written, and the Korean date is decided as for the bundled data.
    """
    p = Path(path)
    report = ReadReport(source=p.name)
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        header, raw_rows = _rows_from_xlsx(p, report, sheet)
    else:
        text = decode_bytes(p.read_bytes(), report)
        header, raw_rows = csv_records(text)
    by_key = {_key(h): i for i, h in enumerate(header)}
    index = {h: by_key[_key(h)] for h in HEADERS if _key(h) in by_key}
    missing = [h for h in HEADERS if h not in index]
    if "Launch Time (UTC)" in missing:
        missing.remove("Launch Time (UTC)")
        report.notes.append("no 'Launch Time (UTC)' column (an edition without launch times, as in 2017): "
                            "each date is taken as CNS wrote it")
    if missing:
        report.notes.append("missing columns: " + ", ".join(missing))

    def cell(cells: list, name: str) -> object:
        i = index.get(name)
        if i is None or i >= len(cells):
            return None
        return cells[i]

    records: list[dict] = []
    for row, cells in raw_rows:
        report.rows_read += 1
        rec: dict = dict.fromkeys(COLUMNS)
        rec["row"] = row
        rec["sources"] = []

        f1 = cell(cells, "F1")
        try:
            rec["source_row"] = parse.parse_int(f1)
        except ValueError as e:
            report.add(row, "F1", f1, str(e))

        raw_date = cell(cells, "Date")
        try:
            rec["date"], rec["date_precision"] = parse.parse_date(raw_date)
        except ValueError as e:
            report.add(row, "Date", raw_date, str(e))

        raw_entered = cell(cells, "Date Entered/Updated")
        if not parse.is_null(raw_entered):
            try:
                rec["date_entered"] = parse.parse_date(raw_entered)[0]
            except ValueError as e:
                report.add(row, "Date Entered/Updated", raw_entered, str(e))

        raw_time = cell(cells, "Launch Time (UTC)")
        try:
            clock = parse.parse_time(raw_time)
        except ValueError as e:
            clock = None
            report.add(row, "Launch Time (UTC)", raw_time, str(e))
        rec["time_utc_clock"] = clock
        if clock and rec["date"] and rec["date_precision"] == "day":
            rec["time_utc"] = f"{rec['date']}T{clock}:00Z"
        elif clock and rec["date"]:
            report.add(row, "Launch Time (UTC)", raw_time,
                       "is given for a date known only to the " + str(rec["date_precision"]))

        name = _text(cell(cells, "Missile Name"))
        rec["missile_name"] = None if parse.is_null(name) else name
        rec["missile_class"] = _mapped(cell(cells, "Missile Type"), CLASS_MAP, row, "Missile Type",
                                       report, "unknown")
        for col, key in (("Launch Agency/Authority", "launch_agency"), ("Facility Name", "facility_name"),
                         ("Facility Location", "facility_location"), ("Other Name", "other_name"),
                         ("Landing Location", "landing")):
            v = _text(cell(cells, col))
            rec[key] = None if parse.is_null(v) else v

        for col, key in (("Facility Latitude", "latitude"), ("Facility Longitude", "longitude")):
            v = cell(cells, col)
            try:
                rec[key] = parse.parse_float(v)
            except ValueError as e:
                report.add(row, col, v, str(e))
        if rec["latitude"] is not None and not -90 <= rec["latitude"] <= 90:
            report.add(row, "Facility Latitude", rec["latitude"], "is not a latitude (-90 to 90)")
            rec["latitude"] = None
        if rec["longitude"] is not None and not -180 <= rec["longitude"] <= 180:
            report.add(row, "Facility Longitude", rec["longitude"], "is not a longitude (-180 to 180)")
            rec["longitude"] = None
        if (rec["latitude"] is None) != (rec["longitude"] is None):
            rec["latitude"] = rec["longitude"] = None

        for col, key in (("Apogee", "apogee_km"), ("Distance Travelled", "distance_km")):
            v = cell(cells, col)
            try:
                rec[key], rec[key + "_max"] = parse.parse_km(v)
            except ValueError as e:
                report.add(row, col, v, str(e))

        rec["confirmation"] = _mapped(cell(cells, "Confirmation Status"), CONFIRMATION_MAP, row,
                                      "Confirmation Status", report, None)
        rec["outcome"] = _mapped(cell(cells, "Test Outcome"), OUTCOME_MAP, row, "Test Outcome",
                                 report, "unknown")
        rec["additional_info"] = _text(cell(cells, "Additional Information"))
        rec["sources"] = clean_sources(parse.split_sources(_text(cell(cells, "Source(s)"))))
        records.append(rec)
    return records, report


def read_cns_csv(path: str | Path) -> tuple[pd.DataFrame, ReadReport]:
    """Read the CNS CSV (or the NTI .xlsx) into a frame with one row per input row.

    Columns are :data:`COLUMNS`; missing values are ``None`` (object dtype), ``sources``
    holds lists. ``row`` is the line (sheet row for .xlsx) where the record starts, with
    the header on row 1; ``source_row`` is CNS's own ``F1`` number.
    """
    records, report = read_cns_records(path)
    return records_frame(records, COLUMNS), report



__all__ = ["read_cns_csv", "read_cns_records", "HEADERS", "COLUMNS", "CLASS_MAP"]
