"""Timing and calendar commands: timing, calendar-import, calendar-export, calendar-add,
calendar-edit, calendar-delete."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .. import schema
from ..cli import CliError, _add_db, open_store
from ..totals import frame_totals
from .core import add_range_args, date_arg, selected_frame


def _categories(values):
    from ..timing import parse_categories

    try:
        return parse_categories(values)
    except ValueError as e:
        raise CliError(f"--{e}") from None


def last_observed_day(store) -> str | None:
    """The latest day-precision launch in the whole store: the end of the data's coverage."""
    row = store.execute("SELECT MAX(date) FROM events "
                        "WHERE COALESCE(date_precision, 'day') = 'day'").fetchone()
    return row[0] if row else None


def cmd_timing(args) -> int:
    from ..timing import timing_analysis

    cats = _categories(args.category)
    if args.window < 1 or args.window > 3650:
        raise CliError(f"--window {args.window} must be from 1 to 3,650 days")
    if args.simulations < 1 or args.simulations > 1_000_000:
        raise CliError(f"--simulations {args.simulations} must be from 1 to 1,000,000")
    if args.seed is not None and args.seed < 0:
        raise CliError(f"--seed {args.seed} must be 0 or more")
    date_from = date_arg("--from", args.date_from)
    date_to = date_arg("--to", args.date_to, end=True)
    if date_from and date_to and date_to < date_from:
        raise CliError(f"--to {args.date_to!r} is before --from {args.date_from!r}")
    with open_store(args) as store:
        events = selected_frame(store, args)
        calendar = store.calendar_frame()
        until = last_observed_day(store)
    res = timing_analysis(events, calendar, cats, window=args.window, date_from=date_from,
                          date_to=date_to, observed_until=until, seed=args.seed,
                          simulations=args.simulations)
    if res.get("date_from") and res.get("date_to"):  # the events of the analysed period
        span = events[(events["date"] >= res["date_from"]) & (events["date"] <= res["date_to"])]
        t = frame_totals(span)  # nkbrief.totals: the same number as the status bar and the pack
        res["missiles_fired"] = {"missiles": t.missiles, "events_with_no_reported_number": t.no_number,
                                 "lower_bound": t.lower_bound, "text": t.text()}
    if args.json:
        json.dump(res, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    _print_timing(res, sys.stdout)
    return 0


def _print_timing(res: dict, out) -> None:
    from ..timing import format_p

    out.write(res["summary"] + "\n\n")
    if not res["launches"]:
        return
    ratio = f"{res['ratio']:.2f} times expected" if res["ratio"] is not None else "no expectation (0)"
    lo, hi = res["null_interval"]
    rows = [
        ("categories", f"{', '.join(res['category'])} ({res['calendar_entries']} entries)"),
        ("window", f"1 to {res['window_days']} days before an entry starts"),
        ("launch days", f"{res['launches']} ({res['events']} events; counted by distinct launch day)"),
        ("within window", f"{res['within_window']} launch days ({res['within_window_events']} events)"),
        *([("missiles", res["missiles_fired"]["text"])] if "missiles_fired" in res else []),
        ("expected", f"{res['expected']:.2f} (sd {res['null_sd']:.2f}; 95% of simulations {lo} to {hi})"),
        ("effect", f"{ratio}; {res['excess']:+.2f} launch days"),
        ("p-value", f"{res['p_value']:.4f} ({format_p(res['p_value'])}; {res['simulations']:,} simulations, "
                    f"seed {res['seed']}; exact {res['p_value_exact']:.4f})"),
        ("period", f"{res['date_from']} to {res['date_to']}"),
        ("null model", res["null_model"]),
    ]
    if res["excluded"]:
        rows.append(("left out", f"{len(res['excluded'])} events known only to the month or year"))
    for k, v in rows:
        out.write(f"{k:<14}{v}\n")
    out.write(f"{'repeat with':<14}--seed {res['seed']}\n\n")
    out.write(f"{'date':<10}  {'in':<2}  {'days':>4}  {'next entry':<40}  {'days':>4}  previous entry\n")
    for r in res["per_launch"]:
        nxt, prv = r["next"], r["previous"]
        out.write(f"{r['date']:<10}  {'*' if r['within_window'] else '':<2}  "
                  f"{nxt['days'] if nxt else '-':>4}  {_short(nxt['title'] if nxt else '', 40):<40}  "
                  f"{prv['days'] if prv else '-':>4}  {_short(prv['title'] if prv else '', 40)}\n")
    out.write("* = within the window. days = days until the next entry starts / "
              "since the previous one ended.\n")


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# ------------------------------------------------------------------ calendar editing
def cmd_calendar_import(args) -> int:
    from ..calendar_io import CalendarImportError, import_calendar_csv, read_calendar_csv

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path}: no such file")
    if args.dry_run:
        entries, rep = read_calendar_csv(path)
        if not rep.ok:
            _print_problems(rep.messages())
            raise CliError(f"{path.name}: {len(rep.problems)} problems; the file would be rejected")
        sys.stdout.write(f"{path.name}: {len(entries)} entries would be imported\n")
        return 0
    with open_store(args) as store:
        try:
            res = import_calendar_csv(store, path)
        except CalendarImportError as e:
            _print_problems(e.problems)
            raise CliError(f"{path.name}: {len(e.problems)} problems; nothing was imported") from None
    sys.stdout.write(f"{path.name}: {res.added} added, {res.updated} updated, {res.identical} identical "
                     f"(batch {res.batch_id})\n")
    return 0


def _print_problems(problems: list[str], limit: int = 50) -> None:
    for m in problems[:limit]:
        sys.stderr.write(f"  {m}\n")
    if len(problems) > limit:
        sys.stderr.write(f"  … and {len(problems) - limit} more\n")


def cmd_calendar_export(args) -> int:
    from ..calendar_io import export_calendar_csv

    with open_store(args) as store:
        df = store.calendar_frame()
    path = export_calendar_csv(df, args.file)
    sys.stdout.write(f"wrote {len(df)} calendar entries to {path}\n")
    return 0


def _cells(args) -> dict:
    cells = {}
    for name in ("id", "date", "end_date", "category", "title", "description"):
        v = getattr(args, name, None)
        if v is not None:
            cells[name] = v
    if getattr(args, "source", None) is not None:
        cells["sources"] = " ; ".join(args.source)
    return cells


def cmd_calendar_add(args) -> int:
    from ..calendar_io import add_entry

    with open_store(args) as store:
        entry = add_entry(store, _cells(args))
    sys.stdout.write(f"added calendar entry {entry['id']!r}\n")
    return 0


def cmd_calendar_edit(args) -> int:
    from ..calendar_io import edit_entry

    cells = _cells(args)
    cells.pop("id", None)
    if not cells:
        raise CliError("calendar-edit: give at least one field to change (--date, --title, ...)")
    with open_store(args) as store:
        old, new = edit_entry(store, args.entry_id, cells)
    if not new:
        sys.stdout.write(f"calendar entry {args.entry_id!r} unchanged\n")
    else:
        sys.stdout.write(f"changed {', '.join(sorted(new))} of calendar entry {args.entry_id!r}\n")
    return 0


def cmd_calendar_delete(args) -> int:
    from ..calendar_io import delete_entry

    with open_store(args) as store:
        old = delete_entry(store, args.entry_id)
    sys.stdout.write(f"deleted calendar entry {old['id']!r} ({old['date']}, {old['title']})\n")
    return 0


def _entry_args(p, *, adding: bool) -> None:
    p.add_argument("--date", required=adding, help="first day, YYYY-MM-DD (Korean date)")
    p.add_argument("--end-date", dest="end_date", help="last day of a multi-day entry ('' clears it)")
    p.add_argument("--category", required=adding, help=", ".join(schema.CALENDAR_CATEGORIES))
    p.add_argument("--title", required=adding)
    p.add_argument("--description")
    p.add_argument("--source", action="append", metavar="TEXT",
                   help="a source (repeat for several; on edit, replaces the list)")


def register(sub) -> None:
    from ..timing import DEFAULT_SIMULATIONS, DEFAULT_WINDOW

    p = sub.add_parser("timing", help="how launches fall before calendar entries, with a test against chance")
    p.add_argument("--category", action="append", metavar="C",
                   help="calendar category (repeat or comma-separate; default: all). "
                   + ", ".join(schema.CALENDAR_CATEGORIES))
    p.add_argument("--window", type=int, default=DEFAULT_WINDOW, metavar="N",
                   help=f"days before an entry that count as 'before it' (default {DEFAULT_WINDOW})")
    add_range_args(p)
    p.add_argument("--class", dest="classes", action="append", metavar="C",
                   help="only launches of this missile class (repeat or comma-separate)")
    p.add_argument("--ids", metavar="ID,ID", help="only these events")
    p.add_argument("--seed", type=int, help="random seed (default: a fresh one, printed so the run "
                   "can be repeated)")
    p.add_argument("--simulations", type=int, default=DEFAULT_SIMULATIONS, metavar="K",
                   help=f"Monte Carlo simulations (default {DEFAULT_SIMULATIONS:,})")
    p.add_argument("--json", action="store_true", help="one JSON object (see docs/timing.md)")
    _add_db(p)
    p.set_defaults(func=cmd_timing)

    p = sub.add_parser("calendar-import", help="import calendar entries from a CSV (all or nothing)")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
    _add_db(p)
    p.set_defaults(func=cmd_calendar_import)

    p = sub.add_parser("calendar-export", help="write the calendar as CSV")
    p.add_argument("file")
    _add_db(p)
    p.set_defaults(func=cmd_calendar_export)

    p = sub.add_parser("calendar-add", help="add one calendar entry")
    p.add_argument("--id", help="(default: made from category, date and title)")
    _entry_args(p, adding=True)
    _add_db(p)
    p.set_defaults(func=cmd_calendar_add)

    p = sub.add_parser("calendar-edit", help="change fields of one calendar entry")
    p.add_argument("entry_id", metavar="ID")
    _entry_args(p, adding=False)
    _add_db(p)
    p.set_defaults(func=cmd_calendar_edit)

    p = sub.add_parser("calendar-delete", help="delete one calendar entry")
    p.add_argument("entry_id", metavar="ID")
    _add_db(p)
    p.set_defaults(func=cmd_calendar_delete)


__all__ = ["register", "last_observed_day"]
