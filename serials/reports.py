"""The report a validated serial list stores: the engine's report plus what the portal adds, the
serials (or codes) other batches already hold.

``SerialListReport`` extends the engine's ``ValidationReport`` and ``CodeListReport`` its
``CodesReport`` with two fields, ``reused_count`` and ``reused``: every reader reads
``report.missing_count`` and ``report.reused_count`` alike, and an engine function still takes
the portal's report. The engine knows nothing of batches, and the command line's JSON gains no
key. ``to_json()`` is the stored ``SerialList.report`` (and the API's ``report``): the engine's
keys, then ``reused_count`` and ``reused``; ``from_json()`` reads it back.
Plain Python, no Django: the model and the worker's job both use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from serials.engine import CodesReport, ValidationReport
from serials.engine.contract import Json, field_values


@dataclass(frozen=True)
class ReusedSerial:
    """A serial (or code) of this list another batch already holds; ``order`` and ``batch``
    read "(another supplier)" when that batch is not this supplier's."""

    serial: str
    order: str
    batch: str

    def to_json(self) -> Json:
        return {"serial": self.serial, "order": self.order, "batch": self.batch}

    @classmethod
    def from_json(cls, data: Json) -> Self:
        return cls(data["serial"], data["order"], data["batch"])


def _reuse_json(reused_count: int, reused: tuple[ReusedSerial, ...]) -> Json:
    return {"reused_count": reused_count, "reused": [r.to_json() for r in reused]}


def _reuse_fields(data: Json) -> dict[str, Any]:
    return {
        "reused_count": data["reused_count"],
        "reused": tuple(ReusedSerial.from_json(r) for r in data["reused"]),
    }


@dataclass(frozen=True)
class SerialListReport(ValidationReport):
    """A sequential list's report: the engine's, and the serials other batches hold."""

    reused_count: int
    reused: tuple[ReusedSerial, ...]

    @classmethod
    def of(
        cls, report: ValidationReport, reused_count: int, reused: tuple[ReusedSerial, ...]
    ) -> Self:
        return cls(
            **field_values(report, ValidationReport), reused_count=reused_count, reused=reused
        )

    def to_json(self) -> Json:
        return {**super().to_json(), **_reuse_json(self.reused_count, self.reused)}

    @classmethod
    def _fields_from_json(cls, data: Json) -> dict[str, Any]:
        return {**super()._fields_from_json(data), **_reuse_fields(data)}


@dataclass(frozen=True)
class CodeListReport(CodesReport):
    """An allocated-code list's report: the engine's, and the codes other batches hold."""

    reused_count: int
    reused: tuple[ReusedSerial, ...]

    @classmethod
    def of(cls, report: CodesReport, reused_count: int, reused: tuple[ReusedSerial, ...]) -> Self:
        return cls(**field_values(report, CodesReport), reused_count=reused_count, reused=reused)

    def to_json(self) -> Json:
        return {**super().to_json(), **_reuse_json(self.reused_count, self.reused)}

    @classmethod
    def _fields_from_json(cls, data: Json) -> dict[str, Any]:
        return {**super()._fields_from_json(data), **_reuse_fields(data)}


ListReport = SerialListReport | CodeListReport
