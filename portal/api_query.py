"""Query parameters of the API, read strictly: a value that is empty or not of its kind answers
400 naming the parameter (``{"page": ["…"]}``), never a silent default. Parameters the API does
not know are ignored. The filter sets (django-filter) check their own values; these classes add
the empty value, ``?page=`` and ``?ordering=`` (REST_FRAMEWORK in portal.settings)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

EMPTY_VALUE = "Give a value, or leave the parameter out."


def refuse_empty(request: Request, names: Sequence[str]) -> None:
    """400 for each of ``names`` given with an empty value (``?status=``)."""
    empty = {
        name: [EMPTY_VALUE]
        for name in names
        if name in request.query_params and "" in request.query_params.getlist(name)
    }
    if empty:
        raise ValidationError(empty)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend (an invalid value is a 400 naming its filter), and a filter given
    with no value is a 400 too: on the pages an empty filter means "any", in the API the
    parameter is left out."""

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            refuse_empty(request, list(filterset_class.base_filters))
        return super().filter_queryset(request, queryset, view)


def _orderable(model: type[models.Model], name: str) -> bool:
    """A column of ``model`` itself: ordering by a relation to many would repeat rows."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name == "pk"
    return bool(field.concrete) and not field.many_to_many


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=a,-b`` over the fields the view names (``ordering_fields``) or, by default, the
    serializer's own columns; an unknown or empty term is a 400 naming ``ordering`` (DRF's own
    filter drops it silently). The primary key breaks ties, so pages never repeat a row."""

    def get_default_valid_fields(
        self,
        queryset: QuerySet,
        view: APIView,
        context: Mapping[str, Any] = {},  # noqa: B006
    ) -> list[tuple[str, Any]]:
        fields = super().get_default_valid_fields(queryset, view, context)
        return [(name, label) for name, label in fields if _orderable(queryset.model, name)]

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView) -> Any:
        if self.ordering_param not in request.query_params:
            return self.get_default_ordering(view)
        refuse_empty(request, [self.ordering_param])
        terms = [term.strip() for term in request.query_params[self.ordering_param].split(",")]
        valid = [name for name, _ in self.get_valid_fields(queryset, view, {"request": request})]
        wrong = [term for term in terms if term.removeprefix("-") not in valid]
        if wrong:
            choices = ", ".join(valid)
            raise ValidationError(
                {self.ordering_param: [f"Cannot order by “{wrong[0]}”: order by {choices}."]}
            )
        return terms

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        ordering = self.get_ordering(request, queryset, view)
        if ordering:
            return queryset.order_by(*ordering, "pk")
        return queryset

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        model = getattr(getattr(view.get_serializer_class(), "Meta", None), "model", None)  # type: ignore[attr-defined]
        if model is None:
            return []
        valid = [name for name, _ in self.get_valid_fields(model.objects.none(), view)]
        if not valid:
            return []
        term = "-?(" + "|".join(valid) + ")"
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Order by these fields, comma-separated; `-` first for "
                f"descending: {', '.join(valid)}.",
                "schema": {"type": "string", "pattern": f"^{term}(,{term})*$"},
            }
        ]


class Pagination(PageNumberPagination):
    """Pages of PAGE_SIZE. ``?page=`` must be a whole number from 1 (else 400 naming ``page``);
    a page past the last answers 404."""

    def paginate_queryset(
        self, queryset: Any, request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        given = request.query_params.get(self.page_query_param)
        if given is not None:
            if not (given.isascii() and given.isdigit() and given.strip("0")):
                raise ValidationError(
                    {self.page_query_param: ["Give a page number: a whole number from 1."]}
                )
            if len(given) > 18:  # past any last page (and past what int() reads quickly)
                raise NotFound(self.invalid_page_message.format(page_number=given, message=""))
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = "A page number from 1; a page past the last answers 404."
        return parameters
