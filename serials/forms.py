from django import forms

from portal.forms import BootstrapFormMixin
from serials import lookup
from serials.models import ExceptionDecision, NumberingRule, SerialException, SerialList


class SerialListUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label="Serial list (CSV or XLSX)")
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
    batch = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="The whole order", label="For"
    )
    first_serial = forms.CharField(max_length=64)
    last_serial = forms.CharField(max_length=64)

    def __init__(self, *args: object, order: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["batch"].queryset = order.batches.all()  # type: ignore[attr-defined]


class AllocatedCodeListForm(BootstrapFormMixin, forms.Form):
    batch = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="The whole order", label="For"
    )
    file = forms.FileField(label="Allocated codes (CSV or XLSX, one code per row)")

    def __init__(self, *args: object, order: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["batch"].queryset = order.batches.all()  # type: ignore[attr-defined]


class SerialLookupForm(forms.Form):
    serial = forms.CharField(
        label="Serial, GS1 element string or Digital Link",
        max_length=lookup.TEXT_MAX,
        strip=False,  # a scanner's group separators and symbology prefix are part of the text
    )

    def clean_serial(self) -> str:
        value = self.cleaned_data["serial"]
        if not value.strip():
            raise forms.ValidationError("Type, paste or scan a serial.")
        return value


class BulkLookupForm(BootstrapFormMixin, forms.Form):
    """Paste serials or upload a CSV/TXT file: the same inputs the API takes."""

    serials = forms.CharField(
        label="Serials, one per line",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 7, "spellcheck": "false"}),
    )
    file = forms.FileField(
        label="… or a CSV/TXT file",
        required=False,
        help_text=f"Up to {lookup.BULK_LIMIT:,} serials; a CSV with a “serial” column works too.",
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        text, upload = cleaned.get("serials") or "", cleaned.get("file")
        if upload is not None and text.strip():
            raise forms.ValidationError("Paste serials or upload a file, not both.")
        if upload is not None:
            if upload.size > lookup.BULK_FILE_MAX_BYTES:
                raise forms.ValidationError(
                    f"{upload.name} is {upload.size / 1e6:.0f} MB; a bulk lookup file may have at "
                    f"most {lookup.BULK_FILE_MAX_BYTES / 1e6:.0f} MB."
                )
            texts = lookup.lookup_texts_from_upload(upload.name or "upload", upload.read())
        elif text.strip():
            texts = lookup.lookup_texts_from_text(text)
        else:
            raise forms.ValidationError("Paste serials or choose a file to look up.")
        cleaned["texts"] = lookup.lookup_texts_check(texts)
        return cleaned
