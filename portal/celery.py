"""The Celery app: configured from Django settings (``CELERY_*``), tasks found per app."""

import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _ready_file() -> Path | None:
    path = os.environ.get("CELERY_WORKER_READY_FILE")
    return Path(path) if path else None


@worker_ready.connect
def _ready_file_write(**_: Any) -> None:
    """A readiness probe that needs no broker round trip: a solo worker busy with a long job
    cannot answer ``celery inspect ping``, yet it is up. The file holds the worker's pid."""
    if path := _ready_file():
        path.write_text(f"{os.getpid()}\n")


@worker_shutdown.connect
def _ready_file_remove(**_: Any) -> None:
    if path := _ready_file():
        path.unlink(missing_ok=True)
