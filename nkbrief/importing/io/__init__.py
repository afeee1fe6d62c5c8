"""Readers for the public launch datasets (CNS/NTI, nagix, CSIS Beyond Parallel).

Every reader is Qt-free and returns ``(frame, report)``: one output row per input row
(nothing is dropped silently) and a :class:`ReadReport` that lists every value it could
not use, phrased as "row N: Column 'value' reason". The import feature reuses them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from ...common import shown


@dataclass
class RowProblem:
    """One cell that could not be read as expected."""

    row: int
    column: str
    value: object
    reason: str

    def __str__(self) -> str:
        v = "" if self.value is None else shown(str(self.value).replace("\n", " "))
        if len(v) > 80:
            v = v[:77] + "..."
        return f"row {self.row}: {shown(self.column)} '{v}' {self.reason}"


@dataclass
class ReadReport:
    """What a reader did with one file: how many rows, in which encoding, what went wrong."""

    source: str
    rows_read: int = 0
    encoding: str | None = None
    problems: list[RowProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: int, column: str, value: object, reason: str) -> None:
        self.problems.append(RowProblem(row, column, value, reason))

    @property
    def ok(self) -> bool:
        return not self.problems

    def messages(self) -> list[str]:
        """The problems as analyst-facing strings, in file order."""
        return [str(p) for p in self.problems]

    def __str__(self) -> str:
        head = f"{self.source}: {self.rows_read} rows read"
        if self.encoding:
            head += f" ({self.encoding})"
        lines = [head, *self.notes, *self.messages()]
        return "\n".join(lines)


def decode_bytes(raw: bytes, report: ReadReport, preferred: tuple[str, ...] = ("utf-8-sig", "cp1252")) -> str:
    """Decode a file's bytes with the first encoding that works; latin-1 as a last resort.

    The encoding used is recorded in the report (CNS exports are cp1252, not UTF-8).
    """
    for enc in preferred:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        report.encoding = "utf-8" if enc == "utf-8-sig" else enc
        if enc != preferred[0]:
            report.notes.append(f"not valid {preferred[0]}; decoded as {enc}")
        return text
    report.encoding = "latin-1"
    report.notes.append("decoded as latin-1 (no other encoding fitted); check accented text")
    return raw.decode("latin-1")




def records_frame(records: list[dict], columns: tuple[str, ...] | list[str]):
    """A frame of object columns that keeps None (not NaN) and ints as ints."""
    import pandas as pd

    return pd.DataFrame({c: pd.Series([r.get(c) for r in records], dtype=object) for c in columns},
                        columns=list(columns))


def clean_sources(items: list[str]) -> list[str]:
    """Tidy split source items: drop a stray quote or '>' after a URL and a glued "Video:" label.

    "...05b.html\"" -> "...05b.html"; "...idUSKBN12F0S2Video" -> "...idUSKBN12F0S2" (the label of
    a video link that followed it). Citations that are not URLs are left as they are.
    """
    out = []
    for s in items:
        if s.startswith(("http://", "https://")):
            s = re.sub(r"(?<=[\w/])Video:?$", "", s).rstrip("\"'>").strip()
        if s and s not in out:
            out.append(s)
    return out


def csv_records(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Split CSV text into (header, [(line where the record starts, cells)]).

    Line numbers count physical lines as a text editor shows them (header on line 1 when
    the file starts with it), so a record whose quoted cell holds line breaks spans several
    lines and the next record starts further down. Blank records are skipped.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    out: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    last_line = 0
    for cells in reader:
        start = last_line + 1
        last_line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip().lstrip("\ufeff") for c in cells]
            continue
        out.append((start, cells))
    return header or [], out


__all__ = ["ReadReport", "RowProblem", "clean_sources", "csv_records", "decode_bytes", "records_frame"]
