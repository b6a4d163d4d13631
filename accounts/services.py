"""Making and revoking API tokens."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from knox.settings import knox_settings

from accounts.models import ApiToken
from portal.models import User

NAME_MAX = ApiToken._meta.get_field("name").max_length or 100


def token_ttl() -> datetime.timedelta:
    """How long a new token lives: ``REST_KNOX["TOKEN_TTL"]`` (``API_TOKEN_TTL_DAYS``)."""
    ttl: datetime.timedelta = knox_settings.TOKEN_TTL
    return ttl


@transaction.atomic
def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user`` named ``name`` (the device or system that will hold it). Answers
    the row and the token itself, which is never stored and cannot be shown again."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Name the token after the device or system that holds it."})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": f"At most {NAME_MAX} characters."})
    token, key = ApiToken.objects.create(user=user, expiry=token_ttl(), name=name)
    return token, key


def token_revoke(*, user: User, digest: str) -> ApiToken | None:
    """Revoke one of ``user``'s own tokens; None if they hold no such token."""
    token = ApiToken.objects.filter(user=user, digest=digest).first()
    if token is not None:
        token.delete()
    return token


def tokens_revoke_all(*, user: User) -> int:
    """Revoke every token of ``user`` (a password change does); answers how many."""
    count, _ = ApiToken.objects.filter(user=user).delete()
    return count
