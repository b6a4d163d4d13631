"""Gates and their state: derived from approvals, staleness and the release, never stored;
creating and releasing them."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.translation import gettext

from accounts.factors import FactorAnswer, factor_answer
from approvals.models import (
    Approval,
    ApprovalGate,
    Gate,
    GateRelease,
    OpenPoint,
)
from orders.models import Batch, PurchaseOrder
from orders.selectors import orders_visible_to
from portal.audit import audit_log
from portal.errors import Conflict
from portal.models import User
from portal.roles import can_manage_orders, can_move_money


def latest_approval(order: PurchaseOrder, batch: Batch | None) -> Approval | None:
    """The newest approval of a batch (or of the order itself): the one that speaks for it.
    Each approval supersedes the one before, so an older approval never opens anything."""
    return (
        Approval.objects.filter(order=order, batch=batch)
        .select_related("signature")
        .order_by("-id")
        .first()
    )


@dataclass(frozen=True)
class GateState:
    state: str  # a Gate.State value
    reason: str
    approval: Approval | None
    # The open points of its approval it waits on (closed, they let it open).
    waiting_on: tuple[OpenPoint, ...] = ()

    @property
    def label(self) -> str:
        return str(Gate.State(self.state).label)


def gate_state(gate: Gate) -> GateState:
    """What a gate is now, and why: read fresh, so a caller holding the gate's lock sees truth."""
    return gate_states([gate])[gate.pk]


def gate_states(gates: Iterable[Gate]) -> dict[int, GateState]:
    """Each gate's state, from a fixed handful of queries however many gates there are.

    A released gate stays released. Otherwise the newest approval of the gate's batch (or
    order) decides: none, a rejection, one that does not open this gate, a stale one, or one
    with an open point its gates wait on (``OpenPoint.blocks_gates``, not closed yet) keep it
    blocked; else it is open. Blocked inspection steps of its batch are added to the reason."""
    from inspection.models import BlockedStep

    gates = list(gates)
    if not gates:
        return {}
    order_ids = {gate.order_id for gate in gates}
    releases = {r.gate_id: r for r in GateRelease.objects.filter(gate__in=gates)}
    latest: dict[tuple[int, int | None], Approval] = {}
    for signed in (
        Approval.objects.filter(order_id__in=order_ids)
        .select_related("signature")
        .prefetch_related("staleness")
        .order_by("id")
    ):
        latest[(signed.order_id, signed.batch_id)] = signed  # the newest wins
    links = set(
        ApprovalGate.objects.filter(approval__in=list(latest.values())).values_list(
            "approval_id", "gate_id"
        )
    )
    waiting: dict[int, list[OpenPoint]] = {}
    for point in OpenPoint.objects.filter(
        approval__in=list(latest.values()), blocks_gates=True, closure__isnull=True
    ).order_by("due_on", "id"):
        waiting.setdefault(point.approval_id, []).append(point)
    steps: dict[int, list[BlockedStep]] = {}
    for step in (
        BlockedStep.objects.filter(plan__batch__order_id__in=order_ids)
        .select_related("plan__batch")
        .order_by("id")
    ):
        steps.setdefault(step.plan.batch.order_id, []).append(step)

    states: dict[int, GateState] = {}
    for gate in gates:
        approval = latest.get((gate.order_id, gate.batch_id))
        release = releases.get(gate.pk)
        if release is not None:
            released = "released_with_exception" if release.with_exception else "released"
            states[gate.pk] = GateState(released, release.reason or "Released.", approval)
            continue
        linked = approval is not None and (approval.pk, gate.pk) in links
        state = _unreleased_state(
            gate, approval, linked, waiting.get(approval.pk, []) if approval else []
        )
        mine = [
            s
            for s in steps.get(gate.order_id, [])
            if gate.batch_id is None or s.plan.batch_id == gate.batch_id
        ]
        blocked = " ".join(
            f"Inspection #{s.plan_id} of batch {s.plan.batch.code}: "
            f"{s.get_step_display().lower()} was blocked by {s.blocked_by} "
            f"({s.reason.rstrip('.')})."
            for s in mine[:5]
        )
        states[gate.pk] = GateState(
            state.state, f"{state.reason} {blocked}".strip(), approval, state.waiting_on
        )
    return states


def _unreleased_state(
    gate: Gate, approval: Approval | None, linked: bool, waiting: list[OpenPoint]
) -> GateState:
    if approval is None:
        return GateState("blocked", "No signed approval opens this gate yet.", None)
    if not approval.opens_gates:
        return GateState("blocked", f"Rejected: {approval.sentence}", approval)
    unlocked = {entry["id"] for entry in approval.manifest.get("unlocks", [])}
    if gate.pk not in unlocked or not linked:
        return GateState(
            "blocked",
            f"Approval #{approval.pk}, the current one, does not open this gate.",
            approval,
        )
    stale = next(iter(approval.staleness.all()), None)
    if stale is not None:
        return GateState("blocked", f"The approval is stale: {stale.reason}", approval)
    if waiting:
        return GateState("blocked", open_points_waiting(waiting), approval, tuple(waiting))
    return GateState("open", f"{approval.get_decision_display()}: {approval.sentence}", approval)


def open_points_waiting(points: Iterable[OpenPoint]) -> str:
    """Why a gate waits: "Waiting on open point: … (owner, due …)." for each point."""
    return " ".join(
        gettext("Waiting on open point: %(text)s (%(owner)s, due %(due)s).")
        % {
            "text": point.text.rstrip("."),
            "owner": point.owner_label,
            "due": date_format(point.due_on, "DATE_FORMAT"),
        }
        for point in points
    )


@transaction.atomic
def gate_create(
    *,
    user: User,
    order: PurchaseOrder,
    kind: str,
    batch: Batch | None = None,
    amount: Decimal | None = None,
    currency: str = "",
    due_date: datetime.date | None = None,
) -> Gate:
    """A new gate of the order (or of one of its batches), blocked until an approval opens it,
    with the money due through it (``amount`` in ``currency``, an ISO 4217 code) and when. A
    gate is never changed afterwards: its money is set here or not at all."""
    if not can_manage_orders(user) or not orders_visible_to(user).filter(pk=order.pk).exists():
        raise PermissionDenied("Only the buyer's buyers and admins set up gates.")
    if batch is not None and batch.order_id != order.pk:
        raise ValidationError({"batch": "That batch belongs to another order."})
    gate = Gate(
        order=order,
        batch=batch,
        kind=kind,
        amount=amount,
        currency=(currency or "").strip().upper(),
        due_date=due_date,
    )
    gate.full_clean()
    try:
        with transaction.atomic():
            gate.save()
    except IntegrityError:
        raise ValidationError(f"{gate} exists already.") from None
    payload: dict[str, object] = {"gate": str(gate)}
    if gate.amount is not None:
        payload |= {"amount": str(gate.amount), "currency": gate.currency}
    if gate.due_date is not None:
        payload["due_date"] = gate.due_date.isoformat()
    audit_log(actor=user, action="gate.created", obj=gate, order=order, payload=payload)
    return gate


def release_statement(*, gate: Gate, reason: str) -> tuple[dict[str, object], str]:
    """What releasing ``gate`` now says, and its SHA-256: the gate, its order, its money (if it
    carries any), its state and the reason written. A passkey confirming a release signs this
    hash."""
    statement: dict[str, object] = {
        "gate": gate.pk,
        "label": str(gate),
        "order": gate.order.number,
        "state_before": gate_state(gate).state,
        "reason": reason.strip(),
    }
    if gate.amount is not None:  # the money the release lets move, as the page stated it
        statement["amount_due"] = f"{gate.currency} {gate.amount}"
        statement["due_date"] = gate.due_date.isoformat() if gate.due_date else None
    canonical = json.dumps(statement, sort_keys=True, separators=(",", ":"))
    return statement, hashlib.sha256(canonical.encode()).hexdigest()


def gate_release(
    *,
    gate: Gate,
    user: User,
    request: HttpRequest,
    reason: str = "",
    code: str = "",
    passkey: str = "",
    factor: FactorAnswer | None = None,
) -> GateRelease:
    """Finance releases a gate, with a fresh second factor (``code`` or ``passkey``, as for
    signing; ``factor`` for management commands only). An open gate needs nothing more; a
    blocked one needs a written reason and is recorded as released with exception. Exactly one
    release per gate."""
    if not can_move_money(user):
        raise PermissionDenied("Only finance releases gates.")
    if not orders_visible_to(user).filter(pk=gate.order_id).exists():
        raise PermissionDenied("This gate is not yours.")
    if factor is None:  # checked outside the transaction: a wrong code's throttle must stay
        factor = factor_answer(
            request=request, user=user, code=code, passkey=passkey, purpose="release"
        )
    with transaction.atomic():
        return _gate_released(gate=gate, user=user, reason=reason, factor=factor)


def _gate_released(*, gate: Gate, user: User, reason: str, factor: FactorAnswer) -> GateRelease:
    gate = Gate.objects.select_for_update().select_related("order").get(pk=gate.pk)
    state = gate_state(gate)
    if state.state.startswith("released"):
        raise Conflict(f"{gate} was released a moment ago.")
    with_exception = state.state == "blocked"
    if with_exception and not reason.strip():
        raise ValidationError(
            {"reason": f"{gate} is blocked ({state.reason}) — write why it is released anyway."}
        )
    _, statement_hash = release_statement(gate=gate, reason=reason)
    if factor.binding is not None and factor.binding != statement_hash:
        raise Conflict(
            f"{gate} changed since your passkey confirmed its release (now: {state.state}); "
            "nothing was released. Review it and confirm again."
        )
    try:
        with transaction.atomic():
            release = GateRelease.objects.create(
                gate=gate,
                released_by=user,
                with_exception=with_exception,
                reason=reason.strip(),
                factor=factor.record,
            )
    except IntegrityError:
        raise Conflict(f"{gate} was released a moment ago.") from None
    audit_log(
        actor=user,
        action="gate.released",
        obj=gate,
        order=gate.order,
        payload={
            "with_exception": with_exception,
            "reason": reason.strip(),
            "state_before": state.state,
            "factor": factor.summary,
            "statement_sha256": statement_hash,
        },
    )
    return release
