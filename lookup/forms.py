from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from lookup.inputs import (
    BULK_FILE_MAX_BYTES,
    BULK_LIMIT,
    TEXT_MAX,
    lookup_texts_check,
    lookup_texts_from_text,
    lookup_texts_from_upload,
)
from portal.forms import BootstrapFormMixin


class SerialLookupForm(forms.Form):
    serial = forms.CharField(
        label=_("Serial, GS1 element string or Digital Link"),
        max_length=TEXT_MAX,
        strip=False,  # a scanner's group separators and symbology prefix are part of the text
    )

    def clean_serial(self) -> str:
        value = self.cleaned_data["serial"]
        if not value.strip():
            raise forms.ValidationError(_("Type, paste or scan a serial."))
        return value


class BulkLookupForm(BootstrapFormMixin, forms.Form):
    """Paste serials or upload a CSV/TXT file: the same inputs the API takes."""

    serials = forms.CharField(
        label=_("Serials, one per line"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 7, "spellcheck": "false"}),
    )
    file = forms.FileField(
        label=_("… or a CSV/TXT file"),
        required=False,
        help_text=lazy(
            lambda: (
                _("Up to %(limit)s serials; a CSV with a “serial” column works too.")
                % {"limit": f"{BULK_LIMIT:,}"}
            ),
            str,
        )(),
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        text, upload = cleaned.get("serials") or "", cleaned.get("file")
        if upload is not None and text.strip():
            raise forms.ValidationError("Paste serials or upload a file, not both.")
        if upload is not None:
            if upload.size > BULK_FILE_MAX_BYTES:
                raise forms.ValidationError(
                    f"{upload.name} is {upload.size / 1e6:.0f} MB; a bulk lookup file may have at "
                    f"most {BULK_FILE_MAX_BYTES / 1e6:.0f} MB."
                )
            texts = lookup_texts_from_upload(upload.name or "upload", upload.read())
        elif text.strip():
            texts = lookup_texts_from_text(text)
        else:
            raise forms.ValidationError("Paste serials or choose a file to look up.")
        cleaned["texts"] = lookup_texts_check(texts)
        return cleaned
