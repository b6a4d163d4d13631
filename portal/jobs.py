"""Sending a background job from a service, by the task's registered name.

A service that starts a job must not import its app's ``tasks`` module: the task imports the
service to run it, and the two would import each other (a circle the linter cannot see when one
side imports inside a function). Services name the task instead, as the beat schedule in
settings does; the name is looked up in the Celery app's registry when the job is sent, so an
unknown name fails loudly at once, and eager mode (the embedded default) still runs it in
process, which ``send_task`` would not.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.celery import app


def task_send(name: str, *args: int) -> None:
    """Send the registered task ``name`` now."""
    if name not in app.tasks:
        # Outside a worker nothing has imported the apps' tasks modules yet: autodiscovery
        # (``app.autodiscover_tasks()``) imports them when the loader is asked to, once.
        app.loader.import_default_modules()
    app.tasks[name].delay(*args)


def task_send_on_commit(name: str, *args: int) -> None:
    """Send the registered task ``name`` once the current transaction commits, so the worker
    never reads a row that is not there yet, or one that was rolled back."""
    transaction.on_commit(lambda: task_send(name, *args))


def job_claim(model: type[Any], pk: int, *, lease_seconds: int) -> uuid.UUID | None:
    """Take a worker's job row (a serial list, a dossier build) if it is queued, or running
    with a heartbeat older than the lease (its worker died), in one conditional UPDATE: of two
    workers given the same job, one wins. Returns the claim token that the result must still
    hold, or None if someone else has the job or it is finished. The model has ``status``
    (``queued``/``running``), ``claim_token``, ``heartbeat_at``, ``attempts``, ``started_at``
    and ``progress``."""
    token = uuid.uuid4()
    now = timezone.now()
    stale = now - timedelta(seconds=lease_seconds)
    claimed = (
        model._default_manager.filter(pk=pk)
        .filter(Q(status="queued") | Q(status="running", heartbeat_at__lt=stale))
        .update(
            status="running",
            claim_token=token,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            started_at=Coalesce("started_at", now),
            progress=0,
        )
    )
    return token if claimed else None


def job_fail(model: type[Any], pk: int, token: uuid.UUID, message: str) -> bool:
    """Mark the job failed with ``message`` if this worker still holds its claim; whether it
    did (the caller then writes its audit event in the same transaction)."""
    return bool(
        model._default_manager.filter(pk=pk, claim_token=token, status="running").update(
            status="failed", error=message, progress=100, finished_at=timezone.now()
        )
    )


def jobs_requeue_stuck(
    model: type[Any], task: str, *, lease_seconds: int, queued_since: str, queued_for: timedelta
) -> list[int]:
    """Send ``task`` again for the jobs nobody is working on: queued for longer than
    ``queued_for`` (by their ``queued_since`` field: a lost message) or running with a
    heartbeat older than the lease (a dead worker). Safe: the job refuses a live claim."""
    now = timezone.now()
    stuck = list(
        model._default_manager.filter(
            Q(status="queued", **{f"{queued_since}__lt": now - queued_for})
            | Q(status="running", heartbeat_at__lt=now - timedelta(seconds=lease_seconds))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in stuck:
        task_send(task, pk)
    return stuck
