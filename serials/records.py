"""How each serial record is sealed in its audit event (``portal.records``): what was uploaded
in ``serial_list.uploaded``; the result (status, error, report) and the rows the job wrote
under the list (runs or codes, exceptions, placements) in ``serial_list.validated``."""

from __future__ import annotations

from django.db.models import Q

from portal.integrity import CheckResult
from portal.records import Seal, columns
from serials.models import (
    SERIAL_LIST_JOB_STATE,
    AllocatedCodeList,
    AllocatedRange,
    ExceptionAnswer,
    ExceptionAttachment,
    ExceptionDecision,
    SerialCode,
    SerialException,
    SerialLifeEvent,
    SerialList,
    SerialPlacement,
    SerialRun,
)

FINISHED = ("serial_list.validated", "serial_list.failed")


def _replaced_lists() -> set[int]:
    """Lists whose pending runs or codes a newer list of the batch replaced (deleted, as the
    triggers allow while not accepted)."""
    done = SerialList.objects.filter(status=SerialList.Status.DONE)
    latest: dict[int, int] = {}
    for list_id, batch_id in done.order_by("id").values_list("id", "batch_id"):
        latest[batch_id] = list_id
    return set(done.values_list("id", flat=True)) - set(latest.values())


SEALS = (
    Seal(AllocatedRange, columns(AllocatedRange), ("allocated_range.set",)),
    Seal(AllocatedCodeList, columns(AllocatedCodeList), ("allocated_codes.uploaded",)),
    Seal(SerialList, columns(SerialList, exclude=SERIAL_LIST_JOB_STATE), ("serial_list.uploaded",)),
    Seal(
        SerialList,
        ("status", "error", "report"),
        FINISHED,
        required=Q(status__in=(SerialList.Status.DONE, SerialList.Status.FAILED)),
    ),
    Seal(
        SerialRun,
        columns(SerialRun, exclude=["accepted"]),
        FINISHED,
        "serial_list",
        replaceable=_replaced_lists,
    ),
    Seal(
        SerialCode,
        columns(SerialCode, exclude=["accepted"]),
        FINISHED,
        "serial_list",
        replaceable=_replaced_lists,
    ),
    Seal(SerialException, columns(SerialException, exclude=["status"]), FINISHED, "serial_list"),
    Seal(SerialPlacement, columns(SerialPlacement), FINISHED, "serial_list"),
    Seal(ExceptionAnswer, columns(ExceptionAnswer), ("serial_exception.answered",), "exception"),
    Seal(
        ExceptionAttachment,
        columns(ExceptionAttachment),
        ("serial_exception.answered",),
        "answer__exception",
    ),
    Seal(
        ExceptionDecision,
        columns(ExceptionDecision),
        ("serial_exception.accepted", "serial_exception.rejected"),
        "exception",
    ),
    Seal(SerialLifeEvent, columns(SerialLifeEvent), ("serial_life.recorded",)),
)


def serial_files_check() -> CheckResult:
    """Re-hash every stored serial list, allocated-code list and answer's attachment against
    its row."""
    from portal.storage import stored_files_check

    lists = stored_files_check("serial-files", SerialList.objects.all())
    codes = stored_files_check("serial-files", AllocatedCodeList.objects.all())
    attachments = stored_files_check("serial-files", ExceptionAttachment.objects.all())
    proofs = stored_files_check("serial-files", SerialLifeEvent.objects.exclude(file=""))
    for part in (codes, attachments, proofs):
        lists.checked += part.checked
        lists.findings.extend(part.findings)
    return lists
