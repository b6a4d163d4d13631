"""API plumbing shared by every app: errors and the URL tree (the token endpoint is in
accounts.api)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.errors import Conflict
from portal.passwords import PasswordsLocked


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Model and service validation errors answer 400 with field messages, like serializers."""
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc)}, status=409)
    if isinstance(exc, PasswordsLocked):
        # As a locked sign-in answers (portal.views.login_locked_out).
        return Response({"detail": str(exc)}, status=429)
    if isinstance(exc, SuspiciousOperation):
        # A body Django refuses to read (too many fields, too large): a 400 in JSON like any
        # other, not Django's HTML error page.
        return Response({"detail": str(exc)}, status=400)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = serializers.ValidationError(detail)
    return drf_exception_handler(exc, context)


urlpatterns = [
    path("", include("accounts.api")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own: no inline script
    # under the Content-Security-Policy.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("orders.api.urls")),
    path("", include("serials.api.urls")),
    path("", include("evidence.api.urls")),
    path("", include("inspection.api.urls")),
    path("", include("lookup.api.urls")),
    path("", include("approvals.api.urls")),
    path("", include("dossier.api")),
]
