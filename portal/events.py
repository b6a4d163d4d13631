"""Upward news: a lower app writes an audit event, an upper app subscribes to its action.

``audit_log`` calls the handlers of an event's action in the writer's transaction, right after
the event row is written and while the audit chain's lock is held (see ``portal.audit``). So a
handler must take no row lock that another transaction could hold while waiting for that lock:
it may read, insert rows that only reference rows this transaction already holds or that no
one locks, and write further audit events (re-taking the chain lock it holds is free)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from portal.models import AuditEvent

Handler = Callable[["AuditEvent", models.Model], None]

_handlers: defaultdict[str, list[Handler]] = defaultdict(list)


def subscribe(action: str, handler: Handler) -> None:
    """Call ``handler(event, obj)`` after each audit event with this action is written."""
    _handlers[action].append(handler)


def event_publish(*, event: AuditEvent, obj: models.Model) -> None:
    for handler in _handlers.get(event.action, ()):
        handler(event, obj)
