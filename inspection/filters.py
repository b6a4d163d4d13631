"""One FilterSet per list: the sampled units of an inspection, by what their newest result says
and by serial or carton."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from inspection.models import SampledUnit, UnitResult

STATES = [
    ("pending", _("Not read yet")),
    ("skipped", _("Skipped for now")),
    ("not_found", _("Not found")),
    ("defective", _("Defective (not found included)")),
    ("conforming", _("Conforming")),
]
# For a row (a CSV line): a defective unit is only "Defective" there.
STATE_LABELS = dict(STATES) | {"defective": _("Defective")}


def with_newest_result(units: QuerySet[SampledUnit]) -> QuerySet[Any]:
    """Each unit with its newest result's method and verdict (None when nothing is recorded)."""
    newest = UnitResult.objects.filter(unit=OuterRef("pk")).order_by("-id")
    return units.annotate(
        newest_method=Subquery(newest.values("method")[:1]),
        newest_defective=Subquery(newest.values("defective")[:1]),
    )


class SampledUnitFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Serial or carton"),
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "type": "search"}),
    )
    state = django_filters.ChoiceFilter(
        choices=STATES,
        method="in_state",
        label=_("Result"),
        empty_label=_("Any result"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    class Meta:
        model = SampledUnit
        fields = ["q", "state"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(serial__icontains=value) | Q(carton__icontains=value))

    def in_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        units = with_newest_result(queryset)
        skipped = Q(newest_method=UnitResult.Method.SKIPPED)
        return {
            "pending": units.filter(newest_method__isnull=True),
            "skipped": units.filter(skipped),
            "not_found": units.filter(newest_method=UnitResult.Method.NOT_FOUND),
            "defective": units.filter(newest_defective=True),
            "conforming": units.filter(newest_defective=False).exclude(skipped),
        }[value]
