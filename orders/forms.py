"""Page forms. Validation lives on the models (``clean`` and constraints) and the services;
the forms only choose the fields and widgets."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import Batch, PurchaseOrder
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
