"""Numbering rules, uploaded serial lists with their validation reports, the registry of serials
already used, and the exceptions a supplier must explain (``serials.exception_models``,
re-exported here).

The engine itself (``serials.engine``) never imports Django; this module only stores what it
finds."""

from __future__ import annotations

from typing import cast

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models import Batch, PurchaseOrder
from portal.immutability import ParentOnInsert, append_only
from portal.models import Organisation
from serials import engine
from serials.exception_models import EXCEPTION_TRANSITIONS as EXCEPTION_TRANSITIONS
from serials.exception_models import ExceptionAnswer as ExceptionAnswer
from serials.exception_models import ExceptionAttachment as ExceptionAttachment
from serials.exception_models import ExceptionDecision as ExceptionDecision
from serials.exception_models import SerialException as SerialException
from serials.life_models import SerialLifeEvent as SerialLifeEvent
from serials.life_models import never_accepted_again
from serials.reports import CodeListReport, ListReport, SerialListReport


class NumberingRule(models.Model):
    """How the buyer's product is serialised: PREFIX + fixed-width counter + optional check
    digit; or, for non-sequential codes (marketplace anti-counterfeit codes), a list of codes
    the buyer allocates. One rule per buyer and product (GTIN or SKU)."""

    class Kind(models.TextChoices):
        SEQUENTIAL = "sequential", _("Sequential: prefix + counter")
        ALLOCATED_CODES = "allocated_codes", _("Allocated code list (non-sequential)")

    class Check(models.TextChoices):
        NONE = "none", _("No check digit")
        GS1 = "gs1", _("GS1 mod-10")
        LUHN = "luhn", _("Luhn")

    buyer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    product = models.CharField(
        max_length=64, help_text="The GTIN or SKU exactly as it appears on purchase orders."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SEQUENTIAL)
    prefix = models.CharField(max_length=32, blank=True)
    width = models.PositiveSmallIntegerField(
        "counter digits",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(18)],
        help_text="Sequential rules only.",
    )
    check_digit = models.CharField(max_length=8, choices=Check.choices, default=Check.NONE)
    note = models.CharField(max_length=300, blank=True)
    warranty_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(600)],
        help_text="How long this product's warranty runs, counted from the shipment date.",
    )
    # GS1 Company Prefix length: where the GTIN splits into company prefix and item reference
    # in an SGTIN URI (EPCIS). GS1 assigns prefixes of 6 to 12 digits; the GTIN alone cannot say.
    company_prefix_length = models.PositiveSmallIntegerField(
        _("GS1 Company Prefix length"),
        null=True,
        blank=True,
        validators=[MinValueValidator(6), MaxValueValidator(12)],
        help_text=_(
            "How many digits of the GTIN (after the indicator digit) are your GS1 Company "
            "Prefix, as GS1 assigned it: 6 to 12. Needed to write EPCIS events."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "product"], name="one_rule_per_product")
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.pattern}"

    @property
    def uses_codes(self) -> bool:
        return self.kind == self.Kind.ALLOCATED_CODES

    @property
    def pattern(self) -> str:
        if self.uses_codes:
            return "allocated codes"
        check = (
            "" if self.check_digit == self.Check.NONE else f" + {self.get_check_digit_display()}"
        )
        assert self.width is not None  # a sequential rule has its width (see clean)
        return f"{self.prefix}{'#' * self.width}{check}"

    @property
    def example(self) -> str:
        """The first counter in the pattern's shape (before any check digit), for the help."""
        if self.uses_codes or not self.width:
            return ""
        return f"{self.prefix}{1:0{self.width}d}"

    def clean(self) -> None:
        if self.kind == self.Kind.SEQUENTIAL and not self.width:
            raise ValidationError(
                {"width": "A sequential rule needs its number of counter digits."}
            )
        if self.prefix != self.prefix.strip().upper():
            raise ValidationError({"prefix": "Use upper-case letters without surrounding spaces."})
        if self.company_prefix_length and not (
            self.product.isdigit() and len(self.product) in (8, 12, 13, 14)
        ):
            raise ValidationError(
                {
                    "company_prefix_length": _(
                        "A GS1 Company Prefix belongs to a GTIN; this product is a SKU."
                    )
                }
            )

    def as_engine_rule(self) -> engine.NumberingRule:
        # A rule without a width (allocated codes) is refused by the engine itself (ValueError).
        return engine.NumberingRule(self.prefix, cast(int, self.width), self.check_digit)

    @classmethod
    def for_order(cls, order: PurchaseOrder) -> NumberingRule | None:
        return cls.objects.filter(buyer=order.buyer, product=order.gtin or order.sku).first()


def registry_scope(order: PurchaseOrder) -> str:
    """Serials are unique per buyer and product: two products may both start at 1."""
    return f"{order.buyer_id}:{order.gtin or order.sku}"


class AllocatedRange(models.Model):
    """The counters the buyer assigned to the supplier for an order, or for one of its batches.
    Never edited: a new allocation for the same order or batch supersedes the previous one."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="allocations")
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    lo = models.BigIntegerField()
    hi = models.BigIntegerField()
    first_serial = models.CharField(max_length=64)
    last_serial = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = append_only()
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(hi__gte=models.F("lo")), name="allocation_lo_le_hi")
        ]

    def __str__(self) -> str:
        target = f"batch {self.batch.code}" if self.batch is not None else f"PO {self.order.number}"
        return f"{self.first_serial} – {self.last_serial} for {target}"


class AllocatedCodeList(models.Model):
    """The codes the buyer allocated to an order (or one batch) under an allocated-code rule.
    Stored by hash; never edited: a new list supersedes the previous one."""

    order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="allocated_code_lists"
    )
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="allocated_code_lists"
    )
    file = models.FileField(upload_to="allocated-codes/", max_length=200)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    code_count = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = append_only()
        ordering = ["-id"]

    def __str__(self) -> str:
        target = f"batch {self.batch.code}" if self.batch is not None else f"PO {self.order.number}"
        return f"{self.code_count:,} codes from {self.original_name} for {target}"


# A serial list's job state, written while it runs; the rest of the row is what was uploaded.
SERIAL_LIST_JOB_STATE = (
    "status",
    "progress",
    "error",
    "report",
    "claim_token",
    "heartbeat_at",
    "attempts",
    "started_at",
    "finished_at",
)


class SerialList(models.Model):
    """One uploaded file of serials for a batch, and what validating it found. Never
    overwritten: a corrected list is a new upload."""

    class Kind(models.TextChoices):
        PRODUCTION = "production", _("Production list")
        CARTON = "carton", _("Carton list (serial → carton)")
        DISTRIBUTION = "distribution", _("Distribution list (serial → customer)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Validating")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="serial_lists")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PRODUCTION)
    file = models.FileField(upload_to="serial-lists/", max_length=200)
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # The rule as it was when the list was uploaded: later rule edits never change a report.
    rule_kind = models.CharField(
        max_length=20, choices=NumberingRule.Kind.choices, default=NumberingRule.Kind.SEQUENTIAL
    )
    rule_prefix = models.CharField(max_length=32, blank=True)
    rule_width = models.PositiveSmallIntegerField(default=0)
    allocated_codes = models.ForeignKey(
        AllocatedCodeList,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Allocated-code rules: the allocation in force at upload.",
    )
    rule_check = models.CharField(max_length=8, choices=NumberingRule.Check.choices)
    expected_lo = models.BigIntegerField(null=True, blank=True)
    expected_hi = models.BigIntegerField(null=True, blank=True)
    expected_source = models.CharField(
        max_length=40, blank=True, help_text="Where the expected range came from."
    )

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(null=True, blank=True)
    report = models.JSONField(null=True, blank=True)
    # Who is working on it: a worker claims the job with a fresh token and keeps the heartbeat
    # fresh; only the holder of the token may write the result.
    claim_token = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        triggers = append_only(
            mutable=SERIAL_LIST_JOB_STATE,
            update_refused_when=pgtrigger.Q(old__status__in=["done", "failed"]),
        )
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} of batch {self.batch.code}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def as_engine_rule(self) -> engine.NumberingRule:
        """The rule as it was at upload."""
        return engine.NumberingRule(self.rule_prefix, self.rule_width, self.rule_check)

    @property
    def uses_codes(self) -> bool:
        return self.rule_kind == NumberingRule.Kind.ALLOCATED_CODES

    @property
    def validation_report(self) -> ListReport | None:
        """The stored ``report`` read back as its dataclass (``SerialListReport``, or
        ``CodeListReport`` for an allocated-code rule); None until the list is validated. Read
        once per stored value: a new ``report`` is read anew."""
        raw = self.report
        if raw is None:
            return None
        cached = self.__dict__.get("_validation_report")
        if cached is not None and cached[0] is raw:
            return cached[1]
        kind = CodeListReport if self.uses_codes else SerialListReport
        report = kind.from_json(raw)
        self.__dict__["_validation_report"] = (raw, report)
        return report

    @validation_report.setter
    def validation_report(self, report: ListReport | None) -> None:
        self.report = None if report is None else report.to_json()

    @property
    def rule_pattern(self) -> str:
        if self.uses_codes:
            return "allocated codes"
        check = "" if self.rule_check == "none" else f" + {self.rule_check} check digit"
        return f"{self.rule_prefix}{'#' * self.rule_width}{check}"


class SerialRun(models.Model):
    """A run of consecutive counters a batch used, inside one scope (buyer + product).

    Runs of pending lists are checked against to catch reuse before acceptance; runs of
    accepted batches are the registry. On PostgreSQL an exclusion constraint (migration
    0002) refuses two accepted runs that overlap in one scope."""

    scope = models.CharField(max_length=100)
    lo = models.BigIntegerField()
    hi = models.BigIntegerField()
    # Keys checked once per statement (ParentOnInsert), not once per row: see Meta.
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, related_name="serial_runs", db_constraint=False
    )
    serial_list = models.ForeignKey(
        SerialList, on_delete=models.PROTECT, related_name="runs", db_constraint=False
    )
    accepted = models.BooleanField(default=False)

    class Meta:
        triggers = [
            *append_only(
                mutable=["accepted"],
                update_refused_when=~pgtrigger.Q(old__accepted=False, new__accepted=True),
                delete_allowed_when=pgtrigger.Q(old__accepted=False),
            ),
            ParentOnInsert(name="run_parents", via="serial_list", same=["batch"]),
            *never_accepted_again(codes=False),
        ]
        # A lookup finds accepted runs by the GiST index of the constraint that keeps them
        # apart (migration 0001) and pending ones by this partial index, which holds only them.
        indexes = [
            models.Index(fields=["scope", "lo", "hi"]),
            models.Index(
                fields=["scope", "lo", "hi"], condition=Q(accepted=False), name="serialrun_pending"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(hi__gte=models.F("lo")), name="run_lo_le_hi")
        ]

    def __str__(self) -> str:
        return f"{self.scope} [{self.lo}, {self.hi}]{' accepted' if self.accepted else ''}"


class SerialCode(models.Model):
    """One non-sequential code a batch used, inside one scope (buyer + product). A partial
    unique index keeps two accepted batches from holding the same code."""

    scope = models.CharField(max_length=100)
    code = models.CharField(max_length=100)
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="serial_codes")
    serial_list = models.ForeignKey(SerialList, on_delete=models.PROTECT, related_name="codes")
    accepted = models.BooleanField(default=False)

    class Meta:
        triggers = [
            *append_only(
                mutable=["accepted"],
                update_refused_when=~pgtrigger.Q(old__accepted=False, new__accepted=True),
                delete_allowed_when=pgtrigger.Q(old__accepted=False),
            ),
            *never_accepted_again(codes=True),
        ]
        indexes = [models.Index(fields=["scope", "code"])]
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "code"],
                condition=Q(accepted=True),
                name="accepted_codes_never_shared",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.code}{' accepted' if self.accepted else ''}"


class SerialPlacement(models.Model):
    """Where one serial of a list went: its carton (from a carton list, or a production list
    with a carton column) and, from a distribution list, the customer and the shipment date.

    Rows belong to their list and are never edited. For each batch and kind of list, the
    newest validated list is the one that speaks; older lists' rows stay as history."""

    # Keys checked once per statement (ParentOnInsert), not once per row: see Meta.
    # No index of its own: (serial_list, carton) below leads with it. One index fewer to fill
    # for each of a million placements.
    serial_list = models.ForeignKey(
        SerialList,
        on_delete=models.PROTECT,
        related_name="placements",
        db_constraint=False,
        db_index=False,
    )
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    scope = models.CharField(max_length=100)
    serial = models.CharField(max_length=100)
    line = models.PositiveIntegerField()
    carton = models.CharField(max_length=64, blank=True)
    customer_reference = models.CharField(max_length=200, blank=True)
    shipped_on = models.DateField(null=True, blank=True)

    class Meta:
        triggers = [
            *append_only(),
            ParentOnInsert(name="placement_parents", via="serial_list", same=["batch"]),
        ]
        indexes = [
            models.Index(fields=["scope", "serial"]),
            models.Index(fields=["serial_list", "carton"]),
        ]

    def __str__(self) -> str:
        where = f"carton {self.carton}" if self.carton else self.customer_reference
        return f"{self.serial} → {where}"
