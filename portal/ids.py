"""One way to read a database id that came from a user (a query parameter, a form value, a
bulk list of ids, a command-line argument)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Every model's id is a BigAutoField (settings.DEFAULT_AUTO_FIELD): PostgreSQL's bigint.
MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """The id ``value`` spells, or None if it cannot be one: ASCII digits only (no sign, space,
    decimal point or exponent), or an int, from 1 to ``MAX_ID``. Leading zeros are read as the
    URL converter ``<int:pk>`` reads them ("01" is 1)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 40:
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def parse_ids(values: list[str]) -> list[int]:
    """The ids among ``values``, in their order; what cannot be an id is left out."""
    return [number for value in values if (number := parse_id(value)) is not None]


class IdFormField(forms.IntegerField):
    """A form field (and, through ``IdFilter``, a filter) that reads its value with parse_id."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = parse_id(value.strip() if isinstance(value, str) else value)
        if number is None:
            raise forms.ValidationError("Enter an id: a whole number from 1.", code="invalid")
        return number


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    # types-django-filter pins NumberFilter.field_class to DecimalField; django-filter takes any
    # form field class there, and NumberFilter's max-value validator suits an IntegerField too.
    field_class = IdFormField  # type: ignore[assignment]


class IdSerializerField(serializers.IntegerField):
    """An id in an API body or a list of ids: parse_id's rule, shown as an integer >= 1."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        number = parse_id(data.strip() if isinstance(data, str) else data)
        if number is None:
            self.fail("invalid")
        return number
