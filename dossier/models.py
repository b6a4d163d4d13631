"""A dossier export: one build of an order's dispute dossier by a worker, kept as a file."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models

from orders.models import PurchaseOrder
from portal.immutability import append_only

# The export's job state, written while a worker builds it; the rest of the row is who asked for
# which order and when. Once done or failed nothing changes: the file, its hash and size stay.
DOSSIER_EXPORT_JOB_STATE = (
    "status",
    "progress",
    "error",
    "file",
    "sha256",
    "size",
    "claim_token",
    "heartbeat_at",
    "attempts",
    "started_at",
    "finished_at",
)


class DossierExport(models.Model):
    """One build of an order's dispute dossier, asked for by the buyer's staff and built by a
    worker into a ZIP in private storage. Append-only: a finished export's file, SHA-256 and size
    are never changed, and no export is deleted; a newer dossier is a new export."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Building"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="dossier_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    # In private storage (never served directly): only the download view streams it.
    file = models.FileField(upload_to="dossier-exports/", max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    size = models.BigIntegerField(null=True, blank=True)
    # Who is building it: a worker claims the job with a fresh token and keeps the heartbeat
    # fresh; only the holder of the token may write the result.
    claim_token = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        triggers = append_only(
            prefix="dossier_export_",
            mutable=DOSSIER_EXPORT_JOB_STATE,
            update_refused_when=pgtrigger.Q(old__status__in=["done", "failed"]),
        )
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Dossier export #{self.pk} of PO {self.order.number}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
