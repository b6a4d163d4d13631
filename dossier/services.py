"""Dossier exports: asked for on the order's page, built by a worker, downloaded when ready.

``dossier_export_request`` records the export and sends the job once the transaction commits.
``dossier_export_build`` is the job, with the rules of the serial-list job (serials.services.job):
it claims the export with a conditional UPDATE (queued, or running with a heartbeat older than
the lease: its worker died), writes the ZIP to a ``.partial`` beside its final name while the
heartbeat carries the progress, hashes it, and renames it and marks the export done in one
transaction only if it still holds the claim — so a job delivered twice builds once. A failure
marks it failed with the reason; a job whose workers died ``DOSSIER_EXPORT_MAX_ATTEMPTS`` times
is failed instead of tried again (a poison job), and ``dossier_exports_requeue_stuck`` (beat)
sends again the jobs nobody is working on."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from dossier.build import dossier_filename, dossier_write
from dossier.models import DossierExport
from orders.models import PurchaseOrder
from portal.audit import audit_log
from portal.jobs import job_claim, job_fail, jobs_requeue_stuck, task_send_on_commit
from portal.models import User

logger = logging.getLogger(__name__)

# The job's task, named (portal.jobs) in the calls below, where tests/portal/test_jobs.py sees it.
TASK = "dossier.tasks.build_dossier_export"
# The share of the bar the ZIP's files take; hashing and storing it are the rest.
WRITING_SHARE = 95
# At most this long between heartbeats while files are written (and one per percent).
HEARTBEAT_SECONDS = 5.0


def lease_seconds() -> int:
    """How long a claim lasts without a heartbeat before another worker may take the job over
    (below the broker's visibility timeout; a single stored file is copied well within it)."""
    return settings.DOSSIER_EXPORT_LEASE_SECONDS


def max_attempts() -> int:
    """Builds started this many times, each by a worker that died, fail instead (poison)."""
    return settings.DOSSIER_EXPORT_MAX_ATTEMPTS


def dossier_export_storage_name(export: DossierExport) -> str:
    """Where the finished ZIP is kept in private storage: one name per export, never reused."""
    return f"dossier-exports/{export.order_id}/{export.pk}-{dossier_filename(export.order)}"


def dossier_export_request(*, order: PurchaseOrder, user: User) -> tuple[DossierExport, bool]:
    """Queue a build of the order's dossier; returns the export and whether it is new. While an
    export of the order is still queued or being built, that one is returned instead."""
    with transaction.atomic():
        pending = (
            DossierExport.objects.filter(
                order=order, status__in=[DossierExport.Status.QUEUED, DossierExport.Status.RUNNING]
            )
            .order_by("-id")
            .first()
        )
        if pending is not None:
            return pending, False
        export = DossierExport.objects.create(order=order, requested_by=user)
        audit_log(
            actor=user,
            action="order.dossier_requested",
            obj=export,
            order=order,
            payload={"export": export.pk},
        )
        task_send_on_commit("dossier.tasks.build_dossier_export", export.pk)
    return export, True


def _claim(export_id: int) -> uuid.UUID | None:
    """The serial lists' claim (portal.jobs.job_claim), with the dossier's lease."""
    return job_claim(DossierExport, export_id, lease_seconds=lease_seconds())


class ClaimLost(Exception):
    """Another worker took the job over (this one's heartbeat was late): stop building."""


@dataclass
class _Heartbeat:
    """``dossier_write``'s progress callback: the bar and the heartbeat, at most once a percent
    or every few seconds."""

    export_id: int
    token: uuid.UUID
    shown: int = -1
    beat_at: float = field(default_factory=time.monotonic)

    def __call__(self, written: int, expected: int) -> None:
        self.show(min(WRITING_SHARE, written * WRITING_SHARE // max(expected, 1)))

    def show(self, percent: int) -> None:
        now = time.monotonic()
        if percent <= self.shown and now - self.beat_at < HEARTBEAT_SECONDS:
            return
        held = DossierExport.objects.filter(
            pk=self.export_id, claim_token=self.token, status=DossierExport.Status.RUNNING
        ).update(progress=max(percent, self.shown), heartbeat_at=timezone.now())
        if not held:
            raise ClaimLost
        self.shown, self.beat_at = max(percent, self.shown), now


def _paths(name: str, token: uuid.UUID) -> tuple[Path, Path | None]:
    """The ``.partial`` to write and the final file it is renamed to; with a remote storage
    (no local path) the partial is a local temporary file, uploaded once complete."""
    try:
        final = Path(default_storage.path(name))
    except NotImplementedError:
        return Path(tempfile.gettempdir()) / f"dossier-{token.hex}.zip.partial", None
    return final.with_name(f"{final.name}.{token.hex}.partial"), final


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _store(partial: Path, name: str, final: Path | None) -> str:
    if final is not None:
        os.replace(partial, final)  # atomic: the final name only ever holds a whole ZIP
        return name
    with partial.open("rb") as handle:
        stored = default_storage.save(name, File(handle))
    partial.unlink(missing_ok=True)
    return stored


def _reason(error: Exception) -> str:
    """What the page says about a failure: the error's kind and message, without local paths."""
    text = str(error) or error.__class__.__name__
    for folder in {str(settings.MEDIA_ROOT), tempfile.gettempdir()}:
        text = text.replace(folder.rstrip(os.sep) + os.sep, "")
    return f"The dossier could not be built ({error.__class__.__name__}): {text}"[:1000]


def dossier_export_build(*, export_id: int) -> None:
    """Build an export. Safe to run twice: only the claim holder writes the result."""
    token = _claim(export_id)
    if token is None:
        return
    export = DossierExport.objects.select_related("order__buyer", "order__supplier").get(
        pk=export_id
    )
    if export.attempts > max_attempts():
        stopped = export.attempts - 1
        _fail(
            export_id,
            token,
            f"Its build stopped {stopped} times before it finished (the worker was killed or "
            "ran out of memory), so it is not tried again. Ask for a new dossier; if it stops "
            "again, tell the portal's administrator.",
        )
        return
    name = dossier_export_storage_name(export)
    partial, final = _paths(name, token)
    heartbeat = _Heartbeat(export_id, token)
    try:
        partial.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("xb") as target:
            dossier_write(order=export.order, target=target, progress=heartbeat)
        sha256, size = _sha256(partial)
        heartbeat.show(WRITING_SHARE + 3)
    except ClaimLost:
        partial.unlink(missing_ok=True)
        return
    except Exception as error:
        partial.unlink(missing_ok=True)
        logger.exception("Dossier export %s of order %s failed", export_id, export.order_id)
        _fail(export_id, token, _reason(error))
        return
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    try:
        _finish(export_id, token, partial, name, final, sha256, size)
    finally:
        partial.unlink(missing_ok=True)  # gone already unless the claim was lost


def _finish(
    export_id: int,
    token: uuid.UUID,
    partial: Path,
    name: str,
    final: Path | None,
    sha256: str,
    size: int,
) -> None:
    """Rename the partial to its final name and record the export done, in one transaction,
    if this worker still holds the claim. Locks: the export's row, then the audit lock."""
    with transaction.atomic():
        locked = (
            DossierExport.objects.select_for_update()
            .select_related("order")
            .filter(pk=export_id)
            .first()
        )
        if locked is None or locked.claim_token != token:
            return  # the claim was taken over; the other worker writes the result
        if locked.status != DossierExport.Status.RUNNING:
            return
        locked.file.name = _store(partial, name, final)
        locked.sha256 = sha256
        locked.size = size
        locked.status = DossierExport.Status.DONE
        locked.progress = 100
        locked.error = ""
        locked.finished_at = timezone.now()
        locked.save(
            update_fields=["file", "sha256", "size", "status", "progress", "error", "finished_at"]
        )
        audit_log(
            actor=None,
            action="order.dossier_built",
            obj=locked,
            order=locked.order,
            payload={"export": locked.pk, "sha256": sha256, "size": size},
        )


def _fail(export_id: int, token: uuid.UUID, message: str) -> None:
    with transaction.atomic():
        if job_fail(DossierExport, export_id, token, message):
            export = DossierExport.objects.select_related("order").get(pk=export_id)
            audit_log(
                actor=None,
                action="order.dossier_failed",
                obj=export,
                order=export.order,
                payload={"export": export.pk, "error": message},
            )


def dossier_exports_requeue_stuck(*, queued_for: timedelta = timedelta(minutes=10)) -> list[int]:
    """Send again the builds nobody is working on (portal.jobs.jobs_requeue_stuck); the job
    fails a poison build instead of building it again."""
    return jobs_requeue_stuck(
        DossierExport,
        TASK,
        lease_seconds=lease_seconds(),
        queued_since="created_at",
        queued_for=queued_for,
    )
