"""``{{ amount|money:currency }}``: "USD 12,500.00", with the reader's separators."""

from __future__ import annotations

from decimal import Decimal

from django import template

from approvals.money import money as money_text

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    return money_text(amount, currency)
