"""What an approval can pin in serials: the latest serial report and an exception with its
decision (registered in ``SerialsConfig.ready``; see ``portal.registries``)."""

from __future__ import annotations

import hashlib
import json

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from orders.models import Batch
from portal.registries import PinKind, Pinned, Superseded
from serials.models import ExceptionDecision, SerialException, SerialList
from serials.selectors import current_exceptions, latest_production_list


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _serial_list_resolve(object_id: int) -> Pinned:
    serial_list = SerialList.objects.get(pk=object_id)
    if serial_list.status != SerialList.Status.DONE:
        raise ValidationError(f"{serial_list} has no finished report to pin.")
    newer = serial_list.batch.serial_lists.filter(kind=serial_list.kind, pk__gt=serial_list.pk)
    if serial_list.kind != SerialList.Kind.PRODUCTION or newer.exists():
        raise ValidationError(f"{serial_list} is not the batch's latest production list.")
    report = json.dumps(serial_list.report, sort_keys=True)
    return Pinned(
        "serial_list",
        serial_list.pk,
        serial_list.batch_id,
        str(serial_list),
        f"sha256:{serial_list.sha256};report:{_sha(report)[:32]}",
    )


def _serial_list_candidates(batch: Batch) -> list[tuple[int, str]]:
    serial_list = latest_production_list(batch)
    if serial_list is not None and serial_list.status == "done":
        return [(serial_list.pk, f"Serial report: {serial_list}")]
    return []


def _older_production_lists(serial_list: SerialList) -> tuple[QuerySet[SerialList], str] | None:
    if serial_list.kind != SerialList.Kind.PRODUCTION:
        return None
    older = serial_list.batch.serial_lists.filter(kind=SerialList.Kind.PRODUCTION).exclude(
        pk=serial_list.pk
    )
    reason = (
        f"A new serial list ({serial_list.original_name}) was uploaded for batch "
        f"{serial_list.batch.code}."
    )
    return older, reason


def _serial_list_superseded(serial_list: SerialList) -> list[Superseded]:
    found = _older_production_lists(serial_list)
    if found is None:
        return []
    older, reason = found
    return [(older.values_list("pk", flat=True), reason)]


def _exceptions_of_older_lists(serial_list: SerialList) -> list[Superseded]:
    """The old list's exceptions are history now."""
    found = _older_production_lists(serial_list)
    if found is None:
        return []
    older, reason = found
    ids = SerialException.objects.filter(serial_list__in=older).values_list("pk", flat=True)
    return [(ids, reason)]


def _exception_resolve(object_id: int) -> Pinned:
    exception = SerialException.objects.select_for_update().get(pk=object_id)
    decision = exception.decisions.order_by("-id").first()
    return Pinned(
        "exception",
        exception.pk,
        exception.batch_id,
        exception.summary,
        f"{exception.status};decision:{decision.pk if decision else '-'}",
    )


def _exception_candidates(batch: Batch) -> list[tuple[int, str]]:
    return [
        (
            exception.pk,
            f"Exception ({exception.get_status_display().lower()}): {exception.summary}",
        )
        for exception in current_exceptions(batch)
    ]


def _exception_answered(exception: SerialException) -> list[Superseded]:
    return [([exception.pk], f"“{exception.summary}” got a new answer from the supplier.")]


def _exception_decided(exception: SerialException) -> list[Superseded]:
    return [([exception.pk], f"“{exception.summary}” was decided again ({exception.status}).")]


PIN_KINDS = [
    PinKind(
        kind="serial_list",
        label="Serial report",
        batch_id=lambda pk: (
            SerialList.objects.filter(pk=pk).values_list("batch_id", flat=True).first()
        ),
        resolve=_serial_list_resolve,
        candidates=_serial_list_candidates,
        superseded_by={"serial_list.uploaded": _serial_list_superseded},
    ),
    PinKind(
        kind="exception",
        label="Exception and its decision",
        batch_id=lambda pk: (
            SerialException.objects.filter(pk=pk).values_list("batch_id", flat=True).first()
        ),
        resolve=_exception_resolve,
        candidates=_exception_candidates,
        superseded_by={
            "serial_list.uploaded": _exceptions_of_older_lists,
            "serial_exception.answered": _exception_answered,
            **{
                f"serial_exception.{decision}": _exception_decided
                for decision in ExceptionDecision.Decision.values
            },
        },
    ),
]
