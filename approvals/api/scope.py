"""The order and batch an API call names, read and checked once for approvals and gates alike."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request

from orders.models import Batch
from orders.selectors import orders_visible_to
from portal.api_query import refuse_empty
from portal.ids import MAX_ID, parse_id


def order_and_batch(request: Request, data: dict[str, Any]) -> tuple[Any, Batch | None]:
    """The order (scoped: a foreign id is 404) and, if named, its batch."""
    order = get_object_or_404(orders_visible_to(request.user), pk=data["order"])
    batch = None
    if data.get("batch"):
        batch = get_object_or_404(Batch.objects.filter(order=order), pk=data["batch"])
    return order, batch


BY_ORDER_AND_BATCH = [
    OpenApiParameter(
        name, {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description=description
    )
    for name, description in (
        ("order", "Only those on this order (an id)."),
        ("batch", "Only those on this batch (an id)."),
    )
]


def by_order_and_batch(rows: QuerySet, request: Request) -> QuerySet:
    """?order= and ?batch= filters; a value that is not an id is a 400 naming it."""
    refuse_empty(request, ["order", "batch"])
    for name in ("order", "batch"):
        if name not in request.query_params:
            continue
        number = parse_id(request.query_params[name])
        if number is None:
            raise serializers.ValidationError({name: ["Enter an id: a whole number from 1."]})
        rows = rows.filter(**{f"{name}_id": number})
    return rows
