"""Read queries for orders and batches. Every lookup starts from what the caller may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

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


@dataclass(frozen=True)
class WaitingItem:
    """Something that is waiting on the caller, with where to go to do it."""

    title: str
    detail: str
    url: str


OPEN_STATUSES = [
    PurchaseOrder.Status.ISSUED,
    PurchaseOrder.Status.IN_PRODUCTION,
    PurchaseOrder.Status.READY_TO_SHIP,
]


def waiting_on(user: User | AnonymousUser) -> list[WaitingItem]:
    """What the caller's role has to do next across the orders it can see."""
    role = membership_of(user).role if membership_of(user) else None
    orders = orders_visible_to(user)
    items: list[WaitingItem] = []
    if role == Role.SUPPLIER:
        for batch in batches_visible_to(user).filter(order__status__in=OPEN_STATUSES):
            if batch.missing_production_details:
                items.append(
                    WaitingItem(
                        f"Add production details to batch {batch.code}",
                        f"PO {batch.order.number}: missing "
                        + ", ".join(batch.missing_production_details),
                        reverse("batch-edit", args=[batch.pk]),
                    )
                )
        for order in orders.filter(status=PurchaseOrder.Status.ISSUED, batches__isnull=True):
            items.append(
                WaitingItem(
                    f"PO {order.number} has no batches yet",
                    "The buyer plans batches; ask them if production has started.",
                    reverse("order-detail", args=[order.pk]),
                )
            )
    if role in {Role.BUYER, Role.ADMIN}:
        for order in orders.filter(status=PurchaseOrder.Status.DRAFT):
            items.append(
                WaitingItem(
                    f"Issue PO {order.number} to {order.supplier}",
                    "Still a draft: the supplier cannot see what to produce.",
                    reverse("order-edit", args=[order.pk]),
                )
            )
        for order in orders.filter(status__in=OPEN_STATUSES, batches__isnull=True):
            items.append(
                WaitingItem(
                    f"Plan batches for PO {order.number}",
                    "Serial lists and evidence attach to batches.",
                    reverse("batch-create", args=[order.pk]),
                )
            )
    if role in {Role.BUYER, Role.ADMIN, Role.FINANCE}:
        today = timezone.localdate()
        for order in orders.filter(status__in=OPEN_STATUSES, required_by__lt=today):
            items.append(
                WaitingItem(
                    f"PO {order.number} is overdue",
                    f"Required by {order.required_by:%d %b %Y}; "
                    f"status {order.get_status_display()}.",
                    reverse("order-detail", args=[order.pk]),
                )
            )
    if role == Role.INSPECTOR:
        for order in orders.filter(status__in=OPEN_STATUSES):
            items.append(
                WaitingItem(
                    f"PO {order.number} is assigned to you",
                    f"{order.product_name} from {order.supplier}; required by "
                    f"{order.required_by:%d %b %Y}.",
                    reverse("order-detail", args=[order.pk]),
                )
            )
    return items
