"""The dashboard, the notification list and the health check."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django.views.defaults import page_not_found

from portal.celery import app as celery_app
from portal.dashboard import dashboard_context, waiting_for_request
from portal.integrity_runs import integrity_health
from portal.notification_reads import (
    notification_for,
    notifications_mark_read,
    notifications_of,
    unread_count,
)
from portal.notifications import event_path
from portal.passwords import lockout_message
from portal.roles import can_manage_orders
from portal.typing import AuthenticatedRequest


@login_required
@require_http_methods(["GET"])
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    """What the apps registered for the dashboard (see portal.dashboard)."""
    return render(
        request,
        "portal/dashboard.html",
        {
            **dashboard_context(request.user),
            "waiting": waiting_for_request(request),
            "can_manage": can_manage_orders(request.user),
        },
    )


NOTIFICATIONS_PER_PAGE = 25


@login_required
@require_http_methods(["GET"])
def notifications(request: AuthenticatedRequest) -> HttpResponse:
    """The caller's own notifications, newest first: the emails' twin, with what is unread."""
    unread_only = request.GET.get("show") == "unread"
    shown = notifications_of(request.user)
    if unread_only:
        shown = shown.filter(read_mark__isnull=True)
    return render(
        request,
        "portal/notifications.html",
        {
            "page": Paginator(shown, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page")),
            "unread_only": unread_only,
            "unread": unread_count(request.user),
        },
    )


@login_required
@require_http_methods(["GET"])
def notification_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Mark one of the caller's notifications read and go where its email links."""
    notification = notification_for(request.user, pk)
    notifications_mark_read(user=request.user, ids=[notification.pk])
    return redirect(event_path(notification.event))


@login_required
@require_POST
def notifications_read_all(request: AuthenticatedRequest) -> HttpResponse:
    """Mark every unread notification of the caller read (again: nothing more happens)."""
    marked = notifications_mark_read(user=request.user)
    if marked:
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked read.",
                "%(count)d notifications marked read.",
                marked,
            )
            % {"count": marked},
        )
    else:
        messages.info(request, _("Nothing was unread."))
    return redirect("notifications")


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "not answering"
        return f"error: {error.__class__.__name__}"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as error:  # noqa: BLE001
        return f"error: {error.__class__.__name__}"


def _check_workers() -> tuple[str, int]:
    try:
        # A ping waits for replies, so it answers a list (None is for broadcasts without reply).
        replies = celery_app.control.ping(timeout=1.0) or []
    except Exception as error:  # noqa: BLE001
        return f"error: {error.__class__.__name__}", 0
    return ("ok" if replies else "no worker answered"), len(replies)


def _utc(moment: datetime.datetime | None) -> str | None:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z") if moment else None


@never_cache
@require_http_methods(["GET"])
def healthz(request: HttpRequest) -> JsonResponse:
    """Whether the database, the broker and at least one worker answer. 503 if any does not.
    Also when the integrity verification last ran, whether that run passed, and when one last
    passed: read from its log (never a verification here), and not part of the status."""
    database = _check_database()
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # The embedded default: tasks run inside the web process, there is nothing to reach.
        broker, workers, worker_count = "eager", "eager", 0
    else:
        broker = _check_broker()
        workers, worker_count = _check_workers() if broker == "ok" else ("not checked", 0)
    healthy = database == "ok" and broker in ("ok", "eager") and workers in ("ok", "eager")
    integrity = integrity_health()
    return JsonResponse(
        {
            "status": "ok" if healthy else "failing",
            "database": database,
            "broker": broker,
            "workers": workers,
            "worker_count": worker_count,
            "integrity_last_run_at": _utc(integrity.last_run_at),
            "integrity_last_run_ok": integrity.last_run_ok,
            "integrity_last_passed_at": _utc(integrity.last_passed_at),
        },
        status=200 if healthy else 503,
    )


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: object = None
) -> HttpResponse:
    """django-axes' answer once a user name is locked from an address: 429, as JSON for the
    API and as a page for people."""
    # The same words for a sign-in and a signing password (portal.passwords).
    message = lockout_message()
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "registration/locked.html", {"message": message}, status=429)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: a JSON answer under ``/api/`` (clients parse it), the portal's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception or Http404())
