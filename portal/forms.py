"""Form plumbing shared by the apps."""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

# Browsers accept only ISO values in these inputs, whatever the locale: a localised value
# (en-gb's 02/10/2026) shows as an empty picker, and saving the form unchanged erases the date.
ISO_DATE = "%Y-%m-%d"
ISO_DATETIME = "%Y-%m-%dT%H:%M"


def date_input(**attrs: str) -> forms.DateInput:
    """A browser date picker holding its value as an ISO date."""
    return forms.DateInput(format=ISO_DATE, attrs={"type": "date", **attrs})


def datetime_input(**attrs: str) -> forms.DateTimeInput:
    """A browser date-and-time picker holding its value as an ISO local date and time."""
    return forms.DateTimeInput(format=ISO_DATETIME, attrs={"type": "datetime-local", **attrs})


class BootstrapFormMixin:
    """Gives each widget Bootstrap's class, so templates can render fields in a loop."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # A mixin: the form class after it in the bases has the fields, which mypy cannot see.
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.RadioSelect):  # and CheckboxSelectMultiple: styled by CSS
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input d-block"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)


def form_refused(form: forms.BaseForm, error: ValidationError | PermissionDenied) -> None:
    """A service's refusal shown on the form: on the field it names when the form has it,
    else above the form."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    elif isinstance(error, ValidationError):
        for message in error.messages:
            form.add_error(None, message)
    else:
        form.add_error(None, str(error))
