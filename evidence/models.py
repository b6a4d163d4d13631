"""Dated evidence per batch, the buyer's evidence requirements, written requests answered by
versioned statements, and the order's responsibility map. Everything here is append-only:
a replaced file is a new version, a revised statement a new row, a changed assignment a new row."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from orders.models import Batch, PurchaseOrder
from orders.promises import promises_check, promises_label, promises_model_field
from portal.immutability import append_only


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    PROCESS_RECORD = "process_record", _("Process record")
    LABEL_PRINT = "label_print", _("Label print")
    TEST_VALUES = "test_values", _("Test values")
    WAREHOUSE_NOTE = "warehouse_note", _("Warehouse note")
    SHIPMENT_DOCUMENT = "shipment_document", _("Shipment document")
    OTHER = "other", _("Other")


class EvidenceItem(models.Model):
    """One uploaded file naming one batch. Bytes are stored under their SHA-256 and never
    changed; replacing the item makes a new item whose ``previous`` is this one."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=20, choices=EvidenceKind.choices)
    description = models.CharField(max_length=500, blank=True)
    file = models.FileField(upload_to="evidence/", max_length=200)
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    content_type = models.CharField("type told by the bytes", max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    version = models.PositiveIntegerField(default=1)
    # Filled once by the worker from the bytes (derived data, not a claim anyone typed in).
    processed_at = models.DateTimeField(null=True, blank=True)
    capture_date = models.DateTimeField("capture date claimed by the file", null=True, blank=True)
    thumbnail = models.FileField(upload_to="evidence-thumbs/", max_length=200, blank=True)
    processing_note = models.CharField(max_length=300, blank=True)

    class Meta:
        triggers = append_only(
            mutable=["processed_at", "capture_date", "thumbnail", "processing_note"],
            update_refused_when=pgtrigger.Q(old__processed_at__isnull=False),
        )
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name} (v{self.version})"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def is_current(self) -> bool:
        return not hasattr(self, "replaced_by")

    @property
    def provenance_or_none(self) -> EvidenceProvenance | None:
        """The worker's reading of the file's origin; None until it is read (or for a type
        that carries none)."""
        return getattr(self, "provenance", None)


class EvidenceRequirement(models.Model):
    """A kind of evidence the buyer needs for a batch."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="requirements")
    kind = models.CharField(max_length=20, choices=EvidenceKind.choices)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = append_only()
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "kind"], name="one_requirement_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.batch}"


class EvidenceRequest(models.Model):
    """The buyer asks the supplier in writing about a gap, a claim or a missing record."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="evidence_requests")
    subject = models.CharField(max_length=200)
    question = models.TextField()
    # What the answer will test (orders.promises), named for the supplier to read.
    promises = promises_model_field()
    due_on = models.DateField()
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = append_only()
        ordering = ["-asked_at", "-id"]
        constraints = [promises_check("evidence_request_promises_named")]

    def __str__(self) -> str:
        return self.subject

    @property
    def promises_label(self) -> str:
        return promises_label(self.promises)


class Statement(models.Model):
    """The supplier's written answer to a request. A revision is a new version, never an edit."""

    request = models.ForeignKey(
        EvidenceRequest, on_delete=models.PROTECT, related_name="statements"
    )
    version = models.PositiveIntegerField()
    text = models.TextField()
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = append_only()
        ordering = ["request", "version"]
        constraints = [
            models.UniqueConstraint(fields=["request", "version"], name="statement_version_once")
        ]

    def __str__(self) -> str:
        return f"Statement v{self.version} on “{self.request}”"


class StatementReview(models.Model):
    """The buyer read this version: later versions are shown as a diff against it."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="reviews")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = append_only()
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.statement} reviewed by {self.reviewed_by}"


class ResponsibilityRole(models.TextChoices):
    PRINTS_LABELS = "prints_labels", _("Prints labels")
    ASSIGNS_NUMBERS = "assigns_numbers", _("Assigns serial numbers")
    VERIFIES_SERIALS = "verifies_serials", _("Verifies serials before packing")
    PACKS = "packs", _("Packs")
    TESTS = "tests", _("Tests")
    REPAIRS = "repairs", _("Repairs")
    FORWARDS = "forwards", _("Forwards")


class Responsibility(models.Model):
    """Who does one part of the order's serial work, and whether they accept responsibility.
    A new row for the same role supersedes the previous one."""

    class PartyType(models.TextChoices):
        SUPPLIER = "supplier", _("The supplier")
        WORKSHOP = "workshop", _("Workshop")
        SUBCONTRACTOR = "subcontractor", _("Subcontractor")
        TEST_LAB = "test_lab", _("Test lab")
        REPAIR_CENTRE = "repair_centre", _("Repair centre")
        FORWARDER = "forwarder", _("Forwarder")
        PACKAGING_SUPPLIER = "packaging_supplier", _("Packaging supplier")

    order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="responsibilities"
    )
    role = models.CharField(max_length=20, choices=ResponsibilityRole.choices)
    party_name = models.CharField(max_length=200)
    party_type = models.CharField(max_length=20, choices=PartyType.choices)
    contact = models.CharField(max_length=200)
    accepts_responsibility = models.BooleanField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        triggers = append_only()
        ordering = ["-id"]
        verbose_name_plural = "responsibilities"

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.party_name}"


# Why credentials fail, in words, for the codes c2pa reports most (others are shown as codes).
CREDENTIAL_FAILURES = {
    "assertion.dataHash.mismatch": _("the image data changed after it was signed"),
    "assertion.bmffHash.mismatch": _("the file's data changed after it was signed"),
    "assertion.boxesHash.mismatch": _("the file's data changed after it was signed"),
    "assertion.hashedURI.mismatch": _("a signed claim was changed"),
    "assertion.missing": _("a signed claim is missing"),
    "claimSignature.mismatch": _("the signature does not match the claims"),
    "claimSignature.outsideValidity": _("it was signed outside the certificate's validity"),
    "signingCredential.expired": _("the signing certificate had expired"),
    "signingCredential.revoked": _("the signing certificate was revoked"),
    "signingCredential.invalid": _("the signing certificate is not fit for signing"),
}

# The IPTC digital source types a manifest may claim, in words.
SOURCE_TYPES = {
    "digitalCapture": _("digital capture"),
    "computationalCapture": _("computational capture"),
    "negativeFilm": _("scan of a negative"),
    "positiveFilm": _("scan of a slide"),
    "print": _("scan of a print"),
    "screenCapture": _("screen capture"),
    "digitalArt": _("digital art"),
    "algorithmicMedia": _("made by an algorithm"),
    "trainedAlgorithmicMedia": _("made by generative AI"),
    "compositeWithTrainedAlgorithmicMedia": _("composite with generative AI"),
    "compositeSynthetic": _("synthetic composite"),
    "composite": _("composite"),
}

PHASH_BANDS = 4  # 64 bits in four 16-bit bands, each indexed (``evidence.similar``)


def _band(number: int) -> models.GeneratedField:
    """Bits ``16 * number`` to ``16 * number + 15`` of the hash, kept by the database itself."""
    return models.GeneratedField(
        expression=F("phash").bitrightshift(16 * number).bitand(0xFFFF),
        output_field=models.IntegerField(null=True),
        db_persist=True,
    )


class EvidenceProvenance(models.Model):
    """What the worker read from an item's bytes about where it came from: the file's C2PA
    content credentials and, for a photo, its perceptual hash. Append-only, one row per item,
    written once with the item's other findings; the bytes it describes are sealed, so the
    reading can always be made again from them."""

    class Credentials(models.TextChoices):
        ABSENT = "absent", _("none")
        VALID = "valid", _("valid (signer not on a trust list)")
        TRUSTED = "trusted", _("valid (signer on a trust list)")
        INVALID = "invalid", _("invalid")
        UNREAD = "unread", _("could not be read")

    item = models.OneToOneField(EvidenceItem, on_delete=models.PROTECT, related_name="provenance")
    read_at = models.DateTimeField(auto_now_add=True)
    credentials = models.CharField(max_length=10, choices=Credentials.choices)
    # Why credentials failed, as c2pa names it ("assertion.dataHash.mismatch", ...).
    credential_codes = models.JSONField(default=list, blank=True)
    signer = models.CharField(max_length=200, blank=True)
    signer_issuer = models.CharField(max_length=200, blank=True)
    claim_generator = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField("capture time claimed by the credentials", null=True)
    source_type = models.CharField("claimed digital source type", max_length=200, blank=True)
    claims = models.JSONField(default=dict, blank=True)
    phash = models.BigIntegerField("perceptual hash (64 bits, signed)", null=True)
    phash_band0 = _band(0)
    phash_band1 = _band(1)
    phash_band2 = _band(2)
    phash_band3 = _band(3)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        triggers = append_only()
        verbose_name_plural = "evidence provenance"
        # Each band's index carries the hash and the item, so that finding the candidates
        # reads the indexes only (index-only scans), never the table's rows.
        indexes = [
            models.Index(
                fields=[f"phash_band{number}"],
                include=["phash", "item"],
                name=f"evidence_phash_band{number}",
            )
            for number in range(PHASH_BANDS)
        ]

    def __str__(self) -> str:
        return f"Provenance of {self.item_id}: {self.get_credentials_display()}"

    @property
    def failure_codes(self) -> list[str]:
        """What made the credentials fail, without the signer's trust (shown apart)."""
        return [code for code in self.credential_codes if code != "signingCredential.untrusted"]

    @property
    def failure_reasons(self) -> list[str]:
        """The failures in words where we know the code, as c2pa names them otherwise."""
        return [str(CREDENTIAL_FAILURES.get(code, code)) for code in self.failure_codes]

    @property
    def source_type_label(self) -> str:
        """The claimed digital source type in words ("digital capture"), or its last part."""
        name = self.source_type.rstrip("/").rsplit("/", 1)[-1]
        return str(SOURCE_TYPES.get(name, name))

    @property
    def is_signed(self) -> bool:
        return self.credentials in (self.Credentials.VALID, self.Credentials.TRUSTED)
