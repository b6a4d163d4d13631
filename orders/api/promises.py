"""The promises under test over the API: a list of codes in and out (``orders.promises``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.promises import Promise, promises_joined, promises_split

PROMISES_HELP = (
    "What it tests, one or more of: capacity (production capacity), identity (product identity), "
    "process (process control), shipment (shipment evidence), payment (payment leverage)."
)


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": list(Promise.values)},
        "minItems": 1,
        "maxItems": len(Promise.values),
        "uniqueItems": True,
    }
)
class PromisesField(serializers.ListField):
    """A list of promise codes; what the service receives is the stored, comma-joined form.
    (No min_length/max_length: DRF would check them on that text, not on the list.)"""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.ChoiceField(choices=Promise.choices))
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("help_text", PROMISES_HELP)
        super().__init__(**kwargs)

    def to_representation(self, data: Any) -> list[Any]:
        if isinstance(data, str):
            data = [promise.value for promise in promises_split(data)]
        return super().to_representation(data)

    # The stored form is text: DRF's ListField gives a list, this field its joined codes.
    def to_internal_value(self, data: Any) -> str:  # type: ignore[override]
        codes = super().to_internal_value(data)
        if len(codes) != len(set(codes)):
            raise serializers.ValidationError("Name each promise once.")
        try:
            return promises_joined(codes)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
