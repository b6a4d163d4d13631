"""The People page's filters: organisation, role, active, and a search."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.selectors import organisations_managed_by
from portal.models import Organisation, Role


def _managed(request: HttpRequest | None) -> QuerySet[Organisation]:
    return organisations_managed_by(request.user if request else None)  # type: ignore[arg-type]


class PersonFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    organisation = django_filters.ModelChoiceFilter(
        field_name="membership__organisation",
        # django-filter calls it with the request; its stubs know only a queryset.
        queryset=_managed,  # type: ignore[arg-type]
        label=_("Organisation"),
        empty_label=_("Every organisation"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    role = django_filters.ChoiceFilter(
        field_name="membership__role",
        choices=Role.choices,
        label=_("Role"),
        empty_label=_("Any role"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    active = django_filters.ChoiceFilter(
        method="by_active",
        choices=[("yes", _("Active")), ("no", _("Deactivated"))],
        label=_("Status"),
        empty_label=_("Any status"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        words = value.split()
        for word in words:
            queryset = queryset.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(username__icontains=word)
                | Q(email__icontains=word)
            )
        return queryset

    def by_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_active=value == "yes")
