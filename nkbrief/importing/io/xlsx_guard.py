"""Check an .xlsx file before openpyxl opens anything in it.

An .xlsx is a ZIP of XML parts. openpyxl trusts both: a 402 KiB file can declare a
400 MiB sheet (plain openpyxl then peaked at 851 MiB), and XML entity definitions can
expand a few bytes into gigabytes. So, before openpyxl sees the file, this module:

1. reads the ZIP directory only and refuses parts whose *declared* uncompressed size or
   compression ratio is over the limits below (nothing is decompressed yet);
2. refuses encrypted parts and archives that are not workbooks;
3. streams every XML part once (Python's zipfile never inflates past the declared size)
   and refuses document type declarations (``<!DOCTYPE``/``<!ENTITY``: entity bombs) and
   text runs too long to be a cell we would accept.

And it asserts that openpyxl parses with defusedxml (``openpyxl.DEFUSEDXML``), the second
line of defence against entity tricks.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from ...model.schema import MAX_TEXT_CHARS
from .sniff import FileRejected

#: Limits, documented in docs/import.md.
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 256 * 1024 * 1024  # declared uncompressed size of one part
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # all parts together
MAX_RATIO = 100  # uncompressed : compressed, checked for parts over RATIO_MIN_BYTES
RATIO_MIN_BYTES = 1024 * 1024
#: A run of bytes between two '<' longer than this cannot be a cell we would accept
#: (MAX_TEXT_CHARS characters of at most 4 UTF-8 bytes, or 6 as XML character references).
MAX_TEXT_RUN_BYTES = 6 * MAX_TEXT_CHARS

_CHUNK = 1 << 20


def _mib(n: int) -> str:
    if n < 1024 * 1024:
        return f"{n / 1024:,.0f} KiB"
    return f"{n / 2**20:,.0f} MiB"


def assert_defusedxml() -> None:
    """Refuse to read workbooks unless openpyxl parses XML through defusedxml."""
    import openpyxl

    if getattr(openpyxl, "DEFUSEDXML", False) is not True:
        raise FileRejected("Excel import is disabled: openpyxl is not using defusedxml "
                           "(is defusedxml installed, and OPENPYXL_DEFUSEDXML unset?)")


def check_xlsx(path: Path) -> dict:
    """Raise :class:`FileRejected` unless the workbook is safe to hand to openpyxl.

    Returns what the scan saw: ``{"escapes": bool}``, whether any cell text may hold
    Excel's ``_xHHHH_`` escapes (so readers can skip decoding when none can).
    """
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileRejected(f"{name}: is not a valid .xlsx workbook (the ZIP archive is damaged "
                           "or truncated)") from None
    except PermissionError:
        raise FileRejected(f"{name}: cannot be read (permission denied)") from None
    except OSError as e:
        raise FileRejected(f"{name}: cannot be read ({e.strerror or e})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise FileRejected(f"{name}: holds {len(infos):,} parts; the limit is {MAX_MEMBERS:,}")
        names = {i.filename for i in infos}
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise FileRejected(f"{name}: is a ZIP archive but not an Excel workbook "
                               "(it has no xl/workbook.xml)")
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise FileRejected(f"{name}: is encrypted; save it without a password and "
                                   "import that")
            size = info.file_size
            total += size
            if size > MAX_MEMBER_BYTES:
                raise FileRejected(f"{name}: looks like a ZIP bomb: {info.filename} would expand "
                                   f"to {_mib(size)}; the limit per part is {_mib(MAX_MEMBER_BYTES)}")
            if size > RATIO_MIN_BYTES:
                ratio = size / max(info.compress_size, 1)
                if ratio > MAX_RATIO:
                    raise FileRejected(
                        f"{name}: looks like a ZIP bomb: {info.filename} would expand from "
                        f"{_mib(info.compress_size)} to {_mib(size)} (ratio {ratio:,.0f}:1; "
                        f"the limit is {MAX_RATIO}:1)")
        if total > MAX_TOTAL_BYTES:
            raise FileRejected(f"{name}: would expand to {_mib(total)}; the limit is "
                               f"{_mib(MAX_TOTAL_BYTES)}")
        seen = {"escapes": False}
        for info in infos:
            if info.filename.endswith((".xml", ".rels", ".vml")):
                _scan_part(zf, info, name, seen)
        return seen


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, seen: dict | None = None) -> None:
    """Stream one XML part: no DTDs, no text runs longer than any acceptable cell."""
    long_runs = info.filename.startswith(("xl/worksheets/", "xl/sharedStrings"))
    run = 0  # bytes since the last '<' (carried across chunks)
    tail = b""
    try:
        with zf.open(info) as f:
            while True:
                chunk = f.read(_CHUNK)
                if not chunk:
                    break
                window = tail + chunk
                if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                    raise FileRejected(
                        f"{name}: {info.filename} contains an XML document type declaration "
                        "(a possible entity-expansion attack); the workbook was not opened")
                tail = chunk[-16:]
                if not long_runs:
                    continue
                if seen is not None and not seen["escapes"] and b"_x" in window:
                    seen["escapes"] = True
                first = chunk.find(b"<")
                if first < 0:
                    run += len(chunk)
                else:
                    run += first
                    if run <= MAX_TEXT_RUN_BYTES:
                        last = chunk.rfind(b"<")
                        if last - first > MAX_TEXT_RUN_BYTES:
                            run = max(map(len, chunk[first:last].split(b"<")))
                    if run <= MAX_TEXT_RUN_BYTES:
                        run = len(chunk) - chunk.rfind(b"<")
                if run > MAX_TEXT_RUN_BYTES:
                    raise FileRejected(
                        f"{name}: {info.filename} holds a cell over {MAX_TEXT_RUN_BYTES:,} bytes "
                        f"long; cells are limited to {MAX_TEXT_CHARS:,} characters")
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise FileRejected(f"{name}: is not a valid .xlsx workbook ({info.filename} is damaged: "
                           f"{e})") from None
    except NotImplementedError as e:
        raise FileRejected(f"{name}: uses an unsupported ZIP feature ({e})") from None


__all__ = ["assert_defusedxml", "check_xlsx", "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES", "MAX_RATIO",
           "MAX_TEXT_RUN_BYTES"]
