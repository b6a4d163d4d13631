"""Nothing a signed-in person sees is kept by a browser's or a proxy's cache.

Pages and API answers for a session or an API token get ``Cache-Control: private, no-store``
(unless the view set its own): the back button on a shared computer after signing out, or a
proxy between a supplier's office and the portal, shows nothing of the last person's orders.
Static files are answered earlier by WhiteNoise and keep their long cache."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control


class PrivatePagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        signed_in = request.user.is_authenticated or "HTTP_AUTHORIZATION" in request.META
        if signed_in and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


class PreferencesMiddleware:
    """The signed-in person's own language and time zone, over the browser's.

    A blank language keeps what LocaleMiddleware chose (cookie, then the browser's
    Accept-Language); a blank or unknown time zone is UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        language = getattr(user, "language", "") if user.is_authenticated else ""
        if not (language and translation.check_for_language(language)):
            language = translation.get_language()
        # Both for this request only: the thread's next work (a test, a task) starts clean.
        with timezone.override(time_zone_of(user)), translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
            return response


def time_zone_of(user: object) -> zoneinfo.ZoneInfo | None:
    """The person's time zone, or None for UTC (blank, or a name this machine does not know)."""
    name = getattr(user, "time_zone", "") if getattr(user, "is_authenticated", False) else ""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
