"""EPCIS 2.0 out: a batch's accepted serials as one GS1 EPCIS 2.0 JSON-LD ``EPCISDocument``,
for the buyer's other systems (ERP, track and trace, a marketplace's registry).

The events, each tied to the purchase order (a ``bizTransactionList`` entry of type ``po``) and
to the signed approval that accepted the batch (a second ``bizTransactionList`` entry, and the
extension field ``sep:approval`` naming the approval's id and its manifest's SHA-256; ``sep`` is
declared in ``@context``):

- one commissioning ``ObjectEvent`` (ADD, ``commissioning``, ``active``) holding every accepted
  serial of the batch as an SGTIN URI, at the time the registry accepted the list;
- one ``AggregationEvent`` (ADD, ``packing``) per carton of the batch's carton list (the newest
  validated carton list, else the newest validated production list with a carton column), at
  the time that list was uploaded. The carton is the parent: an 18-digit SSCC with a valid check
  digit as its GS1 Digital Link URI ``https://id.gs1.org/00/<SSCC>`` (the carton's company
  prefix is the packer's, whose length the portal does not know, and that form needs none);
  any other carton id as ``<PORTAL_BASE_URL>/epcis/batches/<batch id>/cartons/<carton id>``,
  an identifier of ours (not a page);
- one shipping ``ObjectEvent`` (OBSERVE, ``shipping``, ``in_transit``) per shipment date and
  customer of the newest validated distribution list, at 00:00 UTC of that date (the list
  gives a day, not a time); the customer is the destination (``owning_party``), as
  ``<PORTAL_BASE_URL>/epcis/customers/<buyer id>/<customer reference>``.
- one ``ObjectEvent`` per recorded life event touching the batch's accepted serials
  (``serials.SerialLifeEvent``), at the time it was recorded: returned (OBSERVE, ``receiving``,
  ``returned``), destroyed (DELETE, ``destroying``, ``destroyed``), decommissioned (DELETE,
  ``decommissioning``, ``inactive``), with the extension ``sep:lifeEvent`` (its id, reason and
  reference).

Only accepted serials appear: a carton list's or distribution list's serial that the registry
does not hold for this batch is left out. Every ``eventID`` is the event's CBV 2.0 hash
(``dossier.epcis_hash``). A batch that cannot be written — a SKU product, no rule or no GS1
Company Prefix length on it, no accepted serials, no signed approval — raises ``EpcisRefused``
saying what to set or do.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import numpy as np
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.models import Approval
from dossier.epcis_hash import event_ids
from orders.models import Batch
from portal.errors import Conflict
from portal.models import AuditEvent
from serials import engine
from serials.life_models import SerialLifeEvent
from serials.models import (
    NumberingRule,
    SerialCode,
    SerialList,
    SerialPlacement,
    SerialRun,
    registry_scope,
)

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
MEDIA_TYPE = "application/ld+json"
# Characters an SGTIN serial may hold (GS1 AI encodable character set 82), and those an EPC URI
# must percent-escape among them (GS1 Tag Data Standard, "escaping" of the serial).
_CSET_82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
_ESCAPED = str.maketrans(
    {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}
)


class EpcisRefused(Conflict):
    """The batch's EPCIS document cannot be written yet; the message says what to set or do."""


def namespace() -> str:
    """Our extension namespace, ``sep:`` in the documents: under the portal's own address."""
    return f"{settings.PORTAL_BASE_URL}/epcis/vocabulary/"


def epcis_filename(batch: Batch) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{batch.order.number}-{batch.code}").strip("-")
    return f"epcis-PO-{safe}.jsonld"


def escape_serial(serial: str) -> str:
    """The serial as an EPC URI writes it: the characters TDS reserves percent-escaped."""
    return serial.translate(_ESCAPED)


def sgtin_prefix(gtin: str, company_prefix_length: int) -> str:
    """``urn:epc:id:sgtin:<company prefix>.<indicator + item reference>.`` for a GTIN: the
    indicator digit (the GTIN-14's first) moves to the front of the item reference, and the
    check digit is dropped."""
    gtin14 = gtin.strip().zfill(14)
    if not gtin14.isdigit() or len(gtin14) != 14:
        raise ValueError(f"{gtin!r} is not a GTIN.")
    if not 6 <= company_prefix_length <= 12:
        raise ValueError("A GS1 Company Prefix has 6 to 12 digits.")
    company = gtin14[1 : 1 + company_prefix_length]
    item_reference = gtin14[0] + gtin14[1 + company_prefix_length : 13]
    return f"urn:epc:id:sgtin:{company}.{item_reference}."


def sgtin_uri(gtin: str, company_prefix_length: int, serial: str) -> str:
    """One unit's SGTIN URI (GS1 Tag Data Standard), refused for a serial SGTIN cannot hold."""
    if not _CSET_82.fullmatch(serial):
        raise ValueError(
            f"Serial {serial!r} cannot be an SGTIN serial: 1 to 20 characters of GS1's "
            "character set 82."
        )
    return sgtin_prefix(gtin, company_prefix_length) + escape_serial(serial)


def _sscc_ok(carton: str) -> bool:
    if len(carton) != 18 or not carton.isdigit():
        return False
    return engine.gs1_check_digit(carton[:17]) == carton[17]


def carton_uri(batch: Batch, carton: str) -> str:
    """The parent of a carton's AggregationEvent (see the module's docstring)."""
    if _sscc_ok(carton):
        return f"https://id.gs1.org/00/{carton}"
    return f"{settings.PORTAL_BASE_URL}/epcis/batches/{batch.pk}/cartons/{quote(carton, safe='')}"


def customer_uri(batch: Batch, customer: str) -> str:
    return (
        f"{settings.PORTAL_BASE_URL}/epcis/customers/{batch.order.buyer_id}/"
        f"{quote(customer, safe='')}"
    )


def formatted_serials(rule: engine.NumberingRule, lo: int, hi: int) -> np.ndarray:
    """The serials of counters lo..hi in the rule's shape."""
    return _formatted(rule, np.arange(lo, hi + 1, dtype=np.int64))


def _formatted(rule: engine.NumberingRule, counters: np.ndarray) -> np.ndarray:
    """Serials in the rule's shape, built with NumPy (no row, no Python call per serial): the
    counter's digits, then the check digit, after the prefix."""
    powers = 10 ** np.arange(rule.width - 1, -1, -1, dtype=np.int64)
    digits = (counters[:, None] // powers[None, :]) % 10
    columns = [digits]
    if rule.has_check_digit:
        from_right = np.arange(rule.width - 1, -1, -1)
        if rule.check == "gs1":
            total = (digits * np.where(from_right % 2 == 0, 3, 1)).sum(axis=1)
        else:
            doubled = np.asarray([0, 2, 4, 6, 8, 1, 3, 5, 7, 9])
            total = np.where(from_right % 2 == 0, doubled[digits], digits).sum(axis=1)
        columns.append(((10 - total % 10) % 10)[:, None])
    body = (np.concatenate(columns, axis=1) + ord("0")).astype(np.uint8)
    prefix = np.frombuffer(rule.prefix.encode("ascii"), dtype=np.uint8)
    raw = np.concatenate([np.broadcast_to(prefix, (len(counters), len(prefix))), body], axis=1)
    return np.ascontiguousarray(raw).view(f"S{raw.shape[1]}").ravel().astype(str)


@dataclass
class Sources:
    """What a batch's document is written from, read once."""

    batch: Batch
    gtin: str
    company_prefix_length: int
    accepted_list: SerialList
    accepted_at: dt.datetime
    approval: Approval
    runs: list[tuple[int, int]]
    codes: list[str]


def _refuse(message: str) -> EpcisRefused:
    return EpcisRefused(message)


def _rule(batch: Batch) -> tuple[str, int]:
    order = batch.order
    if not order.gtin:
        raise _refuse(
            _(
                "PO %(order)s is for SKU %(sku)s: EPCIS identifies units by GTIN (SGTIN URIs). "
                "Give the order its product's GTIN to export EPCIS events."
            )
            % {"order": order.number, "sku": order.sku}
        )
    rule = NumberingRule.for_order(order)
    if rule is None or not rule.company_prefix_length:
        raise _refuse(
            _(
                "Set the GS1 Company Prefix length on the numbering rule for GTIN %(gtin)s "
                "(Numbering rules page): an SGTIN URI splits the GTIN there, and the GTIN "
                "alone cannot say where."
            )
            % {"gtin": order.gtin}
        )
    return order.gtin, rule.company_prefix_length


def epcis_sources(batch: Batch) -> Sources:
    """The records the batch's document rests on, or ``EpcisRefused``."""
    gtin, prefix_length = _rule(batch)
    runs = SerialRun.objects.filter(batch=batch, accepted=True)
    codes = SerialCode.objects.filter(batch=batch, accepted=True)
    list_id = (
        runs.values_list("serial_list", flat=True).first()
        or codes.values_list("serial_list", flat=True).first()
    )
    if list_id is None:
        raise _refuse(
            _(
                "Batch %(batch)s has no accepted serials yet: EPCIS events are written once "
                "the registry accepts its production list."
            )
            % {"batch": batch.code}
        )
    accepted_list = SerialList.objects.get(pk=list_id)
    approval = _approval(batch, accepted_list)
    accepted = (
        AuditEvent.objects.filter(
            action="batch.serials_accepted", object_id=str(batch.pk), object_type="orders.Batch"
        )
        .order_by("-id")
        .values_list("created_at", flat=True)
        .first()
    )
    return Sources(
        batch=batch,
        gtin=gtin,
        company_prefix_length=prefix_length,
        accepted_list=accepted_list,
        accepted_at=accepted or accepted_list.finished_at or accepted_list.uploaded_at,
        approval=approval,
        runs=sorted(runs.filter(serial_list=list_id).values_list("lo", "hi")),
        codes=sorted(codes.filter(serial_list=list_id).values_list("code", flat=True)),
    )


def _approval(batch: Batch, accepted_list: SerialList) -> Approval:
    """The signed approval that accepted the batch: the first that pins its accepted list,
    else the batch's newest approval that is not a rejection."""
    signed = Approval.objects.filter(batch=batch, signature__isnull=False).exclude(
        decision=Approval.Decision.REJECTED
    )
    pinning = signed.filter(pins__kind="serial_list", pins__object_id=accepted_list.pk)
    approval = (
        pinning.select_related("signature").order_by("id").first()
        or signed.select_related("signature").order_by("-id").first()
    )
    if approval is None:
        raise _refuse(
            _(
                "Batch %(batch)s has no signed approval accepting it: each EPCIS event names "
                "the approval it rests on."
            )
            % {"batch": batch.code}
        )
    return approval


def _time(when: dt.datetime) -> dict[str, str]:
    utc = when.astimezone(dt.UTC)
    return {
        "eventTime": utc.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "eventTimeZoneOffset": "+00:00",
    }


def _ties(sources: Sources) -> dict[str, Any]:
    """What every event carries: the PO, the approval (both as business transactions) and our
    extension naming the approval and its manifest's SHA-256."""
    base = settings.PORTAL_BASE_URL
    approval = sources.approval
    return {
        "bizTransactionList": [
            {"type": "po", "bizTransaction": f"{base}/orders/{sources.batch.order_id}/"},
            {"type": "sep:approval", "bizTransaction": f"{base}/approvals/{approval.pk}/"},
        ],
        "sep:approval": {
            "sep:approvalID": str(approval.pk),
            "sep:manifestSHA256": approval.manifest_sha256,
            "sep:decision": approval.decision,
            "sep:signedAt": _time(approval.signature.signed_at)["eventTime"],
            "sep:purchaseOrder": sources.batch.order.number,
            "sep:batch": sources.batch.code,
        },
    }


def accepted_serials(sources: Sources) -> Iterator[np.ndarray]:
    """The batch's accepted serials, run by run (or the codes, once)."""
    rule = sources.accepted_list.as_engine_rule() if sources.runs else None
    for lo, hi in sources.runs:
        assert rule is not None
        yield formatted_serials(rule, lo, hi)
    if sources.codes:
        yield np.asarray(sources.codes, dtype=str)


def _sgtins(sources: Sources, serials: Iterator[np.ndarray] | list[str]) -> list[str]:
    """SGTIN URIs of the serials. A sequential rule's serials are its prefix and digits: when
    one of them fits SGTIN and the prefix needs no escaping, they all do, and the URIs are made
    by NumPy; codes are checked and escaped one by one."""
    prefix = sgtin_prefix(sources.gtin, sources.company_prefix_length)
    rule = sources.accepted_list.as_engine_rule() if sources.runs else None
    uniform = (
        rule is not None
        and _CSET_82.fullmatch(rule.format(0)) is not None
        and escape_serial(rule.prefix) == rule.prefix
    )
    chunks = [serials] if isinstance(serials, list) else serials
    out: list[str] = []
    for chunk in chunks:
        if uniform and len(chunk):
            out.extend(np.char.add(prefix, np.asarray(chunk, dtype=str)).tolist())
            continue
        for serial in chunk.tolist() if isinstance(chunk, np.ndarray) else chunk:
            if not _CSET_82.fullmatch(serial):
                raise _refuse(
                    _(
                        "Serial %(serial)s of batch %(batch)s cannot be written as an SGTIN: "
                        "1 to 20 characters of GS1's character set 82."
                    )
                    % {"serial": serial, "batch": sources.batch.code}
                )
            out.append(prefix + escape_serial(serial))
    return out


def _counters(rule: engine.NumberingRule, serials: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each serial's counter and whether it is well-formed for the rule, with NumPy: its digits
    read as a number, then the rule's own writing of that number compared with the serial."""
    upper = np.char.upper(np.char.strip(np.asarray(serials, dtype=str)))
    length, start = rule.length, len(rule.prefix)
    raw = np.char.encode(upper, "ascii", "replace").astype(f"S{length}")
    grid = raw.view(np.uint8).reshape(len(serials), length).astype(np.int64) - ord("0")
    digits = grid[:, start : start + rule.width]
    readable = (np.char.str_len(upper) == length) & ((digits >= 0) & (digits <= 9)).all(axis=1)
    powers = 10 ** np.arange(rule.width - 1, -1, -1, dtype=np.int64)
    counters = np.where(readable, (np.clip(digits, 0, 9) * powers).sum(axis=1), 0)
    return counters, readable & (_formatted(rule, counters) == upper)


def _as_accepted(sources: Sources, serials: list[str]) -> list[str | None]:
    """Each serial as the registry writes it, or None where the registry does not hold it for
    the batch (a list's serial outside the accepted runs or codes)."""
    if not sources.runs:
        held = set(sources.codes)
        return [serial if serial in held else None for serial in serials]
    if not serials:
        return []
    rule = sources.accepted_list.as_engine_rule()
    counters, well_formed = _counters(rule, serials)
    lo = np.asarray([run[0] for run in sources.runs], dtype=np.int64)
    hi = np.asarray([run[1] for run in sources.runs], dtype=np.int64)
    index = np.searchsorted(lo, counters, side="right") - 1
    inside = (index >= 0) & well_formed
    inside[inside] = hi[index[inside]] >= counters[inside]
    out: list[str | None] = [None] * len(serials)
    kept = np.flatnonzero(inside).tolist()
    for position, text in zip(kept, _formatted(rule, counters[inside]).tolist(), strict=True):
        out[position] = text
    return out


def _speaking(batch: Batch, kind: str, *having: Any) -> SerialList | None:
    """The newest validated list of a kind: the one that speaks for the batch."""
    lists = SerialList.objects.filter(batch=batch, kind=kind, status=SerialList.Status.DONE)
    return lists.filter(*having).order_by("-id").first()


def _placements(sources: Sources, serial_list: SerialList, where: Q) -> list[tuple[Any, ...]]:
    rows = list(
        SerialPlacement.objects.filter(where, serial_list=serial_list)
        .order_by("line")
        .values_list("serial", "carton", "customer_reference", "shipped_on")
    )
    # The last row of a serial speaks, as in the lookup.
    last = {row[0]: row for row in rows}
    kept = list(last.values())
    serials = _as_accepted(sources, [row[0] for row in kept])
    return [(serial, *row[1:]) for serial, row in zip(serials, kept, strict=True) if serial]


def _commissioning(sources: Sources) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        **_time(sources.accepted_at),
        "epcList": _sgtins(sources, accepted_serials(sources)),
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        **_ties(sources),
    }


def _aggregations(sources: Sources) -> Iterator[dict[str, Any]]:
    batch = sources.batch
    carton_list = _speaking(batch, SerialList.Kind.CARTON) or _speaking(
        batch,
        SerialList.Kind.PRODUCTION,
        Exists(SerialPlacement.objects.filter(serial_list=OuterRef("pk")).exclude(carton="")),
    )
    if carton_list is None:
        return
    by_carton: dict[str, list[str]] = defaultdict(list)
    for serial, carton, _customer, _day in _placements(sources, carton_list, ~Q(carton="")):
        by_carton[carton].append(serial)
    for carton in sorted(by_carton):
        yield {
            "type": "AggregationEvent",
            **_time(carton_list.uploaded_at),
            "parentID": carton_uri(batch, carton),
            "childEPCs": _sgtins(sources, by_carton[carton]),
            "action": "ADD",
            "bizStep": "packing",
            **_ties(sources),
        }


def _shipments(sources: Sources) -> Iterator[dict[str, Any]]:
    batch = sources.batch
    distribution = _speaking(batch, SerialList.Kind.DISTRIBUTION)
    if distribution is None:
        return
    shipped: dict[tuple[dt.date, str], list[str]] = defaultdict(list)
    where = Q(shipped_on__isnull=False)
    for serial, _carton, customer, day in _placements(sources, distribution, where):
        shipped[(day, customer)].append(serial)
    for (day, customer), serials in sorted(shipped.items()):
        event: dict[str, Any] = {
            "type": "ObjectEvent",
            **_time(dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)),
            "epcList": _sgtins(sources, serials),
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
        }
        if customer:
            event["destinationList"] = [
                {"type": "owning_party", "destination": customer_uri(batch, customer)}
            ]
        yield {**event, **_ties(sources)}


# What a recorded life event says in CBV 2.0: (action, business step, disposition).
LIFE_EVENTS = {
    SerialLifeEvent.State.RETURNED: ("OBSERVE", "receiving", "returned"),
    SerialLifeEvent.State.DESTROYED: ("DELETE", "destroying", "destroyed"),
    SerialLifeEvent.State.DECOMMISSIONED: ("DELETE", "decommissioning", "inactive"),
}


def _life_events(sources: Sources) -> Iterator[dict[str, Any]]:
    """The recorded returns, destructions and decommissionings of the batch's accepted
    serials (``serials.SerialLifeEvent``), whichever batch's page recorded them: other systems
    must not go on treating a destroyed serial as live."""
    events = SerialLifeEvent.objects.filter(scope=registry_scope(sources.batch.order))
    if sources.runs:
        covering = Q()
        for lo, hi in sources.runs:
            covering |= Q(counter_lo__lte=hi, counter_hi__gte=lo)
        events = events.filter(covering)
    else:
        events = events.filter(code__in=sources.codes)
    rule = sources.accepted_list.as_engine_rule() if sources.runs else None
    for event in events.order_by("recorded_at", "id"):
        if rule is not None:
            assert event.counter_lo is not None and event.counter_hi is not None
            serials: Iterator[np.ndarray] | list[str] = (
                formatted_serials(rule, max(lo, event.counter_lo), min(hi, event.counter_hi))
                for lo, hi in sources.runs
                if lo <= event.counter_hi and hi >= event.counter_lo
            )
        else:
            serials = [event.code]
        action, step, disposition = LIFE_EVENTS[SerialLifeEvent.State(event.state)]
        yield {
            "type": "ObjectEvent",
            **_time(event.recorded_at),
            "epcList": _sgtins(sources, serials),
            "action": action,
            "bizStep": step,
            "disposition": disposition,
            **_ties(sources),
            "sep:lifeEvent": {
                "sep:lifeEventID": str(event.pk),
                "sep:reason": event.reason,
                "sep:reference": event.reference,
            },
        }


def epcis_context() -> list[Any]:
    return [EPCIS_CONTEXT, {"sep": namespace()}]


def epcis_document(batch: Batch) -> dict[str, Any]:
    """The batch's EPCISDocument (see the module's docstring), or ``EpcisRefused``."""
    sources = epcis_sources(batch)
    events = [
        _commissioning(sources),
        *_aggregations(sources),
        *_shipments(sources),
        *_life_events(sources),
    ]
    context = epcis_context()
    for event, event_id in zip(events, event_ids(context, events), strict=True):
        event["eventID"] = event_id
    return {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(timezone.now())["eventTime"],
        "epcisBody": {"eventList": events},
    }


def epcis_bytes(document: dict[str, Any]) -> bytes:
    """The document as the file holds it: compact UTF-8 JSON."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
