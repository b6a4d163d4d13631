"""Scoped reads for serial lists, exceptions and numbering rules: everything starts from the
batches the caller may see (``orders.selectors``)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from orders.selectors import batches_visible_to
from portal.models import User
from portal.roles import is_buyer_side, membership_of
from serials.models import NumberingRule, SerialException, SerialList


def serial_lists_visible_to(user: User | AnonymousUser) -> QuerySet[SerialList]:
    return SerialList.objects.select_related("batch__order", "uploaded_by").filter(
        batch__in=batches_visible_to(user)
    )


def serial_list_for(user: User | AnonymousUser, pk: int) -> SerialList:
    return get_object_or_404(serial_lists_visible_to(user), pk=pk)


def exceptions_visible_to(user: User | AnonymousUser) -> QuerySet[SerialException]:
    return SerialException.objects.select_related("batch__order", "serial_list").filter(
        batch__in=batches_visible_to(user)
    )


def rules_visible_to(user: User | AnonymousUser) -> QuerySet[NumberingRule]:
    """The buyer's staff see their company's rules; others see them on their batches."""
    if not is_buyer_side(user):
        return NumberingRule.objects.none()
    return NumberingRule.objects.filter(buyer=membership_of(user).organisation)
