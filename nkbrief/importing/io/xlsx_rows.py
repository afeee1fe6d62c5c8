"""A worksheet's cell values in one expat pass: the values openpyxl's read-only
``iter_rows(values_only=True)`` gives, at a fraction of its cost; and the workbook's shared
string table the same way (:func:`shared_strings`, installed into openpyxl's loading).

openpyxl parses a sheet through defusedxml's pure-Python ``XMLParser``: every XML element
becomes an ``Element`` built by Python handlers, and every cell then goes through
``parse_cell`` and, for inline text, ``Text.from_tree`` (descriptors, validation). That is
most of an import's time on a large sheet. This module hands expat's events straight to a
small state machine that keeps only what ``values_only`` reading keeps.

What it reuses from openpyxl, so both agree on every value:

- the workbook as ``load_workbook(read_only=True, data_only=True)`` opened it: its shared
  strings, date styles, epoch (1900 or 1904) and the sheet's part in the archive;
- the number cast (``_reader._cast_number``, which :mod:`.tabular` guards against numbers
  too long to convert), ``from_excel`` and ``from_ISO8601``.

It follows openpyxl's rules: a row's cells are placed by their ``r`` reference (or one
after the previous cell), its width is its last cell's column, rows missing between two
rows are given as empty, ``<v>`` holds a cell's value (empty is None), a formula's cached
value is read and the formula ignored, inline text is its plain ``<t>`` plus its runs'
``<t>`` (phonetic runs left out), shared strings by index, booleans as ``bool``, ISO dates
and date-styled serial numbers as dates.

Anything it does not know for sure (an element in a row that is not a cell, two values in
a cell, markup inside a value, a reference it cannot read, a malformed document) raises
:class:`Unsupported` and the caller reads the sheet again with openpyxl, so an unusual
file gets openpyxl's own result or error, never a guess. Entity, external entity and
document type declarations are refused (:class:`XmlRefused`), as defusedxml refuses them
for openpyxl and the guard's byte scan refuses them in UTF-8 parts.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from xml.parsers import expat

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROW = MAIN_NS + "}row"
_C = MAIN_NS + "}c"
_V = MAIN_NS + "}v"
_IS = MAIN_NS + "}is"
_SI = MAIN_NS + "}si"

_CHUNK = 1 << 18

# parser states: outside any row (or string); in a row; in a cell; in a <v>; in a text
# (a cell's <is> or the table's <si>); in its plain <t>; in a run; in a run's <t>; in an
# element whose content is not read
_OUT, _ROW_S, _CELL, _VALUE, _TEXT, _PLAIN, _RUN, _RUN_T, _SKIP = range(9)


class Unsupported(Exception):
    """The sheet (or string table) holds something this reader leaves to openpyxl."""


def _local(name: str) -> str:
    return name.rpartition("}")[2]


class XmlRefused(ValueError):
    """A document type, entity or external entity declaration, refused as defusedxml
    refuses them (entities are how a few bytes of XML expand to gigabytes)."""


def _refuse_entity(*_args):
    raise XmlRefused("an XML entity declaration")


def _refuse_external(*_args):
    raise XmlRefused("an XML external entity reference")


def _refuse_dtd(*_args):
    raise XmlRefused("an XML document type declaration")


def sheet_values(ws, max_row: int | None = None) -> Iterator[tuple | list] | None:
    """The values of a read-only worksheet's rows, as ``ws.iter_rows(max_row=max_row,
    values_only=True)`` would give them after ``ws.reset_dimensions()``; None when ``ws`` is
    not an openpyxl read-only worksheet this reader knows how to open. Iterating raises
    :class:`Unsupported` for a sheet to be read with openpyxl instead."""
    try:
        from openpyxl.worksheet import _reader

        wb = ws.parent
        source = ws._get_source
        shared = ws._shared_strings
        date_styles = wb._date_formats
        delta_styles = wb._timedelta_formats
        epoch = wb.epoch
        data_only = wb.data_only
        cast = _reader._cast_number
    except (AttributeError, ImportError):
        return None
    if not data_only:
        return None  # formulas would be read as text: openpyxl's job
    return _rows(source, _Sheet(shared, date_styles, delta_styles, epoch, cast), max_row)


class _Sheet:
    """What a sheet's values are converted with: the workbook's shared strings, the styles
    that make a number a date (or a duration), its epoch, and the number cast."""

    __slots__ = ("shared", "date_styles", "delta_styles", "epoch", "cast")

    def __init__(self, shared, date_styles, delta_styles, epoch, cast):
        self.shared, self.date_styles, self.delta_styles = shared, date_styles, delta_styles
        self.epoch, self.cast = epoch, cast


def _rows(source, sheet: _Sheet, max_row: int | None):
    parser, done, _ = _machine(sheet)
    counter = 1  # the next row number to give, as openpyxl counts
    src = source()
    try:
        while True:
            chunk = src.read(_CHUNK)
            _feed(parser, chunk)
            for idx, row in done:
                if max_row is not None and idx > max_row:
                    while counter <= max_row:  # as openpyxl: empty rows up to the limit
                        counter += 1
                        yield []
                    return
                while counter < idx:  # rows missing between two rows
                    counter += 1
                    yield []
                if counter <= idx:
                    counter += 1
                    if not row:
                        yield ()
                        continue
                    width = row[-1][0]  # as openpyxl: the last cell's column
                    out = [None] * width
                    for c, v in row:
                        if 1 <= c <= width:
                            out[c - 1] = v
                    yield tuple(out)
            done.clear()
            if not chunk:
                return
    finally:
        src.close()


def shared_strings(src) -> list[str]:
    """The text of each ``<si>`` of a shared string table read from the open file ``src``,
    as openpyxl's ``read_string_table`` gives it: the plain ``<t>`` and the runs' ``<t>``
    (phonetic runs left out), with openpyxl's removal of ``x005F_``. Raises
    :class:`Unsupported` for anything else (markup inside a text, a malformed table)."""
    parser, _, strings = _machine(None)
    while True:
        chunk = src.read(_CHUNK)
        _feed(parser, chunk)
        if not chunk:
            return strings


def _machine(sheet: _Sheet | None):
    """(an expat parser, the rows it has finished, the strings it has read): a sheet's rows
    as (row number, [(column, value), ...]) when ``sheet`` is given, else a shared string
    table's strings. One set of rules reads a cell's inline text and a table's string."""
    from openpyxl.utils.cell import column_index_from_string
    from openpyxl.utils.datetime import from_excel, from_ISO8601

    done: list[tuple[int, list]] = []  # rows finished since the caller last took them
    strings: list[str] = []
    columns: dict[str, int] = {}  # "AB" -> 28
    table = sheet is None
    if sheet is not None:
        shared, date_styles, delta_styles = sheet.shared, sheet.date_styles, sheet.delta_styles
        epoch, cast = sheet.epoch, sheet.cast
    opens_text = _SI if table else _IS  # the element whose text is read at the top level

    # the row and cell being read
    row_no = 0
    cells: list[tuple[int, object]] = []
    col = 0
    kind = "n"
    style = 0
    ref = None
    value = None
    has_value = False
    plain = None
    runs: list[str] = []
    run_text = None
    has_inline = False
    text: list[str] = []
    state = _OUT
    skip_depth = 0
    skip_return = _OUT

    def column_of(coordinate: str) -> int:
        """The column of a reference whose letters are not yet in ``columns``."""
        letters = coordinate.rstrip("0123456789")
        digits = coordinate[len(letters):]
        if not letters or not digits or not letters.isascii() or not letters.isupper():
            raise Unsupported(f"cell reference {coordinate!r}")
        try:
            n = column_index_from_string(letters)
        except ValueError:
            raise Unsupported(f"cell reference {coordinate!r}") from None
        columns[letters] = n
        return n

    def start(name, attrs):
        nonlocal state, row_no, cells, col, kind, style, ref, value, has_value, plain, runs
        nonlocal run_text, has_inline, text, skip_depth, skip_return
        if state == _ROW_S:
            if name != _C:
                raise Unsupported(f"<{_local(name)}> in a row")
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                col = (letters != ref and columns.get(letters)) or column_of(ref)
            else:
                col += 1
            kind = attrs.get("t", "n")
            s = attrs.get("s")
            style = int(s) if s else 0
            value = None
            has_value = has_inline = False
            state = _CELL
        elif state == _CELL:
            if name == _V:
                if has_value:
                    raise Unsupported("two values in a cell")
                has_value = True
                text = []
                state = _VALUE
            elif name == _IS:
                if has_inline:
                    raise Unsupported("two inline strings in a cell")
                has_inline = True
                plain = None
                runs = []
                state = _TEXT
            elif name == _ROW:
                raise Unsupported("a row inside a cell")
            else:  # a formula (its cached value is what is read), extensions
                skip_depth, skip_return, state = 1, _CELL, _SKIP
        elif state == _OUT:
            if name == _ROW and not table:
                r = attrs.get("r")
                if r is None:
                    row_no += 1
                else:
                    try:
                        row_no = int(r)
                    except ValueError:
                        raise Unsupported(f"row number {r!r}") from None
                cells = []
                col = 0
                state = _ROW_S
            elif name == _SI and table:
                plain = None
                runs = []
                state = _TEXT
        elif state == _TEXT:  # openpyxl's Text: any namespace, direct children only
            local = _local(name)
            if local == "t":
                text = []
                state = _PLAIN
            elif local == "r":
                run_text = None
                state = _RUN
            elif name == _ROW or name == opens_text:
                raise Unsupported(f"a <{_local(name)}> inside a text")
            else:  # phonetic runs and properties: not part of the text
                skip_depth, skip_return, state = 1, _TEXT, _SKIP
        elif state == _RUN:
            if _local(name) == "t":
                text = []
                state = _RUN_T
            elif name == _ROW or name == opens_text:
                raise Unsupported(f"a <{_local(name)}> inside a text")
            else:
                skip_depth, skip_return, state = 1, _RUN, _SKIP
        elif state == _SKIP:
            if name == _ROW or name == opens_text:
                raise Unsupported(f"a <{_local(name)}> inside a cell or text")
            skip_depth += 1
        else:  # markup inside <v> or <t>
            raise Unsupported(f"<{_local(name)}> inside a cell's text")

    def end(name):
        nonlocal state, value, plain, run_text, skip_depth
        if state == _VALUE:
            value = "".join(text) or None
            state = _CELL
        elif state == _CELL:
            v = value
            if kind == "inlineStr":
                v = None
                if has_inline:
                    v = "".join(p for p in ([plain] + runs) if p is not None)
            elif v is not None:
                if kind == "n":
                    v = cast(v)
                    if style in date_styles:
                        try:
                            v = from_excel(v, epoch, timedelta=style in delta_styles)
                        except (OverflowError, ValueError):
                            warnings.warn(f"Cell {ref} is marked as a date but the serial value {v} is "
                                          "outside the limits for dates. The cell will be treated as "
                                          "an error.")
                            v = "#VALUE!"
                elif kind == "s":
                    v = shared[int(v)]
                elif kind == "b":
                    v = bool(int(v))
                elif kind == "d":
                    v = from_ISO8601(v)
            cells.append((col, v))
            state = _ROW_S
        elif state == _PLAIN:
            plain = "".join(text) or None
            state = _TEXT
        elif state == _TEXT:
            if table:
                joined = "".join(p for p in ([plain] + runs) if p is not None)
                strings.append(joined.replace("x005F_", "") if "x005F_" in joined else joined)
                state = _OUT
            else:
                state = _CELL
        elif state == _ROW_S:
            done.append((row_no, cells))
            state = _OUT
        elif state == _SKIP:
            skip_depth -= 1
            if not skip_depth:
                state = skip_return
        elif state == _RUN_T:
            run_text = "".join(text) or None
            state = _RUN
        elif state == _RUN:
            if run_text is not None:
                runs.append(run_text)
            state = _TEXT

    def data(s):
        if state == _VALUE or state == _PLAIN or state == _RUN_T:
            text.append(s)

    parser = expat.ParserCreate(namespace_separator="}")  # names as ElementTree's "{ns}tag"
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    # defusedxml's refusals (entity declarations, external references) and the guard's (DTDs),
    # without needing defusedxml itself
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_external
    return parser, done, strings


def _feed(parser, chunk: bytes) -> None:
    """Parse one chunk (the last is empty); any error but a security refusal is Unsupported."""
    try:
        parser.Parse(chunk, not chunk)
    except expat.ExpatError as e:
        raise Unsupported(f"XML: {e}") from None
    except XmlRefused:
        raise
    except (KeyError, IndexError, ValueError, TypeError, OverflowError) as e:
        raise Unsupported(f"{e.__class__.__name__}: {e}") from None


def install_string_table_reader() -> None:
    """Make openpyxl's workbook loading read the shared string table with
    :func:`shared_strings` (openpyxl's own reader builds a ``Text`` object per string: the
    bench's workbook of 239,080 strings loads in 2.2 s with it, 0.7 s with this), going back
    to openpyxl's reader for a table left to it."""
    from openpyxl.reader import excel

    original = excel.read_string_table
    if getattr(original, "_nkbrief", False):
        return

    def read_string_table(src):
        try:
            return shared_strings(src)
        except Unsupported:
            src.seek(0)
            return original(src)

    read_string_table._nkbrief = True  # type: ignore[attr-defined]
    excel.read_string_table = read_string_table


__all__ = ["sheet_values", "shared_strings", "install_string_table_reader", "Unsupported", "XmlRefused",
           "MAIN_NS"]
