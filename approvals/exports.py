"""Spreadsheets a person asks for beside the pages: every payment the buyer's staff may see,
and an order's approvals. Cells go through ``portal.exports`` (formula-safe)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from approvals.models import Approval, Payment
from orders.selectors import order_for, orders_visible_to
from portal.exports import csv_response
from portal.roles import is_buyer_side
from portal.typing import AuthenticatedRequest

PAYMENTS_HEADER = [
    "payment_id",
    "po",
    "gate",
    "kind",
    "amount",
    "currency",
    "payee",
    "paid_on",
    "gate_state_when_paid",
    "reason",
    "payee_named_in_file",
    "document_sha256",
    "recorded_by",
    "recorded_at_utc",
]
APPROVALS_HEADER = [
    "approval_id",
    "po",
    "batch",
    "decision",
    "promises",
    "sentence",
    "conditions",
    "gate_reason",
    "open_points",
    "signed_by",
    "signed_at_utc",
    "manifest_sha256",
    "stale_because",
    "opens_gates",
]


@login_required
@require_http_methods(["GET"])
def payments_csv(request: AuthenticatedRequest) -> HttpResponse:
    """Every payment on the caller's orders (internal to the buyer's staff, like the board)."""
    if not is_buyer_side(request.user):
        raise PermissionDenied
    payments = (
        Payment.objects.filter(gate__order__in=orders_visible_to(request.user))
        .select_related("gate__order", "gate__batch", "recorded_by")
        .order_by("id")
    )
    rows = (
        [
            p.pk,
            p.gate.order.number,
            str(p.gate),
            p.kind,
            f"{p.amount:.2f}",
            p.currency,
            p.payee,
            p.paid_on.isoformat(),
            p.gate_state,
            p.reason,
            "yes" if p.payee_named_in_file else "no",
            p.document_sha256,
            p.recorded_by.printed_name,
            p.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
        ]
        for p in payments.iterator()
    )
    return csv_response("payments.csv", PAYMENTS_HEADER, rows)


@login_required
@require_http_methods(["GET"])
def order_approvals_csv(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The order's approvals, newest last, as everyone who sees the order sees them."""
    order = order_for(request.user, pk)
    approvals = (
        Approval.objects.filter(order=order)
        .select_related("batch", "signature")
        .prefetch_related("staleness", "open_points__closure")
        .order_by("id")
    )
    rows = []
    for approval in approvals:
        signature = getattr(approval, "signature", None)
        stale = next(iter(approval.staleness.all()), None)
        rows.append(
            [
                approval.pk,
                order.number,
                approval.batch.code if approval.batch else "",
                approval.decision,
                approval.promises.replace(",", " "),
                approval.sentence,
                approval.conditions,
                approval.gate_reason,
                "; ".join(
                    f"{point.text} ({point.owner_label}, due {point.due_on.isoformat()}, "
                    f"{'closed' if point.closing else 'open'})"
                    for point in approval.open_points.all()
                ),
                signature.printed_name if signature else "",
                signature.signed_at.strftime("%Y-%m-%d %H:%M:%S") if signature else "",
                approval.manifest_sha256,
                stale.reason if stale else "",
                "; ".join(gate["gate"] for gate in approval.manifest.get("unlocks", [])),
            ]
        )
    return csv_response(f"approvals-PO-{order.number}.csv", APPROVALS_HEADER, rows)
