"""State changes for numbering rules, serial lists and exceptions.

``serial_list_validate`` is the worker's job: it claims the list with a conditional UPDATE,
runs the engine, and writes the whole result in one transaction only if it still holds the
claim — so a job delivered twice, or redelivered after its worker died, finishes exactly once.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.approvals import approvals_mark_stale
from orders.models import ApprovalPin, Batch, PurchaseOrder
from orders.selectors import batches_visible_to
from orders.services import batch_lock
from portal.audit import audit_log
from portal.models import Role, User
from portal.roles import can_manage_orders, membership_of
from portal.storage import store_by_hash
from portal.uploads import sniffed_type
from serials import columns, engine
from serials.engine.reader import CODE_HEADER_NAMES
from serials.models import (
    AllocatedCodeList,
    AllocatedRange,
    ExceptionAnswer,
    ExceptionDecision,
    NumberingRule,
    SerialCode,
    SerialException,
    SerialList,
    SerialPlacement,
    SerialRun,
    registry_scope,
)

REPORT_LIMIT = 1000


# ---------------------------------------------------------------- numbering rules


@transaction.atomic
def numbering_rule_save(
    *,
    user: User,
    product: str,
    prefix: str = "",
    width: int | None = None,
    check_digit: str = NumberingRule.Check.NONE,
    note: str = "",
    kind: str = NumberingRule.Kind.SEQUENTIAL,
    warranty_months: int | None = None,
) -> NumberingRule:
    """Create or change the buyer's rule for one product (every field is set), audited."""
    if not can_manage_orders(user):
        raise PermissionDenied("Only the buyer's buyers and admins define numbering rules.")
    buyer = user.membership.organisation
    rule = NumberingRule.objects.select_for_update().filter(buyer=buyer, product=product).first()
    before = None if rule is None else rule.pattern
    rule = rule or NumberingRule(buyer=buyer, product=product.strip())
    rule.kind, rule.prefix, rule.width, rule.check_digit, rule.note = (
        kind,
        prefix,
        width,
        check_digit,
        note,
    )
    warranty_before = rule.warranty_months
    rule.warranty_months = warranty_months
    rule.full_clean()
    rule.save()
    audit_log(
        actor=user,
        action="numbering_rule.saved",
        obj=rule,
        payload={
            "pattern": rule.pattern,
            "before": before,
            "warranty_months": warranty_months,
            "warranty_months_before": warranty_before,
        },
    )
    return rule


def counter_of(rule: engine.NumberingRule, serial: str) -> int | None:
    """The counter of one serial, or None when it does not follow the rule."""
    reason, counter = engine.classify_value(serial.strip().upper(), rule)
    return counter if reason == 0 else None


# ---------------------------------------------------------------- uploads


def _can_upload(user: User, batch: Batch) -> bool:
    membership = membership_of(user)
    if membership is None or not batches_visible_to(user).filter(pk=batch.pk).exists():
        return False
    return membership.role in {Role.SUPPLIER, Role.BUYER, Role.ADMIN}


# What a serial list's first bytes may be: text (CSV/TXT), or a ZIP that may be an XLSX
# workbook (libmagic names some workbooks only "a ZIP"; the worker opens it to be sure).
SERIAL_LIST_XLSX_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/zip",
}
SERIAL_LIST_TEXT_TYPES = {"application/csv"}


def _checked_name(uploaded_file: UploadedFile) -> str:
    """The file's own name (never a path), after the size checks every upload gets and a
    look at its first bytes: what is not text or a workbook is refused now, not stored."""
    name = os.path.basename((uploaded_file.name or "upload").replace("\\", "/"))[:255]
    name = name or "upload"
    if not uploaded_file.size:
        raise ValidationError({"file": f"{name} is empty."})
    if uploaded_file.size > settings.SERIAL_LIST_MAX_BYTES:
        raise ValidationError(
            {
                "file": f"{name} is {uploaded_file.size / 1e6:.0f} MB; the limit is "
                f"{settings.SERIAL_LIST_MAX_BYTES / 1e6:.0f} MB."
            }
        )
    content_type, description = sniffed_type(uploaded_file)
    if not (
        content_type.startswith("text/")
        or content_type in SERIAL_LIST_TEXT_TYPES
        or content_type in SERIAL_LIST_XLSX_TYPES
    ):
        raise ValidationError(
            {
                "file": f"{name} is not a serial list: its bytes are {description} "
                f"({content_type}). Upload CSV or TXT text, or an XLSX workbook."
            }
        )
    return name


def allocated_code_list_for(batch: Batch) -> AllocatedCodeList | None:
    """The codes in force for a batch: its own allocation, else its order's."""
    return (
        AllocatedCodeList.objects.filter(batch=batch).first()
        or AllocatedCodeList.objects.filter(order=batch.order_id, batch__isnull=True).first()
    )


@transaction.atomic
def allocated_code_list_upload(
    *, user: User, order: PurchaseOrder, uploaded_file: UploadedFile, batch: Batch | None = None
) -> AllocatedCodeList:
    """The buyer allocates non-sequential codes to an order or batch. The file is read now, so
    a bad one is refused at once; a new list supersedes the previous one."""
    if not can_manage_orders(user) or order.buyer_id != user.membership.organisation_id:
        raise PermissionDenied("Only the buyer's buyers and admins allocate codes.")
    if batch is not None and batch.order_id != order.pk:
        raise ValidationError({"batch": "That batch belongs to another order."})
    rule = NumberingRule.for_order(order)
    if rule is None or not rule.uses_codes:
        raise ValidationError(
            f"{order.product_code} does not use allocated codes: change its numbering rule first."
        )
    name = _checked_name(uploaded_file)
    storage_name, sha, _ = store_by_hash(uploaded_file, folder="allocated-codes")
    try:
        with _local_copy(storage_name, name) as path:
            _, codes = engine.read_serial_cells(path, CODE_HEADER_NAMES)
        if not codes:
            raise engine.SerialFileError(f"{name}: holds no codes")
    except engine.SerialFileError as error:
        if not AllocatedCodeList.objects.filter(sha256=sha).exists():  # nothing left behind
            default_storage.delete(storage_name)
        message = str(error).replace(os.path.dirname(path) + os.sep, "")
        raise ValidationError({"file": message}) from None
    distinct = len(set(codes))
    code_list = AllocatedCodeList.objects.create(
        order=order,
        batch=batch,
        file=storage_name,
        original_name=name,
        sha256=sha,
        code_count=distinct,
        created_by=user,
    )
    audit_log(
        actor=user,
        action="allocated_codes.uploaded",
        obj=code_list,
        order=order,
        payload={
            "batch": batch.code if batch else None,
            "file": name,
            "sha256": sha,
            "codes": distinct,
        },
    )
    return code_list


@transaction.atomic
def serial_list_upload(
    *, batch: Batch, user: User, uploaded_file: UploadedFile, kind: str = SerialList.Kind.PRODUCTION
) -> SerialList:
    """Store an uploaded serial list and queue its validation after commit."""
    if not _can_upload(user, batch):
        raise PermissionDenied("Only the batch's supplier and the buyer upload serial lists.")
    if kind not in SerialList.Kind.values:
        raise ValidationError({"kind": f"“{kind}” is not a kind of serial list."})
    name = _checked_name(uploaded_file)
    order = batch.order
    rule = NumberingRule.for_order(order)
    if rule is None:
        raise ValidationError(
            f"There is no numbering rule for {order.product_code} yet: the buyer defines one "
            "under Numbering rules before serial lists can be checked."
        )
    allocation = None
    if rule.uses_codes:
        allocation = allocated_code_list_for(batch)
        if allocation is None:
            raise ValidationError(
                f"{order.product_code} uses allocated codes, and none are allocated to this "
                "order yet: the buyer uploads the allocated code list on the order page first."
            )
    batch_lock(batch=batch)  # queue behind a signer of this batch, or the worker's result
    storage_name, sha, size = store_by_hash(uploaded_file, folder="serial-lists")
    # Only a production list is held against a range: a carton or distribution list covers the
    # units packed or shipped so far, and the rest of the range is not "missing" from it.
    expected, expected_source = (
        expected_range_for(batch, rule)
        if kind == SerialList.Kind.PRODUCTION and not rule.uses_codes
        else (None, "")
    )
    serial_list = SerialList.objects.create(
        batch=batch,
        kind=kind,
        file=storage_name,
        original_name=name,
        size=size,
        sha256=sha,
        uploaded_by=user,
        rule_kind=rule.kind,
        rule_prefix=rule.prefix,
        rule_width=rule.width or 0,
        rule_check=rule.check_digit,
        allocated_codes=allocation,
        expected_lo=expected[0] if expected else None,
        expected_hi=expected[1] if expected else None,
        expected_source=expected_source,
    )
    if kind == SerialList.Kind.PRODUCTION:
        older = batch.serial_lists.filter(kind=SerialList.Kind.PRODUCTION).exclude(
            pk=serial_list.pk
        )
        reason = f"A new serial list ({name}) was uploaded for batch {batch.code}."
        approvals_mark_stale(
            kind=ApprovalPin.Kind.SERIAL_LIST,
            object_ids=older.values_list("pk", flat=True),
            reason=reason,
        )
        approvals_mark_stale(  # the old list's exceptions are history now
            kind=ApprovalPin.Kind.EXCEPTION,
            object_ids=SerialException.objects.filter(serial_list__in=older).values_list(
                "pk", flat=True
            ),
            reason=reason,
        )
    if kind in (SerialList.Kind.PRODUCTION, SerialList.Kind.CARTON):
        # An inspection was sampled from, and reconciled against, the lists it was drawn with.
        approvals_mark_stale(
            kind=ApprovalPin.Kind.INSPECTION,
            object_ids=batch.inspection_plans.values_list("pk", flat=True),
            reason=f"A new {SerialList.Kind(kind).label.lower()} ({name}) was uploaded for "
            f"batch {batch.code} after its inspection.",
        )
    audit_log(
        actor=user,
        action="serial_list.uploaded",
        obj=serial_list,
        order=order,
        payload={"batch": batch.code, "kind": kind, "file": name, "sha256": sha, "size": size},
    )
    from serials.tasks import validate_serial_list

    transaction.on_commit(lambda: validate_serial_list.delay(serial_list.pk))
    return serial_list


def expected_range_for(batch: Batch, rule: NumberingRule) -> tuple[tuple[int, int] | None, str]:
    """The counters a list is held against: the batch's allocation; else the batch's declared
    share of the order's allocation; else the order's allocation; else what the supplier declared
    for the batch; else none (the used range).

    A batch of a many-batch order cannot fill the order's whole allocation, so its declared range
    is used when it lies inside the allocation; one outside it is not trusted."""
    allocation = (
        AllocatedRange.objects.filter(batch=batch).first()
        or AllocatedRange.objects.filter(order=batch.order_id, batch__isnull=True).first()
    )
    declared = _declared_counters(batch, rule)
    if allocation is not None and allocation.hi < 10**rule.width:
        if allocation.batch_id:
            return (allocation.lo, allocation.hi), "allocated to the batch"
        if declared and allocation.lo <= declared[0] and declared[1] <= allocation.hi:
            return declared, "declared for the batch in the allocation"
        return (allocation.lo, allocation.hi), "allocated to the order"
    return declared, "declared by the supplier" if declared else ""


@transaction.atomic
def allocated_range_set(
    *,
    user: User,
    order: PurchaseOrder,
    first_serial: str,
    last_serial: str,
    batch: Batch | None = None,
) -> AllocatedRange:
    """Assign counters to an order or one of its batches; supersedes the previous allocation."""
    if not can_manage_orders(user) or order.buyer_id != user.membership.organisation_id:
        raise PermissionDenied("Only the buyer's buyers and admins allocate serial ranges.")
    if batch is not None and batch.order_id != order.pk:
        raise ValidationError({"batch": "That batch belongs to another order."})
    rule = NumberingRule.for_order(order)
    if rule is None:
        raise ValidationError(f"Define the numbering rule for {order.product_code} first.")
    engine_rule_ = rule.as_engine_rule()
    first, last = first_serial.strip().upper(), last_serial.strip().upper()
    lo, hi = counter_of(engine_rule_, first), counter_of(engine_rule_, last)
    errors = {}
    if lo is None:
        errors["first_serial"] = f"“{first}” does not follow {rule.pattern}."
    if hi is None:
        errors["last_serial"] = f"“{last}” does not follow {rule.pattern}."
    if not errors and lo > hi:
        errors["last_serial"] = "The last serial comes before the first."
    if errors:
        raise ValidationError(errors)
    allocation = AllocatedRange.objects.create(
        order=order,
        batch=batch,
        lo=lo,
        hi=hi,
        first_serial=first,
        last_serial=last,
        created_by=user,
    )
    audit_log(
        actor=user,
        action="allocated_range.set",
        obj=allocation,
        order=order,
        payload={"batch": batch.code if batch else None, "first": first, "last": last},
    )
    return allocation


def _declared_counters(batch: Batch, rule: NumberingRule) -> tuple[int, int] | None:
    """The batch's declared range as counters, when both ends follow the rule."""
    if not batch.declared_range:
        return None
    engine_rule_ = rule.as_engine_rule()
    lo = counter_of(engine_rule_, batch.declared_first_serial)
    hi = counter_of(engine_rule_, batch.declared_last_serial)
    return (lo, hi) if lo is not None and hi is not None and lo <= hi else None


# ---------------------------------------------------------------- the worker's job


def _claim(serial_list_id: int) -> uuid.UUID | None:
    """Take the job if it is queued, or running with a heartbeat older than the lease (its
    worker died). Returns the claim token, or None if someone else has it or it is finished."""
    token = uuid.uuid4()
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SERIAL_LIST_LEASE_SECONDS)
    claimed = (
        SerialList.objects.filter(pk=serial_list_id)
        .filter(
            Q(status=SerialList.Status.QUEUED)
            | Q(status=SerialList.Status.RUNNING, heartbeat_at__lt=stale)
        )
        .update(
            status=SerialList.Status.RUNNING,
            claim_token=token,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            started_at=Coalesce("started_at", now),
            progress=0,
        )
    )
    return token if claimed else None


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

    report: dict[str, Any]
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
    heartbeat = _Heartbeat(serial_list_id, token)
    check = _check_codes if serial_list.uses_codes else _check_serials
    try:
        with _local_copy(serial_list.file.name, serial_list.original_name) as path:
            outcome = check(serial_list, path, heartbeat)
    except engine.SerialFileError as error:
        # The engine names the file by its path; people know it by the name they uploaded.
        _fail(serial_list_id, token, str(error).replace(os.path.dirname(path) + os.sep, ""))
        return
    except ValueError as error:  # the expected range does not fit the rule
        _fail(serial_list_id, token, f"{serial_list.original_name}: {error}")
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
        locked.report = outcome.report
        locked.status = SerialList.Status.DONE
        locked.progress = 100
        locked.error = None
        locked.finished_at = timezone.now()
        locked.save()
        audit_log(
            actor=None,
            action="serial_list.validated",
            obj=locked,
            order=locked.batch.order,
            payload={key: value for key, value in outcome.report.items() if key.endswith("count")}
            | {"rows": outcome.report["rows"], "unique": outcome.report["unique"]},
        )


def _check_serials(serial_list: SerialList, path: str, heartbeat: _Heartbeat) -> _Outcome:
    rule = serial_list.as_engine_rule()
    expected = (
        (serial_list.expected_lo, serial_list.expected_hi)
        if serial_list.expected_lo is not None
        else None
    )
    validation = engine.run_file(
        path, rule, expected_range=expected, limit=REPORT_LIMIT, progress=heartbeat
    )
    lo, hi = validation.present_runs
    reuse = _reuse(serial_list, rule, lo, hi)
    report = {**validation.report, **reuse.report}
    placements = columns.read_list_columns(path, kind=serial_list.kind)

    def record(locked: SerialList) -> None:
        _record_runs(locked, lo, hi)
        _record_exceptions(locked, rule, report, reuse)
        _record_placements(locked, placements)

    return _Outcome(report, record, {overlap["other_batch"].pk for overlap in reuse.overlaps})


def _check_codes(serial_list: SerialList, path: str, heartbeat: _Heartbeat) -> _Outcome:
    """Allocated-code rules: used codes against the allocation in force at upload."""
    lines, used = engine.read_serial_cells(path, CODE_HEADER_NAMES)
    heartbeat(40)
    allocation = serial_list.allocated_codes
    assert allocation is not None  # the upload refuses a code list without an allocation
    with _local_copy(allocation.file.name, allocation.original_name) as allocated_path:
        _, allocated = engine.read_serial_cells(allocated_path, CODE_HEADER_NAMES)
    heartbeat(70)
    report = engine.validate_codes(used, allocated, lines, limit=REPORT_LIMIT)
    unique_codes = sorted(set(used))
    reuse = _code_reuse(serial_list, unique_codes)
    report.update(reuse.report)
    placements = columns.read_list_columns(path, kind=serial_list.kind)

    def record(locked: SerialList) -> None:
        _record_codes(locked, unique_codes)
        _record_code_exceptions(locked, report, reuse)
        _record_placements(locked, placements)

    return _Outcome(report, record, {group["batch"].pk for group in reuse.groups})


def serial_lists_requeue_stuck(*, queued_for: timedelta = timedelta(minutes=10)) -> list[int]:
    """Send again the jobs nobody is working on: queued for too long (a lost message) or running
    with a dead heartbeat (a dead worker). Safe: the job itself refuses a live claim."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SERIAL_LIST_LEASE_SECONDS)
    stuck = list(
        SerialList.objects.filter(
            Q(status=SerialList.Status.QUEUED, uploaded_at__lt=now - queued_for)
            | Q(status=SerialList.Status.RUNNING, heartbeat_at__lt=stale)
        ).values_list("pk", flat=True)
    )
    from serials.tasks import validate_serial_list

    for serial_list_id in stuck:
        validate_serial_list.delay(serial_list_id)
    return stuck


def _fail(serial_list_id: int, token: uuid.UUID, message: str) -> None:
    with transaction.atomic():
        updated = SerialList.objects.filter(
            pk=serial_list_id, claim_token=token, status=SerialList.Status.RUNNING
        ).update(
            status=SerialList.Status.FAILED,
            error=message,
            progress=100,
            finished_at=timezone.now(),
        )
        if updated:
            serial_list = SerialList.objects.select_related("batch__order").get(pk=serial_list_id)
            audit_log(
                actor=None,
                action="serial_list.failed",
                obj=serial_list,
                order=serial_list.batch.order,
                payload={"error": message},
            )


class _local_copy:  # noqa: N801 - used as a context manager
    """A filesystem path for the stored bytes (copied down from remote storage if needed).
    The engine names files in its messages: show the uploader's file name, not our hash."""

    def __init__(self, storage_name: str, shown_name: str) -> None:
        self.storage_name = storage_name
        self.shown_name = os.path.basename(shown_name) or "upload"
        self.directory: str | None = None

    def __enter__(self) -> str:
        self.directory = tempfile.mkdtemp(prefix="serial-list-")
        path = os.path.join(self.directory, self.shown_name)
        try:
            os.symlink(default_storage.path(self.storage_name), path)
        except NotImplementedError:
            with default_storage.open(self.storage_name, "rb") as source, open(path, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
        return path

    def __exit__(self, *exc: object) -> None:
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)


# ---------------------------------------------------------------- reuse and the registry


@dataclass
class _Reuse:
    report: dict[str, Any]
    overlaps: list[dict[str, Any]]  # {"lo", "hi", "order", "batch", "accepted"}


def _reuse(
    serial_list: SerialList, rule: engine.NumberingRule, lo: np.ndarray, hi: np.ndarray
) -> _Reuse:
    """Serials of this list already held by accepted batches or by other batches' pending
    lists, in the same scope. Runs are compared with runs: no per-serial work."""
    batch = serial_list.batch
    if not len(lo):
        return _Reuse({"reused_count": 0, "reused": []}, [])
    others = (
        SerialRun.objects.filter(
            scope=registry_scope(batch.order), lo__lte=int(hi[-1]), hi__gte=int(lo[0])
        )
        .exclude(batch=batch)
        .select_related("batch__order")
        .order_by("lo")
    )
    overlaps: list[dict[str, Any]] = []
    for other in others.iterator(chunk_size=5000):
        # My runs that can touch [other.lo, other.hi]: sorted, disjoint, so a slice.
        first = int(np.searchsorted(hi, other.lo, side="left"))
        last = int(np.searchsorted(lo, other.hi, side="right"))
        if first >= last:
            continue
        starts = np.maximum(lo[first:last], other.lo)
        ends = np.minimum(hi[first:last], other.hi)
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            if start <= end:
                # Another supplier's order numbers are not this supplier's business.
                same_supplier = other.batch.order.supplier_id == batch.order.supplier_id
                overlaps.append(
                    {
                        "lo": start,
                        "hi": end,
                        "order": other.batch.order.number
                        if same_supplier
                        else "(another supplier)",
                        "batch": other.batch.code if same_supplier else "(another supplier)",
                        "accepted": other.accepted,
                        "other_batch": other.batch,
                    }
                )
    overlaps.sort(key=lambda overlap: overlap["lo"])
    count = sum(overlap["hi"] - overlap["lo"] + 1 for overlap in overlaps)
    listed: list[dict[str, str]] = []
    for overlap in overlaps:
        for counter in range(overlap["lo"], min(overlap["hi"], overlap["lo"] + REPORT_LIMIT) + 1):
            if len(listed) == REPORT_LIMIT:
                break
            listed.append(
                {
                    "serial": rule.format(counter),
                    "order": overlap["order"],
                    "batch": overlap["batch"],
                }
            )
    return _Reuse({"reused_count": count, "reused": listed}, overlaps)


def _record_runs(serial_list: SerialList, lo: np.ndarray, hi: np.ndarray) -> None:
    """Replace the batch's pending runs with this list's (derived data, not a record)."""
    if not _speaks_for_batch(serial_list):
        return
    batch = serial_list.batch
    SerialRun.objects.filter(batch=batch, accepted=False).delete()
    scope = registry_scope(batch.order)
    SerialRun.objects.bulk_create(
        (
            SerialRun(scope=scope, lo=a, hi=b, batch=batch, serial_list=serial_list)
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True)
        ),
        batch_size=5000,
    )


# Rows per COPY statement: bounds the memory of the text buffer for a 10-million-row list.
PLACEMENT_COPY_ROWS = 200_000
PLACEMENT_ANALYZE_ROWS = 50_000


def _record_placements(serial_list: SerialList, placements: columns.ListColumns | None) -> None:
    """Store where each serial of the list went (carton, customer, shipment date), in the
    result's transaction: a list that fails or loses its claim leaves no rows behind. Rows are
    the list's own and never replaced; the lookup reads the newest validated list per kind."""
    if placements is None or not len(placements):
        return
    batch = serial_list.batch
    scope = registry_scope(batch.order)
    n = len(placements)
    cartons = placements.cartons or [""] * n
    customers = placements.customers or [""] * n
    shipped = placements.shipped or [None] * n
    rows = zip(placements.lines, placements.serials, cartons, customers, shipped, strict=True)
    if connection.vendor == "postgresql":
        _copy_placements(serial_list.pk, batch.pk, scope, rows)
        return
    SerialPlacement.objects.bulk_create(
        (
            SerialPlacement(
                serial_list=serial_list,
                batch=batch,
                scope=scope,
                serial=serial,
                line=line,
                carton=carton,
                customer_reference=customer,
                shipped_on=shipped_on,
            )
            for line, serial, carton, customer, shipped_on in rows
        ),
        batch_size=5000,
    )


def _copy_placements(
    serial_list_id: int, batch_id: int, scope: str, rows: Iterable[tuple[Any, ...]]
) -> None:
    """PostgreSQL COPY: about ten times faster than INSERTs for a list of a million rows."""
    table = SerialPlacement._meta.db_table
    # CSV format: an unquoted empty field is NULL (no shipment date); FORCE_NOT_NULL keeps
    # empty cartons and customers as empty text, as the model's blank=True fields expect.
    sql = (
        f"COPY {table} (serial_list_id, batch_id, scope, line, serial, carton, "
        "customer_reference, shipped_on) FROM STDIN WITH (FORMAT csv, "
        "FORCE_NOT_NULL (scope, serial, carton, customer_reference))"
    )
    prefix = (serial_list_id, batch_id, scope)
    total = 0
    with connection.cursor() as cursor:
        raw_cursor = cursor.cursor  # psycopg2's own cursor: Django's wrapper has no COPY
        pending = True
        iterator = iter(rows)
        while pending:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            written = 0
            for line, serial, carton, customer, shipped_on in iterator:
                writer.writerow(
                    (
                        *prefix,
                        line,
                        serial,
                        carton,
                        customer,
                        shipped_on.isoformat() if shipped_on else None,
                    )
                )
                written += 1
                if written == PLACEMENT_COPY_ROWS:
                    break
            else:
                pending = False
            if written:
                buffer.seek(0)
                raw_cursor.copy_expert(sql, buffer)
                total += written
        if total >= PLACEMENT_ANALYZE_ROWS:
            # Fresh statistics now, not whenever autovacuum comes by: with stale ones the
            # planner reads a whole scope's placements for a lookup of a few serials. ANALYZE
            # counts this transaction's own rows and blocks neither readers nor writers.
            cursor.execute(f"ANALYZE {table}")


def _speaks_for_batch(serial_list: SerialList) -> bool:
    """Only a production list, and only the newest finished one, fills the batch's registry."""
    if serial_list.kind != SerialList.Kind.PRODUCTION:
        return False
    return not serial_list.batch.serial_lists.filter(
        kind=SerialList.Kind.PRODUCTION, pk__gt=serial_list.pk, status=SerialList.Status.DONE
    ).exists()


@dataclass
class _CodeReuse:
    report: dict[str, Any]
    groups: list[dict[str, Any]]  # {"batch", "label", "accepted", "codes"}


def _code_reuse(serial_list: SerialList, codes: list[str]) -> _CodeReuse:
    """Codes of this list already held by other batches of the same buyer and product."""
    batch = serial_list.batch
    held: dict[int, dict[str, Any]] = {}
    reused_codes: dict[str, int] = {}
    for start in range(0, len(codes), 5000):
        rows = (
            SerialCode.objects.filter(
                scope=registry_scope(batch.order), code__in=codes[start : start + 5000]
            )
            .exclude(batch=batch)
            .values_list("code", "batch_id", "accepted")
        )
        for code, batch_id, accepted in rows:
            group = held.setdefault(batch_id, {"codes": [], "accepted": False})
            group["codes"].append(code)
            group["accepted"] |= accepted
            reused_codes.setdefault(code, batch_id)
    others = Batch.objects.select_related("order").in_bulk(list(held))
    groups, listed = [], []
    for batch_id, group in held.items():
        other = others[batch_id]
        same_supplier = other.order.supplier_id == batch.order.supplier_id
        group["batch"] = other
        group["order_label"] = other.order.number if same_supplier else "(another supplier)"
        group["batch_label"] = other.code if same_supplier else "(another supplier)"
        groups.append(group)
    by_batch = {group["batch"].pk: group for group in groups}
    for code in sorted(reused_codes)[:REPORT_LIMIT]:
        group = by_batch[reused_codes[code]]
        listed.append(
            {"serial": code, "order": group["order_label"], "batch": group["batch_label"]}
        )
    return _CodeReuse({"reused_count": len(reused_codes), "reused": listed}, groups)


def _record_codes(serial_list: SerialList, codes: list[str]) -> None:
    """Replace the batch's pending codes with this list's (derived data, not a record)."""
    if not _speaks_for_batch(serial_list):
        return
    batch = serial_list.batch
    SerialCode.objects.filter(batch=batch, accepted=False).delete()
    scope = registry_scope(batch.order)
    SerialCode.objects.bulk_create(
        (SerialCode(scope=scope, code=c, batch=batch, serial_list=serial_list) for c in codes),
        batch_size=5000,
    )


def _record_code_exceptions(
    serial_list: SerialList, report: dict[str, Any], reuse: _CodeReuse
) -> None:
    K = SerialException.Kind
    rows: list[SerialException] = []

    def add(kind: str, summary: str, **fields: Any) -> None:
        rows.append(
            SerialException(
                serial_list=serial_list,
                batch=serial_list.batch,
                kind=kind,
                summary=summary,
                **fields,
            )
        )

    for unknown in report["unknown"]:
        add(
            K.UNKNOWN,
            f"{unknown['code']} (line {unknown['line']}) was never allocated",
            serial=unknown["code"][:100],
            detail={"line": unknown["line"]},
        )
    if report["unknown_count"] > len(report["unknown"]):
        rest = report["unknown_count"] - len(report["unknown"])
        add(K.UNKNOWN, f"{rest:,} more codes that were never allocated", count=rest)
    if report["unused_count"]:
        add(
            K.UNUSED,
            f"{report['unused_count']:,} allocated codes were not used",
            count=report["unused_count"],
            detail={"first": report["unused"][:20]},
        )
    for duplicate in report["duplicates"]:
        add(  # one code, on several rows: count is codes, like every count here
            K.DUPLICATE,
            f"{duplicate['code']} is on {duplicate['count']} rows",
            serial=duplicate["code"][:100],
            count=1,
            detail={"lines": duplicate["lines"], "rows": duplicate["count"]},
        )
    if report["duplicate_count"] > len(report["duplicates"]):
        rest = report["duplicate_count"] - len(report["duplicates"])
        add(K.DUPLICATE, f"{rest:,} more duplicated codes not listed", count=rest)
    for group in reuse.groups:
        state = "accepted" if group["accepted"] else "pending"
        add(
            K.REUSED,
            f"{len(group['codes']):,} codes also used by batch {group['batch_label']} of "
            f"PO {group['order_label']} ({state})",
            count=len(group["codes"]),
            detail={"first": sorted(group["codes"])[:20], "state": state},
            other_batch=group["batch"],
        )
    SerialException.objects.bulk_create(rows, batch_size=2000)


def _record_exceptions(
    serial_list: SerialList, rule: engine.NumberingRule, report: dict[str, Any], reuse: _Reuse
) -> None:
    """Every anomaly becomes an exception; long tails are grouped so nothing is dropped."""
    batch = serial_list.batch
    K = SerialException.Kind
    rows: list[SerialException] = []

    def add(kind: str, summary: str, **fields: Any) -> None:
        rows.append(
            SerialException(
                serial_list=serial_list, batch=batch, kind=kind, summary=summary, **fields
            )
        )

    for lo, hi in report["missing_ranges"]:
        count = hi - lo + 1
        span = rule.format(lo) + ("" if lo == hi else f" – {rule.format(hi)}")
        add(K.MISSING, f"{count:,} missing: {span}", lo=lo, hi=hi, count=count)
    listed = sum(hi - lo + 1 for lo, hi in report["missing_ranges"])
    if report["missing_count"] > listed:
        rest = report["missing_count"] - listed
        add(K.MISSING, f"{rest:,} more missing serials in ranges not listed", count=rest)
    for duplicate in report["duplicates"]:
        add(  # one serial, on several rows: count is serials, as on the report page
            K.DUPLICATE,
            f"{duplicate['serial']} is on {duplicate['count']} rows",
            serial=duplicate["serial"],
            count=1,
            detail={"lines": duplicate["lines"], "rows": duplicate["count"]},
        )
    if report["duplicate_count"] > len(report["duplicates"]):
        rest = report["duplicate_count"] - len(report["duplicates"])
        add(K.DUPLICATE, f"{rest:,} more duplicated serials not listed", count=rest)
    for overlap in reuse.overlaps:
        count = overlap["hi"] - overlap["lo"] + 1
        state = "accepted" if overlap["accepted"] else "pending"
        add(
            K.REUSED,
            f"{count:,} serials {rule.format(overlap['lo'])} – "
            f"{rule.format(overlap['hi'])} also used by batch {overlap['batch']} of "
            f"PO {overlap['order']} ({state})",
            lo=overlap["lo"],
            hi=overlap["hi"],
            count=count,
            detail={"order": overlap["order"], "batch": overlap["batch"], "state": state},
            other_batch=overlap["other_batch"],
        )
    if report["malformed_count"]:
        first = [
            {**row, "why": engine.malformed_explanation(row["value"], row["reason"], rule)}
            for row in report["malformed"][:20]
        ]
        example = f"; line {first[0]['line']}: {first[0]['why']}" if first else ""
        add(
            K.MALFORMED,
            f"{report['malformed_count']:,} rows do not follow "
            f"{rule.prefix}{'#' * rule.width}{example}"[:300],
            count=report["malformed_count"],
            detail={"first": first},
        )
    if report["out_of_range_count"]:
        expected = report["expected_range"]
        add(
            K.OUT_OF_RANGE,
            f"{report['out_of_range_count']:,} serials outside the range "
            f"{serial_list.expected_source or 'expected'}: "
            f"{rule.format(expected[0])} – {rule.format(expected[1])}",
            count=report["out_of_range_count"],
            detail={"first": report["out_of_range"][:20]},
        )
    SerialException.objects.bulk_create(rows, batch_size=2000)


# ---------------------------------------------------------------- answers and decisions


@transaction.atomic
def exception_answer(
    *, exceptions: Iterable[SerialException], user: User, reason: str, note: str
) -> list[ExceptionAnswer]:
    """The supplier explains one or more exceptions; each answer is a new row."""
    if membership_of(user) is None or membership_of(user).role != Role.SUPPLIER:
        raise PermissionDenied("Only the supplier answers exceptions.")
    if reason not in SerialException.Reason.values:
        raise ValidationError({"reason": f"“{reason}” is not a reason code."})
    if not note.strip():
        raise ValidationError({"note": "Write what happened to these serials."})
    answers = []
    for exception in _locked(exceptions, user):
        if exception.status in (SerialException.Status.ACCEPTED,):
            raise ValidationError(f"“{exception.summary}” is already accepted.")
        answers.append(
            ExceptionAnswer.objects.create(
                exception=exception, reason=reason, note=note.strip(), answered_by=user
            )
        )
        exception.status = SerialException.Status.ANSWERED
        exception.save(update_fields=["status"])
        approvals_mark_stale(
            kind=ApprovalPin.Kind.EXCEPTION,
            object_ids=[exception.pk],
            reason=f"“{exception.summary}” got a new answer from the supplier.",
        )
        audit_log(
            actor=user,
            action="serial_exception.answered",
            obj=exception,
            order=exception.batch.order,
            payload={"reason": reason, "note": note.strip()},
        )
    return answers


@transaction.atomic
def exception_decide(
    *, exceptions: Iterable[SerialException], user: User, decision: str, note: str = ""
) -> list[ExceptionDecision]:
    """The buyer accepts or rejects answered exceptions, one or many at once."""
    if not can_manage_orders(user):
        raise PermissionDenied("Only the buyer's buyers and admins decide on exceptions.")
    if decision not in ExceptionDecision.Decision.values:
        raise ValidationError({"decision": f"“{decision}” is not a decision."})
    decisions = []
    for exception in _locked(exceptions, user):
        answer = exception.answers.order_by("-id").first()
        if answer is None or exception.status != SerialException.Status.ANSWERED:
            raise ValidationError(
                f"“{exception.summary}” has no new answer from the supplier to decide on."
            )
        decisions.append(
            ExceptionDecision.objects.create(
                exception=exception, answer=answer, decision=decision, note=note, decided_by=user
            )
        )
        exception.status = decision
        exception.save(update_fields=["status"])
        approvals_mark_stale(
            kind=ApprovalPin.Kind.EXCEPTION,
            object_ids=[exception.pk],
            reason=f"“{exception.summary}” was decided again ({decision}).",
        )
        audit_log(
            actor=user,
            action=f"serial_exception.{decision}",
            obj=exception,
            order=exception.batch.order,
            payload={"answer_id": answer.pk, "note": note},
        )
    return decisions


def _locked(exceptions: Iterable[SerialException], user: User) -> list[SerialException]:
    ids = [exception.pk for exception in exceptions]
    if not ids:
        raise ValidationError("Choose at least one exception.")
    rows = list(
        SerialException.objects.select_for_update(of=("self",))
        .select_related("batch__order")
        .filter(pk__in=ids, batch__in=batches_visible_to(user))
        .order_by("id")
    )
    if len(rows) != len(set(ids)):
        raise PermissionDenied("Some of these exceptions are not yours to change.")
    return rows


# ---------------------------------------------------------------- batch serial status


def latest_production_list(batch: Batch) -> SerialList | None:
    return batch.serial_lists.filter(kind=SerialList.Kind.PRODUCTION).order_by("-id").first()


def current_exceptions(batch: Batch) -> QuerySet[SerialException]:
    """The exceptions of the batch's latest production list; older lists' are history."""
    serial_list = latest_production_list(batch)
    return SerialException.objects.filter(serial_list=serial_list).select_related(
        "other_batch__order"
    )


def batch_serial_status(batch: Batch) -> str:
    """none, validating, failed, clean, exceptions_open, exceptions_answered, accepted, rejected."""
    serial_list = latest_production_list(batch)
    if serial_list is None:
        return "none"
    if serial_list.status in (SerialList.Status.QUEUED, SerialList.Status.RUNNING):
        return "validating"
    if serial_list.status == SerialList.Status.FAILED:
        return "failed"
    if _is_accepted(batch, serial_list):
        return "accepted"
    statuses = set(serial_list.exceptions.values_list("status", flat=True))
    if SerialException.Status.OPEN in statuses:
        return "exceptions_open"
    if SerialException.Status.ANSWERED in statuses:
        return "exceptions_answered"
    if SerialException.Status.REJECTED in statuses:
        return "rejected"
    return "clean" if not statuses else "exceptions_accepted"


def _is_accepted(batch: Batch, serial_list: SerialList | None = None) -> bool:
    runs = batch.serial_runs.filter(accepted=True)
    codes = batch.serial_codes.filter(accepted=True)
    if serial_list is not None:
        runs, codes = runs.filter(serial_list=serial_list), codes.filter(serial_list=serial_list)
    return runs.exists() or codes.exists()


@transaction.atomic
def batch_serials_accept(*, batch: Batch, user: User) -> SerialList:
    """Enter the batch's latest production list into the registry. Refused while any exception
    is open, undecided or rejected; refused by the database if another batch got there first."""
    if not can_manage_orders(user):
        raise PermissionDenied("Only the buyer's buyers and admins accept serial lists.")
    PurchaseOrder.objects.select_for_update().filter(pk=batch.order_id).first()
    if _is_accepted(batch):
        raise ValidationError(f"The serials of batch {batch.code} are already accepted.")
    status = batch_serial_status(batch)
    if status not in ("clean", "exceptions_accepted"):
        raise ValidationError(
            f"The serials cannot be accepted while their status is “{status.replace('_', ' ')}”."
        )
    serial_list = latest_production_list(batch)
    assert serial_list is not None
    try:
        with transaction.atomic():
            accepted = SerialRun.objects.filter(serial_list=serial_list).update(accepted=True)
            accepted += SerialCode.objects.filter(serial_list=serial_list).update(accepted=True)
    except IntegrityError:
        raise ValidationError(
            "Another batch was accepted with some of these serials in the meantime; "
            "upload the list again to see which."
        ) from None
    if serial_list.report and serial_list.report["unique"] and not accepted:
        raise ValidationError("This list's serials are not in the registry; upload it again.")
    audit_log(
        actor=user,
        action="batch.serials_accepted",
        obj=batch,
        order=batch.order,
        payload={"serial_list": serial_list.pk, "sha256": serial_list.sha256},
    )
    return serial_list
