"""API plumbing shared by every app: errors, the token endpoint, the URL tree."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.errors import Conflict


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Model and service validation errors answer 400 with field messages, like serializers."""
    if isinstance(exc, Conflict):
        return Response({"detail": str(exc)}, status=409)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = serializers.ValidationError(detail)
    return drf_exception_handler(exc, context)


class TokenView(ObtainAuthToken):
    """Exchange a username and password for the user's API token. Failed attempts count
    towards the login lockout (django-axes) like the sign-in page's."""

    # drf-stubs says ObtainAuthToken.post answers a DRF Response; an APIView handler may answer
    # any HttpResponse (finalize_response takes it), as the lockout page here does.
    def post(  # type: ignore[override]
        self, request: Request, *args: Any, **kwargs: Any
    ) -> Response | HttpResponse:
        try:
            return super().post(request, *args, **kwargs)
        except serializers.ValidationError:
            # Axes marks DRF's request, which its middleware never sees: answer here instead.
            if getattr(request, "axes_locked_out", False):
                from portal.views import login_locked_out

                return login_locked_out(request._request)
            raise


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("orders.api.urls")),
    path("", include("serials.api.urls")),
    path("", include("evidence.api.urls")),
    path("", include("inspection.api.urls")),
    path("", include("lookup.api.urls")),
    path("", include("approvals.api.urls")),
]
