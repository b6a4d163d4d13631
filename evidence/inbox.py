"""What the evidence app puts in the inbox (``portal.dashboard``, registered in
``EvidenceConfig.ready``): the supplier's open requests with their due dates and the evidence
its open batches still miss; the buyer's statements to review.

Read as the pages read them: a request waits for the supplier until it has a statement
(``evidence/batch_requests.html``); a statement waits for the buyer while the request's latest
version has no review (``request_detail``'s "can review"); a kind of evidence is missing while
no current version of it is on the batch (``batch_evidence_summary``)."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from evidence.models import (
    EvidenceItem,
    EvidenceKind,
    EvidenceRequest,
    EvidenceRequirement,
    Statement,
    StatementReview,
)
from evidence.selectors import requests_visible_to
from orders.models import PurchaseOrder
from orders.selectors import batches_visible_to
from portal.dashboard import WaitingItem, is_overdue
from portal.models import Role, User
from portal.roles import can_manage_orders, role_of

# Orders whose work is still going on: a closed or cancelled order asks nothing of anyone.
FINISHED = [PurchaseOrder.Status.CLOSED, PurchaseOrder.Status.CANCELLED]


def open_requests(user: User | AnonymousUser) -> QuerySet[EvidenceRequest]:
    """Requests no statement answers yet, soonest due first."""
    return (
        requests_visible_to(user)
        .exclude(batch__order__status__in=FINISHED)
        .filter(statements__isnull=True)
        .select_related("batch__order__buyer")
        .order_by("due_on", "id")
    )


def statements_to_review(user: User | AnonymousUser) -> QuerySet[Statement]:
    """Each request's latest statement version that nobody reviewed yet."""
    return (
        Statement.objects.filter(request__in=requests_visible_to(user))
        .exclude(
            Exists(
                Statement.objects.filter(
                    request=OuterRef("request"), version__gt=OuterRef("version")
                )
            )
        )
        .exclude(Exists(StatementReview.objects.filter(statement=OuterRef("pk"))))
        .select_related("request__batch__order")
        .order_by("written_at", "id")
    )


def missing_evidence(
    user: User | AnonymousUser,
) -> QuerySet[EvidenceRequirement, tuple[int, str, str, str]]:
    """Required kinds with no current version on their batch, on orders still going on, as
    (batch id, batch code, order number, kind)."""
    current = EvidenceItem.objects.filter(
        batch=OuterRef("batch"), kind=OuterRef("kind"), replaced_by__isnull=True
    )
    return (
        EvidenceRequirement.objects.filter(
            batch__in=batches_visible_to(user).exclude(order__status__in=FINISHED)
        )
        .exclude(Exists(current))
        .values_list("batch_id", "batch__code", "batch__order__number", "kind")
        .order_by("batch__order__number", "batch__code", "kind")
    )


def waiting_on(user: User | AnonymousUser) -> Iterator[WaitingItem]:
    role = role_of(user)
    if role == Role.SUPPLIER:
        yield from _supplier_items(user)
    if can_manage_orders(user):
        for statement in statements_to_review(user):
            asked = statement.request
            yield WaitingItem(
                _("Review the statement on “%(subject)s”") % {"subject": asked.subject},
                _("Batch %(batch)s of PO %(order)s · version %(version)d, written %(date)s")
                % {
                    "batch": asked.batch.code,
                    "order": asked.batch.order.number,
                    "version": statement.version,
                    "date": date_format(timezone.localtime(statement.written_at), "DATE_FORMAT"),
                },
                reverse("request-detail", args=[asked.pk]),
                kind="statement_to_review",
                icon="bi-file-earmark-text",
            )


def _supplier_items(user: User | AnonymousUser) -> Iterator[WaitingItem]:
    for asked in open_requests(user):
        yield WaitingItem(
            _("Answer the request “%(subject)s”") % {"subject": asked.subject},
            _("Batch %(batch)s of PO %(order)s · asked by %(buyer)s")
            % {
                "batch": asked.batch.code,
                "order": asked.batch.order.number,
                "buyer": asked.batch.order.buyer,
            },
            reverse("request-detail", args=[asked.pk]),
            due=asked.due_on,
            overdue=is_overdue(asked.due_on),
            kind="request",
            icon="bi-question-circle",
        )
    missing: dict[int, tuple[str, str, list[str]]] = {}
    for batch_id, code, number, kind in missing_evidence(user):
        missing.setdefault(batch_id, (code, number, []))[2].append(str(EvidenceKind(kind).label))
    for batch_id, (code, number, kinds) in missing.items():
        yield WaitingItem(
            ngettext(
                "Upload %(count)d missing kind of evidence",
                "Upload %(count)d missing kinds of evidence",
                len(kinds),
            )
            % {"count": len(kinds)},
            _("Batch %(batch)s of PO %(order)s · the buyer requires: %(kinds)s")
            % {"batch": code, "order": number, "kinds": ", ".join(kinds)},
            reverse("batch-evidence", args=[batch_id]),
            count=len(kinds),
            kind="evidence_missing",
            icon="bi-cloud-upload",
        )
