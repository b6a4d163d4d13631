"""Purchase orders and the batches produced under them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.gtin import gtin_checked
from orders.sample_models import ApprovedSample as ApprovedSample
from portal.models import Organisation


def validate_gtin(value: str) -> None:
    """A GTIN-8, -12, -13 or -14 with a correct GS1 check digit."""
    gtin_checked(value)


class PurchaseOrder(models.Model):
    """An order the buyer placed with one supplier for one product."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued to supplier")
        IN_PRODUCTION = "in_production", _("In production")
        READY_TO_SHIP = "ready_to_ship", _("Ready to ship")
        SHIPPED = "shipped", _("Shipped")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

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
        help_text=_("Who inspects this order; their inspectors see it, nobody else's do."),
    )
    number = models.CharField(_("PO number"), max_length=50)
    product_name = models.CharField(max_length=200)
    gtin = models.CharField(
        _("GTIN"),
        max_length=14,
        blank=True,
        validators=[validate_gtin],
        help_text=_("8, 12, 13 or 14 digits with the GS1 check digit."),
    )
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    customer_promise = models.TextField(
        blank=True,
        help_text=_("What the buyer has promised its own customers about these units."),
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
            errors["gtin"] = gettext("Give the product's GTIN or its SKU.")
        if self.order_date and self.required_by and self.required_by < self.order_date:
            errors["required_by"] = gettext("The required-by date is before the order date.")
        if self.buyer_id and self.buyer.kind != Organisation.Kind.BUYER:
            errors["buyer"] = gettext("%(name)s is not a buyer.") % {"name": self.buyer}
        if self.supplier_id and self.supplier.kind != Organisation.Kind.SUPPLIER:
            errors["supplier"] = gettext("%(name)s is not a supplier.") % {"name": self.supplier}
        if self.pk and self.quantity:
            planned = self.batches.aggregate(total=Sum("planned_quantity"))["total"] or 0
            if planned > self.quantity:
                errors["quantity"] = gettext(
                    "The batches already plan %(planned)s units; the quantity cannot be lower."
                ) % {"planned": planned}
        if errors:
            raise ValidationError(errors)


class Batch(models.Model):
    """A production lot inside an order: what serial lists, evidence and approvals attach to."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PRODUCTION = "in_production", _("In production")
        PRODUCED = "produced", _("Produced")
        SHIPPED = "shipped", _("Shipped")

    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="batches")
    code = models.CharField(max_length=50)
    planned_quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    declared_first_serial = models.CharField(
        max_length=64, blank=True, help_text=_("The first serial the supplier says it used.")
    )
    declared_last_serial = models.CharField(
        max_length=64, blank=True, help_text=_("The last serial the supplier says it used.")
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
            missing.append(gettext("declared serial range"))
        if not self.production_started_on:
            missing.append(gettext("production start date"))
        return missing

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if bool(self.declared_first_serial) != bool(self.declared_last_serial):
            errors["declared_last_serial"] = gettext(
                "Give both the first and the last serial, or neither."
            )
        if (
            self.production_started_on
            and self.production_finished_on
            and self.production_finished_on < self.production_started_on
        ):
            errors["production_finished_on"] = gettext(
                "Production cannot finish before it started."
            )
        if self.order_id and self.planned_quantity:
            others = (
                self.order.batches.exclude(pk=self.pk).aggregate(total=Sum("planned_quantity"))[
                    "total"
                ]
                or 0
            )
            if others + self.planned_quantity > self.order.quantity:
                errors["planned_quantity"] = gettext(
                    "The order is for %(quantity)s units and its other batches already plan "
                    "%(others)s; this batch can plan at most %(left)s."
                ) % {
                    "quantity": self.order.quantity,
                    "others": others,
                    "left": self.order.quantity - others,
                }
        if errors:
            raise ValidationError(errors)
