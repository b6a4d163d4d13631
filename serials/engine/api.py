"""Public entry points of the serial engine."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from . import reader
from .cells import (
    FormatProblem,
    Segment,
    empty_segment,
    read_csv_column,
    scan_region,
    segment_from_strings,
)
from .contract import ValidationReport
from .errors import SerialFileError
from .report import Validation, build
from .rules import NumberingRule

Progress = Callable[[int], object] | None
PathLike = str | os.PathLike[str]


def _tell(progress: Progress, percent: int) -> None:
    if progress is not None:
        progress(percent)


def _check_arguments(
    rule: NumberingRule, expected_range: Sequence[int] | None, limit: int
) -> tuple[int, int] | None:
    if not isinstance(rule, NumberingRule):
        raise TypeError("rule must be a NumberingRule")
    if isinstance(limit, bool) or not isinstance(limit, int | np.integer) or limit < 0:
        raise ValueError(f"limit must be a whole number of at least 0, not {limit!r}")
    if expected_range is None:
        return None
    lo, hi = (int(x) for x in expected_range)
    if lo < 0 or hi < lo:
        raise ValueError(f"range {lo}-{hi} is empty or negative")
    if hi > rule.max_counter:
        raise ValueError(
            f"range {lo}-{hi} does not fit {rule.width} counter digits (largest {rule.max_counter})"
        )
    return lo, hi


def _file_error(path: PathLike, problem: FormatProblem) -> SerialFileError:
    name = os.fspath(path)
    where = f"line {problem.line}: " if problem.line else ""
    return SerialFileError(f"{name}: {where}{problem.message}", path=name, line=problem.line)


def _load(path: PathLike) -> reader.Loaded:
    name = os.fspath(path)
    try:
        return reader.load(path)
    except FileNotFoundError:
        raise SerialFileError(f"{name}: no such file", path=name) from None
    except IsADirectoryError:
        raise SerialFileError(f"{name}: is a directory, not a file", path=name) from None
    except PermissionError:
        raise SerialFileError(f"{name}: permission denied", path=name) from None
    except MemoryError:
        raise SerialFileError(f"{name}: too large to read into memory", path=name) from None
    except OSError as exc:
        raise SerialFileError(f"{name}: cannot read ({exc.strerror or exc})", path=name) from None


def _segments(path: PathLike, rule: NumberingRule, progress: Progress) -> list[Segment]:
    raw = _load(path)
    _tell(progress, 10)
    try:
        if reader.sniff(raw) == "xlsx":
            del raw
            return [reader.xlsx_segment(path, rule)]
        text = reader.as_text(raw)
        first = reader.first_row(text.raw, text.start, text.end)
        if first is None:
            return []
        col = reader.header_column(first.cells)
        if col is None:
            return scan_region(text.raw, first.start, text.end, 0, first.line, rule, text.has_pad)
        return scan_region(
            text.raw, first.after, text.end, col, first.next_line, rule, text.has_pad
        )
    except FormatProblem as problem:
        raise _file_error(path, problem) from None


def _report(
    segments: list[Segment],
    rule: NumberingRule,
    expected_range: tuple[int, int] | None,
    limit: int,
) -> Validation:
    segments = [s for s in segments if len(s)] or [empty_segment(rule)]
    if len(segments) == 1:
        seg = segments[0]
        return build(
            lines=seg.lines,
            reason=seg.reason,
            counters=seg.counters,
            text_of=seg.text,
            rule=rule,
            expected_range=expected_range,
            limit=limit,
        )
    offsets = np.cumsum([0] + [len(s) for s in segments])

    def text_of(i: int) -> str:
        k = int(np.searchsorted(offsets, i, side="right")) - 1
        return segments[k].text(i - int(offsets[k]))

    return build(
        lines=np.concatenate([np.asarray(s.lines) for s in segments]),
        reason=np.concatenate([s.reason for s in segments]),
        counters=np.concatenate([s.counters for s in segments]),
        text_of=text_of,
        rule=rule,
        expected_range=expected_range,
        limit=limit,
    )


def run_file(
    path: PathLike,
    rule: NumberingRule,
    expected_range: Sequence[int] | None = None,
    limit: int = 1000,
    progress: Progress = None,
) -> Validation:
    """Like ``validate_file`` but also returns what the text rendering needs."""
    checked = _check_arguments(rule, expected_range, limit)
    _tell(progress, 0)
    segments = _segments(path, rule, progress)
    _tell(progress, 70)
    validation = _report(segments, rule, checked, limit)
    _tell(progress, 100)
    return validation


def validate_file(
    path: PathLike,
    rule: NumberingRule,
    expected_range: Sequence[int] | None = None,
    limit: int = 1000,
    progress: Progress = None,
) -> ValidationReport:
    """Validate a CSV/TXT/XLSX serial file against ``rule``; the report of SERIALS-CLI.md
    (``report.to_json()`` is its JSON).

    Raises SerialFileError (message names the file and, where relevant, the line) when the
    file cannot be read, and ValueError for a bad ``expected_range`` or ``limit``.
    ``progress``, when given, is called with percentages from 0 to 100.
    """
    return run_file(path, rule, expected_range, limit, progress).report


def _as_strings(values: Iterable[object]) -> list[str]:
    if isinstance(values, np.ndarray):
        values = values.tolist()
    return [
        v.decode("utf-8") if isinstance(v, bytes) else ("" if v is None else str(v)) for v in values
    ]


def validate_serials(
    values: Sequence[str] | np.ndarray,
    lines: Sequence[int] | np.ndarray | None,
    rule: NumberingRule,
    expected_range: Sequence[int] | None = None,
    limit: int = 1000,
    progress: Progress = None,
) -> ValidationReport:
    """Validate serial cells already read (an API payload, a column from elsewhere).

    Cells are stripped and upper-cased; empty ones are skipped and not counted. ``lines``
    numbers the cells for the report (default 1, 2, 3, ...).
    """
    checked = _check_arguments(rule, expected_range, limit)
    _tell(progress, 0)
    strings = _as_strings(values)
    if lines is None:
        line_array = np.arange(1, len(strings) + 1, dtype=np.int64)
    else:
        line_array = np.asarray(lines, dtype=np.int64)
        if len(line_array) != len(strings):
            raise ValueError("values and lines differ in length")
    segment = segment_from_strings(line_array, strings, rule)
    _tell(progress, 70)
    report = _report([segment], rule, checked, limit).report
    _tell(progress, 100)
    return report


def read_serial_cells(
    path: PathLike, header_names: frozenset[str] = reader.HEADER_NAMES
) -> tuple[list[int], list[str]]:
    """Line numbers and stripped, upper-cased, non-empty serial cells of a file (any codes).

    ``header_names`` are the header cells that name the column (``reader.CODE_HEADER_NAMES``
    adds ``code`` for allocated code lists).
    """
    raw = _load(path)
    try:
        if reader.sniff(raw) == "xlsx":
            del raw
            lines, values, _ = reader.read_xlsx_column(path, header_names)
        else:
            text = reader.as_text(raw)
            first = reader.first_row(text.raw, text.start, text.end)
            if first is None:
                return [], []
            col = reader.header_column(first.cells, header_names)
            a, base = (first.start, first.line) if col is None else (first.after, first.next_line)
            body = bytes(text.raw[a : text.end]).decode("utf-8")
            lines, values = read_csv_column(body, col or 0, base)
    except FormatProblem as problem:
        raise _file_error(path, problem) from None
    kept_lines: list[int] = []
    kept_values: list[str] = []
    for line, value in zip(lines, values, strict=True):
        cleaned = value.strip().upper()
        if cleaned:
            kept_lines.append(line)
            kept_values.append(cleaned)
    return kept_lines, kept_values
