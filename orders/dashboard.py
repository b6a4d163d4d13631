"""What the orders app puts on the dashboard (registered in ``OrdersConfig.ready``; see
``portal.dashboard``): the order counts, the open orders and what waits on the caller."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone

from orders.models import PurchaseOrder
from orders.selectors import batches_visible_to, orders_visible_to, orders_with_batch_counts
from portal.dashboard import WaitingItem
from portal.models import Role, User
from portal.roles import can_chase_overdue_orders, can_manage_orders, role_of

OPEN_STATUSES = [
    PurchaseOrder.Status.ISSUED,
    PurchaseOrder.Status.IN_PRODUCTION,
    PurchaseOrder.Status.READY_TO_SHIP,
]
# Shown as a card even when there are none.
ALWAYS_COUNTED = [
    PurchaseOrder.Status.DRAFT,
    PurchaseOrder.Status.ISSUED,
    PurchaseOrder.Status.IN_PRODUCTION,
]


def order_summary(user: User | AnonymousUser) -> dict[str, Any]:
    """The count of orders the user can see, a card per status, and the open orders."""
    orders = orders_with_batch_counts(user)
    counts = {status: 0 for status, _ in PurchaseOrder.Status.choices}
    for status in orders.values_list("status", flat=True):
        counts[status] += 1
    status_cards = [
        (value, label, counts[value])
        for value, label in PurchaseOrder.Status.choices
        if counts[value] or value in ALWAYS_COUNTED
    ]
    return {
        "orders": orders.exclude(
            status__in=[PurchaseOrder.Status.CLOSED, PurchaseOrder.Status.CANCELLED]
        )[:20],
        "order_total": orders.count(),
        "status_cards": status_cards,
    }


def waiting_on(user: User | AnonymousUser) -> list[WaitingItem]:
    """What the caller's role has to do next across the orders it can see."""
    role = role_of(user)
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
    if can_manage_orders(user):
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
    if can_chase_overdue_orders(user):
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
    # The inspector's work (an inspection to read, a batch to sample) is listed by the
    # inspection app itself, linking straight into it (inspection.dashboard).
    return items
