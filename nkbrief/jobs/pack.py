"""The pack job: the optional timing analysis, then the briefing pack (window and command line)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..analysis.timing import DEFAULT_SIMULATIONS, timing_analysis
from ..briefing import SECTIONS
from ..briefing.pack import DEFAULT_TITLE, PackError, PackOptions, build_pack
from ..briefing.xlsx_values import shown_date
from ..progress import Progress
from ..store import Store
from . import opened


#: The analysis choices a pack passes through as they are (absent: the analysis' defaults).
TIMING_CHOICES = ("when", "null", "classes", "include_failed")


def pack_timing(store: Store, events: pd.DataFrame, *, categories: Sequence[str] | None = None,
                window: int | None = None, seed: int | None = None, simulations: int | None = None,
                date_from: str | None = None, date_to: str | None = None, **choices) -> dict:
    """The timing analysis of ``events`` against the store's calendar, for a pack's Context sheet.

    The observation period ends at the store's last observed day (the whole store's, not
    the selection's). Missing settings take the analysis' defaults (all categories, each
    category's own window, the shift null, ballistic classes with failed launches, a fresh
    seed, 10,000 simulations). ``choices``: any of :data:`TIMING_CHOICES`.
    """
    unknown = set(choices) - set(TIMING_CHOICES)
    if unknown:
        raise TypeError(f"unknown timing choices: {', '.join(sorted(unknown))}")
    return timing_analysis(events, store.calendar_frame(), categories or None,
                           window=window, date_from=date_from, date_to=date_to,
                           observed_until=store.last_observed_day(), seed=seed,
                           simulations=simulations or DEFAULT_SIMULATIONS, **choices)


def build_pack_job(store: Store | str | os.PathLike, ids: Sequence[str], options: PackOptions,
                   timing: dict | int | None = None, *, progress: Progress | None = None) -> Path:
    """Build a pack of the events ``ids``, first adding the timing analysis when asked.

    ``timing``: None (no analysis, or ``options.timing`` as given), or
    ``{"categories", "window", "seed", "simulations"}`` plus any of :data:`TIMING_CHOICES`
    (any may be missing); a bare number is the window.
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
                seed=timing.get("seed"), simulations=timing.get("simulations"),
                **{k: timing[k] for k in TIMING_CHOICES if k in timing}))
        return build_pack(st, list(ids), options, progress=progress)


#: What the window's pack dialog needs besides the job (the window reaches the pack only here).
__all__ = ["DEFAULT_TITLE", "SECTIONS", "PackError", "PackOptions", "build_pack_job", "pack_timing", "shown_date"]
