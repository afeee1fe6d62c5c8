"""Import, export and undo-import commands.

``import FILE...`` checks every file first; if any file is rejected as a whole (unreadable,
or no row usable) nothing is written and the exit status is 2. Otherwise each file becomes
one import batch, all inside one transaction. Conflicts are resolved with
``--on-conflict`` (default: keep mine), and the report says which were kept.
"""

from __future__ import annotations

import datetime as _dt
import json
import sys

# Deferred (start-up): the project modules a command needs are imported inside it (see
# COMMAND_MODULES in nkbrief/cli/__init__.py for the measurement).
from ..cli import CliError, _add_db, open_store, say
from ..common import plural, shown
from .core import add_range_args, class_arg, date_arg

MAX_PRINTED_REJECTIONS = 50


def _json_value(v: object) -> object:
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    if v is None or isinstance(v, (str, int, float, bool, list, dict)):
        return v
    return str(v)


def file_report(pf, plan=None, result=None, resolution: str = "keep_mine") -> dict:
    """The JSON-ready report of one file (plan: what would happen; result: what happened)."""
    counts = plan.counts() if plan else {"new": 0, "identical": 0, "conflicting": 0, "possible": 0}
    out = {
        "file": str(pf.path), "name": pf.name, "sha256": pf.sha256, "kind": pf.kind,
        "kind_label": pf.kind_label, "format": pf.format_label, "encoding": pf.encoding_label,
        "delimiter": pf.delimiter, "sheet": pf.sheet, "sheets": pf.sheets, "header_row": pf.header_row,
        "rows_mode": pf.rows_mode, "rows": pf.rows_total, "accepted_rows": pf.accepted_rows,
        "rejected_rows": pf.rejected_rows, "skipped_rows": len(pf.skipped), "events": len(pf.incoming),
        "added": counts["new"], "identical": counts["identical"], "conflicting": counts["conflicting"],
        "possible_duplicates": counts["possible"], "not_stated_rows": pf.not_stated_rows,
        "rejected": pf.rejected_rows, "conflict_resolution": resolution, "batch_id": None,
        "kept_mine": 0, "took_theirs": 0, "kept_both": 0,
        "rejections": [{"row": p.row, "column": p.column, "value": _json_value(p.value),
                        "reason": p.reason, "message": str(p)} for p in pf.rejections],
        "skipped": [{"row": n, "reason": r} for n, r in pf.skipped],
        "conflicts": [],
        "matches": [],
        "mapping": [{"column": c.header, "field": c.field or None, "automatic": c.auto} for c in pf.columns],
        "notes": pf.notes,
    }
    if plan:
        for it in plan.items:
            inc = pf.incoming[it.index]
            out["matches"].append({
                "event_id": inc.event["id"], "matched_id": it.existing_id, "rule": it.rule,
                "status": it.status, "rows": inc.rows,
                "resolution": (it.resolution or resolution) if it.status != "identical" else None,
            })
        for it in plan.conflicts():
            out["conflicts"].append({
                "event_id": pf.incoming[it.index].event["id"], "existing_id": it.existing_id,
                "rows": pf.incoming[it.index].rows,
                "resolution": it.resolution or resolution,
                "fields": {f: {"mine": _json_value(a), "theirs": _json_value(b)} for f, (a, b) in it.diffs.items()},
            })
        if result is None:
            out["kept_mine"] = sum(1 for it in plan.choices() if (it.resolution or resolution) == "keep_mine")
    if result is not None:
        out.update(batch_id=result.batch_id, added=result.added, identical=result.identical,
                   conflicting=result.conflicting, possible_duplicates=result.possible, kept_mine=result.kept_mine,
                   took_theirs=result.took_theirs, kept_both=result.kept_both)
        out["notes"] = pf.notes + result.notes
    return out


def cmd_import(args) -> int:
    from ..importing.importer import FileRejected, ImportOptions, read_file
    from ..importing.mapping import parse_map_option
    from ..jobs.imports import apply_file
    from ..importing.merge import plan_merge

    overrides: dict[str, str] = {}
    for m in args.map or []:
        try:
            col, target = parse_map_option(m)
        except ValueError as e:
            raise CliError(f"--map: {e}", 2) from None
        overrides[col] = target
    if args.header_row is not None and args.header_row < 1:
        raise CliError("--header-row must be 1 or more", 2)
    if args.rejected_out and len(args.files) != 1:
        raise CliError("--rejected-out works with one FILE at a time", 2)
    if args.rejected_out:  # before any work, and before anything is committed
        from .. import write_guard
        from ..store import default_db_target, is_server_target

        target = getattr(args, "db", None) or default_db_target()
        if not is_server_target(target):  # a team store has no file to write over
            write_guard.protect_store(target)
        try:
            write_guard.check(args.rejected_out, args.files)
        except write_guard.WriteRefused as e:
            raise CliError(f"--rejected-out: {e}", 2) from None
    resolution = args.on_conflict.replace("-", "_")
    opts = ImportOptions(sheet=args.sheet, header_row=args.header_row, mapping=overrides, rows=args.rows,
                         date_order=args.date_order)

    parsed, errors = [], []
    for f in args.files:
        try:
            parsed.append(read_file(f, opts))
        except FileRejected as e:
            errors.append({"file": f, "error": str(e)})
    if parsed and overrides:
        for col in overrides:
            if not any(col.lower() in (h.lower() for h in pf.header) for pf in parsed):
                cols = ", ".join(f"'{h}'" for h in parsed[0].header[:15])
                raise CliError(f"--map: no file has a column '{col}' (columns: {cols})", 2)
    for pf in parsed:
        if pf.wholly_rejected:
            n = pf.rejected_rows
            errors.append({"file": str(pf.path), "error": f"{pf.name}: no row could be imported "
                           f"({n} rejected, {len(pf.skipped)} skipped)"})
    with open_store(args) as store:
        plans = [plan_merge(store, pf, default=resolution) for pf in parsed]
        if args.possible_duplicates == "add":  # the analyst says they are other launches
            chosen = [{it.index: "keep_both" for it in plan.possible()} for plan in plans]
            plans = [plan_merge(store, pf, default=resolution, resolutions=c) for pf, c in zip(parsed, chosen)]
        else:
            chosen = [{} for _ in parsed]
        results: list = [None] * len(parsed)
        if not args.dry_run and not errors:
            with store.write():
                for i, pf in enumerate(parsed):
                    results[i] = apply_file(store, pf, chosen[i], default=resolution)
    if args.rejected_out and parsed:
        from ..exporting.export import ExportError, write_rejected_rows

        try:
            write_rejected_rows(parsed[0], args.rejected_out)
        except ExportError as e:
            done = [r for r in results if r is not None]
            if not done:
                raise CliError(f"--rejected-out: {e}") from None
            batches = ", ".join(str(r.batch_id) for r in done)
            undo = "; ".join(f"nkbrief undo-import {r.batch_id}" for r in done)
            raise CliError(f"--rejected-out: {e}. The import itself was committed as batch {batches} "
                           f"({plural(sum(r.added for r in done), 'event')} added); to take it back: {undo}") from None
    reports = [file_report(pf, plan, res, resolution) for pf, plan, res in zip(parsed, plans, results)]
    written = not args.dry_run and not errors
    if args.json:
        doc = {"dry_run": bool(args.dry_run), "imported": written, "files": reports, "errors": errors}
        json.dump(doc, sys.stdout, ensure_ascii=False, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        _print_text(reports, errors, args.dry_run, written)
    for e in errors:
        say(e["error"])
    if errors:
        if len(args.files) > 1 and not args.dry_run:
            say("nothing was imported (every file must be usable)")
        return 2
    return 0


def _print_text(reports: list[dict], errors: list[dict], dry_run: bool, written: bool) -> None:
    del written
    out = sys.stdout
    for r in reports:
        where = f"sheet '{r['sheet']}', " if r["sheet"] else ""
        head = f"header on row {r['header_row']}" if r["header_row"] else "records"
        out.write(f"{shown(r['name'])}: {r['kind_label']}; {r['format']}, {r['encoding'] or 'binary'}; "
                  f"{where}{head}\n")
        out.write(f"  {r['rows']} rows: {r['accepted_rows']} accepted, {r['rejected_rows']} rejected, "
                  f"{r['skipped_rows']} skipped -> {r['events']} events\n")
        kept = (f" (kept mine: {r['kept_mine']}, took theirs: {r['took_theirs']}, kept both: "
                f"{r['kept_both']})" if r["conflicting"] else "")
        out.write(f"  events: {r['added']} added, {r['identical']} identical, "
                  f"{r['conflicting']} conflicting{kept}\n")
        if r["possible_duplicates"]:
            added = sum(1 for m in r["matches"] if m["status"] == "possible" and m["resolution"] == "keep_both")
            out.write(f"  {r['possible_duplicates']} possible duplicate(s) (same date and class, but the site "
                      "is not known on one side or the stored launch matches another row too): "
                      f"{added} added as new (--possible-duplicates)\n")
        if r["not_stated_rows"]:
            out.write(f"  {r['not_stated_rows']} row(s) arrive with no confirmation: stored as 'not stated'\n")
        for m in r["matches"][:20]:
            if m["rule"] not in ("id", "date+site+class"):
                out.write(f"  {m['status']}: {m['event_id']} = {m['matched_id']} ({m['rule']})\n")
        for c in r["conflicts"][:10]:
            fields = ", ".join(c["fields"])
            out.write(f"  conflict {c['existing_id']}: {fields} differ; {c['resolution'].replace('_', ' ')}\n")
        if len(r["conflicts"]) > 10:
            out.write(f"  ... and {len(r['conflicts']) - 10} more conflicts (see --json)\n")
        for note in r["notes"]:
            out.write(f"  note: {note}\n")
        for rej in r["rejections"][:MAX_PRINTED_REJECTIONS]:
            out.write(f"  {rej['message']}\n")
        if len(r["rejections"]) > MAX_PRINTED_REJECTIONS:
            out.write(f"  ... and {len(r['rejections']) - MAX_PRINTED_REJECTIONS} more rejections "
                      "(see --json or --rejected-out)\n")
        if r["batch_id"] is not None:
            out.write(f"  imported as batch {r['batch_id']} (undo with: nkbrief undo-import {r['batch_id']})\n")
    if dry_run and not errors:
        out.write("dry run: nothing was written\n")


def cmd_export(args) -> int:
    from ..exporting.export import ExportError
    from ..jobs.imports import export_events

    with open_store(args) as store:
        try:
            res = export_events(store, args.file, date_from=date_arg("--from", args.date_from),
                                date_to=date_arg("--to", args.date_to, end=True),
                                classes=class_arg(args.classes))
        except ExportError as e:
            raise CliError(str(e)) from None
    extra = (f" with {plural(res.missiles, 'missile row')} and {plural(res.statements, 'statement')}"
             if res.format != "csv" else "")
    sys.stdout.write(f"exported {plural(res.events, 'event')}{extra} to {res.path}\n")
    return 0


def cmd_undo_import(args) -> int:
    from ..importing.merge import ImportError_, import_batches
    from ..jobs.imports import undo_import

    with open_store(args) as store:
        if args.batch_id is None:
            rows = import_batches(store)
            if args.json:
                json.dump(rows, sys.stdout, ensure_ascii=False, indent=1)
                sys.stdout.write("\n")
                return 0
            for b in rows:
                state = f"undone {b['undone_utc']}" if b["undone_utc"] else "in effect"
                sys.stdout.write(f"{b['id']:>5}  {b['created_utc']}  {b['user']:<10}  +{b['added']} "
                                 f"~{b['updated']} ={b['identical']} x{b['rejected']}  {b['file_name']}  "
                                 f"({state})\n")
            if not rows:
                sys.stdout.write("no imports yet\n")
            return 0
        try:
            res = undo_import(store, args.batch_id)
        except ImportError_ as e:
            raise CliError(str(e)) from None
    if args.json:
        json.dump({"batch_id": res.batch_id, "file": res.file_name, "removed": res.removed,
                   "restored": res.restored}, sys.stdout)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(f"undid import {res.batch_id} ({res.file_name}): removed {res.removed} events, "
                         f"restored {res.restored}\n")
    return 0


def register(sub) -> None:
    p = sub.add_parser("import", help="import data files (CSV/TSV/semicolon, .xlsx, JSON)",
                       description="Check and import colleague data files. Exit 0 when rows were "
                       "imported (or a dry run succeeded), 2 when a file was rejected as a whole "
                       "(then nothing is written).")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--dry-run", action="store_true", help="check and report; write nothing")
    p.add_argument("--map", action="append", metavar="COLUMN=FIELD",
                   help="map a column to a field (repeatable); FIELD 'ignore' drops the column")
    p.add_argument("--sheet", metavar="NAME", help="the .xlsx sheet to read (default: the one that "
                   "looks like a launch table)")
    p.add_argument("--header-row", type=int, metavar="N", help="the header is on this row of the file")
    p.add_argument("--rows", choices=("events", "missiles"),
                   help="one row per launch event, or per missile (grouped into events)")
    p.add_argument("--on-conflict", choices=("keep-mine", "take-theirs", "keep-both"), default="keep-mine",
                   help="what to do when an event differs from the store's (default: keep-mine)")
    p.add_argument("--date-order", choices=("dmy", "mdy"),
                   help="read slash dates such as 03/04/2026 day first (dmy) or month first (mdy); needed "
                   "when no row of the file settles it")
    p.add_argument("--possible-duplicates", choices=("skip", "add"), default="skip",
                   help="rows that match a stored launch on date and class but whose site is not known "
                   "on one side: skip them (default) or add them as new events")
    p.add_argument("--rejected-out", metavar="PATH", help="save the rejected rows with their problems "
                   "as CSV, to send back to the colleague")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    _add_db(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export events as .csv, .xlsx or .json for colleagues")
    p.add_argument("file", metavar="FILE")
    add_range_args(p)
    p.add_argument("--class", dest="classes", action="append", metavar="C")
    _add_db(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("undo-import", help="undo an import batch (no BATCH_ID: list imports)")
    p.add_argument("batch_id", nargs="?", type=int, metavar="BATCH_ID")
    p.add_argument("--json", action="store_true")
    _add_db(p)
    p.set_defaults(func=cmd_undo_import)
