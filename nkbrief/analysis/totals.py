"""The one definition of "missiles fired" for a set of events.

Every total the analyst sees — the status bar, the selection summary, the pack's cover and
summary sheet, ``list`` on the command line and the timing report — comes from
:func:`missile_totals`, so the same events always give the same number.

The rule, per event:

- its ``count`` when a source states one (a qualified count such as "at least 7" adds 7 and
  makes the total a lower bound);
- otherwise the number of its per-missile rows, when it has any (each row is one reported
  missile);
- otherwise nothing is added and the event is counted under "no reported number". An event
  with no stated number is never guessed to be one missile.

A stored count outside the value rules (:data:`nkbrief.model.rules.COUNT_MAX`; only another
program can have written one, and ``selfcheck`` names it) is not a reported number either:
it is never added to a total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model.rules import COUNT_MAX, COUNT_MIN

#: Count qualifiers that make a stated count a lower bound.
LOWER_BOUND = frozenset({"at least", "over"})


@dataclass(frozen=True)
class Totals:
    """Missiles fired in a set of events, and what that number leaves out."""

    events: int
    missiles: int
    no_number: int  # events with no reported number (neither a count nor missile rows)
    lower_bound: bool = False  # some count is "at least"/"over": the true total may be higher

    def missiles_text(self) -> str:
        """'98 missiles fired', '≥12 missiles fired', '1 missile fired'."""
        noun = "missile" if self.missiles == 1 else "missiles"
        return f"{'≥' if self.lower_bound else ''}{self.missiles:,} {noun} fired"

    def no_number_text(self) -> str:
        """'3 events with no reported number' ('' when every event has a number)."""
        if not self.no_number:
            return ""
        return f"{self.no_number:,} event{'' if self.no_number == 1 else 's'} with no reported number"

    def text(self) -> str:
        """'98 missiles fired (3 events with no reported number)'."""
        rest = self.no_number_text()
        return self.missiles_text() + (f" ({rest})" if rest else "")


def _numbers(values: Iterable[object] | None, n: int) -> np.ndarray:
    """Floats with NaN for missing (None, NaN, pandas NA, text)."""
    if values is None:
        return np.full(n, np.nan)
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return values
    return pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan)


def per_event(counts: Iterable[object], missile_rows: Iterable[object] | None = None) -> np.ndarray:
    """Each event's missiles under the rule above, as floats; NaN where no number is reported."""
    c = _numbers(counts, 0)
    with np.errstate(invalid="ignore"):
        c = np.where((c >= COUNT_MIN) & (c <= COUNT_MAX), c, np.nan)  # outside the rules: no number
    r = _numbers(missile_rows, len(c))
    if len(r) != len(c):
        raise ValueError("counts and missile rows must have one value per event")
    return np.where(np.isfinite(c), c, np.where(r > 0, r, np.nan))


def missile_totals(counts: Iterable[object], missile_rows: Iterable[object] | None = None,
                   qualifiers: Iterable[object] | None = None) -> Totals:
    """Totals of events given column-wise: their ``count``s, their per-missile row numbers
    (optional) and their ``count_qualifier``s (optional). Missing values may be None/NaN/NA.
    Vectorised: a 20,000-event selection costs well under a millisecond per call."""
    each = per_event(counts, missile_rows)
    known = np.isfinite(each)
    lower = False
    if qualifiers is not None:
        q = np.asarray(list(qualifiers) if not isinstance(qualifiers, np.ndarray) else qualifiers, dtype=object)
        if len(q) != len(each):
            raise ValueError("counts and qualifiers must have one value per event")
        stated = np.isfinite(_numbers(counts, 0))
        lower = bool(np.isin(q[stated], list(LOWER_BOUND)).any()) if stated.any() else False
    return Totals(events=int(each.size), missiles=int(each[known].sum()) if known.any() else 0,
                  no_number=int((~known).sum()), lower_bound=lower)


def frame_totals(frame, missile_rows: Iterable[object] | dict | None = None) -> Totals:
    """:func:`missile_totals` of an events frame (``count``, and ``missiles`` / ``count_qualifier``
    when the frame has them). ``missile_rows`` (per row, or a dict by event id) overrides the
    frame's ``missiles`` column."""
    if isinstance(missile_rows, dict):
        missile_rows = [missile_rows.get(i, 0) for i in frame["id"].tolist()]
    elif missile_rows is None and "missiles" in frame:
        missile_rows = frame["missiles"]
    quals = frame["count_qualifier"] if "count_qualifier" in frame else None
    return missile_totals(frame["count"], missile_rows, quals)
