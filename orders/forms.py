"""Page forms. Validation lives on the models (``clean`` and constraints) and the services;
the forms only choose the fields and widgets."""

from typing import cast

from django import forms

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


def batch_form_class(fields: tuple[str, ...]) -> type[forms.ModelForm]:
    """A batch form holding just the fields the caller's role may change."""
    return forms.modelform_factory(
        Batch,
        form=BatchForm,
        fields=fields,
        widgets={"production_started_on": date_input(), "production_finished_on": date_input()},
    )
