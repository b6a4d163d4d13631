"""What the approvals app puts in the inbox (``portal.dashboard``, registered in
``ApprovalsConfig.ready``): the buyer's approvals gone stale, open points overdue or closed of
late, and written requests to send before a gate falls due on a batch with exceptions not
decided (``approvals.explain``); the supplier's open points to close; finance's gates ready to
release, gates waiting on open points, payments due and money paid while a gate is still
blocked.

Gate states come from ``gate_states``, as on the finance board (a fixed handful of queries
however many gates there are); an approval speaks for its batch (or order) while it is the
newest one (``latest_approval``)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from approvals.explain import explain_offers
from approvals.models import Approval, ApprovalStaleness, Gate, OpenPoint, Payment
from approvals.services import gate_states
from orders.models import PurchaseOrder
from orders.selectors import orders_visible_to
from portal.dashboard import WaitingItem, is_overdue
from portal.models import Role, User
from portal.roles import can_manage_orders, can_move_money, role_of

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


# A point closed this many days ago or less is news for the buyer's inbox.
CLOSED_RECENTLY_DAYS = 7


def _current(points: QuerySet[OpenPoint]) -> QuerySet[OpenPoint]:
    """Points of approvals that still speak for their batch (or order): no newer approval."""
    newer = Approval.objects.annotate(batch_key=Coalesce("batch_id", Value(0))).filter(
        order=OuterRef("approval__order"),
        batch_key=Coalesce(OuterRef("approval__batch_id"), Value(0)),
        pk__gt=OuterRef("approval_id"),
    )
    return points.exclude(Exists(newer))


def open_points_owned(user: User | AnonymousUser) -> QuerySet[OpenPoint]:
    """The open points the supplier's side owns and has not closed, soonest due first."""
    return (
        _current(
            OpenPoint.objects.filter(
                approval__order__in=orders_visible_to(user).exclude(status__in=FINISHED),
                owner__isnull=False,
                closure__isnull=True,
            )
        )
        .select_related("approval__order", "approval__batch")
        .order_by("due_on", "id")
    )


def _point_where(point: OpenPoint) -> str:
    approval = point.approval
    if approval.batch is not None:
        return _("Batch %(batch)s of PO %(order)s · approval #%(id)s") % {
            "batch": approval.batch.code,
            "order": approval.order.number,
            "id": approval.pk,
        }
    return _("PO %(order)s · approval #%(id)s") % {
        "order": approval.order.number,
        "id": approval.pk,
    }


def _open_point_items(user: User | AnonymousUser) -> Iterator[WaitingItem]:
    """The supplier: the points it owns, to close with the record that settles them. The
    buyer: points overdue, and points closed in the last days (to read the closing record)."""
    if role_of(user) == Role.SUPPLIER:
        for point in open_points_owned(user):
            yield WaitingItem(
                _("Close the open point “%(text)s”") % {"text": point.text},
                _point_where(point)
                + " · "
                + _("owner: %(owner)s") % {"owner": point.owner_label}
                + (" · " + _("the gates wait on it") if point.blocks_gates else ""),
                reverse("open-point-close", args=[point.pk]),
                due=point.due_on,
                overdue=is_overdue(point.due_on),
                kind="open_point",
                icon="bi-pin-angle",
            )
    if not can_manage_orders(user):
        return
    visible = OpenPoint.objects.filter(
        approval__order__in=orders_visible_to(user).exclude(status__in=FINISHED)
    ).select_related("approval__order", "approval__batch")
    today = timezone.localdate()
    for point in _current(visible.filter(closure__isnull=True, due_on__lt=today)).order_by(
        "due_on", "id"
    ):
        yield WaitingItem(
            _("Open point overdue: “%(text)s”") % {"text": point.text},
            _point_where(point) + " · " + _("owner: %(owner)s") % {"owner": point.owner_label},
            reverse("approval-detail", args=[point.approval_id]),
            due=point.due_on,
            overdue=True,
            kind="open_point_overdue",
            icon="bi-pin-angle",
        )
    since = timezone.now() - datetime.timedelta(days=CLOSED_RECENTLY_DAYS)
    for point in (
        visible.filter(closure__closed_at__gte=since)
        .select_related("closure__closed_by")
        .order_by("-closure__closed_at", "-id")
    ):
        closure = point.closure
        yield WaitingItem(
            _("Open point closed: “%(text)s”") % {"text": point.text},
            _point_where(point)
            + " · "
            + _("closed by %(name)s on %(date)s")
            % {
                "name": closure.closed_by.printed_name,
                "date": date_format(timezone.localtime(closure.closed_at), "DATE_FORMAT"),
            }
            + (f" · {closure.record_label}" if closure.record_label else ""),
            reverse("approval-detail", args=[point.approval_id]),
            kind="open_point_closed",
            icon="bi-check2-circle",
        )


def _explain_items(user: User | AnonymousUser) -> Iterator[WaitingItem]:
    """The buyer: written requests to send before a gate falls due on a batch with undecided
    exceptions (``approvals.explain``)."""
    for offer in explain_offers(user):
        gate = offer.gate
        assert gate.due_date is not None
        yield WaitingItem(
            _("Ask the supplier to explain before %(gate)s falls due") % {"gate": gate},
            ngettext(
                "Batch %(batch)s of PO %(order)s · %(count)s exception not decided · the gate "
                "falls due %(due)s",
                "Batch %(batch)s of PO %(order)s · %(count)s exceptions not decided · the gate "
                "falls due %(due)s",
                offer.undecided,
            )
            % {
                "batch": offer.batch.code,
                "order": offer.batch.order.number,
                "count": offer.undecided,
                "due": date_format(gate.due_date, "DATE_FORMAT"),
            },
            offer.url,
            due=gate.due_date,
            overdue=is_overdue(gate.due_date),
            kind="explain_before_gate",
            icon="bi-chat-left-text",
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
        yield from _explain_items(user)
    yield from _open_point_items(user)
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
        waiting = states[gate.pk].waiting_on
        if state == BLOCKED and waiting:
            first = waiting[0]
            yield WaitingItem(
                ngettext(
                    "%(gate)s waits on %(count)d open point",
                    "%(gate)s waits on %(count)d open points",
                    len(waiting),
                )
                % {"gate": gate, "count": len(waiting)},
                _where(gate)
                + " · "
                + _("“%(text)s”, owner %(owner)s")
                % {"text": first.text, "owner": first.owner_label},
                reverse("approval-detail", args=[first.approval_id]),
                count=len(waiting) if len(waiting) > 1 else None,
                due=first.due_on,
                overdue=is_overdue(first.due_on),
                kind="gate_waiting_on_open_point",
                icon="bi-hourglass-split",
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
