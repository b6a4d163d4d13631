"""Writing the HMAC-chained audit log (verified by ``portal.integrity``)."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from portal.events import event_publish
from portal.models import GENESIS_HASH, AuditEvent, Notification, User
from portal.notifications import notification_queue
from portal.records import content_seal

# Any fixed number: the advisory lock that serialises appends to the chain on PostgreSQL.
AUDIT_CHAIN_LOCK = 7_243_911

# The one lock order, wherever a request and a worker meet: row locks first (the batch row,
# then the rows that hang off it), the audit chain's lock last. A transaction takes no row lock
# after its first audit_log. Django's foreign keys are DEFERRABLE INITIALLY DEFERRED on
# PostgreSQL, and each deferred check takes a KEY SHARE lock on the row it references (a
# batch, say) at COMMIT, after the chain lock: a worker holding the chain lock then waits for
# an upload holding the batch row, which waits for the chain lock. So audit_log runs those
# checks, and locks the order its event will name, before it asks for the chain lock.
# Subscribers of an event's action (portal.events) run after the row is written, with the chain
# lock held: they must lock no row another writer may hold while it waits for the chain lock.


def audit_log(
    *,
    actor: User | None,
    action: str,
    obj: models.Model,
    payload: dict[str, Any] | None = None,
    order: models.Model | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction, after the current head.
    Takes the chain lock last: every row lock of the transaction comes before it (see above)."""
    membership = getattr(actor, "membership", None) if actor else None
    # The content hash of the record the event names, and of the rows written under it, read
    # as the database holds them in this transaction (portal.records).
    payload = {**(payload or {}), **content_seal(obj, action)}
    # Store exactly what was hashed: dates and decimals become their JSON strings first.
    clean_payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Switching to IMMEDIATE runs the pending checks now; then back to Django's mode.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                if order is not None:  # the table and column are the model's, never a value
                    table, column = order._meta.db_table, order._meta.pk.column
                    sql = f"SELECT 1 FROM {table} WHERE {column} = %s FOR KEY SHARE"  # noqa: S608
                    cursor.execute(sql, [order.pk])
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
        head = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            created_at=timezone.now(),
            actor=actor,
            actor_label=actor.printed_name if actor else "system",
            organisation=membership.organisation if membership else None,
            action=action,
            object_type=obj._meta.label,
            object_id=str(obj.pk),
            object_label=str(obj)[:300],
            # The plugin types this foreign key as orders.PurchaseOrder, which portal (below orders
            # in the import layers) may not name; callers pass that model.
            order=order,  # type: ignore[misc]
            payload=clean_payload,
            prev_hash=head or GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        # Subscribers (portal.events) act in this transaction, with the chain lock held.
        event_publish(event=event, obj=obj)
    notification_queue(event)
    return event


def notification_recorded(notification: Notification) -> AuditEvent:
    """A notification's own event, in the transaction that wrote it: its content is sealed
    (``portal.records``), so a notification removed later is found. No email of its own."""
    return audit_log(
        actor=None,
        action="notification.sent",
        obj=notification,
        payload={"event": notification.event_id, "to": notification.email},
    )
