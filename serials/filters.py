"""One FilterSet per list, shared by the pages and the API."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from portal.ids import IdFilter
from serials.exception_models import Reason
from serials.models import ExceptionAnswer, SerialException, SerialList


class SerialListFilter(django_filters.FilterSet):
    class Meta:
        model = SerialList
        fields = ["kind", "status"]


def with_latest_reason(queryset: QuerySet[SerialException]) -> QuerySet[SerialException]:
    """Each exception with ``latest_reason``: the reason of its newest answer ("" when none),
    to filter and sort on."""
    if "latest_reason" in queryset.query.annotations:
        return queryset
    newest = ExceptionAnswer.objects.filter(exception=OuterRef("pk")).order_by("-id")
    return queryset.annotate(latest_reason=Subquery(newest.values("reason")[:1]))


class ExceptionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=SerialException.Kind.choices, empty_label=_("Any kind")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=SerialException.Status.choices, empty_label=_("Any status")
    )
    reason = django_filters.ChoiceFilter(
        label=_("Reason"),
        choices=Reason.choices,
        empty_label=_("Any reason"),
        method="of_reason",
        help_text=_("The reason of the newest answer."),
    )
    # A plain number, not a model choice: a choice field would check ids against every list
    # in the database and tell a foreign id (empty answer) from a missing one (400).
    serial_list = IdFilter(field_name="serial_list_id")

    class Meta:
        model = SerialException
        fields = ["kind", "status", "reason", "serial_list"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():  # the page's look: Bootstrap's select
            if isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")

    def of_reason(
        self, queryset: QuerySet[SerialException], name: str, value: str
    ) -> QuerySet[SerialException]:
        return with_latest_reason(queryset).filter(**{"latest_reason": value})
