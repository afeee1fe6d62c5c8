"""The events a checked file brings: one :class:`Incoming` each, or a whole :class:`EventBlock`.

A table of launch events (one event per row) is checked a column at a time, and its events
stay columns -- one list per schema field -- until something needs them one by one: the
merge with the store, for the few that match an event already there; the dialog, for the
ones it shows. The store writes the new ones straight from the columns
(:meth:`nkbrief.store.Store.insert_event_columns`), so a 100k-row file never becomes 100k
dictionaries. To every reader, an :class:`EventBlock` is a sequence of :class:`Incoming`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..model import schema

EVENT_FIELDS = tuple(schema.EVENT_FIELDS)


@dataclass(slots=True)
class Incoming:
    """One event the file brings, with the rows it came from."""

    event: dict
    missiles: list[dict]
    statements: list[dict]
    rows: list[int]
    provided: frozenset  # fields the file gave a value for (the ones a merge compares)


class EventBlock(Sequence):
    """Complete events kept as columns, read as a sequence of :class:`Incoming`.

    ``columns`` maps every schema field to one value per event; ``rownums`` gives each
    event's row in the file and ``provided`` the fields its row stated. An item is built
    on first use and then kept, so changes to it (its missiles, say) are seen by whoever
    reads it next, and :meth:`columns_for` reads the values of built items from them.
    """

    __slots__ = ("columns", "rownums", "provided", "_built")

    def __init__(self, columns: dict[str, list], rownums: list[int], provided: list[frozenset]):
        n = len(rownums)
        if set(columns) != set(EVENT_FIELDS) or any(len(c) != n for c in columns.values()) \
                or len(provided) != n:
            raise ValueError("an EventBlock needs every event field, one value per row")
        self.columns = columns
        self.rownums = rownums
        self.provided = provided
        self._built: dict[int, Incoming] = {}

    def __len__(self) -> int:
        return len(self.rownums)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self.rownums)))]
        n = len(self.rownums)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("EventBlock index out of range")
        inc = self._built.get(i)
        if inc is None:
            cols = self.columns
            ev = {f: cols[f][i] for f in EVENT_FIELDS}
            ev["sources"] = list(ev["sources"] or [])
            inc = self._built[i] = Incoming(ev, [], [], [self.rownums[i]], self.provided[i])
        return inc

    def __iter__(self):
        return (self[i] for i in range(len(self.rownums)))

    @property
    def built(self) -> dict[int, Incoming]:
        """The items built so far (index -> Incoming)."""
        return self._built

    def column(self, name: str) -> list:
        """One field over all events, as they stand now (built items included)."""
        col = self.columns[name]
        if not self._built:
            return col
        col = list(col)
        for i, inc in self._built.items():
            col[i] = inc.event[name]
        return col

    def columns_for(self, indices: Sequence[int]) -> dict[str, list]:
        """Every field of the events at ``indices``, in that order, as columns.

        For all the events with none built, these are the block's own lists: read them,
        do not change them.
        """
        whole = isinstance(indices, range) and indices == range(len(self.rownums))
        if whole and not self._built:
            return dict(self.columns)
        out: dict[str, list] = {}
        for f in EVENT_FIELDS:
            col = self.columns[f]
            out[f] = list(col) if whole else [col[i] for i in indices]
        if self._built:
            pos = {i: k for k, i in enumerate(indices)} if not whole else None
            for i, inc in self._built.items():
                k = i if pos is None else pos.get(i)
                if k is None:
                    continue
                for f in EVENT_FIELDS:
                    out[f][k] = inc.event[f]
        return out


def incoming_column(incoming: Sequence[Incoming], name: str) -> list:
    """One field of every incoming event (a list of Incoming or an EventBlock), without
    building the items of a block."""
    if isinstance(incoming, EventBlock):
        return incoming.column(name)
    return [inc.event[name] for inc in incoming]
