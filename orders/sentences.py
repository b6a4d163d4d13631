"""How the orders app's audit events read on the order timeline (see portal.timeline)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from orders.models import Batch, PurchaseOrder
from portal.models import AuditEvent
from portal.timeline import (
    actor,
    batch_link_register,
    batch_named,
    changes,
    day,
    label_of,
    number,
    sentence_register,
    value,
)


def _order_created(event: AuditEvent) -> str:
    return _(
        "%(actor)s created %(order)s: %(quantity)s × %(product)s from %(supplier)s, "
        "required by %(required_by)s"
    ) % {
        "actor": actor(event),
        "order": event.object_label,
        "quantity": number(value(event, "quantity")),
        "product": value(event, "product_name"),
        "supplier": value(event, "supplier"),
        "required_by": day(value(event, "required_by")),
    }


def _order_updated(event: AuditEvent) -> str:
    if _changed_fields(event) == ["status"]:
        old, new = event.payload["status"]
        return _("%(actor)s moved %(order)s from “%(old)s” to “%(new)s”") % {
            "actor": actor(event),
            "order": event.object_label,
            "old": label_of(PurchaseOrder.Status.choices, old),
            "new": label_of(PurchaseOrder.Status.choices, new),
        }
    return _("%(actor)s changed %(order)s: %(changes)s") % {
        "actor": actor(event),
        "order": event.object_label,
        "changes": changes(event, PurchaseOrder),
    }


def _changed_fields(event: AuditEvent) -> list[str]:
    return [key for key, pair in event.payload.items() if isinstance(pair, list) and len(pair) == 2]


def _batch_created(event: AuditEvent) -> str:
    return _("%(actor)s planned batch %(batch)s of %(quantity)s units") % {
        "actor": actor(event),
        "batch": value(event, "code"),
        "quantity": number(value(event, "planned_quantity")),
    }


def _batch_updated(event: AuditEvent) -> str:
    return _("%(actor)s changed %(batch)s: %(changes)s") % {
        "actor": actor(event),
        "batch": batch_named(event.object_label),
        "changes": changes(event, Batch),
    }


def _sample_created(event: AuditEvent) -> str:
    if value(event, "order"):
        return _("%(actor)s recorded the approved sample of %(product)s for this order only") % {
            "actor": actor(event),
            "product": value(event, "product_name"),
        }
    return _("%(actor)s recorded the approved sample of %(product)s (GTIN %(gtin)s)") % {
        "actor": actor(event),
        "product": value(event, "product_name"),
        "gtin": value(event, "gtin"),
    }


def _sample_versioned(event: AuditEvent) -> str:
    return _(
        "%(actor)s made version %(version)s of the approved sample of %(product)s: %(note)s"
    ) % {
        "actor": actor(event),
        "version": value(event, "version"),
        "product": value(event, "product_name"),
        "note": value(event, "change_note", ""),
    }


def timeline_sentences_register() -> None:
    sentence_register("order.created", kind="orders", render=_order_created)
    sentence_register("order.updated", kind="orders", render=_order_updated)
    sentence_register("batch.created", kind="orders", render=_batch_created)
    sentence_register("batch.updated", kind="orders", render=_batch_updated)
    sentence_register("approved_sample.created", kind="orders", render=_sample_created)
    sentence_register("approved_sample.versioned", kind="orders", render=_sample_versioned)
    batch_link_register("orders.Batch", "pk")
