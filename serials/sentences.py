"""How the serials app's audit events read on the order timeline (see portal.timeline)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.models import AuditEvent
from portal.timeline import (
    Render,
    Summarise,
    actor,
    batch_link_register,
    batch_named,
    label_of,
    number,
    quoted,
    sentence_register,
    size,
    value,
)
from serials.models import ExceptionAnswer, SerialList


def _list_kind(kind: str) -> str:
    """ "Carton list (serial → carton)" → "carton list": the sentence names the file too."""
    return label_of(SerialList.Kind.choices, kind).split(" (")[0].lower()


def _file_name(event: AuditEvent) -> str:
    """The uploaded file's name: the validation events name the list, not its file."""
    name = (
        SerialList.objects.filter(pk=event.object_id)
        .values_list("original_name", flat=True)
        .first()
    )
    return name or event.object_label


def _uploaded(event: AuditEvent) -> str:
    return _("%(actor)s uploaded %(file)s (%(kind)s, %(size)s) for batch %(batch)s") % {
        "actor": actor(event),
        "file": value(event, "file"),
        "kind": _list_kind(value(event, "kind", "")),
        "size": size(value(event, "size", 0)),
        "batch": value(event, "batch"),
    }


# The counts of a validation, in the order they read; a zero count is left out.
def _findings(event: AuditEvent) -> list[str]:
    counts = [
        ("missing_count", lambda n: ngettext("%(n)s missing", "%(n)s missing", n)),
        ("duplicate_count", lambda n: ngettext("%(n)s duplicated", "%(n)s duplicated", n)),
        ("malformed_count", lambda n: ngettext("%(n)s malformed", "%(n)s malformed", n)),
        (
            "out_of_range_count",
            lambda n: ngettext("%(n)s out of range", "%(n)s out of range", n),
        ),
        (
            "reused_count",
            lambda n: ngettext(
                "%(n)s used by an earlier batch", "%(n)s used by earlier batches", n
            ),
        ),
        ("unknown_count", lambda n: ngettext("%(n)s not allocated", "%(n)s not allocated", n)),
        (
            "unused_count",
            lambda n: ngettext("%(n)s allocated, unused", "%(n)s allocated, unused", n),
        ),
    ]
    found = []
    for key, words in counts:
        count = int(value(event, key, 0) or 0)
        if count:
            found.append(words(count) % {"n": number(count)})
    return found


def _validated(event: AuditEvent) -> str:
    rows = int(value(event, "rows", 0))
    findings = _findings(event)
    facts = {
        "file": _file_name(event),
        "rows": ngettext("%(n)s row", "%(n)s rows", rows) % {"n": number(rows)},
        "findings": ", ".join(findings),
    }
    if findings:
        return _("%(file)s checked: %(rows)s, %(findings)s") % facts
    return _("%(file)s checked: %(rows)s, no findings") % facts


def _failed(event: AuditEvent) -> str:
    return _("Checking %(file)s failed: %(error)s") % {
        "file": _file_name(event),
        "error": value(event, "error", ""),
    }


def _rule_saved(event: AuditEvent) -> str:
    before = value(event, "before")
    facts = {
        "actor": actor(event),
        "product": event.object_label.split(":")[0],
        "pattern": value(event, "pattern"),
        "before": before,
        "months": number(value(event, "warranty_months", 0) or 0),
    }
    if before and before != facts["pattern"]:
        return (
            _(
                "%(actor)s changed the numbering rule of product %(product)s from %(before)s "
                "to %(pattern)s (warranty %(months)s months)"
            )
            % facts
        )
    return (
        _(
            "%(actor)s set the numbering rule of product %(product)s to %(pattern)s "
            "(warranty %(months)s months)"
        )
        % facts
    )


def _target(event: AuditEvent) -> str:
    batch = value(event, "batch")
    return (
        _("batch %(batch)s") % {"batch": batch} if batch else event.object_label.split(" for ")[-1]
    )


def _range_set(event: AuditEvent) -> str:
    return _("%(actor)s allocated the serials %(first)s – %(last)s to %(target)s") % {
        "actor": actor(event),
        "first": value(event, "first"),
        "last": value(event, "last"),
        "target": _target(event),
    }


def _codes_uploaded(event: AuditEvent) -> str:
    return _("%(actor)s allocated %(codes)s codes from %(file)s to %(target)s") % {
        "actor": actor(event),
        "codes": number(value(event, "codes", 0)),
        "file": value(event, "file"),
        "target": _target(event),
    }


def _serials_accepted(event: AuditEvent) -> str:
    return _("%(actor)s accepted the serials of %(batch)s into the registry") % {
        "actor": actor(event),
        "batch": batch_named(event.object_label),
    }


def _answered(event: AuditEvent) -> str:
    reasons = ExceptionAnswer._meta.get_field("reason").choices or []
    facts = {
        "actor": actor(event),
        "exception": event.object_label,
        "reason": label_of(reasons, value(event, "reason", "")).lower(),
        "note": quoted(value(event, "note", "")),
    }
    if value(event, "note"):
        return _("%(actor)s explained “%(exception)s”: %(reason)s — %(note)s") % facts
    return _("%(actor)s explained “%(exception)s”: %(reason)s") % facts


def _decided(accepted: bool) -> Render:
    def render(event: AuditEvent) -> str:
        facts = {
            "actor": actor(event),
            "exception": event.object_label,
            "note": quoted(value(event, "note", "")),
        }
        if accepted and value(event, "note"):
            return _("%(actor)s accepted the explanation of “%(exception)s” — %(note)s") % facts
        if accepted:
            return _("%(actor)s accepted the explanation of “%(exception)s”") % facts
        if value(event, "note"):
            return _("%(actor)s rejected the explanation of “%(exception)s” — %(note)s") % facts
        return _("%(actor)s rejected the explanation of “%(exception)s”") % facts

    return render


def _answers(events: list[AuditEvent]) -> str:
    reasons = ExceptionAnswer._meta.get_field("reason").choices or []
    named = sorted({label_of(reasons, value(event, "reason", "")).lower() for event in events})
    return ngettext(
        "%(actor)s explained %(n)s exception at once: %(reasons)s",
        "%(actor)s explained %(n)s exceptions at once: %(reasons)s",
        len(events),
    ) % {"actor": actor(events[0]), "n": number(len(events)), "reasons": ", ".join(named)}


def _decisions(accepted: bool) -> Summarise:
    def summarise(events: list[AuditEvent]) -> str:
        facts = {"actor": actor(events[0]), "n": number(len(events))}
        if accepted:
            return _("%(actor)s accepted the explanations of %(n)s exceptions at once") % facts
        return _("%(actor)s rejected the explanations of %(n)s exceptions at once") % facts

    return summarise


def timeline_sentences_register() -> None:
    sentence_register("serial_list.uploaded", kind="serials", render=_uploaded)
    sentence_register("serial_list.validated", kind="serials", render=_validated)
    sentence_register("serial_list.failed", kind="serials", render=_failed, tone="danger")
    sentence_register("numbering_rule.saved", kind="serials", render=_rule_saved)
    sentence_register("allocated_range.set", kind="serials", render=_range_set)
    sentence_register("allocated_codes.uploaded", kind="serials", render=_codes_uploaded)
    sentence_register("batch.serials_accepted", kind="serials", render=_serials_accepted)
    sentence_register(
        "serial_exception.answered", kind="exceptions", render=_answered, summarise=_answers
    )
    sentence_register(
        "serial_exception.accepted",
        kind="exceptions",
        render=_decided(accepted=True),
        summarise=_decisions(accepted=True),
    )
    sentence_register(
        "serial_exception.rejected",
        kind="exceptions",
        render=_decided(accepted=False),
        summarise=_decisions(accepted=False),
        tone="warning",
    )
    for object_type in (
        "serials.SerialList",
        "serials.SerialException",
        "serials.AllocatedRange",
        "serials.AllocatedCodeList",
    ):
        batch_link_register(object_type, "batch")
