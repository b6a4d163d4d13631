"""Page forms. Validation lives on the models (``clean`` and constraints) and the services;
the forms only choose the fields and widgets."""

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import ApprovedSample, Batch, PurchaseOrder
from portal.forms import BootstrapFormMixin, date_input
from portal.models import Organisation


class OrderForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = PurchaseOrder
        fields = [
            "number",
            "supplier",
            "product_name",
            "gtin",
            "sku",
            "quantity",
            "order_date",
            "required_by",
            "status",
            "customer_promise",
            "inspection_firms",
        ]
        # The labels the model's field names give, in the person's language.
        labels = {
            "supplier": _("Supplier"),
            "product_name": _("Product name"),
            "quantity": _("Quantity"),
            "order_date": _("Order date"),
            "required_by": _("Required by"),
            "status": _("Status"),
            "customer_promise": _("Customer promise"),
            "inspection_firms": _("Inspection firms"),
        }
        widgets = {
            "order_date": date_input(),
            "required_by": date_input(),
            "customer_promise": forms.Textarea(attrs={"rows": 3}),
            "inspection_firms": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: object, buyer: Organisation, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # The model validates buyer-scoped uniqueness; the form must know the buyer for it.
        self.instance.buyer = buyer
        supplier = cast(forms.ModelChoiceField, self.fields["supplier"])
        supplier.queryset = Organisation.objects.filter(kind=Organisation.Kind.SUPPLIER)
        firms = cast(forms.ModelMultipleChoiceField, self.fields["inspection_firms"])
        firms.queryset = Organisation.objects.filter(
            kind=Organisation.Kind.INSPECTION_FIRM
        ) | Organisation.objects.filter(pk=buyer.pk)


class BatchForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Batch
        fields: list[str] = []


BATCH_LABELS = {
    "code": _("Code"),
    "planned_quantity": _("Planned quantity"),
    "declared_first_serial": _("Declared first serial"),
    "declared_last_serial": _("Declared last serial"),
    "production_started_on": _("Production started on"),
    "production_finished_on": _("Production finished on"),
    "status": _("Status"),
}


def batch_form_class(fields: tuple[str, ...]) -> type[forms.ModelForm]:
    """A batch form holding just the fields the caller's role may change."""
    return forms.modelform_factory(
        Batch,
        form=BatchForm,
        fields=fields,
        # Lazy labels, translated when the form is drawn (the stubs ask for plain str).
        labels=cast(dict[str, str], {f: BATCH_LABELS[f] for f in fields if f in BATCH_LABELS}),
        widgets={"production_started_on": date_input(), "production_finished_on": date_input()},
    )


PHOTO_ACCEPT = "image/jpeg,image/png,image/webp"


class ApprovedSampleLayoutForm(BootstrapFormMixin, forms.Form):
    """The label layout and the inspection instruction, as the first version and every new
    one take them. Validation lives in ``orders.samples``."""

    label_fields = forms.MultipleChoiceField(
        label=_("Fields on the label"),
        choices=ApprovedSample.LabelField.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    symbology = forms.ChoiceField(
        label=_("Code on the label"),
        choices=ApprovedSample.Symbology.choices,
        initial=ApprovedSample.Symbology.GS1_DATAMATRIX,
    )
    serial_format = forms.CharField(
        label=_("Serial format"),
        max_length=64,
        required=False,
        help_text=_("# for each digit, the fixed characters as printed: VLT#########."),
    )
    code_position = forms.CharField(
        label=_("Where the code is"),
        max_length=200,
        required=False,
        help_text=_("Where the inspector finds the code on the label, in a few words."),
    )
    instruction = forms.CharField(
        label=_("Inspection instruction"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the inspector checks on each sampled unit against this sample."),
    )


class ApprovedSampleForm(ApprovedSampleLayoutForm):
    """The first version of a product's approved sample (or of one order's)."""

    product_name = forms.CharField(label=_("Product name"), max_length=200)
    gtin = forms.CharField(label=_("GTIN"), max_length=14, required=False)
    for_order_only = forms.BooleanField(
        label=_("For this order only"),
        required=False,
        help_text=_("Otherwise it is the product's approved sample, for every order of its GTIN."),
    )
    sample_photo = forms.FileField(
        label=_("Photo of the approved sample"),
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
    )
    label_photo = forms.FileField(
        label=_("Photo of its label"),
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "for_order_only" in self.fields:  # a box beside its label, not a block of its own
            self.fields["for_order_only"].widget.attrs["class"] = "form-check-input"

    field_order = [
        "product_name",
        "gtin",
        "for_order_only",
        "sample_photo",
        "label_photo",
        "label_fields",
        "symbology",
        "serial_format",
        "code_position",
        "instruction",
    ]


class ApprovedSampleVersionForm(ApprovedSampleLayoutForm):
    """A new version: what changed, new photos where they changed, the layout as it is now."""

    change_note = forms.CharField(
        label=_("What changed"),
        max_length=300,
        help_text=_("One line, shown with the versions."),
    )
    sample_photo = forms.FileField(
        label=_("New photo of the sample"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
        help_text=_("Leave empty to keep the current one."),
    )
    label_photo = forms.FileField(
        label=_("New photo of the label"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
        help_text=_("Leave empty to keep the current one."),
    )

    field_order = [
        "change_note",
        "sample_photo",
        "label_photo",
        "label_fields",
        "symbology",
        "serial_format",
        "code_position",
        "instruction",
    ]
