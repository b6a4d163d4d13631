"""The approved sample beside the supplier's photos (issue 15): a label print beside the
approved label, a photo of the product beside the approved sample. Evidence sits above orders,
which holds the sample (``orders.samples``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from evidence.models import EvidenceItem, EvidenceKind
from orders.models import ApprovedSample, Batch
from orders.samples import approved_sample_for

# Which of the approved sample's photos a kind of evidence is held against.
PHOTO_OF_KIND = {EvidenceKind.PHOTO: "sample", EvidenceKind.LABEL_PRINT: "label"}


@dataclass(frozen=True)
class Beside:
    """One of the approved sample's photos, to show beside a supplier's."""

    sample: ApprovedSample
    which: str  # "sample" or "label"
    items: list[EvidenceItem] = field(default_factory=list)

    @property
    def url_name(self) -> str:
        return "sample-photo" if self.which == "sample" else "sample-label-photo"


def approved_beside(item: EvidenceItem) -> Beside | None:
    """The approved photo to show beside this item, if it is a photo of a kind held against
    one and its order has an approved sample."""
    which = PHOTO_OF_KIND.get(EvidenceKind(item.kind)) if item.is_image else None
    if which is None:
        return None
    sample = approved_sample_for(item.batch)
    return Beside(sample, which) if sample is not None else None


def approved_strip(batch: Batch, items: Iterable[EvidenceItem]) -> list[Beside]:
    """For the batch's evidence page: the approved sample's photo and its label, each with the
    supplier's current photos of the matching kind; [] when the order has no approved sample."""
    sample = approved_sample_for(batch)
    if sample is None:
        return []
    current = [item for item in items if item.is_image]
    return [
        Beside(sample, which, [item for item in current if item.kind == kind])
        for kind, which in PHOTO_OF_KIND.items()
    ]
