"""Every password typed into the portal counts like a sign-in (django-axes).

Signing an approval re-enters the password, and so does the API's token endpoint: each goes
through ``django.contrib.auth.authenticate`` with the request, so a wrong one counts towards
the same lockout as the sign-in page (``LOGIN_FAILURE_LIMIT`` in a row per user name and
address), and a locked-out user name is refused before its password is even checked.

Call these outside any transaction that may roll back: axes records a failure in the database,
and a rolled-back savepoint would forget it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from portal.models import User


class PasswordsLocked(PermissionDenied):
    """Too many wrong passwords in a row for this user name from this address (axes).

    The API answers 429 with ``{"detail": message}``, as for a locked sign-in; pages get axes'
    lockout page (``portal.views.login_locked_out``), 429."""

    def __init__(self) -> None:
        super().__init__(lockout_message())


def lockout_message() -> str:
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return (
        "Too many wrong passwords in a row for this user name from your address: signing in "
        f"is paused for {minutes} minutes, and so is anything signed with your password."
    )


def password_authenticate(*, request: HttpRequest, username: str, password: str) -> User | None:
    """The user these credentials name, or None; counted by axes. Raises PasswordsLocked once
    the user name is locked out (this attempt locked it, or an earlier one did)."""
    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise PasswordsLocked
    return user if isinstance(user, User) else None


def password_confirm(
    *, request: HttpRequest, user: User, password: str, refused: str = "That is not your password."
) -> None:
    """The signed-in ``user`` re-entered their own password. A wrong one is a failed sign-in for
    axes (ValidationError on ``password`` with ``refused``); the right one resets the count, as
    a sign-in does."""
    checked = password_authenticate(
        request=request, username=user.get_username(), password=password
    )
    if checked is None or checked.pk != user.pk:
        raise ValidationError({"password": refused})
    if settings.AXES_ENABLED and settings.AXES_RESET_ON_SUCCESS:
        from axes.handlers.proxy import AxesProxyHandler

        AxesProxyHandler.reset_attempts(
            username=user.get_username(), ip_address=getattr(request, "axes_ip_address", None)
        )


def command_request(name: str) -> HttpRequest:
    """A request for a password typed at this machine, by a management command (``seed_demo``):
    counted by axes like any other, from 127.0.0.1 and the command's name as its path."""
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = f"/manage/{name}"
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    request.META["HTTP_USER_AGENT"] = f"manage.py {name}"
    return request
