"""A new version of anything an approval pins makes it stale, and the gates it opened close."""

from __future__ import annotations

from collections.abc import Iterable

from approvals.models import (
    Approval,
    ApprovalStaleness,
)
from portal.audit import audit_log


def approvals_mark_stale(*, kind: str, object_ids: Iterable[int], reason: str) -> list[Approval]:
    """Approvals pinning any of these objects turn stale (once), and say why.

    Called from the audit event that gave those objects a new version (``portal.events``),
    with the audit chain's lock held. It locks no row that a writer could hold while waiting
    for that lock: it reads, inserts staleness rows that reference approvals (append-only,
    never locked FOR UPDATE) and logs events naming the approval's order, which is the
    event's own order (an approval pins only its order's records), already locked."""
    ids = list(object_ids)
    if not ids:
        return []
    approvals = list(
        Approval.objects.filter(pins__kind=kind, pins__object_id__in=ids, staleness__isnull=True)
        .select_related("order")
        .distinct()
    )
    for approval in approvals:
        ApprovalStaleness.objects.create(approval=approval, reason=reason[:500])
        audit_log(
            actor=None,
            action="approval.stale",
            obj=approval,
            order=approval.order,
            payload={"reason": reason},
        )
    return approvals


def approvals_on_new_version(kind: str, object_ids: list[int], reason: str) -> None:
    """Subscribed in ``ready()``: a pinned kind's record got a new version."""
    approvals_mark_stale(kind=kind, object_ids=object_ids, reason=reason)
