"""How each evidence record is sealed in its audit event (``portal.records``)."""

from __future__ import annotations

from evidence.models import (
    EvidenceItem,
    EvidenceRequest,
    EvidenceRequirement,
    Responsibility,
    Statement,
    StatementReview,
)
from portal.records import Seal, columns

# The worker's findings may be filled in once, after the upload's event: not sealed.
ITEM_WORKING_STATE = ("processed_at", "capture_date", "thumbnail", "processing_note")

SEALS = (
    Seal(
        EvidenceItem,
        columns(EvidenceItem, exclude=ITEM_WORKING_STATE),
        ("evidence.uploaded", "evidence.replaced"),
    ),
    Seal(EvidenceRequirement, columns(EvidenceRequirement), ("evidence.required",), "batch"),
    Seal(EvidenceRequest, columns(EvidenceRequest), ("evidence_request.sent",)),
    Seal(Statement, columns(Statement), ("statement.written",)),
    Seal(StatementReview, columns(StatementReview), ("statement.reviewed",), "statement"),
    Seal(Responsibility, columns(Responsibility), ("responsibility.recorded",)),
)
