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

import re
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
#: Any run of more than MAX_TEXT_RUN_BYTES bytes without a '<' holds a whole aligned block
#: of this size without one (see _run_over_limit).
_RUN_BLOCK = (MAX_TEXT_RUN_BYTES + 1) // 2


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

    Returns what the scan saw: ``{"escapes": bool, "extents": {part: extent}}``: whether
    any cell text may hold Excel's ``_xHHHH_`` escapes (so readers can skip decoding when
    none can), and each worksheet part's :class:`SheetExtent` result, found in the same
    pass (so readers need not inflate the sheet a second time to find where its values end).
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
        seen = {"escapes": False, "extents": {}}
        for info in infos:
            if info.filename.endswith((".xml", ".rels", ".vml")):
                _scan_part(zf, info, name, seen)
        return seen


def _run_over_limit(chunk: bytes, first: int, last: int) -> bool:
    """Whether ``chunk[first:last]`` (from one '<' to another) holds more than
    MAX_TEXT_RUN_BYTES bytes between two '<'. Such a run contains a whole aligned block of
    ``_RUN_BLOCK`` bytes without a '<', so a few C-level finds (one per block, each stopping
    at the block's first '<') clear the chunk; only a block without one is measured exactly."""
    start = first - first % _RUN_BLOCK + (_RUN_BLOCK if first % _RUN_BLOCK else 0)
    for a in range(start, last - _RUN_BLOCK + 1, _RUN_BLOCK):
        if chunk.find(b"<", a, a + _RUN_BLOCK) < 0:
            return max(map(len, chunk[first:last].split(b"<"))) > MAX_TEXT_RUN_BYTES
    return False


# The sheet XML's row starts and value-holding cell children (<v>, inline <is>, formula
# <f>), with or without a namespace prefix. The "last" patterns search backwards (a
# greedy lead), so a chunk is scanned at C speed however many cells it holds.
_LAST_VALUE = re.compile(rb"(?s).*<(?:[A-Za-z_][\w.-]*:)?(?:v|is|f)[\s/>]")
_LAST_ROW = re.compile(rb"(?s).*<(?:[A-Za-z_][\w.-]*:)?row\s[^>]*?\br=\"(\d+)\"")
_ROW_WITHOUT_NUMBER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?:\s(?![^>]*\br=)[^>]*)?/?>")


def _rows_unnumbered(buf: bytes) -> bool:
    """Whether a row tag in ``buf`` has no ``r`` (row number) attribute. Counting is enough
    when every ``<row`` is ``<row r="`` and no row tag has a namespace prefix (as Excel and
    openpyxl write them); anything else is searched for exactly."""
    if b":row" not in buf and buf.count(b"<row") == buf.count(b'<row r="'):
        return False
    return _ROW_WITHOUT_NUMBER.search(buf) is not None


class SheetExtent:
    """Where a sheet's values end, from its XML fed chunk by chunk: :meth:`result` is (the
    last row holding a value, the last row of any kind), or None when it cannot be told
    (rows without numbers; XML in UTF-16 or UTF-32, whose tags these byte searches cannot
    see: Excel writes UTF-8, but XML allows both)."""

    _TAIL = 512  # a tag cut by a chunk's end is seen whole with the next chunk

    def __init__(self) -> None:
        self.last_value = self.last_row = 0
        self.unknown = False
        self._tail = b""

    @staticmethod
    def _last(pattern: re.Pattern, buf: bytes, end: int) -> re.Match | None:
        # the last match ending by `end`: looked for in the last 64 KiB first (nearly always
        # there), then in the whole buffer (a match wholly inside the window is the last one)
        near = max(0, end - 65536)
        m = pattern.match(buf, near, end)
        if m is None and near:
            m = pattern.match(buf, 0, end)
        return m

    def feed(self, chunk: bytes) -> None:
        if self.unknown:
            return
        buf = self._tail + chunk
        if b"\x00" in chunk or _rows_unnumbered(buf):  # NUL: UTF-16 or -32 text, not searchable
            self.unknown = True
            return
        v = self._last(_LAST_VALUE, buf, len(buf))
        if v is not None:
            r = self._last(_LAST_ROW, buf, v.end() - 1)
            self.last_value = int(r.group(1)) if r else self.last_row
        r = self._last(_LAST_ROW, buf, len(buf))
        if r is not None:
            self.last_row = max(self.last_row, int(r.group(1)))
        self._tail = buf[-self._TAIL:]

    def result(self) -> tuple[int, int] | None:
        return None if self.unknown else (self.last_value, self.last_row)


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, seen: dict | None = None) -> None:
    """Stream one XML part: no DTDs, no text runs longer than any acceptable cell; for a
    worksheet, also where its values end (``seen["extents"]``)."""
    long_runs = info.filename.startswith(("xl/worksheets/", "xl/sharedStrings"))
    extent = SheetExtent() if (seen is not None and info.filename.startswith("xl/worksheets/")
                               and info.filename.endswith(".xml")) else None
    run = 0  # bytes since the last '<' (carried across chunks)
    tail = b""
    try:
        with zf.open(info) as f:
            while True:
                chunk = f.read(_CHUNK)
                if not chunk:
                    break
                window = tail + chunk
                if b"<!" in window and (b"<!DOCTYPE" in window or b"<!ENTITY" in window):
                    raise FileRejected(
                        f"{name}: {info.filename} contains an XML document type declaration "
                        "(a possible entity-expansion attack); the workbook was not opened")
                tail = chunk[-16:]
                if extent is not None:
                    extent.feed(chunk)
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
                        if last - first > MAX_TEXT_RUN_BYTES and _run_over_limit(chunk, first, last):
                            run = MAX_TEXT_RUN_BYTES + 1
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
    if extent is not None:
        seen.setdefault("extents", {})[info.filename] = extent.result()


__all__ = ["assert_defusedxml", "check_xlsx", "SheetExtent", "MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES", "MAX_RATIO",
           "MAX_TEXT_RUN_BYTES"]
