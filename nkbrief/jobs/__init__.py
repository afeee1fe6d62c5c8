"""The long jobs both the command line and the window run (pure functions, progress callback).

Each job takes the store first: an open :class:`nkbrief.store.Store` (the command line), or
the path of one (the window's worker threads, which need their own connection; the job
opens it and closes it again). Errors are raised, never returned: the window's worker turns
them into its ``failed`` signal, the command line into one line on stderr.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from ..store import Store


@contextlib.contextmanager
def opened(store: Store | str | os.PathLike) -> Iterator[Store]:
    """``store`` itself, or a connection to the store at that path for the length of a job."""
    if isinstance(store, Store):
        yield store
        return
    with Store.open(store, seed=False) as st:
        yield st
