"""In-app notifications, the emails' twin: each person's notifications (``Notification``, one
email per event and recipient) and whether they read them in the portal.

A notification is never updated, so being read is a row of its own (``NotificationRead``, at
most one per notification), sealed in the reader's ``notifications.read`` audit event."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404

from portal.audit import audit_log
from portal.models import Notification, NotificationRead, User

READ_ACTION = "notifications.read"


def notifications_of(user: User | AnonymousUser) -> QuerySet[Notification]:
    """The user's own notifications, newest first, each with ``read_at`` (None: unread)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return (
        Notification.objects.filter(recipient=user)
        .select_related("event")
        .annotate(read_at=F("read_mark__read_at"))
        .order_by("-sent_at", "-id")
    )


def unread_count(user: User | AnonymousUser) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_mark__isnull=True).count()


def notification_for(user: User | AnonymousUser, pk: int) -> Notification:
    """One of the user's own notifications; anyone else's answers 404, like a missing one."""
    return get_object_or_404(notifications_of(user), pk=pk)


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notifications read (those of ``ids``, or all of them), at most
    once each however often this runs; returns how many this call marked. Anyone else's
    notifications among ``ids`` are left alone."""
    with transaction.atomic():
        # The reader's row first (the one lock order: rows, then the audit chain): two tabs
        # marking at once take turns, so each event seals the rows as they stand.
        User.objects.select_for_update().filter(pk=user.pk).first()
        unread = Notification.objects.filter(recipient=user, read_mark__isnull=True)
        if ids is not None:
            unread = unread.filter(pk__in=list(ids))
        marked = list(unread.order_by("id").values_list("pk", flat=True))
        if not marked:
            return 0
        NotificationRead.objects.bulk_create(
            [NotificationRead(notification_id=pk) for pk in marked], ignore_conflicts=True
        )
        audit_log(actor=user, action=READ_ACTION, obj=user, payload={"notifications": len(marked)})
    return len(marked)
