"""How the accounts app's audit events read (see portal.timeline). They name a person, not an
order, so they appear on no order's timeline; they read the same wherever events are shown."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.models import AuditEvent, Role
from portal.timeline import actor, label_of, quoted, sentence_register
from portal.timeline import value as payload

FACTOR_KINDS = {"passkey": gettext_lazy("a passkey"), "totp": gettext_lazy("an authenticator app")}


def _factor(event: AuditEvent) -> str:
    kind = payload(event, "kind", "")
    return str(FACTOR_KINDS.get(kind, kind))


def _token_made(event: AuditEvent) -> str:
    return _("%(actor)s made the API token %(name)s") % {
        "actor": actor(event),
        "name": quoted(payload(event, "name", "")),
    }


def _token_revoked(event: AuditEvent) -> str:
    return _("%(actor)s revoked the API tokens of %(owner)s (%(names)s): %(why)s") % {
        "actor": actor(event),
        "owner": payload(event, "owner") or event.object_label,
        "names": ", ".join(payload(event, "names", [])),
        "why": payload(event, "why", ""),
    }


def _factor_added(event: AuditEvent) -> str:
    return _("%(actor)s added %(factor)s as a second factor") % {
        "actor": actor(event),
        "factor": _factor(event),
    }


def _factor_removed(event: AuditEvent) -> str:
    return _("%(factor)s was removed from the second factors of %(person)s") % {
        "factor": _factor(event).capitalize(),
        "person": event.object_label,
    }


def _person(event: AuditEvent) -> dict[str, str]:
    return {"actor": actor(event), "person": event.object_label}


def _invited(event: AuditEvent) -> str:
    return _("%(actor)s invited %(person)s (%(email)s) to %(organisation)s as %(role)s") % {
        **_person(event),
        "email": payload(event, "email"),
        "organisation": payload(event, "organisation"),
        "role": label_of(Role.choices, payload(event, "role", "")).lower(),
    }


def _invitation_sent(event: AuditEvent) -> str:
    return _("%(actor)s sent %(person)s an invitation to %(email)s") % {
        **_person(event),
        "email": payload(event, "email"),
    }


def _role_changed(event: AuditEvent) -> str:
    before, after = payload(event, "role")
    return _("%(actor)s made %(person)s %(role)s (was %(before)s)") % {
        **_person(event),
        "role": label_of(Role.choices, after).lower(),
        "before": label_of(Role.choices, before).lower(),
    }


def _deactivated(event: AuditEvent) -> str:
    return _("%(actor)s deactivated %(person)s") % _person(event)


def _reactivated(event: AuditEvent) -> str:
    return _("%(actor)s reactivated %(person)s") % _person(event)


def _password_set(event: AuditEvent) -> str:
    return _("%(actor)s set a password through their link") % _person(event)


def _preferences(event: AuditEvent) -> str:
    return _("%(actor)s changed their language or time zone") % _person(event)


def timeline_sentences_register() -> None:
    sentence_register("api_token.made", kind="accounts", render=_token_made)
    sentence_register("api_token.revoked", kind="accounts", render=_token_revoked)
    sentence_register("second_factor.added", kind="accounts", render=_factor_added)
    sentence_register("second_factor.removed", kind="accounts", render=_factor_removed)
    sentence_register("person.invited", kind="accounts", render=_invited)
    sentence_register("person.invitation_sent", kind="accounts", render=_invitation_sent)
    sentence_register("person.role_changed", kind="accounts", render=_role_changed)
    sentence_register("person.deactivated", kind="accounts", render=_deactivated)
    sentence_register("person.reactivated", kind="accounts", render=_reactivated)
    sentence_register("person.password_set", kind="accounts", render=_password_set)
    sentence_register("account.preferences_changed", kind="accounts", render=_preferences)
