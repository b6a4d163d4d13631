"""How the dossier app's audit events read on the order timeline (see portal.timeline)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from portal.models import AuditEvent
from portal.timeline import actor, sentence_register, size
from portal.timeline import value as payload


def _requested(event: AuditEvent) -> str:
    return _("%(actor)s asked for the dispute dossier (export #%(export)s)") % {
        "actor": actor(event),
        "export": payload(event, "export"),
    }


def _built(event: AuditEvent) -> str:
    return _("The dispute dossier (export #%(export)s) is ready: %(size)s") % {
        "export": payload(event, "export"),
        "size": size(payload(event, "size", 0)),
    }


def _failed(event: AuditEvent) -> str:
    return _("Building the dispute dossier (export #%(export)s) failed: %(error)s") % {
        "export": payload(event, "export"),
        "error": payload(event, "error", ""),
    }


def _downloaded(event: AuditEvent) -> str:
    return _("%(actor)s downloaded the dispute dossier %(file)s") % {
        "actor": actor(event),
        "file": payload(event, "filename"),
    }


def _epcis_downloaded(event: AuditEvent) -> str:
    return _("%(actor)s downloaded the EPCIS 2.0 events of batch %(batch)s (%(events)s events)") % {
        "actor": actor(event),
        "batch": event.object_label,
        "events": payload(event, "events"),
    }


def timeline_sentences_register() -> None:
    sentence_register("order.dossier_requested", kind="dossier", render=_requested)
    sentence_register("order.dossier_built", kind="dossier", render=_built)
    sentence_register("order.dossier_failed", kind="dossier", render=_failed, tone="danger")
    sentence_register("order.dossier_downloaded", kind="dossier", render=_downloaded)
    sentence_register("batch.epcis_downloaded", kind="dossier", render=_epcis_downloaded)
