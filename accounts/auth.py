"""``Authorization: Token <token>``: knox's authentication, recording when a token was used."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.settings import knox_settings

from accounts.models import ApiToken

# A token's last use is written at most once per this interval: one write, not one per request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's hashed, expiring tokens; the token's ``last_used`` is kept to the minute."""

    def validate_user(self, auth_token: ApiToken) -> tuple[Any, ApiToken]:
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
            token.last_used = now
        return user, token


class TokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of these tokens: ``Authorization: Token <token>``."""

    target_class = "accounts.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scheme: dict[str, Any] = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=knox_settings.AUTH_HEADER_PREFIX
        )
        scheme["description"] = (
            "A token from `POST /api/auth/token/` or the API tokens page; it expires, and a "
            "password change revokes it."
        )
        return scheme
