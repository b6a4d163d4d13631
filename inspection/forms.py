"""The inspection pages' forms: plan a sample, record a unit's result, a blocked step, a
carton's scans."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from inspection import sampling
from inspection.models import BlockedStep, InspectionPlan
from portal.forms import BootstrapFormMixin


class PlanForm(BootstrapFormMixin, forms.Form):
    level = forms.ChoiceField(
        choices=InspectionPlan.Level.choices, initial="II", label="Inspection level"
    )
    aql = forms.ChoiceField(
        choices=[(value, value) for value in sampling.AQL_VALUES],
        initial="1.0",
        label="AQL (acceptance quality limit, % defective)",
    )
    lot_size = forms.IntegerField(
        min_value=2,
        max_value=10**9,
        required=False,
        label="Lot size",
        help_text="Leave empty to use the number of serials in the latest production list.",
    )
    note = forms.CharField(max_length=300, required=False)


class ResultForm(BootstrapFormMixin, forms.Form):
    """One sampled unit's result. The carton comes prefilled from the carton list: the
    inspector confirms it with the "Carton matches" button and types it only when it differs.
    Which button was pressed (``ACTIONS``) is read by the view."""

    method = forms.ChoiceField(
        choices=[("scanned", _("Scanned")), ("typed", _("Typed"))],
        initial="scanned",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        label=_("How the label was read"),
    )
    label_text = forms.CharField(
        max_length=500,
        required=False,
        label=_("Label as read"),
        help_text=_("Scan it into this box, or type it: plain serial, GS1 code or Digital Link."),
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "data-label-input": ""}
        ),
    )
    photo = forms.ImageField(
        required=False,
        label=_("…or a photo of the label"),
        help_text=_("The barcode on the photo is decoded (DataMatrix, QR, Code 128, EAN)."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    carton_found = forms.CharField(
        max_length=64,
        required=False,
        label=_("Carton it was found in"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-carton-input": ""}),
    )
    defects = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Defects or a note (leave empty if none)"),
    )


# The form's buttons: what each records (see ``services.unit_result_record``).
ACTIONS: dict[str, dict[str, Any]] = {
    "carton_matches": {"carton_confirmed": True},
    "record": {},
    "not_found": {"method": "not_found"},
    "skip": {"method": "skipped"},
}


class BlockedStepForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = BlockedStep
        fields = ["step", "blocked_by", "reason"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 2})}


class CartonScanForm(BootstrapFormMixin, forms.Form):
    carton = forms.CharField(max_length=64, label="Carton opened")
    labels = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off"}),
        label="Labels found in it, one per line (scan one after another)",
    )
