"""Organisations, the people in them and their roles, and the append-only audit log."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.immutability import append_only


class User(AbstractUser):
    """A person who signs in. What they may see follows from their one membership.

    ``language`` and ``time_zone`` are the person's own choice, remembered across devices:
    pages, emails and times are in them (blank: the browser's language, and UTC)."""

    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    @property
    def printed_name(self) -> str:
        return self.get_full_name() or self.username


class Organisation(models.Model):
    """A company taking part in orders: the buyer, a supplier or an inspection firm."""

    class Kind(models.TextChoices):
        BUYER = "buyer", _("Buyer")
        SUPPLIER = "supplier", _("Supplier")
        INSPECTION_FIRM = "inspection_firm", _("Inspection firm")

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    country = models.CharField(max_length=80, blank=True)
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    SUPPLIER = "supplier", _("Supplier")
    BUYER = "buyer", _("Buyer")
    INSPECTOR = "inspector", _("Inspector")
    FINANCE = "finance", _("Finance")
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    ADMIN = "admin", _("Admin")


# Which roles an organisation of each kind may give its people: the buyer every role but the
# supplier's (its own staff may inspect), the others their one role.
ROLES_BY_KIND: dict[str, set[Role]] = {
    Organisation.Kind.BUYER: set(Role) - {Role.SUPPLIER},
    Organisation.Kind.SUPPLIER: {Role.SUPPLIER},
    Organisation.Kind.INSPECTION_FIRM: {Role.INSPECTOR},
}


class Membership(models.Model):
    """Gives a user one role inside one organisation; a user without one sees nothing."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.organisation}"

    def clean(self) -> None:
        if self.organisation_id and self.role not in ROLES_BY_KIND[self.organisation.kind]:
            allowed = ", ".join(sorted(ROLES_BY_KIND[self.organisation.kind]))
            raise ValidationError(
                {
                    "role": f"A {self.organisation.get_kind_display().lower()} can only give "
                    f"these roles: {allowed}."
                }
            )


GENESIS_HASH = "0" * 64
# What portal.records adds to an event's payload: the content hashes of its records.
SEAL_KEYS = ("content_sha256", "contents")


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def _shown(value: object) -> object:
    return ", ".join(map(str, value)) if isinstance(value, list) else value


class AuditEvent(models.Model):
    """One state change: who, when, what, on which object. Append-only and hash-chained.

    Each event's ``hash`` is an HMAC-SHA256, under ``settings.AUDIT_KEY`` (from the environment,
    never in the database), of its own fields and the previous event's hash: changing or
    removing a row breaks the chain at that row, and re-hashing it needs the key
    (``manage.py integrity_verify`` names it; ``portal.anchors`` seals the head outside the
    database). The unique ``prev_hash`` keeps the chain a line even if two writers race. On
    PostgreSQL a trigger refuses UPDATE and DELETE on the table.
    """

    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    actor_label = models.CharField(max_length=200)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    object_label = models.CharField(max_length=300, blank=True)
    order = models.ForeignKey(
        "orders.PurchaseOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        triggers = append_only(prefix="audit_event_")

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """For "*.updated" events, the payload's {field: [old, new]} as rows to show."""
        if not self.action.endswith(".updated"):
            return []
        return [
            (_label(field), _shown(values[0]), _shown(values[1]))
            for field, values in self.payload.items()
            if isinstance(values, list) and len(values) == 2
        ]

    @property
    def facts(self) -> list[tuple[str, object]]:
        """The payload as (label, value) rows, for events that are not updates."""
        return [
            (_label(field), _shown(value))
            for field, value in self.payload.items()
            if field not in SEAL_KEYS
        ]

    def compute_hash(self, key: str | None = None) -> str:
        """HMAC-SHA256 of ``canonical()`` under ``key`` (by default ``settings.AUDIT_KEY``)."""
        secret = (settings.AUDIT_KEY if key is None else key).encode()
        return hmac.new(secret, self.canonical(), hashlib.sha256).hexdigest()

    def canonical(self) -> bytes:
        """The previous hash and every field that states what happened, as canonical JSON."""
        body = {
            "prev_hash": self.prev_hash,
            "created_at": self.created_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "organisation_id": self.organisation_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_label": self.object_label,
            "order_id": self.order_id,
            "payload": self.payload,
        }
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
        return canonical.encode()


class Notification(models.Model):
    """One email sent about one audit event to one person. Written after the send, so a retried
    job skips whoever already got it; the (event, recipient) pair is unique."""

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    email = models.EmailField()
    subject = models.CharField(max_length=200)
    sent_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "recipient"], name="notification_once_per_event"
            )
        ]
        triggers = append_only(prefix="notification_")

    def __str__(self) -> str:
        return f"{self.subject} → {self.email}"


class NotificationRead(models.Model):
    """The recipient opened a notification in the portal, or marked it read: a row of its own,
    as the notification itself is never updated. Append-only; at most one per notification.
    Each is sealed in the reader's ``notifications.read`` audit event (a group under the user)."""

    notification = models.OneToOneField(
        Notification, on_delete=models.PROTECT, related_name="read_mark"
    )
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        triggers = append_only(prefix="notification_read_")

    def __str__(self) -> str:
        return f"Notification #{self.notification_id} read {self.read_at:%Y-%m-%d %H:%M}"
