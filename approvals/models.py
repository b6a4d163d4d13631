"""Approvals, their pins, signatures and staleness; the gates they open; releases and payments.

The tables keep the names they had when these models lived in orders."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from evidence.models import Responsibility
from orders.models import Batch, PurchaseOrder
from orders.promises import promises_check, promises_label, promises_model_field
from portal.immutability import append_only

# ISO 4217's shape: three capital letters (USD, EUR, CNY, VND). The database checks it too.
CURRENCY_CODE = RegexValidator(
    r"^[A-Z]{3}\Z", _("Use a three-letter ISO 4217 currency code in capitals, such as USD.")
)


class Gate(models.Model):
    """A payment or shipment step of an order or batch that only signed approvals open."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        BALANCE = "balance", _("Balance payment")
        EXTRA_FEE = "extra_fee", _("Extra fee")
        SHIPMENT_RELEASE = "shipment_release", _("Shipment release")

    class State(models.TextChoices):
        """What a gate is now; derived from approvals and its release, never stored."""

        BLOCKED = "blocked", _("Blocked")
        OPEN = "open", _("Open")
        RELEASED = "released", _("Released")
        RELEASED_WITH_EXCEPTION = "released_with_exception", _("Released with exception")

    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="gates")
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="gates"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The money that passes through the gate, set when it is created (a gate is never changed).
    # A gate that moves goods only (a shipment release) may carry none: amount None, currency "".
    amount = models.DecimalField(
        _("amount due"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(Decimal("0.01"), _("The amount due must be more than zero."))
        ],
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        blank=True,
        default="",
        validators=[CURRENCY_CODE],
        help_text=_("ISO 4217 code, such as USD, EUR or CNY."),
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = append_only()
        db_table = "orders_gate"
        ordering = ["order", "batch", "kind"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0), name="gate_amount_positive"
            ),
            # Money always has its currency, and a currency is there only for money.
            models.CheckConstraint(
                condition=(Q(amount__isnull=True) & Q(currency=""))
                | (Q(amount__isnull=False) & Q(currency__regex=r"^[A-Z]{3}$")),
                name="gate_currency_iso_4217",
            ),
            models.UniqueConstraint(
                fields=["order", "batch", "kind"], name="one_gate_per_kind_and_batch"
            ),
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(batch__isnull=True),
                name="one_order_gate_per_kind",
            ),
        ]

    def __str__(self) -> str:
        target = f"batch {self.batch.code}" if self.batch is not None else f"PO {self.order.number}"
        return f"{self.get_kind_display()} of {target}"

    def clean(self) -> None:
        if self.amount is not None and not self.currency:
            raise ValidationError({"currency": _("Give the currency of the amount due.")})
        if self.amount is None and self.currency:
            raise ValidationError({"amount": _("Give the amount due in %s.") % self.currency})


class Approval(models.Model):
    """The buyer's signed decision on what it reviewed, and the gates that decision opens.

    Created and signed in one step and never changed (a PostgreSQL trigger refuses UPDATE and
    DELETE). It covers exactly what it pins; a later approval supersedes it; a new version of
    anything pinned makes it stale (a separate row), which closes the gates it opened."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        ACCEPTED_WITH_CONDITIONS = "accepted_with_conditions", _("Accepted with conditions")
        REJECTED = "rejected", _("Rejected")

    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="approvals")
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="approvals"
    )
    decision = models.CharField(max_length=30, choices=Decision.choices)
    # What the approval tests (orders.promises): named first, so it stays narrow.
    promises = promises_model_field()
    # Why it opens a gate of a kind its promises do not cover (approvals.promises.GATE_PROMISES).
    gate_reason = models.TextField(_("why it opens a gate its promises do not cover"), blank=True)
    sentence = models.CharField(max_length=300, help_text="The one sentence that states it.")
    conditions = models.TextField(blank=True)
    keep_unchanged = models.TextField("what the supplier must keep unchanged", blank=True)
    inspector_checks = models.TextField("what the inspector must check", blank=True)
    unlocks: models.ManyToManyField[Gate, ApprovalGate] = models.ManyToManyField(
        Gate, through="ApprovalGate", related_name="approvals"
    )
    based_on = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        help_text="The approval this one supersedes.",
    )
    manifest = models.JSONField()
    manifest_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "orders_approval"
        ordering = ["-id"]
        triggers = append_only()
        constraints = [promises_check("approval_promises_named")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.sentence}"

    @property
    def opens_gates(self) -> bool:
        return self.decision != self.Decision.REJECTED

    @property
    def promises_label(self) -> str:
        return promises_label(self.promises)


class ApprovalGate(models.Model):
    approval = models.ForeignKey(Approval, on_delete=models.PROTECT, related_name="+")
    gate = models.ForeignKey(Gate, on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "orders_approvalgate"
        triggers = append_only()
        constraints = [
            models.UniqueConstraint(fields=["approval", "gate"], name="approval_gate_once")
        ]

    def __str__(self) -> str:
        return f"{self.approval_id} unlocks {self.gate_id}"


class ApprovalPin(models.Model):
    """One exact thing the approval rests on: an evidence version, a serial report, a
    statement version or an exception decision, with the fingerprint it had when signed."""

    class Kind(models.TextChoices):
        EVIDENCE = "evidence", _("Evidence version")
        SERIAL_LIST = "serial_list", _("Serial report")
        STATEMENT = "statement", _("Statement version")
        EXCEPTION = "exception", _("Exception and its decision")
        INSPECTION = "inspection", _("Inspection results")
        SAMPLE = "sample", _("Approved sample version")

    approval = models.ForeignKey(Approval, on_delete=models.PROTECT, related_name="pins")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.BigIntegerField()
    label = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=200)

    class Meta:
        db_table = "orders_approvalpin"
        ordering = ["kind", "object_id"]
        triggers = append_only()
        indexes = [models.Index(fields=["kind", "object_id"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"


class OpenPoint(models.Model):
    """What an "accepted with conditions" approval leaves open: a point with its owner (a party
    of the order's responsibility map, or the buyer itself when ``owner`` is None), its due date,
    and whether the approval's gates wait on it. Written with the approval, in its manifest, and
    never changed; closing it is an ``OpenPointClosure``."""

    approval = models.ForeignKey(Approval, on_delete=models.PROTECT, related_name="open_points")
    text = models.CharField(_("open point"), max_length=500)
    owner = models.ForeignKey(
        Responsibility, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who owns it, in words, as signed: the party's name (and role), or the buyer's name.
    owner_label = models.CharField(max_length=300)
    due_on = models.DateField(_("due on"))
    blocks_gates = models.BooleanField(_("the gates wait on it"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "approvals_openpoint"
        ordering = ["due_on", "id"]
        triggers = append_only()

    def __str__(self) -> str:
        return self.text

    @property
    def closing(self) -> OpenPointClosure | None:
        """Its closing, or None while it is open."""
        return getattr(self, "closure", None)

    @property
    def supplier_side(self) -> bool:
        """Owned by a party the supplier named in the responsibility map (the supplier's users
        may close it); else by the buyer."""
        return self.owner_id is not None


class OpenPointClosure(models.Model):
    """An open point closed: who, when, why, and the record that closes it (an evidence item or
    a statement of the approval's batch, or none). One per point, never changed."""

    class RecordKind(models.TextChoices):
        EVIDENCE = "evidence", _("Evidence item")
        STATEMENT = "statement", _("Statement version")

    point = models.OneToOneField(OpenPoint, on_delete=models.PROTECT, related_name="closure")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(_("note"))
    record_kind = models.CharField(max_length=20, choices=RecordKind.choices, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    record_label = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "approvals_openpointclosure"
        triggers = append_only()
        constraints = [
            models.CheckConstraint(
                condition=(Q(record_kind="") & Q(record_id__isnull=True))
                | (Q(record_kind__in=["evidence", "statement"]) & Q(record_id__isnull=False)),
                name="open_point_closure_record_named",
            )
        ]

    def __str__(self) -> str:
        return f"{self.point} closed by {self.closed_by}"


class Signature(models.Model):
    """Who signed, when, meaning what — bound to the manifest by its hash."""

    approval = models.OneToOneField(Approval, on_delete=models.PROTECT, related_name="signature")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=200)
    meaning = models.CharField(max_length=300)
    signed_at = models.DateTimeField()
    manifest_sha256 = models.CharField(max_length=64)
    signature_sha256 = models.CharField(max_length=64)
    # The second factor that answered (accounts.factors): a passkey's assertion whose challenge
    # is manifest_sha256, an authenticator app, or the server command that seeded the demo.
    factor = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "orders_signature"
        triggers = append_only()

    def __str__(self) -> str:
        return f"{self.printed_name}, {self.signed_at:%Y-%m-%d %H:%M} UTC: {self.meaning}"


class ApprovalStaleness(models.Model):
    """Something the approval pinned has a new version: the approval no longer opens gates."""

    approval = models.ForeignKey(Approval, on_delete=models.PROTECT, related_name="staleness")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "orders_approvalstaleness"
        ordering = ["id"]
        triggers = append_only()

    def __str__(self) -> str:
        return self.reason


class GateRelease(models.Model):
    """Finance released the gate (money or goods moved). One per gate, never changed; a
    release while the gate was blocked carries its written reason as an exception."""

    gate = models.OneToOneField(Gate, on_delete=models.PROTECT, related_name="release")
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(auto_now_add=True)
    with_exception = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    # The second factor that answered (accounts.factors); a passkey signed the release's hash.
    factor = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "orders_gaterelease"
        triggers = append_only()

    def __str__(self) -> str:
        return f"{self.gate} released{' with exception' if self.with_exception else ''}"


class Payment(models.Model):
    """Money that moved through a gate: who was paid, how much, and the document that proves
    why. Never edited; a payment while its gate was blocked carries a written reason."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        BALANCE = "balance", _("Balance")
        EXTRA_FEE = "extra_fee", _("Extra fee")
        REWORK_CHARGE = "rework_charge", _("Rework charge")
        STORAGE_COST = "storage_cost", _("Storage cost")
        RUSH_PAYMENT = "rush_payment", _("Rush payment")

    # Charges for work beyond the order: the payee must be someone the file names.
    EXTRA_KINDS = {Kind.EXTRA_FEE, Kind.REWORK_CHARGE, Kind.STORAGE_COST, Kind.RUSH_PAYMENT}

    gate = models.ForeignKey(Gate, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    payee = models.CharField("payee company", max_length=200)
    paid_on = models.DateField()
    document = models.FileField(upload_to="payment-documents/", max_length=200)
    document_name = models.CharField(max_length=255)
    document_sha256 = models.CharField(max_length=64)
    gate_state = models.CharField("gate state when paid", max_length=30)
    reason = models.TextField(blank=True)
    payee_named_in_file = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "orders_payment"
        ordering = ["-paid_on", "-id"]
        triggers = append_only()
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} to {self.payee} ({self.get_kind_display()})"

    @property
    def paid_while_blocked(self) -> bool:
        return self.gate_state == "blocked"

    @property
    def paid_before_release(self) -> bool:
        """Money moved through the gate before finance released it (blocked or only open)."""
        return not self.gate_state.startswith("released")
