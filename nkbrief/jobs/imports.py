"""Import jobs: check a file against the store, apply it as one batch, undo a batch, export."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..exporting.export import ExportError, ExportResult, export_dataset, write_rejected_rows
from ..importing import mapping
from ..importing.importer import DateOrderNeeded, ImportOptions, ParsedFile, read_file
from ..importing.io.sniff import FileRejected
from ..importing.merge import (
    RESOLUTION_LABELS,
    RESOLUTIONS,
    ImportError_,
    ImportResult,
    MergePlan,
    UndoResult,
    apply_import,
    import_batches,
    last_undoable_batch,
    plan_merge,
    undo_batch,
)
from ..progress import Progress
from ..store import Store
from . import opened

StoreLike = Store | str | os.PathLike


def check_file(store: StoreLike, path: str | Path, options: ImportOptions | None = None, *,
               default: str = "keep_mine", progress: Progress | None = None) -> tuple[ParsedFile, MergePlan]:
    """Read and check a file, then plan its merge against the store (nothing is written).

    Raises :class:`~nkbrief.importing.io.sniff.FileRejected` for a file that cannot be read, and
    :class:`DateOrderNeeded` (one of them) when slash dates read both ways and no row settles it.
    """
    parsed = read_file(path, options, progress=progress)
    with opened(store) as st:
        return parsed, plan_merge(st, parsed, default=default)


def apply_file(store: StoreLike, parsed: ParsedFile, resolutions: dict[int, str] | None = None, *,
               default: str = "keep_mine", progress: Progress | None = None) -> ImportResult:
    """Write a checked file as one import batch (all or nothing)."""
    with opened(store) as st:
        return apply_import(st, parsed, default=default, resolutions=resolutions, progress=progress)


def undo_import(store: StoreLike, batch_id: int, *, progress: Progress | None = None) -> UndoResult:
    """Take import batch ``batch_id`` back (raises ImportError_ with the reason when it cannot)."""
    with opened(store) as st:
        return undo_batch(st, batch_id, progress=progress)


def export_events(store: StoreLike, path: str | Path, *, ids: Sequence[str] | None = None,
                  date_from: str | None = None, date_to: str | None = None,
                  classes: Sequence[str] | None = None, progress: Progress | None = None) -> ExportResult:
    """Export the events (all, a date range/classes, or ``ids``) to .csv/.xlsx/.json."""
    with opened(store) as st:
        return export_dataset(st, path, date_from=date_from, date_to=date_to, classes=classes, ids=ids,
                              progress=progress)


#: What the window's import dialog needs besides the jobs (the window reaches the importer only here).
__all__ = [
    "RESOLUTIONS",
    "RESOLUTION_LABELS",
    "ExportError",
    "ExportResult",
    "FileRejected",
    "DateOrderNeeded",
    "ImportError_",
    "ImportOptions",
    "ImportResult",
    "MergePlan",
    "ParsedFile",
    "UndoResult",
    "apply_file",
    "check_file",
    "export_events",
    "import_batches",
    "last_undoable_batch",
    "mapping",
    "undo_import",
    "write_rejected_rows",
]
