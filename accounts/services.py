"""Making and revoking API tokens; inviting, re-roling, deactivating and reactivating people
(the buyer's admin, ``portal.roles.can_manage_people``)."""

from __future__ import annotations

import datetime
import smtplib

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from knox.settings import knox_settings

from accounts.models import ApiToken
from accounts.selectors import organisations_managed_by
from portal.audit import audit_log
from portal.models import ROLES_BY_KIND, Membership, Organisation, Role, User

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
def tokens_revoke_all(
    *, user: User, why: str = "password changed", actor: User | None = None
) -> int:
    """Revoke every token of ``user`` (a password change does, and so does the admin who
    deactivates them, the ``actor``); answers how many."""
    tokens = ApiToken.objects.filter(user=user)
    names = list(tokens.order_by("created").values_list("name", flat=True))
    if names:
        _revoked(actor or user, user, names, why)
    count, _ = tokens.delete()
    return count


# --------------------------------------------------------------- people (the buyer's admin)

# Any fixed number: serialises invitations on PostgreSQL, so two admins inviting one address
# at the same moment cannot both pass the duplicate check (emails are not unique in the table).
INVITATION_LOCK = 7_243_912


def _organisation_checked(actor: User, organisation: Organisation) -> None:
    if not organisations_managed_by(actor).filter(pk=organisation.pk).exists():
        raise ValidationError(
            {"organisation": _("Choose your own organisation or one of your suppliers.")}
        )


def _role_checked(organisation: Organisation, role: str) -> None:
    allowed = ROLES_BY_KIND[organisation.kind]
    if role not in allowed:
        names = ", ".join(sorted(str(Role(value).label) for value in allowed))
        raise ValidationError(
            {
                "role": _("%(organisation)s is a %(kind)s: its people can only be %(roles)s.")
                % {
                    "organisation": organisation.name,
                    "kind": organisation.get_kind_display().lower(),
                    "roles": names,
                }
            }
        )


def _not_oneself(actor: User, person: User, what: str) -> None:
    if actor.pk == person.pk:
        raise ValidationError(what)


def person_invite(
    *,
    actor: User,
    organisation: Organisation,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    username: str = "",
    language: str = "",
) -> User:
    """A new person in ``organisation`` with ``role`` and no usable password, emailed a one-time
    link to set one (it expires after ``PASSWORD_RESET_TIMEOUT``). Nothing is kept if a check
    fails or the email cannot be sent."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INVITATION_LOCK])
        _organisation_checked(actor, organisation)
        _role_checked(organisation, role)
        email = User.objects.normalize_email(email.strip())
        username = (username or email).strip()
        errors = {}
        if not email:
            errors["email"] = _("Enter their email address: the invitation goes there.")
        elif User.objects.filter(email__iexact=email).exists():
            errors["email"] = _(
                "Someone in the portal already has the email address %(email)s: each person "
                "signs in with their own."
            ) % {"email": email}
        if User.objects.filter(username__iexact=username).exists():
            errors["username"] = _("The user name “%(username)s” is taken: choose another.") % {
                "username": username
            }
        if language and language not in dict(settings.LANGUAGES):
            errors["language"] = _("Choose one of the portal's languages.")
        if errors:
            raise ValidationError(errors)
        person = User(
            username=username,
            email=email,
            first_name=" ".join(first_name.split()),
            last_name=" ".join(last_name.split()),
            language=language,
        )
        person.set_unusable_password()
        person.full_clean(exclude=["password"])
        person.save()
        Membership.objects.create(user=person, organisation=organisation, role=role)
        # Sent before the audit event, so the chain's lock is never held while a mail server
        # answers; a failed send raises, and the transaction keeps nothing.
        _invitation_email(person=person, actor=actor)
        audit_log(
            actor=actor,
            action="person.invited",
            obj=person,
            payload={
                "organisation": organisation.name,
                "role": role,
                "email": email,
                "username": username,
                "language": language,
            },
        )
    return person


def invitation_link(person: User) -> str:
    """The one-time link to set a password: Django's password-reset token, which stops working
    once a password is set, a sign-in happens, or ``PASSWORD_RESET_TIMEOUT`` passes."""
    path = reverse(
        "account-set-password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(person.pk)),
            "token": default_token_generator.make_token(person),
        },
    )
    return settings.PORTAL_BASE_URL + path


def invitation_days() -> int:
    """How many days an invitation's link works: ``PASSWORD_RESET_TIMEOUT``, in whole days."""
    return max(1, round(settings.PASSWORD_RESET_TIMEOUT / 86_400))


def _invitation_email(*, person: User, actor: User) -> None:
    membership = person.membership
    days = invitation_days()
    with translation.override(person.language or settings.LANGUAGE_CODE):
        subject = _("You are invited to the Serial Evidence Portal")
        body = "\n".join(
            [
                _("Hello %(name)s,") % {"name": person.printed_name},
                "",
                _(
                    "%(inviter)s of %(buyer)s has invited you to the Serial Evidence Portal, "
                    "as %(role)s at %(organisation)s."
                )
                % {
                    "inviter": actor.printed_name,
                    "buyer": actor.membership.organisation.name,
                    "role": membership.get_role_display().lower(),
                    "organisation": membership.organisation.name,
                },
                "",
                _("Set your password here (the link works once, for %(days)s days):")
                % {"days": days},
                invitation_link(person),
                "",
                _("Then sign in with the user name: %(username)s") % {"username": person.username},
                "",
                _("If you did not expect this email, ignore it: nothing happens without you."),
            ]
        )
    try:
        send_mail(str(subject), body, settings.DEFAULT_FROM_EMAIL, [person.email])
    except (smtplib.SMTPException, OSError) as error:
        raise ValidationError(
            _("The invitation email could not be sent (%(error)s): nobody was invited.")
            % {"error": error}
        ) from error


def person_invitation_resend(*, actor: User, person: User) -> None:
    """Email a fresh set-password link to someone who has not set a password yet."""
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=person.pk)
        if person.has_usable_password() or not person.is_active:
            raise ValidationError(
                _("%(name)s has already set a password or is deactivated: no invitation sent.")
                % {"name": person.printed_name}
            )
        _invitation_email(person=person, actor=actor)
        audit_log(
            actor=actor,
            action="person.invitation_sent",
            obj=person,
            payload={"email": person.email},
        )


def person_role_change(*, actor: User, person: User, role: str) -> bool:
    """Give ``person`` another role valid for their organisation; False if it is the same."""
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().select_related("organisation").get(user=person)
        )
        if membership.role == role:
            return False
        _not_oneself(
            actor, person, _("You cannot change your own role: another admin has to do it.")
        )
        _role_checked(membership.organisation, role)
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_log(
            actor=actor,
            action="person.role_changed",
            obj=person,
            payload={"role": [before, role], "organisation": membership.organisation.name},
        )
    return True


def _sessions_end(person: User) -> int:
    """Delete every signed-in session of ``person``; answers how many. Sessions live in the
    database (Django's default engine), and a session names its user only inside its encoded
    data, so the live ones are decoded one by one. Even a session missed here opens nothing:
    Django's ModelBackend refuses an inactive user on every request."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get(SESSION_KEY) == str(person.pk):
            session.delete()
            ended += 1
    return ended


def person_deactivate(*, actor: User, person: User) -> dict[str, int]:
    """``person`` can no longer sign in: their sessions end and their API tokens are revoked,
    in one transaction with the audit event. Their records stay, and name them."""
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=person.pk)
        _not_oneself(actor, person, _("You cannot deactivate yourself: another admin has to."))
        if not person.is_active:
            raise ValidationError(
                _("%(name)s is already deactivated.") % {"name": person.printed_name}
            )
        person.is_active = False
        fields = ["is_active"]
        if not person.has_usable_password():
            # A new unusable password voids the invitation's set-password link for good (its
            # token hashes the password): reactivating the person does not revive a leaked link.
            person.set_unusable_password()
            fields.append("password")
        person.save(update_fields=fields)
        ended = _sessions_end(person)
        revoked = tokens_revoke_all(user=person, why="deactivated", actor=actor)
        audit_log(
            actor=actor,
            action="person.deactivated",
            obj=person,
            payload={"sessions_ended": ended, "tokens_revoked": revoked},
        )
    return {"sessions": ended, "tokens": revoked}


def person_reactivate(*, actor: User, person: User) -> None:
    """``person`` may sign in again, with the password they had (or their invitation)."""
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=person.pk)
        if person.is_active:
            raise ValidationError(_("%(name)s is already active.") % {"name": person.printed_name})
        person.is_active = True
        person.save(update_fields=["is_active"])
        audit_log(actor=actor, action="person.reactivated", obj=person, payload={})


def person_password_set(*, person: User) -> None:
    """The audit log says an invited (or reset) person set their password through the link."""
    audit_log(actor=person, action="person.password_set", obj=person, payload={})
