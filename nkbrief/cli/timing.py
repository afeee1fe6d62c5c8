"""Timing and calendar commands: timing, calendar-import, calendar-export, calendar-add,
calendar-edit, calendar-delete."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..model import schema
# Deferred (start-up): the project modules a command needs are imported inside it (see
# COMMAND_MODULES in nkbrief/cli/__init__.py for the measurement).
from ..cli import CliError, _add_db, open_store
from ..common import plural
from ..analysis.totals import frame_totals
from .core import add_range_args, date_arg, selected_frame


def _categories(values):
    from ..analysis.timing import parse_categories

    try:
        return parse_categories(values)
    except ValueError as e:
        raise CliError(f"--{e}") from None


def _classes(values):
    from ..analysis.timing import parse_classes

    try:
        return parse_classes(values)
    except ValueError as e:
        raise CliError(f"--{e}") from None


def cmd_timing(args) -> int:
    from ..analysis.timing import timing_analysis

    cats = _categories(args.category)
    classes = _classes(args.classes)
    args.classes = None  # the analysis filters classes itself, so it can say how many it left out
    if args.window is not None and (args.window < 1 or args.window > 3650):
        raise CliError(f"--window {args.window} must be from 1 to 3,650 days")
    if args.simulations < 1 or args.simulations > 1_000_000:
        raise CliError(f"--simulations {args.simulations} must be from 1 to 1,000,000")
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise CliError(f"--seed must be a whole number from 0 to {2**63 - 1:,}")
    date_from = date_arg("--from", args.date_from)
    date_to = date_arg("--to", args.date_to, end=True)
    if date_from and date_to and date_to < date_from:
        raise CliError(f"--to {args.date_to!r} is before --from {args.date_from!r}")
    with open_store(args) as store:
        events = selected_frame(store, args)
        calendar = store.calendar_frame()
        until = store.last_observed_day()
    res = timing_analysis(events, calendar, cats, window=args.window, when=args.when, null=args.null,
                          classes=classes, include_failed=not args.exclude_failed,
                          date_from=date_from, date_to=date_to, observed_until=until, seed=args.seed,
                          simulations=args.simulations)
    if res.get("date_from") and res.get("date_to"):  # the events of the analysed period
        span = events[(events["date"] >= res["date_from"]) & (events["date"] <= res["date_to"])]
        t = frame_totals(span)  # nkbrief.analysis.totals: the same number as the status bar and the pack
        res["missiles_fired"] = {"missiles": t.missiles, "events_with_no_reported_number": t.no_number,
                                 "lower_bound": t.lower_bound, "text": t.text()}
    if args.json:
        json.dump(res, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    _print_timing(res, sys.stdout)
    return 0


def _print_timing(res: dict, out) -> None:
    from ..analysis.timing import format_p

    out.write(res["summary"] + "\n\n")
    if not res["launches"]:
        return
    ratio = f"{res['ratio']:.2f}" if res["ratio"] is not None else "no expectation (0)"
    ci = res["rate_ratio_interval"]
    if ci is not None:
        ratio += f" (95% interval {ci[0]:.2f} to {ci[1]:.2f})"
    lo, hi = res["null_interval"]
    left = res["left_out"]
    rows = [
        ("categories", f"{', '.join(res['category'])} ({res['calendar_entries']} entries)"),
        ("windows", res["windows_phrase"]),
        ("counted", res["counted"]),
        ("launch days", f"{res['launches']} ({res['events']} events; counted by distinct launch day)"),
        ("in windows", f"{plural(res['within_window'], 'launch day')} ({plural(res['within_window_events'], 'event')})"),
        *([("missiles", res["missiles_fired"]["text"])] if "missiles_fired" in res else []),
        ("expected", f"{res['expected']:.2f} (sd {res['null_sd']:.2f}; 95% of the null {lo} to {hi})"),
        ("rate ratio", ratio),
        ("p-value", f"{res['p_value']:.4f} ({format_p(res['p_value'])}; {res['simulations']:,} simulations, "
                    f"seed {res['seed']}; exact {res['p_value_exact']:.4f})"),
        ("adjusted p", f"{res['p_adjusted']:.4f} (Holm, {res['family_size']} test"
                       f"{'s' if res['family_size'] != 1 else ''})"),
        ("period", f"{res['date_from']} to {res['date_to']}"),
        ("null model", f"{res['null']}: {res['null_model']}"),
        ("left out", f"{left['class']} of other classes, {left['failed']} failed, "
                     f"{left['date_precision']} known only to the month or year"),
    ]
    for k, v in rows:
        out.write(f"{k:<14}{v}\n")
    out.write(f"{'repeat with':<14}--seed {res['seed']} --null {res['null']}\n\n")
    if res["family_size"] > 1:
        out.write(f"{'test':<16}  {'window':<31}  {'entries':>7}  {'in':>4}  {'expected':>8}  "
                  f"{'ratio':>5}  {'p':>6}  {'adj. p':>6}\n")
        for t in res["tests"]:
            w = t["window"]["phrase"] if t["window"] else "any of them"
            ratio = "-" if t["ratio"] is None else format(t["ratio"], ".2f")
            out.write(f"{t['label']:<16}  {w:<31}  {t['entries_in_period']:>7}  {t['within_window']:>4}  "
                      f"{t['expected']:>8.2f}  {ratio:>5}  "
                      f"{t['p_value']:>6.4f}  {t['p_adjusted']:>6.4f}"
                      f"{'' if t['can_tell'] else '  (cannot tell: fewer than 5 entries)'}\n")
        out.write("\n")
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
    from ..jobs.calendar_io import CalendarImportError, import_calendar_csv, read_calendar_csv

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
    from ..exporting.export import write_error
    from ..jobs.calendar_io import export_calendar_csv
    from ..write_guard import WriteRefused

    with open_store(args) as store:
        df = store.calendar_frame()
        try:  # (inside: the store stays protected by the write guard)
            path = export_calendar_csv(df, args.file)
        except WriteRefused as e:
            raise CliError(str(e)) from None
        except OSError as e:
            raise CliError(write_error(Path(args.file), e)) from None
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
    from ..jobs.calendar_io import add_entry

    with open_store(args) as store:
        entry = add_entry(store, _cells(args))
    sys.stdout.write(f"added calendar entry {entry['id']!r}\n")
    return 0


def cmd_calendar_edit(args) -> int:
    from ..jobs.calendar_io import edit_entry

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
    from ..jobs.calendar_io import delete_entry

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
    from ..analysis.timing import (BALLISTIC_CLASSES, DEFAULT_NULL, DEFAULT_SIMULATIONS, DEFAULT_WINDOW,
                                   NULL_MODELS, WINDOW_MODES)

    p = sub.add_parser("timing", help="how launches fall before calendar entries, with a test against chance")
    p.add_argument("--category", action="append", metavar="C",
                   help="calendar category (repeat or comma-separate; default: all). "
                   + ", ".join(schema.CALENDAR_CATEGORIES))
    p.add_argument("--window", type=int, metavar="N",
                   help=f"days of the window, for every category (default {DEFAULT_WINDOW}; exercises 7)")
    p.add_argument("--when", choices=WINDOW_MODES,
                   help="before: 1..N days before an entry starts; during: while it is under way; "
                   "around: during or within N days before (default: before; exercises around)")
    p.add_argument("--null", choices=tuple(NULL_MODELS), default=DEFAULT_NULL,
                   help="shift: move each year's launch pattern by a random offset (keeps "
                   "campaigns together; default); shuffle: place launch days independently")
    add_range_args(p)
    p.add_argument("--class", dest="classes", action="append", metavar="C",
                   help="missile classes counted (repeat or comma-separate; 'satellite' adds SLV, "
                   f"'all' counts every class; default {', '.join(BALLISTIC_CLASSES)})")
    p.add_argument("--exclude-failed", action="store_true",
                   help="leave failed launches out (by default they count)")
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


__all__ = ["register"]
