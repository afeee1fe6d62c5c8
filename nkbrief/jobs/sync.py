"""Offline copies: pull a local working copy of a store, push the analyst's changes back.

``pull`` copies a store (a team server, or another store file) into a new local SQLite file:
events, missiles, statements and the calendar. The copy remembers where it came from, when,
and the version of every event at that moment (in the details of its first batch, kind
'init'), plus the calendar as it was. It is written beside its destination and renamed over
it, so the destination is either the old file or the complete copy, never half of one.

``push`` works out what the analyst changed in the copy since the pull -- events edited
(field by field, from the copy's audit log), added, deleted, and calendar entries -- and sends
it back as ONE import batch on the server, through the import's merge
(:func:`nkbrief.importing.merge.apply_import`), in one transaction:

- an event edited in the copy and not changed on the server since the pull: the edited fields
  are written (the merge's "take theirs", where "theirs" is the offline copy);
- an event edited in the copy AND changed on the server since the pull: a conflict, shown with
  who changed it on the server and when; the analyst chooses (keep the server's, take mine,
  keep both);
- an event added in the copy: added, unless the merge matches it to a server event (same id,
  or the same launch by date, site and class): then the analyst chooses, as in an import;
- an event deleted in the copy: deleted on the server unless it changed there since the pull
  (then the server's is kept and the push says so);
- an event edited in the copy but deleted on the server since: not pushed (the push says so);
- a calendar entry added, edited or deleted in the copy: applied unless the server's entry also
  changed since the pull (then the server's is kept and the push says so).

After a push the copy is pulled again, so it knows the server's new state; pushing again
finds nothing to send.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import atomic, private_tmp
from ..common import UserError, plural, sha256_file, shown
from ..importing.importer import ParsedFile
from ..importing.incoming import Incoming
from ..importing.merge import ImportResult, MergeItem, MergePlan, apply_import, plan_merge
from ..model import schema
from ..progress import Progress, report
from ..store import Store, StoreError, is_server_target, utc_now

#: The key, in the details of an offline copy's first batch, that holds where it came from.
ORIGIN_KEY = "offline_copy"
#: The key, in the details of a batch of the copy, that records a push.
PUSHED_KEY = "offline_copy_pushed"
#: The push's review choices, as the command line names them (-> the merge's resolutions).
PUSH_RESOLUTIONS = {"server": "keep_mine", "mine": "take_theirs", "both": "keep_both"}
#: How the review names the merge's resolutions for a push ("mine" in the merge is the server's).
PUSH_LABELS = {"keep_mine": "Keep the server's", "take_theirs": "Take mine (offline copy)",
               "keep_both": "Keep both (add mine as another event)"}


class SyncError(UserError):
    """A pull or push that cannot go ahead, phrased for the analyst (one line)."""


# ============================================================================ targets
def is_server(target: object) -> bool:
    """Whether ``target`` names a team store on a server (a libpq URL or ``service=NAME``)
    rather than a file (:func:`nkbrief.store.is_server_target`)."""
    return is_server_target(str(target))


def target_label(target: object) -> str:
    """``target`` for messages and for the record of an offline copy: a password written in a
    URL is left out (passwords belong in .pgpass or the service file)."""
    t = str(target)
    if t.startswith(("postgresql://", "postgres://")):
        t = re.sub(r"^(postgres(?:ql)?://[^:/@?#]*):[^@/?#]*@", r"\1@", t)
        t = re.sub(r"([?&]password=)[^&]*", r"\1***", t)
    elif is_server(t):
        t = re.sub(r"(password\s*=\s*)\S+", r"\1***", t)
    return shown(t)


def short_label(target: object) -> str:
    """A short name of a store for a status bar: 'nkteam on db1:5432', 'service nkteam', or
    the file's name."""
    t = str(target).strip()
    if t.startswith(("postgresql://", "postgres://")):
        import urllib.parse

        u = urllib.parse.urlsplit(t)
        host = u.netloc.rpartition("@")[2] or "the local socket"
        db = urllib.parse.unquote(u.path.lstrip("/")) or "the default database"
        return shown(f"{db} on {host}")
    m = re.match(r"^service\s*=\s*(\S+)", t)
    if m:
        return shown(f"service {m.group(1)}")
    return shown(Path(t).name)


def open_target(target: object) -> Store:
    """Open the store a pull reads or a push writes: a server, or an existing store file
    (never created here: a mistyped path is an error, not a new empty store)."""
    if not is_server(target):
        p = Path(str(target)).expanduser()
        if not p.is_file() or p.stat().st_size == 0:
            raise SyncError(f"there is no store at {shown(p)}")
    return Store.open(str(target) if is_server(target) else Path(str(target)).expanduser(), seed=False)


# ============================================================================ the copy's record
@dataclass
class Origin:
    """Where an offline copy came from and the state it was pulled at."""

    source: str
    pulled_utc: str
    batch_id: int  # the copy's first batch (kind 'init'), which wrote the pulled data
    server_user: str
    versions: dict[str, int]  # event id -> its version on the server at pull time
    calendar: dict[str, dict]  # calendar entry id -> the entry at pull time
    pushed: dict | None = None  # a push recorded in the copy (batch, at) since the pull


def origin(store: Store) -> Origin | None:
    """The record of an offline copy, or None when ``store`` is not one."""
    found: Origin | None = None
    for bid, kind, details in store.batches_frame()[["id", "kind", "details"]].itertuples(index=False):
        if not isinstance(details, str) or "offline_copy" not in details:
            continue
        try:
            d = json.loads(details)
        except ValueError:
            continue
        if kind == "init" and ORIGIN_KEY in d:
            o = d[ORIGIN_KEY]
            found = Origin(o["source"], o["pulled_utc"], int(bid), o.get("server_user", "?"),
                           {k: int(v) for k, v in o["versions"].items()},
                           {e["id"]: e for e in o.get("calendar", [])})
        elif found is not None and PUSHED_KEY in d:
            found.pushed = d[PUSHED_KEY]
    return found


# ============================================================================ pull
@dataclass
class PullResult:
    path: Path
    source: str
    events: int = 0
    missiles: int = 0
    statements: int = 0
    calendar: int = 0

    def sentence(self) -> str:
        return (f"pulled {plural(self.events, 'event')}, {plural(self.missiles, 'missile row')}, "
                f"{plural(self.statements, 'statement')} and {plural(self.calendar, 'calendar entry')} "
                f"from {self.source} into {shown(self.path)}")


def _plain(v: object, kind: str) -> object:
    """A value read through a frame as the store's own (pandas' missing markers as None)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if kind == "count":
        return int(v)
    if kind in ("km", "lat", "lon"):
        return float(v)
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def _frame_rows(df, fields: dict[str, str]) -> list[dict]:
    cols = [c for c in df.columns if c in fields]
    return [{c: _plain(v, fields[c]) for c, v in zip(cols, row)}
            for row in df[cols].itertuples(index=False, name=None)]


def _unsynced(dest: Path) -> str | None:
    """Why pulling over ``dest`` would lose work (None when it would not)."""
    if not dest.exists() or (dest.is_file() and dest.stat().st_size == 0):
        return None
    if not dest.is_file():
        raise SyncError(f"{shown(dest)} is not a file")
    for suffix in ("-journal", "-wal"):
        if Path(f"{dest}{suffix}").exists():
            raise SyncError(f"the store {shown(dest)} is being written by another program; "
                            "close it and try again")
    with Store.open(dest, seed=False) as st:
        o = origin(st)
        if o is None:
            n = st.event_count()
            return (f"{shown(dest)} is a store that is not an offline copy ({plural(n, 'event')}); "
                    "pulling would replace it")
        if o.pushed:
            return None
        ch = read_changes(st, o)
        if ch.empty:
            return None
        return f"the offline copy {shown(dest)} holds changes not pushed yet ({ch.summary()})"


def pull(source: object, dest: str | os.PathLike, *, force: bool = False,
         progress: Progress | None = None) -> PullResult:
    """Copy the store ``source`` (a server URL or a store file) into a new offline copy at
    ``dest``. Refuses to replace a store holding work that would be lost (changes not
    pushed, or a store that is not an offline copy) unless ``force``."""
    dest = Path(dest).expanduser()
    if not is_server(source) and dest.exists() and Path(str(source)).expanduser().exists() \
            and os.path.samefile(dest, Path(str(source)).expanduser()):
        raise SyncError("the offline copy cannot be the store it is pulled from")
    why = _unsynced(dest)
    if why and not force:
        raise SyncError(f"{why} (push it first, choose another file, or pull with --force)")
    label = target_label(source)
    report(progress, 0, 4, "Reading the store")
    with open_target(source) as src:
        # Versions first: an event changed while it is read has a newer value than its recorded
        # version, which a push sees as "changed on the server" (a conflict to review), never as
        # a change it may write over.
        versions = src.event_versions()
        events = [{k: v for k, v in rec.items() if k in schema.EVENT_FIELDS}
                  for chunk in src.iter_event_records() for rec in chunk]
        report(progress, 1, 4, "Reading missiles and statements")
        missiles: dict[str, list[dict]] = {}
        for m in _frame_rows(src.missiles_frame(), schema.MISSILE_FIELDS):
            missiles.setdefault(m["event_id"], []).append(m)
        statements: dict[str, list[dict]] = {}
        for s in _frame_rows(src.statements_frame(), schema.STATEMENT_FIELDS):
            statements.setdefault(s["event_id"], []).append(s)
        calendar = [src.get_calendar_entry(i) for i in src.calendar_frame()["id"].tolist()]
        server_user = src.user
    ids = {e["id"] for e in events}
    versions = {k: v for k, v in versions.items() if k in ids}
    res = PullResult(dest, label, len(events), sum(map(len, missiles.values())),
                     sum(map(len, statements.values())), len(calendar))
    report(progress, 2, 4, "Writing the offline copy")
    tmp = atomic.temp_name(dest, ".pull")
    try:
        with private_tmp.tracking(tmp):
            try:
                _write_copy(tmp, events, missiles, statements, calendar, {
                    "source": str(label), "pulled_utc": utc_now(), "server_user": server_user,
                    "versions": versions, "calendar": calendar})
            except OSError as e:
                raise SyncError(f"cannot write the offline copy {shown(dest)}: {e.strerror or e}") from None
            atomic.fsync_file(tmp)
            os.replace(tmp, dest)
            atomic.fsync_folder(dest.parent)
    except BaseException:
        atomic.discard(tmp)
        raise
    report(progress, 4, 4, "Pulled")
    return res


def _write_copy(path: Path, events: list[dict], missiles: dict, statements: dict, calendar: list[dict],
                record: dict) -> None:
    with Store.open(path, seed=False) as st, st.write():
        b = st.new_batch("init", file_name=f"offline copy of {record['source']}",
                         details={ORIGIN_KEY: record})
        st.insert_events(events, b, missiles=missiles, statements=statements, audit=False)
        for entry in calendar:
            st.insert_calendar_entry(entry, b, audit=False)
        st.finish_batch(b, added=len(events) + len(calendar))


# ============================================================================ changes in the copy
@dataclass
class LocalChanges:
    """What the analyst changed in an offline copy since the pull."""

    edited: dict[str, list[str]] = field(default_factory=dict)  # event id -> fields changed
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    calendar: dict[str, dict | None] = field(default_factory=dict)  # entry id -> entry now (None: deleted)

    @property
    def empty(self) -> bool:
        return not (self.edited or self.added or self.deleted or self.calendar)

    def summary(self) -> str:
        parts = [f"{plural(len(self.edited), 'event')} edited" if self.edited else "",
                 f"{len(self.added):,} added" if self.added else "",
                 f"{len(self.deleted):,} deleted" if self.deleted else "",
                 f"{plural(len(self.calendar), 'calendar entry')} changed" if self.calendar else ""]
        return ", ".join(p for p in parts if p) or "no changes"


def read_changes(local: Store, o: Origin | None = None) -> LocalChanges:
    """The analyst's changes in the offline copy ``local`` since its pull: edited fields come
    from the copy's audit log (a field edited and edited back is no change)."""
    o = o or origin(local)
    if o is None:
        raise SyncError(f"{shown(local.path)} is not an offline copy (make one with: nkbrief sync pull URL --db FILE)")
    since = local.last_audit_id(o.batch_id)
    audit = local.audit_frame()
    audit = audit[(audit["id"] > since) & (audit["table_name"] == "events")]
    fields: dict[str, dict[str, object]] = {}  # id -> field -> value at the pull
    touched: set[str] = set()
    for rec, action, fld, old in audit[["record_id", "action", "field", "old_value"]].itertuples(index=False):
        if action == "update" and isinstance(fld, str):
            fields.setdefault(rec, {}).setdefault(fld, old)
        elif action in ("insert", "delete"):
            touched.add(rec)
    now = local.event_ids()
    base = set(o.versions)
    out = LocalChanges(added=sorted(now - base), deleted=sorted(base - now))
    for rec in sorted((set(fields) | touched) & now & base):
        ev = local.get_event(rec)
        if rec in fields:
            changed = [f for f, old in fields[rec].items() if f in ev and ev[f] != old]
        else:  # deleted and put back (an undo): compared whole
            changed = [f for f in schema.EVENT_FIELDS if f != "id"]
        if changed:
            out.edited[rec] = changed
    cal_now = {i: local.get_calendar_entry(i) for i in local.calendar_frame()["id"].tolist()}
    for cid in sorted(set(cal_now) | set(o.calendar)):
        if cal_now.get(cid) != o.calendar.get(cid):
            out.calendar[cid] = cal_now.get(cid)
    return out


# ============================================================================ push: the review
@dataclass
class Review:
    """One push item the analyst decides: the server's event and the copy's differ, and
    either the server changed it since the pull, or the copy added an event that matches it."""

    item: MergeItem
    event_id: str  # the event in the offline copy
    server_id: str  # the event on the server it is compared with
    why: str  # "changed on the server by … at … since your pull", or how an added event matched
    user: str
    at_utc: str | None


@dataclass
class PushPlan:
    local_path: Path
    target: str
    origin: Origin
    changes: LocalChanges
    parsed: ParsedFile
    plan: MergePlan
    automatic: dict[int, str]  # incoming index -> resolution decided without the analyst
    reviews: list[Review]
    deletions: list[tuple[str, int]]  # (event id, version at pull) to delete on the server
    calendar_ops: list[tuple[str, str, dict | None]]  # (op, id, entry): add / edit / delete
    notes: list[str] = field(default_factory=list)  # what is not pushed, and why

    @property
    def conflicts(self) -> list[Review]:
        return self.reviews

    def resolutions(self, chosen: dict[int, str] | None = None, default: str | None = None) -> dict[int, str]:
        """Every item's resolution: the automatic ones, then the analyst's (``chosen``, else
        ``default``). Raises SyncError naming the first review item left undecided."""
        out = dict(self.automatic)
        chosen = chosen or {}
        for r in self.reviews:
            how = chosen.get(r.item.index, default)
            if how is None:
                raise SyncError(f"{plural(len(self.reviews), 'event')} need{'s' if len(self.reviews) == 1 else ''} "
                                f"your decision before pushing (first: {r.event_id}, {r.why}); "
                                "review with --dry-run and choose --on-conflict server, mine or both")
            out[r.item.index] = how
        return out

    def summary(self) -> str:
        ch = self.changes
        return (f"{ch.summary()} since the pull of {_when(self.origin.pulled_utc)}; "
                f"{plural(len(self.reviews), 'conflict')} to review")


def _when(at_utc: str | None) -> str:
    if not at_utc:
        return "an unknown time"
    return at_utc.replace("T", " ").removesuffix("Z") + (" UTC" if at_utc.endswith("Z") else "")


def _deleted_by(server: Store, event_id: str) -> tuple[str, str | None]:
    df = server.audit_frame(record_id=event_id)
    df = df[(df["table_name"] == "events") & (df["action"] == "delete")]
    if df.empty:
        return "someone", None
    row = df.iloc[-1]
    return str(row["user"]), str(row["at_utc"])


def plan_push(server: Store, local: Store, *, target: str | None = None) -> PushPlan:
    """What pushing the offline copy ``local`` to ``server`` would do (nothing is written)."""
    o = origin(local)
    if o is None:
        raise SyncError(f"{shown(local.path)} is not an offline copy (make one with: nkbrief sync pull URL --db FILE)")
    if o.pushed:
        raise SyncError(f"this offline copy was already pushed (batch {o.pushed.get('batch_id')} on "
                        f"{o.pushed.get('target')} at {_when(o.pushed.get('at_utc'))}); pull again for a fresh copy")
    ch = read_changes(local, o)
    if ch.empty:
        raise SyncError(f"nothing to push: the offline copy {shown(local.path)} has no changes since "
                        f"its pull at {_when(o.pulled_utc)}")
    versions = server.event_versions()
    notes: list[str] = []
    incoming: list[Incoming] = []
    changed_on_server: dict[int, tuple[str, str | None]] = {}
    for eid in sorted(ch.edited):
        if eid not in versions:
            user, at = _deleted_by(server, eid)
            notes.append(f"{eid}: edited in your copy, but deleted on the server by {user} at {_when(at)} "
                         "since your pull; your edit was not pushed")
            continue
        ev = local.get_event(eid)
        if versions[eid] != o.versions[eid]:
            changed_on_server[len(incoming)] = server._last_change(eid)
        incoming.append(Incoming(ev, [], [], [], frozenset(ch.edited[eid]) | {"id"}))
    for eid in ch.added:
        incoming.append(Incoming(local.get_event(eid), local.missiles(eid), local.statements(eid), [],
                                 frozenset(schema.EVENT_FIELDS)))
    label = str(target or o.source)
    parsed = ParsedFile(path=Path(local.path), name=f"offline copy {Path(local.path).name}",
                        sha256=sha256_file(Path(local.path)), kind="offline-copy",
                        format_label="nkbrief offline copy", encoding_label=None, delimiter=None, sheet=None,
                        sheets=[], header_row=None, header=[], columns=[], rows_mode="events",
                        rows_total=len(incoming), accepted_rows=len(incoming), incoming=incoming, exact=True)
    plan = plan_merge(server, parsed, default="keep_mine")
    automatic: dict[int, str] = {}
    reviews: list[Review] = []
    n_edited = len(incoming) - len(ch.added)
    for it in plan.choices():
        eid = incoming[it.index].event["id"]
        if it.index < n_edited and it.index not in changed_on_server and it.existing_id == eid:
            automatic[it.index] = "take_theirs"  # only the copy changed it: its edit goes in
            continue
        if it.index in changed_on_server:
            user, at = changed_on_server[it.index]
            why = f"changed on the server by {user} at {_when(at)} since your pull"
        else:
            user, at = server._last_change(it.existing_id)
            why = (f"added in your copy; matches server event {it.existing_id} ({it.rule}), "
                   f"last changed by {user} at {_when(at)}")
        reviews.append(Review(it, eid, it.existing_id, why, user, at))
    deletions: list[tuple[str, int]] = []
    for eid in ch.deleted:
        if eid not in versions:
            continue  # deleted on the server too
        if versions[eid] != o.versions[eid]:
            user, at = server._last_change(eid)
            notes.append(f"{eid}: deleted in your copy, but changed on the server by {user} at {_when(at)} "
                         "since your pull; the server's event was kept")
            continue
        deletions.append((eid, o.versions[eid]))
    cal_ops: list[tuple[str, str, dict | None]] = []
    for cid, entry in ch.calendar.items():
        now = server.get_calendar_entry(cid)
        base = o.calendar.get(cid)
        if now != base and now != entry:
            notes.append(f"calendar entry {cid}: changed in your copy and on the server since your pull; "
                         "the server's was kept")
            continue
        if now == entry:
            continue
        cal_ops.append(("delete" if entry is None else "add" if now is None else "edit", cid, entry))
    return PushPlan(Path(local.path), label, o, ch, parsed, plan, automatic, reviews, deletions, cal_ops, notes)


# ============================================================================ push: applying
@dataclass
class PushResult:
    batch_id: int | None
    target: str
    imported: ImportResult
    deleted: int = 0
    calendar: int = 0
    notes: list[str] = field(default_factory=list)
    refreshed: bool = False
    refresh_error: str | None = None

    def sentence(self) -> str:
        r = self.imported
        parts = [f"{r.added + r.kept_both:,} added", f"{r.took_theirs:,} updated"]
        if self.deleted:
            parts.append(f"{self.deleted:,} deleted")
        if self.calendar:
            parts.append(plural(self.calendar, "calendar entry") + " changed")
        kept = r.kept_mine
        s = f"pushed as batch {self.batch_id} on {self.target}: {', '.join(parts)}"
        if kept:
            s += f"; the server's kept for {plural(kept, 'event')}"
        return s


def apply_push(server: Store, local: Store, reviewed: PushPlan, chosen: dict[int, str] | None = None, *,
               default: str | None = None, progress: Progress | None = None) -> PushResult:
    """Send the copy's changes as one import batch, in one transaction on the server.

    The push is planned again inside the transaction; an item to review that the analyst did
    not see (the server changed while they reviewed) stops the push, and nothing is written."""
    with server.write():
        plan = plan_push(server, local, target=reviewed.target)
        seen = {r.item.index for r in reviewed.reviews}
        for r in plan.reviews:
            if r.item.index not in seen and (chosen or {}).get(r.item.index) is None and default is None:
                raise SyncError(f"the server changed while you reviewed ({r.event_id}: {r.why}); "
                                "nothing was pushed: review the push again")
        resolutions = plan.resolutions(chosen, default)
        if plan.parsed.incoming:
            res = apply_import(server, plan.parsed, default="keep_mine", resolutions=resolutions,
                               progress=progress)
        elif plan.deletions or plan.calendar_ops:  # only deletions or calendar changes: the same kind of batch
            res = ImportResult(server.new_batch("import", file_name=plan.parsed.name, sha256=plan.parsed.sha256,
                                                details={"offline_copy": str(plan.local_path)}))
        else:  # every change was to something the server no longer has
            raise SyncError(f"nothing to push that the server can take ({plan.notes[0]}); pull again "
                            "with --force for a fresh copy")
        b = res.batch_id
        out = PushResult(b, plan.target, res, notes=plan.notes + res.notes)
        for eid, version in plan.deletions:
            server.delete_event(eid, batch_id=b, if_version=version)
            out.deleted += 1
        for op, cid, entry in plan.calendar_ops:
            if op == "delete":
                server.delete_calendar_entry(cid, batch_id=b)
            elif op == "add":
                server.insert_calendar_entry(entry, b)
            else:
                server.update_calendar_entry(cid, {k: v for k, v in entry.items() if k != "id"}, batch_id=b)
            out.calendar += 1
    return out


def mark_pushed(local: Store, result: PushResult) -> None:
    """Record a push in the copy, so a copy that could not be pulled again is never pushed twice."""
    with local.write():
        local.new_batch("manual", file_name="push of the offline copy",
                        details={PUSHED_KEY: {"batch_id": result.batch_id, "target": result.target,
                                              "at_utc": utc_now()}})


def push(local_path: str | os.PathLike, target: object | None = None, chosen: dict[int, str] | None = None, *,
         default: str | None = None, reviewed: PushPlan | None = None,
         progress: Progress | None = None) -> PushResult:
    """Push the offline copy at ``local_path`` to ``target`` (default: where it was pulled
    from), then pull it again so it knows the server's new state. ``chosen``/``default``: the
    analyst's resolutions of the review items (see :meth:`PushPlan.resolutions`)."""
    local_path = Path(local_path).expanduser()
    with open_local(local_path) as local:
        tgt = _push_target(local, local_path, target)
        with open_target(tgt) as server:
            _check_writable(server, tgt)
            plan = reviewed or plan_push(server, local, target=target_label(tgt))
            res = apply_push(server, local, plan, chosen, default=default, progress=progress)
        mark_pushed(local, res)
    try:
        pull(tgt, local_path, force=True)
        res.refreshed = True
    except (UserError, OSError) as e:
        res.refresh_error = (f"the push went through, but the offline copy could not be pulled again ({e}); "
                             "pull again before working on it")
    return res


def _push_target(local: Store, local_path: Path, target: object | None) -> object:
    """Where a push of this offline copy goes: ``target`` if given, else where it was pulled from."""
    o = origin(local)
    if o is None:
        raise SyncError(f"{shown(local_path)} is not an offline copy "
                        "(make one with: nkbrief sync pull URL --db FILE)")
    return target if target is not None else o.source


def review(local_path: str | os.PathLike, target: object | None = None) -> PushPlan:
    """The push's review (``--dry-run``): what pushing would do; nothing is written."""
    local_path = Path(local_path).expanduser()
    with open_local(local_path) as local:
        tgt = _push_target(local, local_path, target)
        with open_target(tgt) as server:
            return plan_push(server, local, target=target_label(tgt))


def open_local(path: Path) -> Store:
    if not path.is_file() or path.stat().st_size == 0:
        raise SyncError(f"there is no offline copy at {shown(path)} (make one with: nkbrief sync pull URL --db FILE)")
    return Store.open(path, seed=False)


def _check_writable(server: Store, target: object) -> None:
    why = getattr(server, "read_only_reason", None)
    if why:
        raise SyncError(f"cannot push to {target_label(target)}: {why}")


__all__ = ["SyncError", "Origin", "PullResult", "PushPlan", "PushResult", "LocalChanges", "Review",
           "PUSH_RESOLUTIONS", "PUSH_LABELS", "origin", "pull", "push", "review", "plan_push", "apply_push",
           "read_changes", "is_server", "target_label", "short_label", "mark_pushed", "StoreError"]
