"""Merge parsed files into the store: match, compare, apply as one batch, and undo.

:func:`plan_merge` matches each incoming event (same id, else same date, launch site and
class) and marks it new, identical or conflicting with field diffs; :func:`apply_import`
writes a plan as one import batch in one transaction; :func:`undo_batch` takes a batch back
from the audit log. The parsed files come from :func:`nkbrief.importing.importer.read_file`.
"""

from __future__ import annotations

import functools
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..common import UserError, gc_paused
from ..model import schema
from .incoming import EventBlock, Incoming, incoming_column
from ..progress import Progress, report
from ..store import Store

if TYPE_CHECKING:
    from .importer import ParsedFile

RESOLUTIONS = ("keep_mine", "take_theirs", "keep_both")
RESOLUTION_LABELS = {"keep_mine": "Keep mine", "take_theirs": "Take theirs", "keep_both": "Keep both"}
#: Fields that change together when a colleague's value is taken.
FIELD_GROUPS = (
    ("date", "date_precision", "time_kst", "time_utc"),
    ("distance_km", "distance_km_max"),
    ("apogee_km", "apogee_km_max"),
    ("latitude", "longitude"),
)



class ImportError_(UserError):
    """An import that cannot go ahead, phrased for the analyst."""


def unique_id(base: str, used: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not in ``used`` (then added to it)."""
    i, cand = 1, base
    while cand in used:
        i += 1
        cand = f"{base}-{i}"
    used.add(cand)
    return cand


# ============================================================================ merging
@dataclass
class MergeItem:
    index: int  # into ParsedFile.incoming
    status: str  # "new", "identical" or "conflicting"
    existing_id: str | None = None
    diffs: dict[str, tuple[object, object]] = field(default_factory=dict)  # field -> (mine, theirs)
    changes: dict[str, object] = field(default_factory=dict)  # what "take theirs" writes
    take_error: str | None = None  # why "take theirs" is impossible, if it is
    resolution: str = ""


@dataclass
class MergePlan:
    items: list[MergeItem]  # the incoming events that match one in the store
    new: Sequence[int] = ()  # indices (into ParsedFile.incoming) of the ones that are new

    def counts(self) -> dict[str, int]:
        c = {"new": len(self.new), "identical": 0, "conflicting": 0}
        for it in self.items:
            c[it.status] += 1
        return c

    def conflicts(self) -> list[MergeItem]:
        return [it for it in self.items if it.status == "conflicting"]


def _same(a: object, b: object) -> bool:
    if a in (None, "", []) and b in (None, "", []):
        return True
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    return a == b


def _compare(mine: dict, ev: dict, provided: frozenset, exact: bool) -> tuple[dict, dict]:
    """(field diffs as (mine, theirs), the changes "take theirs" would write).

    Colleague files add to ``sources`` and ``notes`` rather than replace them: a source
    or note already in the store is no difference, and taking theirs appends the rest.
    An nkbrief export is a whole dataset, so there every field is compared and replaced.
    """
    diffs: dict[str, tuple[object, object]] = {}
    changes: dict[str, object] = {}
    for f in schema.EVENT_FIELDS:
        if f == "id" or f not in provided:
            continue
        a, b = mine[f], ev[f]
        if not exact and b in (None, "", []):
            continue  # the file does not say
        if not exact and f == "sources":
            extra = [x for x in b if x not in (a or [])]
            if extra:
                diffs[f] = (a, b)
                changes[f] = list(a or []) + extra
            continue
        if not exact and f == "notes":
            if b not in (a or ""):
                diffs[f] = (a, b)
                changes[f] = f"{a}\n{b}" if a else b
            continue
        if not _same(a, b):
            diffs[f] = (a, b)
    for f in list(diffs):
        if f in changes:
            continue
        group = next((g for g in FIELD_GROUPS if f in g), (f,))
        for g in group:  # a value and its upper end (or a date and its times) go together
            if g not in changes and (g in diffs or not _same(mine[g], ev[g])):
                changes[g] = ev[g]
    return diffs, changes


@functools.lru_cache(maxsize=1 << 16)
def _site_key(site: object) -> str:
    return " ".join(str(site or "").lower().split())


def plan_merge(store: Store, parsed: ParsedFile, *, default: str = "keep_mine",
               resolutions: dict[int, str] | None = None) -> MergePlan:
    """Match each incoming event to the store and decide what applying would do."""
    if default not in RESOLUTIONS:
        raise ValueError(f"resolution {default!r} is not one of {', '.join(RESOLUTIONS)}")
    resolutions = resolutions or {}
    incoming = parsed.incoming
    n = len(incoming)
    rows = store.event_match_keys()
    if not rows:  # an empty store: everything is new
        return MergePlan([], range(n))
    ids = {r[0] for r in rows}
    by_key: dict[tuple, list[str]] = defaultdict(list)
    for r in rows:
        by_key[(r[1], _site_key(r[2]), r[3])].append(r[0])
    inc_ids, dates, sites, classes = _match_columns(incoming)
    claimed: set[str] = ids.intersection(inc_ids)
    items: list[MergeItem] = []
    new: list[int] = []
    for i, ev_id in enumerate(inc_ids):
        existing = ev_id if ev_id in ids else None
        if existing is None:
            for cand in by_key.get((dates[i], _site_key(sites[i]), classes[i]), ()):
                if cand not in claimed:
                    existing = cand
                    claimed.add(cand)
                    break
        if existing is None:
            new.append(i)
            continue
        inc = incoming[i]
        ev = inc.event
        mine = store.get_event(existing)
        diffs, changes = _compare(mine, ev, inc.provided, parsed.exact)
        if not diffs:
            items.append(MergeItem(i, "identical", existing))
            continue
        rep = schema.validate_event(mine | changes)
        item = MergeItem(i, "conflicting", existing, diffs, changes,
                         None if rep.ok else str(rep))
        item.resolution = resolutions.get(i, default)
        items.append(item)
    return MergePlan(items, range(n) if len(new) == n else new)


def _match_columns(incoming: Sequence[Incoming]) -> tuple[list, list, list, list]:
    """(ids, dates, launch sites, classes) of the incoming events, without building them."""
    return tuple(incoming_column(incoming, f) for f in ("id", "date", "launch_site", "missile_class"))


# ============================================================================ applying
@dataclass
class ImportResult:
    batch_id: int | None
    added: int = 0
    identical: int = 0
    conflicting: int = 0
    kept_mine: int = 0
    took_theirs: int = 0
    kept_both: int = 0
    missiles_added: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("batch_id", "added", "identical", "conflicting",
                                              "kept_mine", "took_theirs", "kept_both", "missiles_added")}


def apply_import(store: Store, parsed: ParsedFile, *, default: str = "keep_mine",
                 resolutions: dict[int, str] | None = None,
                 progress: Progress | None = None) -> ImportResult:
    """Write one parsed file as one import batch, in one transaction (all or nothing).

    The merge is planned again inside the transaction, so it reflects the store as it is
    when the write happens; ``resolutions`` (incoming index -> resolution) carry the
    analyst's choices, anything else gets ``default``.
    """
    if parsed.wholly_rejected:
        raise ImportError_(f"{parsed.name}: no row could be imported; the store was not changed")
    res = ImportResult(batch_id=None)
    if parsed.is_lookup:
        return res
    with gc_paused(), store.write():
        plan = plan_merge(store, parsed, default=default, resolutions=resolutions)
        details = _batch_details(parsed, plan)
        b = store.new_batch("import", file_name=parsed.name, sha256=parsed.sha256, details=details)
        res.batch_id = b
        total = len(plan.new) + len(plan.items)
        added, res.missiles_added, statements = _insert_new(store, parsed.incoming, plan.new, b,
                                                            progress=progress)
        res.added = len(plan.new)
        taken_ids: set[str] | None = None
        for k, item in enumerate(plan.items):
            if k % 2000 == 0:
                report(progress, res.added + k, total, "Writing events")
            inc = parsed.incoming[item.index]
            if item.status == "identical":
                res.identical += 1
            else:
                res.conflicting += 1
                how = item.resolution or default
                if how == "take_theirs" and item.take_error:
                    res.notes.append(f"{inc.event['id']}: kept mine, because taking theirs would make the "
                                     f"event invalid ({item.take_error})")
                    how = "keep_mine"
                if how == "take_theirs":
                    store.update_event(item.existing_id, item.changes, batch_id=b)
                    res.took_theirs += 1
                elif how == "keep_both":
                    if taken_ids is None:
                        taken_ids = store.event_ids()
                        incoming_ids = set(_match_columns(parsed.incoming)[0])
                    own = inc.event["id"]
                    new_id = unique_id(own, taken_ids | (incoming_ids - {own}))
                    taken_ids.add(new_id)
                    added += _insert(store, [inc], b, event_id=new_id)
                    res.kept_both += 1
                    res.missiles_added += len(inc.missiles)
                    statements += len(inc.statements)
                else:
                    res.kept_mine += 1
        report(progress, total, total, "Writing events")
        # One audit row for everything the import added: the events' ids (each event row
        # also carries the batch id). Overwritten values are audited field by field.
        store.audit_batch(b, {"import": parsed.name, "events": added, "missiles": res.missiles_added,
                              "statements": statements})
        store.finish_batch(b, added=res.added + res.kept_both, updated=res.took_theirs,
                           identical=res.identical, rejected=parsed.rejected_rows)
    return res


def _insert_new(store: Store, incoming: Sequence[Incoming], new: Sequence[int], batch_id: int, *,
                progress: Progress | None = None) -> tuple[list[str], int, int]:
    """Insert the new incoming events (with their missiles and statements) through the
    store, which validates every one (``schema.validate_event``'s rules) before writing
    any. An :class:`EventBlock` goes in as columns. Returns (ids, missiles, statements)."""
    if not new:
        return [], 0, 0
    if isinstance(incoming, EventBlock):
        cols = incoming.columns_for(new)
        wanted = set(new) if not isinstance(new, range) else None
        built = [inc for i, inc in incoming.built.items() if wanted is None or i in wanted]
        missiles = {inc.event["id"]: inc.missiles for inc in built if inc.missiles}
        statements = {inc.event["id"]: inc.statements for inc in built if inc.statements}
        ids = store.insert_event_columns(cols, batch_id, missiles=missiles, statements=statements,
                                         audit=False, progress=progress)
    else:
        items = [incoming[i] for i in new]
        missiles = {inc.event["id"]: inc.missiles for inc in items if inc.missiles}
        statements = {inc.event["id"]: inc.statements for inc in items if inc.statements}
        ids = store.insert_events([inc.event for inc in items], batch_id, missiles=missiles,
                                  statements=statements, audit=False, progress=progress)
    return (ids, sum(len(m) for m in missiles.values()), sum(len(x) for x in statements.values()))


def _insert(store: Store, items: list[Incoming], batch_id: int, event_id: str) -> list[str]:
    """Insert one incoming event under a free id (keep both), with its missiles and
    statements, through ``Store.insert_events`` (which validates it)."""
    (inc,) = items
    return store.insert_events([inc.event | {"id": event_id}], batch_id, missiles={event_id: inc.missiles},
                               statements={event_id: inc.statements}, audit=False)


def _batch_details(parsed: ParsedFile, plan: MergePlan) -> dict:
    c = plan.counts()
    return {
        "path": str(parsed.path), "kind": parsed.kind, "format": parsed.format_label,
        "encoding": parsed.encoding_label, "sheet": parsed.sheet, "header_row": parsed.header_row,
        "mapping": {c.header: c.field for c in parsed.columns},
        "rows": parsed.rows_total, "accepted_rows": parsed.accepted_rows,
        "rejected_rows": parsed.rejected_rows, "skipped_rows": len(parsed.skipped),
        "events": len(parsed.incoming), **c,
    }


# ============================================================================ undo
@dataclass
class UndoResult:
    batch_id: int
    removed: int = 0
    restored: int = 0
    file_name: str | None = None


def import_batches(store: Store) -> list[dict]:
    """Import batches, newest first: id, file_name, created_utc, user, counts, undone_utc."""
    df = store.batches_frame()
    df = df[df["kind"] == "import"]
    out = []
    for r in df.itertuples(index=False):
        out.append({"id": int(r.id), "file_name": r.file_name, "created_utc": r.created_utc,
                    "user": r.user, "added": int(r.added), "updated": int(r.updated),
                    "identical": int(r.identical), "rejected": int(r.rejected),
                    "undone_utc": r.undone_utc if isinstance(r.undone_utc, str) else None})
    return out[::-1]


def last_undoable_batch(store: Store) -> dict | None:
    for b in import_batches(store):
        if b["undone_utc"] is None:
            return b
    return None


def undo_batch(store: Store, batch_id: int, *, progress: Progress | None = None) -> UndoResult:
    """Remove what import batch ``batch_id`` added and restore what it overwrote.

    Refuses (with the reason) when the batch is not an import, was already undone, or when
    an event it touched was changed later by something still in effect.
    """
    with store.write():
        row = store.batch_info(batch_id)
        if row is None:
            raise ImportError_(f"there is no import batch {batch_id}")
        kind, file_name, undone, created = row
        if kind != "import":
            raise ImportError_(f"batch {batch_id} is not an import (it is the {kind} batch)")
        if undone:
            raise ImportError_(f"import {batch_id} ({file_name}) was already undone at {undone}")
        audit = store.batch_event_audit(batch_id)
        inserted: list[str] = []
        originals: dict[str, dict] = defaultdict(dict)  # record -> field -> value before the batch
        for _aid, action, rec, fld, old in audit:
            if action == "insert":  # an import written before the batch-level audit row
                inserted.append(rec)
            elif action == "update" and fld not in originals[rec]:
                originals[rec][fld] = json.loads(old) if old is not None else None
        for summary in store.batch_summaries(batch_id):
            inserted.extend(summary.get("events", []))
        touched = set(inserted) | set(originals)
        last = store.last_audit_id(batch_id)
        if touched:
            inactive = _inactive_batches(store)
            later = store.event_audit_after(last)  # filtered here: an IN list can pass SQLite's limit
            for rec, user, at, b in later:
                if rec in touched and (b is None or b not in inactive):
                    raise ImportError_(f"cannot undo import {batch_id} ({file_name}): event '{rec}' was "
                                       f"changed after it (by {user} at {at}); undo that change first")
        undo_b = store.new_batch("manual", file_name=file_name, details={"undo_of": batch_id})
        res = UndoResult(batch_id, file_name=file_name)
        total = len(inserted) + len(originals)
        done = 0
        for rec in reversed(inserted):
            if done % 500 == 0:
                report(progress, done, total, "Undoing import")
            done += 1
            if store.has_event(rec):
                store.delete_event(rec, batch_id=undo_b)
                res.removed += 1
        added = set(inserted)
        for rec, fields in originals.items():
            if rec in added or not store.has_event(rec):
                continue
            store.update_event(rec, fields, batch_id=undo_b)
            res.restored += 1
        store.mark_batch_undone(batch_id)
        store.finish_batch(undo_b, updated=res.restored)
    return res


def _inactive_batches(store: Store) -> set[int]:
    """Batches whose changes no longer stand: undone imports and the undo batches themselves."""
    out = set()
    for bid, undone, details in store.batch_states():
        if undone:
            out.add(bid)
        elif details and '"undo_of"' in details:
            out.add(bid)
    return out


__all__ = ["MergeItem", "MergePlan", "ImportResult", "UndoResult", "ImportError_", "plan_merge", "apply_import",
           "undo_batch", "import_batches", "last_undoable_batch", "unique_id", "gc_paused", "RESOLUTIONS", "RESOLUTION_LABELS",
           "FIELD_GROUPS"]
