from __future__ import annotations

from typing import cast

from django import forms

from orders.models import Batch, PurchaseOrder
from portal.forms import BootstrapFormMixin
from serials.models import ExceptionDecision, NumberingRule, SerialException, SerialList


class SerialListUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label="Serial list (CSV or XLSX)", allow_empty_file=True)
    kind = forms.ChoiceField(choices=SerialList.Kind.choices, initial=SerialList.Kind.PRODUCTION)


class NumberingRuleForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = NumberingRule
        fields = ["product", "kind", "prefix", "width", "check_digit", "warranty_months", "note"]

    def clean_prefix(self) -> str:
        return self.cleaned_data["prefix"].strip().upper()

    def validate_unique(self) -> None:
        """Saving a product's rule replaces the old one: not a uniqueness error."""


class ExceptionAnswerForm(BootstrapFormMixin, forms.Form):
    reason = forms.ChoiceField(choices=SerialException.Reason.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class ExceptionDecisionForm(BootstrapFormMixin, forms.Form):
    decision = forms.ChoiceField(choices=ExceptionDecision.Decision.choices)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=4000, required=False
    )


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
