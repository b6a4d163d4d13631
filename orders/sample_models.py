"""The approved sample: the buyer's reference record for a product, against which later evidence
and every label the inspector reads are compared (issue 15).

Kept beside ``orders.models``, which re-exports it; the foreign keys name their models as
strings, so this module imports nothing from it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.gtin import gtin_checked
from portal.immutability import append_only
from portal.models import Organisation


def validate_sample_gtin(value: str) -> None:
    """The order's GTIN rule (``orders.gtin``)."""
    gtin_checked(value)


class ApprovedSample(models.Model):
    """One version of a product's approved sample: photos of the sample and of its label, the
    label's layout (its fields, GTIN, serial format, code and where the code is) and the
    inspection instruction.

    Per product, that is per buyer and GTIN (there is no product table: orders carry the
    GTIN), or for one order only when ``order`` is set, which then wins over the product's.
    Append-only (a PostgreSQL trigger refuses UPDATE and DELETE): a new version is a new row
    whose ``previous`` is the version it replaces, and the newest version counts."""

    class Symbology(models.TextChoices):
        GS1_DATAMATRIX = "gs1_datamatrix", _("GS1 DataMatrix")
        GS1_QR = "gs1_qr", _("GS1 QR Code")
        GS1_128 = "gs1_128", _("GS1-128 barcode")
        PLAIN_TEXT = "plain_text", _("Plain text (no GS1 code)")

    class LabelField(models.TextChoices):
        GTIN = "gtin", _("GTIN")
        SERIAL = "serial", _("Serial number")
        MODEL = "model", _("Model name")
        RATING = "rating", _("Electrical rating")
        BATCH_LOT = "batch_lot", _("Batch or lot")
        DATE = "date", _("Production date")
        CE = "ce", _("CE mark")
        UKCA = "ukca", _("UKCA mark")

    buyer = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Organisation.Kind.BUYER},
    )
    gtin = models.CharField(
        _("GTIN"),
        max_length=14,
        blank=True,
        validators=[validate_sample_gtin],
        help_text=_("The GTIN the label must carry."),
    )
    product_name = models.CharField(_("product name"), max_length=200)
    order = models.ForeignKey(
        "orders.PurchaseOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approved_samples",
        help_text=_("Set when this sample is for one order only; it then wins over the product's."),
    )
    version = models.PositiveIntegerField(default=1)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    # The photos: stored under their SHA-256 (portal.storage), never overwritten.
    sample_photo = models.FileField(upload_to="approved-samples/", max_length=200)
    sample_photo_name = models.CharField(max_length=255)
    sample_photo_type = models.CharField("type told by the bytes", max_length=100)
    sample_photo_sha256 = models.CharField(max_length=64)
    label_photo = models.FileField(upload_to="approved-samples/", max_length=200)
    label_photo_name = models.CharField(max_length=255)
    label_photo_type = models.CharField("type told by the bytes", max_length=100)
    label_photo_sha256 = models.CharField(max_length=64)
    # The label layout.
    label_fields = models.JSONField(
        _("fields on the label"), default=list, help_text=_("Values of LabelField.")
    )
    serial_format = models.CharField(
        _("serial format"),
        max_length=64,
        blank=True,
        help_text=_("# stands for a digit, anything else for itself: VLT#########."),
    )
    symbology = models.CharField(_("code on the label"), max_length=20, choices=Symbology.choices)
    code_position = models.CharField(_("where the code is"), max_length=200, blank=True)
    instruction = models.TextField(_("inspection instruction"), blank=True)
    change_note = models.CharField(_("what changed"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = append_only(prefix="approved_sample_")
        ordering = ["buyer", "gtin", "order", "-version"]
        indexes = [models.Index(fields=["buyer", "gtin"], name="approved_sample_product")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(previous__isnull=True) & Q(version=1))
                | (Q(previous__isnull=False) & Q(version__gt=1)),
                name="approved_sample_version_follows_previous",
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=False) | ~Q(gtin=""),
                name="approved_sample_product_has_gtin",
            ),
            models.UniqueConstraint(
                fields=["buyer", "gtin", "version"],
                condition=Q(order__isnull=True),
                name="approved_sample_version_once_per_product",
            ),
            models.UniqueConstraint(
                fields=["order", "version"],
                condition=Q(order__isnull=False),
                name="approved_sample_version_once_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Approved sample v{self.version} of {self.product_name}"

    @property
    def is_current(self) -> bool:
        return not hasattr(self, "replaced_by")

    @property
    def for_one_order(self) -> bool:
        return self.order_id is not None

    @property
    def label_field_labels(self) -> list[str]:
        """The fields on the label, in the reader's language, in the fixed order."""
        chosen = set(self.label_fields)
        return [str(label) for value, label in self.LabelField.choices if value in chosen]

    @property
    def is_gs1(self) -> bool:
        return self.symbology != self.Symbology.PLAIN_TEXT

    @property
    def code_carries(self) -> list[str]:
        """The GS1 element strings the code must carry: (01) for a GTIN, (21) for a serial,
        (10) for a batch or lot, where the layout lists them; none for plain text."""
        if not self.is_gs1:
            return []
        chosen = set(self.label_fields)
        return [
            ai
            for field, ai in (
                (self.LabelField.GTIN, "(01)"),
                (self.LabelField.SERIAL, "(21)"),
                (self.LabelField.BATCH_LOT, "(10)"),
            )
            if field in chosen
        ]
