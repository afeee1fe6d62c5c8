"""Read the bundled dataset files in resources/ (built by scripts/build_dataset.py)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from ..model import parse, schema


def load_bundled_events(path: Path) -> dict:
    """Read resources/events.json: {"events": [...], "missiles": [...], "statements": [...]}.

    Returns those three lists plus the file's sha256 (recorded in the seed batch).
    """
    raw = Path(path).read_bytes()
    data = json.loads(raw.decode("utf-8"))
    return {
        "events": data["events"],
        "missiles": data.get("missiles", []),
        "statements": data.get("statements", []),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }


def load_bundled_calendar(path: Path) -> list[dict]:
    """Read resources/calendar.csv (id,date,end_date,category,title,description,sources)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for r in rows:
        entry = {k: (r.get(k) or None) for k in schema.CALENDAR_FIELDS}
        entry["sources"] = [s.strip() for s in (r.get("sources") or "").split(" ; ") if s.strip()]
        entry["description"] = entry["description"] or ""
        out.append(entry)
    return out


__all__ = ["load_bundled_events", "load_bundled_calendar", "parse"]
