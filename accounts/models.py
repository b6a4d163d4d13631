"""API tokens: django-rest-knox's hashed, expiring tokens, with a name per device and the time
each was last used.

Only the SHA-512 digest of a token is stored (knox); the token itself is shown once, when it
is made. ``REST_KNOX["TOKEN_TTL"]`` (``API_TOKEN_TTL_DAYS``) sets its expiry."""

from __future__ import annotations

import datetime

from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """One API token of one person, named after the device or system that holds it. Editable:
    its last use is recorded, and revoking one deletes it (knox deletes expired ones too)."""

    # knox has no types: its base is Any to mypy, so the fields say what they hold.
    name: models.CharField[str, str] = models.CharField(max_length=100)
    last_used: models.DateTimeField[datetime.datetime | None, datetime.datetime | None] = (
        models.DateTimeField(null=True, blank=True)
    )

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"
