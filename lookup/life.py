"""A serial's life line, for the lookup: every state it went through, oldest first, each with
when, who, why and the record that proves it.

Nothing is stored per serial for the states other records already prove (a batch holds a
million serials): *allocated* is read from the allocation covering it, *commissioned* from the
acceptance's audit event and the accepted list, *sampled* from the inspection plans that drew
it, *shipped* from the distribution list that names it. Only what a person reports —
*returned*, *destroyed*, *decommissioned* — is a record of its own (``SerialLifeEvent``), read
here for every lookup (a handful of rows per scope) because a destroyed serial is the loudest
status there is; the composed line costs a few queries per serial, so it is built for lookups
of at most ``LIFE_LINE_LIMIT`` inputs (the page, the single API), not for a bulk CSV."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from inspection.models import InspectionPlan
from lookup.query import BatchRow, Found, Holder, LookupQuery
from lookup.results import Finding, LifeEntry, Links
from lookup.results import LifeState as L
from lookup.results import LookupStatus as S
from orders.selectors import orders_visible_to
from portal.models import AuditEvent
from serials.models import AllocatedRange, SerialLifeEvent, SerialList

LIFE_LINE_LIMIT = 100
# Within one day, the usual order of a unit's life (a recorded event then by its time).
STEP = {state: rank for rank, state in enumerate(L.values)}


@dataclass(slots=True)
class LifeRow:
    """A recorded life event (``SerialLifeEvent``) covering one input."""

    pk: int
    state: str
    first_serial: str
    last_serial: str
    reason: str
    reference: str
    file_name: str
    has_file: bool
    recorded_at: dt.datetime
    recorded_by: str
    batch: BatchRow

    @property
    def is_final(self) -> bool:
        return self.state in SerialLifeEvent.FINAL


def life_rows_attach(query: LookupQuery) -> None:
    """The recorded events over the inputs onto the inputs they cover (``Found.life``), in the
    caller's visible orders. Where lists speak, the query's UNION already found their ids
    (usually none: no statement more); a product without any validated list is read here, one
    statement per such scope, and an input it covers becomes known by its events."""
    members: dict[str, list[tuple[int, Found]]] = defaultdict(list)
    for position, per_scope in query.found.items():
        for one in per_scope:
            members[one.scope.key].append((position, one))
    visible = orders_visible_to(query.user)
    events = SerialLifeEvent.objects.filter(batch__order__in=visible)
    rows = events.filter(pk__in=query.life_ids) if query.life_ids else events.none()
    for scope in query.scopes:
        if not scope.positions or scope.key in members:
            continue
        counters: list[int | None] = list(scope.counters) or [None] * len(scope.positions)
        unlisted = [(p, Found(scope, c)) for p, c in zip(scope.positions, counters, strict=True)]
        found_rows = _unlisted_events(query, events, scope.key, unlisted)
        if not found_rows:
            continue
        _match(query, found_rows, unlisted)
        for position, one in unlisted:
            if one.life:
                query.found[position].append(one)
    if query.life_ids:
        by_scope: dict[str, list[SerialLifeEvent]] = defaultdict(list)
        for event in rows.select_related("batch__order", "recorded_by").order_by(
            "recorded_at", "id"
        ):
            by_scope[event.scope].append(event)
        for key, scope_events in by_scope.items():
            _match(query, scope_events, members.get(key, []))


def _unlisted_events(
    query: LookupQuery,
    events: QuerySet[SerialLifeEvent],
    key: str,
    unlisted: list[tuple[int, Found]],
) -> list[SerialLifeEvent]:
    counters = [one.counter for __, one in unlisted if one.counter is not None]
    if counters:
        events = events.filter(counter_lo__lte=max(counters), counter_hi__gte=min(counters))
    else:
        events = events.filter(code__in={query.results[p].serial for p, __ in unlisted})
    return list(
        events.filter(scope=key)
        .select_related("batch__order", "recorded_by")
        .order_by("recorded_at", "id")
    )


def _match(
    query: LookupQuery, events: list[SerialLifeEvent], members: list[tuple[int, Found]]
) -> None:
    """Each event onto the inputs it covers: a range by a slice of the inputs sorted by counter
    (a bulk lookup is 100,000 inputs), a code by its text."""
    numbered = sorted(
        ((one.counter, one) for __, one in members if one.counter is not None),
        key=lambda pair: pair[0],
    )
    counters = np.asarray([counter for counter, __ in numbered], dtype=object)
    by_code: dict[str, list[Found]] = defaultdict(list)
    for position, one in members:
        if one.counter is None:
            by_code[query.results[position].serial].append(one)
    for event in events:
        row = _row(query, event)
        if event.counter_lo is not None and event.counter_hi is not None:
            first = int(np.searchsorted(counters, event.counter_lo, side="left"))
            last = int(np.searchsorted(counters, event.counter_hi, side="right"))
            covered = [one for __, one in numbered[first:last]]
        else:
            covered = by_code.get(event.code, [])
        for one in covered:
            one.life.append(row)


def _row(query: LookupQuery, event: SerialLifeEvent) -> LifeRow:
    batch = query.batches.get(event.batch_id)
    if batch is None:
        order = event.batch.order
        batch = query.batches[event.batch_id] = BatchRow(
            event.batch_id, event.batch.code, order.pk, order.number, order.order_date
        )
    return LifeRow(
        pk=event.pk,
        state=event.state,
        first_serial=event.first_serial,
        last_serial=event.last_serial,
        reason=event.reason,
        reference=event.reference,
        file_name=event.original_name,
        has_file=bool(event.sha256),
        recorded_at=event.recorded_at,
        recorded_by=event.recorded_by.printed_name,
        batch=batch,
    )


def life_findings(one: Found, line: list[LifeEntry], links: Links) -> list[Finding]:
    """A destroyed or decommissioned serial is the loudest status: it says who reported it and
    when, and where the serial turned up again after that (a later list, a shipment)."""
    findings = []
    for row in one.life:
        if not row.is_final:
            continue
        later = [
            entry
            for entry in line
            if not entry.is_final
            and entry.state != L.ALLOCATED
            and entry.day > row.recorded_at.date()
        ]
        again = "".join(
            " "
            + _("It turned up again after that: %(state)s on %(day)s (%(why)s).")
            % {"state": entry.label.lower(), "day": _day(entry.day), "why": entry.why}
            for entry in later
        )
        findings.append(
            Finding(
                S.DESTROYED,
                _(
                    "Reported %(state)s on %(day)s by %(who)s: “%(reason)s”; a unit carrying it "
                    "is not genuine. Hold the unit and honour no warranty claim on it."
                )
                % {
                    "state": SerialLifeEvent.State(row.state).label.lower(),
                    "day": _day(row.recorded_at.date()),
                    "who": row.recorded_by,
                    "reason": _short(row.reason),
                }
                + again,
                links.url("batch-serial-life", row.batch.pk),
            )
        )
    return findings


def life_line(
    one: Found, holders: list[Holder], home: BatchRow | None, links: Links
) -> list[LifeEntry]:
    """The composed life line of one looked-up serial, oldest first (see the module's doc)."""
    entries: list[LifeEntry] = []
    lists = _lists(one, holders)
    if home is not None:
        entries += _allocated(one, home, holders, lists, links)
    for holder in holders:
        if holder.accepted:
            entries += _commissioned(holder, lists, links)
    entries += _sampled(one, links)
    for kind, batch, list_id, _carton, customer, shipped_on in one.placements:
        if kind != SerialList.Kind.DISTRIBUTION:
            continue
        shipment_list = lists[list_id]
        entries.append(
            LifeEntry(
                state=L.SHIPPED,
                at=shipped_on or shipment_list.uploaded_at,
                who=shipment_list.uploaded_by.printed_name,
                why=_("to %(customer)s, in the distribution list of %(batch)s")
                % {"customer": customer or _("a customer not named"), "batch": batch.label},
                url=links.url("serial-list-detail", list_id),
                proof=shipment_list.original_name,
            )
        )
    for row in one.life:
        entries.append(
            LifeEntry(
                state=row.state,
                at=row.recorded_at,
                who=row.recorded_by,
                why=row.reason,
                url=links.url("batch-serial-life", row.batch.pk),
                proof=row.reference or row.file_name,
                proof_url=links.url("serial-life-file", row.pk) if row.has_file else "",
            )
        )
    return sorted(entries, key=_order)


def _order(entry: LifeEntry) -> tuple[dt.date, int, str]:
    recorded = entry.state in (L.RETURNED, L.DESTROYED, L.DECOMMISSIONED)
    step = STEP[L.RETURNED] if recorded else STEP[entry.state]
    time = entry.at.isoformat() if isinstance(entry.at, dt.datetime) else ""
    return (entry.day, step, time)


def _lists(one: Found, holders: list[Holder]) -> dict[int, SerialList]:
    ids = {holder.list_id for holder in holders} | {p[2] for p in one.placements}
    return SerialList.objects.select_related("uploaded_by", "allocated_codes__created_by").in_bulk(
        ids
    )


def _allocated(
    one: Found,
    home: BatchRow,
    holders: list[Holder],
    lists: dict[int, SerialList],
    links: Links,
) -> list[LifeEntry]:
    """The allocation in force covering the serial: the newest range of its batch or order
    (sequential rules), or the code list its batch's list was checked against (codes)."""
    url = links.url("order-detail", home.order_id)
    if one.counter is not None:
        allocation = (
            AllocatedRange.objects.filter(order_id=home.order_id)
            .filter(Q(batch_id=home.pk) | Q(batch=None))
            .select_related("created_by")
            .order_by("-id")
            .first()
        )
        if allocation is None or not allocation.lo <= one.counter <= allocation.hi:
            return []
        why = _("in %(first)s – %(last)s, allocated for PO %(order)s") % {
            "first": allocation.first_serial,
            "last": allocation.last_serial,
            "order": home.order_number,
        }
        return [
            LifeEntry(
                L.ALLOCATED, allocation.created_at, allocation.created_by.printed_name, why, url
            )
        ]
    for holder in holders:
        codes = lists[holder.list_id].allocated_codes
        if codes is not None and holder.batch.pk == home.pk:
            why = _("in the allocated code list %(name)s") % {"name": codes.original_name}
            return [
                LifeEntry(L.ALLOCATED, codes.created_at, codes.created_by.printed_name, why, url)
            ]
    return []


def _commissioned(holder: Holder, lists: dict[int, SerialList], links: Links) -> list[LifeEntry]:
    """The acceptance of the list that holds it, as its audit event recorded it."""
    event = (
        AuditEvent.objects.filter(
            action="batch.serials_accepted",
            object_type="orders.Batch",
            object_id=str(holder.batch.pk),
            payload__serial_list=holder.list_id,
        )
        .order_by("-id")
        .first()
    )
    if event is None:
        return []
    why = _("accepted into the registry with the production list of %(batch)s") % {
        "batch": holder.batch.label
    }
    url = links.url("serial-list-detail", holder.list_id)
    return [
        LifeEntry(
            L.COMMISSIONED,
            event.created_at,
            event.actor_label,
            why,
            url,
            proof=lists[holder.list_id].original_name,
        )
    ]


def _sampled(one: Found, links: Links) -> list[LifeEntry]:
    plans = InspectionPlan.objects.select_related("created_by").in_bulk(
        {plan_id for plan_id, __ in one.sampled}
    )
    entries = []
    for plan_id, batch in one.sampled:
        plan = plans[plan_id]
        try:
            url = links.url("inspection-detail", plan_id)
        except NoReverseMatch:  # inspection pages arrive separately
            url = links.url("batch-detail", batch.pk)
        why = _("drawn into inspection #%(plan)s of %(batch)s") % {
            "plan": plan_id,
            "batch": batch.label,
        }
        entries.append(
            LifeEntry(L.SAMPLED, plan.created_at, plan.created_by.printed_name, why, url)
        )
    return entries


def _day(day: dt.date) -> str:
    return date_format(day, "DATE_FORMAT")


def _short(text: str) -> str:
    return text if len(text) <= 160 else text[:159] + "…"
