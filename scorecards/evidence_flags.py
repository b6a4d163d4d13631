"""Which evidence files carry a flag that says old or similar, worked out in the database.

The flags are ``evidence.selectors.freshness_flags``' (the page beside each file shows them, in
words): captured before the order, captured before production, the same bytes on another
batch, and, where the evidence app stores them, an invalid content credential and a similar
photo on another batch. ``freshness_flags`` builds every flag of every file in Python; at tens
of thousands of files that takes seconds, so the scorecard asks the same questions of the
stored columns instead: one query, plus one through the perceptual-hash index for the similar
photos. The records page reads ``freshness_flags`` itself for the rows it shows, and keeps
only the codes in OLD_OR_SIMILAR, so a flag added there is named there at once."""

from __future__ import annotations

import datetime
import importlib
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import FieldDoesNotExist
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate

from evidence.models import EvidenceItem
from evidence.selectors import Flag, freshness_flags
from portal.models import User

# freshness_flags codes that say a file may be old, or not of this batch. Matched as strings.
OLD_OR_SIMILAR = frozenset(
    {
        "captured_before_order",
        "captured_before_production",
        "seen_elsewhere",
        "similar_elsewhere",
        "c2pa_invalid",
    }
)


def _provenance_model() -> Any | None:
    """The model of a file's content-credential and perceptual-hash reading, if the evidence
    app keeps one (found at run time, as evidence's own selectors find the gates)."""
    try:
        field: Any = EvidenceItem._meta.get_field("provenance")
    except FieldDoesNotExist:
        return None
    return field.related_model


def with_old_or_copied(items: QuerySet[EvidenceItem]) -> QuerySet[EvidenceItem]:
    """``old_or_copied``: captured (by its own date, read in UTC as freshness_flags reads it)
    before the order or before production started, the same bytes on another batch, or an
    invalid content credential."""
    captured_on = TruncDate("capture_date", tzinfo=datetime.UTC)
    elsewhere = EvidenceItem.objects.filter(sha256=OuterRef("sha256")).exclude(
        batch_id=OuterRef("batch_id")
    )
    condition = (
        Q(captured_on__lt=F("batch__order__order_date"))
        | Q(captured_on__lt=F("batch__production_started_on"))
        | Q(seen_elsewhere=True)
    )
    annotated = items.annotate(captured_on=captured_on, seen_elsewhere=Exists(elsewhere))
    provenance = _provenance_model()
    if provenance is not None and hasattr(provenance, "Credentials"):
        invalid = provenance.objects.filter(
            item=OuterRef("pk"), credentials=provenance.Credentials.INVALID
        )
        annotated = annotated.annotate(credentials_invalid=Exists(invalid))
        condition |= Q(credentials_invalid=True)
    return annotated.annotate(
        old_or_copied=ExpressionWrapper(condition, output_field=BooleanField())
    )


def similar_elsewhere(items: QuerySet[EvidenceItem]) -> set[int]:
    """The ids of these photos with a similar photo (other bytes) on another batch, found
    through the evidence app's hash index when it has one; none otherwise."""
    provenance = _provenance_model()
    if provenance is None or not hasattr(provenance, "phash"):
        return set()
    try:
        similar_photos = importlib.import_module("evidence.similar").similar_photos
    except (ImportError, AttributeError):
        return set()
    rows = list(
        provenance.objects.filter(item__in=items, phash__isnull=False).values_list(
            "item_id", "item__batch_id", "item__sha256", "phash"
        )
    )
    similar = similar_photos(phash for *_, phash in rows)
    return {
        item_id
        for item_id, batch_id, sha256, phash in rows
        if any(
            photo.batch_id != batch_id and photo.sha256 != sha256
            for photo in similar.get(phash, [])
        )
    }


def old_or_similar_flags(
    items: list[EvidenceItem], viewer: User | AnonymousUser
) -> dict[int, list[Flag]]:
    """item id → its flags among OLD_OR_SIMILAR, in words (only the items with any)."""
    found = freshness_flags(items, viewer)
    kept = {
        pk: [flag for flag in flags if flag.code in OLD_OR_SIMILAR] for pk, flags in found.items()
    }
    return {pk: flags for pk, flags in kept.items() if flags}
