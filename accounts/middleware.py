"""Whoever holds a second factor answers it at sign-in, before any page opens.

After the password, a session whose user holds a passkey or an authenticator app is not yet
verified (django-otp's ``request.user.is_verified()``): pages send it to ``/account/verify/``;
the API answers 403 to it. The sign-in and verification steps themselves, sign-out and static
files stay open. People without a second factor are let through; the pages tell those who need
one (``portal.roles.needs_second_factor``) to set it up, and signing refuses until they do."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from accounts.factors import has_second_factor, verified
from portal.models import User

OPEN_PREFIXES = ("/account/verify/", "/webauthn/", "/logout/", "/static/", "/healthz")


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            isinstance(user, User)
            and not verified(request)
            and not request.path.startswith(OPEN_PREFIXES)
            and has_second_factor(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Answer your second factor first (sign in again in the browser)."},
                    status=403,
                )
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('account-verify')}?{query}")
        return self.get_response(request)
