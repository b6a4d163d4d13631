"""Orders and batches in the admin, scoped like the pages and saved through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from orders import services
from orders.models import ApprovedSample, Batch, PurchaseOrder
from orders.samples import samples_visible_to
from orders.selectors import batches_visible_to, orders_visible_to
from portal.admin import ReadOnlyAdmin, ScopedAdminMixin
from portal.roles import can_manage_orders
from portal.typing import admin_user


def _frozen_fields_checked(form: ModelForm, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The service refuses these changes too; the form says so on the field, not as a 500."""
    try:
        services.frozen_fields_check(obj=form.instance, values=cleaned)
    except ValidationError as error:
        form.add_error(None, error)
    return cleaned


class ServiceSavedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Saves go through the services, so the admin is validated and audited like the pages."""

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        """Relations were saved by the service in save_model."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_manage_orders(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_manage_orders(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # orders and batches are cancelled, never deleted


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ServiceSavedAdmin):
    list_display = [
        "number",
        "buyer",
        "supplier",
        "product_name",
        "quantity",
        "status",
        "required_by",
    ]
    list_filter = ["status", "supplier"]
    search_fields = ["number", "product_name", "gtin", "sku"]
    exclude = ["buyer"]  # always the admin's own company, set by the service
    filter_horizontal = ["inspection_firms"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PurchaseOrder]:
        return orders_visible_to(request.user)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[Any]]:
        form = super().get_form(request, obj, change=change, **kwargs)
        buyer = admin_user(request).membership.organisation

        # mypy takes no class held in a variable as a base (Django builds the admin's form class).
        class WithBuyer(form):  # type: ignore[valid-type, misc]
            """The model checks per-buyer uniqueness: it must know the buyer."""

            def __init__(self, *args: Any, **form_kwargs: Any) -> None:
                super().__init__(*args, **form_kwargs)
                self.instance.buyer = buyer

            def clean(self) -> dict[str, Any]:
                return _frozen_fields_checked(self, super().clean())

        return WithBuyer

    def save_model(
        self, request: HttpRequest, obj: PurchaseOrder, form: ModelForm, change: bool
    ) -> None:
        data = {name: form.cleaned_data[name] for name in services.ORDER_EDITABLE_FIELDS}
        firms = form.cleaned_data.get("inspection_firms", [])
        if change:
            saved = services.order_update(
                order=obj, user=admin_user(request), inspection_firms=firms, **data
            )
        else:
            saved = services.order_create(user=admin_user(request), inspection_firms=firms, **data)
        obj.pk = saved.pk


@admin.register(Batch)
class BatchAdmin(ServiceSavedAdmin):
    list_display = ["code", "order", "planned_quantity", "declared_range", "status"]
    list_filter = ["status"]
    search_fields = ["code", "order__number"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Batch]:
        return batches_visible_to(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["order"] if obj else []

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[Any]]:
        form = super().get_form(request, obj, change=change, **kwargs)

        # mypy takes no class held in a variable as a base (Django builds the admin's form class).
        class FrozenFieldsChecked(form):  # type: ignore[valid-type, misc]
            def clean(self) -> dict[str, Any]:
                return _frozen_fields_checked(self, super().clean())

        return FrozenFieldsChecked

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "order":
            kwargs["queryset"] = orders_visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Batch, form: ModelForm, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.changed_data if name != "order"}
        if change:
            saved = services.batch_update(batch=obj, user=admin_user(request), **data)
        else:
            data.pop("code", None)
            data.pop("planned_quantity", None)
            saved = services.batch_create(
                order=form.cleaned_data["order"],
                user=admin_user(request),
                code=form.cleaned_data["code"],
                planned_quantity=form.cleaned_data["planned_quantity"],
                **data,
            )
        obj.pk = saved.pk


@admin.register(ApprovedSample)
class ApprovedSampleAdmin(ReadOnlyAdmin):
    """Read-only: a sample changes by a new version, on its page."""

    list_display = ["product_name", "gtin", "order", "version", "symbology", "created_at"]
    list_filter = ["symbology"]
    search_fields = ["product_name", "gtin", "order__number"]
    # MEDIA_URL is never served: the photos are linked through their permission-checked views.
    exclude = ["sample_photo", "label_photo"]
    readonly_fields = ["photos"]

    @admin.display(description="photos")
    def photos(self, sample: ApprovedSample) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("sample-photo", args=[sample.pk]),
            sample.sample_photo_name,
            reverse("sample-label-photo", args=[sample.pk]),
            sample.label_photo_name,
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApprovedSample]:
        return samples_visible_to(request.user)
