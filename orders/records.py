"""How each orders record is sealed in its audit event (``portal.records``): every version of
an approved sample in the event that recorded it. Orders and batches themselves stay editable
(each edit is an audit event)."""

from __future__ import annotations

from orders.models import ApprovedSample
from portal.records import Seal, columns

SEALS = (
    Seal(
        ApprovedSample,
        columns(ApprovedSample),
        ("approved_sample.created", "approved_sample.versioned"),
    ),
)
