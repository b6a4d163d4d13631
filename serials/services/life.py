"""A serial's life: recording what only a person can report (a unit returned, labels destroyed,
a serial decommissioned), and the friendly check before acceptance that names the destroyed
serials a list holds. The guarantee is the database's (``serials.life_models``): this module
only says it first, in words.

One lock order, as acceptance has it: the order row, then the scope's serial lock (taken by
the event's insert trigger), then the audit chain (``portal.audit``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, Min, Q, QuerySet
from django.db.models.functions import Length
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from orders.models import Batch, PurchaseOrder
from portal.audit import audit_log
from portal.models import User
from portal.roles import can_manage_orders, can_move_money, can_plan_inspections, is_buyer_side
from portal.storage import store_by_hash
from portal.uploads import upload_checked
from serials import engine
from serials.engine.rules import REASON_NAMES
from serials.life_models import SerialLifeEvent
from serials.models import (
    NumberingRule,
    SerialCode,
    SerialList,
    SerialPlacement,
    SerialRun,
    registry_scope,
)

PROOF_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
# A reel, a pallet of damaged labels: one event. More than this is a typing mistake.
RANGE_LIMIT = 1_000_000
PROOF_WHAT = gettext_noop("the record that proves it (a photo or a PDF)")
State = SerialLifeEvent.State


def can_record_life_state(user: User | AnonymousUser, state: str) -> bool:
    """Destroyed and decommissioned: the buyer's managers. Returned: they and customer service
    (the buyer's staff who neither move money nor plan inspections)."""
    if can_manage_orders(user):
        return True
    service = is_buyer_side(user) and not can_move_money(user) and not can_plan_inspections(user)
    return state == State.RETURNED and service


def life_states_for(user: User | AnonymousUser) -> list[tuple[str, str]]:
    """The states this person may record, as form choices."""
    return [
        (value, str(label)) for value, label in State.choices if can_record_life_state(user, value)
    ]


@dataclass(frozen=True)
class LifeSpan:
    """What an event covers, read against the batch's numbering rule."""

    first_serial: str
    last_serial: str
    counter_lo: int | None = None
    counter_hi: int | None = None
    code: str = ""


def life_span_read(*, batch: Batch, first: str, last: str = "") -> LifeSpan:
    """The serials ``first`` (to ``last``) as the batch's rule reads them; ValidationError on
    the field that does not fit it."""
    first, last = first.strip().upper(), (last.strip().upper() or first.strip().upper())
    rule = NumberingRule.for_order(batch.order)
    if rule is None:
        raise ValidationError(
            _("Product %(product)s has no numbering rule: set one first.")
            % {"product": batch.order.gtin or batch.order.sku}
        )
    if not first:
        raise ValidationError({"first_serial": _("Give the serial.")})
    if rule.uses_codes:
        if last != first:
            raise ValidationError(
                {"last_serial": _("Allocated codes are recorded one by one: leave this empty.")}
            )
        return LifeSpan(first, first, code=first[:100])
    engine_rule = rule.as_engine_rule()
    counters = []
    for field, value in (("first_serial", first), ("last_serial", last)):
        reason, counter = engine.classify_value(value, engine_rule)
        if counter is None:
            raise ValidationError(
                {
                    field: _("%(serial)s does not fit %(pattern)s: %(why)s")
                    % {
                        "serial": value,
                        "pattern": rule.pattern,
                        "why": engine.malformed_explanation(
                            value, REASON_NAMES[reason], engine_rule
                        ),
                    }
                }
            )
        counters.append(counter)
    lo, hi = counters
    if hi < lo:
        raise ValidationError({"last_serial": _("The last serial comes before the first.")})
    if hi - lo + 1 > RANGE_LIMIT:
        raise ValidationError(
            {"last_serial": _("At most %(limit)s serials in one event.") % {"limit": RANGE_LIMIT}}
        )
    return LifeSpan(engine_rule.format(lo), engine_rule.format(hi), lo, hi)


def _span_of_another_batch(batch: Batch, span: LifeSpan) -> Batch | None:
    """Another batch whose lists hold serials of the span, when the event belongs on that
    batch's page (its life line, its timeline, its order): a serial this batch does not hold,
    or any part of a range."""
    scope = registry_scope(batch.order)
    rows: QuerySet[SerialCode] | QuerySet[SerialRun]
    if span.code:
        rows = SerialCode.objects.filter(scope=scope, code=span.code)
    else:
        rows = SerialRun.objects.filter(
            scope=scope, lo__lte=span.counter_hi, hi__gte=span.counter_lo
        )
    # One serial is this batch's when its lists hold it, even if another's do too (reused);
    # a range reaching into another batch's serials is recorded part by part.
    single = bool(span.code) or span.counter_lo == span.counter_hi
    if single and rows.filter(batch=batch).exists():
        return None
    other = rows.exclude(batch=batch).select_related("batch__order").order_by("id").first()
    return other.batch if other is not None else None


def shipped_in_span(*, batch: Batch, span: LifeSpan) -> QuerySet[SerialPlacement]:
    """The shipped placements of the span's serials: units a customer may hold."""
    placements = SerialPlacement.objects.filter(
        scope=registry_scope(batch.order), shipped_on__isnull=False
    )
    if span.code:
        return placements.filter(serial=span.code)
    # One rule, one width: the serials of a counter range sort between its ends.
    return placements.alias(width=Length("serial")).filter(
        serial__gte=span.first_serial,
        serial__lte=span.last_serial,
        width=len(span.first_serial),
    )


def _shipped_refusal(batch: Batch, span: LifeSpan) -> ValidationError | None:
    shipped = shipped_in_span(batch=batch, span=span)
    first = shipped.order_by("shipped_on", "id").first()
    if first is None:
        return None
    count = shipped.values("serial").distinct().count()
    return ValidationError(
        {
            "shipped_confirmed": ngettext(
                "%(count)s of these serials was shipped to a customer (%(serial)s to "
                "%(customer)s on %(day)s). Whoever holds that unit will be told it is not "
                "genuine. Check it, then tick to record it all the same.",
                "%(count)s of these serials were shipped to customers (%(serial)s to "
                "%(customer)s on %(day)s, among others). Whoever holds one of those units will "
                "be told it is not genuine. Check them, then tick to record it all the same.",
                count,
            )
            % {
                "count": count,
                "serial": first.serial,
                "customer": first.customer_reference or _("a customer"),
                "day": f"{first.shipped_on:%Y-%m-%d}",
            }
        }
    )


@transaction.atomic
def serial_life_record(
    *,
    batch: Batch,
    user: User,
    state: str,
    first_serial: str,
    last_serial: str = "",
    reason: str,
    reference: str = "",
    proof: UploadedFile | None = None,
    shipped_confirmed: bool = False,
) -> SerialLifeEvent:
    """Append one event to the life of the serials ``first_serial`` – ``last_serial`` of the
    batch's product (scope: buyer + product), with who, when, why and its proof (a reference
    and/or a stored photo or PDF); audited. Never undone: a destroyed or decommissioned serial
    is refused by the registry from then on. Destroying or decommissioning serials of units
    already shipped needs ``shipped_confirmed``: a typing mistake would tell customers holding
    genuine units that they are not."""
    if state not in State.values:
        raise ValidationError({"state": _("Choose what happened.")})
    if not can_record_life_state(user, state):
        raise PermissionDenied(_("You may not record serials as %(state)s.") % {"state": state})
    reason, reference = reason.strip(), reference.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why: what happened to the unit or its label.")})
    if not reference and proof is None:
        raise ValidationError(
            {"reference": _("Name the record that proves it, or attach it (a photo or a PDF).")}
        )
    span = life_span_read(batch=batch, first=first_serial, last=last_serial)
    elsewhere = _span_of_another_batch(batch, span)
    if elsewhere is not None:
        raise ValidationError(
            {
                "first_serial": (
                    _(
                        "These serials are in the lists of batch %(batch)s of PO %(order)s, not "
                        "this batch's: record it from that batch's serial life page."
                    )
                    if span.code or span.counter_lo == span.counter_hi
                    else _(
                        "Some of these serials are in the lists of batch %(batch)s of PO "
                        "%(order)s: record that batch's part from its serial life page, and "
                        "this batch's here."
                    )
                )
                % {"batch": elsewhere.code, "order": elsewhere.order.number}
            }
        )
    if state in SerialLifeEvent.FINAL and not shipped_confirmed:
        refusal = _shipped_refusal(batch, span)
        if refusal is not None:
            raise refusal
    # The lock order of acceptance: the order row first (the event's insert then takes the
    # scope's serial lock, audit_log the chain's).
    PurchaseOrder.objects.select_for_update().filter(pk=batch.order_id).first()
    stored: dict[str, object] = {}
    if proof is not None:
        name, content_type = upload_checked(
            proof,
            allowed=PROOF_TYPES,
            max_bytes=settings.EVIDENCE_MAX_BYTES,
            field="proof",
            what=PROOF_WHAT,
        )
        storage_name, sha, size = store_by_hash(proof, folder="serial-life")
        stored = {
            "file": storage_name,
            "original_name": name,
            "content_type": content_type,
            "size": size,
            "sha256": sha,
        }
    event = SerialLifeEvent.objects.create(
        scope=registry_scope(batch.order),
        batch=batch,
        counter_lo=span.counter_lo,
        counter_hi=span.counter_hi,
        code=span.code,
        first_serial=span.first_serial,
        last_serial=span.last_serial,
        state=state,
        reason=reason,
        reference=reference[:200],
        recorded_by=user,
        **stored,
    )
    audit_log(
        actor=user,
        action="serial_life.recorded",
        obj=event,
        order=batch.order,
        payload={
            "state": state,
            "first_serial": span.first_serial,
            "last_serial": span.last_serial,
            "count": event.count,
            "reason": reason,
            "reference": reference,
            "sha256": event.sha256,
        },
    )
    return event


def final_events(*, scope: str, lo: int, hi: int) -> list[SerialLifeEvent]:
    """Destroyed or decommissioned events of the scope touching counters [lo, hi]."""
    return list(
        SerialLifeEvent.objects.filter(
            scope=scope,
            state__in=SerialLifeEvent.FINAL,
            counter_lo__lte=hi,
            counter_hi__gte=lo,
        ).select_related("recorded_by")
    )


def destroyed_in_list(serial_list: SerialList) -> list[SerialLifeEvent]:
    """The destroyed or decommissioned events covering any serial the list's registry rows hold:
    what acceptance would be refused for. Runs are compared with events, never serial by
    serial; codes through the (scope, code) index."""
    scope = registry_scope(serial_list.batch.order)
    finals = SerialLifeEvent.objects.filter(scope=scope, state__in=SerialLifeEvent.FINAL)
    if serial_list.uses_codes:
        held = SerialCode.objects.filter(serial_list=serial_list).values("code")
        return list(finals.filter(code__in=held).select_related("recorded_by"))
    span = SerialRun.objects.filter(serial_list=serial_list).aggregate(lo=Min("lo"), hi=Max("hi"))
    if span["lo"] is None:
        return []
    events = list(
        finals.filter(counter_lo__lte=span["hi"], counter_hi__gte=span["lo"]).select_related(
            "recorded_by"
        )
    )
    if not events:
        return []
    covering = Q()
    for event in events:
        covering |= Q(lo__lte=event.counter_hi, hi__gte=event.counter_lo)
    runs = list(SerialRun.objects.filter(covering, serial_list=serial_list).values_list("lo", "hi"))
    return [
        event
        for event in events
        if any(lo <= (event.counter_hi or 0) and hi >= (event.counter_lo or 0) for lo, hi in runs)
    ]


def destroyed_sentence(events: list[SerialLifeEvent]) -> str:
    """One refusal naming the serials and who reported them, when."""
    parts = [
        _("%(span)s (reported %(state)s on %(day)s by %(who)s)")
        % {
            "span": event.first_serial
            if event.first_serial == event.last_serial
            else f"{event.first_serial} – {event.last_serial}",
            "state": event.get_state_display().lower(),
            "day": f"{event.recorded_at:%Y-%m-%d}",
            "who": event.recorded_by.printed_name,
        }
        for event in events[:5]
    ]
    more = len(events) - len(parts)
    text = "; ".join(parts) + (_(" and %(more)s more") % {"more": more} if more > 0 else "")
    return _(
        "These serials were reported destroyed or decommissioned and can never be accepted "
        "again: %(serials)s. A unit carrying one is not genuine; ask the supplier."
    ) % {"serials": text}
