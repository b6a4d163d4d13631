"""What the serials app puts in the inbox (``portal.dashboard``, registered in
``SerialsConfig.ready``): the buyer's answered exceptions to decide and serial lists ready to
accept; the supplier's exceptions to answer and answers the buyer rejected.

Counted as the batch's exceptions page counts them: the exceptions of each batch's latest
production list (``serials.selectors.current_exceptions``), by status, in one query for every
batch the caller sees."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orders.models import Batch
from orders.selectors import batches_visible_to
from portal.dashboard import WaitingItem
from portal.models import Role, User
from portal.roles import can_manage_orders, role_of
from serials.models import SerialCode, SerialException, SerialList, SerialRun
from serials.selectors import exceptions_visible_to

Status = SerialException.Status


def _latest_production_list() -> Subquery:
    """The id of the outer row's batch's latest production list (``latest_production_list``)."""
    return Subquery(
        SerialList.objects.filter(batch=OuterRef("batch_id"), kind=SerialList.Kind.PRODUCTION)
        .order_by("-id")
        .values("id")[:1]
    )


def current_exception_counts(user: User | AnonymousUser) -> QuerySet:
    """Per batch the caller sees and status: how many of its current exceptions have it."""
    return (
        exceptions_visible_to(user)
        .filter(serial_list_id=_latest_production_list())
        .values("batch_id", "batch__code", "batch__order__number", "status")
        .annotate(count=Count("id"))
        .order_by("batch__order__number", "batch__code", "status")
    )


def batches_ready_to_accept(user: User | AnonymousUser) -> QuerySet[Batch]:
    """Batches whose latest production list is validated, with no exception left open,
    unanswered or rejected, and not yet in the registry: ``batch_serial_status`` says clean or
    exceptions accepted (``can_be_accepted``)."""
    latest = Subquery(
        SerialList.objects.filter(batch=OuterRef("pk"), kind=SerialList.Kind.PRODUCTION)
        .order_by("-id")
        .values("id")[:1]
    )
    latest_list = OuterRef("latest_list")
    return (
        batches_visible_to(user)
        .annotate(latest_list=latest)
        .filter(
            Exists(
                SerialList.objects.filter(pk=OuterRef("latest_list"), status=SerialList.Status.DONE)
            )
        )
        .exclude(
            Exists(
                SerialException.objects.filter(serial_list=latest_list).exclude(
                    status=Status.ACCEPTED
                )
            )
        )
        .exclude(Exists(SerialRun.objects.filter(serial_list=latest_list, accepted=True)))
        .exclude(Exists(SerialCode.objects.filter(serial_list=latest_list, accepted=True)))
        .order_by("order__number", "code")
    )


def _exceptions_url(batch_id: int, status: str) -> str:
    return reverse("batch-exceptions", args=[batch_id]) + "?" + urlencode({"status": status})


def _where(row: dict) -> str:
    return _("Batch %(batch)s of PO %(order)s") % {
        "batch": row["batch__code"],
        "order": row["batch__order__number"],
    }


def waiting_on(user: User | AnonymousUser) -> Iterator[WaitingItem]:
    """Exceptions to decide and lists to accept (the buyer); exceptions to answer and
    rejected answers (the supplier)."""
    deciding = can_manage_orders(user)
    answering = role_of(user) == Role.SUPPLIER
    if not (deciding or answering):
        return
    for row in current_exception_counts(user):
        count, status = row["count"], row["status"]
        if deciding and status == Status.ANSWERED:
            yield WaitingItem(
                ngettext(
                    "Decide %(count)d answered exception",
                    "Decide %(count)d answered exceptions",
                    count,
                )
                % {"count": count},
                _where(row) + " · " + _("the supplier gave its reasons."),
                _exceptions_url(row["batch_id"], Status.ANSWERED),
                count=count,
                kind="exceptions_to_decide",
                icon="bi-ui-checks",
            )
        elif answering and status == Status.OPEN:
            yield WaitingItem(
                ngettext(
                    "Answer %(count)d serial exception",
                    "Answer %(count)d serial exceptions",
                    count,
                )
                % {"count": count},
                _where(row) + " · " + _("the buyer needs a reason for each gap or duplicate."),
                _exceptions_url(row["batch_id"], Status.OPEN),
                count=count,
                kind="exceptions_to_answer",
                icon="bi-chat-left-text",
            )
        elif answering and status == Status.REJECTED:
            yield WaitingItem(
                ngettext(
                    "%(count)d answer rejected by the buyer",
                    "%(count)d answers rejected by the buyer",
                    count,
                )
                % {"count": count},
                _where(row) + " · " + _("read the buyer's note and answer again."),
                _exceptions_url(row["batch_id"], Status.REJECTED),
                count=count,
                kind="answers_rejected",
                icon="bi-arrow-counterclockwise",
            )
    if deciding:
        for batch in batches_ready_to_accept(user):
            yield WaitingItem(
                _("Accept the serials of batch %(batch)s") % {"batch": batch.code},
                _("PO %(order)s · the serial list is validated and nothing is left open.")
                % {"order": batch.order.number},
                reverse("batch-exceptions", args=[batch.pk]),
                kind="serials_to_accept",
                icon="bi-check2-square",
            )
