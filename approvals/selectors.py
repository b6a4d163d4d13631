"""Reads for approvals and gates; nothing here changes state."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Max
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, ngettext

from approvals.models import Gate, GateRelease
from orders.models import Batch
from serials.models import SerialList, SerialPlacement


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
        release = (
            gettext("released %(date)s") % {"date": date_format(self.released_on, "DATE_FORMAT")}
            if self.released_on
            else gettext("not released yet")
        )
        return ngettext(
            "%(units)s unit of batch %(batch)s shipped on %(date)s before the shipment release "
            "(%(release)s).",
            "%(units)s units of batch %(batch)s shipped on %(date)s before the shipment release "
            "(%(release)s).",
            self.units,
        ) % {
            "units": number_format(self.units, force_grouping=True),
            "batch": self.batch.code,
            "date": date_format(self.shipped_on, "DATE_FORMAT"),
            "release": release,
        }


def early_shipments(*, batches: Iterable[Batch]) -> list[EarlyShipment]:
    """Shipment dates of the batches' placements (the newest validated list of each kind
    speaks) that come before the release of the shipment gate holding the batch: its own, else
    the order's. Units are distinct serials. A batch no shipment gate holds is not flagged:
    there was nothing to wait for. A shipment on the day of the release is not flagged either,
    as a date cannot tell which came first."""
    by_pk = {batch.pk: batch for batch in batches}
    gates = list(
        Gate.objects.filter(
            order__in={batch.order_id for batch in by_pk.values()},
            kind=Gate.Kind.SHIPMENT_RELEASE,
        )
    )
    own = {gate.batch_id: gate for gate in gates if gate.batch_id}
    of_order = {gate.order_id: gate for gate in gates if gate.batch_id is None}
    holding = {
        pk: gate
        for pk, batch in by_pk.items()
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
            found.append(EarlyShipment(by_pk[batch_id], gate, shipped_on, units, released_on))
    return found
