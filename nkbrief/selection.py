"""The one selection of events, shared by every view. Qt-free.

Views never own selection state: they call :meth:`Selection.set` (with ``source=self``)
and follow :meth:`Selection.on_change`. A view ignores notifications whose source is
itself, so an update never echoes back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


class Selection:
    """An ordered set of event ids with change callbacks."""

    def __init__(self) -> None:
        self._ids: tuple[str, ...] = ()
        self._set: frozenset[str] = frozenset()
        self._current: str | None = None
        self._listeners: list[Callable[[Selection, object], None]] = []
        self._notifying = False

    @property
    def ids(self) -> tuple[str, ...]:
        return self._ids

    @property
    def current(self) -> str | None:
        """The event the detail pane shows: the last one selected, if any."""
        return self._current

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._set

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self):
        return iter(self._ids)

    def set(self, ids: Iterable[str], *, current: str | None = None, source: object = None) -> bool:
        """Replace the selection. Returns False (and notifies nobody) if nothing changed."""
        if isinstance(ids, tuple) and len(seen := frozenset(ids)) == len(ids):
            new = ids  # no repeats: the caller's tuple is kept (views find its rows by identity)
        else:
            new = tuple(dict.fromkeys(ids))
            seen = frozenset(new)
        cur = current if current in seen else (new[-1] if new else None)
        if new == self._ids and cur == self._current:
            return False
        self._ids, self._set, self._current = new, seen, cur
        self._notify(source)
        return True

    def clear(self, *, source: object = None) -> bool:
        return self.set((), source=source)

    def add(self, ids: Iterable[str], *, source: object = None) -> bool:
        return self.set((*self._ids, *ids), source=source)

    def discard(self, ids: Iterable[str], *, source: object = None) -> bool:
        drop = set(ids)
        return self.set((i for i in self._ids if i not in drop), source=source)

    def on_change(self, callback: Callable[[Selection, object], None]) -> None:
        """``callback(selection, source)`` after every change."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[Selection, object], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _notify(self, source: object) -> None:
        # A listener that changes the selection while being notified does not recurse;
        # the loop runs again so every listener ends up seeing the final state.
        if self._notifying:
            self._again = source
            return
        self._notifying = True
        try:
            pending: object = source
            for _ in range(10):
                self._again = _NOTHING
                for cb in list(self._listeners):
                    cb(self, pending)
                if self._again is _NOTHING:
                    break
                pending = self._again
        finally:
            self._notifying = False


_NOTHING = object()
