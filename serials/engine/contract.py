"""The engine's reports as types: ``ValidationReport`` (a serial file, ``SERIALS-CLI.md``) and
``CodesReport`` (used codes against an allocated code list), with their parts.

Their JSON form is the contract everyone outside reads (the command line's ``--format json``,
the stored ``SerialList.report``, the API's ``report``): ``to_json()`` gives it key for key, in
the same order, and ``from_json()`` reads it back, so ``from_json(r.to_json()) == r``. Every
list holds at most the report's limit of entries: building or reading a report costs nothing per
serial of the file."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, NamedTuple, Self

Json = dict[str, Any]

REPORT_KEYS = (
    "rows",
    "valid",
    "unique",
    "used_range",
    "expected_range",
    "missing_count",
    "missing_ranges",
    "duplicate_count",
    "duplicates",
    "malformed_count",
    "malformed",
    "out_of_range_count",
    "out_of_range",
)

CODES_REPORT_KEYS = (
    "rows",
    "allocated",
    "unique",
    "unknown_count",
    "unknown",
    "unused_count",
    "unused",
    "duplicate_count",
    "duplicates",
)


class CounterRange(NamedTuple):
    """An inclusive run of counters; ``[lo, hi]`` in JSON (and ``lo, hi = r`` unpacks it)."""

    lo: int
    hi: int

    @property
    def size(self) -> int:
        return self.hi - self.lo + 1

    def to_json(self) -> list[int]:
        return [self.lo, self.hi]

    @classmethod
    def from_json(cls, data: list[int] | None) -> CounterRange | None:
        return None if data is None else cls(data[0], data[1])


def _range_json(value: CounterRange | None) -> list[int] | None:
    return None if value is None else value.to_json()


@dataclass(frozen=True)
class Duplicate:
    """A well-formed serial on more than one row: ``count`` rows in all, ``lines`` the first
    ones (at most the limit)."""

    serial: str
    count: int
    lines: tuple[int, ...]

    def to_json(self) -> Json:
        return {"serial": self.serial, "count": self.count, "lines": list(self.lines)}

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(data["serial"], data["count"], tuple(data["lines"]))


@dataclass(frozen=True)
class Malformed:
    """A row whose value does not follow the rule, with the first reason that applies
    (``prefix``, ``length``, ``digits``, ``check_digit``)."""

    line: int
    value: str
    reason: str

    def to_json(self) -> Json:
        return {"line": self.line, "value": self.value, "reason": self.reason}

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(data["line"], data["value"], data["reason"])


@dataclass(frozen=True)
class OutOfRange:
    """A row whose well-formed serial lies outside the expected range."""

    line: int
    serial: str

    def to_json(self) -> Json:
        return {"line": self.line, "serial": self.serial}

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(data["line"], data["serial"])


@dataclass(frozen=True)
class ValidationReport:
    """The report of ``SERIALS-CLI.md``: counts are exact, lists are cut at the limit."""

    rows: int
    valid: int
    unique: int
    used_range: CounterRange | None
    expected_range: CounterRange | None
    missing_count: int
    missing_ranges: tuple[CounterRange, ...]
    duplicate_count: int
    duplicates: tuple[Duplicate, ...]
    malformed_count: int
    malformed: tuple[Malformed, ...]
    out_of_range_count: int
    out_of_range: tuple[OutOfRange, ...]

    @property
    def has_findings(self) -> bool:
        """Anything missing, duplicated, malformed or out of range (exit status 1)."""
        return bool(
            self.missing_count
            or self.duplicate_count
            or self.malformed_count
            or self.out_of_range_count
        )

    def to_json(self) -> Json:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "unique": self.unique,
            "used_range": _range_json(self.used_range),
            "expected_range": _range_json(self.expected_range),
            "missing_count": self.missing_count,
            "missing_ranges": [r.to_json() for r in self.missing_ranges],
            "duplicate_count": self.duplicate_count,
            "duplicates": [d.to_json() for d in self.duplicates],
            "malformed_count": self.malformed_count,
            "malformed": [m.to_json() for m in self.malformed],
            "out_of_range_count": self.out_of_range_count,
            "out_of_range": [o.to_json() for o in self.out_of_range],
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(**cls._fields_from_json(data))

    @classmethod
    def _fields_from_json(cls, data: Json) -> dict[str, Any]:
        """The constructor's arguments; a subclass adds its own to these."""
        return {
            "rows": data["rows"],
            "valid": data["valid"],
            "unique": data["unique"],
            "used_range": CounterRange.from_json(data["used_range"]),
            "expected_range": CounterRange.from_json(data["expected_range"]),
            "missing_count": data["missing_count"],
            "missing_ranges": tuple(CounterRange(lo, hi) for lo, hi in data["missing_ranges"]),
            "duplicate_count": data["duplicate_count"],
            "duplicates": tuple(Duplicate.from_json(d) for d in data["duplicates"]),
            "malformed_count": data["malformed_count"],
            "malformed": tuple(Malformed.from_json(m) for m in data["malformed"]),
            "out_of_range_count": data["out_of_range_count"],
            "out_of_range": tuple(OutOfRange.from_json(o) for o in data["out_of_range"]),
        }


@dataclass(frozen=True)
class UnknownCode:
    """A used code that was never allocated."""

    line: int
    code: str

    def to_json(self) -> Json:
        return {"line": self.line, "code": self.code}

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(data["line"], data["code"])


@dataclass(frozen=True)
class DuplicateCode:
    """A used code on more than one row."""

    code: str
    count: int
    lines: tuple[int, ...]

    def to_json(self) -> Json:
        return {"code": self.code, "count": self.count, "lines": list(self.lines)}

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(data["code"], data["count"], tuple(data["lines"]))


@dataclass(frozen=True)
class CodesReport:
    """Used codes against the allocated list: ``unknown`` (used, never allocated), ``unused``
    (allocated, never used: this mode's "missing"), ``duplicates``."""

    rows: int
    allocated: int
    unique: int
    unknown_count: int
    unknown: tuple[UnknownCode, ...]
    unused_count: int
    unused: tuple[str, ...]
    duplicate_count: int
    duplicates: tuple[DuplicateCode, ...]

    @property
    def has_findings(self) -> bool:
        return bool(self.unknown_count or self.unused_count or self.duplicate_count)

    def to_json(self) -> Json:
        return {
            "rows": self.rows,
            "allocated": self.allocated,
            "unique": self.unique,
            "unknown_count": self.unknown_count,
            "unknown": [u.to_json() for u in self.unknown],
            "unused_count": self.unused_count,
            "unused": list(self.unused),
            "duplicate_count": self.duplicate_count,
            "duplicates": [d.to_json() for d in self.duplicates],
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(**cls._fields_from_json(data))

    @classmethod
    def _fields_from_json(cls, data: Json) -> dict[str, Any]:
        return {
            "rows": data["rows"],
            "allocated": data["allocated"],
            "unique": data["unique"],
            "unknown_count": data["unknown_count"],
            "unknown": tuple(UnknownCode.from_json(u) for u in data["unknown"]),
            "unused_count": data["unused_count"],
            "unused": tuple(data["unused"]),
            "duplicate_count": data["duplicate_count"],
            "duplicates": tuple(DuplicateCode.from_json(d) for d in data["duplicates"]),
        }


def field_values(report: ValidationReport | CodesReport, kind: type) -> dict[str, Any]:
    """The fields ``kind`` (a report class ``report`` is an instance of) declares, by name and as
    they are: what a subclass that adds fields is built from."""
    return {f.name: getattr(report, f.name) for f in fields(kind)}
