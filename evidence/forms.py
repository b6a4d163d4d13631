from __future__ import annotations

import contextlib
import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from evidence.models import EvidenceKind, EvidenceRequest, Responsibility
from orders.promises import Promise, promises_form_field, promises_joined
from portal.forms import BootstrapFormMixin, date_input


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if not data and self.required:
            raise forms.ValidationError(_("Choose at least one file."), code="required")
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class EvidenceUploadForm(BootstrapFormMixin, forms.Form):
    # django-stubs takes this for BaseForm.files (the uploaded files); the form's metaclass moves
    # declared fields into base_fields, so the two never meet.
    files = MultipleFileField(label=_("Files"), allow_empty_file=True)  # type: ignore[assignment]
    kind = forms.ChoiceField(choices=EvidenceKind.choices, label=_("Kind"))
    description = forms.CharField(
        max_length=500,
        required=False,
        label=_("Description"),
        help_text=_("What it shows, and that it names this batch."),
    )


class EvidenceReplaceForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(label=_("New version"), allow_empty_file=True)
    description = forms.CharField(max_length=500, required=False, label=_("Description"))


class RequirementsForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        choices=EvidenceKind.choices, widget=forms.CheckboxSelectMultiple, label=_("Required kinds")
    )


class EvidenceRequestForm(BootstrapFormMixin, forms.ModelForm):
    """The buyer's written request: what it tests first, then the question and when it is due.
    A link may prefill it (``?subject=…&question=…&due_on=…&promises=payment``)."""

    promises = promises_form_field(label=_("What will the answer test?"))

    class Meta:
        model = EvidenceRequest
        fields = ["promises", "subject", "question", "due_on"]
        widgets = {
            "due_on": date_input(),
            "question": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"subject": _("Subject"), "question": _("Question"), "due_on": _("Due on")}

    def clean_promises(self) -> str:
        return promises_joined(self.cleaned_data.get("promises") or [])


def request_prefill(query: Any) -> dict[str, Any]:
    """What a link asks the request form to start with (GET parameters), each checked: the
    subject, the question, the due date (ISO) and the promises named."""
    initial: dict[str, Any] = {}
    for name, limit in (("subject", 200), ("question", 4000)):
        if query.get(name):
            initial[name] = str(query[name])[:limit]
    if query.get("due_on"):
        with contextlib.suppress(ValueError):  # a date that is not one is left out
            initial["due_on"] = datetime.date.fromisoformat(str(query["due_on"]))
    named = [value for value in query.getlist("promises") if value in Promise.values]
    if named:
        initial["promises"] = named
    return initial


class StatementForm(BootstrapFormMixin, forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label=_("Statement"))


class ResponsibilityForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Responsibility
        fields = ["role", "party_name", "party_type", "contact", "accepts_responsibility"]
        labels = {
            "role": _("Role"),
            "party_name": _("Party name"),
            "party_type": _("Party type"),
            "contact": _("Contact"),
            "accepts_responsibility": _("Accepts responsibility"),
        }
