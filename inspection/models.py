"""Inspection plans: an ISO 2859-1 sample of a batch's serials, the inspector's reading of each
sampled label, carton scans held against the carton list, and the steps someone blocked.

Everything here is append-only (a PostgreSQL trigger refuses UPDATE and DELETE): a corrected
reading is a new result for the same unit, and the newest result counts."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models import Batch
from portal.immutability import append_only
from serials.models import SerialList


class InspectionPlan(models.Model):
    """A single sampling plan (normal inspection) for one batch, drawn from one production list
    with a stored seed: the same seed and list always give the same sample."""

    class Level(models.TextChoices):
        S1 = "S-1", "S-1 (special)"
        S2 = "S-2", "S-2 (special)"
        S3 = "S-3", "S-3 (special)"
        S4 = "S-4", "S-4 (special)"
        I = "I", "I (general, fewer units)"  # noqa: E741
        II = "II", "II (general, usual)"
        III = "III", "III (general, more units)"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="inspection_plans")
    serial_list = models.ForeignKey(SerialList, on_delete=models.PROTECT, related_name="+")
    carton_list = models.ForeignKey(
        SerialList,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The list that said which carton each serial is in when the sample was drawn.",
    )
    level = models.CharField("inspection level", max_length=4, choices=Level.choices)
    aql = models.CharField("AQL", max_length=8)
    lot_size = models.PositiveIntegerField()
    code_letter = models.CharField(max_length=1)
    plan_letter = models.CharField(max_length=1)
    sample_size = models.PositiveIntegerField()
    accept = models.PositiveIntegerField("acceptance number (Ac)")
    reject = models.PositiveIntegerField("rejection number (Re)")
    seed = models.BigIntegerField()
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reject__gt=models.F("accept")), name="plan_reject_above_accept"
            ),
            models.CheckConstraint(condition=Q(seed__gte=0), name="plan_seed_not_negative"),
        ]
        triggers = append_only(prefix="inspection_plan_")

    def __str__(self) -> str:
        return (
            f"Inspection #{self.pk} of batch {self.batch.code}: "
            f"{self.sample_size} of {self.lot_size} at AQL {self.aql}"
        )


class SampledUnit(models.Model):
    """One serial the sample chose, with the carton the lists put it in."""

    plan = models.ForeignKey(InspectionPlan, on_delete=models.PROTECT, related_name="units")
    position = models.PositiveIntegerField(help_text="Its row in the production list (from 1).")
    serial = models.CharField(max_length=100)
    carton = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["carton", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="sampled_once_per_plan")
        ]
        indexes = [models.Index(fields=["serial"])]
        triggers = append_only(prefix="sampled_unit_")

    def __str__(self) -> str:
        return f"{self.serial}" + (f" (carton {self.carton})" if self.carton else "")


class UnitResult(models.Model):
    """What the inspector found on one sampled unit. The newest result of a unit counts.

    Most results are a label read (typed, scanned or decoded from a photo). Two are not: a unit
    nobody could find, which is a finding (the list names a unit no one can show), and a unit
    skipped for now, which is no finding and sends the unit to the end of the queue. Both are
    new rows like any reading; the kind lives in ``method`` so that the columns every earlier
    result was sealed with stay the same."""

    class Method(models.TextChoices):
        TYPED = "typed", _("Typed")
        SCANNED = "scanned", _("Scanned")
        PHOTO = "photo", _("Decoded from a label photo")
        NOT_FOUND = "not_found", _("Unit not found")
        SKIPPED = "skipped", _("Skipped for now")

    unit = models.ForeignKey(SampledUnit, on_delete=models.PROTECT, related_name="results")
    method = models.CharField(
        "how the label was read, or why not", max_length=10, choices=Method.choices
    )
    label_text = models.CharField("label as read", max_length=500)
    read_serial = models.CharField(max_length=100, blank=True)
    read_gtin = models.CharField(max_length=14, blank=True)
    matches = models.BooleanField(help_text="The label's serial (and GTIN) match the list.")
    carton_found = models.CharField(max_length=64, blank=True)
    in_right_carton = models.BooleanField(null=True)
    defects = models.TextField(blank=True)
    defective = models.BooleanField()
    photo = models.FileField(upload_to="label-photos/", max_length=200, blank=True)
    photo_sha256 = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        triggers = append_only(prefix="unit_result_")

    def __str__(self) -> str:
        if self.skipped:
            return f"{self.unit.serial}: skipped"
        return f"{self.unit.serial}: {'defective' if self.defective else 'conforming'}"

    @property
    def skipped(self) -> bool:
        """Skipped for now: the unit is still to be read."""
        return self.method == self.Method.SKIPPED

    @property
    def not_found(self) -> bool:
        return self.method == self.Method.NOT_FOUND

    @property
    def label_read(self) -> bool:
        """A label was read (typed, scanned or from a photo), whatever it said."""
        return self.method not in (self.Method.SKIPPED, self.Method.NOT_FOUND)


class LayoutCheck(models.Model):
    """A label read held against the approved sample that applied when it was read (which
    version, whether the read fits its layout, and where it does not, as codes with their
    values: ``inspection.layout``). A read that does not fit is a defect of its own kind, and
    its result is defective. Only label reads of a product with an approved sample have one.

    A row beside the result rather than a column on it, so that the columns every earlier
    result was sealed with stay the same. Append-only, like the result."""

    result = models.OneToOneField(UnitResult, on_delete=models.PROTECT, related_name="layout_check")
    sample = models.ForeignKey(
        "orders.ApprovedSample", on_delete=models.PROTECT, related_name="layout_checks"
    )
    fits = models.BooleanField()
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        triggers = append_only(prefix="layout_check_")

    def __str__(self) -> str:
        return f"{self.result}: {'fits' if self.fits else 'does not fit'} the approved layout"


class BlockedStep(models.Model):
    """A step of the inspection someone prevented: which step, who blocked it, and why."""

    class Step(models.TextChoices):
        SAMPLING = "sampling", "Pulling the sampled units"
        OPEN_CARTONS = "open_cartons", "Opening cartons"
        READ_LABELS = "read_labels", "Reading serial labels"
        SCAN_CARTONS = "scan_cartons", "Scanning carton contents"
        PHOTOGRAPH = "photograph", "Photographing labels"
        TEST = "test", "Functional test"
        OTHER = "other", "Other"

    plan = models.ForeignKey(InspectionPlan, on_delete=models.PROTECT, related_name="blocked_steps")
    step = models.CharField(max_length=20, choices=Step.choices)
    blocked_by = models.CharField(
        max_length=200, help_text="Who stopped it: a name, a role, a company."
    )
    reason = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        triggers = append_only(prefix="blocked_step_")

    def __str__(self) -> str:
        return f"{self.get_step_display()} blocked by {self.blocked_by}"


class CartonScan(models.Model):
    """One label scanned inside an opened carton, for holding the carton list against. The
    labels of one carton sent together share a session; a carton scanned again is judged by its
    newest session (the earlier one stays as history)."""

    plan = models.ForeignKey(InspectionPlan, on_delete=models.PROTECT, related_name="carton_scans")
    session = models.UUIDField(default=uuid.uuid4)
    carton = models.CharField(max_length=64)
    label_text = models.CharField(max_length=500)
    serial = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["plan", "carton"])]
        triggers = append_only(prefix="carton_scan_")

    def __str__(self) -> str:
        return f"{self.serial or self.label_text} in carton {self.carton}"
