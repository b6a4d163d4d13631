"""Purchase orders and the batches produced under them."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError

from portal.models import Organisation


def validate_gtin(value: str) -> None:
    """A GTIN-8, -12, -13 or -14 with a correct GS1 check digit."""
    if len(value) not in (8, 12, 13, 14):
        raise ValidationError(
            f"“{value}” has {len(value)} digits; a GTIN has 8, 12, 13 or 14.", code="gtin_length"
        )
    try:
        ean.validate(value)
    except StdnumError as error:
        raise ValidationError(f"“{value}” is not a valid GTIN: {error}.", code="gtin") from None


class PurchaseOrder(models.Model):
    """An order the buyer placed with one supplier for one product."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued to supplier"
        IN_PRODUCTION = "in_production", "In production"
        READY_TO_SHIP = "ready_to_ship", "Ready to ship"
        SHIPPED = "shipped", "Shipped"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    buyer = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="orders_placed",
        limit_choices_to={"kind": Organisation.Kind.BUYER},
    )
    supplier = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="orders_received",
        limit_choices_to={"kind": Organisation.Kind.SUPPLIER},
    )
    inspection_firms = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="orders_inspected",
        limit_choices_to={"kind__in": [Organisation.Kind.INSPECTION_FIRM, Organisation.Kind.BUYER]},
        help_text="Who inspects this order; their inspectors see it, nobody else's do.",
    )
    number = models.CharField("PO number", max_length=50)
    product_name = models.CharField(max_length=200)
    gtin = models.CharField(
        "GTIN",
        max_length=14,
        blank=True,
        validators=[validate_gtin],
        help_text="8, 12, 13 or 14 digits with the GS1 check digit.",
    )
    sku = models.CharField("SKU", max_length=64, blank=True)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    customer_promise = models.TextField(
        blank=True, help_text="What the buyer has promised its own customers about these units."
    )
    order_date = models.DateField()
    required_by = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-order_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "number"], name="order_number_unique_per_buyer"
            ),
            models.CheckConstraint(
                condition=~Q(gtin="") | ~Q(sku=""), name="order_has_gtin_or_sku"
            ),
            models.CheckConstraint(
                condition=Q(required_by__gte=models.F("order_date")),
                name="order_required_by_after_order_date",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"PO {self.number}"

    @property
    def product_code(self) -> str:
        return f"GTIN {self.gtin}" if self.gtin else f"SKU {self.sku}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not self.gtin and not self.sku:
            errors["gtin"] = "Give the product's GTIN or its SKU."
        if self.order_date and self.required_by and self.required_by < self.order_date:
            errors["required_by"] = "The required-by date is before the order date."
        if self.buyer_id and self.buyer.kind != Organisation.Kind.BUYER:
            errors["buyer"] = f"{self.buyer} is not a buyer."
        if self.supplier_id and self.supplier.kind != Organisation.Kind.SUPPLIER:
            errors["supplier"] = f"{self.supplier} is not a supplier."
        if self.pk and self.quantity:
            planned = self.batches.aggregate(total=Sum("planned_quantity"))["total"] or 0
            if planned > self.quantity:
                errors["quantity"] = (
                    f"The batches already plan {planned} units; the quantity cannot be lower."
                )
        if errors:
            raise ValidationError(errors)


class Batch(models.Model):
    """A production lot inside an order: what serial lists, evidence and approvals attach to."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PRODUCTION = "in_production", "In production"
        PRODUCED = "produced", "Produced"
        SHIPPED = "shipped", "Shipped"

    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="batches")
    code = models.CharField(max_length=50)
    planned_quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    declared_first_serial = models.CharField(
        max_length=64, blank=True, help_text="The first serial the supplier says it used."
    )
    declared_last_serial = models.CharField(
        max_length=64, blank=True, help_text="The last serial the supplier says it used."
    )
    production_started_on = models.DateField(null=True, blank=True)
    production_finished_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name_plural = "batches"
        constraints = [
            models.UniqueConstraint(fields=["order", "code"], name="batch_code_unique_per_order"),
            models.CheckConstraint(
                condition=Q(planned_quantity__gte=1), name="batch_planned_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(production_finished_on__isnull=True)
                | Q(production_started_on__isnull=True)
                | Q(production_finished_on__gte=models.F("production_started_on")),
                name="batch_production_finished_after_started",
            ),
        ]

    def __str__(self) -> str:
        return f"Batch {self.code} of PO {self.order.number}"

    @property
    def declared_range(self) -> str:
        if self.declared_first_serial and self.declared_last_serial:
            return f"{self.declared_first_serial} – {self.declared_last_serial}"
        return ""

    @property
    def missing_production_details(self) -> list[str]:
        """What the supplier still has to tell about this batch."""
        missing = []
        if not self.declared_range:
            missing.append("declared serial range")
        if not self.production_started_on:
            missing.append("production start date")
        return missing

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if bool(self.declared_first_serial) != bool(self.declared_last_serial):
            errors["declared_last_serial"] = "Give both the first and the last serial, or neither."
        if (
            self.production_started_on
            and self.production_finished_on
            and self.production_finished_on < self.production_started_on
        ):
            errors["production_finished_on"] = "Production cannot finish before it started."
        if self.order_id and self.planned_quantity:
            others = (
                self.order.batches.exclude(pk=self.pk).aggregate(total=Sum("planned_quantity"))[
                    "total"
                ]
                or 0
            )
            if others + self.planned_quantity > self.order.quantity:
                errors["planned_quantity"] = (
                    f"The order is for {self.order.quantity} units and its other batches already "
                    f"plan {others}; this batch can plan at most {self.order.quantity - others}."
                )
        if errors:
            raise ValidationError(errors)


class Gate(models.Model):
    """A payment or shipment step of an order or batch that only signed approvals open."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        BALANCE = "balance", "Balance payment"
        EXTRA_FEE = "extra_fee", "Extra fee"
        SHIPMENT_RELEASE = "shipment_release", "Shipment release"

    class State(models.TextChoices):
        """What a gate is now; derived from approvals and its release, never stored."""

        BLOCKED = "blocked", "Blocked"
        OPEN = "open", "Open"
        RELEASED = "released", "Released"
        RELEASED_WITH_EXCEPTION = "released_with_exception", "Released with exception"

    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="gates")
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="gates"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "batch", "kind"]
        constraints = [
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
        target = f"batch {self.batch.code}" if self.batch_id else f"PO {self.order.number}"
        return f"{self.get_kind_display()} of {target}"


APPEND_ONLY = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]


class Approval(models.Model):
    """The buyer's signed decision on what it reviewed, and the gates that decision opens.

    Created and signed in one step and never changed (a PostgreSQL trigger refuses UPDATE and
    DELETE). It covers exactly what it pins; a later approval supersedes it; a new version of
    anything pinned makes it stale (a separate row), which closes the gates it opened."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        ACCEPTED_WITH_CONDITIONS = "accepted_with_conditions", "Accepted with conditions"
        REJECTED = "rejected", "Rejected"

    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="approvals")
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="approvals"
    )
    decision = models.CharField(max_length=30, choices=Decision.choices)
    sentence = models.CharField(max_length=300, help_text="The one sentence that states it.")
    conditions = models.TextField(blank=True)
    keep_unchanged = models.TextField("what the supplier must keep unchanged", blank=True)
    inspector_checks = models.TextField("what the inspector must check", blank=True)
    unlocks = models.ManyToManyField(Gate, through="ApprovalGate", related_name="approvals")
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
        ordering = ["-id"]
        triggers = APPEND_ONLY

    def __str__(self) -> str:
        return f"{self.get_decision_display()}: {self.sentence}"

    @property
    def opens_gates(self) -> bool:
        return self.decision != self.Decision.REJECTED


class ApprovalGate(models.Model):
    approval = models.ForeignKey(Approval, on_delete=models.PROTECT, related_name="+")
    gate = models.ForeignKey(Gate, on_delete=models.PROTECT, related_name="+")

    class Meta:
        triggers = APPEND_ONLY
        constraints = [
            models.UniqueConstraint(fields=["approval", "gate"], name="approval_gate_once")
        ]

    def __str__(self) -> str:
        return f"{self.approval_id} unlocks {self.gate_id}"


class ApprovalPin(models.Model):
    """One exact thing the approval rests on: an evidence version, a serial report, a
    statement version or an exception decision, with the fingerprint it had when signed."""

    class Kind(models.TextChoices):
        EVIDENCE = "evidence", "Evidence version"
        SERIAL_LIST = "serial_list", "Serial report"
        STATEMENT = "statement", "Statement version"
        EXCEPTION = "exception", "Exception and its decision"
        INSPECTION = "inspection", "Inspection results"

    approval = models.ForeignKey(Approval, on_delete=models.PROTECT, related_name="pins")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.BigIntegerField()
    label = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=200)

    class Meta:
        ordering = ["kind", "object_id"]
        triggers = APPEND_ONLY
        indexes = [models.Index(fields=["kind", "object_id"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"


class Signature(models.Model):
    """Who signed, when, meaning what — bound to the manifest by its hash."""

    approval = models.OneToOneField(Approval, on_delete=models.PROTECT, related_name="signature")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=200)
    meaning = models.CharField(max_length=300)
    signed_at = models.DateTimeField()
    manifest_sha256 = models.CharField(max_length=64)
    signature_sha256 = models.CharField(max_length=64)

    class Meta:
        triggers = APPEND_ONLY

    def __str__(self) -> str:
        return f"{self.printed_name}, {self.signed_at:%Y-%m-%d %H:%M} UTC: {self.meaning}"


class ApprovalStaleness(models.Model):
    """Something the approval pinned has a new version: the approval no longer opens gates."""

    approval = models.ForeignKey(Approval, on_delete=models.PROTECT, related_name="staleness")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        triggers = APPEND_ONLY

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

    class Meta:
        triggers = APPEND_ONLY

    def __str__(self) -> str:
        return f"{self.gate} released{' with exception' if self.with_exception else ''}"


class Payment(models.Model):
    """Money that moved through a gate: who was paid, how much, and the document that proves
    why. Never edited; a payment while its gate was blocked carries a written reason."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        BALANCE = "balance", "Balance"
        EXTRA_FEE = "extra_fee", "Extra fee"
        REWORK_CHARGE = "rework_charge", "Rework charge"
        STORAGE_COST = "storage_cost", "Storage cost"
        RUSH_PAYMENT = "rush_payment", "Rush payment"

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
        ordering = ["-paid_on", "-id"]
        triggers = APPEND_ONLY
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} to {self.payee} ({self.get_kind_display()})"

    @property
    def paid_while_blocked(self) -> bool:
        return self.gate_state == "blocked"
