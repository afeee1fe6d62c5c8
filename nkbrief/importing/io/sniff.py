"""Find out what a file is before anything parses it: its format, text encoding and delimiter.

Everything here works on bytes already read (or on a path it checks first) and raises
:class:`FileRejected` with one sentence for the analyst when the file cannot be imported
at all. Detection is by content, not by the file name: a CSV saved as ``.xlsx`` or a
workbook renamed ``.csv`` is still read correctly.

Encodings are tried in a fixed order so that the result is predictable:
a BOM (UTF-8 or UTF-16), the NUL pattern of BOM-less UTF-16, strict UTF-8, CP949 (the
Korean Windows superset of EUC-KR) when the result reads as Hangul, then cp1252.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ...common import UserError

#: Largest file the importer reads (text, JSON or xlsx). Documented in docs/import.md.
MAX_FILE_BYTES = 256 * 1024 * 1024

#: Human labels for the codecs we detect; shown in the dialog and the CLI report.
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16 with BOM",
    "utf-16-le": "UTF-16 LE (no BOM)",
    "utf-16-be": "UTF-16 BE (no BOM)",
    "cp949": "CP949 / EUC-KR (Korean Windows)",
    "cp1252": "cp1252 (Windows Western)",
}

DELIMITERS = (",", "\t", ";", "|")
DELIMITER_LABELS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}

_CONTROL_OK = {0x09, 0x0A, 0x0C, 0x0D, 0x1A}  # tab, LF, FF, CR, the DOS end-of-file mark


class FileRejected(UserError):
    """The whole file cannot be imported; ``str(e)`` is one sentence for the analyst."""


@dataclass
class Sniffed:
    """What a file turned out to be."""

    format: str  # "delimited", "xlsx" or "json"
    encoding: str | None = None  # codec name, None for xlsx
    text: str | None = None  # the decoded text (delimited and json)

    @property
    def encoding_label(self) -> str:
        if self.encoding is None:
            return "binary (xlsx)" if self.format == "xlsx" else "unknown"
        return ENCODING_LABELS.get(self.encoding, self.encoding)


def check_path(path: str | os.PathLike) -> Path:
    """Refuse paths that cannot be an importable file, with the reason."""
    p = Path(path)
    name = p.name or str(p)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise FileRejected(f"{name}: no such file") from None
    except PermissionError:
        raise FileRejected(f"{name}: cannot be read (permission denied)") from None
    except OSError as e:
        raise FileRejected(f"{name}: cannot be read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileRejected(f"{name}: is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise FileRejected(f"{name}: is not a regular file")
    if st.st_size == 0:
        raise FileRejected(f"{name}: the file is empty")
    if st.st_size > MAX_FILE_BYTES:
        raise FileRejected(f"{name}: is {st.st_size / 2**20:,.0f} MiB; the import limit is "
                           f"{MAX_FILE_BYTES // 2**20} MiB")
    return p


def read_head(path: Path, n: int = 8) -> bytes:
    """The first ``n`` bytes, with open errors turned into :class:`FileRejected`."""
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except PermissionError:
        raise FileRejected(f"{path.name}: cannot be read (permission denied)") from None
    except OSError as e:
        raise FileRejected(f"{path.name}: cannot be read ({e.strerror or e})") from None


def read_all(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        raise FileRejected(f"{path.name}: cannot be read (permission denied)") from None
    except OSError as e:
        raise FileRejected(f"{path.name}: cannot be read ({e.strerror or e})") from None


def is_zip(head: bytes) -> bool:
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


def _utf16_without_bom(raw: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when NULs sit in every other byte, as in BOM-less UTF-16 text."""
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul = even.count(0) / len(even)
    odd_nul = odd.count(0) / max(len(odd), 1)
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _hangul_plausible(text: str) -> bool:
    """True when most non-ASCII characters are Hangul syllables or jamo (a Korean text)."""
    non_ascii = hangul = 0
    for ch in text:
        o = ord(ch)
        if o < 128:
            continue
        non_ascii += 1
        if 0xAC00 <= o <= 0xD7A3 or 0x3131 <= o <= 0x318E:
            hangul += 1
    return hangul > 0 and hangul >= 0.6 * non_ascii


def decode_text(raw: bytes, name: str) -> tuple[str, str]:
    """Decode a text file; returns (text without BOM, codec). Refuses binary data."""
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as e:
            raise FileRejected(f"{name}: starts with a UTF-8 BOM but is not valid UTF-8 "
                               f"(byte {e.start + 3:,})") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as e:
            raise FileRejected(f"{name}: starts with a UTF-16 BOM but is not valid UTF-16 "
                               f"(byte {e.start:,})") from None
        _refuse_control(text, name)
        return text, "utf-16"
    enc16 = _utf16_without_bom(raw)
    if enc16:
        try:
            text = raw.decode(enc16)
        except UnicodeDecodeError:
            enc16 = None
        else:
            _refuse_control(text, name)
            return text, enc16
    sample = raw[:65536]
    bad = sum(1 for b in sample if b < 0x20 and b not in _CONTROL_OK)
    if bad > max(2, 0.05 * len(sample)):
        raise FileRejected(f"{name}: is binary data, not a CSV, Excel or JSON file")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise FileRejected(f"{name}: contains NUL bytes (the first at byte {nul:,}); "
                           "it is not a text file")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp949")
    except UnicodeDecodeError:
        text = None
    if text is not None and _hangul_plausible(text):
        return text, "cp949"
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise FileRejected(f"{name}: cannot be decoded as UTF-8, UTF-16, CP949 (EUC-KR) or "
                           "cp1252 text") from None


def _refuse_control(text: str, name: str) -> None:
    sample = text[:32768]
    bad = sum(1 for ch in sample if ord(ch) < 0x20 and ord(ch) not in _CONTROL_OK)
    if bad > max(2, 0.05 * len(sample)):
        raise FileRejected(f"{name}: is binary data, not a CSV, Excel or JSON file")
    nul = text.find("\x00")
    if nul >= 0:
        raise FileRejected(f"{name}: contains NUL characters (the first at character {nul:,}); "
                           "it is not a text file")


def looks_like_json(text: str) -> bool:
    s = text.lstrip(" \t\r\n\ufeff")
    return s[:1] in ("{", "[")


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most consistent number of columns.

    Ties go to the earlier of comma, tab, semicolon, pipe. A file with a single column
    counts as comma-separated.
    """
    sample = text[:65536]
    if len(text) > len(sample):
        # drop the last, probably cut, line
        cut = sample.rfind("\n")
        sample = sample[:cut] if cut > 0 else sample
    best, best_score = ",", (0.0, 0)
    for d in DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=d)
                    if any(c.strip() for c in r)][:60]
        except csv.Error:
            continue
        if not rows:
            continue
        widths = [len(r) for r in rows]
        mode = max(set(widths), key=lambda w: (widths.count(w), w))
        if mode < 2:
            continue
        score = (widths.count(mode) / len(widths), mode)
        if score > best_score:
            best, best_score = d, score
    return best


def sniff(path: Path, raw: bytes | None = None) -> Sniffed:
    """Decide the format of a checked path (see :func:`check_path`) and decode text files."""
    head = read_head(path) if raw is None else raw[:8]
    name = path.name
    if is_zip(head):
        return Sniffed("xlsx")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(f"{name}: is an old-format (.xls) or password-protected Excel file; "
                           "save it as .xlsx (Excel Workbook) and import that")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise FileRejected(f"{name}: is not a valid .xlsx workbook (it is not a ZIP archive)")
    if path.suffix.lower() in (".md", ".markdown", ".html", ".htm", ".pdf", ".doc", ".rtf"):
        raise FileRejected(f"{name}: is a document, not a data table; import CSV, TSV, .xlsx or JSON "
                           "files")
    if raw is None:
        raw = read_all(path)
    text, enc = decode_text(raw, name)
    if text.startswith("\ufeff"):
        text = text[1:]
    fmt = "json" if looks_like_json(text) or path.suffix.lower() == ".json" else "delimited"
    return Sniffed(fmt, enc, text)


__all__ = ["FileRejected", "Sniffed", "check_path", "decode_text", "detect_delimiter", "sniff",
           "MAX_FILE_BYTES", "ENCODING_LABELS", "DELIMITER_LABELS"]
