"""What the orders app puts on the dashboard (registered in ``OrdersConfig.ready``; see
``portal.dashboard``): the order counts, the open orders and what waits on the caller."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

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
                        gettext("Add production details to batch %(batch)s")
                        % {"batch": batch.code},
                        gettext("PO %(order)s: missing %(what)s")
                        % {
                            "order": batch.order.number,
                            "what": ", ".join(batch.missing_production_details),
                        },
                        reverse("batch-edit", args=[batch.pk]),
                    )
                )
        for order in orders.filter(status=PurchaseOrder.Status.ISSUED, batches__isnull=True):
            items.append(
                WaitingItem(
                    gettext("PO %(order)s has no batches yet") % {"order": order.number},
                    gettext("The buyer plans batches; ask them if production has started."),
                    reverse("order-detail", args=[order.pk]),
                )
            )
    if can_manage_orders(user):
        for order in orders.filter(status=PurchaseOrder.Status.DRAFT):
            items.append(
                WaitingItem(
                    gettext("Issue PO %(order)s to %(supplier)s")
                    % {"order": order.number, "supplier": order.supplier},
                    gettext("Still a draft: the supplier cannot see what to produce."),
                    reverse("order-edit", args=[order.pk]),
                )
            )
        for order in orders.filter(status__in=OPEN_STATUSES, batches__isnull=True):
            items.append(
                WaitingItem(
                    gettext("Plan batches for PO %(order)s") % {"order": order.number},
                    gettext("Serial lists and evidence attach to batches."),
                    reverse("batch-create", args=[order.pk]),
                )
            )
    if can_chase_overdue_orders(user):
        today = timezone.localdate()
        for order in orders.filter(status__in=OPEN_STATUSES, required_by__lt=today):
            items.append(
                WaitingItem(
                    gettext("PO %(order)s is overdue") % {"order": order.number},
                    gettext("Required by %(date)s; status %(status)s.")
                    % {
                        "date": date_format(order.required_by, "DATE_FORMAT"),
                        "status": order.get_status_display(),
                    },
                    reverse("order-detail", args=[order.pk]),
                )
            )
    # The inspector's work (an inspection to read, a batch to sample) is listed by the
    # inspection app itself, linking straight into it (inspection.dashboard).
    return items
