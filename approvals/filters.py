"""One FilterSet per list: the finance board's gates."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from approvals.models import Gate
from approvals.money import GateMoney
from orders.models import PurchaseOrder


class GateFilter(django_filters.FilterSet):
    """The board's filters. A gate's state and whether it is overdue are derived (from its
    approvals, release and payments), so the caller passes each gate's ``GateMoney`` and those
    two filters pick ids from it; ``order`` offers only the orders the caller may see."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    order = django_filters.ChoiceFilter(field_name="order_id", label=_("Order"))
    kind = django_filters.ChoiceFilter(choices=Gate.Kind.choices, label=_("Kind"))
    state = django_filters.ChoiceFilter(
        choices=Gate.State.choices, method="by_state", label=_("State")
    )
    overdue = django_filters.ChoiceFilter(
        choices=[("yes", _("Overdue only")), ("no", _("Not overdue"))],
        method="by_overdue",
        label=_("Due"),
        empty_label=_("Any due date"),
    )

    class Meta:
        model = Gate
        fields = ["q", "order", "kind", "state", "overdue"]

    def __init__(
        self,
        *args: Any,
        orders: QuerySet[PurchaseOrder],
        facts: dict[int, GateMoney],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.facts = facts
        self.filters["order"].extra["choices"] = [
            (str(order.pk), f"PO {order.number} · {order.supplier}")
            for order in orders.select_related("supplier").order_by("number")
        ]
        self.filters["order"].extra["empty_label"] = _("Any order")
        self.filters["kind"].extra["empty_label"] = _("Any kind")
        self.filters["state"].extra["empty_label"] = _("Any state")
        for name, field in self.form.fields.items():
            css = "form-control" if name == "q" else "form-select"
            field.widget.attrs.setdefault("class", css)
        self.form.fields["q"].widget.attrs["placeholder"] = _("PO, batch or supplier")
        self.form.fields["q"].widget.input_type = "search"

    def search(self, queryset: QuerySet[Gate], name: str, value: str) -> QuerySet[Gate]:
        return queryset.filter(
            Q(order__number__icontains=value)
            | Q(batch__code__icontains=value)
            | Q(order__supplier__name__icontains=value)
        )

    def by_state(self, queryset: QuerySet[Gate], name: str, value: str) -> QuerySet[Gate]:
        return queryset.filter(
            pk__in=[pk for pk, fact in self.facts.items() if fact.state.state == value]
        )

    def by_overdue(self, queryset: QuerySet[Gate], name: str, value: str) -> QuerySet[Gate]:
        wanted = value == "yes"
        return queryset.filter(
            pk__in=[pk for pk, fact in self.facts.items() if fact.overdue == wanted]
        )
