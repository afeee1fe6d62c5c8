"""Undoable store edits. Every command goes through the store, so every step is audited.

A command is applied once before it is pushed (:func:`push`), so a store error (an invalid
value, a vanished event) reaches the caller and nothing lands on the stack. Undo and redo
apply the inverse through the store again, which audits them too.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand, QUndoStack

from nkbrief.common import UserError
from nkbrief.store import Store, StoreError, VersionConflict

#: Called with a message when an undo/redo fails in the store (set by the window).
error_handler: Callable[[str], None] | None = None


class StoreCommand(QUndoCommand):
    """Base of every undoable store edit. Subclasses define ``_do()`` and ``_undo()``.

    :meth:`apply` does it now (and may raise StoreError); the push's first redo() is then
    skipped. A StoreError during a later undo or redo goes to ``on_error`` if given, else to
    the module's :data:`error_handler` (set by the window), else it propagates.
    """

    def __init__(self, store: Store, text: str, on_error: Callable[[str], None] | None = None):
        super().__init__(text)
        self.store = store
        self.on_error = on_error
        self._applied = False

    def apply(self) -> None:
        self._do()
        self._applied = True

    def redo(self) -> None:  # Qt override
        if self._applied:
            self._applied = False
            self.just_pushed = True  # the window reads (and clears) it: a push, not a redo
            return
        try:
            self._do()
        except (StoreError, UserError) as e:  # a store refusal, or an import that cannot go ahead
            self._refused(e, "redo")

    def undo(self) -> None:  # Qt override
        try:
            self._undo()
        except (StoreError, UserError) as e:  # a store refusal, or an import that cannot go ahead
            self._refused(e, "undo")

    def _refused(self, e: Exception, what: str) -> None:
        if isinstance(e, VersionConflict):
            # Someone else changed what this command would write over: the step can no longer
            # be undone or redone, so it leaves the stack (Qt drops an obsolete command).
            self.setObsolete(True)
            e = StoreError(f"cannot {what} “{self.text()}”: {e}")
        self._report(e)

    # The window follows its stack's indexChanged and selects these (see
    # ui.app.MainWindow._on_undo_index_changed); None means "leave the selection alone".
    def touched_after_push(self) -> list[str] | None:
        """Event ids to select right after the command is pushed (None: leave the selection)."""
        return None

    def touched_after_redo(self) -> list[str] | None:
        """Event ids to select after this command is done or redone."""
        return None

    def touched_after_undo(self) -> list[str] | None:
        """Event ids to select after this command is undone."""
        return None

    def _report(self, e: Exception) -> None:
        handler = self.on_error or error_handler
        if handler is None:
            raise e
        handler(str(e))




class EditEventCommand(StoreCommand):
    """Change some fields of one event.

    ``if_version``: the event's version when the analyst opened it; the first apply is
    refused (:class:`VersionConflict`) if the event changed since (``expect``: if the event
    no longer holds these values). Undo writes the old values
    back only while the event still holds this edit's values, and redo only while it still
    holds the old ones: neither overwrites a change someone else made in between.
    """

    def __init__(self, store: Store, event_id: str, changes: dict, text: str | None = None,
                 if_version: int | None = None, expect: dict | None = None):
        fields = ", ".join(k.replace("_", " ") for k in changes)
        super().__init__(store, text or f"Edit {fields} of {event_id}")
        self.event_id = event_id
        self.changes = dict(changes)
        self.if_version = if_version
        self.expect = expect
        self.old: dict = {}
        self.version: int | None = None  # the event's version after this edit
        self._done_once = False

    def _do(self) -> None:
        if not self._done_once:
            self.old, self.version = self.store.edit_event(self.event_id, self.changes,
                                                           if_version=self.if_version, expect=self.expect)
            self._done_once = True
        elif self.old:  # redo
            redo = {k: self.changes[k] for k in self.old}
            self.store.update_event(self.event_id, redo, expect=self.old)

    def _undo(self) -> None:
        if self.old:
            self.store.update_event(self.event_id, self.old, expect={k: self.changes[k] for k in self.old})

    def touched_after_redo(self) -> list[str]:
        return [self.event_id]

    def touched_after_undo(self) -> list[str]:
        return [self.event_id]


class AddEventCommand(StoreCommand):
    """Add one event (in a new 'manual' batch). Undo removes it only while nobody else has
    changed it since (its version is still the one this command left)."""

    def __init__(self, store: Store, event: dict, text: str | None = None):
        super().__init__(store, text or f"Add {event.get('id')}")
        self.event = dict(event)
        self.record: dict | None = None
        self.version: int | None = None

    def _do(self) -> None:
        with self.store.write():
            if self.record is not None:  # redo after undo: put back exactly what was removed
                self.store.restore_event(self.record)
            else:
                batch = self.store.new_batch("manual", details={"action": "add event"})
                self.store.insert_event(self.event, batch)
                self.store.finish_batch(batch, added=1)
            self.version = self.store.event_version(self.event["id"])

    def _undo(self) -> None:
        self.record = self.store.delete_event(self.event["id"], if_version=self.version)

    def touched_after_undo(self) -> list[str]:
        return []

    def touched_after_redo(self) -> list[str]:
        return [self.event["id"]]


class DeleteEventsCommand(StoreCommand):
    """Delete events (with their missiles and statements); undo restores them all."""

    def __init__(self, store: Store, event_ids: list[str], text: str | None = None):
        n = len(event_ids)
        super().__init__(store, text or (f"Delete {event_ids[0]}" if n == 1 else f"Delete {n} events"))
        self.event_ids = list(event_ids)
        self.records: list[dict] = []
        self._restored = False

    def _do(self) -> None:
        # redo after undo: delete only what undo put back, unchanged since
        versions = {r["event"]["id"]: r["version"] + 1 for r in self.records if r.get("version")} \
            if self._restored else {}  # restore_event leaves each at its old version + 1
        with self.store.write():
            self.records = [self.store.delete_event(i, if_version=versions.get(i)) for i in self.event_ids]
        self._restored = False

    def _undo(self) -> None:
        with self.store.write():
            batch = self.store.new_batch("manual", details={"action": "undo delete"})
            for rec in self.records:
                self.store.restore_event(rec, batch)
        self._restored = True

    def touched_after_undo(self) -> list[str]:
        return list(self.event_ids)

    def touched_after_redo(self) -> list[str]:
        return []


class ImportCommand(StoreCommand):
    """An import the import dialog already wrote (batch ``result.batch_id``), on the undo stack.

    Undo takes the batch back (:func:`nkbrief.jobs.imports.undo_import`); redo writes the same parsed
    file with the same choices again, as a new batch. Both select the events they touched.
    """

    def __init__(self, store: Store, parsed, resolutions: dict[int, str], result, text: str | None = None):
        super().__init__(store, text or f"Import {parsed.name}")
        self.parsed = parsed
        self.resolutions = dict(resolutions)
        self.result = result
        self.ids: list[str] = store.batch_event_ids(result.batch_id) if result.batch_id is not None else []

    def apply(self) -> None:  # the dialog's worker already wrote it
        self._applied = True

    def _do(self) -> None:
        # Deferred (start-up): the import job pulls in the importer and the exporters, about
        # 25 ms of the window's first paint (python -X importtime, 2026-12-07); an import is
        # only redone after the analyst has imported, when they are loaded anyway.
        from nkbrief.jobs.imports import apply_file

        self.result = apply_file(self.store, self.parsed, self.resolutions)
        self.ids = self.store.batch_event_ids(self.result.batch_id) if self.result.batch_id is not None else []

    def _undo(self) -> None:
        if self.result.batch_id is not None:
            from nkbrief.jobs.imports import undo_import  # Deferred (start-up): see _do

            undo_import(self.store, self.result.batch_id)

    def touched_after_redo(self) -> list[str]:
        return list(self.ids)

    def touched_after_push(self) -> list[str]:
        return list(self.ids)

    def touched_after_undo(self) -> list[str]:
        # what the import changed (rather than added) is back as it was; select that
        return [i for i in self.ids if self.store.has_event(i)]


def push(stack: QUndoStack, command: StoreCommand) -> None:
    """Apply ``command`` (raising StoreError if the store refuses) and put it on ``stack``."""
    command.apply()
    stack.push(command)
