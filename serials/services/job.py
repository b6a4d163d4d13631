"""The worker's job: validate one stored serial list.

``serial_list_validate`` claims the list with a conditional UPDATE, runs the engine, and writes
the whole result in one transaction only if it still holds the claim — so a job delivered twice,
or redelivered after its worker died, finishes exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orders.services import batch_lock
from portal.audit import audit_log
from portal.jobs import job_claim, job_fail, jobs_requeue_stuck
from serials import columns, engine
from serials.engine.reader import CODE_HEADER_NAMES
from serials.models import SerialList
from serials.reports import CodeListReport, ListReport, SerialListReport
from serials.services.exceptions import _record_code_exceptions, _record_exceptions
from serials.services.files import _local_copy
from serials.services.registry import (
    REPORT_LIMIT,
    _code_reuse,
    _record_codes,
    _record_placements,
    _record_runs,
    _reuse,
)


def _claim(serial_list_id: int) -> uuid.UUID | None:
    """Take the job if it is queued, or running with a heartbeat older than the lease (its
    worker died): portal.jobs.job_claim."""
    return job_claim(SerialList, serial_list_id, lease_seconds=settings.SERIAL_LIST_LEASE_SECONDS)


Progress = Callable[[int], object]


@dataclass
class _Heartbeat:
    serial_list_id: int
    token: uuid.UUID
    shown: int = -1

    def __call__(self, percent: int) -> None:
        # Scale the engine's 0–100 into 0–90: the rest is the reuse check and the write.
        percent = min(90, percent * 9 // 10)
        if percent >= self.shown + 5 or percent == 90:
            SerialList.objects.filter(pk=self.serial_list_id, claim_token=self.token).update(
                progress=percent, heartbeat_at=timezone.now()
            )
            self.shown = percent


@dataclass
class _Outcome:
    """What checking a list found, and how to record it (inside the result's transaction)."""

    report: ListReport
    record: Callable[[SerialList], None]
    other_batch_ids: set[int]  # batches the recorded exceptions name (reuse)


def serial_list_validate(*, serial_list_id: int) -> None:
    """Validate a stored list. Safe to run twice: only the claim holder writes a result.
    The result's transaction takes its locks in the one order (portal.audit): the batch rows,
    then the list's row, the audit lock last."""
    token = _claim(serial_list_id)
    if token is None:
        return
    serial_list = SerialList.objects.select_related("batch__order", "allocated_codes").get(
        pk=serial_list_id
    )
    if serial_list.attempts > settings.SERIAL_LIST_MAX_ATTEMPTS:
        # A poison job: each worker that took it died (killed, or out of memory) before the end.
        stopped = serial_list.attempts - 1
        _fail(
            serial_list_id,
            token,
            f"{serial_list.original_name}: its check stopped {stopped} times before it finished "
            "(the worker was killed or ran out of memory), so it is not tried again. Upload the "
            "list again, or split it into smaller files.",
        )
        return
    heartbeat = _Heartbeat(serial_list_id, token)
    try:
        with _local_copy(serial_list.file.name, serial_list.original_name) as path:
            outcome = examine(serial_list, path, heartbeat)
    except ListUnreadable as error:
        _fail(serial_list_id, token, str(error))
        return
    heartbeat(100)
    with transaction.atomic():
        # The lock order of portal.audit: the batch rows (an upload or a signer of this batch
        # waits for the result, and the result for them), then the list, the audit lock last.
        batch_lock(batch=serial_list.batch, share=outcome.other_batch_ids)
        locked = SerialList.objects.select_for_update().get(pk=serial_list_id)
        if locked.claim_token != token or locked.status != SerialList.Status.RUNNING:
            return  # the claim was taken over; the other worker writes the result
        outcome.record(locked)
        locked.validation_report = outcome.report
        locked.status = SerialList.Status.DONE
        locked.progress = 100
        locked.error = None
        locked.finished_at = timezone.now()
        locked.save()
        assert locked.report is not None  # validation_report above stored the report's JSON
        audit_log(
            actor=None,
            action="serial_list.validated",
            obj=locked,
            order=locked.batch.order,
            payload=_audit_figures(locked.report),
        )


class ListUnreadable(Exception):
    """The file cannot be checked; the message names it as its uploader knows it."""


def examine(serial_list: SerialList, path: str, heartbeat: Progress) -> _Outcome:
    """What checking the file at ``path`` finds, held against the rule, range and allocation
    ``serial_list`` carries; reads only (``_Outcome.record`` writes). The worker's job, and a
    file checked without being uploaded (``serials.services.check``, with a list never saved).
    Raises ListUnreadable for a file the engine cannot read."""
    check = _check_codes if serial_list.uses_codes else _check_serials
    try:
        return check(serial_list, path, heartbeat)
    except engine.SerialFileError as error:
        # The engine names the file by its path; people know it by the name they uploaded.
        raise ListUnreadable(str(error).replace(path, serial_list.original_name)) from None
    except ValueError as error:  # the expected range does not fit the rule
        raise ListUnreadable(f"{serial_list.original_name}: {error}") from None


def _check_serials(serial_list: SerialList, path: str, heartbeat: Progress) -> _Outcome:
    rule = serial_list.as_engine_rule()
    expected = (
        (serial_list.expected_lo, serial_list.expected_hi)
        if serial_list.expected_lo is not None and serial_list.expected_hi is not None
        else None
    )
    validation = engine.run_file(
        path, rule, expected_range=expected, limit=REPORT_LIMIT, progress=heartbeat
    )
    lo, hi = validation.present_runs
    reuse = _reuse(serial_list, rule, lo, hi)
    report = SerialListReport.of(validation.report, reuse.count, reuse.listed)
    placements = columns.read_list_columns(path, kind=serial_list.kind)

    def record(locked: SerialList) -> None:
        _record_runs(locked, lo, hi)
        _record_exceptions(locked, rule, report, reuse)
        _record_placements(locked, placements)

    return _Outcome(report, record, {run.other_batch.pk for run in reuse.runs})


def _check_codes(serial_list: SerialList, path: str, heartbeat: Progress) -> _Outcome:
    """Allocated-code rules: used codes against the allocation in force at upload."""
    lines, used = engine.read_serial_cells(path, CODE_HEADER_NAMES)
    heartbeat(40)
    allocation = serial_list.allocated_codes
    assert allocation is not None  # the upload refuses a code list without an allocation
    with _local_copy(allocation.file.name, allocation.original_name) as allocated_path:
        _, allocated = engine.read_serial_cells(allocated_path, CODE_HEADER_NAMES)
    heartbeat(70)
    codes_report = engine.validate_codes(used, allocated, lines, limit=REPORT_LIMIT)
    unique_codes = sorted(set(used))
    reuse = _code_reuse(serial_list, unique_codes)
    report = CodeListReport.of(codes_report, reuse.count, reuse.listed)
    placements = columns.read_list_columns(path, kind=serial_list.kind)

    def record(locked: SerialList) -> None:
        _record_codes(locked, unique_codes)
        _record_code_exceptions(locked, report, reuse)
        _record_placements(locked, placements)

    return _Outcome(report, record, {group.batch.pk for group in reuse.groups})


def _audit_figures(stored: dict[str, object]) -> dict[str, object]:
    """The audit event's payload: every count of the stored report, its rows and uniques."""
    counts = {key: value for key, value in stored.items() if key.endswith("count")}
    return counts | {"rows": stored["rows"], "unique": stored["unique"]}


def serial_lists_requeue_stuck(*, queued_for: timedelta = timedelta(minutes=10)) -> list[int]:
    """Send again the jobs nobody is working on (portal.jobs.jobs_requeue_stuck)."""
    return jobs_requeue_stuck(
        SerialList,
        "serials.tasks.validate_serial_list",
        lease_seconds=settings.SERIAL_LIST_LEASE_SECONDS,
        queued_since="uploaded_at",
        queued_for=queued_for,
    )


def _fail(serial_list_id: int, token: uuid.UUID, message: str) -> None:
    with transaction.atomic():
        if job_fail(SerialList, serial_list_id, token, message):
            serial_list = SerialList.objects.select_related("batch__order").get(pk=serial_list_id)
            audit_log(
                actor=None,
                action="serial_list.failed",
                obj=serial_list,
                order=serial_list.batch.order,
                payload={"error": message},
            )
