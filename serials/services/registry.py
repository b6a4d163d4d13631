"""The registry a validated list writes, in its result's transaction: the batch's runs of
serials or its codes (derived, replaced by a newer list until accepted), and where each serial
went (placements). Reuse checks read the registry: serials held by other batches in the same
scope, and serials reported destroyed or decommissioned (``SerialLifeEvent``), which no unit may
carry again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from orders.models import Batch
from portal.bulk import bulk_insert
from serials import columns, engine
from serials.models import (
    SerialCode,
    SerialLifeEvent,
    SerialList,
    SerialPlacement,
    SerialRun,
    registry_scope,
)
from serials.reports import ReusedSerial

# Rows a report lists one by one (anomalies, reused serials); beyond it they are only counted.
REPORT_LIMIT = 1000


@dataclass(frozen=True)
class ReusedRun:
    """A run of this list's serials another batch holds; ``order`` and ``batch`` as this
    supplier may read them ("(another supplier)")."""

    lo: int
    hi: int
    order: str
    batch: str
    accepted: bool
    other_batch: Batch
    # Reported destroyed or decommissioned on that day (other_batch: the event's batch).
    destroyed_on: dt.date | None = None

    @property
    def size(self) -> int:
        return self.hi - self.lo + 1


@dataclass(frozen=True)
class _Reuse:
    count: int  # serials in all
    listed: tuple[ReusedSerial, ...]  # the first REPORT_LIMIT, for the report
    runs: list[ReusedRun]  # every overlap, for the exceptions


def _reuse(
    serial_list: SerialList, rule: engine.NumberingRule, lo: np.ndarray, hi: np.ndarray
) -> _Reuse:
    """Serials of this list already held by accepted batches or by other batches' pending
    lists, in the same scope. Runs are compared with runs: no per-serial work."""
    batch = serial_list.batch
    if not len(lo):
        return _Reuse(0, (), [])
    others = (
        SerialRun.objects.filter(
            scope=registry_scope(batch.order), lo__lte=int(hi[-1]), hi__gte=int(lo[0])
        )
        .exclude(batch=batch)
        .select_related("batch__order")
        .order_by("lo")
    )
    overlaps: list[ReusedRun] = []
    for other in others.iterator(chunk_size=5000):
        # My runs that can touch [other.lo, other.hi]: sorted, disjoint, so a slice.
        first = int(np.searchsorted(hi, other.lo, side="left"))
        last = int(np.searchsorted(lo, other.hi, side="right"))
        if first >= last:
            continue
        starts = np.maximum(lo[first:last], other.lo)
        ends = np.minimum(hi[first:last], other.hi)
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            if start <= end:
                # Another supplier's order numbers are not this supplier's business.
                same_supplier = other.batch.order.supplier_id == batch.order.supplier_id
                overlaps.append(
                    ReusedRun(
                        lo=start,
                        hi=end,
                        order=other.batch.order.number if same_supplier else "(another supplier)",
                        batch=other.batch.code if same_supplier else "(another supplier)",
                        accepted=other.accepted,
                        other_batch=other.batch,
                    )
                )
    overlaps += _destroyed_runs(serial_list, lo, hi)
    overlaps.sort(key=lambda overlap: overlap.lo)
    count = sum(overlap.size for overlap in overlaps)
    listed: list[ReusedSerial] = []
    for overlap in overlaps:
        for counter in range(overlap.lo, min(overlap.hi, overlap.lo + REPORT_LIMIT) + 1):
            if len(listed) == REPORT_LIMIT:
                break
            listed.append(ReusedSerial(rule.format(counter), overlap.order, overlap.batch))
    return _Reuse(count, tuple(listed), overlaps)


def _destroyed_runs(serial_list: SerialList, lo: np.ndarray, hi: np.ndarray) -> list[ReusedRun]:
    """The list's serials inside a destroyed or decommissioned event of the scope: events are
    few, each compared with the list's sorted runs by a slice."""
    batch = serial_list.batch
    events = SerialLifeEvent.objects.filter(
        scope=registry_scope(batch.order),
        state__in=SerialLifeEvent.FINAL,
        counter_lo__lte=int(hi[-1]),
        counter_hi__gte=int(lo[0]),
    ).select_related("batch")
    found: list[ReusedRun] = []
    for event in events:
        assert event.counter_lo is not None and event.counter_hi is not None  # a range, here
        first = int(np.searchsorted(hi, event.counter_lo, side="left"))
        last = int(np.searchsorted(lo, event.counter_hi, side="right"))
        starts = np.maximum(lo[first:last], event.counter_lo).tolist()
        ends = np.minimum(hi[first:last], event.counter_hi).tolist()
        for start, end in zip(starts, ends, strict=True):
            if start <= end:
                found.append(
                    ReusedRun(
                        lo=start,
                        hi=end,
                        order="(destroyed)",
                        batch="(destroyed)",
                        accepted=False,
                        other_batch=event.batch,
                        destroyed_on=event.recorded_at.date(),
                    )
                )
    return found


def _record_runs(serial_list: SerialList, lo: np.ndarray, hi: np.ndarray) -> None:
    """Replace the batch's pending runs with this list's (derived data, not a record)."""
    if not _speaks_for_batch(serial_list):
        return
    batch = serial_list.batch
    SerialRun.objects.filter(batch=batch, accepted=False).delete()
    scope = registry_scope(batch.order)
    bulk_insert(
        SerialRun,
        ("scope", "lo", "hi", "batch_id", "serial_list_id", "accepted"),
        (
            (scope, a, b, batch.pk, serial_list.pk, False)
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True)
        ),
    )


def _record_placements(serial_list: SerialList, placements: columns.ListColumns | None) -> None:
    """Store where each serial of the list went (carton, customer, shipment date), in the
    result's transaction: a list that fails or loses its claim leaves no rows behind. Rows are
    the list's own and never replaced; the lookup reads the newest validated list per kind."""
    if placements is None or not len(placements):
        return
    batch = serial_list.batch
    scope = registry_scope(batch.order)
    n = len(placements)
    cartons = placements.cartons or [""] * n
    customers = placements.customers or [""] * n
    shipped = placements.shipped or [None] * n
    bulk_insert(
        SerialPlacement,
        (
            "serial_list_id",
            "batch_id",
            "scope",
            "line",
            "serial",
            "carton",
            "customer_reference",
            "shipped_on",
        ),
        (
            (serial_list.pk, batch.pk, scope, line, serial, carton, customer, shipped_on)
            for line, serial, carton, customer, shipped_on in zip(
                placements.lines, placements.serials, cartons, customers, shipped, strict=True
            )
        ),
    )


def _speaks_for_batch(serial_list: SerialList) -> bool:
    """Only a production list, and only the newest finished one, fills the batch's registry."""
    if serial_list.kind != SerialList.Kind.PRODUCTION:
        return False
    return not serial_list.batch.serial_lists.filter(
        kind=SerialList.Kind.PRODUCTION, pk__gt=serial_list.pk, status=SerialList.Status.DONE
    ).exists()


@dataclass(frozen=True)
class ReusedCodes:
    """This list's codes one other batch holds; the labels as this supplier may read them."""

    batch: Batch
    order_label: str
    batch_label: str
    accepted: bool
    codes: list[str]
    destroyed: bool = False  # reported destroyed or decommissioned (batch: the events' batch)


@dataclass(frozen=True)
class _CodeReuse:
    count: int  # codes in all
    listed: tuple[ReusedSerial, ...]  # the first REPORT_LIMIT, for the report
    groups: list[ReusedCodes]  # one per other batch, for the exceptions


def _code_reuse(serial_list: SerialList, codes: list[str]) -> _CodeReuse:
    """Codes of this list already held by other batches of the same buyer and product."""
    batch = serial_list.batch
    held: dict[int, list[str]] = {}  # other batch -> its codes among mine
    accepted_by: dict[int, bool] = {}
    reused_codes: dict[str, int] = {}
    for start in range(0, len(codes), 5000):
        rows = (
            SerialCode.objects.filter(
                scope=registry_scope(batch.order), code__in=codes[start : start + 5000]
            )
            .exclude(batch=batch)
            .values_list("code", "batch_id", "accepted")
        )
        for code, batch_id, accepted in rows:
            held.setdefault(batch_id, []).append(code)
            accepted_by[batch_id] = accepted_by.get(batch_id, False) | accepted
            reused_codes.setdefault(code, batch_id)
    others = Batch.objects.select_related("order").in_bulk(list(held))
    groups: dict[int, ReusedCodes] = {}
    for batch_id, held_codes in held.items():
        other = others[batch_id]
        same_supplier = other.order.supplier_id == batch.order.supplier_id
        groups[batch_id] = ReusedCodes(
            batch=other,
            order_label=other.order.number if same_supplier else "(another supplier)",
            batch_label=other.code if same_supplier else "(another supplier)",
            accepted=accepted_by[batch_id],
            codes=held_codes,
        )
    destroyed = _destroyed_codes(serial_list, codes)
    for code in (code for group in destroyed for code in group.codes):
        reused_codes.setdefault(code, -1)
    listed = []
    for code in sorted(reused_codes)[:REPORT_LIMIT]:
        if reused_codes[code] == -1:
            listed.append(ReusedSerial(code, "(destroyed)", "(destroyed)"))
            continue
        group = groups[reused_codes[code]]
        listed.append(ReusedSerial(code, group.order_label, group.batch_label))
    return _CodeReuse(len(reused_codes), tuple(listed), [*groups.values(), *destroyed])


def _destroyed_codes(serial_list: SerialList, codes: list[str]) -> list[ReusedCodes]:
    """The list's codes reported destroyed or decommissioned, one group per events' batch."""
    by_batch: dict[int, ReusedCodes] = {}
    for start in range(0, len(codes), 5000):
        events = SerialLifeEvent.objects.filter(
            scope=registry_scope(serial_list.batch.order),
            state__in=SerialLifeEvent.FINAL,
            code__in=codes[start : start + 5000],
        ).select_related("batch")
        for event in events:
            group = by_batch.setdefault(
                event.batch_id,
                ReusedCodes(event.batch, "(destroyed)", "(destroyed)", False, [], destroyed=True),
            )
            group.codes.append(event.code)
    return list(by_batch.values())


def _record_codes(serial_list: SerialList, codes: list[str]) -> None:
    """Replace the batch's pending codes with this list's (derived data, not a record)."""
    if not _speaks_for_batch(serial_list):
        return
    batch = serial_list.batch
    SerialCode.objects.filter(batch=batch, accepted=False).delete()
    scope = registry_scope(batch.order)
    bulk_insert(
        SerialCode,
        ("scope", "code", "batch_id", "serial_list_id", "accepted"),
        ((scope, code, batch.pk, serial_list.pk, False) for code in codes),
    )
