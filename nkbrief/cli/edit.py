"""edit: change fields of one event headlessly, with an optional version check.

``nkbrief edit ID FIELD=VALUE... [--if-version N]``. Values are read as an import reads a
colleague's cell (:func:`nkbrief.importing.convert.make_converter`: '350-400 km', 'yes', '15:50'),
then the whole event is checked by the store (:func:`nkbrief.model.schema.validate_event`).
``FIELD=`` with nothing after it clears the field. On success the event's new version is
printed; when the event changed since version N, nothing is written, one line says who
changed it and when, and the exit status is 3.
"""

from __future__ import annotations

import sys

# Deferred (start-up): the project modules a command needs are imported inside it (see
# COMMAND_MODULES in nkbrief/cli/__init__.py for the measurement).
from ..cli import CliError, _add_db, open_store
from ..model import schema

#: Exit status for an edit refused because the event changed since the given version.
EXIT_CONFLICT = 3

#: Fields an edit may not set: the id names the event (a new id is a new event).
_FIXED = ("id",)


def parse_assignments(pairs: list[str]) -> dict:
    """['count=2', 'distance_km=350-400'] -> the typed changes; CliError on bad input."""
    from ..importing.convert import CellError, make_converter

    editable = [f for f in schema.EVENT_FIELDS if f not in _FIXED]
    changes: dict = {}
    given: set[str] = set()
    precision_from_date = None
    for pair in pairs:
        name, eq, raw = pair.partition("=")
        name = name.strip()
        if not eq or not name:
            raise CliError(f"edit: {pair!r} is not FIELD=VALUE", code=2)
        if name in _FIXED:
            raise CliError(f"edit: {name} cannot be changed (it names the event)")
        if name not in schema.EVENT_FIELDS:
            raise CliError(f"edit: {name!r} is not an event field ({', '.join(editable)})")
        if name in given:
            raise CliError(f"edit: {name} is given twice")
        given.add(name)
        if raw.strip() == "":
            blank = name in ("description", "notes", "sources")  # these hold "" / [] when empty
            changes[name] = schema.empty_event()[name] if blank else None
            continue
        try:
            out = make_converter(name, None, False)(raw)
        except CellError as e:
            raise CliError(f"edit: {name} {raw!r} {e}") from None
        precision_from_date = out.pop("_precision_from_date", precision_from_date)
        if name in ("distance_km", "apogee_km"):
            out.setdefault(name + "_max", None)  # a single number replaces a range
        for k, v in out.items():
            if k == name or k not in given:
                changes[k] = v
    if precision_from_date and precision_from_date != "day" and "date_precision" not in given:
        changes["date_precision"] = precision_from_date  # '2026-05' is a month-only date
    return changes


def _with_derived_utc(old: dict, changes: dict) -> dict:
    """A new date or Korean time also gives the UTC time (as the edit dialog does), unless
    the UTC time is given too."""
    if "time_utc" in changes or not {"date", "time_kst", "date_precision"} & set(changes):
        return changes
    new = old | changes
    utc = None
    if new.get("date") and new.get("time_kst") and new.get("date_precision") == "day":
        utc = schema.kst_to_utc(new["date"], new["time_kst"])
    return changes | {"time_utc": utc} if utc != old.get("time_utc") else changes


def cmd_edit(args) -> int:
    from ..store import VersionConflict

    changes = parse_assignments(args.assignments)
    if args.if_version is not None and args.if_version < 1:
        raise CliError(f"--if-version {args.if_version} is not a version (versions start at 1)", code=2)
    with open_store(args) as store:
        old = store.get_event(args.id)
        if old is None:
            raise CliError(f"no event with id {args.id!r}")
        try:
            _, version = store.edit_event(args.id, _with_derived_utc(old, changes),
                                          if_version=args.if_version)
        except VersionConflict as e:
            raise CliError(str(e), code=EXIT_CONFLICT) from None
    sys.stdout.write(f"{version}\n")
    return 0


def register(sub) -> None:
    p = sub.add_parser("edit", help="change fields of one event: edit ID FIELD=VALUE... "
                       "[--if-version N]; prints the new version, exits 3 if the event changed since N")
    p.add_argument("id", help="the event's id (see list / show)")
    p.add_argument("assignments", nargs="+", metavar="FIELD=VALUE",
                   help="a field and its new value (FIELD= clears it)")
    p.add_argument("--if-version", type=int, metavar="N",
                   help="refuse (exit 3) unless the event is still at version N (show prints it)")
    _add_db(p)
    p.set_defaults(func=cmd_edit)
