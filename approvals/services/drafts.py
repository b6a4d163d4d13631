"""What a signer hands in (Draft) and the shapes of the pins and gates its manifest lists."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypedDict

from approvals.models import Approval, Gate
from approvals.services.open_point_drafts import OpenPointDraft
from approvals.services.pins import Pin
from orders.models import Batch, PurchaseOrder


class ManifestPin(TypedDict):
    """One pin as the signed manifest lists it."""

    kind: str
    id: int
    label: str
    fingerprint: str


class ManifestGate(TypedDict):
    """One gate the approval opens, as the signed manifest lists it."""

    id: int
    gate: str


class Draft(TypedDict):
    """What a buyer asks to sign, as the signing page and the API take it."""

    order: PurchaseOrder
    promises: Iterable[str] | str
    decision: str
    sentence: str
    pins: Sequence[Pin]
    unlocks: Iterable[Gate]
    batch: Batch | None
    conditions: str
    keep_unchanged: str
    inspector_checks: str
    based_on: Approval | None
    gate_reason: str
    open_points: Sequence[OpenPointDraft]
