"""The briefing pack: a print-ready, formula-safe Excel workbook built from chosen events.

``build_pack(store, event_ids, options, progress=None) -> Path`` runs headless (CLI, tests,
the dialog's worker thread). The workbook is streamed with openpyxl's write-only mode so
memory stays nearly flat however many events there are, written to a temporary file in
the destination folder, and moved into place with ``os.replace`` only when complete: a
failed, cancelled or killed build never leaves a partial pack at the destination.

Sheets, in order: Cover, Summary, Event log, Missiles, Timeline, Context & timing,
Stakeholder views, Sources (any may be turned off). The sheet writers live in
:mod:`nkbrief.briefing.sheets`.
"""

from __future__ import annotations

import contextlib
import functools
import datetime as _dt
import errno
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import atomic, private_tmp, privacy, write_guard
from . import SECTIONS
from ..common import UserError
from ..model import classification
from ..filenames import sanitise_path
from ..progress import Progress
from ..common import shown
from ..model.schema import MAX_TEXT_CHARS
from ..store import current_user, int_array

#: The message when a pack has no marking and the site sets no default.
NO_MARKING = "choose a marking (--classification)"

_SECTION_ALIASES = {
    "events": "event_log", "eventlog": "event_log", "log": "event_log", "event-log": "event_log",
    "context_timing": "context", "timing": "context", "statements": "stakeholders",
    "stakeholder_views": "stakeholders", "views": "stakeholders", "bibliography": "sources",
}
DEFAULT_TITLE = "North Korean missile launches"
MAX_TITLE_CHARS = 200
#: Partial files older than this (seconds) left by a killed build are swept on the next build.
STALE_PARTIAL_SECONDS = 600
PARTIAL_SUFFIX = ".nkbrief-partial"


class PackError(UserError):
    """Why a pack could not be built, phrased for the user; nothing was written."""


@dataclass
class PackOptions:
    """What goes into a pack besides the events themselves.

    ``output``: the .xlsx path (its file name is sanitised; ".xlsx" is added if missing).
    ``date``: the "prepared on" date (ISO text or a date; today when None).
    ``key_judgments``: one judgment per item (a string is split into lines).
    ``classification``: free-text marking printed on every page (see
    :mod:`nkbrief.model.classification`). None: the administrator's site default
    (:mod:`nkbrief.privacy`); without one the build is refused (:data:`NO_MARKING`).
    A blank marking given is refused too.
    ``author``: blank is the operating-system user name.
    ``sections``: keys of :data:`SECTIONS` to include; the order is always the fixed one.
    ``filters``: a human description of how the events were chosen (shown on the cover).
    ``timing``: an optional timing-analysis result (a dict) rendered on "Context & timing".
    """

    output: str | os.PathLike
    title: str = DEFAULT_TITLE
    subtitle: str = ""
    author: str = ""
    organisation: str = ""
    date: _dt.date | str | None = None
    key_judgments: Sequence[str] | str = field(default_factory=list)
    classification: str | None = None
    sections: Sequence[str] = tuple(SECTIONS)
    filters: str = ""
    timing: dict | None = None


#: The event fields held in memory for the whole build; the rest (descriptions, sources,
#: notes...) are read from the store a row at a time as the sheets stream.
LIGHT_FIELDS = ("id", "date", "date_precision", "time_kst", "missile_class", "missile_name", "count",
                "count_qualifier", "distance_km", "distance_km_max", "apogee_km", "apogee_km_max", "outcome")


@dataclass
class PackData:
    """What a pack shows: small per-event columns in memory, full rows read when written."""

    store: object  # the Store the build reads from (on the building thread)
    events: pd.DataFrame  # LIGHT_FIELDS of the chosen events, in date order
    missile_counts: dict[str, int]  # per-missile records of each chosen event
    statements: pd.DataFrame
    calendar: pd.DataFrame
    origins: list[tuple[str, str | None, int]]  # (batch kind, file name, events)
    data_as_of: str | None  # the store's latest launch dated to the day: its data run to there
    unsourced: int  # chosen events with no source recorded
    latest_edit: str | None = None  # the latest change (UTC) to a chosen event after it was added

    @property
    def missile_rows(self) -> int:
        return sum(self.missile_counts.values())

    #: Events whose calendar contexts are computed at a time (they are a few objects each).
    CONTEXT_CHUNK = 2000

    def contexts(self):
        """nkbrief.analysis.context.calendar_contexts of every chosen event, in date order,
        computed a chunk of events at a time (each event's context depends only on its own
        date), so the Context & timing sheet streams them and memory stays flat."""
        from ..analysis.context import calendar_contexts

        ev = self.events
        for start in range(0, len(ev), self.CONTEXT_CHUNK):
            part = ev.iloc[start:start + self.CONTEXT_CHUNK]
            yield from calendar_contexts(part["date"], self.calendar, part["date_precision"])

    @functools.cached_property
    def reach(self) -> str | None:
        """The last day of the latest upcoming party congress or summit the contexts name
        (the timeline reaches it)."""
        from ..analysis.context import context_reach

        last = None
        for c in self.contexts():
            day = context_reach([c])
            if day is not None and (last is None or day > last):
                last = day
        return last


@dataclass
class _Resolved:
    """Checked options."""

    path: Path
    title: str
    subtitle: str
    author: str
    organisation: str
    date: _dt.date
    key_judgments: list[str]
    marking: classification.Marking
    sections: list[str]
    filters: str
    timing: dict | None


def normalise_sections(sections: Iterable[str] | str | None) -> list[str]:
    """Section keys in the fixed order; accepts "a,b" text and a few aliases."""
    if sections is None:
        return list(SECTIONS)
    if isinstance(sections, str):
        sections = [s for s in sections.split(",")]
    chosen = set()
    for raw in sections:
        key = raw.strip().lower().replace(" ", "_").replace("&", "").replace("__", "_")
        if not key:
            continue
        key = _SECTION_ALIASES.get(key, key)
        if key not in SECTIONS:
            raise PackError(f"unknown section {raw.strip()!r} (choose from {', '.join(SECTIONS)})")
        chosen.add(key)
    if not chosen:
        raise PackError("choose at least one section")
    return [k for k in SECTIONS if k in chosen]


def _text(value: object, what: str, limit: int = MAX_TEXT_CHARS) -> str:
    s = "" if value is None else str(value).strip()
    if len(s) > limit:
        raise PackError(f"the {what} is longer than {limit:,} characters")
    return s


def resolve_options(options: PackOptions) -> _Resolved:
    """Check the options; raises PackError with a message for the user."""
    if options.output is None or str(options.output).strip() == "":
        raise PackError("choose where to save the pack (no output file given)")
    chosen = options.classification
    if chosen is None:  # not given: the administrator's default, never an assumed one
        chosen = privacy.default_marking()
        if not chosen:
            raise PackError(NO_MARKING)
    try:
        marking = classification.marking(chosen)
    except ValueError as e:
        raise PackError(str(e)) from None
    d = options.date
    if d is None or d == "":
        d = _dt.date.today()
    elif isinstance(d, _dt.datetime):
        d = d.date()
    elif not isinstance(d, _dt.date):
        try:
            d = _dt.date.fromisoformat(str(d).strip())
        except ValueError:
            raise PackError(f"the date {str(d)!r} is not a date (use YYYY-MM-DD)") from None
    kj = options.key_judgments or []
    if isinstance(kj, str):
        kj = kj.splitlines()
    judgments = [_text(j, "key judgment") for j in kj]
    if options.timing is not None and not isinstance(options.timing, dict):
        raise PackError("the timing analysis must be a dict")
    given = str(options.output).strip()
    if given.endswith(("/", "\\")) or _is_dir(Path(given).expanduser()):
        raise PackError(f"{given} is a folder; choose a file name")
    return _Resolved(
        path=sanitise_path(given),
        title=_text(options.title, "title", MAX_TITLE_CHARS) or DEFAULT_TITLE,
        subtitle=_text(options.subtitle, "subtitle", MAX_TITLE_CHARS),
        author=_text(options.author, "author name", 200) or current_user(),
        organisation=_text(options.organisation, "organisation", 200),
        date=d,
        key_judgments=[j for j in judgments if j],
        marking=marking,
        sections=normalise_sections(options.sections),
        filters=_text(options.filters, "filter description", 2000),
        timing=options.timing,
    )


# ---------------------------------------------------------------- destination
def _is_dir(p: Path) -> bool:
    try:
        return p.is_dir()
    except OSError:  # e.g. a name too long for the file system: not a folder, and made safe later
        return False


def lock_files(path: Path) -> list[Path]:
    """Lock files Excel (``~$name``) and LibreOffice (``.~lock.name#``) keep beside an open file."""
    names = {f"~${path.name}", f".~lock.{path.name}#"}
    if len(path.name) > 2:
        names.add(f"~${path.name[2:]}")  # Office shortens long names this way
    return [path.parent / n for n in sorted(names)]


def _sweep_stale_partials(path: Path) -> None:
    """Remove partial files a killed build left beside ``path`` (best effort)."""
    now = time.time()
    with contextlib.suppress(OSError):
        for p in path.parent.glob(f".{path.name}.*{PARTIAL_SUFFIX}"):
            with contextlib.suppress(OSError):
                if now - p.stat().st_mtime > STALE_PARTIAL_SECONDS:
                    p.unlink()


def check_destination(path: Path) -> None:
    """Fail early, with a clear message, when ``path`` cannot be written (the write guard:
    never the store, a FIFO, device or symlink; then the lock files of Office programs)."""
    folder = path.parent
    if not folder.exists():
        raise PackError(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise PackError(f"{folder} is not a folder")
    if path.is_dir():
        raise PackError(f"{path} is a folder; choose a file name")
    try:
        write_guard.check(path)
    except write_guard.WriteRefused as e:
        raise PackError(str(e)) from None
    for lock in lock_files(path):
        if lock.exists():
            raise PackError(
                f"{path.name} is open in Excel or another program (lock file {lock.name} found); "
                "close it and build again, or choose another name. If it is not open, the lock "
                "file was left by a crash: delete it.")
    if path.exists() and not os.access(path, os.W_OK):
        raise PackError(f"{path} is read-only; choose another name or make it writable")


def _open_partial(path: Path, private: bool = False) -> Path:
    """Create the temporary file in the destination folder (proves the folder is writable).

    It has the permissions of a new file (0666 less the umask; an existing pack's own
    permissions are kept), like any desktop program's output: see :mod:`nkbrief.atomic`.
    A ``private`` pack (marked above UNCLASSIFIED) is 0600 whatever the umask.
    """
    try:
        return atomic.create_temp(path, PARTIAL_SUFFIX, mode=privacy.FILE_MODE if private else None)
    except write_guard.WriteRefused as e:
        raise PackError(str(e)) from None
    except PermissionError:
        raise PackError(f"cannot write to the folder {path.parent}: permission denied") from None
    except OSError as e:
        raise PackError(f"cannot write to the folder {path.parent}: {e.strerror or e}") from None


def _commit(tmp: Path, path: Path) -> None:
    """fsync the finished file, then move it over the destination in one step."""
    try:
        atomic.commit(tmp, path)
    except write_guard.WriteRefused as e:
        raise PackError(str(e)) from None
    except PermissionError:
        raise PackError(
            f"cannot replace {path.name}: it is open in another program (Excel?) or read-only. "
            "Close it and build again, or choose another name.") from None
    except OSError as e:
        raise PackError(f"cannot save {path}: {e.strerror or e}") from None


# ----------------------------------------------------------------------- data
def load_pack_data(store, event_ids: Iterable[str]) -> PackData:
    """Read the chosen events' small columns (in the store's date order) and their context.

    Memory stays nearly flat with the number of events: only :data:`LIGHT_FIELDS` are held;
    the sheets read each event's full record from the store as they stream.
    """
    ids = list(dict.fromkeys(str(i) for i in event_ids))
    if not ids:
        raise PackError("no events selected: choose at least one event")
    wanted = set(ids)
    cols: dict[str, list] = {f: [] for f in LIGHT_FIELDS}
    missing_sources = None
    unsourced = 0
    counts: dict[tuple[str, str | None], int] = {}
    # The same order as Store.events_frame (date, time, id).
    cur = store.pack_rows(LIGHT_FIELDS)
    n = len(LIGHT_FIELDS)
    # SQLite returns a new string for every cell: one object per distinct value of the
    # columns that repeat (class, outcome, precision...) keeps 10k events' columns small.
    shared: dict = {}
    repeat = [f not in ("id", "date") for f in LIGHT_FIELDS]
    for row in cur:
        if row[0] not in wanted:
            continue
        for f, v, r in zip(LIGHT_FIELDS, row[:n], repeat):
            cols[f].append(shared.setdefault(v, v) if r and isinstance(v, str) else v)
        missing_sources, kind, file_name, updated = row[n:]
        unsourced += bool(missing_sources)
        counts[(kind, file_name)] = counts.get((kind, file_name), 0) + 1
    if len(cols["id"]) != len(wanted):
        found = set(cols["id"])
        missing = next(i for i in ids if i not in found)
        raise PackError(f"no event with id {missing!r} (it may have been deleted)")
    events = pd.DataFrame(cols)
    events["count"] = int_array(events["count"])
    for c in ("distance_km", "distance_km_max", "apogee_km", "apogee_km_max"):
        events[c] = pd.to_numeric(events[c], errors="coerce").astype("float64")
    missile_counts = {eid: k for eid, k in store.missile_counts().items() if eid in wanted}
    st = store.statements_frame()
    statements = st[st["event_id"].isin(wanted)].reset_index(drop=True)
    origins = [(k, f, c) for (k, f), c in sorted(counts.items(), key=lambda t: -t[1])]
    edits = [t for eid, t in store.event_edit_times().items() if eid in wanted and t]
    return PackData(store, events, missile_counts, statements, store.calendar_frame(), origins,
                    store.last_observed_day(), unsourced, max(edits) if edits else None)


# ---------------------------------------------------------------------- build
def build_pack(store, event_ids: Iterable[str], options: PackOptions,
               progress: Progress | None = None) -> Path:
    """Build the briefing pack for ``event_ids`` and return the path written.

    Raises :class:`PackError` (a message for the user) for bad options, unknown events or
    an unwritable/locked destination, and :class:`nkbrief.progress.Cancelled` when
    ``progress`` was cancelled. In every failure the destination is left untouched.
    """
    # Deferred (start-up): the sheet writers load openpyxl, about 0.25 s that the window and
    # `nkbrief pack --help` do not pay until a pack is built (tests/core/test_briefing_parts.py).
    from openpyxl import Workbook

    from .sheets import PackWriter

    opts = resolve_options(options)
    check_destination(opts.path)
    with contextlib.suppress(OSError):
        private_tmp.use_for_openpyxl()
    data = load_pack_data(store, event_ids)
    if progress is not None:
        progress(0, 1, "Reading events")
    _sweep_stale_partials(opts.path)
    tmp = _open_partial(opts.path, privacy.private_marking(opts.marking.level))
    wb = None
    done = False
    tracked = contextlib.ExitStack()
    try:
        tracked.enter_context(private_tmp.tracking(tmp))
        wb = Workbook(write_only=True)
        PackWriter(wb, data, opts, progress).write()
        if progress is not None:
            progress(0, 0, "Saving the workbook")
        try:
            atomic.save_workbook(wb, tmp)
        except PermissionError:
            raise PackError(f"cannot write to the folder {opts.path.parent}: permission denied") from None
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise PackError(f"cannot save the pack {shown(opts.path)}: the disk is full; "
                                "nothing was written") from None
            raise PackError(f"cannot save the pack: {e.strerror or e}") from None
        if progress is not None:
            progress(0, 0, "Saving the workbook")  # a last chance to cancel before the rename
        _commit(tmp, opts.path)
        done = True
    finally:
        if not done:
            atomic.discard(tmp)
            _discard_sheet_temp_files(wb)
        tracked.close()
    return opts.path


def _discard_sheet_temp_files(wb) -> None:
    """Write-only sheets stream to temporary files; remove them after a failed build."""
    private_tmp.discard_openpyxl_files(wb)
