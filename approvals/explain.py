"""Explain in writing before money moves.

When a batch has an exception not decided yet and a gate of that batch, or of its order, falls
due within ``settings.EXPLAIN_BEFORE_GATE_DAYS`` days (or is overdue) and is not released, the
buyer is offered a written request to the supplier: the batch's request form, prefilled through
its GET parameters (``evidence.forms.request_prefill``) with a subject, a question listing the
open exceptions, a due date the day before the gate's (today, for a gate already due) and the
promise it tests, payment leverage. The offer stands until such a request is pending on the gate:
an open request (no statement yet) on the batch, due by that date. Finance sees the same pending
requests on the gate (``pending_requests``). Reads only, in a fixed handful of queries."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, OuterRef, Subquery, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from approvals.models import Gate
from evidence.models import EvidenceRequest
from orders.models import Batch, PurchaseOrder
from orders.promises import Promise
from orders.selectors import orders_visible_to
from portal.models import User
from serials.models import SerialException, SerialList
from serials.selectors import exceptions_visible_to

FINISHED = [PurchaseOrder.Status.CLOSED, PurchaseOrder.Status.CANCELLED]
# How many open exceptions the prefilled question names (the rest are counted).
NAMED_IN_QUESTION = 10


def request_due_on(gate: Gate, today: datetime.date) -> datetime.date:
    """The day a request must be answered by to be read before the gate falls due: the day
    before it, or today for a gate due today or overdue."""
    assert gate.due_date is not None
    return max(gate.due_date - datetime.timedelta(days=1), today)


def _requests_scope(gates: Iterable[Gate]) -> dict[int, list[EvidenceRequest]]:
    """The open requests (no statement yet) on the orders of these gates, by order."""
    found: dict[int, list[EvidenceRequest]] = defaultdict(list)
    order_ids = {gate.order_id for gate in gates}
    if not order_ids:
        return found
    for asked in (
        EvidenceRequest.objects.filter(batch__order_id__in=order_ids, statements__isnull=True)
        .select_related("batch")
        .order_by("due_on", "id")
    ):
        found[asked.batch.order_id].append(asked)
    return found


def _pending(
    gate: Gate, requests: list[EvidenceRequest], today: datetime.date
) -> list[EvidenceRequest]:
    if gate.due_date is None:
        return []
    by = request_due_on(gate, today)
    return [
        asked
        for asked in requests
        if (gate.batch_id is None or asked.batch_id == gate.batch_id) and asked.due_on <= by
    ]


def pending_requests(
    gates: Iterable[Gate], *, today: datetime.date | None = None
) -> dict[int, list[EvidenceRequest]]:
    """For each unreleased gate with a due date, the written requests pending on it: open
    requests on its batch (on any batch of its order, for an order's gate) due by the day
    before it falls due. One query."""
    today = today or timezone.localdate()
    gates = [gate for gate in gates if gate.due_date is not None]
    requests = _requests_scope(gates)
    return {gate.pk: _pending(gate, requests[gate.order_id], today) for gate in gates}


@dataclass(frozen=True)
class ExplainOffer:
    """A gate falling due on a batch with exceptions not decided: the request to offer."""

    gate: Gate
    batch: Batch
    undecided: int
    summaries: list[str] = field(default_factory=list)
    due_on: datetime.date = datetime.date.min

    @property
    def subject(self) -> str:
        return _("Explain the open exceptions of batch %(batch)s before %(gate)s") % {
            "batch": self.batch.code,
            "gate": str(self.gate.get_kind_display()).lower(),
        }

    @property
    def question(self) -> str:
        assert self.gate.due_date is not None
        lines = [
            ngettext(
                "Before %(gate)s falls due on %(due)s, please explain in writing the exception "
                "of batch %(batch)s that is not decided yet:",
                "Before %(gate)s falls due on %(due)s, please explain in writing the "
                "%(count)s exceptions of batch %(batch)s that are not decided yet:",
                self.undecided,
            )
            % {
                "gate": self.gate,
                "due": date_format(self.gate.due_date, "DATE_FORMAT"),
                "batch": self.batch.code,
                "count": self.undecided,
            }
        ]
        lines += [f"- {summary}" for summary in self.summaries]
        if self.undecided > len(self.summaries):
            lines.append(
                _("… and %(count)s more (the batch's exceptions page lists them all).")
                % {"count": self.undecided - len(self.summaries)}
            )
        lines.append(
            _("Say what happened to each, and send the records that show it; the payment waits.")
        )
        return "\n".join(lines)

    @property
    def url(self) -> str:
        query = urlencode(
            {
                "subject": self.subject,
                "question": self.question,
                "due_on": self.due_on.isoformat(),
                "promises": Promise.PAYMENT.value,
            }
        )
        return f"{reverse('batch-requests', args=[self.batch.pk])}?{query}"


def _latest_production_list() -> Subquery:
    return Subquery(
        SerialList.objects.filter(batch=OuterRef("batch_id"), kind=SerialList.Kind.PRODUCTION)
        .order_by("-id")
        .values("id")[:1]
    )


def explain_offers(
    user: User | AnonymousUser, *, today: datetime.date | None = None
) -> list[ExplainOffer]:
    """The written requests the buyer is offered: one per gate falling due (within
    ``EXPLAIN_BEFORE_GATE_DAYS`` days, or overdue) and batch of its scope with undecided
    exceptions, unless a request is pending on the gate for that batch already."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.EXPLAIN_BEFORE_GATE_DAYS)
    gates = list(
        Gate.objects.filter(
            order__in=orders_visible_to(user).exclude(status__in=FINISHED),
            due_date__isnull=False,
            due_date__lte=horizon,
            release__isnull=True,
        )
        .select_related("order", "batch")
        .order_by("due_date", "id")
    )
    if not gates:
        return []
    current = exceptions_visible_to(user).filter(
        batch__order_id__in={gate.order_id for gate in gates},
        serial_list_id=_latest_production_list(),
    )
    undecided = current.filter(status__in=SerialException.UNDECIDED)
    counts = {
        row["batch_id"]: row["count"]
        for row in undecided.values("batch_id").annotate(count=Count("id")).order_by()
    }
    if not counts:
        return []
    summaries: dict[int, list[str]] = defaultdict(list)
    for batch_id, summary in (
        undecided.filter(batch_id__in=counts)
        .annotate(row=Window(RowNumber(), partition_by=F("batch_id"), order_by=F("id").asc()))
        .filter(row__lte=NAMED_IN_QUESTION)
        .order_by("batch_id", "id")
        .values_list("batch_id", "summary")
    ):
        summaries[batch_id].append(summary)
    batches = {
        batch.pk: batch for batch in Batch.objects.filter(pk__in=counts).select_related("order")
    }
    requests = _requests_scope(gates)
    offers = []
    for gate in gates:
        scope = (
            [gate.batch_id]
            if gate.batch_id
            else sorted(pk for pk, batch in batches.items() if batch.order_id == gate.order_id)
        )
        pending = _pending(gate, requests[gate.order_id], today)
        for batch_id in scope:
            if batch_id not in counts or any(asked.batch_id == batch_id for asked in pending):
                continue
            offers.append(
                ExplainOffer(
                    gate=gate,
                    batch=batches[batch_id],
                    undecided=counts[batch_id],
                    summaries=summaries[batch_id],
                    due_on=request_due_on(gate, today),
                )
            )
    return offers
