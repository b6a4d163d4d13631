"""Approval and gate pages: the buyer drafts and signs on one page, finance sees every gate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.second_factor import factor_context, passkey_options_response
from approvals import services as approvals
from approvals.approval_form import (
    ApprovalForm,
    promise_proposals,
)
from approvals.forms import COMMON_CURRENCIES, GateForm
from approvals.models import Approval, Gate
from approvals.open_point_views import (
    open_point_rows,
)
from approvals.selectors import EarlyShipment, early_shipments
from evidence.models import Responsibility
from evidence.services import current_responsibilities
from orders.models import Batch, PurchaseOrder
from orders.promises import PROMISE_HELP, Promise, promises_split
from orders.selectors import batch_for, order_for, orders_visible_to
from portal.errors import Conflict, message_of
from portal.roles import (
    can_manage_orders,
    can_read_inspector_checks,
    is_buyer_side,
)
from portal.typing import AuthenticatedRequest


def _early_shipments(
    request: AuthenticatedRequest, order: PurchaseOrder, gates: Iterable[Gate]
) -> list[EarlyShipment]:
    """Units shipped before one of these shipment gates was released; the buyer's staff see
    them where they decide and release."""
    shipment_gates = {gate.pk for gate in gates if gate.kind == Gate.Kind.SHIPMENT_RELEASE}
    if not shipment_gates or not is_buyer_side(request.user):
        return []
    return [
        found
        for found in early_shipments(batches=order.batches.all())
        if found.gate.pk in shipment_gates
    ]


def _states(gates: Iterable[Gate], request: AuthenticatedRequest) -> list[tuple[Gate, Any]]:
    """Each gate's state; the reasons (finance's notes among them) only for the buyer's staff."""
    rows = []
    gates = list(gates)
    states = approvals.gate_states(gates)
    for gate in gates:
        state = states[gate.pk]
        if not is_buyer_side(request.user):
            state = approvals.GateState(state.state, "", state.approval)
        rows.append((gate, state))
    return rows


def _approvals_page(
    request: AuthenticatedRequest, order: PurchaseOrder, batch: Batch | None
) -> HttpResponse:
    """Draft, sign and list the approvals of one batch, or of the order as a whole (batch None).
    The form offers only what this scope may pin and only this scope's gates."""
    history = order.approvals.filter(batch=batch)
    gates = order.gates.filter(batch=batch)
    current = history.order_by("-id").first()
    can_sign = can_manage_orders(request.user)
    form = ApprovalForm(
        request.POST or None,
        # Only a signer sees the form; nobody else pays for (or glimpses) the candidates.
        candidates=_candidates(order, batch) if can_sign else [],
        gates=gates,
        owners=_owners(order) if can_sign else [],
        buyer_name=order.buyer.name,
        initial=_initial(request, current),
    )
    if request.method == "POST":
        if not can_sign:
            raise PermissionDenied
        if form.is_valid():
            try:
                approval = approvals.approval_sign(
                    user=request.user,
                    password=form.cleaned_data["password"],
                    request=request,
                    code=request.POST.get("code", ""),
                    passkey=request.POST.get("passkey", ""),
                    **_draft(form, order, batch, history),
                )
            except ValidationError as error:
                _refused(form, error)
            except Conflict as error:
                form.add_error(None, message_of(error))
            else:
                messages.success(request, "Approval signed.")
                return redirect("approval-detail", pk=approval.pk)
    options_url = (
        reverse("batch-approval-passkey", args=[batch.pk])
        if batch
        else reverse("order-approval-passkey", args=[order.pk])
    )
    return render(
        request,
        "approvals/batch_approvals.html",
        {
            "batch": batch,
            "order": order,
            "history": history.select_related("signature").prefetch_related("staleness"),
            "gates": _states(gates, request),
            "early_shipments": _early_shipments(request, order, gates),
            "form": form,
            "gate_form": _gate_form(request, order, batch) if can_sign else None,
            "currencies": COMMON_CURRENCIES,
            "can_sign": can_sign,
            "factor": factor_context(request.user, options_url) if can_sign else {},
            "proposals": promise_proposals() if can_sign else [],
        },
    )


def _owners(order: PurchaseOrder) -> list[Responsibility]:
    """Who may own an open point: the current parties of the order's responsibility map."""
    return sorted(current_responsibilities(order).values(), key=lambda row: row.role)


def _initial(request: AuthenticatedRequest, current: Approval | None) -> dict[str, Any]:
    """The form as the page opens it: the approval it would supersede, and the promises (and
    the sentence) a link may name (``?promises=identity&promises=shipment&sentence=…``)."""
    initial: dict[str, Any] = {"based_on": current.pk if current else None}
    named = [value for value in request.GET.getlist("promises") if value in Promise.values]
    if named:
        initial["promises"] = named
    if request.GET.get("sentence"):
        initial["sentence"] = request.GET["sentence"][:300]
    if request.GET.get("decision") in Approval.Decision.values:
        initial["decision"] = request.GET["decision"]
    if request.GET.get("conditions"):  # from the batch's review page
        initial["conditions"] = request.GET["conditions"][:2000]
    return initial


def _refused(form: ApprovalForm, error: ValidationError) -> None:
    """The service's refusal on the field it names (the form's own fields), else above it."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, message_of(error))


def _draft(
    form: ApprovalForm, order: PurchaseOrder, batch: Batch | None, history: QuerySet[Approval]
) -> approvals.Draft:
    """What the valid signing form asks to sign."""
    data = form.cleaned_data
    return approvals.Draft(
        order=order,
        batch=batch,
        promises=data["promises"],
        gate_reason=data["gate_reason"],
        open_points=data["open_points"],
        decision=data["decision"],
        sentence=data["sentence"],
        conditions=data["conditions"],
        keep_unchanged=data["keep_unchanged"],
        inspector_checks=data["inspector_checks"],
        pins=[(pin.split(":")[0], int(pin.split(":")[1])) for pin in data["pins"]],
        unlocks=data["unlocks"],
        based_on=history.filter(pk=data["based_on"]).first() if data["based_on"] else None,
    )


def _approval_passkey(
    request: AuthenticatedRequest, order: PurchaseOrder, batch: Batch | None
) -> HttpResponse:
    """The passkey challenge for the draft on the signing page: the SHA-256 of the manifest it
    would sign now, with a nonce. The password is not needed (nor checked) here."""
    if not can_manage_orders(request.user):
        raise PermissionDenied
    history = order.approvals.filter(batch=batch)
    form = ApprovalForm(
        request.POST,
        candidates=_candidates(order, batch),
        gates=order.gates.filter(batch=batch),
        owners=_owners(order),
        buyer_name=order.buyer.name,
    )
    form.fields["password"].required = False
    if not form.is_valid():
        return JsonResponse({"detail": "Check the form.", "form_errors": True}, status=400)
    draft = _draft(form, order, batch, history)
    try:
        _, manifest_hash = approvals.approval_manifest(user=request.user, draft=draft)
    except (ValidationError, Conflict) as error:
        return JsonResponse({"detail": message_of(error)}, status=400)
    target = f"batch {batch.code}" if batch else f"PO {order.number}"
    summary = f"“{draft['decision'].replace('_', ' ')}” for {target}"
    return passkey_options_response(request, binding=manifest_hash, purpose="sign", summary=summary)


@login_required
@require_POST
def batch_approval_passkey(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    batch = batch_for(request.user, pk)
    return _approval_passkey(request, batch.order, batch)


@login_required
@require_POST
def order_approval_passkey(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _approval_passkey(request, order_for(request.user, pk), None)


def _candidates(order: PurchaseOrder, batch: Batch | None) -> list[tuple[str, str]]:
    if batch is not None:
        return approvals.pin_candidates(batch)
    return [
        (value, f"Batch {each.code} · {label}")
        for each in order.batches.order_by("code")
        for value, label in approvals.pin_candidates(each)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def batch_approvals(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    batch = batch_for(request.user, pk)
    return _approvals_page(request, batch.order, batch)


@login_required
@require_http_methods(["GET", "POST"])
def order_approvals(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    order = order_for(request.user, pk)
    return _approvals_page(request, order, None)


# A gate form that did not validate, kept for the page it redirects to (post/redirect/get):
# the page shows it again with its errors and what was typed.
GATE_FORM_SESSION_KEY = "approvals.gate_form"


def _gate_create(request: AuthenticatedRequest, order: PurchaseOrder, batch: Batch | None) -> None:
    if not can_manage_orders(request.user):
        raise PermissionDenied
    form = GateForm(request.POST)
    if not form.is_valid():
        request.session[GATE_FORM_SESSION_KEY] = {
            "scope": _gate_scope(order, batch),
            "data": {name: request.POST.get(name, "")[:100] for name in form.fields},
        }
        messages.error(request, _("The gate was not added: check the form below the gates."))
        return
    try:
        approvals.gate_create(user=request.user, order=order, batch=batch, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, message_of(error)[:300])
    else:
        messages.success(request, _("Gate added; it stays blocked until an approval opens it."))


def _gate_scope(order: PurchaseOrder, batch: Batch | None) -> str:
    return f"batch:{batch.pk}" if batch else f"order:{order.pk}"


def _gate_form(
    request: AuthenticatedRequest, order: PurchaseOrder, batch: Batch | None
) -> GateForm:
    """A new gate form, or the one that did not validate on this page a moment ago. A new one
    suggests the currency the order's gates already use."""
    kept = request.session.pop(GATE_FORM_SESSION_KEY, None)
    if isinstance(kept, dict) and kept.get("scope") == _gate_scope(order, batch):
        form = GateForm(kept.get("data") or {})
        form.is_valid()
        return form
    currency = order.gates.exclude(currency="").values_list("currency", flat=True).first()
    return GateForm(initial={"currency": currency} if currency else None)


@login_required
@require_POST
def batch_gate_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    batch = batch_for(request.user, pk)
    _gate_create(request, batch.order, batch)
    return redirect("batch-approvals", pk=batch.pk)


@login_required
@require_POST
def order_gate_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    order = order_for(request.user, pk)
    _gate_create(request, order, None)
    return redirect("order-approvals", pk=order.pk)


def _approvals_visible_to(request: AuthenticatedRequest) -> QuerySet[Approval]:
    return Approval.objects.filter(order__in=orders_visible_to(request.user))


@login_required
@require_http_methods(["GET"])
def approval_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    approval = get_object_or_404(
        _approvals_visible_to(request).select_related("signature", "order", "batch"), pk=pk
    )
    return render(
        request,
        "approvals/approval_detail.html",
        {
            "approval": approval,
            "crumb": f"Approval #{approval.pk}",
            "order": approval.order,
            "batch": approval.batch,
            "pins": approval.pins.all(),
            "staleness": approval.staleness.all(),
            "gates": _states(approval.unlocks.all(), request),
            "early_shipments": _early_shipments(request, approval.order, approval.unlocks.all()),
            "intact": approvals.signature_intact(approval),
            "superseded_by": getattr(approval, "superseded_by", None),
            "can_read_inspector_checks": can_read_inspector_checks(request.user),
            "promises": promises_split(approval.promises),
            "promise_help": [
                (promise, PROMISE_HELP[promise]) for promise in promises_split(approval.promises)
            ],
            "conditions": [
                line.strip() for line in approval.conditions.splitlines() if line.strip()
            ],
            "open_points": open_point_rows(
                request, approval.open_points.select_related("closure__closed_by")
            ),
        },
    )


def batch_early_shipments_panel(request: HttpRequest, batch: Batch) -> SafeString:
    """The batch page's flags for units shipped before their shipment gate was released
    (registered in ``ApprovalsConfig.ready``; see ``portal.pages``); buyer's staff only."""
    if not is_buyer_side(request.user):
        return SafeString("")
    found = early_shipments(batches=[batch])
    if not found:
        return SafeString("")
    return render_to_string(
        "approvals/_early_shipments.html", {"early_shipments": found}, request=request
    )
