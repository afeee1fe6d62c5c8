"""The pack job: the optional timing analysis, then the briefing pack (window and command line)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..analysis.timing import DEFAULT_SIMULATIONS, DEFAULT_WINDOW, timing_analysis
from ..briefing import SECTIONS
from ..briefing.pack import DEFAULT_TITLE, PackError, PackOptions, build_pack
from ..briefing.xlsx_values import shown_date
from ..progress import Progress
from ..store import Store
from . import opened


def pack_timing(store: Store, events: pd.DataFrame, *, categories: Sequence[str] | None = None,
                window: int | None = None, seed: int | None = None, simulations: int | None = None,
                date_from: str | None = None, date_to: str | None = None) -> dict:
    """The timing analysis of ``events`` against the store's calendar, for a pack's Context sheet.

    The observation period ends at the store's last observed day (the whole store's, not
    the selection's). Missing settings take the analysis' defaults (all categories,
    30 days, a fresh seed, 10,000 simulations).
    """
    return timing_analysis(events, store.calendar_frame(), categories or None,
                           window=window or DEFAULT_WINDOW, date_from=date_from, date_to=date_to,
                           observed_until=store.last_observed_day(), seed=seed,
                           simulations=simulations or DEFAULT_SIMULATIONS)


def build_pack_job(store: Store | str | os.PathLike, ids: Sequence[str], options: PackOptions,
                   timing: dict | int | None = None, *, progress: Progress | None = None) -> Path:
    """Build a pack of the events ``ids``, first adding the timing analysis when asked.

    ``timing``: None (no analysis, or ``options.timing`` as given), or
    ``{"categories", "window", "seed", "simulations"}`` (any may be missing); a bare number
    is the window.
    """
    if isinstance(timing, int) and not isinstance(timing, bool):
        timing = {"window": timing}
    with opened(store) as st:
        if timing:
            if progress is not None:
                progress(0, 0, "Timing analysis")
            ev = st.events_frame()
            ev = ev[ev["id"].isin(set(ids))]
            options = replace(options, timing=pack_timing(
                st, ev, categories=timing.get("categories"), window=timing.get("window"),
                seed=timing.get("seed"), simulations=timing.get("simulations")))
        return build_pack(st, list(ids), options, progress=progress)


#: What the window's pack dialog needs besides the job (the window reaches the pack only here).
__all__ = ["DEFAULT_TITLE", "SECTIONS", "PackError", "PackOptions", "build_pack_job", "pack_timing", "shown_date"]
