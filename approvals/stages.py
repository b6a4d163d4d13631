"""The approval and gates steps of a batch's story strip, and the batch page's headline (the
decision in force, in its one sentence, and what it rests on): registered with
``portal.pages`` in ``ApprovalsConfig.ready()``."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from approvals.models import Approval, Gate
from approvals.services.gates import gate_states, latest_approval
from orders.models import Batch
from portal.models import User
from portal.pages import Headline, Stage


def _stale_reason(approval: Approval) -> str:
    stale = next(iter(approval.staleness.all()), None)
    return stale.reason if stale is not None else ""


def approval_stages(user: User | AnonymousUser, batch: Batch) -> list[Stage]:
    url = reverse("batch-approvals", args=[batch.pk])
    approval = latest_approval(batch.order, batch)
    if approval is None:
        signed = Stage(_("Approval"), "todo", _("Not signed yet"), url)
    elif _stale_reason(approval):
        signed = Stage(_("Approval"), "problem", _("Stale: sign again"), url)
    elif approval.decision == Approval.Decision.REJECTED:
        signed = Stage(_("Approval"), "problem", _("Rejected"), url)
    else:
        signed = Stage(_("Approval"), "done", str(approval.get_decision_display()), url)
    states = Counter(state.state for state in gate_states(batch.gates.all()).values())
    total = sum(states.values())
    released = states[Gate.State.RELEASED] + states[Gate.State.RELEASED_WITH_EXCEPTION]
    if not total:
        gates = Stage(_("Gates"), "todo", _("None set"), url)
    elif released == total:
        gates = Stage(_("Gates"), "done", _("All %(count)s released") % {"count": total}, url)
    elif states[Gate.State.OPEN]:
        gates = Stage(
            _("Gates"),
            "waiting",
            _("%(open)s of %(total)s open to release") % {"open": states["open"], "total": total},
            url,
        )
    else:
        gates = Stage(
            _("Gates"),
            "todo",
            _("%(blocked)s of %(total)s blocked") % {"blocked": states["blocked"], "total": total},
            url,
        )
    return [signed, gates]


def approval_headline(user: User | AnonymousUser, batch: Batch) -> Headline | None:
    approval = latest_approval(batch.order, batch)
    if approval is None:
        return None
    signature = getattr(approval, "signature", None)
    signed = ""
    if signature is not None:
        signed = _("Signed by %(name)s on %(date)s") % {
            "name": signature.printed_name,
            "date": formats.date_format(signature.signed_at, "DATE_FORMAT"),
        }
    return Headline(
        decision=approval.decision,
        label=str(approval.get_decision_display()),
        sentence=approval.sentence,
        signed=signed,
        rests_on=[pin["label"] for pin in approval.manifest.get("pins", [])],
        url=reverse("approval-detail", args=[approval.pk]),
        stale=_stale_reason(approval),
        promises=approval.promises_label,
    )
