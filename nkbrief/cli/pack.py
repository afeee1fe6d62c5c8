"""The ``pack`` command: build the Excel briefing pack without the window."""

from __future__ import annotations

import json
import sys

# Deferred (start-up): the project modules a command needs are imported inside it (see
# COMMAND_MODULES in nkbrief/cli/__init__.py for the measurement).
from ..cli import CliError, _add_db, open_store
from ..common import plural
from .core import add_range_args, class_arg, date_arg, selected_frame


def describe_filters(args, n: int) -> str:
    """How the events were chosen, in words, for the cover."""
    parts = []
    if getattr(args, "ids", None):
        parts.append(f"{n:,} event{'' if n == 1 else 's'} chosen by id")
    a = date_arg("--from", args.date_from)
    b = date_arg("--to", args.date_to, end=True)
    if a and b:
        parts.append(f"Korean dates {a} to {b}")
    elif a:
        parts.append(f"Korean dates from {a}")
    elif b:
        parts.append(f"Korean dates up to {b}")
    classes = class_arg(getattr(args, "classes", None))
    if classes:
        parts.append("classes " + ", ".join(classes))
    return "; ".join(parts) if parts else "All events in the store."


def _timing(args, store, events) -> dict | None:
    """The timing analysis for the pack: computed (--timing) or read (--timing-json)."""
    if args.timing_json:
        try:
            with open(args.timing_json, encoding="utf-8") as f:
                res = json.load(f)
        except OSError as e:
            raise CliError(f"--timing-json: cannot read {args.timing_json}: {e.strerror or e}") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise CliError(f"--timing-json: {args.timing_json} is not JSON ({e})") from None
        if not isinstance(res, dict):
            raise CliError(f"--timing-json: {args.timing_json} does not hold a timing result (an object)")
        return res
    if not args.timing:
        return None
    from ..analysis.timing import parse_classes
    from ..jobs.pack import pack_timing
    from .timing import _categories

    if args.timing_window is not None and not 1 <= args.timing_window <= 3650:
        raise CliError(f"--timing-window {args.timing_window} must be from 1 to 3,650 days")
    if args.timing_seed is not None and not 0 <= args.timing_seed < 2**63:
        raise CliError(f"--timing-seed must be a whole number from 0 to {2**63 - 1:,}")
    try:
        classes = parse_classes(args.timing_class)
    except ValueError as e:
        raise CliError(f"--timing-{e}") from None
    return pack_timing(store, events, categories=_categories(args.timing_category), window=args.timing_window,
                       when=args.timing_when, null=args.timing_null, classes=classes,
                       include_failed=not args.timing_exclude_failed,
                       date_from=date_arg("--from", args.date_from),
                       date_to=date_arg("--to", args.date_to, end=True), seed=args.timing_seed)


def _marking(args) -> str:
    """The marking given, else the administrator's site default; refused (exit 2) when neither."""
    from ..briefing.pack import NO_MARKING
    from ..common import UserError
    from ..privacy import default_marking

    if args.classification is not None:
        return args.classification  # a blank one is refused by the pack's checks
    try:
        chosen = default_marking()
    except UserError as e:
        raise CliError(str(e)) from None
    if not chosen:
        raise CliError(NO_MARKING, code=2)
    return chosen


def cmd_pack(args) -> int:
    from ..briefing.pack import PackError, PackOptions
    from ..jobs.pack import build_pack_job

    if args.ids and (args.date_from or args.date_to):
        raise CliError("use either --from/--to or --ids, not both")
    if args.timing and args.timing_json:
        raise CliError("use either --timing or --timing-json, not both")
    marking = _marking(args)
    with open_store(args) as store:
        df = selected_frame(store, args)
        if df.empty:
            raise CliError("no events match; nothing to put in a pack")
        timing = _timing(args, store, df)
        opts = PackOptions(
            output=args.output,
            title=args.title,
            subtitle=args.subtitle or "",
            author=args.author or "",
            organisation=args.organisation or "",
            date=args.date,
            key_judgments=args.judgment or [],
            classification=marking,
            sections=args.sections,
            filters=describe_filters(args, len(df)),
            timing=timing,
        )
        try:
            path = build_pack_job(store, list(df["id"]), opts)
        except PackError as e:
            raise CliError(str(e)) from None
    sys.stdout.write(f"wrote {path} ({plural(len(df), 'event')})\n")
    return 0


def register(sub) -> None:
    from ..briefing import SECTIONS
    from ..briefing.pack import DEFAULT_TITLE

    p = sub.add_parser("pack", help="build the Excel briefing pack",
                       description="Build the print-ready Excel briefing pack for a date range or "
                                   "for chosen events (all events when neither is given).")
    p.add_argument("-o", "--output", required=True, metavar="OUT.xlsx",
                   help="the pack to write (the name is made safe; .xlsx is added if missing)")
    add_range_args(p)
    p.add_argument("--ids", metavar="ID,...", help="these events (comma-separated ids)")
    p.add_argument("--class", dest="classes", action="append", metavar="C",
                   help="only these missile classes (repeat or comma-separate)")
    p.add_argument("--title", default=DEFAULT_TITLE, help=f"default: {DEFAULT_TITLE!r}")
    p.add_argument("--subtitle", help="a line under the title")
    p.add_argument("--classification", metavar="MARKING",
                   help="marking on every page, free text (required unless the administrator set a "
                   "default in the site settings file; see docs/briefing_pack.md)")
    p.add_argument("--author", help="prepared by (default: your user name)")
    p.add_argument("--organisation", "--organization", dest="organisation", help="the author's organisation")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="prepared on (default: today)")
    p.add_argument("--judgment", "--judgement", dest="judgment", action="append", metavar="TEXT",
                   help="a key judgment for the cover (repeat for several)")
    p.add_argument("--sections", metavar="a,b,...",
                   help="sections to include (default: all): " + ",".join(SECTIONS))
    p.add_argument("--timing", action="store_true",
                   help="add the timing analysis of these events to 'Context & timing'")
    p.add_argument("--timing-category", action="append", metavar="C",
                   help="with --timing: calendar categories (repeat or comma-separate; default: all)")
    p.add_argument("--timing-window", type=int, metavar="N",
                   help="with --timing: days of the window (default 30 before an entry; exercises: "
                   "during or 7 days before)")
    p.add_argument("--timing-when", choices=("before", "during", "around"),
                   help="with --timing: the window for every category (see 'timing --when')")
    p.add_argument("--timing-null", choices=("shift", "shuffle"), default="shift",
                   help="with --timing: the null model (default shift: keeps campaigns together)")
    p.add_argument("--timing-class", action="append", metavar="C",
                   help="with --timing: classes counted (default ballistic: SRBM, MRBM, IRBM, ICBM, "
                   "SLBM, HGV; 'satellite' adds SLV; 'all' counts every class)")
    p.add_argument("--timing-exclude-failed", action="store_true",
                   help="with --timing: leave failed launches out (by default they count)")
    p.add_argument("--timing-seed", type=int, metavar="N", help="with --timing: random seed")
    p.add_argument("--timing-json", metavar="FILE",
                   help="add a saved timing result instead (from 'nkbrief timing --json')")
    _add_db(p)
    p.set_defaults(func=cmd_pack)
