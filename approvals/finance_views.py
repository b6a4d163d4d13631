"""Finance's pages: the board of every gate with its money, its CSV, the release confirmation,
a gate's payments and their documents."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_tables2 import RequestConfig  # type: ignore[import-untyped]

from accounts.second_factor import factor_context, passkey_options_response
from approvals import services as approvals
from approvals.charts import SEGMENTS, money_chart
from approvals.explain import pending_requests
from approvals.filters import GateFilter
from approvals.forms import (
    COMMON_CURRENCIES,
    GateReleaseForm,
    PaymentForm,
    money_sentence,
    payment_initial,
)
from approvals.models import Gate, Payment
from approvals.money import GateMoney, gates_money, money_totals
from approvals.tables import GateTable
from approvals.views import _early_shipments
from orders.selectors import orders_visible_to
from portal.errors import Conflict, message_of
from portal.exports import csv_response
from portal.ids import parse_id
from portal.roles import can_move_money, is_buyer_side
from portal.typing import AuthenticatedRequest

BOARD_PAGE_SIZE = 50
# The sort orders offered beside the filters (on a phone the table has no headers to click).
SORTS = [
    ("", _lazy("Order and gate")),
    ("due_date", _lazy("Due date, soonest first")),
    ("-outstanding", _lazy("Outstanding, largest first (per currency)")),
    ("-amount", _lazy("Amount due, largest first (per currency)")),
    ("state", _lazy("State")),
]


def _board(request: AuthenticatedRequest) -> tuple[GateFilter, list[GateMoney]]:
    """The gates the caller may see, filtered as asked, each with its state and money. The
    number of queries does not grow with the number of gates."""
    if not is_buyer_side(request.user):
        raise PermissionDenied
    orders = orders_visible_to(request.user)
    visible = Gate.objects.filter(order__in=orders).select_related(
        "order", "order__supplier", "batch"
    )
    facts = {fact.gate.pk: fact for fact in gates_money(visible.order_by("order__number", "id"))}
    # A written request pending on an unreleased gate: the answer is due before the money moves.
    pending = pending_requests(fact.gate for fact in facts.values() if not fact.released)
    facts = {
        pk: replace(fact, pending_requests=tuple(pending.get(pk, ()))) for pk, fact in facts.items()
    }
    filterset = GateFilter(request.GET or None, queryset=visible, orders=orders, facts=facts)
    wanted = set(filterset.qs.values_list("pk", flat=True))
    return filterset, [fact for pk, fact in facts.items() if pk in wanted]


@login_required
@require_http_methods(["GET"])
def finance_board(request: AuthenticatedRequest) -> HttpResponse:
    """Every gate across the buyer's orders: its money, what it waits for, and its release."""
    filterset, rows = _board(request)
    can_release = can_move_money(request.user)
    table = GateTable(rows, can_release=can_release)
    RequestConfig(request, paginate=False).configure(table)  # the sort asked for
    pages = max(1, -(-len(rows) // BOARD_PAGE_SIZE))
    table.paginate(
        page=min(parse_id(request.GET.get("page")) or 1, pages), per_page=BOARD_PAGE_SIZE
    )
    totals = money_totals(rows)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "approvals/finance_board.html",
        {
            "filter": filterset,
            "table": table,
            "totals": totals,
            "charts": money_chart(totals),
            "legend": SEGMENTS,
            "gate_count": len(rows),
            "overdue_count": sum(row.overdue for row in rows),
            "flagged_count": sum(bool(row.paid_before_release) for row in rows),
            "csv_query": query.urlencode(),
            "sort": request.GET.get("sort", ""),
            "sorts": SORTS,
            "filtered": any(value for key, value in request.GET.items() if key != "page"),
            "can_release": can_release,
        },
    )


CSV_HEADER = [
    "order",
    "batch",
    "gate",
    "supplier",
    "currency",
    "amount_due",
    "paid",
    "outstanding",
    "paid_in_other_currencies",
    "due_date",
    "overdue",
    "state",
    "released_by",
    "released_at_utc",
    "paid_before_release",
    "paid_while_blocked",
    "waiting_for_or_reason",
]


def _csv_rows(rows: list[GateMoney]) -> Iterator[list[object]]:
    """Amounts as plain decimals (12500.00) so a spreadsheet reads them as numbers."""
    for row in rows:
        gate, release = row.gate, row.release
        flagged = row.paid_before_release_total
        yield [
            gate.order.number,
            gate.batch.code if gate.batch else "",
            gate.get_kind_display(),
            gate.order.supplier.name,
            row.currency,
            row.amount if row.amount is not None else "",
            row.paid if row.amount is not None else "",
            row.outstanding if row.outstanding is not None else "",
            " ".join(f"{c} {a}" for c, a in sorted(row.paid_elsewhere.items())),
            row.due_date.isoformat() if row.due_date else "",
            "yes" if row.overdue else "no",
            row.state.state,
            release.released_by.printed_name if release else "",
            release.released_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M")
            if release
            else "",
            " ".join(f"{c} {a}" for c, a in sorted(flagged.items())),
            "yes" if row.paid_while_blocked else "no",
            row.state.reason,
        ]


@login_required
@require_http_methods(["GET"])
def finance_board_csv(request: AuthenticatedRequest) -> HttpResponse:
    """The board's gates as filtered, with their money, for a spreadsheet."""
    _, rows = _board(request)
    return csv_response("gates.csv", CSV_HEADER, _csv_rows(rows))


def _gate_for_release(request: AuthenticatedRequest, pk: int) -> Gate:
    gate = get_object_or_404(
        Gate.objects.filter(order__in=orders_visible_to(request.user)).select_related(
            "order", "batch", "order__supplier"
        ),
        pk=pk,
    )
    if not can_move_money(request.user):
        raise PermissionDenied
    return gate


@login_required
@require_http_methods(["GET", "POST"])
def gate_release(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A confirmation page: releasing moves money or goods, so it is never one stray click."""
    gate = _gate_for_release(request, pk)
    [fact] = gates_money([gate])
    state = fact.state
    blocked = state.state == Gate.State.BLOCKED
    data = request.POST if request.method == "POST" else None  # an empty POST is unconfirmed
    form = GateReleaseForm(data, gate=gate, blocked=blocked)
    if request.method == "POST" and form.is_valid():
        try:
            approvals.gate_release(
                gate=gate,
                user=request.user,
                request=request,
                reason=form.cleaned_data.get("reason", ""),
                code=request.POST.get("code", ""),
                passkey=request.POST.get("passkey", ""),
            )
        except (ValidationError, Conflict) as error:
            form.add_error(None, message_of(error))
        else:
            messages.success(request, _("%(gate)s released.") % {"gate": gate})
            return redirect("finance-board")
    return render(
        request,
        "approvals/gate_release.html",
        {
            "gate": gate,
            "order": gate.order,
            "state": state,
            "fact": fact,
            "sentence": money_sentence(fact),
            "blocked": blocked,
            "form": form,
            "factor": factor_context(request.user, reverse("gate-release-passkey", args=[gate.pk])),
        },
    )


@login_required
@require_POST
def gate_release_passkey(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The passkey challenge for releasing this gate: the SHA-256 of the release's statement
    (the gate, its order, its money, its state now and the reason written), with a nonce."""
    gate = _gate_for_release(request, pk)
    form = GateReleaseForm(
        request.POST, gate=gate, blocked=approvals.gate_state(gate).state == Gate.State.BLOCKED
    )
    if not form.is_valid():
        return JsonResponse({"detail": "Check the form.", "form_errors": True}, status=400)
    _, statement_hash = approvals.release_statement(
        gate=gate, reason=form.cleaned_data.get("reason", "")
    )
    return passkey_options_response(
        request,
        binding=statement_hash,
        purpose="release",
        summary=f"the release of {gate} of PO {gate.order.number}",
    )


def _internal_gates(request: AuthenticatedRequest) -> QuerySet[Gate]:
    """Payments are the buyer's internal business: anyone else gets 404, as for a foreign id."""
    if not is_buyer_side(request.user):
        raise Http404("No such gate.")
    return Gate.objects.filter(order__in=orders_visible_to(request.user))


@login_required
@require_http_methods(["GET", "POST"])
def gate_payments(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    gate = get_object_or_404(
        _internal_gates(request).select_related("order", "order__supplier", "batch"), pk=pk
    )
    [fact] = gates_money([gate])
    form = PaymentForm(
        request.POST or None,
        request.FILES or None,
        initial=payment_initial(fact, today=timezone.localdate()),
    )
    can_record = can_move_money(request.user)
    if request.method == "POST":
        if not can_record:
            raise PermissionDenied
        if form.is_valid():
            try:
                approvals.payment_record(gate=gate, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, message_of(error))
            else:
                messages.success(request, _("Payment recorded."))
                return redirect("gate-payments", pk=gate.pk)
    return render(
        request,
        "approvals/gate_payments.html",
        {
            "gate": gate,
            "order": gate.order,
            "batch": gate.batch,
            "state": fact.state,
            "fact": fact,
            "early_shipments": _early_shipments(request, gate.order, [gate]),
            "payments": gate.payments.select_related("recorded_by"),
            "form": form,
            "can_record": can_record,
            "currencies": COMMON_CURRENCIES,
        },
    )


@login_required
@require_http_methods(["GET"])
def payment_document(request: AuthenticatedRequest, pk: int) -> FileResponse:
    if not is_buyer_side(request.user):
        raise Http404("No such payment.")
    payment = get_object_or_404(
        Payment.objects.filter(gate__order__in=orders_visible_to(request.user)), pk=pk
    )
    if not default_storage.exists(payment.document.name):
        raise Http404("The document is not available.")
    response = FileResponse(
        default_storage.open(payment.document.name, "rb"),
        as_attachment=True,
        filename=payment.document_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
