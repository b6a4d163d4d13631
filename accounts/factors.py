"""The second factor a signature or a gate release is made with.

Buyers who sign, finance and admins (``portal.roles.needs_second_factor``) hold a passkey or an
authenticator app (TOTP), and every signature and release asks for a fresh answer from one of
them, beside the password. What answered is kept with the record (``FactorAnswer.record``):

- ``passkey``: the assertion itself, whose challenge is the hash of what was signed
  (``accounts.passkeys``): checkable later by anyone with the public key;
- ``totp``: which authenticator app answered (its code is used once and never stored);
- ``command``: signed at the server by a management command (``seed_demo``), never by a page.

Answers are checked outside any transaction that may roll back: a wrong code's throttle
(django-otp: 1 s, 2 s, 4 s ... before the next code is looked at) must survive the refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key
from django_otp_webauthn.models import WebAuthnCredential

from accounts.passkeys import passkeys_of, signing_answer
from portal.audit import audit_log
from portal.models import User

NO_FACTOR = _(
    "Set up a passkey or an authenticator app on your Security page first: signing and releasing "
    "need a second factor besides your password."
)


@dataclass(frozen=True)
class FactorAnswer:
    """A checked answer. ``binding`` is the hash the passkey signed (None for other kinds): the
    caller compares it with the hash of what it is about to sign."""

    kind: str
    record: dict[str, Any] = field(default_factory=dict)
    binding: str | None = None

    @property
    def summary(self) -> str:
        """One line for the audit log and the pages: which factor, not its secret."""
        if self.kind == "passkey":
            return f"passkey #{self.record['credential']}"
        if self.kind == "totp":
            return f"authenticator app “{self.record['name']}”"
        return f"server command {self.record['command']}"


def command_factor(name: str) -> FactorAnswer:
    """Signed at the server by a management command (``seed_demo``): no person's factor."""
    return FactorAnswer(kind="command", record={"kind": "command", "command": name})


def totp_devices_of(user: User) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk"))


def verified(request: HttpRequest) -> bool:
    """This session answered a second factor (django-otp's ``OTPMiddleware`` sets
    ``user.is_verified``)."""
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def has_second_factor(user: User) -> bool:
    return bool(passkeys_of(user) or totp_devices_of(user))


def factor_answer(
    *, request: HttpRequest, user: User, code: str = "", passkey: str = "", purpose: str
) -> FactorAnswer:
    """Check the fresh answer to the second factor for ``purpose`` ("sign", "release"): a
    passkey's signed challenge (``passkey``, JSON) or an authenticator app's six digits
    (``code``). Raises ValidationError naming what is wrong; nothing is signed then."""
    if not has_second_factor(user):
        raise ValidationError({"code": NO_FACTOR})
    if len(passkey) > 20_000:
        raise ValidationError(
            {"passkey": gettext("That passkey answer is far too long; try again.")}
        )
    if passkey.strip():
        answered = signing_answer(request=request, user=user, answer=passkey, purpose=purpose)
        return FactorAnswer(kind="passkey", record=answered.record, binding=answered.binding)
    device = totp_match(user, code)
    return FactorAnswer(
        kind="totp", record={"kind": "totp", "device": device.pk, "name": device.name}
    )


def totp_match(user: User, code: str) -> TOTPDevice:
    """The user's authenticator app whose current code this is; ValidationError otherwise. A wrong
    code is counted on each app (django-otp's throttle), so guessing slows down at once."""
    code = "".join(code.split())
    if not code:
        raise ValidationError(
            {"code": gettext("Confirm with your passkey, or type the 6-digit code from your app.")}
        )
    throttled = 0
    for device in totp_devices_of(user):
        # One request at a time per app: django-otp reads the last time step used and the
        # failure count, then saves them. Unlocked, parallel requests would each accept the same
        # code, or overwrite each other's failures and never slow guessing down. No exception
        # leaves this block, so a wrong code's count is committed.
        with transaction.atomic():
            locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            allowed, _ = locked.verify_is_allowed()
            if not allowed:  # a wrong code a moment ago: this app waits (1 s, 2 s, 4 s ...)
                throttled += 1
                continue
            if locked.verify_token(code):
                return locked
    if throttled:
        raise ValidationError(
            {"code": gettext("Too many wrong codes in a row: wait a few seconds, then try again.")}
        )
    raise ValidationError(
        {"code": gettext("That code is not your app's current one (or was used already).")}
    )


PENDING_KEY = "totp_pending_key"


def totp_pending(request: HttpRequest) -> TOTPDevice:
    """The authenticator app being set up, not yet saved: its key waits in the session until a
    code confirms it, so a reload shows the same QR code and opening the page writes nothing."""
    key = request.session.get(PENDING_KEY)
    if not key:
        key = request.session[PENDING_KEY] = default_key()
    return TOTPDevice(user=request.user, key=key, name="Authenticator app", confirmed=False)


@transaction.atomic
def totp_confirm(*, request: HttpRequest, user: User, name: str, code: str) -> TOTPDevice:
    """The app shows the right code for the pending key: it becomes one of the user's second
    factors, its code used (``last_t``) so it cannot sign straight after."""
    pending = totp_pending(request)
    name = " ".join(name.split())[:64] or "Authenticator app"
    totp = TOTP(pending.bin_key, pending.step, pending.t0, pending.digits, pending.drift)
    code = "".join(code.split())
    if not (code.isascii() and code.isdigit() and totp.verify(int(code), pending.tolerance)):
        raise ValidationError(
            {
                "code": gettext(
                    "That is not the code your app shows now; scan the QR code again and retry."
                )
            }
        )
    device = TOTPDevice.objects.create(
        user=user, key=pending.key, name=name, confirmed=True, last_t=totp.t(), drift=totp.drift
    )
    request.session.pop(PENDING_KEY, None)
    audit_log(
        actor=user,
        action="second_factor.added",
        obj=user,
        payload={"kind": "totp", "device": device.pk, "name": name},
    )
    return device


def factor_remove(*, user: User, kind: str, device_id: int) -> str | None:
    """Remove one of the user's own second factors (the audit log records it: accounts.signals);
    answers its name, or None if they hold no such factor."""
    model: Any = WebAuthnCredential if kind == "passkey" else TOTPDevice
    device = model.objects.filter(user=user, pk=device_id, confirmed=True).first()
    if device is None:
        return None
    name = device.name or f"{kind} #{device.pk}"
    device.delete()
    return str(name)
