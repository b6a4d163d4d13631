"""Form plumbing shared by the apps."""

from django import forms


class BootstrapFormMixin:
    """Gives each widget Bootstrap's class, so templates can render fields in a loop."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
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
