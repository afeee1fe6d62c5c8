"""Merge parsed files into the store: match, compare, apply as one batch, and undo.

:func:`plan_merge` matches each incoming event (same id, else same date, launch site and
class) and marks it new, identical or conflicting with field diffs; :func:`apply_import`
writes a plan as one import batch in one transaction; :func:`undo_batch` takes a batch back
from the audit log. The parsed files come from :func:`nkbrief.importing.importer.read_file`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..analysis import catalogue
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
    status: str  # "new", "identical", "conflicting" or "possible" (a possible duplicate)
    existing_id: str | None = None
    diffs: dict[str, tuple[object, object]] = field(default_factory=dict)  # field -> (mine, theirs)
    changes: dict[str, object] = field(default_factory=dict)  # what "take theirs" writes
    take_error: str | None = None  # why "take theirs" is impossible, if it is
    resolution: str = ""
    rule: str = "id"  # how it was matched (see plan_merge)


@dataclass
class MergePlan:
    items: list[MergeItem]  # the incoming events that match one in the store
    new: Sequence[int] = ()  # indices (into ParsedFile.incoming) of the ones that are new

    def counts(self) -> dict[str, int]:
        c = {"new": len(self.new), "identical": 0, "conflicting": 0, "possible": 0}
        for it in self.items:
            c[it.status] += 1
        return c

    def conflicts(self) -> list[MergeItem]:
        return [it for it in self.items if it.status == "conflicting"]

    def possible(self) -> list[MergeItem]:
        """Possible duplicates: the Korean date agrees and nothing contradicts, but the site or
        class is not known on one side. The analyst decides; unless told otherwise they are
        not added."""
        return [it for it in self.items if it.status == "possible"]

    def choices(self) -> list[MergeItem]:
        """Every item that takes a resolution: conflicts and possible duplicates."""
        return [it for it in self.items if it.status in ("conflicting", "possible")]


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
        if not exact and f in _NAMED and a not in (None, "") and _NAMED[f](mine, ev):
            continue  # the same system or place under another name (catalogue, gazetteer)
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


def _same_system(mine: dict, ev: dict) -> bool:
    """Their missile name names only systems that mine names ('화성-11가' for 'Hwasong-11A (KN-23)')."""
    theirs = catalogue.find_systems(ev["missile_name"])
    return bool(theirs) and set(theirs) <= set(catalogue.find_systems(mine["missile_name"]))


def _same_class(mine: dict, ev: dict) -> bool:
    """Their class is one the system named on both sides is counted as (KN-25: SRBM or MLRS)."""
    common = set(catalogue.find_systems(ev["missile_name"])) & set(catalogue.find_systems(mine["missile_name"]))
    return any({mine["missile_class"], ev["missile_class"]} <= s.classes for s in common)


def _same_site(mine: dict, ev: dict) -> bool:
    """Their site is mine's gazetteer place, or an area it lies in ('평양' for 'North of Pyongyang')."""
    a, b = catalogue.find_site(mine["launch_site"]), catalogue.find_site(ev["launch_site"])
    return a is not None and b is not None and b in catalogue.chain(a)


#: Fields compared through the catalogue and the gazetteer, not as text.
_NAMED = {"missile_name": _same_system, "missile_class": _same_class, "launch_site": _same_site}


@functools.lru_cache(maxsize=1 << 16)
def _site_key(site: object) -> str:
    return " ".join(str(site or "").lower().split())


#: A candidate event in the store, as the cross-language match sees it.
def plan_merge(store: Store, parsed: ParsedFile, *, default: str = "keep_mine",
               resolutions: dict[int, str] | None = None) -> MergePlan:
    """Match each incoming event to the store and decide what applying would do.

    An incoming event matches (rule in ``MergeItem.rule``):

    - ``id``: an event with the same id;
    - ``date+site+class``: the same Korean date, launch site text and class;
    - else one launch across languages and date bases (:func:`_cross_match`): the Korean
      date agrees (±1 day when the file's dates are UTC and the event has no time), the
      system or class agrees after the catalogue's aliases, and the site or area agrees
      after the gazetteer. Such a row is identical or conflicting, never new.
    - the date agrees and nothing contradicts, but the site or the class is not known on
      one side (or the store event is matched by another row already): a **possible
      duplicate** (status ``possible``). Its resolution is ``keep_mine`` (nothing added) unless the
      analyst chose otherwise in ``resolutions``; ``default`` does not apply to it.
    """
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
    by_date: dict[str, list[tuple]] = defaultdict(list)
    for r in rows:
        by_key[(r[1], _site_key(r[2]), r[3])].append(r[0])
        by_date[r[1]].append(r)
    inc_ids, dates, sites, classes = _match_columns(incoming)
    claimed: set[str] = ids.intersection(inc_ids)
    matched: dict[int, tuple[str, str, bool]] = {}  # index -> (existing id, rule, possible)
    later: list[int] = []
    for i, ev_id in enumerate(inc_ids):
        if ev_id in ids:
            matched[i] = (ev_id, "id", False)
            continue
        for cand in by_key.get((dates[i], _site_key(sites[i]), classes[i]), ()):
            if cand not in claimed:
                claimed.add(cand)
                matched[i] = (cand, "date+site+class", False)
                break
        else:
            later.append(i)
    if later:  # only events with a store event within a day of theirs are looked at again
        window = 1 if getattr(parsed, "utc_dates", False) else 0
        near_dates = {d for day in by_date for d in _days(day, window)}
        near = [i for i in later if dates[i] in near_dates]
        if near:
            matched.update(_cross_match(incoming, near, by_date, claimed, window))
    items: list[MergeItem] = []
    new: list[int] = []
    for i in range(n):
        m = matched.get(i)
        if m is None:
            new.append(i)
            continue
        existing, rule, possible = m
        inc = incoming[i]
        mine = store.get_event(existing)
        diffs, changes = _compare(mine, inc.event, inc.provided, parsed.exact)
        if possible:
            rep = schema.validate_event(mine | changes)
            items.append(MergeItem(i, "possible", existing, diffs, changes, None if rep.ok else str(rep),
                                   resolutions.get(i, "keep_mine"), rule))
            continue
        if not diffs:
            items.append(MergeItem(i, "identical", existing, rule=rule))
            continue
        rep = schema.validate_event(mine | changes)
        item = MergeItem(i, "conflicting", existing, diffs, changes,
                         None if rep.ok else str(rep), rule=rule)
        item.resolution = resolutions.get(i, default)
        items.append(item)
    return MergePlan(items, range(n) if len(new) == n else new)


@functools.lru_cache(maxsize=1 << 12)
def _days(date: str, window: int) -> tuple[str, ...]:
    """The ISO date and the ``window`` days either side, nearest first."""
    try:
        d = _dt.date.fromisoformat(date)
    except ValueError:
        return (date,)
    out = [date]
    for k in range(1, window + 1):
        for sign in (-1, 1):
            try:
                out.append((d + _dt.timedelta(days=sign * k)).isoformat())
            except OverflowError:
                pass
    return tuple(out)


def _cross_match(incoming: Sequence[Incoming], indices: list[int], by_date: dict[str, list[tuple]],
                 claimed: set[str], window: int) -> dict[int, tuple[str, str, bool]]:
    """Match incoming events to store events across names, scripts and date bases, through
    the system catalogue and the site gazetteer (:mod:`nkbrief.analysis.catalogue`).

    Each candidate gets a score: an event no other row matched beats one already matched
    (which can only be a possible duplicate: a file may split one stored launch in two),
    a full match (date, system or class, site) beats a possible duplicate, the exact date
    beats a day off, a system beats a class. Returns index -> (existing id, rule, possible)."""
    out: dict[int, tuple[str, str, bool]] = {}
    for i in indices:
        ev = incoming[i].event
        shift = window if ev.get("time_utc") is None else 0
        theirs = catalogue.place(ev["launch_site"], ev.get("latitude"), ev.get("longitude"))
        best: tuple | None = None
        for k, day in enumerate(_days(ev["date"], shift)):
            for r in by_date.get(day, ()):
                taken = r[0] in claimed  # matched by another row already: at most a possible duplicate
                how = catalogue.class_agreement(ev["missile_class"], ev.get("missile_name"), r[3], r[4])
                if how is None:
                    continue
                mine = catalogue.place(r[2], r[5], r[6])
                same = catalogue.same_place(theirs, mine)
                if same is False:
                    continue
                full = same is True and how[0] != "unknown"
                date_part = "kst-date" if k == 0 else f"kst-date±1 ({day})"
                what = {"system": f"system {how[1]}", "class": f"class {how[1]}"}.get(how[0], "class unknown")
                if same:
                    rule = f"{date_part}+{what}+site {mine.label or theirs.label}"
                else:
                    rule = f"{date_part}+{what}, site unknown"
                if taken:
                    rule += "; also matched by another row"
                score = (not taken, full, k == 0, how[0] == "system")
                if best is None or score > best[0]:
                    best = (score, r[0], rule)
        if best is not None:
            claimed.add(best[1])
            out[i] = (best[1], best[2], not (best[0][0] and best[0][1]))
    return out


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
    possible: int = 0  # possible duplicates (each also counted as kept mine, took theirs or kept both)
    missiles_added: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("batch_id", "added", "identical", "conflicting", "possible",
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
                if item.status == "possible":
                    res.possible += 1
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
