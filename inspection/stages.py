"""The inspection step of a batch's story strip, for those who may see inspections (never the
supplier: a sample known in advance can be prepared). Registered in
``InspectionConfig.ready()``."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils.translation import gettext as _

from inspection.selectors import plan_outcome, plans_visible_to
from orders.models import Batch
from portal.models import User
from portal.pages import Stage
from portal.roles import can_see_inspections

_STATES = {"passed": "done", "failed": "problem", "blocked": "problem", "in_progress": "waiting"}


def inspection_stages(user: User | AnonymousUser, batch: Batch) -> list[Stage]:
    if not can_see_inspections(user):
        return []
    url = reverse("batch-inspections", args=[batch.pk])
    plan = plans_visible_to(user).filter(batch=batch).order_by("-id").first()
    if plan is None:
        return [Stage(_("Inspection"), "todo", _("Not planned"), url)]
    outcome = plan_outcome(plan)
    summary = str(outcome.label)
    if outcome.state == "in_progress":
        summary = _("%(read)s of %(size)s read") % {
            "read": outcome.recorded,
            "size": outcome.sample_size,
        }
    return [Stage(_("Inspection"), _STATES[outcome.state], summary, url)]
