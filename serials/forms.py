from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from orders.models import Batch, PurchaseOrder
from orders.promises import promises_form_field
from portal.forms import BootstrapFormMixin
from portal.ids import parse_id, parse_ids
from serials.exception_models import ANSWER_REASONS
from serials.models import ExceptionDecision, NumberingRule, SerialList
from serials.services.answers import NOTE_MAX_CHARS, AnswerRow, DecisionRow


class SerialListUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("Serial list (CSV or XLSX)"), allow_empty_file=True)
    kind = forms.ChoiceField(
        choices=SerialList.Kind.choices, initial=SerialList.Kind.PRODUCTION, label=_("Kind")
    )


class NumberingRuleForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = NumberingRule
        fields = [
            "product",
            "kind",
            "prefix",
            "width",
            "check_digit",
            "warranty_months",
            "company_prefix_length",
            "note",
        ]

    def clean_prefix(self) -> str:
        return self.cleaned_data["prefix"].strip().upper()

    def validate_unique(self) -> None:
        """Saving a product's rule replaces the old one: not a uniqueness error."""


class ExceptionAnswerForm(BootstrapFormMixin, forms.Form):
    """The answer panel under the table: a reason and a note for the ticked rows that give none
    of their own, and one photo or PDF attached to every answer sent."""

    reason = forms.ChoiceField(
        label=_("Reason for the ticked rows"),
        choices=[("", _("Choose a reason…")), *ANSWER_REASONS],
        required=False,
    )
    note = forms.CharField(
        label=_("Note for the ticked rows"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=NOTE_MAX_CHARS,
        required=False,
    )
    attachment = forms.FileField(
        label=_("Photo or PDF for these answers (optional)"),
        required=False,
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.webp,.pdf"}),
    )


class ExceptionDecisionForm(BootstrapFormMixin, forms.Form):
    """The decision panel: what this review tests (one choice for every decision sent), and a
    decision and a note for the ticked rows that give none of their own."""

    promises = promises_form_field(label=_("What does this review test?"))
    decision = forms.ChoiceField(
        label=_("Decision for the ticked rows"),
        choices=[("", _("Choose…")), *ExceptionDecision.Decision.choices],
        required=False,
    )
    note = forms.CharField(
        label=_("Note to the supplier for the ticked rows"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=NOTE_MAX_CHARS,
        required=False,
    )


@dataclass
class RowInput:
    """What one row of the exceptions table holds in a submission: ticked or not, the choice
    made on the row (a reason, or a decision) and its note; ``error`` is what is wrong."""

    ticked: bool = False
    choice: str = ""
    note: str = ""
    error: str = ""
    seen: int | None = None  # the answer shown on the row when the buyer decided


def row_inputs(data: QueryDict, exception_ids: Iterable[int]) -> dict[int, RowInput]:
    """Each row's fields (``choice-<id>``, ``note-<id>``, the ticked ``exception`` boxes), read
    only for the ids the page shows: an id posted for any other exception is never read."""
    ticked = set(parse_ids(data.getlist("exception")))
    return {
        pk: RowInput(
            ticked=pk in ticked,
            choice=data.get(f"choice-{pk}", "").strip(),
            note=data.get(f"note-{pk}", "").strip(),
            seen=parse_id(data.get(f"seen-{pk}", "")),
        )
        for pk in exception_ids
    }


def chosen_rows(inputs: dict[int, RowInput]) -> list[int]:
    """The rows a submission acts on: ticked, or given a choice or a note of their own (a row
    filled in but not ticked is meant too: nothing typed is dropped)."""
    return [pk for pk, row in inputs.items() if row.ticked or row.choice or row.note]


def answer_rows(
    inputs: dict[int, RowInput], *, reason: str, note: str
) -> tuple[list[AnswerRow], dict[int, str]]:
    """The answers a submission gives, the panel's reason and note filling the rows that give
    none; and, by id, each row whose reason is missing or not one offered."""
    offered = {value for value, _label in ANSWER_REASONS}
    rows, problems = [], {}
    for pk in chosen_rows(inputs):
        row = inputs[pk]
        chosen = row.choice or reason
        if not chosen:
            problems[pk] = str(_("choose a reason."))
        elif chosen not in offered:
            problems[pk] = str(_("“%(reason)s” is not a reason code.") % {"reason": chosen})
        rows.append(AnswerRow(pk, chosen, row.note or note))
    return rows, problems


def decision_rows(
    inputs: dict[int, RowInput], *, decision: str, note: str
) -> tuple[list[DecisionRow], dict[int, str]]:
    """The decisions a submission gives, the panel's decision and note filling the rows that
    give none; and, by id, each row left without a decision."""
    rows, problems = [], {}
    for pk in chosen_rows(inputs):
        row = inputs[pk]
        chosen = row.choice or decision
        if chosen not in ExceptionDecision.Decision.values:
            problems[pk] = str(_("choose accept or reject."))
        rows.append(DecisionRow(pk, chosen, row.note or note, answer_id=row.seen))
    return rows, problems


class AllocatedRangeForm(BootstrapFormMixin, forms.Form):
    batch: forms.ModelChoiceField[Batch] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="The whole order", label="For"
    )
    first_serial = forms.CharField(max_length=64)
    last_serial = forms.CharField(max_length=64)

    def __init__(self, *args: object, order: PurchaseOrder, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["batch"]).queryset = order.batches.all()


class AllocatedCodeListForm(BootstrapFormMixin, forms.Form):
    batch: forms.ModelChoiceField[Batch] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="The whole order", label="For"
    )
    file = forms.FileField(
        label="Allocated codes (CSV or XLSX, one code per row)", allow_empty_file=True
    )

    def __init__(self, *args: object, order: PurchaseOrder, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["batch"]).queryset = order.batches.all()
