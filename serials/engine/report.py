"""The validation report (``contract.ValidationReport``) of classified rows: used range, missing
ranges, duplicates, malformed and out-of-range rows.

Counts are exact; every list is cut at ``limit`` entries (a duplicate's ``lines`` too), and the
matching ``*_count`` field always tells how many there are in all.

Duplicates and gaps are found without sorting when possible: an already ordered list needs only
differences of neighbours, a dense one a presence count over the used range (``np.bincount``);
otherwise the counters are sorted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, SupportsInt

import numpy as np

from .contract import (
    REPORT_KEYS,
    CounterRange,
    Duplicate,
    Malformed,
    OutOfRange,
    ValidationReport,
)
from .rules import REASON_NAMES, NumberingRule

if TYPE_CHECKING:
    from .cells import LineNumbers

__all__ = ["REPORT_KEYS", "Validation", "build", "has_findings", "render_text"]

# A presence count over the used range is used when the range is at most this much wider
# than the number of serials (memory stays proportional to the file).
DENSE_FACTOR = 4
DENSE_MIN_SPAN = 1 << 20


@dataclass
class Validation:
    """A report plus what a person-readable rendering needs beyond it."""

    report: ValidationReport
    missing_range_count: int = 0
    largest_missing_ranges: list[CounterRange] = field(default_factory=list)
    _present: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None

    @property
    def present_runs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every run of consecutive well-formed counters, as sorted ``(lo, hi)`` arrays, whole
        (never cut by ``limit``): what a registry of used serials stores."""
        if self._present is None:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        return self._present()


def _present_runs(counts: _Counts, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """The complement of the gaps inside the used range: both ends are present."""
    _, gap_lo, gap_hi = counts.missing(lo, hi)
    starts = np.concatenate([np.array([lo], dtype=np.int64), np.asarray(gap_hi) + 1])
    ends = np.concatenate([np.asarray(gap_lo) - 1, np.array([hi], dtype=np.int64)])
    return starts.astype(np.int64), ends.astype(np.int64)


@dataclass
class _Counts:
    unique_count: int
    dup_values: np.ndarray  # sorted
    dup_counts: np.ndarray
    row_is_dup: Callable[[], np.ndarray]
    missing: Callable[[int, int], tuple[int, np.ndarray, np.ndarray]]


_CHUNK = 1 << 20


def _runs_of_sorted(s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique values, duplicated values and their counts of a sorted array."""
    n = len(s)
    starts_mask = np.empty(n, dtype=bool)
    starts_mask[0] = True
    np.not_equal(s[1:], s[:-1], out=starts_mask[1:])
    starts = np.flatnonzero(starts_mask)
    del starts_mask
    unique = s[starts]
    if len(starts) == n:
        return unique, s[:0], np.zeros(0, dtype=np.int64)
    run = np.diff(np.append(starts, n))
    dup = run > 1
    return unique, unique[dup], run[dup]


def _from_sorted(c: np.ndarray, s: np.ndarray) -> _Counts:
    unique, dup_values, dup_counts = _runs_of_sorted(s)
    return _Counts(
        len(unique),
        dup_values,
        dup_counts,
        lambda: _is_in(c, dup_values),
        lambda lo, hi: _missing_from_unique(unique, lo, hi),
    )


def _count(c: np.ndarray, lo: SupportsInt, hi: SupportsInt) -> _Counts:
    wide = c.dtype == object
    n = len(c)
    if not wide:
        descending = np.count_nonzero(c[1:] < c[:-1]) if n > 1 else 0
        if descending == 0:
            return _from_sorted(c, c)
        span = int(hi) - int(lo) + 1
        if span <= max(DENSE_FACTOR * n, DENSE_MIN_SPAN):
            return _from_presence(c, int(lo), span)
    return _from_sorted(c, np.sort(c))


def _from_presence(c: np.ndarray, lo: int, span: int) -> _Counts:
    """Counts per counter over the used range: no sort needed."""
    # offsets from lo, computed in place to spare a copy of the counters
    c -= lo
    try:
        counts = np.bincount(c, minlength=span)
    finally:
        c += lo
    dup_offsets = np.flatnonzero(counts > 1)
    dup_counts = counts[dup_offsets]
    unique_count = int(np.count_nonzero(counts))

    def row_is_dup() -> np.ndarray:
        out = np.empty(len(c), dtype=bool)
        for b in range(0, len(c), _CHUNK):
            out[b : b + _CHUNK] = counts[c[b : b + _CHUNK] - lo] > 1
        return out

    def missing(elo: int, ehi: int) -> tuple[int, np.ndarray, np.ndarray]:
        # counters lo and lo + span - 1 are present, so gaps outside the used range never
        # touch gaps inside it
        first, last = max(elo, lo), min(ehi, lo + span - 1)
        gap_lo: list[np.ndarray] = []
        gap_hi: list[np.ndarray] = []
        count = 0
        if elo < lo:
            end = min(ehi, lo - 1)
            gap_lo.append(np.array([elo], dtype=np.int64))
            gap_hi.append(np.array([end], dtype=np.int64))
            count += end - elo + 1
        if first <= last:
            absent = counts[first - lo : last - lo + 1] == 0
            count += int(np.count_nonzero(absent))
            edges = np.flatnonzero(np.diff(absent.view(np.int8), prepend=0, append=0))
            gap_lo.append(edges[0::2] + first)
            gap_hi.append(edges[1::2] + (first - 1))
        if ehi > lo + span - 1:
            start = max(elo, lo + span)
            gap_lo.append(np.array([start], dtype=np.int64))
            gap_hi.append(np.array([ehi], dtype=np.int64))
            count += ehi - start + 1
        if not gap_lo:
            return 0, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return count, np.concatenate(gap_lo), np.concatenate(gap_hi)

    return _Counts(unique_count, dup_offsets + lo, dup_counts, row_is_dup, missing)


def _is_in(c: np.ndarray, values: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return np.zeros(len(c), dtype=bool)
    if c.dtype == object:
        wanted = set(values.tolist())
        return np.fromiter((x in wanted for x in c), dtype=bool, count=len(c))
    out = np.empty(len(c), dtype=bool)
    for b in range(0, len(c), _CHUNK):
        part = c[b : b + _CHUNK]
        pos = np.searchsorted(values, part)
        pos[pos == len(values)] = 0
        out[b : b + _CHUNK] = values[pos] == part
    return out


def _missing_from_unique(
    unique_sorted: np.ndarray, lo: int, hi: int
) -> tuple[int, np.ndarray, np.ndarray]:
    """Missing count and the inclusive gap runs of ``[lo, hi]`` not covered by the values."""
    left = np.searchsorted(unique_sorted, lo, side="left")
    right = np.searchsorted(unique_sorted, hi, side="right")
    inside = unique_sorted[left:right]
    count = (hi - lo + 1) - len(inside)
    dtype = object if unique_sorted.dtype == object or hi > 2**62 else np.int64
    if len(inside) == 0:
        return count, np.array([lo], dtype=dtype), np.array([hi], dtype=dtype)
    jumps = np.flatnonzero(np.asarray(np.diff(inside) > 1, dtype=bool))
    gap_lo = inside[jumps] + 1
    gap_hi = inside[jumps + 1] - 1
    if inside[0] > lo:
        gap_lo = np.concatenate([np.array([lo], dtype=dtype), gap_lo])
        gap_hi = np.concatenate([np.array([inside[0] - 1], dtype=dtype), gap_hi])
    if inside[-1] < hi:
        gap_lo = np.concatenate([gap_lo, np.array([inside[-1] + 1], dtype=dtype)])
        gap_hi = np.concatenate([gap_hi, np.array([hi], dtype=dtype)])
    return int(count), gap_lo, gap_hi


def build(
    *,
    lines: np.ndarray | LineNumbers,
    reason: np.ndarray,
    counters: np.ndarray,
    text_of: Callable[[int], str],
    rule: NumberingRule,
    expected_range: tuple[int, int] | None,
    limit: int,
) -> Validation:
    """The report for classified rows (line order)."""
    rows = len(reason)
    bad = np.flatnonzero(reason)
    if len(bad):
        good = np.flatnonzero(reason == 0)
        c = counters[good]
    else:
        good = None
        c = counters
    valid = len(c)

    def line_of(pos: np.ndarray) -> list[int]:
        idx = pos if good is None else good[pos]
        return lines[idx].tolist()

    used_range = None
    counts = None
    if valid:
        lo, hi = c.min(), c.max()
        used_range = CounterRange(int(lo), int(hi))
        counts = _count(c, lo, hi)
    expected = CounterRange(*expected_range) if expected_range is not None else used_range

    missing_count, range_count = 0, 0
    missing_ranges: list[CounterRange] = []
    largest: list[CounterRange] = []
    if expected is not None:
        if counts is not None:
            missing_count, gap_lo, gap_hi = counts.missing(expected[0], expected[1])
        else:
            missing_count, gap_lo, gap_hi = _missing_from_unique(
                np.zeros(0, dtype=np.int64), expected[0], expected[1]
            )
        range_count = len(gap_lo)
        missing_ranges = [
            CounterRange(int(x), int(y))
            for x, y in zip(gap_lo[:limit], gap_hi[:limit], strict=True)
        ]
        if range_count:
            if gap_lo.dtype == object:
                sizes = [int(h) - int(lo_) for lo_, h in zip(gap_lo, gap_hi, strict=True)]
                order: list[int] | np.ndarray
                order = sorted(range(range_count), key=lambda i: (-sizes[i], i))[:limit]
            else:
                order = np.lexsort((np.arange(range_count), gap_lo - gap_hi))[:limit]
            largest = [CounterRange(int(gap_lo[i]), int(gap_hi[i])) for i in order]

    duplicates: list[Duplicate] = []
    duplicate_count = 0
    if counts is not None and len(counts.dup_values):
        duplicate_count = len(counts.dup_values)
        positions = np.flatnonzero(counts.row_is_dup())
        values = c[positions]
        uniq, first, inverse = np.unique(values, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        chosen = np.argsort(first, kind="stable")[:limit]
        group_sizes = np.bincount(inverse, minlength=len(uniq))
        bounds = np.concatenate([[0], np.cumsum(group_sizes)])
        by_group = np.argsort(inverse, kind="stable")
        for g in chosen.tolist():
            members = by_group[bounds[g] : bounds[g] + min(int(group_sizes[g]), limit)]
            duplicates.append(
                Duplicate(
                    rule.format(uniq[g]), int(group_sizes[g]), tuple(line_of(positions[members]))
                )
            )

    malformed = [
        Malformed(int(lines[i]), text_of(int(i)), REASON_NAMES[int(reason[i])]) for i in bad[:limit]
    ]

    out_of_range: list[OutOfRange] = []
    out_of_range_count = 0
    if expected_range is not None and valid:
        outside = np.flatnonzero(
            np.asarray((c < expected_range[0]) | (c > expected_range[1]), dtype=bool)
        )
        out_of_range_count = len(outside)
        shown = outside[:limit]
        out_of_range = [
            OutOfRange(line, rule.format(value))
            for line, value in zip(line_of(shown), c[shown].tolist(), strict=True)
        ]

    report = ValidationReport(
        rows=rows,
        valid=valid,
        unique=counts.unique_count if counts is not None else 0,
        used_range=used_range,
        expected_range=expected,
        missing_count=int(missing_count),
        missing_ranges=tuple(missing_ranges),
        duplicate_count=duplicate_count,
        duplicates=tuple(duplicates),
        malformed_count=len(bad),
        malformed=tuple(malformed),
        out_of_range_count=out_of_range_count,
        out_of_range=tuple(out_of_range),
    )
    present = None
    if counts is not None and used_range is not None:
        used_counts, used_lo, used_hi = counts, used_range[0], used_range[1]

        def present() -> tuple[np.ndarray, np.ndarray]:
            return _present_runs(used_counts, used_lo, used_hi)

    return Validation(
        report=report,
        missing_range_count=range_count,
        largest_missing_ranges=largest,
        _present=present,
    )


def has_findings(report: ValidationReport) -> bool:
    return report.has_findings


def render_text(validation: Validation) -> str:
    """The findings for a person, the largest problems first."""
    r = validation.report
    out: list[str] = []

    def rng(pair: CounterRange | None) -> str:
        return (
            "none"
            if pair is None
            else (f"{pair.lo}" if pair.lo == pair.hi else f"{pair.lo}-{pair.hi}")
        )

    out.append(
        f"{r.rows} rows, {r.valid} well-formed, {r.unique} unique; "
        f"used range {rng(r.used_range)}, expected range {rng(r.expected_range)}"
    )
    if not r.has_findings:
        out.append("No findings: no missing, duplicate, malformed or out-of-range serials.")
        return "\n".join(out) + "\n"

    def more(shown: int, total: int, noun: str) -> list[str]:
        return (
            [f"  ... {total - shown} more {noun} not shown (raise --limit)"]
            if total > shown
            else []
        )

    sections: list[tuple[int, int, list[str]]] = []
    if r.missing_count:
        body = [f"Missing: {r.missing_count} serials in {validation.missing_range_count} ranges"]
        shown = validation.largest_missing_ranges
        for gap in shown:
            body.append(f"  {rng(gap)}  ({gap.size} serial{'s' if gap.size != 1 else ''})")
        body += more(len(shown), validation.missing_range_count, "ranges")
        sections.append((r.missing_count, 0, body))
    if r.duplicate_count:
        extra = sum(d.count - 1 for d in r.duplicates)
        body = [f"Duplicates: {r.duplicate_count} serials occur more than once"]
        for d in sorted(r.duplicates, key=lambda d: -d.count):
            lines = ", ".join(map(str, d.lines))
            if d.count > len(d.lines):
                lines += f", ... ({d.count - len(d.lines)} more)"
            body.append(f"  {d.serial}  x{d.count}  lines {lines}")
        body += more(len(r.duplicates), r.duplicate_count, "duplicated serials")
        sections.append((max(r.duplicate_count, extra), 1, body))
    if r.malformed_count:
        body = [f"Malformed: {r.malformed_count} rows"]
        for m in r.malformed:
            body.append(f"  line {m.line}: {m.value!r} ({m.reason})")
        body += more(len(r.malformed), r.malformed_count, "malformed rows")
        sections.append((r.malformed_count, 2, body))
    if r.out_of_range_count:
        body = [f"Out of range: {r.out_of_range_count} rows outside {rng(r.expected_range)}"]
        for o in r.out_of_range:
            body.append(f"  line {o.line}: {o.serial}")
        body += more(len(r.out_of_range), r.out_of_range_count, "out-of-range rows")
        sections.append((r.out_of_range_count, 3, body))
    for _, _, body in sorted(sections, key=lambda s: (-s[0], s[1])):
        out.append("")
        out.extend(body)
    return "\n".join(out) + "\n"
