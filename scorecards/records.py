"""The records behind a figure: for each measure, the rows it counted in the period (those that
count towards the figure first), each linking to the page the portal already has for it."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from evidence.selectors import Flag
from orders.models import Batch, PurchaseOrder
from portal.models import User
from portal.roles import can_see_inspections
from scorecards.evidence_flags import old_or_similar_flags
from scorecards.measures import (
    acceptances,
    as_flag,
    decided_inspections,
    due_requests,
    flagged_evidence,
    latest_lists,
)
from scorecards.periods import Period


@dataclass(frozen=True)
class RecordRow:
    when: datetime.date | datetime.datetime
    batch: Batch | None
    what: str
    figures: str
    # Stands out: a gap, a late answer, a flag, a second list, a failed inspection.
    stands_out: bool
    links: list[tuple[str, str]] = field(default_factory=list)


Viewer = User | AnonymousUser
# A measure's records: the rows to page through, and how a page of them becomes RecordRows.
Records = tuple[QuerySet[Any, Any] | list[Any], Callable[[list[Any]], list[RecordRow]]]


def _first(flag: str) -> OrderBy:
    """Rows that stand out first. A condition on a missing date is NULL, not false: last."""
    return F(flag).desc(nulls_last=True)


def _each(row: Callable[[Any], RecordRow]) -> Callable[[list[Any]], list[RecordRow]]:
    return lambda records: [row(record) for record in records]


def _n(value: int) -> str:
    return number_format(value, use_l10n=True, force_grouping=True)


def _list_records(
    orders: QuerySet[PurchaseOrder], period: Period, counted: str, figures: Callable[[Any], str]
) -> Records:
    """The period's production lists, those with ``counted`` above zero first."""
    lists = (
        latest_lists(orders, period)
        .select_related("batch__order")
        .annotate(counts=as_flag(Q(**{f"{counted}__gt": 0})))
        .order_by(_first("counts"), "-uploaded_at", "-id")
    )

    def row(serial_list: Any) -> RecordRow:
        return RecordRow(
            serial_list.uploaded_at,
            serial_list.batch,
            _("Production list #%(id)s (%(name)s)")
            % {"id": serial_list.pk, "name": serial_list.original_name},
            figures(serial_list),
            serial_list.counts,
            [
                (_("Validation report"), reverse("serial-list-detail", args=[serial_list.pk])),
                (
                    _("Exceptions of the batch"),
                    reverse("batch-exceptions", args=[serial_list.batch_id]),
                ),
            ],
        )

    return lists, _each(row)


def gap_records(orders: QuerySet[PurchaseOrder], period: Period, viewer: Viewer) -> Records:
    return _list_records(
        orders,
        period,
        "missing",
        lambda serial_list: (
            _("%(missing)s missing of %(expected)s expected")
            % {"missing": _n(serial_list.missing), "expected": _n(serial_list.expected)}
        ),
    )


def duplicate_records(orders: QuerySet[PurchaseOrder], period: Period, viewer: Viewer) -> Records:
    return _list_records(
        orders,
        period,
        "duplicates",
        lambda serial_list: (
            _("%(duplicates)s duplicated serials in %(rows)s rows")
            % {"duplicates": _n(serial_list.duplicates), "rows": _n(serial_list.rows)}
        ),
    )


def reuse_records(orders: QuerySet[PurchaseOrder], period: Period, viewer: Viewer) -> Records:
    return _list_records(
        orders,
        period,
        "reused",
        lambda serial_list: (
            _("%(reused)s reused serials in %(rows)s rows")
            % {"reused": _n(serial_list.reused), "rows": _n(serial_list.rows)}
        ),
    )


def late_records(orders: QuerySet[PurchaseOrder], period: Period, viewer: Viewer) -> Records:
    def row(asked: Any) -> RecordRow:
        due = date_format(asked.due_on, "DATE_FORMAT")
        if asked.answered_on is None:
            figures = _("Due %(due)s; not answered") % {"due": due}
        else:
            figures = _("Due %(due)s; first answered %(answered)s") % {
                "due": due,
                "answered": date_format(asked.answered_on, "DATE_FORMAT"),
            }
        link = (_("Written request"), reverse("request-detail", args=[asked.pk]))
        return RecordRow(asked.due_on, asked.batch, asked.subject, figures, asked.late, [link])

    rows = (
        due_requests(orders, period)
        .select_related("batch__order")
        .order_by(_first("late"), F("due_on").desc(), "-id")
    )
    return rows, _each(row)


def evidence_records(orders: QuerySet[PurchaseOrder], period: Period, viewer: Viewer) -> Records:
    items = (
        flagged_evidence(orders, period)
        .select_related("batch__order")
        .order_by(_first("flagged"), "-uploaded_at", "-id")
    )

    def rows(page: list[Any]) -> list[RecordRow]:
        # The page's flags in words, from freshness_flags itself.
        flagged = old_or_similar_flags(page, viewer)
        return [row(item, flagged.get(item.pk, [])) for item in page]

    def row(item: Any, flags: list[Flag]) -> RecordRow:
        figures = "; ".join(flag.label for flag in flags) if flags else _("Not flagged")
        link = (_("Evidence file"), reverse("evidence-detail", args=[item.pk]))
        return RecordRow(
            item.uploaded_at, item.batch, item.original_name, figures, bool(flags), [link]
        )

    return items, rows


def acceptance_records(orders: QuerySet[PurchaseOrder], period: Period, viewer: Viewer) -> Records:
    events: list[Any] = list(
        acceptances(orders, period).order_by("first_time", "-created_at", "-id")
    )
    batches = Batch.objects.select_related("order").in_bulk([event.batch_key for event in events])

    def row(event: Any) -> RecordRow:
        batch = batches.get(event.batch_key)
        if event.first_time:
            figures = _("Accepted from its first production list (#%(id)s)") % {
                "id": event.accepted_list
            }
        else:
            figures = _("Accepted from production list #%(accepted)s; its first was #%(first)s") % {
                "accepted": event.accepted_list,
                "first": event.first_list,
            }
        links = []
        if batch is not None:
            links.append(
                (_("Exceptions of the batch"), reverse("batch-exceptions", args=[batch.pk]))
            )
        if event.accepted_list:
            links.append(
                (_("Accepted list"), reverse("serial-list-detail", args=[event.accepted_list]))
            )
        what = _("Serials accepted by %(name)s") % {"name": event.actor_label}
        return RecordRow(event.created_at, batch, what, figures, not event.first_time, links)

    return events, _each(row)


def inspection_records(orders: QuerySet[PurchaseOrder], period: Period, viewer: Viewer) -> Records:
    """A supplier sees the outcome of each inspection of its batches, never the inspection's
    pages (its sample): its rows link to the batch instead."""
    sees_inspections = can_see_inspections(viewer)

    def row(plan: Any) -> RecordRow:
        if plan.failed:
            figures = ngettext(
                "Failed: %(count)s defective unit (rejection number %(reject)s)",
                "Failed: %(count)s defective units (rejection number %(reject)s)",
                plan.defective,
            ) % {"count": plan.defective, "reject": plan.reject}
        elif plan.blocked:
            figures = _("Blocked: a step was blocked")
        else:
            figures = _("Passed")
        if sees_inspections:
            links = [(_("Inspection"), reverse("inspection-detail", args=[plan.pk]))]
        else:
            links = [(_("Batch"), reverse("batch-detail", args=[plan.batch_id]))]
        what = _("Inspection of %(size)s units at AQL %(aql)s") % {
            "size": plan.size,
            "aql": plan.aql,
        }
        return RecordRow(
            plan.created_at, plan.batch, what, figures, bool(plan.failed or plan.blocked), links
        )

    rows = (
        decided_inspections(orders, period)
        .select_related("batch__order")
        .order_by(_first("failed"), _first("blocked"), "-created_at", "-id")
    )
    return rows, _each(row)


RECORDS: dict[str, Callable[[QuerySet[PurchaseOrder], Period, Viewer], Records]] = {
    "gaps": gap_records,
    "duplicates": duplicate_records,
    "reuse": reuse_records,
    "late-answers": late_records,
    "old-evidence": evidence_records,
    "first-time": acceptance_records,
    "inspections": inspection_records,
}
