"""Nothing a signed-in person sees is kept by a browser's or a proxy's cache.

Pages and API answers for a session or an API token get ``Cache-Control: private, no-store``
(unless the view set its own): the back button on a shared computer after signing out, or a
proxy between a supplier's office and the portal, shows nothing of the last person's orders.
Static files are answered earlier by WhiteNoise and keep their long cache."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
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
