"""Approval and gate pages: the buyer drafts and signs on one page, finance sees every gate."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.second_factor import factor_context, passkey_options_response
from approvals import services as approvals
from approvals.forms import COMMON_CURRENCIES, GateForm
from approvals.models import Approval, Gate, OpenPoint, OpenPointClosure
from approvals.promises import GATE_PROMISES, PROPOSALS, candidate_promises, gate_promises
from approvals.selectors import EarlyShipment, early_shipments
from evidence.models import Responsibility
from evidence.services import current_responsibilities
from orders.models import Batch, PurchaseOrder
from orders.promises import PROMISE_HELP, Promise, promises_form_field, promises_split
from orders.selectors import batch_for, order_for, orders_visible_to
from portal.errors import Conflict, message_of
from portal.forms import BootstrapFormMixin, date_input
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


class ProposedCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes whose options say which promises propose them (``data-promises``), and mark
    those the promises ticked now propose (``data-proposed``): static/js/portal.js keeps the
    marks (and the ticks it made) in step with the promises as they are ticked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.proposed_by: dict[str, list[str]] = {}
        self.ticked: set[str] = set()

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(*args, **kwargs)
        promises = self.proposed_by.get(str(option["value"]), [])
        if promises:
            option["attrs"]["data-promises"] = " ".join(promises)
            if self.ticked & set(promises):
                option["attrs"]["data-proposed"] = ""
        return option


# Rows for the open points of an approval accepted with conditions (empty rows are left out).
OPEN_POINT_ROWS = 3
BUYER_OWNER = "buyer"


class ApprovalForm(BootstrapFormMixin, forms.Form):
    promises = promises_form_field(label=gettext_lazy("What does this approval test?"))
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
        widget=ProposedCheckboxes,
        label="What you reviewed (the approval covers only this)",
    )
    unlocks = BoundedModelMultipleChoiceField(
        queryset=Gate.objects.none(),
        widget=ProposedCheckboxes,
        required=False,
        label="Gates this decision opens",
    )
    gate_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label=gettext_lazy("Why it opens a gate its promises do not cover"),
        help_text=gettext_lazy(
            "Needed only then. A deposit, balance or extra fee is covered by payment leverage; "
            "a shipment release by shipment evidence or product identity."
        ),
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
        owners: list[Responsibility] | None = None,
        buyer_name: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._open_point_fields(owners or [], buyer_name)
        ticked = set(self._ticked_promises())
        pins_widget = cast(ProposedCheckboxes, self.fields["pins"].widget)
        pins_widget.proposed_by = candidate_promises(value for value, _label in candidates)
        pins_widget.ticked = ticked
        if not self.is_bound and ticked:  # a link named the promises: propose their records
            self.initial["pins"] = [
                value
                for value, promises in pins_widget.proposed_by.items()
                if ticked & set(promises)
            ]
        gates_widget = cast(ProposedCheckboxes, self.fields["unlocks"].widget)
        gates_widget.proposed_by = {str(pk): found for pk, found in gate_promises(gates).items()}
        gates_widget.ticked = ticked
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
        # The password last, after the open points.
        self.fields["password"] = self.fields.pop("password")

    def _ticked_promises(self) -> list[str]:
        if not self.is_bound:
            return list(self.initial.get("promises") or [])
        data = self.data
        return list(
            data.getlist("promises") if hasattr(data, "getlist") else data.get("promises") or []
        )

    def _open_point_fields(self, owners: list[Responsibility], buyer_name: str) -> None:
        """Rows of open point fields: what, its owner (a party of the responsibility map, or
        the buyer), when it is due, and whether the gates wait on it."""
        self.owners = {str(owner.pk): owner for owner in owners}
        choices = [("", _("Choose the owner…"))]
        choices += [
            (str(owner.pk), f"{owner.party_name} ({owner.get_role_display()})") for owner in owners
        ]
        choices.append((BUYER_OWNER, buyer_name or _("The buyer")))
        for row in range(1, OPEN_POINT_ROWS + 1):
            # Added after BootstrapFormMixin styled the declared fields: styled here.
            self.fields[f"open_point_{row}_text"] = forms.CharField(
                max_length=500,
                required=False,
                label=_("Open point %(row)s") % {"row": row},
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )
            self.fields[f"open_point_{row}_owner"] = forms.ChoiceField(
                choices=choices,
                required=False,
                label=_("Owner"),
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            self.fields[f"open_point_{row}_due_on"] = forms.DateField(
                required=False, label=_("Due on"), widget=date_input(**{"class": "form-control"})
            )
            self.fields[f"open_point_{row}_blocks"] = forms.BooleanField(
                required=False, label=_("The gates wait on it")
            )

    def open_point_rows(self) -> list[list[forms.BoundField]]:
        """The open point fields, row by row (the template lays them out)."""
        return [
            [self[f"open_point_{row}_{part}"] for part in ("text", "owner", "due_on", "blocks")]
            for row in range(1, OPEN_POINT_ROWS + 1)
        ]

    def main_fields(self) -> list[forms.BoundField]:
        """The visible fields but the open points' and the password."""
        return [
            field
            for field in self.visible_fields()
            if not field.name.startswith("open_point_") and field.name != "password"
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        points = []
        for row in range(1, OPEN_POINT_ROWS + 1):
            text = (data.get(f"open_point_{row}_text") or "").strip()
            owner = data.get(f"open_point_{row}_owner") or ""
            due_on = data.get(f"open_point_{row}_due_on")
            if not text:
                if owner or due_on or data.get(f"open_point_{row}_blocks"):
                    self.add_error(f"open_point_{row}_text", _("Say what the open point is."))
                continue
            if not owner:
                self.add_error(f"open_point_{row}_owner", _("Choose who owns the open point."))
            if due_on is None:
                self.add_error(f"open_point_{row}_due_on", _("Give the date it is due."))
            if owner and due_on is not None:
                points.append(
                    approvals.OpenPointDraft(
                        text=text,
                        owner=None if owner == BUYER_OWNER else self.owners.get(owner),
                        due_on=due_on,
                        blocks_gates=bool(data.get(f"open_point_{row}_blocks")),
                    )
                )
        data["open_points"] = points
        return data


def promise_proposals() -> list[tuple[str, str, list[str], str]]:
    """Each promise, what its review tests, the kinds of record proposed for it and what to
    read beside them: the signing form's guide."""
    from approvals.models import ApprovalPin
    from evidence.models import EvidenceKind

    rows = []
    for value in Promise.values:
        proposal = PROPOSALS[value]
        kinds = [
            str(ApprovalPin.Kind(kind).label)
            for kind in ApprovalPin.Kind.values
            if kind in proposal.pins
        ]
        kinds += [
            _("evidence: %(kind)s") % {"kind": str(EvidenceKind(kind).label).lower()}
            for kind in EvidenceKind.values
            if kind in proposal.evidence
        ]
        kinds += [
            _("the %(gate)s gate") % {"gate": str(Gate.Kind(kind).label).lower()}
            for kind in Gate.Kind.values
            if value in GATE_PROMISES[kind]
        ]
        rows.append((value, str(Promise(value).label), kinds, str(proposal.also)))
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
            "open_points": _open_point_rows(
                request, approval.open_points.select_related("closure__closed_by")
            ),
        },
    )


@dataclass(frozen=True)
class OpenPointRow:
    """An open point as a page lists it: open, overdue or closed (with its closure)."""

    point: OpenPoint
    state: str
    closure: OpenPointClosure | None
    can_close: bool


def _open_point_rows(
    request: AuthenticatedRequest, points: Iterable[OpenPoint]
) -> list[OpenPointRow]:
    rows = []
    today = timezone.localdate()
    for point in points:
        closure = getattr(point, "closure", None)
        if closure is not None:
            state = "closed"
        elif point.due_on < today:
            state = "overdue"
        else:
            state = "open"
        can_close = closure is None and approvals.can_close(request.user, point)
        rows.append(OpenPointRow(point, state, closure, can_close))
    return rows


class OpenPointCloseForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        label=gettext_lazy("How was it settled?"),
    )
    record = forms.ChoiceField(
        required=False,
        label=gettext_lazy("The record that closes it"),
        help_text=gettext_lazy(
            "An evidence item or a statement of the approval's batch; upload or write it first."
        ),
    )

    def __init__(self, *args: Any, records: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["record"]).choices = [
            ("", _("No record: the note says it all")),
            *records,
        ]


@login_required
@require_http_methods(["GET", "POST"])
def open_point_close(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Close one open point with a note and the record that closes it: the buyer any, the
    supplier those owned by a party of its responsibility map."""
    point = get_object_or_404(approvals.open_points_visible_to(request.user), pk=pk)
    if not approvals.can_close(request.user, point):
        raise PermissionDenied
    form = OpenPointCloseForm(request.POST or None, records=approvals.closing_records(point))
    closure = getattr(point, "closure", None)
    if request.method == "POST" and closure is None and form.is_valid():
        try:
            approvals.open_point_close(
                point=point,
                user=request.user,
                note=form.cleaned_data["note"],
                record=form.cleaned_data["record"],
            )
        except (ValidationError, Conflict) as error:
            form.add_error(None, message_of(error))
        else:
            messages.success(request, _("Open point closed."))
            return redirect("approval-detail", pk=point.approval_id)
    return render(
        request,
        "approvals/open_point_close.html",
        {
            "point": point,
            "row": _open_point_rows(request, [point])[0],
            "approval": point.approval,
            "order": point.approval.order,
            "batch": point.approval.batch,
            "form": form,
            "closure": closure,
            "crumb": _("Close an open point"),
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
