"""The scorecard's measures, each counted from facts the portal already stores, per buyer,
supplier and month. Every measure is a numerator over a denominator (``Counted``); a month with
nothing to count shows "—", never 0.

Each tally is one aggregating query whatever the number of batches (grouped by buyer, supplier
and month in the database), except the evidence flags: those are ``freshness_flags``' own codes,
read from it so that a flag added there (a similar photo, an invalid content credential) is
counted here without a change; it reads a fixed handful of queries, then goes over the period's
items once."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from evidence.models import EvidenceItem, EvidenceRequest, Statement
from inspection.models import BlockedStep, InspectionPlan, SampledUnit, UnitResult
from orders.models import PurchaseOrder
from portal.models import AuditEvent
from scorecards.evidence_flags import similar_elsewhere, with_old_or_copied
from scorecards.periods import Period
from serials.models import SerialList

# (buyer id, supplier id, first of the month)
Key = tuple[int, int, datetime.date]

ACCEPTED_ACTION = "batch.serials_accepted"


@dataclass(frozen=True)
class Counted:
    numerator: int = 0
    denominator: int = 0

    def __add__(self, other: Counted) -> Counted:
        return Counted(self.numerator + other.numerator, self.denominator + other.denominator)

    @property
    def ratio(self) -> float | None:
        """None when there is nothing to count: shown as "—", never as 0."""
        return self.numerator / self.denominator if self.denominator else None


Tally = dict[Key, Counted]


def _month(value: datetime.date | datetime.datetime) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date().replace(day=1)
    return value.replace(day=1)


def _monthly(
    records: QuerySet[Any],
    dated_by: str,
    numerator: Any,
    denominator: Any,
    order: str = "batch__order__",
) -> Tally:
    """The records' numerator and denominator per buyer, supplier and month of ``dated_by``;
    ``order`` is the path from a record to its purchase order."""
    buyer, supplier = f"{order}buyer_id", f"{order}supplier_id"
    rows = (
        records.annotate(month=TruncMonth(dated_by))
        .order_by()
        .values(buyer, supplier, "month")
        .annotate(numerator=numerator, denominator=denominator)
    )
    return {
        (row[buyer], row[supplier], _month(row["month"])): Counted(
            int(row["numerator"] or 0), int(row["denominator"] or 0)
        )
        for row in rows
    }


def _share(flag: Q) -> tuple[Count, Count]:
    """Records matching ``flag`` out of all records."""
    return Count("pk", filter=flag), Count("pk")


ZERO = Value(0, output_field=BigIntegerField())
ONE = Value(1, output_field=BigIntegerField())


def as_flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def _report_int(path: str) -> Cast:
    return Cast(KT(f"report__{path}"), BigIntegerField())


def _range_size(name: str) -> Any:
    size = _report_int(f"{name}__1") - _report_int(f"{name}__0") + ONE
    return ExpressionWrapper(size, output_field=BigIntegerField())


# A production list's figures, from its stored validation report (serials.reports): a sequential
# list's missing serials inside its expected range (or, with none, its used range); an
# allocated-code list's codes allocated and never used, out of those allocated.
MISSING = Coalesce(_report_int("missing_count"), _report_int("unused_count"), ZERO)
EXPECTED = Coalesce(
    _range_size("expected_range"), _range_size("used_range"), _report_int("allocated"), ZERO
)
DUPLICATES = Coalesce(_report_int("duplicate_count"), ZERO)
REUSED = Coalesce(_report_int("reused_count"), ZERO)
ROWS = Coalesce(_report_int("rows"), ZERO)


def latest_lists(orders: QuerySet[PurchaseOrder], period: Period) -> QuerySet[SerialList]:
    """Each batch's newest validated production list, when it was uploaded in the period: the
    list that speaks for the batch (as ``serials.services.registry`` reads it)."""
    newest = (
        SerialList.objects.filter(
            batch=OuterRef("batch"),
            kind=SerialList.Kind.PRODUCTION,
            status=SerialList.Status.DONE,
        )
        .order_by("-id")
        .values("pk")[:1]
    )
    return SerialList.objects.filter(
        batch__order__in=orders,
        kind=SerialList.Kind.PRODUCTION,
        status=SerialList.Status.DONE,
        uploaded_at__gte=period.start_moment,
        uploaded_at__lt=period.end_moment,
        pk=Subquery(newest),
    ).annotate(missing=MISSING, expected=EXPECTED, duplicates=DUPLICATES, reused=REUSED, rows=ROWS)


def _list_tally(
    orders: QuerySet[PurchaseOrder], period: Period, numerator: str, over: str
) -> Tally:
    return _monthly(latest_lists(orders, period), "uploaded_at", Sum(numerator), Sum(over))


def gap_tally(orders: QuerySet[PurchaseOrder], period: Period, viewer: Any) -> Tally:
    return _list_tally(orders, period, "missing", "expected")


def duplicate_tally(orders: QuerySet[PurchaseOrder], period: Period, viewer: Any) -> Tally:
    return _list_tally(orders, period, "duplicates", "rows")


def reuse_tally(orders: QuerySet[PurchaseOrder], period: Period, viewer: Any) -> Tally:
    return _list_tally(orders, period, "reused", "rows")


def due_requests(orders: QuerySet[PurchaseOrder], period: Period) -> QuerySet[EvidenceRequest]:
    """Written requests due in the period that are answered, or whose due date has passed;
    ``answered_on`` is the day of the first statement, ``late`` whether it came after the due
    date or has not come."""
    first_statement = (
        Statement.objects.filter(request=OuterRef("pk")).order_by("written_at", "id")
    ).values("written_at")[:1]
    today = timezone.localdate()
    return (
        EvidenceRequest.objects.filter(
            batch__order__in=orders, due_on__gte=period.first, due_on__lt=period.end
        )
        .annotate(answered_on=TruncDate(Subquery(first_statement)))
        .filter(Q(answered_on__isnull=False) | Q(due_on__lt=today))
        .annotate(late=as_flag(Q(answered_on__isnull=True) | Q(answered_on__gt=F("due_on"))))
    )


def late_tally(orders: QuerySet[PurchaseOrder], period: Period, viewer: Any) -> Tally:
    return _monthly(due_requests(orders, period), "due_on", *_share(Q(late=True)))


def period_evidence(orders: QuerySet[PurchaseOrder], period: Period) -> QuerySet[EvidenceItem]:
    return EvidenceItem.objects.filter(
        batch__order__in=orders,
        uploaded_at__gte=period.start_moment,
        uploaded_at__lt=period.end_moment,
    ).select_related("batch__order")


def flagged_evidence(orders: QuerySet[PurchaseOrder], period: Period) -> QuerySet[EvidenceItem]:
    """The period's files, each with ``flagged``: old or copied (in SQL), or a similar photo
    on another batch (``scorecards.evidence_flags``)."""
    items = period_evidence(orders, period)
    similar = similar_elsewhere(items)
    return with_old_or_copied(items).annotate(
        flagged=as_flag(Q(old_or_copied=True) | Q(pk__in=similar))
    )


def evidence_tally(orders: QuerySet[PurchaseOrder], period: Period, viewer: Any) -> Tally:
    return _monthly(flagged_evidence(orders, period), "uploaded_at", *_share(Q(flagged=True)))


def acceptances(orders: QuerySet[PurchaseOrder], period: Period) -> QuerySet[AuditEvent]:
    """The batches' acceptances in the period (the audit event ``batch_serials_accept``
    writes), each with ``first_time``: whether the list accepted was the batch's first
    production list."""
    first_list = (
        SerialList.objects.filter(batch_id=OuterRef("batch_key"), kind=SerialList.Kind.PRODUCTION)
        .order_by("id")
        .values("pk")[:1]
    )
    return (
        AuditEvent.objects.filter(
            action=ACCEPTED_ACTION,
            object_type="orders.Batch",
            order__in=orders,
            created_at__gte=period.start_moment,
            created_at__lt=period.end_moment,
        )
        .annotate(
            batch_key=Cast("object_id", BigIntegerField()),
            accepted_list=Cast(KT("payload__serial_list"), BigIntegerField()),
        )
        .annotate(first_list=Subquery(first_list))
        .annotate(first_time=as_flag(Q(accepted_list=F("first_list"))))
    )


def acceptance_tally(orders: QuerySet[PurchaseOrder], period: Period, viewer: Any) -> Tally:
    return _monthly(
        acceptances(orders, period), "created_at", *_share(Q(first_time=True)), order="order__"
    )


def _count_of(units: QuerySet[SampledUnit]) -> Coalesce:
    """How many of a plan's units match, as a scalar subquery (no GROUP BY of its own)."""
    counted = units.annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted), Value(0))


def decided_inspections(
    orders: QuerySet[PurchaseOrder], period: Period
) -> QuerySet[InspectionPlan]:
    """Inspections planned in the period that reached an outcome, as ``plan_outcome`` judges
    it (the newest result of each unit counts): ``failed`` (defects reached the rejection
    number), ``blocked`` (a step was blocked, not failed), or passed (every unit read)."""
    latest = UnitResult.objects.filter(unit=OuterRef("pk")).order_by("-id")
    units = (
        SampledUnit.objects.filter(plan=OuterRef("pk"))
        .order_by()
        .annotate(
            last_method=Subquery(latest.values("method")[:1]),
            last_defective=Subquery(latest.values("defective")[:1]),
        )
    )
    read = units.filter(last_method__isnull=False).exclude(last_method=UnitResult.Method.SKIPPED)
    plans = InspectionPlan.objects.filter(
        batch__order__in=orders,
        created_at__gte=period.start_moment,
        created_at__lt=period.end_moment,
    ).annotate(
        size=_count_of(units),
        defective=_count_of(units.filter(last_defective=True)),
        recorded=_count_of(read),
        has_blocked_step=Exists(BlockedStep.objects.filter(plan=OuterRef("pk"))),
    )
    failed = Q(defective__gte=F("reject"))
    return plans.annotate(
        failed=as_flag(failed),
        blocked=as_flag(~failed & Q(has_blocked_step=True)),
    ).filter(failed | Q(has_blocked_step=True) | Q(recorded__gte=F("size")))


def inspection_tally(orders: QuerySet[PurchaseOrder], period: Period, viewer: Any) -> Tally:
    failed_or_blocked = Q(failed=True) | Q(blocked=True)
    return _monthly(decided_inspections(orders, period), "created_at", *_share(failed_or_blocked))


@dataclass(frozen=True)
class Measure:
    """One figure of the card: how it is counted and dated, in one sentence each."""

    slug: str
    title: Promise
    definition: Promise
    dated_by: Promise
    shown_as: str  # "percent", "per_10000" or "count" (with its rate per 10,000 beside)
    # What the numerator and denominator are, with %(numerator)s and %(denominator)s; plural
    # by ``count``, the denominator.
    counted_as: Promise
    lower_is_better: bool
    tally: Callable[[QuerySet[PurchaseOrder], Period, Any], Tally]


MEASURES = [
    Measure(
        "gaps",
        _("Gap rate"),
        _(
            "Serials missing from the newest validated production list of each batch, out of "
            "the serials expected (the allocated or declared range, else the range the list "
            "used; for allocated codes, the codes allocated)."
        ),
        _("Counted in the month the list was uploaded."),
        "percent",
        ngettext_lazy(
            "%(numerator)s missing of %(denominator)s expected serial",
            "%(numerator)s missing of %(denominator)s expected serials",
            "count",
        ),
        True,
        gap_tally,
    ),
    Measure(
        "duplicates",
        _("Duplicates per 10,000"),
        _(
            "Serials that occur on more than one row of the newest validated production list "
            "of each batch, per 10,000 rows of those lists."
        ),
        _("Counted in the month the list was uploaded."),
        "per_10000",
        ngettext_lazy(
            "%(numerator)s duplicated serials in %(denominator)s row",
            "%(numerator)s duplicated serials in %(denominator)s rows",
            "count",
        ),
        True,
        duplicate_tally,
    ),
    Measure(
        "reuse",
        _("Reused serials"),
        _(
            "Serials of the newest validated production list of each batch that another batch "
            "of the same buyer and product already held, with their rate per 10,000 rows."
        ),
        _("Counted in the month the list was uploaded."),
        "count",
        ngettext_lazy(
            "%(numerator)s reused serials in %(denominator)s row",
            "%(numerator)s reused serials in %(denominator)s rows",
            "count",
        ),
        True,
        reuse_tally,
    ),
    Measure(
        "late-answers",
        _("Requests answered late"),
        _(
            "Exceptions carry no due date of their own; the buyer's written request for an "
            "explanation does. Of the requests due, those answered after their due date or "
            "still unanswered past it (a request not yet due and unanswered is not counted)."
        ),
        _("Counted in the month the request was due."),
        "percent",
        ngettext_lazy(
            "%(numerator)s late of %(denominator)s request due",
            "%(numerator)s late of %(denominator)s requests due",
            "count",
        ),
        True,
        late_tally,
    ),
    Measure(
        "old-evidence",
        _("Evidence flagged old or similar"),
        _(
            "Evidence files flagged as captured before the order or before production, the "
            "same file (or a similar photo) on another batch, or with an invalid content "
            "credential, out of the files uploaded."
        ),
        _("Counted in the month the file was uploaded."),
        "percent",
        ngettext_lazy(
            "%(numerator)s flagged of %(denominator)s file",
            "%(numerator)s flagged of %(denominator)s files",
            "count",
        ),
        True,
        evidence_tally,
    ),
    Measure(
        "first-time",
        _("First-time acceptance"),
        _(
            "Batches whose serials were accepted from the first production list uploaded for "
            "them, out of the batches accepted."
        ),
        _("Counted in the month the batch was accepted."),
        "percent",
        ngettext_lazy(
            "%(numerator)s first-time of %(denominator)s batch accepted",
            "%(numerator)s first-time of %(denominator)s batches accepted",
            "count",
        ),
        False,
        acceptance_tally,
    ),
    Measure(
        "inspections",
        _("Inspections failed or blocked"),
        _(
            "Inspections whose defects reached the rejection number, or with a step someone "
            "blocked, out of the inspections that reached an outcome (passed, failed or "
            "blocked; those still in progress are not counted)."
        ),
        _("Counted in the month the inspection was planned."),
        "percent",
        ngettext_lazy(
            "%(numerator)s failed or blocked of %(denominator)s inspection",
            "%(numerator)s failed or blocked of %(denominator)s inspections",
            "count",
        ),
        True,
        inspection_tally,
    ),
]
MEASURES_BY_SLUG = {measure.slug: measure for measure in MEASURES}
