"""Email notifications, derived from the audit log.

Every state change is already an audit event, so notifications are rules over event actions:
who hears about what. The buyer hears of new evidence, serial reports, statements and answers;
the supplier of requests, reviews and decisions; finance of gate changes and payments. A job per
event sends the emails after the change commits. Bulk actions (hundreds of exceptions answered
at once) end in one email per person, not hundreds.

Emails say what happened and link to the page; the page, not the email, shows the details the
reader may see. Facts from the event are copied into the email only where the rule names them.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.jobs import task_send_on_commit
from portal.middleware import time_zone_of
from portal.models import AuditEvent, Membership, Notification, Role, User

StrOrPromise = str | Promise

# Events of one bulk action (same action, order and actor) this close together share one email.
# Short on purpose: one request writes its events within milliseconds, and separate actions
# a person takes minutes apart must each be told.
COALESCE_WINDOW = datetime.timedelta(seconds=5)


@dataclass(frozen=True)
class Rule:
    audience: str  # "buyer", "supplier" or "finance"
    subject: StrOrPromise  # formatted with {order} and {object}, in the recipient's language
    facts: tuple[str, ...] = ()  # payload keys copied into the email
    coalesce: bool = False


BUYER, SUPPLIER, FINANCE = "buyer", "supplier", "finance"
DECISIONS = ("accepted", "rejected")

RULES: dict[str, tuple[Rule, ...]] = {
    "evidence.uploaded": (Rule(BUYER, _("PO {order}: new evidence — {object}")),),
    "evidence.replaced": (Rule(BUYER, _("PO {order}: evidence replaced — {object}")),),
    "serial_list.validated": (
        Rule(BUYER, _("PO {order}: serial report ready — {object}"), ("rows", "unique")),
    ),
    "serial_list.failed": (
        Rule(BUYER, _("PO {order}: a serial list could not be read — {object}"), ("error",)),
        Rule(SUPPLIER, _("PO {order}: your serial list could not be read — {object}"), ("error",)),
    ),
    "statement.written": (Rule(BUYER, _("PO {order}: the supplier wrote a statement")),),
    "serial_exception.answered": (
        Rule(BUYER, _("PO {order}: the supplier answered serial exceptions"), coalesce=True),
    ),
    "evidence_request.sent": (Rule(SUPPLIER, _("PO {order}: the buyer asks for — {object}")),),
    "statement.reviewed": (
        Rule(SUPPLIER, _("PO {order}: the buyer reviewed your statement"), ("version",)),
    ),
    **{
        f"serial_exception.{decision}": (
            Rule(SUPPLIER, _("PO {order}: the buyer decided serial exceptions"), coalesce=True),
        )
        for decision in DECISIONS
    },
    "batch.serials_accepted": (Rule(SUPPLIER, _("PO {order}: serials accepted — {object}")),),
    "approval.signed": (
        Rule(SUPPLIER, _("PO {order}: the buyer's decision — {object}"), ("decision", "sentence")),
        Rule(FINANCE, _("PO {order}: approval signed — {object}"), ("decision", "gates")),
    ),
    "approval.stale": (
        Rule(BUYER, _("PO {order}: your approval went stale — {object}"), ("reason",)),
        Rule(FINANCE, _("PO {order}: gates closed, approval stale — {object}"), ("reason",)),
    ),
    "open_point.closed": (
        Rule(BUYER, _("PO {order}: an open point was closed — {object}"), ("note", "record")),
    ),
    "gate.created": (Rule(FINANCE, _("PO {order}: new gate — {object}")),),
    "gate.released": (
        Rule(FINANCE, _("PO {order}: gate released — {object}"), ("with_exception", "reason")),
    ),
    "payment.recorded": (
        Rule(
            FINANCE,
            _("PO {order}: payment recorded — {object}"),
            ("amount", "currency", "payee", "gate_state", "payee_named_in_file"),
        ),
    ),
}


def notification_queue(event: AuditEvent) -> None:
    """Send this event's emails once the current transaction commits (if any rule wants it)."""
    if event.action not in RULES or event.order_id is None:
        return
    task_send_on_commit("portal.tasks.send_notifications", event.pk)


def _audience(rule: Rule, event: AuditEvent) -> list[User]:
    order = event.order
    assert order is not None  # notifications_send handles only events that name an order
    if rule.audience == SUPPLIER:
        if order.status == order.Status.DRAFT:
            return []  # a draft is the buyer's alone: its supplier cannot open the link
        memberships = Membership.objects.filter(organisation_id=order.supplier_id)
    else:
        role = Role.BUYER if rule.audience == BUYER else Role.FINANCE
        memberships = Membership.objects.filter(organisation_id=order.buyer_id, role=role)
    return [
        m.user
        for m in memberships.select_related("user").order_by("user_id")
        if m.user.is_active and m.user.email and m.user_id != event.actor_id
    ]


def _bulk_siblings(event: AuditEvent):
    return AuditEvent.objects.filter(
        action=event.action, order_id=event.order_id, actor_id=event.actor_id
    )


def _link(event: AuditEvent) -> str:
    """The page that shows the event's object, or the order's page, as the email links it."""
    return settings.PORTAL_BASE_URL + event_path(event)


def event_path(event: AuditEvent) -> str:
    """The path of the page that shows the event's object, or of the order's page: where the
    email links, and where the portal's notification list opens (portal.views)."""
    model = apps.get_model(event.object_type)
    obj = model._default_manager.filter(pk=event.object_id).first()
    routes = {
        "evidence.EvidenceItem": lambda o: reverse("evidence-detail", args=[o.pk]),
        "evidence.EvidenceRequest": lambda o: reverse("request-detail", args=[o.pk]),
        "evidence.Statement": lambda o: reverse("request-detail", args=[o.request_id]),
        "serials.SerialList": lambda o: reverse("serial-list-detail", args=[o.pk]),
        "serials.SerialException": lambda o: reverse("batch-exceptions", args=[o.batch_id]),
        "orders.Batch": lambda o: reverse("batch-detail", args=[o.pk]),
        "approvals.Approval": lambda o: reverse("approval-detail", args=[o.pk]),
        "approvals.OpenPoint": lambda o: reverse("approval-detail", args=[o.approval_id]),
        "approvals.Gate": lambda o: reverse("gate-payments", args=[o.pk]),
        "approvals.Payment": lambda o: reverse("gate-payments", args=[o.gate_id]),
    }
    route = routes.get(event.object_type)
    return (
        route(obj) if obj is not None and route else reverse("order-detail", args=[event.order_id])
    )


def _body(rule: Rule, event: AuditEvent, recipient: User, bulk_count: int) -> str:
    """The email's text, in the recipient's language (the caller activates it)."""
    membership = recipient.membership
    what = f"{event.object_label}"
    if bulk_count > 1:
        what = gettext("%(object)s and %(count)d more like it") % {
            "object": event.object_label,
            "count": bulk_count - 1,
        }
    lines = [
        gettext("Hello %(name)s,") % {"name": recipient.printed_name},
        "",
        f"{event.actor_label} — {event.action.replace('_', ' ').replace('.', ': ')}",
        what,
        "",
    ]
    for key in rule.facts:
        if key in event.payload and event.payload[key] not in ("", None, []):
            value = event.payload[key]
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            lines.append(f"{key.replace('_', ' ').capitalize()}: {shown}")
    zone = time_zone_of(recipient) or datetime.UTC
    lines += [
        "",
        gettext("Open it: %(link)s") % {"link": _link(event)},
        "",
        gettext(
            "You get this email as %(role)s at %(organisation)s. Time of the change: "
            "%(time)s %(zone)s (audit event #%(event)s)."
        )
        % {
            "role": membership.get_role_display().lower(),
            "organisation": membership.organisation,
            "time": date_format(timezone.localtime(event.created_at, zone), "DATETIME_FORMAT"),
            "zone": zone,
            "event": event.pk,
        },
    ]
    return "\n".join(lines)


def _subject(rule: Rule, event: AuditEvent) -> str:
    """One line: a newline in a subject is a header injection, and Django refuses it."""
    assert event.order is not None
    text = str(rule.subject).format(order=event.order.number, object=event.object_label)
    return " ".join(text.split())[:200]


def notifications_send(
    *, event_id: int, record: Callable[[Notification], object] | None = None
) -> list[Notification]:
    """Email everyone the event's rules name, each person once, however often this runs.
    ``record`` writes each notification's own audit event in its transaction (the task passes
    ``portal.audit.notification_recorded``, which this module cannot import: audit imports it)."""
    event = AuditEvent.objects.select_related("order").filter(pk=event_id).first()
    if event is None or event.order is None:
        return []
    sent: list[Notification] = []
    for rule in RULES.get(event.action, ()):
        bulk_count = 1
        if rule.coalesce:
            window = _bulk_siblings(event).filter(
                created_at__gte=event.created_at - COALESCE_WINDOW, pk__lt=event.pk
            )
            if window.exists():
                continue  # an earlier event of the same bulk action carries the email
            bulk_count = (
                _bulk_siblings(event)
                .filter(pk__gte=event.pk, created_at__lte=event.created_at + COALESCE_WINDOW)
                .count()
            )
        already = set(event.notifications.values_list("recipient_id", flat=True))
        for recipient in _audience(rule, event):
            if recipient.pk in already:
                continue
            # The row first, then the email, in one transaction: a parallel run of the same job
            # (a message delivered twice) waits on the unique (event, recipient) row and then
            # finds it taken, so it sends nothing; a failed send rolls the row back and the next
            # run tries again. The audit event comes last, so the chain's lock is never held
            # while a mail server answers. Only a worker killed between the send and the commit
            # can send twice.
            language = recipient.language or settings.LANGUAGE_CODE
            with translation.override(language), transaction.atomic():
                subject = _subject(rule, event)
                try:
                    with transaction.atomic():  # only the row's own conflict is expected here
                        notification = Notification.objects.create(
                            event=event, recipient=recipient, email=recipient.email, subject=subject
                        )
                except IntegrityError:
                    notification = None  # a parallel run of the same job took this one
                if notification is not None:
                    send_mail(
                        subject,
                        _body(rule, event, recipient, bulk_count),
                        settings.DEFAULT_FROM_EMAIL,
                        [recipient.email],
                    )
                    if record is not None:
                        record(notification)
                    sent.append(notification)
            already.add(recipient.pk)
    return sent
