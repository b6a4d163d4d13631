"""What the batch page (owned by orders, below us) shows about evidence: registered in
``EvidenceConfig.ready()`` with ``portal.pages``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from evidence.selectors import batch_evidence_summary
from orders.models import Batch
from portal.models import User


def batch_evidence_context(user: User | AnonymousUser, batch: Batch) -> dict[str, Any]:
    """The evidence card: what is on file, its flags, and the requests still unanswered."""
    return {
        "evidence": batch_evidence_summary(batch, user),
        "open_requests": batch.evidence_requests.filter(statements__isnull=True).count(),
    }
