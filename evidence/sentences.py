"""How the evidence app's audit events read on the order timeline (see portal.timeline)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from evidence.models import EvidenceKind, Responsibility, ResponsibilityRole
from portal.models import AuditEvent
from portal.timeline import (
    actor,
    batch_link_register,
    batch_named,
    day,
    label_of,
    quoted,
    sentence_register,
)
from portal.timeline import value as payload


def _kind(key: str) -> str:
    return label_of(EvidenceKind.choices, key).lower()


def _uploaded(event: AuditEvent) -> str:
    return _("%(actor)s uploaded %(file)s (%(kind)s) for batch %(batch)s") % {
        "actor": actor(event),
        "kind": _kind(payload(event, "kind", "")),
        "file": payload(event, "file"),
        "batch": payload(event, "batch"),
    }


def _uploads(events: list[AuditEvent]) -> str:
    batches = sorted({str(payload(event, "batch")) for event in events})
    return ngettext(
        "%(actor)s uploaded %(n)s file for batch %(batch)s: %(files)s",
        "%(actor)s uploaded %(n)s files for batch %(batch)s: %(files)s",
        len(events),
    ) % {
        "actor": actor(events[0]),
        "n": len(events),
        "batch": ", ".join(batches),
        "files": ", ".join(
            f"{payload(event, 'file')} ({_kind(payload(event, 'kind', ''))})"
            for event in reversed(events)
        ),
    }


def _replaced(event: AuditEvent) -> str:
    return _("%(actor)s replaced evidence of batch %(batch)s with %(file)s (%(kind)s, v%(v)s)") % {
        "actor": actor(event),
        "kind": _kind(payload(event, "kind", "")),
        "file": payload(event, "file"),
        "batch": payload(event, "batch"),
        "v": payload(event, "version"),
    }


def _required(event: AuditEvent) -> str:
    kinds = ", ".join(_kind(key) for key in payload(event, "kinds", []))
    return _("%(actor)s asked for evidence on %(batch)s: %(kinds)s") % {
        "actor": actor(event),
        "batch": batch_named(event.object_label),
        "kinds": kinds,
    }


def _request_sent(event: AuditEvent) -> str:
    return _("%(actor)s asked the supplier “%(subject)s”, due %(due)s") % {
        "actor": actor(event),
        "subject": payload(event, "subject"),
        "due": day(payload(event, "due_on")),
    }


def _statement_written(event: AuditEvent) -> str:
    return _("%(actor)s answered the request with statement v%(version)s: %(text)s") % {
        "actor": actor(event),
        "version": payload(event, "version"),
        "text": quoted(payload(event, "text", "")),
    }


def _statement_reviewed(event: AuditEvent) -> str:
    return _("%(actor)s reviewed %(statement)s") % {
        "actor": actor(event),
        "statement": event.object_label,
    }


def _responsibility(event: AuditEvent) -> str:
    facts = {
        "actor": actor(event),
        "party": payload(event, "party"),
        "type": label_of(Responsibility.PartyType.choices, payload(event, "type", "")).lower(),
        "role": label_of(ResponsibilityRole.choices, payload(event, "role", "")).lower(),
    }
    if payload(event, "accepts"):
        return (
            _("%(actor)s named %(party)s (%(type)s) as who %(role)s; they accept responsibility")
            % facts
        )
    return (
        _("%(actor)s named %(party)s (%(type)s) as who %(role)s; they do not accept responsibility")
        % facts
    )


def _responsibilities(events: list[AuditEvent]) -> str:
    refusing = sum(1 for event in events if not payload(event, "accepts"))
    facts = {"actor": actor(events[0]), "n": len(events), "refusing": refusing}
    if refusing:
        return (
            _(
                "%(actor)s named who does %(n)s parts of the serial work; %(refusing)s do not "
                "accept responsibility"
            )
            % facts
        )
    return (
        _("%(actor)s named who does %(n)s parts of the serial work; all accept responsibility")
        % facts
    )


def timeline_sentences_register() -> None:
    sentence_register("evidence.uploaded", kind="evidence", render=_uploaded, summarise=_uploads)
    sentence_register("evidence.replaced", kind="evidence", render=_replaced)
    sentence_register("evidence.required", kind="evidence", render=_required)
    sentence_register("evidence_request.sent", kind="evidence", render=_request_sent)
    sentence_register("statement.written", kind="evidence", render=_statement_written)
    sentence_register("statement.reviewed", kind="evidence", render=_statement_reviewed)
    sentence_register(
        "responsibility.recorded",
        kind="evidence",
        render=_responsibility,
        summarise=_responsibilities,
    )
    batch_link_register("evidence.EvidenceItem", "batch")
    batch_link_register("evidence.EvidenceRequest", "batch")
    batch_link_register("evidence.Statement", "request__batch")
