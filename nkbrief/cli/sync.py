"""sync: offline copies of a store (see :mod:`nkbrief.jobs.sync` and docs/offline_copies.md).

``nkbrief sync pull URL --db local.sqlite3`` makes a local working copy of the store at URL (a
team server, or another store file). ``nkbrief sync push [URL] --db local.sqlite3`` sends the
changes made in the copy since the pull back as one import batch; events changed both in the
copy and on the server since the pull (and added events that match a server event) are
reviewed: ``--dry-run`` lists them, ``--on-conflict server|mine|both`` decides them. Without a
decision for each, nothing is pushed (exit status 3).
"""

from __future__ import annotations

import json
import sys

# Deferred (start-up): the project modules a command needs are imported inside it (see
# COMMAND_MODULES in nkbrief/cli/__init__.py for the measurement).
from ..cli import CliError, _add_db
from ..common import shown

#: Exit status of a push that needs the analyst's decision (nothing was written).
EXIT_REVIEW = 3


def _local(args):
    from ..store import default_db_path

    return getattr(args, "db", None) or default_db_path()


def _json_value(v: object) -> object:
    return v if v is None or isinstance(v, (str, int, float, bool, list, dict)) else str(v)


def review_report(plan, default: str | None) -> dict:
    """The JSON-ready review of a push (what would be sent, and what needs a decision)."""
    from ..jobs.sync import PUSH_RESOLUTIONS

    names = {v: k for k, v in PUSH_RESOLUTIONS.items()}
    c = plan.plan.counts()
    return {
        "target": plan.target, "offline_copy": str(plan.local_path), "pulled_utc": plan.origin.pulled_utc,
        "edited": len(plan.changes.edited), "added": len(plan.changes.added),
        "deleted": len(plan.deletions), "calendar": len(plan.calendar_ops),
        "updates": len(plan.automatic), "new": c["new"], "identical": c["identical"],
        "conflicts": [{
            "event_id": r.event_id, "server_id": r.server_id, "why": r.why, "user": r.user, "at_utc": r.at_utc,
            "fields": {f: {"server": _json_value(a), "mine": _json_value(b)} for f, (a, b) in r.item.diffs.items()},
            "resolution": names.get(default) if default else None,
        } for r in plan.reviews],
        "notes": plan.notes,
    }


def _print_review(doc: dict) -> None:
    out = sys.stdout
    out.write(f"push to {doc['target']} (offline copy {shown(doc['offline_copy'])}, pulled "
              f"{doc['pulled_utc']}):\n")
    out.write(f"  {doc['updates']} edited event(s) to update, {doc['new']} new, {doc['deleted']} to delete, "
              f"{doc['calendar']} calendar change(s), {doc['identical']} already the same on the server\n")
    for c in doc["conflicts"]:
        out.write(f"  conflict {c['event_id']}: {c['why']}\n")
        for f, v in c["fields"].items():
            out.write(f"    {f}: server {shown(v['server'])!s} | mine {shown(v['mine'])!s}\n")
    for n in doc["notes"]:
        out.write(f"  note: {shown(n)}\n")


def cmd_pull(args) -> int:
    from ..jobs.sync import SyncError, pull

    try:
        res = pull(args.source, _local(args), force=args.force)
    except SyncError as e:
        raise CliError(str(e)) from None
    sys.stdout.write(res.sentence() + "\n")
    return 0


def cmd_push(args) -> int:
    from ..jobs.sync import PUSH_RESOLUTIONS, SyncError, push, review

    default = PUSH_RESOLUTIONS[args.on_conflict] if args.on_conflict else None
    try:
        plan = review(_local(args), args.target)
    except SyncError as e:
        raise CliError(str(e)) from None
    doc = review_report(plan, default)
    if args.dry_run or (plan.reviews and default is None):
        if args.json:
            json.dump({"dry_run": True, "pushed": False, **doc}, sys.stdout, ensure_ascii=False, indent=1)
            sys.stdout.write("\n")
        else:
            _print_review(doc)
        if args.dry_run:
            sys.stdout.write("dry run: nothing was pushed\n")
            return 0
        n = len(plan.reviews)
        raise CliError(f"{n} conflict{'s' if n != 1 else ''} to decide; nothing was pushed "
                       "(choose --on-conflict server, mine or both)", EXIT_REVIEW)
    try:
        res = push(_local(args), args.target, default=default, reviewed=None)
    except SyncError as e:
        raise CliError(str(e)) from None
    if args.json:
        json.dump({"dry_run": False, "pushed": True, **doc, "batch_id": res.batch_id, "deleted": res.deleted,
                   "calendar": res.calendar, "added": res.imported.added + res.imported.kept_both,
                   "updated": res.imported.took_theirs, "kept_server": res.imported.kept_mine,
                   "notes": res.notes, "refreshed": res.refreshed}, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(res.sentence() + "\n")
        for n in res.notes:
            sys.stdout.write(f"  note: {shown(n)}\n")
        if res.refreshed:
            sys.stdout.write(f"  the offline copy {shown(_local(args))} was pulled again\n")
    if res.refresh_error:
        raise CliError(res.refresh_error)
    return 0


def register(sub) -> None:
    p = sub.add_parser("sync", help="offline copies: pull a working copy of a store, push changes back",
                       description="Offline copies of a store (a team server or a store file).")
    s = p.add_subparsers(dest="sync_command", metavar="pull|push", required=True)
    q = s.add_parser("pull", help="make a local offline copy (--db) of the store at SOURCE",
                     description="Copy the store at SOURCE (postgresql://…, service=…, or a store file) into "
                     "the file --db, remembering where it came from and the state it was pulled at.")
    q.add_argument("source", metavar="SOURCE")
    q.add_argument("--force", action="store_true",
                   help="replace --db even if it holds changes not pushed yet, or is not an offline copy")
    _add_db(q)
    q.set_defaults(func=cmd_pull)
    q = s.add_parser("push", help="send the offline copy's changes back as one import batch",
                     description="Send the changes made in the offline copy (--db) since its pull back to "
                     "TARGET (default: where it was pulled from), as one import batch.")
    q.add_argument("target", nargs="?", metavar="TARGET")
    q.add_argument("--dry-run", action="store_true", help="show the review; push nothing")
    q.add_argument("--on-conflict", choices=("server", "mine", "both"),
                   help="events changed both in the copy and on the server since the pull (and added "
                   "events that match a server event): keep the server's, take mine, or keep both")
    q.add_argument("--json", action="store_true", help="print a JSON report")
    _add_db(q)
    q.set_defaults(func=cmd_push)
