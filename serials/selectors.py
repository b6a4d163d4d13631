"""Scoped reads for serial lists, exceptions and numbering rules: everything starts from the
batches the caller may see (``orders.selectors``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


ANOMALY_HEADER = ["kind", "serial_or_first", "last", "count", "lines", "detail"]


def anomaly_rows(report: dict[str, Any]) -> Iterator[list[Any]]:
    """Every anomaly of a stored report, one row each (missing ranges as first..last)."""
    for unknown in report.get("unknown", []):
        yield ["unknown", unknown["code"], "", 1, unknown["line"], "never allocated"]
    for code in report.get("unused", []):
        yield ["unused", code, "", 1, "", "allocated, not used"]
    for lo, hi in report.get("missing_ranges", []):
        yield ["missing", lo, hi, hi - lo + 1, "", ""]
    for duplicate in report.get("duplicates", []):
        lines = " ".join(map(str, duplicate["lines"]))
        value = duplicate.get("serial") or duplicate.get("code")
        yield ["duplicate", value, "", duplicate["count"], lines, ""]
    for bad in report.get("malformed", []):  # sequential rules only
        yield ["malformed", bad["value"], "", 1, bad["line"], bad["reason"]]
    for out in report.get("out_of_range", []):
        yield ["out_of_range", out["serial"], "", 1, out["line"], ""]
    for reused in report.get("reused", []):
        where = f"PO {reused['order']} batch {reused['batch']}"
        yield ["reused", reused["serial"], "", 1, "", where]
