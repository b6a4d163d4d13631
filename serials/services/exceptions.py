"""Serial exceptions (the domain's word: one anomaly a report found, not a Python error):
recorded from a validated list's report; and a batch's serials accepted into the registry once
none is left open. Answers and decisions are in ``serials.services.answers``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from orders.models import Batch, PurchaseOrder
from portal.audit import audit_log
from portal.bulk import bulk_insert
from portal.models import User
from portal.roles import can_manage_orders
from serials import engine
from serials.life_models import REFUSAL
from serials.models import (
    SerialCode,
    SerialException,
    SerialList,
    SerialRun,
)
from serials.reports import CodeListReport, SerialListReport
from serials.selectors import _is_accepted, batch_serial_status, latest_production_list
from serials.services.life import destroyed_in_list, destroyed_sentence
from serials.services.registry import REPORT_LIMIT, ReusedRun, _CodeReuse, _Reuse


def _record_code_exceptions(
    serial_list: SerialList, report: CodeListReport, reuse: _CodeReuse
) -> None:
    K = SerialException.Kind
    rows: list[dict[str, Any]] = []

    def add(kind: str, summary: str, **fields: Any) -> None:
        rows.append({"kind": kind, "summary": summary, **fields})

    for unknown in report.unknown:
        add(
            K.UNKNOWN,
            f"{unknown.code} (line {unknown.line}) was never allocated",
            serial=unknown.code[:100],
            detail={"line": unknown.line},
        )
    if report.unknown_count > len(report.unknown):
        rest = report.unknown_count - len(report.unknown)
        add(K.UNKNOWN, f"{rest:,} more codes that were never allocated", count=rest)
    if report.unused_count:
        add(
            K.UNUSED,
            f"{report.unused_count:,} allocated codes were not used",
            count=report.unused_count,
            detail={"first": list(report.unused[:20])},
        )
    for duplicate in report.duplicates:
        add(  # one code, on several rows: count is codes, like every count here
            K.DUPLICATE,
            f"{duplicate.code} is on {duplicate.count} rows",
            serial=duplicate.code[:100],
            count=1,
            detail={"lines": list(duplicate.lines), "rows": duplicate.count},
        )
    if report.duplicate_count > len(report.duplicates):
        rest = report.duplicate_count - len(report.duplicates)
        add(K.DUPLICATE, f"{rest:,} more duplicated codes not listed", count=rest)
    for group in reuse.groups:
        state = "accepted" if group.accepted else "pending"
        if group.destroyed:  # the loudest reuse: codes no unit may carry
            add(
                K.REUSED,
                f"{len(group.codes):,} codes were reported destroyed or decommissioned: a unit "
                "carrying one is not genuine, and they can never be accepted",
                count=len(group.codes),
                detail={"first": sorted(group.codes)[:20], "state": "destroyed"},
                other_batch_id=group.batch.pk,
            )
            continue
        add(
            K.REUSED,
            f"{len(group.codes):,} codes also used by batch {group.batch_label} of "
            f"PO {group.order_label} ({state})",
            count=len(group.codes),
            detail={"first": sorted(group.codes)[:20], "state": state},
            other_batch_id=group.batch.pk,
        )
    _write(serial_list, rows)


def _record_exceptions(
    serial_list: SerialList, rule: engine.NumberingRule, report: SerialListReport, reuse: _Reuse
) -> None:
    """Every anomaly becomes an exception; long tails are grouped so nothing is dropped."""
    K = SerialException.Kind
    rows: list[dict[str, Any]] = []

    def add(kind: str, summary: str, **fields: Any) -> None:
        rows.append({"kind": kind, "summary": summary, **fields})

    for gap in report.missing_ranges:
        span = rule.format(gap.lo) + ("" if gap.lo == gap.hi else f" – {rule.format(gap.hi)}")
        add(K.MISSING, f"{gap.size:,} missing: {span}", lo=gap.lo, hi=gap.hi, count=gap.size)
    listed = sum(gap.size for gap in report.missing_ranges)
    if report.missing_count > listed:
        rest = report.missing_count - listed
        add(K.MISSING, f"{rest:,} more missing serials in ranges not listed", count=rest)
    for duplicate in report.duplicates:
        add(  # one serial, on several rows: count is serials, as on the report page
            K.DUPLICATE,
            f"{duplicate.serial} is on {duplicate.count} rows",
            serial=duplicate.serial,
            count=1,
            detail={"lines": list(duplicate.lines), "rows": duplicate.count},
        )
    if report.duplicate_count > len(report.duplicates):
        rest = report.duplicate_count - len(report.duplicates)
        add(K.DUPLICATE, f"{rest:,} more duplicated serials not listed", count=rest)
    for run in reuse.runs[:REPORT_LIMIT]:
        state = "accepted" if run.accepted else "pending"
        if run.destroyed_on is not None:  # the loudest reuse: a serial no unit may carry
            add(
                K.REUSED,
                f"{run.size:,} serials {rule.format(run.lo)} – {rule.format(run.hi)} were "
                f"reported destroyed or decommissioned on {run.destroyed_on:%Y-%m-%d}: a unit "
                "carrying one is not genuine, and they can never be accepted",
                lo=run.lo,
                hi=run.hi,
                count=run.size,
                detail={"state": "destroyed", "reported_on": f"{run.destroyed_on:%Y-%m-%d}"},
                other_batch_id=run.other_batch.pk,
            )
            continue
        add(
            K.REUSED,
            f"{run.size:,} serials {rule.format(run.lo)} – "
            f"{rule.format(run.hi)} also used by batch {run.batch} of "
            f"PO {run.order} ({state})",
            lo=run.lo,
            hi=run.hi,
            count=run.size,
            detail={"order": run.order, "batch": run.batch, "state": state},
            other_batch_id=run.other_batch.pk,
        )
    # Past the limit, one exception per other batch and state holds the rest of its runs: a
    # list that interleaves with another batch's serial by serial is 500,000 runs, not 500,000
    # things to answer one by one. Nothing is dropped: the count is every serial.
    beyond: dict[tuple[int, bool, bool], list[ReusedRun]] = {}
    for run in reuse.runs[REPORT_LIMIT:]:
        key = (run.other_batch.pk, run.accepted, run.destroyed_on is not None)
        beyond.setdefault(key, []).append(run)
    for (other_batch_id, accepted, destroyed), runs in beyond.items():
        state = "destroyed" if destroyed else "accepted" if accepted else "pending"
        head = runs[0]
        size = sum(run.size for run in runs)
        add(
            K.REUSED,
            f"{size:,} more serials in {len(runs):,} ranges from {rule.format(head.lo)} to "
            f"{rule.format(runs[-1].hi)} also used by batch {head.batch} of PO {head.order} "
            f"({state})",
            lo=head.lo,
            hi=runs[-1].hi,
            count=size,
            detail={
                "order": head.order,
                "batch": head.batch,
                "state": state,
                "ranges": len(runs),
            },
            other_batch_id=other_batch_id,
        )
    if report.malformed_count:
        first = [
            {**row.to_json(), "why": engine.malformed_explanation(row.value, row.reason, rule)}
            for row in report.malformed[:20]
        ]
        example = f"; line {first[0]['line']}: {first[0]['why']}" if first else ""
        add(
            K.MALFORMED,
            f"{report.malformed_count:,} rows do not follow "
            f"{rule.prefix}{'#' * rule.width}{example}"[:300],
            count=report.malformed_count,
            detail={"first": first},
        )
    if report.out_of_range_count and report.expected_range is not None:
        expected = report.expected_range
        add(
            K.OUT_OF_RANGE,
            f"{report.out_of_range_count:,} serials outside the range "
            f"{serial_list.expected_source or 'expected'}: "
            f"{rule.format(expected.lo)} – {rule.format(expected.hi)}",
            count=report.out_of_range_count,
            detail={"first": [row.to_json() for row in report.out_of_range[:20]]},
        )
    _write(serial_list, rows)


EXCEPTION_FIELDS = (
    "serial_list_id",
    "batch_id",
    "kind",
    "summary",
    "lo",
    "hi",
    "serial",
    "count",
    "detail",
    "other_batch_id",
    "status",
)


def _write(serial_list: SerialList, rows: list[dict[str, Any]]) -> None:
    """One COPY for a list's exceptions (portal.bulk), every field as the model's default
    where a row does not say."""
    defaults: dict[str, Any] = {"lo": None, "hi": None, "serial": "", "count": 1, "detail": {}}
    fixed = {
        "serial_list_id": serial_list.pk,
        "batch_id": serial_list.batch_id,
        "other_batch_id": None,
        "status": SerialException.Status.OPEN.value,
    }
    bulk_insert(
        SerialException,
        EXCEPTION_FIELDS,
        (tuple({**fixed, **defaults, **row}[field] for field in EXCEPTION_FIELDS) for row in rows),
    )


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
    if not status.can_be_accepted:
        raise ValidationError(
            f"The serials cannot be accepted while their status is “{status.label.lower()}”."
        )
    serial_list = latest_production_list(batch)
    assert serial_list is not None
    # Only to name the serials: the database refuses them anyway (serials.life_models).
    destroyed = destroyed_in_list(serial_list)
    if destroyed:
        raise ValidationError(destroyed_sentence(destroyed))
    try:
        with transaction.atomic():
            accepted = SerialRun.objects.filter(serial_list=serial_list).update(accepted=True)
            accepted += SerialCode.objects.filter(serial_list=serial_list).update(accepted=True)
    except IntegrityError as error:
        if REFUSAL in str(error):  # recorded destroyed while this acceptance waited
            raise ValidationError(destroyed_sentence(destroyed_in_list(serial_list))) from None
        raise ValidationError(
            "Another batch was accepted with some of these serials in the meantime; "
            "upload the list again to see which."
        ) from None
    report = serial_list.validation_report
    if report is not None and report.unique and not accepted:
        raise ValidationError("This list's serials are not in the registry; upload it again.")
    audit_log(
        actor=user,
        action="batch.serials_accepted",
        obj=batch,
        order=batch.order,
        payload={"serial_list": serial_list.pk, "sha256": serial_list.sha256},
    )
    return serial_list
