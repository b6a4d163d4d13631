from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext


class Conflict(Exception):
    """Someone else changed the same thing a moment ago: reload and decide again (HTTP 409)."""


def message_of(error: ValidationError | PermissionDenied | Conflict) -> str:
    """One line for a page's message area, from any refusal a service raises."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or gettext("Your role cannot do this.")
