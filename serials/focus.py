"""Where an exception sits in its list, for the report page's ``?exception=<id>``: the tab of the
report that lists it, its row there, and the lines of the uploaded file around it (read from the
list's placements, which hold each serial's line when the list has a carton or customer
column)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.ids import parse_id
from serials.models import SerialException, SerialList, SerialPlacement

K = SerialException.Kind
TAB_OF_KIND: dict[str, str] = {
    K.MISSING: "missing",
    K.DUPLICATE: "duplicates",
    K.MALFORMED: "malformed",
    K.OUT_OF_RANGE: "out_of_range",
    K.REUSED: "reused",
    K.UNKNOWN: "unknown",
    K.UNUSED: "unused",
}
AROUND = 5  # report rows shown each side of the exception's own
CONTEXT_LINES = 3  # file lines shown each side of a line the exception names
MAX_FOCAL_LINES = 3


@dataclass(frozen=True)
class FileLine:
    """One line of the uploaded list near the exception; ``marker`` instead tells where a
    missing range would have been."""

    line: int | None
    serial: str
    carton: str
    focal: bool = False
    marker: str = ""


def exception_of(serial_list: SerialList, value: str | None) -> SerialException | None:
    """The list's own exception with this id (any other id, or none, is no focus)."""
    pk = parse_id(value)
    return serial_list.exceptions.filter(pk=pk).first() if pk else None


def _focal_lines(exception: SerialException) -> list[int]:
    detail = exception.detail or {}
    if exception.kind == K.DUPLICATE:
        lines = list(detail.get("lines") or [])
    elif exception.kind in (K.MALFORMED, K.OUT_OF_RANGE):
        lines = [row["line"] for row in detail.get("first") or [] if "line" in row]
    elif exception.kind == K.UNKNOWN and "line" in detail:
        lines = [detail["line"]]
    else:
        lines = []
    return [int(line) for line in lines[:MAX_FOCAL_LINES]]


def _matches(exception: SerialException, row: dict[str, Any], serial_list: SerialList) -> bool:
    if exception.kind == K.MISSING and exception.lo is not None:
        return row.get("first") == serial_list.as_engine_rule().format(exception.lo)
    if exception.kind in (K.DUPLICATE, K.UNKNOWN) and exception.serial:
        return exception.serial in (row.get("serial"), row.get("code"))
    if exception.kind == K.REUSED and exception.lo is not None and not serial_list.uses_codes:
        return row.get("serial") == serial_list.as_engine_rule().format(exception.lo)
    lines = _focal_lines(exception)
    if lines:
        return row.get("line") == lines[0]
    first = (exception.detail or {}).get("first") or []
    return bool(first) and row.get("code") == first[0]


def rows_around(
    exception: SerialException, rows: list[dict[str, Any]], serial_list: SerialList
) -> tuple[list[dict[str, Any]], bool]:
    """The report rows around the exception's own (marked ``focus``), and whether it was
    found; all rows, unmarked, when it was not."""
    for index, row in enumerate(rows):
        if _matches(exception, row, serial_list):
            window = [dict(r) for r in rows[max(0, index - AROUND) : index + AROUND + 1]]
            window[min(index, AROUND)]["focus"] = True
            return window, True
    return rows, False


def file_lines(serial_list: SerialList, exception: SerialException) -> list[FileLine]:
    """The uploaded file's lines around the exception: around each line it names (duplicates,
    malformed and out-of-range rows), or either side of a missing range, with a marker where
    the range would have been. Empty when the list kept no lines (no placements)."""
    placements = SerialPlacement.objects.filter(serial_list=serial_list)
    focal = set(_focal_lines(exception))
    gap_after: int | None = None
    marker = ""
    if exception.kind == K.MISSING and exception.lo is not None and exception.hi is not None:
        rule = serial_list.as_engine_rule()
        before = placements.filter(serial=rule.format(exception.lo - 1)).first()
        after = placements.filter(serial=rule.format(exception.hi + 1)).first()
        focal = {p.line for p in (before, after) if p is not None}
        gap_after = before.line if before is not None else None
        marker = exception.summary
    if not focal:
        return []
    wanted: set[int] = set()
    for line in focal:
        wanted.update(range(max(1, line - CONTEXT_LINES), line + CONTEXT_LINES + 1))
    found = []
    for placement in placements.filter(line__in=sorted(wanted)).order_by("line"):
        found.append(
            FileLine(placement.line, placement.serial, placement.carton, placement.line in focal)
        )
        if placement.line == gap_after:
            found.append(FileLine(None, "", "", marker=marker))
    return found
