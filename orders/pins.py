"""What an approval can pin in orders: a version of the approved sample that applies to the
approval's order (registered in ``OrdersConfig.ready``; see ``portal.registries``). A sample is
no one batch's: it belongs to an approval of any batch of an order it applies to."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from orders.models import ApprovedSample, Batch, PurchaseOrder
from orders.samples import approved_sample_for, sample_fingerprint
from portal.registries import PinKind, Pinned, Superseded


def _line(sample: ApprovedSample) -> tuple[object, ...]:
    """The versions of one sample: an order's own, or a product's (its buyer and GTIN)."""
    if sample.order_id is not None:
        return ("order", sample.order_id)
    return ("product", sample.buyer_id, sample.gtin)


def _label(sample: ApprovedSample) -> str:
    where = f"PO {sample.order.number} only" if sample.order else f"GTIN {sample.gtin}"
    return f"Approved sample v{sample.version} of {sample.product_name} ({where})"


def _belongs(object_id: int, order_id: int, batch_id: int | None) -> bool:
    """The sample is of the line that applies to the order now (its own, else its product's)."""
    sample = ApprovedSample.objects.filter(pk=object_id).first()
    order = PurchaseOrder.objects.filter(pk=order_id).first()
    if sample is None or order is None:
        return False
    applies = approved_sample_for(order)
    return applies is not None and _line(applies) == _line(sample)


def _resolve(object_id: int) -> Pinned:
    # Locked like a new version locks it, so nothing changes between pinning and commit.
    sample = ApprovedSample.objects.select_for_update().get(pk=object_id)
    sample = ApprovedSample.objects.select_related("replaced_by", "order").get(pk=sample.pk)
    if not sample.is_current:
        raise ValidationError(f"{_label(sample)} has a newer version: pin the newest one.")
    return Pinned("sample", sample.pk, None, _label(sample), sample_fingerprint(sample))


def _candidates(batch: Batch) -> list[tuple[int, str]]:
    sample = approved_sample_for(batch)
    return [(sample.pk, _label(sample))] if sample is not None else []


def _superseded(sample: ApprovedSample) -> list[Superseded]:
    if sample.previous_id is None:
        return []
    return [
        (
            [sample.previous_id],
            f"The approved sample of {sample.product_name} was revised: version "
            f"{sample.version} replaces version {sample.version - 1}.",
        )
    ]


PIN_KINDS = [
    PinKind(
        kind="sample",
        label="Approved sample version",
        batch_id=lambda pk: None,  # no one batch's: see belongs
        resolve=_resolve,
        candidates=_candidates,
        superseded_by={"approved_sample.versioned": _superseded},
        belongs=_belongs,
    ),
]
