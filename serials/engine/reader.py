"""Reading serial files: the kind is told by the bytes, never by the name.

* XLSX: a ZIP archive (``PK\\x03\\x04``) holding ``xl/workbook.xml``; the first sheet is read.
  The archive's entry count and uncompressed size are bounded before anything is inflated.
* CSV/TXT: UTF-8 text (a byte-order mark is ignored; UTF-16 with a byte-order mark is converted),
  LF, CRLF or CR line ends.
* Anything else (NUL bytes, other archives, images, PDF, legacy ``.xls``, text that is not UTF-8)
  is an unsupported file.

Header rule (the contract's "its serial cell", read for files with several columns): the first
non-blank row is a header when one of its cells, stripped and compared without case, is one of
``serial``, ``serial_number``, ``serial no``, ``serial_no``, ``sn``; the serial column is then the
first such cell's column. Otherwise there is no header and the serial column is the first one.
A row is blank when every cell is empty after stripping.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from untrusted import Refused, xlsx
from untrusted.confine import Confined, run_confined

from .cells import FormatProblem, csv_problem, padded, segment_from_strings
from .kernel import PAD
from .rules import STORED_AS_NUMBER, NumberingRule

T = TypeVar("T")

HEADER_NAMES = frozenset({"serial", "serial_number", "serial no", "serial_no", "sn"})
# Allocated code lists may also head their column "code".
CODE_HEADER_NAMES = HEADER_NAMES | {"code", "codes"}

# Spreadsheets keep 15 significant digits: a longer whole number may have lost some.
SAFE_NUMBER_DIGITS = 15

_UNSUPPORTED = "unsupported file: not CSV/TXT text or an XLSX workbook"
_MAGIC = (
    (
        b"\xd0\xcf\x11\xe0",
        "unsupported file: a legacy .xls or encrypted Office file; save it as .xlsx or CSV",
    ),
    (b"%PDF", "unsupported file: a PDF document, not a serial list"),
    (b"\x89PNG", "unsupported file: a PNG image, not a serial list"),
    (b"\xff\xd8\xff", "unsupported file: a JPEG image, not a serial list"),
    (b"\x1f\x8b", "unsupported file: gzip-compressed data; uncompress it first"),
    (b"PK\x05\x06", "unsupported file: an empty ZIP archive, not an XLSX workbook"),
)
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


# Files at least this large are memory-mapped instead of copied: the page cache already holds
# their bytes, and fresh memory is what costs most on a large file.
MMAP_MIN_BYTES = 8 << 20


@dataclass
class Loaded:
    raw: np.ndarray  # the bytes; PAD zero bytes around them when has_pad
    start: int  # first data byte in raw (after any byte-order mark, for text)
    end: int
    has_pad: bool = True


def load(path: str | os.PathLike[str]) -> Loaded:
    """The file's bytes; OSError on failure."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size and size >= MMAP_MIN_BYTES:
            mapped = np.memmap(fh, dtype=np.uint8, mode="r", shape=(size,))
            return Loaded(mapped, 0, size, has_pad=False)
        raw = np.zeros(size + 2 * PAD, dtype=np.uint8)
        # numpy's stubs give ndarray __buffer__ only on Python 3.12+; the buffer works on 3.11 too.
        view = memoryview(raw)[PAD : PAD + size]  # type: ignore[arg-type]
        got = 0
        while got < size:
            n = fh.readinto(view[got:])
            if not n:
                break
            got += n
        extra = fh.read()  # the file grew while we read it
    if got < size or extra:
        data = bytes(raw[PAD : PAD + got]) + extra
        return Loaded(padded(data), PAD, PAD + len(data))
    return Loaded(raw, PAD, PAD + size)


def sniff(loaded: Loaded) -> str:
    """``"xlsx"`` or ``"text"``; raises FormatProblem for anything else."""
    head = bytes(loaded.raw[loaded.start : loaded.start + 8])
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    for magic, message in _MAGIC:
        if head.startswith(magic):
            raise FormatProblem(message)
    return "text"


def as_text(loaded: Loaded) -> Loaded:
    """Check and normalise text bytes: BOM, UTF-16, NUL bytes, UTF-8 validity."""
    raw, start, end, has_pad = loaded.raw, loaded.start, loaded.end, loaded.has_pad
    head = bytes(raw[start : start + 4])
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = bytes(raw[start:end]).decode("utf-16")
        except UnicodeDecodeError:
            raise FormatProblem(_UNSUPPORTED + " (broken UTF-16 text)") from None
        if "\0" in text:
            raise FormatProblem(_UNSUPPORTED + " (binary data)")
        data = text.encode("utf-8")
        raw, start, end, has_pad = padded(data), PAD, PAD + len(data), True
        head = bytes(raw[start : start + 4])
    if head.startswith(b"\xef\xbb\xbf"):
        start += 3
    body = raw[start:end]
    if len(body) == 0:
        return Loaded(raw, start, end, has_pad)
    if int(body.min()) == 0:
        raise FormatProblem(_UNSUPPORTED + " (binary data)")
    if int(body.max()) >= 0x80:
        blob = bytes(body)
        try:
            blob.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = blob.count(b"\n", 0, exc.start) + 1
            raise FormatProblem("unsupported file: not UTF-8 text", line=line) from None
    return Loaded(raw, start, end, has_pad)


# --- the first non-blank row ------------------------------------------------------------------


@dataclass
class FirstRow:
    cells: list[str]
    line: int  # its first line
    start: int  # raw offset of its first byte
    after: int  # raw offset just past its last line end
    next_line: int  # line number of the line that follows it


def first_row(raw: np.ndarray, a: int, b: int) -> FirstRow | None:
    """The first non-blank CSV row of ``raw[a:b]`` (line 1 at ``a``), or None."""
    size = 1 << 16
    while True:
        end = min(b, a + size)
        complete = end >= b
        chunk = bytes(raw[a:end])
        if not complete:
            cut = chunk.rfind(b"\n")
            if cut < 0:
                size *= 8
                continue
            chunk = chunk[: cut + 1]
        status, row = _first_row_in(chunk.decode("utf-8"), a, complete)
        if status == "found":
            return row
        if status == "none":
            return None
        size *= 8


def _first_row_in(text: str, a: int, complete: bool) -> tuple[str, FirstRow | None]:
    """("found", row), ("none", None) when the text has no non-blank row, or ("more", None)."""
    physical = [m.group(0) for m in _LINE_RE.finditer(text)]
    consumed = 0

    def feed() -> Iterator[str]:
        nonlocal consumed
        for line in physical:
            consumed += 1
            yield line

    reader = csv.reader(feed())
    offset = a
    before = 0
    try:
        for row in reader:
            nbytes = sum(len(line.encode("utf-8")) for line in physical[before:consumed])
            if any(cell.strip() for cell in row):
                if not complete and consumed == len(physical):
                    return "more", None  # a quoted field may go on past this chunk
                return "found", FirstRow(row, before + 1, offset, offset + nbytes, consumed + 1)
            offset += nbytes
            before = consumed
    except csv.Error as exc:
        raise FormatProblem(csv_problem(exc), line=before + 1) from None
    return ("none" if complete else "more"), None


def header_column(cells: list[str], names: frozenset[str] = HEADER_NAMES) -> int | None:
    """The serial column when these cells are a header row, else None."""
    for i, cell in enumerate(cells):
        if cell.strip().lower() in names:
            return i
    return None


# --- XLSX -------------------------------------------------------------------------------------


def _check_archive(path: str | os.PathLike[str]) -> None:
    """The bounds of :mod:`untrusted.xlsx` (entries, inflated size, area, long texts)."""
    try:
        xlsx.check(path)
    except Refused as exc:
        raise FormatProblem(str(exc)) from None


def _cell_text(value: object) -> tuple[str, bool]:
    """Text of a spreadsheet cell, and whether it is a long number whose digits may be lost."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, int):
        text = str(value)
        return text, len(text.lstrip("-")) > SAFE_NUMBER_DIGITS
    if isinstance(value, float):
        if value.is_integer():
            text = str(int(value))
            return text, len(text.lstrip("-")) > SAFE_NUMBER_DIGITS
        return repr(value), False
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(), False
    if isinstance(value, dt.timedelta):
        return str(value), False
    return str(value), False


def confined(func: Callable[..., T], *args: object) -> T:
    """``func(*args)`` run in a child process under the limits of :mod:`untrusted.xlsx`: a
    workbook that slips past the checks kills the child, never this process."""
    try:
        return run_confined(
            func, *args, memory_bytes=xlsx.XLSX_READ_MAX_MEMORY, seconds=xlsx.XLSX_READ_MAX_SECONDS
        )
    except Confined as exc:
        raise FormatProblem(
            f"unsupported file: the workbook is too heavy to read ({exc})"
        ) from None


def _sheet_rows(path: str | os.PathLike[str]) -> Sequence[Sequence[object]]:
    """Rows of the first sheet from A1 (row i is sheet row i + 1); run it under :func:`confined`."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - calamine is the normal reader
        return _sheet_rows_openpyxl(path)
    try:
        workbook = CalamineWorkbook.from_path(os.fspath(path))
        if not workbook.sheet_names:
            raise FormatProblem("unreadable XLSX workbook (it has no sheet)")
        sheet = workbook.get_sheet_by_index(0)
        return sheet.to_python(skip_empty_area=False)
    except FormatProblem:
        raise
    except Exception as exc:  # calamine raises its own error types
        raise FormatProblem(f"unreadable XLSX workbook ({exc})") from None


def _sheet_rows_openpyxl(  # pragma: no cover
    path: str | os.PathLike[str],
) -> Sequence[Sequence[object]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows: list[list[object]] = []
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append(list(row))
            del number
        workbook.close()
        return rows
    except Exception as exc:
        raise FormatProblem(f"unreadable XLSX workbook ({exc})") from None


def read_xlsx_column(
    path: str | os.PathLike[str], names: frozenset[str] = HEADER_NAMES
) -> tuple[list[int], list[str], dict[int, int]]:
    """Line (sheet row) numbers, cell texts of the serial column and forced reasons."""
    _check_archive(path)
    return confined(_xlsx_column, os.fspath(path), names)


def _xlsx_column(path: str, names: frozenset[str]) -> tuple[list[int], list[str], dict[int, int]]:
    rows = _sheet_rows(path)
    col = 0
    first = None
    for i, row in enumerate(rows):
        texts = [_cell_text(v)[0] for v in row]
        if any(t.strip() for t in texts):
            first = i
            found = header_column(texts, names)
            if found is not None:
                col = found
                first = i + 1
            break
    lines: list[int] = []
    values: list[str] = []
    forced: dict[int, int] = {}
    if first is None:
        return lines, values, forced
    for i in range(first, len(rows)):
        row = rows[i]
        if col >= len(row):
            continue
        text, lossy = _cell_text(row[col])
        if lossy:
            forced[len(values)] = STORED_AS_NUMBER
        lines.append(i + 1)
        values.append(text)
    return lines, values, forced


def xlsx_segment(path: str | os.PathLike[str], rule: NumberingRule):  # noqa: ANN201
    lines, values, forced = read_xlsx_column(path)
    return segment_from_strings(lines, values, rule, forced)
