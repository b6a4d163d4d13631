"""The admins' integrity page: the verification's last result and history, the newest
checkpoints, and "Verify now".

"Verify now" sends the verification as a Celery job (``portal.tasks.integrity_verify_asked``):
on real workers it re-hashes every stored file, which may take minutes, so the page polls
(htmx) until the log holds a run started after the admin asked; on the embedded default the job
runs eagerly inside the request and the page shows its result at once. When it was asked is
kept in the session: no model, the log beside the anchor file is the history.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal import anchors
from portal.integrity import integrity_parts
from portal.integrity_runs import (
    IntegrityRun,
    checkpoints_latest,
    integrity_run_since,
    integrity_runs,
)
from portal.jobs import task_send
from portal.roles import can_see_integrity
from portal.typing import AuthenticatedRequest

ASKED = "integrity_verify_asked"  # the session key: when this admin last asked for a run
TASK = "portal.tasks.integrity_verify_asked"
RUNS_SHOWN = 30
CHECKPOINTS_SHOWN = 10
# After this long without a result, the waiting line says a worker may not be running.
SLOW_SECONDS = 60


def _admin_only(request: AuthenticatedRequest) -> None:
    if not can_see_integrity(request.user):
        raise PermissionDenied("The integrity page is the admin's.")


def _asked(request: AuthenticatedRequest) -> datetime.datetime | None:
    value = request.session.get(ASKED)
    return parse_datetime(value) if isinstance(value, str) else None


def _pending(request: AuthenticatedRequest) -> tuple[datetime.datetime | None, IntegrityRun | None]:
    """When this admin asked for a run (None if not), and that run once it is logged."""
    asked = _asked(request)
    return asked, (integrity_run_since(asked) if asked else None)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def integrity_page(request: AuthenticatedRequest) -> HttpResponse:
    _admin_only(request)
    asked, finished = _pending(request)
    if request.method == "POST":
        # One run at a time per admin, unless the last one seems lost (no worker took it).
        if asked is None or finished is not None or _waited(asked) >= SLOW_SECONDS:
            request.session[ASKED] = timezone.now().isoformat()
            task_send(TASK, request.user.pk)
        return HttpResponseRedirect(reverse("integrity"))
    if finished is not None:
        del request.session[ASKED]
    runs = integrity_runs(RUNS_SHOWN)
    labels = {part.name: part.label for part in integrity_parts()}
    return render(
        request,
        "portal/integrity.html",
        {
            "runs": runs,
            "runs_shown": RUNS_SHOWN,
            "last": runs[0] if runs else None,
            "last_parts": [(part, labels.get(part.name, "")) for part in runs[0].parts]
            if runs
            else [],
            "checkpoints": checkpoints_latest(CHECKPOINTS_SHOWN),
            "asked": asked if finished is None else None,
            "finished": finished,
            "waited": _waited(asked),
            "slow_seconds": SLOW_SECONDS,
            "can_ask": finished is not None or asked is None or _waited(asked) >= SLOW_SECONDS,
            "log_path": anchors.verify_log_path(),
            "anchor_path": anchors.anchor_path(),
        },
    )


def _waited(asked: datetime.datetime | None) -> int:
    return int((timezone.now() - asked).total_seconds()) if asked else 0


@never_cache
@login_required
@require_http_methods(["GET"])
def integrity_progress(request: AuthenticatedRequest) -> HttpResponse:
    """The waiting line the page polls; once the run is logged, the page reloads to show it."""
    _admin_only(request)
    asked, finished = _pending(request)
    response = render(
        request,
        "portal/_integrity_progress.html",
        {"asked": asked, "waited": _waited(asked), "slow_seconds": SLOW_SECONDS},
    )
    if asked is None or finished is not None:
        response["HX-Refresh"] = "true"
    return response
