"""How the inspection app's audit events read on the order timeline (see portal.timeline)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inspection.layout import layout_defect_text
from portal.models import AuditEvent
from portal.timeline import actor, batch_link_register, number, quoted, sentence_register
from portal.timeline import value as payload


def _planned(event: AuditEvent) -> str:
    return _(
        "%(actor)s planned an inspection of batch %(batch)s: %(sample)s of %(lot)s units, "
        "level %(level)s, AQL %(aql)s (accept %(accept)s, reject %(reject)s)"
    ) % {
        "actor": actor(event),
        "batch": payload(event, "batch"),
        "sample": number(payload(event, "sample_size")),
        "lot": number(payload(event, "lot_size")),
        "level": payload(event, "level"),
        "aql": payload(event, "aql"),
        "accept": payload(event, "accept"),
        "reject": payload(event, "reject"),
    }


def _unit_recorded(event: AuditEvent) -> str:
    written = payload(event, "defects", "")
    problems = payload(event, "layout_problems") or []
    if problems:  # the layout's defect, in the reader's words, beside what was written
        written = "; ".join(filter(None, [written, layout_defect_text(problems)]))
    facts = {
        "actor": actor(event),
        "serial": payload(event, "serial"),
        "read": payload(event, "read") or "—",
        "carton": payload(event, "carton_found") or "—",
        "defects": quoted(written, 120),
    }
    method = payload(event, "method")
    if method == "not_found":
        return _("%(actor)s could not find unit %(serial)s") % facts
    if method == "skipped":
        return _("%(actor)s skipped unit %(serial)s for now") % facts
    if not payload(event, "matches"):
        sentence = _("%(actor)s checked unit %(serial)s: MISMATCH, the label reads %(read)s")
    elif payload(event, "in_right_carton") is False:
        sentence = _(
            "%(actor)s checked unit %(serial)s: label matches, but found in carton %(carton)s, "
            "not the listed one"
        )
    else:
        sentence = _("%(actor)s checked unit %(serial)s: label matches, in carton %(carton)s")
    if payload(event, "defective"):
        return _("%(sentence)s; defect: %(defects)s") % {
            "sentence": sentence % facts,
            "defects": facts["defects"],
        }
    return sentence % facts


def _units_recorded(events: list[AuditEvent]) -> str:
    """A round of label checks: how many units, and what was found."""
    counted = {"matches": 0, "mismatch": 0, "defective": 0, "not_found": 0, "skipped": 0}
    for event in events:
        method = payload(event, "method")
        if method in ("not_found", "skipped"):
            counted[method] += 1
            continue
        counted["matches" if payload(event, "matches") else "mismatch"] += 1
        counted["defective"] += bool(payload(event, "defective"))
    words = {
        "matches": lambda n: ngettext("%(n)s label matches", "%(n)s labels match", n),
        "mismatch": lambda n: ngettext("%(n)s MISMATCH", "%(n)s MISMATCHES", n),
        "defective": lambda n: ngettext("%(n)s defective", "%(n)s defective", n),
        "not_found": lambda n: ngettext("%(n)s not found", "%(n)s not found", n),
        "skipped": lambda n: ngettext("%(n)s skipped", "%(n)s skipped", n),
    }
    found = [words[key](n) % {"n": number(n)} for key, n in counted.items() if n]
    return ngettext(
        "%(actor)s checked %(n)s unit: %(found)s",
        "%(actor)s checked %(n)s units: %(found)s",
        len(events),
    ) % {"actor": actor(events[0]), "n": number(len(events)), "found": ", ".join(found)}


def _carton_scanned(event: AuditEvent) -> str:
    return _("%(actor)s scanned %(labels)s labels in carton %(carton)s") % {
        "actor": actor(event),
        "labels": number(payload(event, "labels", 0)),
        "carton": payload(event, "carton"),
    }


def _step_blocked(event: AuditEvent) -> str:
    return _("%(actor)s could not do “%(step)s”: blocked by %(by)s — %(reason)s") % {
        "actor": actor(event),
        "step": payload(event, "step"),
        "by": payload(event, "blocked_by"),
        "reason": quoted(payload(event, "reason", "")),
    }


def timeline_sentences_register() -> None:
    sentence_register("inspection.planned", kind="inspection", render=_planned)
    sentence_register(
        "inspection.unit_recorded",
        kind="inspection",
        render=_unit_recorded,
        summarise=_units_recorded,
    )
    sentence_register("inspection.carton_scanned", kind="inspection", render=_carton_scanned)
    sentence_register(
        "inspection.step_blocked", kind="inspection", render=_step_blocked, tone="warning"
    )
    batch_link_register("inspection.InspectionPlan", "batch")
