"""One FilterSet per list, shared by the pages and the API."""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from orders.models import Batch, PurchaseOrder
from portal import timeline
from portal.ids import IdFilter
from portal.models import AuditEvent, User


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


# The person filter's value for events no person did (a validation, a built dossier).
THE_PORTAL = "portal"


class TimelineFilter(django_filters.FilterSet):
    """The order timeline: one batch, one family of events (portal.timeline.KINDS), one person.
    Choices come from the order, so a batch or a person of another order is an invalid choice
    (the form says so) and filters nothing."""

    batch = django_filters.ChoiceFilter(label=_("Batch"), method="of_batch", empty_label=_("All"))
    kind = django_filters.ChoiceFilter(label=_("Kind"), method="of_kind", empty_label=_("All"))
    person = django_filters.ChoiceFilter(
        label=_("Person"), method="by_person", empty_label=_("Everyone")
    )

    class Meta:
        model = AuditEvent
        fields = ["batch", "kind", "person"]

    def __init__(self, *args: Any, order: PurchaseOrder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        self.filters["batch"].extra["choices"] = [
            (str(batch.pk), batch.code) for batch in order.batches.order_by("code")
        ]
        self.filters["kind"].extra["choices"] = [
            (kind.key, kind.label) for kind in timeline.KINDS.values()
        ]
        actor_ids = order.audit_events.exclude(actor=None).values("actor_id")
        people = User.objects.filter(pk__in=actor_ids).order_by(
            "first_name", "last_name", "username"
        )
        self.filters["person"].extra["choices"] = [
            *((str(person.pk), person.printed_name) for person in people),
            (THE_PORTAL, _("The portal (automatic steps)")),
        ]

    def of_batch(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        batch = self.order.batches.get(pk=value)  # a choice of this order's batches
        return queryset.filter(timeline.batch_filter(batch))

    def of_kind(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(timeline.kind_filter(value))

    def by_person(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == THE_PORTAL:
            return queryset.filter(actor=None)
        return queryset.filter(actor_id=value)
