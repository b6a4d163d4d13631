"""``POST /api/auth/token/``: a username and password for a new API token."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.factors import has_second_factor, totp_match
from accounts.services import NAME_MAX, token_create
from portal.errors import message_of
from portal.passwords import password_authenticate


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(write_only=True, trim_whitespace=False)
    code = serializers.CharField(
        write_only=True,
        required=False,
        default="",
        max_length=12,
        help_text="Your authenticator app's current code, if your account has a second factor.",
    )
    name = serializers.CharField(
        required=False,
        max_length=NAME_MAX,
        default="API",
        help_text="The device or system that will hold the token (shown on the API tokens page).",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown this once: only its hash is stored.")
    expiry = serializers.DateTimeField(help_text="After this the token no longer opens the API.")
    name = serializers.CharField()


class TokenView(APIView):
    """Exchange a username and password for a new API token (django-rest-knox: hashed, named,
    expiring). Failed attempts count towards the login lockout (django-axes) like the sign-in
    page's; a locked-out user name answers 429."""

    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description="Wrong user name or password."),
            429: OpenApiResponse(description="Too many wrong passwords in a row: paused."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        incoming = TokenRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        user = password_authenticate(
            request=request._request, username=data["username"], password=data["password"]
        )
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to log in with provided credentials."]}
            )
        if has_second_factor(user):  # the API opens as widely as a signed-in session
            try:
                totp_match(user, data.get("code", ""))
            except DjangoValidationError as error:
                raise serializers.ValidationError(
                    {
                        "code": [
                            f"This account has a second factor: {message_of(error)} "
                            "(a passkey alone: make a token on the API tokens page)."
                        ]
                    }
                ) from None
        token, key = token_create(user=user, name=data["name"])
        return Response(
            TokenResponseSerializer({"token": key, "expiry": token.expiry, "name": token.name}).data
        )


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
]
