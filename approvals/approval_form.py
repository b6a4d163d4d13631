"""The approval form: the promise under test first, what it proposes to pin, the pins, the
gates, the open points and the signature's password."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from approvals import services as approvals
from approvals.models import Approval, Gate
from approvals.promises import GATE_PROMISES, PROPOSALS, candidate_promises, gate_promises
from evidence.models import Responsibility
from orders.promises import Promise, promises_form_field
from portal.forms import BootstrapFormMixin, date_input


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Ids that cannot be database keys are a form error, not a database error."""

    def _check_values(self, value: Any) -> Any:
        if any(not str(pk).isascii() or not str(pk).isdigit() or len(str(pk)) > 18 for pk in value):
            raise ValidationError("Choose gates from the list.", code="invalid_choice")
        # django-stubs leaves out the private ModelMultipleChoiceField._check_values it overrides.
        return super()._check_values(value)  # type: ignore[misc]


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
