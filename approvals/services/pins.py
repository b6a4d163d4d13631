"""What an approval can pin, read from the pin registry (``portal.registries``)."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ObjectDoesNotExist, ValidationError

from approvals.models import (
    ApprovalPin,
)
from orders.models import Batch
from portal.registries import PinKind, Pinned, pin_kind

Pin = tuple[str, int]  # (ApprovalPin.Kind, object id)
Resolved = Pinned  # what a pin points at, with its fingerprint (portal.registries)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _pin_kind(kind: str) -> PinKind:
    registered = pin_kind(kind) if kind in ApprovalPin.Kind.values else None
    if registered is None:
        raise ValidationError({"pins": f"“{kind}” cannot be pinned."})
    return registered


def _pin_batch_id(kind: str, object_id: int) -> int | None:
    """The batch a pin's object belongs to, or None if there is no such object."""
    registered = _pin_kind(kind)
    if not 0 < object_id < 2**63:
        return None
    return registered.batch_id(object_id)


def _pin_in_scope(
    kind: str, object_id: int, *, order_id: int, batch_id: int | None, scope: set[int]
) -> bool:
    """Whether a pin's object is within an approval of this order and batch (None: of the
    order): by its batch being in ``scope`` (the batch, or the order's batches), or, for a
    kind of record of no one batch (a product's approved sample), as the kind says."""
    registered = _pin_kind(kind)
    if registered.belongs is None:
        return _pin_batch_id(kind, object_id) in scope
    return 0 < object_id < 2**63 and registered.belongs(object_id, order_id, batch_id)


def _resolve(kind: str, object_id: int) -> Resolved:
    """What a pin points at, and the fingerprint that will tell if it changes."""
    try:
        return _pin_kind(kind).resolve(object_id)
    except ObjectDoesNotExist:
        raise ValidationError(f"There is no {kind} #{object_id}.") from None


def pin_candidates(batch: Batch) -> list[tuple[str, str]]:
    """What a buyer may pin on this batch, kind by kind in the order of ApprovalPin.Kind:
    current evidence versions, the latest serial report, the newest statement of each
    request, the current exceptions, the inspections."""
    choices: list[tuple[str, str]] = []
    for kind in ApprovalPin.Kind.values:
        registered = pin_kind(kind)
        if registered is not None:
            choices += [(f"{kind}:{pk}", label) for pk, label in registered.candidates(batch)]
    return choices
