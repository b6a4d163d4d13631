"""Making and revoking API tokens."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from knox.settings import knox_settings

from accounts.models import ApiToken
from portal.audit import audit_log
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
    audit_log(
        actor=user,
        action="api_token.made",
        obj=user,
        payload={"name": name, "expiry": token.expiry},
    )
    return token, key


@transaction.atomic
def token_revoke(*, user: User, digest: str, actor: User | None = None) -> ApiToken | None:
    """Revoke one of ``user``'s own tokens (``actor``, the admin, may do it for them); None if
    they hold no such token."""
    token = ApiToken.objects.filter(user=user, digest=digest).first()
    if token is not None:
        _revoked(actor or user, user, [token.name], "revoked")
        token.delete()
    return token


def _revoked(actor: User, user: User, names: list[str], why: str) -> None:
    audit_log(
        actor=actor,
        action="api_token.revoked",
        obj=user,
        payload={"names": names, "why": why, "owner": user.get_username()},
    )


@transaction.atomic
def tokens_revoke_all(*, user: User, why: str = "password changed") -> int:
    """Revoke every token of ``user`` (a password change does); answers how many."""
    tokens = ApiToken.objects.filter(user=user)
    names = list(tokens.order_by("created").values_list("name", flat=True))
    if names:
        _revoked(user, user, names, why)
    count, _ = tokens.delete()
    return count
