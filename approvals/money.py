"""The money of gates: what is due, paid and outstanding per gate, per order and per currency.

Reads only. Amounts in different currencies are never added together: a payment in another
currency than its gate's is shown beside it, never counted towards it."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.formats import number_format

from approvals.models import Gate, GateRelease, Payment
from approvals.services import GateState, gate_states
from orders.models import PurchaseOrder

ZERO = Decimal("0.00")


def money(amount: Decimal | None, currency: str) -> str:
    """``USD 12,500.00``: the currency code, then the amount with the reader's separators."""
    if amount is None:
        return ""
    text = number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{currency} {text}".strip()


@dataclass(frozen=True)
class GateMoney:
    """One gate's state and money, as the finance board shows it."""

    gate: Gate
    state: GateState
    release: GateRelease | None
    payments: list[Payment]
    today: datetime.date
    # Written requests pending on the gate (approvals.explain.pending_requests), where asked.
    pending_requests: tuple[Any, ...] = ()

    @property
    def amount(self) -> Decimal | None:
        return self.gate.amount

    @property
    def currency(self) -> str:
        return self.gate.currency

    @property
    def due_date(self) -> datetime.date | None:
        return self.gate.due_date

    @property
    def released(self) -> bool:
        return self.release is not None

    @property
    def paid_by_currency(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for payment in self.payments:
            totals[payment.currency] = totals.get(payment.currency, ZERO) + payment.amount
        return totals

    @property
    def paid(self) -> Decimal:
        """Paid so far in the gate's own currency (nothing, for a gate carrying no money)."""
        return self.paid_by_currency.get(self.currency, ZERO) if self.currency else ZERO

    @property
    def paid_elsewhere(self) -> dict[str, Decimal]:
        """Payments in currencies other than the gate's: shown, never added to it."""
        return {c: a for c, a in self.paid_by_currency.items() if c != self.currency}

    @property
    def outstanding(self) -> Decimal | None:
        """Still to pay (never below zero); None for a gate that carries no money."""
        if self.amount is None:
            return None
        return max(self.amount - self.paid, ZERO)

    @property
    def overpaid(self) -> Decimal:
        return max(self.paid - self.amount, ZERO) if self.amount is not None else ZERO

    @property
    def overdue(self) -> bool:
        """Past its due date with money still outstanding (or, carrying none, not released)."""
        if self.due_date is None or self.due_date >= self.today:
            return False
        if self.amount is not None:
            return self.paid < self.amount
        return not self.released

    @property
    def days_overdue(self) -> int:
        return (self.today - self.due_date).days if self.overdue and self.due_date else 0

    @property
    def paid_before_release(self) -> list[Payment]:
        """Payments recorded while the gate was not released: blocked, or open but unreleased."""
        return [payment for payment in self.payments if payment.paid_before_release]

    @property
    def paid_before_release_total(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for payment in self.paid_before_release:
            totals[payment.currency] = totals.get(payment.currency, ZERO) + payment.amount
        return totals

    @property
    def paid_while_blocked(self) -> bool:
        return any(payment.paid_while_blocked for payment in self.payments)

    # Sort keys for the board's table: money sorts within its currency.
    @property
    def sort_amount(self) -> tuple[str, Decimal]:
        return (self.currency, self.amount if self.amount is not None else ZERO)

    @property
    def sort_paid(self) -> tuple[str, Decimal]:
        return (self.currency, self.paid)

    @property
    def sort_outstanding(self) -> tuple[str, Decimal]:
        return (self.currency, self.outstanding if self.outstanding is not None else ZERO)

    @property
    def sort_due(self) -> datetime.date:
        return self.due_date or datetime.date.max


def gates_money(gates: Iterable[Gate], *, today: datetime.date | None = None) -> list[GateMoney]:
    """Each gate with its state, release and payments, from a fixed handful of queries."""
    gates = list(gates)
    if not gates:
        return []
    today = today or timezone.localdate()
    states = gate_states(gates)
    releases = {
        release.gate_id: release
        for release in GateRelease.objects.filter(gate__in=gates).select_related("released_by")
    }
    payments: dict[int, list[Payment]] = {}
    for payment in Payment.objects.filter(gate__in=gates).order_by("paid_on", "id"):
        payments.setdefault(payment.gate_id, []).append(payment)
    return [
        GateMoney(gate, states[gate.pk], releases.get(gate.pk), payments.get(gate.pk, []), today)
        for gate in gates
    ]


@dataclass
class MoneyTotal:
    """Money in one currency, of one order (``order`` None: of every order shown), split the
    way the chart draws it. Released gates: paid towards the amount due, and still unpaid;
    gates not released: open (an approval lets finance release them) and blocked."""

    currency: str
    order: PurchaseOrder | None = None
    due: Decimal = ZERO
    paid: Decimal = ZERO
    outstanding: Decimal = ZERO
    released_paid: Decimal = ZERO
    released_unpaid: Decimal = ZERO
    open: Decimal = ZERO
    blocked: Decimal = ZERO
    gates: int = 0
    overdue: int = 0
    supplier: str = field(default="")

    def add(self, row: GateMoney) -> None:
        assert row.amount is not None and row.outstanding is not None
        self.gates += 1
        self.overdue += row.overdue
        self.due += row.amount
        self.paid += row.paid
        self.outstanding += row.outstanding
        if row.released:
            self.released_unpaid += row.outstanding
            self.released_paid += row.amount - row.outstanding
        elif row.state.state == Gate.State.OPEN:
            self.open += row.amount
        else:
            self.blocked += row.amount


@dataclass(frozen=True)
class Totals:
    per_order: list[MoneyTotal]  # by order number, then currency
    per_currency: list[MoneyTotal]  # by currency


def money_totals(rows: Iterable[GateMoney]) -> Totals:
    """Totals per order and currency, and per currency over every order: never across two."""
    per_order: dict[tuple[str, str], MoneyTotal] = {}
    per_currency: dict[str, MoneyTotal] = {}
    for row in rows:
        if row.amount is None:
            continue
        order = row.gate.order
        key = (order.number, row.currency)
        if key not in per_order:
            per_order[key] = MoneyTotal(row.currency, order, supplier=str(order.supplier))
        per_order[key].add(row)
        per_currency.setdefault(row.currency, MoneyTotal(row.currency)).add(row)
    return Totals(
        per_order=[per_order[key] for key in sorted(per_order)],
        per_currency=[per_currency[key] for key in sorted(per_currency)],
    )
