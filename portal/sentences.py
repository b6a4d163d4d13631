"""How the portal's own audit events read (see portal.timeline): the emails it sent and the
changes operators made in the Django admin."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.models import SEAL_KEYS, AuditEvent
from portal.timeline import actor, number, sentence_register
from portal.timeline import value as payload


def _notification_sent(event: AuditEvent) -> str:
    return _("The portal emailed %(to)s about event #%(event)s") % {
        "to": payload(event, "to"),
        "event": payload(event, "event"),
    }


def _notifications_read(event: AuditEvent) -> str:
    count = int(payload(event, "notifications", 0) or 0)
    return ngettext(
        "%(actor)s marked %(count)s notification as read",
        "%(actor)s marked %(count)s notifications as read",
        count,
    ) % {"actor": actor(event), "count": number(count)}


def _admin(event: AuditEvent) -> str:
    # admin.<model>.<created|updated|deleted>: the model is the object's, so only the verb
    # needs words.
    verb = event.action.rsplit(".", 1)[-1]
    facts = {"actor": actor(event), "object": event.object_label}
    fields = ", ".join(key.replace("_", " ") for key in event.payload if key not in SEAL_KEYS)
    if verb == "created":
        return _("%(actor)s created %(object)s in the admin") % facts
    if verb == "deleted":
        return _("%(actor)s deleted %(object)s in the admin") % facts
    if fields:
        return _("%(actor)s changed %(object)s in the admin: %(fields)s") % {
            **facts,
            "fields": fields,
        }
    return _("%(actor)s changed %(object)s in the admin") % facts


def timeline_sentences_register() -> None:
    sentence_register("notification.sent", kind="accounts", render=_notification_sent)
    sentence_register("notifications.read", kind="accounts", render=_notifications_read)
    sentence_register("admin.", kind="accounts", render=_admin)
