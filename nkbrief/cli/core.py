"""Core commands: list, show, calendar, init."""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import sys
from json.encoder import encode_basestring as _json_str
from pathlib import Path

from ..model import rules, schema
# Deferred (start-up): the project modules a command needs are imported inside it (see
# COMMAND_MODULES in nkbrief/cli/__init__.py for the measurement).
from ..analysis.totals import missile_totals
from ..cli import CliError, _add_db, open_store


def date_arg(flag: str, value: str | None, *, end: bool = False) -> str | None:
    """Check a --from/--to value; 'YYYY' and 'YYYY-MM' widen to the whole year/month."""
    if value is None:
        return None
    v = value.strip()
    try:
        if len(v) == 4 and v.isdigit():
            return f"{v}-12-31" if end else f"{v}-01-01"
        if len(v) == 7:
            d = _dt.date.fromisoformat(v + "-01")
            if end:
                nxt = (d.replace(day=28) + _dt.timedelta(days=4)).replace(day=1)
                return (nxt - _dt.timedelta(days=1)).isoformat()
            return d.isoformat()
        return _dt.date.fromisoformat(v).isoformat()
    except ValueError:
        raise CliError(f"{flag} {value!r} is not a date (use YYYY-MM-DD)") from None


def class_arg(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    lookup = {c.lower(): c for c in schema.MISSILE_CLASSES}
    out = []
    for raw in values:
        for v in raw.split(","):
            c = lookup.get(v.strip().lower())
            if c is None:
                raise CliError(f"--class {v.strip()!r} is not a missile class "
                               f"({', '.join(schema.MISSILE_CLASSES)})")
            out.append(c)
    return out


def add_range_args(p) -> None:
    p.add_argument("--from", dest="date_from", metavar="DATE", help="first Korean date (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="last Korean date (YYYY-MM-DD)")


def selected_frame(store, args):
    """The events a command works on: --from/--to/--class (and --ids where the command has it)."""
    df = store.events_frame(date_from=date_arg("--from", args.date_from),
                            date_to=date_arg("--to", args.date_to, end=True),
                            classes=class_arg(getattr(args, "classes", None)))
    ids = getattr(args, "ids", None)
    if ids:
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        missing = [i for i in wanted if i not in set(df["id"])]
        if missing:
            raise CliError(f"--ids: no event with id {missing[0]!r}")
        df = df[df["id"].isin(wanted)]
    return df


def warn_values_outside_rules(bad: list[dict]) -> None:
    """The store holds values no rule allows (another program wrote them, see
    :meth:`Store.values_outside_rules`): say so in one line on stderr."""
    from ..common import shown

    b = bad[0]
    more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
    sys.stderr.write(f"nkbrief: note: the store holds values outside the rules: "
                     f"event {shown(b['id'])!r} {b['field']} {shown(b['value'])!r} {b['reason']}"
                     f"{more} (see nkbrief selfcheck)\n")


def _fmt_count(v, qualifier=None) -> str:
    """'≥7', '2', '?' when unknown; a stored value outside the rules exactly as stored."""
    if v is None:
        return "?"
    if isinstance(v, int) and not isinstance(v, bool) and rules.COUNT_MIN <= v <= rules.COUNT_MAX:
        return schema.number_text(v, None, qualifier)
    return str(v)


def _fmt_km(v, vmax, qualifier=None) -> str:
    """'~350 km', '>700 km', '360–540 km', '-' when unknown (schema.number_text)."""
    if v is None:
        return "-"
    if not isinstance(v, (int, float)) or not isinstance(vmax, (int, float, type(None))):
        # a stored value outside the rules may be text: shown as it is, cut short
        return str(v)[:10] + (f"–{str(vmax)[:10]}" if vmax is not None else "") + " km"
    return schema.number_text(round(v), None if vmax is None else round(vmax), qualifier, "km")


def _event_columns(store, args):
    """The events ``list`` prints, a chunk at a time (see Store.iter_event_columns)."""
    return store.iter_event_columns(date_from=date_arg("--from", args.date_from),
                                    date_to=date_arg("--to", args.date_to, end=True),
                                    classes=class_arg(getattr(args, "classes", None)))


def _records(chunks):
    for keys, cols in chunks:
        yield [dict(zip(keys, r)) for r in zip(*cols)]


def write_json_list(out, chunks, *, pretty: bool = False) -> None:
    """Write the records of ``chunks`` (lists of dicts) to ``out`` as one JSON list, a chunk
    at a time: the same text ``json.dumps(all_records)`` gives (with ``indent=1`` when
    ``pretty``, else compact), without ever holding more than one chunk."""
    if pretty:
        opts, head, sep, tail = {"indent": 1}, "[\n", ",\n", "\n]"
    else:
        opts, head, sep, tail = {"separators": (",", ":")}, "[", ",", "]"
    first = True
    for records in chunks:
        if not records:
            continue
        text = json.dumps(records, ensure_ascii=False, **opts)
        # the chunk's own brackets off; the records between them joined as one list's
        out.write((head if first else sep) + text[len(head):-len(tail)])
        first = False
    out.write("[]\n" if first else tail + "\n")


_NoneType = type(None)
_SCALAR_REPR = {str: _json_str, int: int.__repr__, float: float.__repr__}


def _json_float(v: float) -> str:
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    return float.__repr__(v)


def json_column(values: list) -> list[str]:
    """Each value as compact ``json.dumps(v, ensure_ascii=False)`` would write it, a whole
    column at once: for a column of one scalar type (blanks aside) one C call per cell and
    no Python-level loop; anything else value by value."""
    kinds = set(map(type, values)) - {_NoneType}
    if not kinds:
        return ["null"] * len(values)
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind is bool:
            enc = {True: "true", False: "false", None: "null"}
            return list(map(enc.__getitem__, values))
        if kind is list:
            flat = list(itertools.chain.from_iterable(v for v in values if v is not None))
            if set(map(type, flat)) <= {str}:
                return ["null" if v is None else "[" + ",".join(map(_json_str, v)) + "]" for v in values]
        elif kind in _SCALAR_REPR:
            import numpy as np

            enc = _SCALAR_REPR[kind]
            if not values.count(None):
                known_values, known = values, None
            else:
                arr = np.array(values, dtype=object)
                known = np.not_equal(arr, None)  # elementwise, in C
                known_values = arr[known].tolist()
            # NaN and infinities are written as json.dumps writes them (below)
            if kind is not float or np.isfinite(np.array(known_values, dtype=float)).all():
                if known is None:
                    return list(map(enc, values))
                out = np.full(len(values), "null", dtype=object)
                out[known] = list(map(enc, known_values))
                return out.tolist()
    return [_json_float(v) if v.__class__ is float else json.dumps(v, ensure_ascii=False, separators=(",", ":"))
            for v in values]


def write_json_columns(out, chunks) -> None:
    """Compact ``json.dumps(records, ensure_ascii=False, separators=(",", ":"))`` of the
    records in ``chunks`` of ``(keys, columns)``, written a chunk at a time (the same text,
    checked in tests/core/test_list_json.py), without building a dict per record."""
    first = True
    for keys, cols in chunks:
        if not cols or not cols[0]:
            continue
        row = "{" + ",".join(f"{_json_str(k)}:%s" for k in keys) + "}"
        text = ",".join(row % t for t in zip(*map(json_column, cols)))
        out.write(("[" if first else ",") + text)
        first = False
    out.write("[]\n" if first else "]\n")


def cmd_list(args) -> int:
    with open_store(args) as store:
        bad = store.values_outside_rules()
        if bad:  # shown as stored (the rows are read as they are), and said once on stderr
            warn_values_outside_rules(bad)
        chunks = _event_columns(store, args)
        if args.json:
            if args.pretty:
                write_json_list(sys.stdout, _records(chunks), pretty=True)
            else:
                write_json_columns(sys.stdout, chunks)
            return 0
        out = sys.stdout
        out.write(f"{'date':<10}  {'KST':<5}  {'class':<7}  {'n':>3}  {'distance':>13}  {'apogee':>11}  "
                  f"{'name':<28}  site\n")
        counts, rows, quals = [], [], []
        for records in _records(chunks):
            lines = []
            for r in records:
                date = r["date"] if r["date_precision"] == "day" else r["date"][:7] if r["date_precision"] == "month" else r["date"][:4]
                lines.append(f"{date:<10}  {r['time_kst'] or '':<5}  {r['missile_class']:<7}  "
                             f"{_fmt_count(r['count'], r.get('count_qualifier')):>3}  "
                             f"{_fmt_km(r['distance_km'], r['distance_km_max'], r.get('distance_qualifier')):>13}  "
                             f"{_fmt_km(r['apogee_km'], r['apogee_km_max'], r.get('apogee_qualifier')):>11}  "
                             f"{(r['missile_name'] or '')[:28]:<28}  {r['launch_site'] or ''}\n")
                counts.append(r["count"])
                rows.append(r["missiles"])
                quals.append(r.get("count_qualifier"))
            out.write("".join(lines))
        t = missile_totals(counts, rows, quals)  # nkbrief.analysis.totals: the one definition
        out.write(f"{len(counts)} events · {t.text()} · {sum(x or 0 for x in rows)} per-missile records\n")
    return 0


def cmd_show(args) -> int:
    with open_store(args) as store:
        ev = store.get_event(args.id)
        if ev is None:
            raise CliError(f"no event with id {args.id!r}")
        ev["missiles"] = store.missiles(args.id)
        ev["statements"] = store.statements(args.id)
        ev["calendar_context"] = show_calendar_context(ev, store.calendar_frame())
        ev["version"] = store.event_version(args.id)  # for edit --if-version
    json.dump(ev, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


def show_calendar_context(ev: dict, calendar) -> list[dict]:
    """``show``'s ``calendar_context``: nkbrief.analysis.context.calendar_context as plain records."""
    from ..analysis.context import calendar_context, context_record

    return [context_record(n) for n in calendar_context(ev["date"], calendar, ev.get("date_precision"))]


def cmd_calendar(args) -> int:
    from ..store import frame_records

    with open_store(args) as store:
        df = store.calendar_frame()
    if args.category:
        if args.category not in schema.CALENDAR_CATEGORIES:
            raise CliError(f"--category {args.category!r} is not one of "
                           f"{', '.join(schema.CALENDAR_CATEGORIES)}")
        df = df[df["category"] == args.category]
    records = frame_records(df)
    if args.json:
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    for r in records:
        span = r["date"] + (f" to {r['end_date']}" if r["end_date"] else "")
        sys.stdout.write(f"{span:<24}  {r['category']:<14}  {r['title']}\n")
    sys.stdout.write(f"{len(records)} calendar entries\n")
    return 0


def cmd_init(args) -> int:
    from ..store import Store, default_db_path, default_db_target, is_server_target

    if is_server_target(getattr(args, "db", None) or default_db_target()):
        raise CliError("init makes a store file; a team store on a server is set up with "
                       "'nkbrief admin init-server URL'", 2)
    path = Path(args.db) if getattr(args, "db", None) else default_db_path()
    if path.exists() and path.stat().st_size > 0:
        raise CliError(f"{path} already exists; init makes a new store only")
    store = Store.open(path, seed=not args.empty)
    n = store.event_count()
    store.close()
    kind = "empty store" if args.empty else f"store with {n} bundled events"
    sys.stdout.write(f"created {kind} at {path}\n")
    return 0


def register(sub) -> None:
    p = sub.add_parser("list", help="list events")
    add_range_args(p)
    p.add_argument("--class", dest="classes", action="append", metavar="C",
                   help="missile class (repeat or comma-separate)")
    p.add_argument("--json", action="store_true", help="a JSON list of event objects (compact; "
                   "written as it is read, so memory stays flat however many events)")
    p.add_argument("--pretty", action="store_true", help="with --json: indented, one field a line")
    _add_db(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="one event with its missiles, statements and calendar context, as JSON")
    p.add_argument("id")
    p.add_argument("--json", action="store_true", help="JSON output (the only output; accepted for scripts)")
    _add_db(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("calendar", help="list the political calendar")
    p.add_argument("--category", help="only this category")
    p.add_argument("--json", action="store_true")
    _add_db(p)
    p.set_defaults(func=cmd_calendar)

    p = sub.add_parser("init", help="create a new store")
    p.add_argument("--empty", action="store_true", help="without the bundled dataset")
    _add_db(p)
    p.set_defaults(func=cmd_init)
