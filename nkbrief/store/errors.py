"""The store's one error type (its own module, so the engine modules can raise it too)."""

from __future__ import annotations

from ..common import UserError


class StoreError(UserError):
    """A store problem phrased for the user (no traceback needed)."""
