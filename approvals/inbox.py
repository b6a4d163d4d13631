"""What the approvals app puts in the inbox (``portal.dashboard``, registered in
``ApprovalsConfig.ready``): the buyer's approvals gone stale; finance's gates ready to release,
payments due and money paid while a gate is still blocked.

Gate states come from ``gate_states``, as on the finance board (a fixed handful of queries
however many gates there are); an approval speaks for its batch (or order) while it is the
newest one (``latest_approval``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from approvals.models import Approval, ApprovalStaleness, Gate, Payment
from approvals.services import gate_states
from orders.models import PurchaseOrder
from orders.selectors import orders_visible_to
from portal.dashboard import WaitingItem, is_overdue
from portal.models import User
from portal.roles import can_manage_orders, can_move_money

BLOCKED, OPEN = Gate.State.BLOCKED, Gate.State.OPEN
# A closed or cancelled order asks nothing more of finance.
FINISHED = [PurchaseOrder.Status.CLOSED, PurchaseOrder.Status.CANCELLED]


def stale_approvals(user: User | AnonymousUser) -> QuerySet[Approval]:
    """The approvals that speak for their batch (or order) and went stale: nothing opens that
    batch's gates until the buyer signs a new one."""
    newer = Approval.objects.annotate(batch_key=Coalesce("batch_id", Value(0))).filter(
        order=OuterRef("order"),
        batch_key=Coalesce(OuterRef("batch_id"), Value(0)),
        pk__gt=OuterRef("pk"),
    )
    return (
        Approval.objects.filter(order__in=orders_visible_to(user))
        .filter(Exists(ApprovalStaleness.objects.filter(approval=OuterRef("pk"))))
        .exclude(Exists(newer))
        .select_related("order", "batch")
        .prefetch_related("staleness")
        .order_by("order__number", "id")
    )


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _where(gate: Gate) -> str:
    return _("PO %(order)s · %(supplier)s") % {
        "order": gate.order.number,
        "supplier": gate.order.supplier,
    }


def waiting_on(user: User | AnonymousUser) -> Iterator[WaitingItem]:
    if can_manage_orders(user):
        for approval in stale_approvals(user):
            stale = approval.staleness.all()[0]
            target = (
                _("batch %(batch)s") % {"batch": approval.batch.code}
                if approval.batch
                else _("PO %(order)s") % {"order": approval.order.number}
            )
            yield WaitingItem(
                _("Sign a new approval for %(target)s") % {"target": target},
                _("Approval #%(id)d went stale: %(reason)s")
                % {"id": approval.pk, "reason": stale.reason},
                reverse("batch-approvals", args=[approval.batch_id])
                if approval.batch_id
                else reverse("order-approvals", args=[approval.order_id]),
                kind="approval_stale",
                icon="bi-exclamation-diamond",
            )
    if can_move_money(user):
        yield from _finance_items(user)


def _finance_items(user: User | AnonymousUser) -> Iterator[WaitingItem]:
    gates = list(
        Gate.objects.filter(
            order__in=orders_visible_to(user).exclude(status__in=FINISHED)
        ).select_related("order__supplier", "batch")
    )
    states = gate_states(gates)
    payments_of: dict[int, list[Payment]] = defaultdict(list)
    for payment in Payment.objects.filter(gate__in=gates).order_by("paid_on", "id"):
        payments_of[payment.gate_id].append(payment)
    for gate in sorted(gates, key=lambda g: (g.order.number, g.pk)):
        state = states[gate.pk].state
        payments = payments_of[gate.pk]
        outstanding = Decimal(0)
        if gate.amount is not None:
            paid = sum((p.amount for p in payments if p.currency == gate.currency), Decimal(0))
            outstanding = gate.amount - paid
        due = _("%(amount)s due") % {"amount": _money(outstanding, gate.currency)}
        if state == OPEN:
            yield WaitingItem(
                _("Release: %(gate)s") % {"gate": gate},
                _where(gate)
                + (" · " + due if outstanding > 0 else "")
                + " · "
                + _("the approval allows it."),
                reverse("gate-release", args=[gate.pk]),
                due=gate.due_date,
                overdue=is_overdue(gate.due_date),
                kind="gate_to_release",
                icon="bi-unlock",
            )
        elif state != BLOCKED and outstanding > 0:
            yield WaitingItem(
                _("Pay %(amount)s: %(gate)s")
                % {"amount": _money(outstanding, gate.currency), "gate": gate},
                _where(gate) + " · " + _("released; the payment is not recorded in full."),
                reverse("gate-payments", args=[gate.pk]),
                due=gate.due_date,
                overdue=is_overdue(gate.due_date),
                kind="payment_due",
                icon="bi-cash-coin",
            )
        if state == BLOCKED:
            early = [p for p in payments if p.paid_while_blocked]
            if early:
                totals: dict[str, Decimal] = defaultdict(Decimal)
                for payment in early:
                    totals[payment.currency] += payment.amount
                yield WaitingItem(
                    ngettext(
                        "%(count)d payment made while %(gate)s is blocked",
                        "%(count)d payments made while %(gate)s is blocked",
                        len(early),
                    )
                    % {"count": len(early), "gate": gate},
                    _where(gate)
                    + " · "
                    + ", ".join(_money(amount, currency) for currency, amount in totals.items())
                    + " "
                    + _("paid; the gate is still blocked."),
                    reverse("gate-payments", args=[gate.pk]),
                    count=len(early),
                    kind="paid_while_blocked",
                    icon="bi-exclamation-triangle",
                )
