"""Approval and gate pages: the buyer drafts and signs on one page, finance sees every gate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
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
from approvals.forms import COMMON_CURRENCIES, GateForm
from approvals.models import Approval, Gate
from approvals.selectors import EarlyShipment, early_shipments
from orders.models import Batch, PurchaseOrder
from orders.selectors import batch_for, order_for, orders_visible_to
from portal.errors import Conflict, message_of
from portal.forms import BootstrapFormMixin
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


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Ids that cannot be database keys are a form error, not a database error."""

    def _check_values(self, value: Any) -> Any:
        if any(not str(pk).isascii() or not str(pk).isdigit() or len(str(pk)) > 18 for pk in value):
            raise ValidationError("Choose gates from the list.", code="invalid_choice")
        # django-stubs leaves out the private ModelMultipleChoiceField._check_values it overrides.
        return super()._check_values(value)  # type: ignore[misc]


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


class ApprovalForm(BootstrapFormMixin, forms.Form):
    decision = forms.ChoiceField(choices=Approval.Decision.choices)
    sentence = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),  # the whole sentence in view while signing
        label="The decision in one sentence",
    )
    conditions = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    keep_unchanged = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="What the supplier must keep unchanged",
    )
    inspector_checks = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="What the inspector must check",
    )
    pins = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="What you reviewed (the approval covers only this)",
    )
    unlocks = BoundedModelMultipleChoiceField(
        queryset=Gate.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Gates this decision opens",
    )
    based_on = forms.IntegerField(widget=forms.HiddenInput, required=False)
    password = forms.CharField(
        widget=forms.PasswordInput,
        label="Your password, to sign",
        help_text="Signing records your printed name, the time, the meaning of the signature "
        "and the second factor that confirmed it.",
    )

    def __init__(
        self,
        *args: Any,
        candidates: list[tuple[str, str]],
        gates: QuerySet[Gate],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["pins"]).choices = candidates
        if not candidates:
            self.fields["pins"].help_text = (
                "Nothing here can be pinned yet: an approval covers evidence, a serial report, "
                "statements or exceptions, and none is on file."
            )
        cast(BoundedModelMultipleChoiceField, self.fields["unlocks"]).queryset = gates
        if not gates.exists():
            self.fields[
                "unlocks"
            ].help_text = (
                "No gates here yet: add one on the left, or sign a decision that opens nothing."
            )


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
        initial={"based_on": current.pk if current else None},
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
            except (ValidationError, Conflict) as error:
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
        },
    )


def _draft(
    form: ApprovalForm, order: PurchaseOrder, batch: Batch | None, history: QuerySet[Approval]
) -> approvals.Draft:
    """What the valid signing form asks to sign."""
    data = form.cleaned_data
    return approvals.Draft(
        order=order,
        batch=batch,
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
        request.POST, candidates=_candidates(order, batch), gates=order.gates.filter(batch=batch)
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
