"""API shapes of orders and batches. Rules live on the models and services; a serializer
only declares fields, so the API, the pages and the admin accept exactly the same input."""

from __future__ import annotations

from typing import Any, Protocol

from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict

from orders.models import Batch, PurchaseOrder
from portal.models import Organisation


class _BoundSerializer(Protocol):
    """What the mixin uses of the serializer it is mixed into."""

    initial_data: Any

    @property
    def fields(self) -> BindingDict: ...


class StrictFieldsMixin:
    """Refuse fields the caller may not write instead of silently ignoring them."""

    def validate(self: _BoundSerializer, attrs: dict[str, Any]) -> dict[str, Any]:
        writable = {name for name, field in self.fields.items() if not field.read_only}
        refused = sorted(set(self.initial_data) - writable)
        if refused:
            raise serializers.ValidationError(
                {name: "You cannot set this field." for name in refused}
            )
        return attrs


class OrderSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    buyer = serializers.CharField(source="buyer.name", read_only=True)
    supplier = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=Organisation.Kind.SUPPLIER)
    )
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    inspection_firms = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=Organisation.objects.filter(
            kind__in=[Organisation.Kind.INSPECTION_FIRM, Organisation.Kind.BUYER]
        ),
    )
    url = serializers.HyperlinkedIdentityField(view_name="api-order-detail")
    batches_url = serializers.HyperlinkedIdentityField(view_name="api-order-batches")

    def validate_inspection_firms(self, firms: list[Organisation]) -> list[Organisation]:
        """Inspection firms, or the buyer itself (its own inspectors); never another buyer."""
        own = self.context["request"].user.membership.organisation
        for firm in firms:
            if firm.kind != Organisation.Kind.INSPECTION_FIRM and firm != own:
                raise serializers.ValidationError(f"{firm} is not an inspection firm.")
        return firms

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "url",
            "number",
            "buyer",
            "supplier",
            "supplier_name",
            "product_name",
            "gtin",
            "sku",
            "quantity",
            "customer_promise",
            "order_date",
            "required_by",
            "status",
            "inspection_firms",
            "batches_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness per buyer is checked by the service, which knows the caller's buyer.
        validators: list[Any] = []


class BatchSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api-batch-detail")
    order: serializers.PrimaryKeyRelatedField[PurchaseOrder] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    order_number = serializers.CharField(source="order.number", read_only=True)

    class Meta:
        model = Batch
        fields = [
            "id",
            "url",
            "order",
            "order_number",
            "code",
            "planned_quantity",
            "declared_first_serial",
            "declared_last_serial",
            "production_started_on",
            "production_finished_on",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list[Any] = []
