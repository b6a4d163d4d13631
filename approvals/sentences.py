"""How the approvals app's audit events read on the order timeline (see portal.timeline)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from approvals.models import Approval, Gate, Payment
from orders.promises import promises_label
from portal.models import AuditEvent
from portal.timeline import (
    actor,
    batch_link_register,
    label_of,
    money,
    quoted,
    sentence_register,
)
from portal.timeline import value as payload


def _approval_target(event: AuditEvent) -> str:
    """ "batch B1" or "PO 2026-0141": the approval names its batch by id only."""
    found = Approval.objects.filter(pk=event.object_id).values_list("batch__code", "order__number")
    batch, order = found.first() or (None, None)
    if batch:
        return _("batch %(batch)s") % {"batch": batch}
    return _("PO %(order)s") % {"order": order} if order else event.object_label


def _signed(event: AuditEvent) -> str:
    facts = {
        "actor": actor(event),
        "target": _approval_target(event),
        "decision": label_of(Approval.Decision.choices, payload(event, "decision", "")).lower(),
        "sentence": quoted(payload(event, "sentence", ""), 240),
        "gates": ", ".join(payload(event, "gates", [])),
        "promises": promises_label(",".join(payload(event, "promises", []) or [])).lower(),
    }
    sentence = _signed_decision(facts)
    if facts["promises"]:
        sentence = _("%(sentence)s (it tests %(promises)s)") % {
            "sentence": sentence,
            "promises": facts["promises"],
        }
    points = payload(event, "open_points", []) or []
    if points:
        sentence = _("%(sentence)s; open points: %(points)s") % {
            "sentence": sentence,
            "points": "; ".join(quoted(point, 120) for point in points),
        }
    if payload(event, "gate_reason"):
        sentence = _(
            "%(sentence)s; it opens a gate its promises do not cover because %(reason)s"
        ) % {
            "sentence": sentence,
            "reason": quoted(payload(event, "gate_reason"), 200),
        }
    return sentence


def _signed_decision(facts: dict[str, str]) -> str:
    if facts["gates"]:
        return (
            _(
                "%(actor)s signed an approval for %(target)s: %(decision)s — %(sentence)s; "
                "it unlocks %(gates)s"
            )
            % facts
        )
    return _("%(actor)s signed an approval for %(target)s: %(decision)s — %(sentence)s") % facts


def _stale(event: AuditEvent) -> str:
    return _("The approval for %(target)s turned stale, and its gates closed: %(reason)s") % {
        "target": _approval_target(event),
        "reason": payload(event, "reason", ""),
    }


def _open_point_closed(event: AuditEvent) -> str:
    facts = {
        "actor": actor(event),
        "text": quoted(payload(event, "text") or event.object_label, 160),
        "id": payload(event, "approval", ""),
        "owner": payload(event, "owner", ""),
        "note": quoted(payload(event, "note", "")),
        "record": payload(event, "record", ""),
    }
    if facts["record"]:
        return (
            _(
                "%(actor)s closed the open point %(text)s of approval #%(id)s (owner: %(owner)s) "
                "with %(record)s: %(note)s"
            )
            % facts
        )
    return (
        _(
            "%(actor)s closed the open point %(text)s of approval #%(id)s (owner: %(owner)s): "
            "%(note)s"
        )
        % facts
    )


def _gate_created(event: AuditEvent) -> str:
    facts = {
        "actor": actor(event),
        "gate": payload(event, "gate") or event.object_label,
        "amount": money(payload(event, "amount"), payload(event, "currency", "")),
    }
    if payload(event, "amount") and payload(event, "currency"):
        return _("%(actor)s set up the gate “%(gate)s” for %(amount)s") % facts
    return _("%(actor)s set up the gate “%(gate)s”") % facts


def _gates_created(events: list[AuditEvent]) -> str:
    return _("%(actor)s set up %(n)s gates: %(gates)s") % {
        "actor": actor(events[0]),
        "n": len(events),
        "gates": ", ".join(
            str(payload(event, "gate") or event.object_label) for event in reversed(events)
        ),
    }


def _gate_released(event: AuditEvent) -> str:
    facts = {
        "actor": actor(event),
        "gate": event.object_label,
        "state": label_of(Gate.State.choices, payload(event, "state_before", "")).lower(),
        "reason": quoted(payload(event, "reason", "")),
    }
    if payload(event, "with_exception"):
        return (
            _(
                "%(actor)s released the gate “%(gate)s” with an exception, while it was "
                "%(state)s: %(reason)s"
            )
            % facts
        )
    return _("%(actor)s released the gate “%(gate)s”") % facts


def _payment(event: AuditEvent) -> str:
    facts = {
        "actor": actor(event),
        "amount": money(payload(event, "amount"), payload(event, "currency", "")),
        "payee": payload(event, "payee"),
        "kind": label_of(Payment.Kind.choices, payload(event, "kind", "")).lower(),
        "gate": payload(event, "gate"),
        "reason": quoted(payload(event, "reason", "")),
    }
    if payload(event, "gate_state") == Gate.State.BLOCKED:
        return (
            _(
                "%(actor)s recorded a %(kind)s of %(amount)s to %(payee)s while the gate "
                "“%(gate)s” was blocked: %(reason)s"
            )
            % facts
        )
    return _("%(actor)s recorded a %(kind)s of %(amount)s to %(payee)s (gate “%(gate)s”)") % facts


def timeline_sentences_register() -> None:
    sentence_register("approval.signed", kind="approvals", render=_signed)
    sentence_register("approval.stale", kind="approvals", render=_stale, tone="warning")
    sentence_register("open_point.closed", kind="approvals", render=_open_point_closed)
    sentence_register("gate.created", kind="money", render=_gate_created, summarise=_gates_created)
    sentence_register("gate.released", kind="money", render=_gate_released)
    sentence_register("payment.recorded", kind="money", render=_payment)
    batch_link_register("approvals.Approval", "batch")
    batch_link_register("approvals.Gate", "batch")
    batch_link_register("approvals.Payment", "gate__batch")
    batch_link_register("approvals.OpenPoint", "approval__batch")
