"""Narrow signed approvals and the gates they open, by job: what can be pinned (``pins``),
signing (``signing``), gates and their state (``gates``), staleness (``staleness``) and
payments (``payments``). Callers use this package: ``from approvals import services``.

An approval is created and signed in one step: the buyer re-enters the password, and the
signature holds the SHA-256 of a manifest listing exactly what was reviewed. It can only pin
things of its own batch (or order), only unlock that batch's (or order's) gates, and is never
changed. A new version of anything it pins makes it stale, and the gates it opened close."""

from approvals.services.gates import (
    GateState,
    gate_create,
    gate_release,
    gate_state,
    gate_states,
    latest_approval,
    open_points_waiting,
    release_statement,
)
from approvals.services.open_point_drafts import OpenPointDraft
from approvals.services.open_points import (
    can_close,
    closing_records,
    open_point_close,
    open_points_visible_to,
)
from approvals.services.payments import payment_record
from approvals.services.pins import Pin, Resolved, pin_candidates
from approvals.services.signing import (
    Draft,
    approval_manifest,
    approval_sign,
    manifest_sha256,
    signature_intact,
)
from approvals.services.staleness import approvals_mark_stale, approvals_on_new_version

__all__ = [
    "GateState",
    "Pin",
    "Resolved",
    "Draft",
    "OpenPointDraft",
    "can_close",
    "closing_records",
    "open_point_close",
    "open_points_visible_to",
    "open_points_waiting",
    "approval_manifest",
    "approval_sign",
    "approvals_mark_stale",
    "approvals_on_new_version",
    "gate_create",
    "gate_release",
    "release_statement",
    "gate_state",
    "gate_states",
    "latest_approval",
    "manifest_sha256",
    "payment_record",
    "pin_candidates",
    "signature_intact",
]
