"""A password change revokes every API token of its user; second factors added and removed are
written to the audit log, wherever it happens (the user's Security page, the admin).

Django sends no signal of its own for a password change, so the user row's save is watched: the
stored hash is compared with the one being saved. That covers every path that saves a new
password (the user's own change page, the admin's password form, ``changepassword``,
``set_password`` then ``save``), whatever sets it. ``save(update_fields=[...])`` without
``password`` (a sign-in's ``last_login``) is not looked at."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.services import tokens_revoke_all
from portal.audit import audit_log
from portal.models import User


@receiver(pre_save, sender=User, dispatch_uid="accounts.password_change_noticed")
def _password_change_noticed(
    sender: type[User], instance: User, raw: bool = False, update_fields: Any = None, **_: Any
) -> None:
    instance._password_changed = False  # type: ignore[attr-defined]
    if raw or instance.pk is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_changed = stored is not None and stored != instance.password  # type: ignore[attr-defined]


@receiver(post_save, sender=User, dispatch_uid="accounts.tokens_revoked_on_password_change")
def _tokens_revoked_on_password_change(
    sender: type[User], instance: User, created: bool = False, **_: Any
) -> None:
    if getattr(instance, "_password_changed", False):
        tokens_revoke_all(user=instance)
        instance._password_changed = False  # type: ignore[attr-defined]


@receiver(post_save, sender=WebAuthnCredential, dispatch_uid="accounts.passkey_added")
def _passkey_added(
    sender: type[WebAuthnCredential], instance: WebAuthnCredential, created: bool = False, **_: Any
) -> None:
    """django-otp-webauthn's registration view saves a new passkey: the audit log says so."""
    if created:
        audit_log(
            actor=instance.user,
            action="second_factor.added",
            obj=instance.user,
            payload={
                "kind": "passkey",
                "device": instance.pk,
                "credential_id_sha256": instance.credential_id_sha256,
            },
        )


@receiver(post_delete, sender=WebAuthnCredential, dispatch_uid="accounts.passkey_removed")
@receiver(post_delete, sender=TOTPDevice, dispatch_uid="accounts.totp_removed")
def _second_factor_removed(sender: type[Any], instance: Any, **_: Any) -> None:
    """A second factor removed, by its owner or in the admin: the audit log says so."""
    if instance.confirmed:
        audit_log(
            actor=None,
            action="second_factor.removed",
            obj=instance.user,
            payload={
                "kind": "passkey" if sender is WebAuthnCredential else "totp",
                "device": instance.pk,
                "name": instance.name,
            },
        )
