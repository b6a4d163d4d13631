"""One FilterSet per list, shared by the pages and the API."""

import django_filters
from django.db.models import Q, QuerySet

from orders.models import Batch, PurchaseOrder
from portal.ids import IdFilter


class OrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.ChoiceFilter(choices=PurchaseOrder.Status.choices)
    supplier = IdFilter(field_name="supplier_id", label="Supplier id")
    required_by_before = django_filters.DateFilter(field_name="required_by", lookup_expr="lte")
    required_by_after = django_filters.DateFilter(field_name="required_by", lookup_expr="gte")
    gtin = django_filters.CharFilter()
    sku = django_filters.CharFilter()

    class Meta:
        model = PurchaseOrder
        fields = ["q", "status", "supplier", "gtin", "sku"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(number__icontains=value)
            | Q(product_name__icontains=value)
            | Q(supplier__name__icontains=value)
            | Q(gtin=value)
            | Q(sku__iexact=value)
        )


class BatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Batch.Status.choices)
    code = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Batch
        fields = ["status", "code"]
