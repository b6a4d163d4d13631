"""Reads for serial lists, exceptions and numbering rules; nothing here changes state. Scoped
reads start from the batches the caller may see (``orders.selectors``); the rest read one batch
already scoped: its latest production list and serial status, the allocation and range in force."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from orders.models import Batch
from orders.selectors import batches_visible_to
from portal.models import User
from portal.roles import is_buyer_side, membership_of
from serials import engine
from serials.models import (
    AllocatedCodeList,
    AllocatedRange,
    NumberingRule,
    SerialException,
    SerialList,
)
from serials.reports import CodeListReport, ListReport
from serials.states import BatchSerialStatus


def serial_lists_visible_to(user: User | AnonymousUser) -> QuerySet[SerialList]:
    return SerialList.objects.select_related("batch__order", "uploaded_by").filter(
        batch__in=batches_visible_to(user)
    )


def serial_list_for(user: User | AnonymousUser, pk: int) -> SerialList:
    return get_object_or_404(serial_lists_visible_to(user), pk=pk)


def exceptions_visible_to(user: User | AnonymousUser) -> QuerySet[SerialException]:
    return SerialException.objects.select_related("batch__order", "serial_list").filter(
        batch__in=batches_visible_to(user)
    )


def rules_visible_to(user: User | AnonymousUser) -> QuerySet[NumberingRule]:
    """The buyer's staff see their company's rules; others see them on their batches."""
    if not is_buyer_side(user):
        return NumberingRule.objects.none()
    membership = membership_of(user)
    assert membership is not None  # the buyer's side are members of the buyer
    return NumberingRule.objects.filter(buyer=membership.organisation)


ANOMALY_HEADER = ["kind", "serial_or_first", "last", "count", "lines", "detail"]


def anomaly_rows(report: ListReport | None) -> Iterator[list[Any]]:
    """Every anomaly of a stored report, one row each (missing ranges as first..last)."""
    if report is None:
        return
    if isinstance(report, CodeListReport):
        for unknown in report.unknown:
            yield ["unknown", unknown.code, "", 1, unknown.line, "never allocated"]
        for code in report.unused:
            yield ["unused", code, "", 1, "", "allocated, not used"]
        for code_duplicate in report.duplicates:
            lines = " ".join(map(str, code_duplicate.lines))
            yield ["duplicate", code_duplicate.code, "", code_duplicate.count, lines, ""]
    else:
        for gap in report.missing_ranges:
            yield ["missing", gap.lo, gap.hi, gap.size, "", ""]
        for duplicate in report.duplicates:
            lines = " ".join(map(str, duplicate.lines))
            yield ["duplicate", duplicate.serial, "", duplicate.count, lines, ""]
        for bad in report.malformed:
            yield ["malformed", bad.value, "", 1, bad.line, bad.reason]
        for out in report.out_of_range:
            yield ["out_of_range", out.serial, "", 1, out.line, ""]
    for reused in report.reused:
        where = f"PO {reused.order} batch {reused.batch}"
        yield ["reused", reused.serial, "", 1, "", where]


def latest_production_list(batch: Batch) -> SerialList | None:
    return batch.serial_lists.filter(kind=SerialList.Kind.PRODUCTION).order_by("-id").first()


def current_exceptions(batch: Batch) -> QuerySet[SerialException]:
    """The exceptions of the batch's latest production list; older lists' are history."""
    serial_list = latest_production_list(batch)
    return SerialException.objects.filter(serial_list=serial_list).select_related(
        "other_batch__order"
    )


def batch_serial_status(batch: Batch) -> BatchSerialStatus:
    """Where the batch's serials stand, from its latest production list."""
    serial_list = latest_production_list(batch)
    if serial_list is None:
        return BatchSerialStatus.NONE
    if serial_list.status in (SerialList.Status.QUEUED, SerialList.Status.RUNNING):
        return BatchSerialStatus.VALIDATING
    if serial_list.status == SerialList.Status.FAILED:
        return BatchSerialStatus.FAILED
    if _is_accepted(batch, serial_list):
        return BatchSerialStatus.ACCEPTED
    statuses = set(serial_list.exceptions.values_list("status", flat=True))
    if SerialException.Status.OPEN in statuses:
        return BatchSerialStatus.EXCEPTIONS_OPEN
    if SerialException.Status.ANSWERED in statuses:
        return BatchSerialStatus.EXCEPTIONS_ANSWERED
    if SerialException.Status.REJECTED in statuses:
        return BatchSerialStatus.REJECTED
    return BatchSerialStatus.EXCEPTIONS_ACCEPTED if statuses else BatchSerialStatus.CLEAN


def _is_accepted(batch: Batch, serial_list: SerialList | None = None) -> bool:
    runs = batch.serial_runs.filter(accepted=True)
    codes = batch.serial_codes.filter(accepted=True)
    if serial_list is not None:
        runs, codes = runs.filter(serial_list=serial_list), codes.filter(serial_list=serial_list)
    return runs.exists() or codes.exists()


def allocated_code_list_for(batch: Batch) -> AllocatedCodeList | None:
    """The codes in force for a batch: its own allocation, else its order's."""
    return (
        AllocatedCodeList.objects.filter(batch=batch).first()
        or AllocatedCodeList.objects.filter(order=batch.order_id, batch__isnull=True).first()
    )


def expected_range_for(batch: Batch, rule: NumberingRule) -> tuple[tuple[int, int] | None, str]:
    """The counters a list is held against: the batch's allocation; else the batch's declared
    share of the order's allocation; else the order's allocation; else what the supplier declared
    for the batch; else none (the used range).

    A batch of a many-batch order cannot fill the order's whole allocation, so its declared range
    is used when it lies inside the allocation; one outside it is not trusted."""
    assert rule.width is not None  # a sequential rule: callers never pass an allocated-codes one
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


def _declared_counters(batch: Batch, rule: NumberingRule) -> tuple[int, int] | None:
    """The batch's declared range as counters, when both ends follow the rule."""
    if not batch.declared_range:
        return None
    engine_rule_ = rule.as_engine_rule()
    lo = counter_of(engine_rule_, batch.declared_first_serial)
    hi = counter_of(engine_rule_, batch.declared_last_serial)
    return (lo, hi) if lo is not None and hi is not None and lo <= hi else None


def counter_of(rule: engine.NumberingRule, serial: str) -> int | None:
    """The counter of one serial, or None when it does not follow the rule."""
    reason, counter = engine.classify_value(serial.strip().upper(), rule)
    return counter if reason == 0 else None
