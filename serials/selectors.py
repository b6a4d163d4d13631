"""Scoped reads for serial lists, exceptions and numbering rules: everything starts from the
batches the caller may see (``orders.selectors``)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Max, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from orders.models import Batch, Gate, GateRelease
from orders.selectors import batches_visible_to
from portal.models import User
from portal.roles import is_buyer_side, membership_of
from serials.models import NumberingRule, SerialException, SerialList, SerialPlacement


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


@dataclass(frozen=True)
class EarlyShipment:
    """Units of one batch that left on one day before the shipment gate holding them was
    released (``released_on`` None: it is not released at all)."""

    batch: Batch
    gate: Gate
    shipped_on: datetime.date
    units: int
    released_on: datetime.date | None

    @property
    def text(self) -> str:
        units = f"{self.units:,} unit{'' if self.units == 1 else 's'}"
        release = (
            f"released {self.released_on:%d %b %Y}" if self.released_on else "not released yet"
        )
        return (
            f"{units} of batch {self.batch.code} shipped on {self.shipped_on:%d %b %Y} "
            f"before the shipment release ({release})."
        )


def early_shipments(*, batches: Iterable[Batch]) -> list[EarlyShipment]:
    """Shipment dates of the batches' placements (the newest validated list of each kind
    speaks) that come before the release of the shipment gate holding the batch: its own, else
    the order's. Units are distinct serials. A batch no shipment gate holds is not flagged:
    there was nothing to wait for. A shipment on the day of the release is not flagged either,
    as a date cannot tell which came first."""
    batches = {batch.pk: batch for batch in batches}
    gates = list(
        Gate.objects.filter(
            order__in={batch.order_id for batch in batches.values()},
            kind=Gate.Kind.SHIPMENT_RELEASE,
        )
    )
    own = {gate.batch_id: gate for gate in gates if gate.batch_id}
    of_order = {gate.order_id: gate for gate in gates if gate.batch_id is None}
    holding = {
        pk: gate
        for pk, batch in batches.items()
        if (gate := own.get(pk) or of_order.get(batch.order_id)) is not None
    }
    if not holding:
        return []
    released = {
        gate_id: timezone.localdate(released_at)
        for gate_id, released_at in GateRelease.objects.filter(
            gate__in=holding.values()
        ).values_list("gate_id", "released_at")
    }
    speaking = (
        SerialList.objects.filter(batch__in=holding, status=SerialList.Status.DONE)
        .values("batch_id", "kind")
        .annotate(newest=Max("id"))
        .values("newest")
    )
    shipped = (
        SerialPlacement.objects.filter(serial_list__in=speaking, shipped_on__isnull=False)
        .values_list("batch_id", "shipped_on")
        .annotate(units=Count("serial", distinct=True))
        .order_by("batch_id", "shipped_on")
    )
    found = []
    for batch_id, shipped_on, units in shipped:
        gate = holding[batch_id]
        released_on = released.get(gate.pk)
        if released_on is None or shipped_on < released_on:
            found.append(EarlyShipment(batches[batch_id], gate, shipped_on, units, released_on))
    return found
