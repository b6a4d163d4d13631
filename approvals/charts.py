"""The finance board's chart: per order, a horizontal bar of its money split by where it stands
(released and paid, released and unpaid, open, blocked). Drawn on the server as SVG shapes; the
template writes them out, so no script or chart library is needed, and the figures are the
totals table's own."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from approvals.money import MoneyTotal, Totals, money

# (attribute of MoneyTotal, CSS class, legend): the order the segments are drawn, left to right.
SEGMENTS: list[tuple[str, str, Promise]] = [
    ("released_paid", "money-released-paid", _("Released, paid")),
    ("released_unpaid", "money-released-unpaid", _("Released, not paid yet")),
    ("open", "money-open", _("Open: ready to release")),
    ("blocked", "money-blocked", _("Blocked: waiting for an approval")),
]
WIDTH = Decimal(1000)  # the SVG's viewBox width; the bar is stretched to the card's width


@dataclass(frozen=True)
class Segment:
    css: str
    label: Promise
    amount: Decimal
    text: str  # "USD 18,000.00"
    x: Decimal
    width: Decimal


@dataclass(frozen=True)
class Bar:
    total: MoneyTotal
    segments: list[Segment]
    length: Decimal  # of WIDTH: the biggest order of the currency fills it

    @property
    def description(self) -> str:
        """What the bar shows, in words: its accessible name."""
        parts = [f"{segment.label}: {segment.text}" for segment in self.segments]
        return f"PO {self.total.order.number if self.total.order else ''}, " + "; ".join(parts)


@dataclass(frozen=True)
class CurrencyChart:
    currency: str
    bars: list[Bar]
    total: MoneyTotal


def money_chart(totals: Totals) -> list[CurrencyChart]:
    """One chart per currency (amounts in two currencies share no scale), one bar per order."""
    charts = []
    for overall in totals.per_currency:
        rows = [total for total in totals.per_order if total.currency == overall.currency]
        biggest = max((total.due for total in rows), default=Decimal(0))
        bars = [_bar(total, biggest) for total in rows]
        charts.append(CurrencyChart(overall.currency, bars, overall))
    return charts


def _bar(total: MoneyTotal, biggest: Decimal) -> Bar:
    scale = WIDTH / biggest if biggest else Decimal(0)
    segments, x = [], Decimal(0)
    for attribute, css, label in SEGMENTS:
        amount: Decimal = getattr(total, attribute)
        if not amount:
            continue
        width = (amount * scale).quantize(Decimal("0.1"))
        text = money(amount, total.currency)
        segments.append(Segment(css, label, amount, text, x, width))
        x += width
    return Bar(total, segments, x)
