"""The other columns of a stored serial list: carton, customer reference and shipment date.

The engine reads only the serial column; this module reads a list's other columns by their
header names, for the placements customer service looks up later. It uses the engine's own
reading rules (the file's kind told by its bytes, the same XLSX safety bounds, the same serial
header names and line numbers), so a serial's line here is the line the engine reported.

Plain Python, no Django: the worker's service calls it and turns a problem into a failed list.

Header names are compared without case, and with ``_``, ``-``, ``.``, ``#`` and runs of spaces
read as one space (``Carton_No``, ``carton no.`` and ``carton-no`` are the same header):

* carton: ``carton``, ``carton no``, ``carton id``, ``carton number``, ``carton ref``, ``box``,
  ``box no``, ``box id``, ``case``, ``case no``, ``case id``
* customer: ``customer``, ``customer reference``, ``customer ref``, ``customer id``,
  ``customer no``, ``customer number``, ``customer order``, ``order ref``, ``order reference``
* shipment date: ``shipped on``, ``shipped``, ``ship date``, ``shipment date``, ``shipping
  date``, ``shipped date``, ``date shipped``, ``dispatch date``, ``dispatched on``

What each kind of list must have (else the whole list fails, naming the file and the header
line): a carton list a serial and a carton column; a distribution list a serial, a customer and
a shipment date column. A production list is read only when it has a carton column.

Cells: serials are stripped and upper-cased like the engine's; empty serial cells are skipped
(the engine skips them too); values longer than a serial can be are skipped (the engine already
reports them as malformed). Every row with a serial needs its carton in a carton list, and its
customer and shipment date in a distribution list (a carton list's optional shipment date may be
empty); a production list's rows without a carton are simply not placed.
Dates are ISO (``2026-11-24``, optionally with a time) or, in XLSX, date cells and the day
numbers spreadsheets store for dates (1990–2099).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from serials.engine import reader
from serials.engine.api import _file_error, _load  # the engine's file errors, not a copy
from serials.engine.cells import (
    COMMA,
    CR,
    NL,
    QUOTE,
    FormatProblem,
    _column_bounds,
    csv_problem,
    simply_quoted,
    strip_cells,
)

CARTON_HEADERS = frozenset(
    {
        "carton",
        "carton no",
        "carton id",
        "carton number",
        "carton ref",
        "box",
        "box no",
        "box id",
        "case",
        "case no",
        "case id",
    }
)
CUSTOMER_HEADERS = frozenset(
    {
        "customer",
        "customer reference",
        "customer ref",
        "customer id",
        "customer no",
        "customer number",
        "customer order",
        "order ref",
        "order reference",
    }
)
SHIPPED_HEADERS = frozenset(
    {
        "shipped on",
        "shipped",
        "ship date",
        "shipment date",
        "shipping date",
        "shipped date",
        "date shipped",
        "dispatch date",
        "dispatched on",
    }
)
# Column widths of serials.models.SerialPlacement.
SERIAL_MAX = 100
CARTON_MAX = 64
CUSTOMER_MAX = 200

_SEPARATORS = re.compile(r"[\s_\-.#]+")
_ISO_DATE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
# Spreadsheet day numbers count from 30 Dec 1899; only plausible shipment years are read as
# dates, so a stray count or carton number in the date column is an error, not year 1900.
_SPREADSHEET_EPOCH = dt.date(1899, 12, 30)
_FIRST_DAY, _LAST_DAY = (
    (dt.date(1990, 1, 1) - _SPREADSHEET_EPOCH).days,
    (dt.date(2099, 12, 31) - _SPREADSHEET_EPOCH).days,
)


@dataclass
class ListColumns:
    """One entry per row that has a serial: its line, serial and the other columns read."""

    lines: list[int] = field(default_factory=list)
    serials: list[str] = field(default_factory=list)
    cartons: list[str] | None = None
    customers: list[str] | None = None
    shipped: list[dt.date | None] | None = None

    def __len__(self) -> int:
        return len(self.serials)


@dataclass(frozen=True)
class _Layout:
    serial: int
    carton: int | None
    customer: int | None
    shipped: int | None


def header_key(cell: object) -> str:
    """A header cell as compared with the names above."""
    return _SEPARATORS.sub(" ", str(cell or "").strip().lower()).strip()


def _find(keys: list[str], names: frozenset[str]) -> int | None:
    for i, key in enumerate(keys):
        if key in names:
            return i
    return None


def _layout(cells: list[str], kind: str, line: int) -> _Layout | None:
    """Which columns to read, or None when a production list has nothing to place."""
    serial = reader.header_column(cells)
    keys = [header_key(cell) for cell in cells]
    carton, customer, shipped = (
        _find(keys, CARTON_HEADERS),
        _find(keys, CUSTOMER_HEADERS),
        _find(keys, SHIPPED_HEADERS),
    )
    if kind == "production":
        if serial is None or carton is None:
            return None
        return _Layout(serial, carton, None, None)
    what = "carton list" if kind == "carton" else "distribution list"
    needed = {"carton": ["serial", "carton"], "distribution": ["serial", "customer", "shipped_on"]}
    if serial is None:
        raise FormatProblem(
            f"a {what} needs a header row naming its columns "
            f"({', '.join(needed[kind])}); the first row has no serial column "
            f"(name it one of: {', '.join(sorted(reader.HEADER_NAMES))})",
            line=line,
        )
    if kind == "carton":
        if carton is None:
            raise FormatProblem(
                f"a carton list needs a carton column (name it one of: {_names(CARTON_HEADERS)})",
                line=line,
            )
        customer = None  # who got the unit is the distribution list's to say
    if kind == "distribution":
        if customer is None:
            raise FormatProblem(
                "a distribution list needs a customer column "
                f"(name it one of: {_names(CUSTOMER_HEADERS)})",
                line=line,
            )
        if shipped is None:
            raise FormatProblem(
                "a distribution list needs a shipment date column "
                f"(name it one of: {_names(SHIPPED_HEADERS)})",
                line=line,
            )
        carton = None  # a distribution list says who got the unit, not how it was packed
    return _Layout(serial, carton, customer, shipped)


def _names(names: frozenset[str]) -> str:
    return ", ".join(sorted(name.replace(" ", "_") for name in names))


def shipment_date(value: object) -> dt.date:
    """A shipment date from a cell; ValueError with a message saying what is wrong."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _FIRST_DAY <= value <= _LAST_DAY:
            return _SPREADSHEET_EPOCH + dt.timedelta(days=int(value))
        raise ValueError(f"shipment date {value!r} is a number, not a date")
    text = str(value).strip()
    match = _ISO_DATE.match(text)
    if match is None:
        raise ValueError(f"shipment date “{text[:40]}” is not a date (write it as YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        raise ValueError(f"shipment date “{text[:40]}” is not a real day") from None


def _text(value: object) -> str:
    text, _ = reader._cell_text(value)  # the engine's rendering of spreadsheet cells
    if "\x00" in text:
        raise ValueError("a cell holds a NUL character")
    return text.strip()


class _Collector:
    """Checks and keeps the rows of one list."""

    def __init__(self, layout: _Layout, kind: str) -> None:
        self.layout, self.kind = layout, kind
        self.out = ListColumns(
            cartons=[] if layout.carton is not None else None,
            customers=[] if layout.customer is not None else None,
            shipped=[] if layout.shipped is not None else None,
        )

    def add(self, line: int, row: Sequence[object]) -> None:
        layout = self.layout
        try:
            serial_cell = row[layout.serial] if layout.serial < len(row) else None
            if reader._cell_text(serial_cell)[1]:
                return  # a long number whose digits the spreadsheet lost: the engine reports it
            serial = _text(serial_cell).upper()
            if not serial or len(serial) > SERIAL_MAX:
                return  # empty (skipped) or longer than any serial (reported as malformed)
            cells = [
                row[column] if column is not None and column < len(row) else None
                for column in (layout.carton, layout.customer, layout.shipped)
            ]
            carton, customer = _text(cells[0]), _text(cells[1])
            if layout.carton is not None and not carton:
                if self.kind == "production":
                    return  # not packed yet: nothing to place
                raise ValueError(f"no carton for serial {serial}")
            if len(carton) > CARTON_MAX:
                raise ValueError(f"carton “{carton[:20]}…” is longer than {CARTON_MAX} characters")
            if layout.customer is not None and not customer:
                raise ValueError(f"no customer for serial {serial}")
            if len(customer) > CUSTOMER_MAX:
                raise ValueError(
                    f"customer “{customer[:20]}…” is longer than {CUSTOMER_MAX} characters"
                )
            shipped = None
            if layout.shipped is not None:
                date_cell = cells[2]
                if date_cell is None or (isinstance(date_cell, str) and not date_cell.strip()):
                    if self.kind == "distribution":
                        raise ValueError(f"no shipment date for serial {serial}")
                else:  # a carton list may say when some cartons left, not all
                    shipped = shipment_date(date_cell)
        except ValueError as problem:
            raise FormatProblem(str(problem), line=line) from None
        out = self.out
        out.lines.append(line)
        out.serials.append(serial)
        if out.cartons is not None:
            out.cartons.append(carton)
        if out.customers is not None:
            out.customers.append(customer)
        if out.shipped is not None:
            out.shipped.append(shipped)


def read_list_columns(path: str | os.PathLike[str], *, kind: str) -> ListColumns | None:
    """The placements a stored list holds, or None when it holds none (a production list
    without a carton column). Raises SerialFileError naming the file and, where it helps, the
    line, for a missing required column, an empty required cell or a bad date."""
    if kind not in ("production", "carton", "distribution"):
        raise ValueError(f"unknown kind of list: {kind!r}")
    loaded = _load(path)
    try:
        if reader.sniff(loaded) == "xlsx":
            del loaded
            return _read_xlsx(path, kind)
        return _read_text(loaded, kind)
    except FormatProblem as problem:
        raise _file_error(path, problem) from None


def _read_text(loaded: reader.Loaded, kind: str) -> ListColumns | None:
    text = reader.as_text(loaded)
    first = reader.first_row(text.raw, text.start, text.end)
    if first is None:
        return ListColumns()
    layout = _layout(first.cells, kind, first.line)
    if layout is None:
        return None
    fast = (
        _read_text_vectorised(text.raw, first.after, text.end, first.next_line, layout, kind)
        if text.has_pad  # a memory-mapped file has no zero bytes around it to read past
        else None
    )
    if fast is not None:
        return fast
    collector = _Collector(layout, kind)
    body = bytes(text.raw[first.after : text.end]).decode("utf-8")
    rows = csv.reader(io.StringIO(body, newline=""))
    consumed = 0
    try:
        for row in rows:
            line = first.next_line + consumed
            consumed = rows.line_num
            collector.add(line, row)
    except csv.Error as exc:
        raise FormatProblem(csv_problem(exc), line=first.next_line + consumed) from None
    return collector.out


def _read_text_vectorised(
    raw: np.ndarray, a: int, b: int, first_line: int, layout: _Layout, kind: str
) -> ListColumns | None:
    """The rows after the header, read with array operations like the engine's serials, when
    the text is plain: ASCII, LF line ends, no NUL, and quotes (if any) only around whole cells
    that hold no comma, line end or quote. Then splitting at commas and line ends is exactly
    what the csv module does. None, for the row-by-row reader, whenever the text is not plain
    or a row breaks a rule (that reader names the line and what is wrong)."""
    if a >= b:
        return ListColumns(
            cartons=[] if layout.carton is not None else None,
            customers=[] if layout.customer is not None else None,
            shipped=[] if layout.shipped is not None else None,
        )
    region = raw[a:b]
    if int(region.max()) >= 0x80 or np.count_nonzero((region == 0) | (region == CR)):
        return None
    newlines = np.flatnonzero(region == NL)
    newlines += a
    commas = np.flatnonzero(region == COMMA)
    commas += a
    quotes = np.flatnonzero(region == QUOTE)
    quotes += a
    if len(quotes) and not simply_quoted(raw, a, b, quotes):
        return None
    starts = np.empty(len(newlines) + 1, dtype=np.int64)
    starts[0] = a
    starts[1:] = newlines + 1
    ends = np.empty_like(starts)
    ends[:-1] = newlines
    ends[-1] = b
    if starts[-1] >= b:
        starts, ends = starts[:-1], ends[:-1]
    lines = np.arange(first_line, first_line + len(starts), dtype=np.int64)

    def cells(column: int | None) -> tuple[np.ndarray, np.ndarray]:
        if column is None:
            return ends.copy(), ends.copy()
        cell_starts, cell_ends = _column_bounds(
            starts, ends, commas if len(commas) else None, column
        )
        if len(quotes):
            quoted = (cell_ends - cell_starts >= 2) & (raw[cell_starts] == QUOTE)
            cell_starts[quoted] += 1
            cell_ends[quoted] -= 1
        strip_cells(raw, cell_starts, cell_ends)
        return cell_starts, cell_ends

    s_start, s_end = cells(layout.serial)
    s_len = s_end - s_start
    keep = (s_len > 0) & (s_len <= SERIAL_MAX)
    c_start, c_end = cells(layout.carton)
    c_len = c_end - c_start
    u_start, u_end = cells(layout.customer)
    u_len = u_end - u_start
    d_start, d_end = cells(layout.shipped)
    d_len = d_end - d_start
    if layout.carton is not None:
        if kind == "production":
            keep &= c_len > 0  # not packed yet: nothing to place
        elif np.any(keep & (c_len == 0)):
            return None  # "no carton for serial …": the row-by-row reader says where
    if np.any(keep & ((c_len > CARTON_MAX) | (u_len > CUSTOMER_MAX))):
        return None
    if layout.customer is not None and np.any(keep & (u_len == 0)):
        return None
    rows = np.flatnonzero(keep)
    data = bytes(raw[a:b])
    upper = data.upper()  # ASCII only: serials are upper-cased, cartons and customers kept
    out = ListColumns(
        lines=lines[rows].tolist(), serials=_texts(upper, s_start[rows] - a, s_end[rows] - a)
    )
    if layout.carton is not None:
        out.cartons = _texts(data, c_start[rows] - a, c_end[rows] - a)
    if layout.customer is not None:
        out.customers = _texts(data, u_start[rows] - a, u_end[rows] - a)
    if layout.shipped is not None:
        shipped = _iso_dates(data, d_start[rows] - a, d_len[rows], required=kind == "distribution")
        if shipped is None:
            return None
        out.shipped = shipped
    return out


def _texts(data: bytes, starts: np.ndarray, ends: np.ndarray) -> list[str]:
    """ASCII cells as strings; cells of one width (serials, cartons usually are) are gathered
    into a matrix and converted in one step."""
    if len(starts) == 0:
        return []
    widths = ends - starts
    width = int(widths[0])
    if 0 < width <= 64 and np.all(widths == width):
        matrix = np.frombuffer(data, dtype=np.uint8)[starts[:, None] + np.arange(width)]
        return matrix.view(f"S{width}").ravel().astype(f"U{width}").tolist()
    return [data[i:j].decode("ascii") for i, j in zip(starts.tolist(), ends.tolist(), strict=True)]


_DATE_SHAPE = np.frombuffer(b"dddd-dd-dd", dtype=np.uint8)


def _iso_dates(
    data: bytes, starts: np.ndarray, lengths: np.ndarray, *, required: bool
) -> list[dt.date | None] | None:
    """Cells of the form YYYY-MM-DD as dates (an empty one None when not required); None
    for anything else, which the row-by-row reader explains."""
    empty = lengths == 0
    if (required and empty.any()) or np.any(~empty & (lengths != 10)):
        return None
    filled = np.flatnonzero(~empty)
    if len(filled) == 0:
        return [None] * len(lengths)
    buffer = np.frombuffer(data, dtype=np.uint8)
    window = buffer[starts[filled][:, None] + np.arange(10)]
    digits = (window >= 48) & (window <= 57)
    shape_ok = np.where(ord("d") == _DATE_SHAPE, digits, window == ord("-"))
    if not shape_ok.all():
        return None
    texts = window.view("S10").ravel()
    try:
        days = texts.astype("datetime64[D]")
    except ValueError:
        return None  # a day that does not exist (2026-02-30)
    parsed: list[dt.date | None] = [None] * len(lengths)
    for i, day in zip(filled.tolist(), days.tolist(), strict=True):
        if not isinstance(day, dt.date):
            return None  # a year Python has no date for (0000): the row-by-row reader says so
        parsed[i] = day
    return parsed


def _read_xlsx(path: str | os.PathLike[str], kind: str) -> ListColumns | None:
    reader._check_archive(path)  # the engine's bounds on entries, inflated size and area
    return reader.confined(_xlsx_columns, os.fspath(path), kind)


def _xlsx_columns(path: str, kind: str) -> ListColumns | None:
    rows = reader._sheet_rows(path)
    for index, row in enumerate(rows):
        cells = [reader._cell_text(value)[0] for value in row]
        if not any(cell.strip() for cell in cells):
            continue
        layout = _layout(cells, kind, index + 1)
        if layout is None:
            return None
        collector = _Collector(layout, kind)
        for number in range(index + 1, len(rows)):
            collector.add(number + 1, rows[number])
        return collector.out
    return ListColumns()


__all__ = [
    "CARTON_HEADERS",
    "CUSTOMER_HEADERS",
    "SHIPPED_HEADERS",
    "ListColumns",
    "header_key",
    "read_list_columns",
    "shipment_date",
]
