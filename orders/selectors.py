"""Read queries for orders and batches. Every lookup starts from what the caller may see."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from orders.models import Batch, PurchaseOrder
from portal.models import Role, User
from portal.roles import membership_of


def orders_visible_to(user: User | AnonymousUser) -> QuerySet[PurchaseOrder]:
    """The one scoping rule for orders: the buyer's staff see the buyer's orders, a supplier its
    own, an inspector only the orders its firm is assigned to, anyone else nothing. A draft is
    the buyer's alone until it is issued: to its supplier and inspectors it does not exist."""
    orders = PurchaseOrder.objects.select_related("buyer", "supplier")
    membership = membership_of(user)
    if membership is None:
        return orders.none()
    organisation = membership.organisation
    if membership.role == Role.SUPPLIER:
        return orders.filter(supplier=organisation).exclude(status=PurchaseOrder.Status.DRAFT)
    if membership.role == Role.INSPECTOR:
        return orders.filter(inspection_firms=organisation).exclude(
            status=PurchaseOrder.Status.DRAFT
        )
    return orders.filter(buyer=organisation)


def batches_visible_to(user: User | AnonymousUser) -> QuerySet[Batch]:
    return Batch.objects.select_related("order", "order__buyer", "order__supplier").filter(
        order__in=orders_visible_to(user)
    )


def order_for(user: User | AnonymousUser, pk: int) -> PurchaseOrder:
    """The order if the caller may see it; otherwise 404, exactly as if it did not exist."""
    return get_object_or_404(orders_visible_to(user), pk=pk)


def batch_for(user: User | AnonymousUser, pk: int) -> Batch:
    return get_object_or_404(batches_visible_to(user), pk=pk)


def orders_with_batch_counts(user: User | AnonymousUser) -> QuerySet[PurchaseOrder]:
    # Meta.ordering is not applied to aggregating queries: order explicitly.
    return (
        orders_visible_to(user)
        .annotate(batch_count=Count("batches"))
        .order_by("-order_date", "-id")
    )
