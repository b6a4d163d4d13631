"""Narrow signed approvals and the gates they open.

An approval is created and signed in one step: the buyer re-enters the password, and the
signature holds the SHA-256 of a manifest listing exactly what was reviewed. It can only pin
things of its own batch (or order), only unlock that batch's (or order's) gates, and is never
changed. A new version of anything it pins makes it stale, and the gates it opened close."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.models import (
    Approval,
    ApprovalGate,
    ApprovalPin,
    ApprovalStaleness,
    Batch,
    Gate,
    GateRelease,
    Payment,
    PurchaseOrder,
    Signature,
)
from orders.selectors import orders_visible_to
from orders.services import batch_lock
from portal.audit import audit_log
from portal.errors import Conflict
from portal.models import Role, User
from portal.registries import PinKind, Pinned, pin_kind
from portal.roles import can_manage_orders, role_of
from portal.storage import store_by_hash

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

    @property
    def label(self) -> str:
        return Gate.State(self.state).label


def gate_state(gate: Gate) -> GateState:
    """What a gate is now, and why: read fresh, so a caller holding the gate's lock sees truth."""
    return gate_states([gate])[gate.pk]


def gate_states(gates: Iterable[Gate]) -> dict[int, GateState]:
    """Each gate's state, from a fixed handful of queries however many gates there are.

    A released gate stays released. Otherwise the newest approval of the gate's batch (or
    order) decides: none, a rejection, one that does not open this gate, or a stale one keep it
    blocked; else it is open. Blocked inspection steps of its batch are added to the reason."""
    from inspection.models import BlockedStep

    gates = list(gates)
    if not gates:
        return {}
    order_ids = {gate.order_id for gate in gates}
    releases = {r.gate_id: r for r in GateRelease.objects.filter(gate__in=gates)}
    latest: dict[tuple[int, int | None], Approval] = {}
    for approval in (
        Approval.objects.filter(order_id__in=order_ids)
        .select_related("signature")
        .prefetch_related("staleness")
        .order_by("id")
    ):
        latest[(approval.order_id, approval.batch_id)] = approval  # the newest wins
    links = set(
        ApprovalGate.objects.filter(approval__in=list(latest.values())).values_list(
            "approval_id", "gate_id"
        )
    )
    steps: dict[int, list[BlockedStep]] = {}
    for step in (
        BlockedStep.objects.filter(plan__batch__order_id__in=order_ids)
        .select_related("plan__batch")
        .order_by("id")
    ):
        steps.setdefault(step.plan.batch.order_id, []).append(step)

    states = {}
    for gate in gates:
        approval = latest.get((gate.order_id, gate.batch_id))
        release = releases.get(gate.pk)
        if release is not None:
            state = "released_with_exception" if release.with_exception else "released"
            states[gate.pk] = GateState(state, release.reason or "Released.", approval)
            continue
        linked = approval is not None and (approval.pk, gate.pk) in links
        state = _unreleased_state(gate, approval, linked)
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
        states[gate.pk] = GateState(state.state, f"{state.reason} {blocked}".strip(), approval)
    return states


def _unreleased_state(gate: Gate, approval: Approval | None, linked: bool) -> GateState:
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
    return GateState("open", f"{approval.get_decision_display()}: {approval.sentence}", approval)


def _check_exceptions(batch: Batch | None, decision: str, pinned_exceptions: set[int]) -> None:
    """Undecided exceptions block "accepted"; "accepted with conditions" must name them."""
    if batch is None or decision == Approval.Decision.REJECTED:
        return
    from serials.models import SerialList
    from serials.selectors import current_exceptions, latest_production_list

    serial_list = latest_production_list(batch)
    if serial_list is not None and serial_list.status != SerialList.Status.DONE:
        raise ValidationError(
            f"The latest serial list ({serial_list.original_name}) is "
            f"{serial_list.get_status_display().lower()}: wait for its report before accepting."
        )
    undecided = [e for e in current_exceptions(batch) if e.status != e.Status.ACCEPTED]
    if not undecided:
        return
    if decision == Approval.Decision.ACCEPTED:
        names = "; ".join(e.summary for e in undecided[:5])
        raise ValidationError(
            f"{len(undecided)} exception(s) are not accepted ({names}). Decide them, or accept "
            "with conditions that name them."
        )
    unnamed = [e for e in undecided if e.pk not in pinned_exceptions]
    if unnamed:
        names = "; ".join(e.summary for e in unnamed[:5])
        raise ValidationError(
            f"Accepting with conditions must name every open exception; not named: {names}."
        )


def _manifest(
    order: PurchaseOrder,
    batch: Batch | None,
    fields: dict[str, str],
    pins: list[Resolved],
    gates: list[Gate],
    based_on: Approval | None,
) -> tuple[dict[str, Any], str]:
    manifest = {
        "order": {"id": order.pk, "number": order.number},
        "batch": {"id": batch.pk, "code": batch.code} if batch else None,
        **fields,
        "pins": sorted(
            (
                {"kind": p.kind, "id": p.object_id, "label": p.label, "fingerprint": p.fingerprint}
                for p in pins
            ),
            key=lambda pin: (pin["kind"], pin["id"]),
        ),
        "unlocks": sorted(
            ({"id": g.pk, "gate": str(g)} for g in gates), key=lambda gate: gate["id"]
        ),
        "supersedes": based_on.pk if based_on else None,
    }
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return json.loads(canonical), _sha(canonical)


def manifest_sha256(approval: Approval) -> str:
    """Recompute the hash of what the approval says it covers."""
    canonical = json.dumps(
        approval.manifest, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    )
    return _sha(canonical)


def signature_intact(approval: Approval) -> bool:
    """The signature still binds exactly this manifest, these pins and this approval."""
    signature = approval.signature
    pins = sorted((p.kind, p.object_id, p.fingerprint) for p in approval.pins.all())
    listed = sorted((p["kind"], p["id"], p["fingerprint"]) for p in approval.manifest["pins"])
    gates = sorted(approval.unlocks.values_list("pk", flat=True))
    fields = ("decision", "sentence", "conditions", "keep_unchanged", "inspector_checks")
    return (
        manifest_sha256(approval) == approval.manifest_sha256 == signature.manifest_sha256
        and pins == listed
        and gates == sorted(entry["id"] for entry in approval.manifest["unlocks"])
        and all(getattr(approval, name) == approval.manifest[name] for name in fields)
        and signature.signature_sha256 == _signature_hash(approval, signature)
    )


def _signature_hash(approval: Approval, signature: Signature) -> str:
    return _sha(
        f"{approval.pk}|{signature.manifest_sha256}|{signature.signer_id}|"
        f"{signature.signed_at.isoformat()}|{signature.meaning}"
    )


@transaction.atomic
def approval_sign(
    *,
    user: User,
    password: str,
    order: PurchaseOrder,
    decision: str,
    sentence: str,
    pins: Sequence[Pin],
    unlocks: Iterable[Gate] = (),
    batch: Batch | None = None,
    conditions: str = "",
    keep_unchanged: str = "",
    inspector_checks: str = "",
    based_on: Approval | None = None,
) -> Approval:
    """Record and sign one narrow decision. ``based_on`` is the approval the buyer saw as the
    current one for these gates (None if none): if someone signed since, this raises Conflict."""
    if not can_manage_orders(user) or not orders_visible_to(user).filter(pk=order.pk).exists():
        raise PermissionDenied("Only the buyer's buyers and admins sign approvals.")
    if not user.check_password(password):
        raise ValidationError({"password": "That is not your password; nothing was signed."})
    if batch is not None and batch.order_id != order.pk:
        raise ValidationError({"batch": "That batch belongs to another order."})
    if based_on is not None and (based_on.order_id, based_on.batch_id) != (
        order.pk,
        batch.pk if batch else None,
    ):
        raise ValidationError("An approval can only supersede one of the same batch (or order).")
    if decision not in Approval.Decision.values:
        raise ValidationError({"decision": f"“{decision}” is not a decision."})
    sentence = " ".join(sentence.split())
    if not sentence:
        raise ValidationError({"sentence": "State the decision in one sentence."})
    if not pins:
        raise ValidationError({"pins": "Pin what you reviewed: an approval covers only that."})
    if decision == Approval.Decision.ACCEPTED_WITH_CONDITIONS and not conditions.strip():
        raise ValidationError({"conditions": "Write the conditions."})

    # Lock the batch (or order): signers, and uploads of new serial lists, queue up here.
    if batch is not None:
        batch_lock(batch=batch)
    else:
        PurchaseOrder.objects.select_for_update().get(pk=order.pk)
    scope = {batch.pk} if batch else set(order.batches.values_list("pk", flat=True))
    # Scope first, before anything is locked or named: an id outside it answers exactly like
    # an id that does not exist, so nothing about another batch or buyer leaks back.
    unique_pins = list(dict.fromkeys((kind, int(object_id)) for kind, object_id in pins))
    outside = [pin for pin in unique_pins if _pin_batch_id(*pin) not in scope]
    if outside:
        names = ", ".join(f"{kind} #{object_id}" for kind, object_id in outside)
        raise ValidationError(
            {
                "pins": f"An approval covers only its own {'batch' if batch else 'order'}; "
                f"there is no {names} in it."
            }
        )
    resolved = [_resolve(kind, object_id) for kind, object_id in unique_pins]
    pinned_exceptions = {p.object_id for p in resolved if p.kind == ApprovalPin.Kind.EXCEPTION}
    for each in [batch] if batch else list(order.batches.order_by("code")):
        _check_exceptions(each, decision, pinned_exceptions)

    gate_ids = sorted({gate.pk for gate in unlocks})
    if gate_ids and decision == Approval.Decision.REJECTED:
        raise ValidationError({"unlocks": "A rejection opens no gate."})
    # Lock the gates (in id order, so two signers never deadlock) before reading their state.
    gates = list(Gate.objects.select_for_update().filter(pk__in=gate_ids).order_by("pk"))
    wrong = [
        g for g in gates if g.order_id != order.pk or g.batch_id != (batch.pk if batch else None)
    ]
    if wrong or len(gates) != len(gate_ids):
        raise ValidationError(
            {
                "unlocks": "An approval opens only the gates of its own batch (or order); "
                f"not: {', '.join(str(g) for g in wrong) or 'unknown gates'}."
            }
        )
    current = latest_approval(order, batch)
    if (current.pk if current else None) != (based_on.pk if based_on else None):
        target = f"batch {batch.code}" if batch else f"PO {order.number}"
        raise Conflict(
            f"Someone signed an approval for {target} a moment ago; reload and review it first."
        )

    fields = {
        "decision": decision,
        "sentence": sentence,
        "conditions": conditions.strip(),
        "keep_unchanged": keep_unchanged.strip(),
        "inspector_checks": inspector_checks.strip(),
    }
    manifest, manifest_hash = _manifest(order, batch, fields, resolved, gates, based_on)
    try:
        with transaction.atomic():
            approval = Approval.objects.create(
                order=order,
                batch=batch,
                based_on=based_on,
                manifest=manifest,
                manifest_sha256=manifest_hash,
                **fields,
            )
    except IntegrityError:
        raise Conflict("That approval was superseded a moment ago; reload and review.") from None
    ApprovalPin.objects.bulk_create(
        ApprovalPin(
            approval=approval,
            kind=p.kind,
            object_id=p.object_id,
            label=p.label[:300],
            fingerprint=p.fingerprint,
        )
        for p in resolved
    )
    ApprovalGate.objects.bulk_create(ApprovalGate(approval=approval, gate=g) for g in gates)
    signed_at = timezone.now()
    meaning = (
        f"I, {user.printed_name}, sign this decision for the buyer: "
        f"{approval.get_decision_display()}."
    )
    signature = Signature(
        approval=approval,
        signer=user,
        printed_name=user.printed_name,
        meaning=meaning,
        signed_at=signed_at,
        manifest_sha256=manifest_hash,
    )
    signature.signature_sha256 = _signature_hash(approval, signature)
    signature.save()
    audit_log(
        actor=user,
        action="approval.signed",
        obj=approval,
        order=order,
        payload={
            "decision": decision,
            "sentence": sentence,
            "manifest_sha256": manifest_hash,
            "gates": [str(g) for g in gates],
            "supersedes": based_on.pk if based_on else None,
        },
    )
    return approval


def approvals_mark_stale(*, kind: str, object_ids: Iterable[int], reason: str) -> list[Approval]:
    """Approvals pinning any of these objects turn stale (once), and say why.

    Called from the audit event that gave those objects a new version (``portal.events``),
    with the audit chain's lock held. It locks no row that a writer could hold while waiting
    for that lock: it reads, inserts staleness rows that reference approvals (append-only,
    never locked FOR UPDATE) and logs events naming the approval's order, which is the
    event's own order (an approval pins only its order's records), already locked."""
    ids = list(object_ids)
    if not ids:
        return []
    approvals = list(
        Approval.objects.filter(pins__kind=kind, pins__object_id__in=ids, staleness__isnull=True)
        .select_related("order")
        .distinct()
    )
    for approval in approvals:
        ApprovalStaleness.objects.create(approval=approval, reason=reason[:500])
        audit_log(
            actor=None,
            action="approval.stale",
            obj=approval,
            order=approval.order,
            payload={"reason": reason},
        )
    return approvals


@transaction.atomic
def gate_create(*, user: User, order: PurchaseOrder, kind: str, batch: Batch | None = None) -> Gate:
    if not can_manage_orders(user) or not orders_visible_to(user).filter(pk=order.pk).exists():
        raise PermissionDenied("Only the buyer's buyers and admins set up gates.")
    if batch is not None and batch.order_id != order.pk:
        raise ValidationError({"batch": "That batch belongs to another order."})
    gate = Gate(order=order, batch=batch, kind=kind)
    gate.full_clean()
    try:
        with transaction.atomic():
            gate.save()
    except IntegrityError:
        raise ValidationError(f"{gate} exists already.") from None
    audit_log(actor=user, action="gate.created", obj=gate, order=order, payload={"gate": str(gate)})
    return gate


@transaction.atomic
def gate_release(*, gate: Gate, user: User, reason: str = "") -> GateRelease:
    """Finance releases a gate. An open gate needs nothing more; a blocked one needs a written
    reason and is recorded as released with exception. Exactly one release per gate."""
    if role_of(user) not in {Role.FINANCE, Role.ADMIN}:
        raise PermissionDenied("Only finance releases gates.")
    if not orders_visible_to(user).filter(pk=gate.order_id).exists():
        raise PermissionDenied("This gate is not yours.")
    gate = Gate.objects.select_for_update().get(pk=gate.pk)
    state = gate_state(gate)
    if state.state.startswith("released"):
        raise Conflict(f"{gate} was released a moment ago.")
    with_exception = state.state == "blocked"
    if with_exception and not reason.strip():
        raise ValidationError(
            {"reason": f"{gate} is blocked ({state.reason}) — write why it is released anyway."}
        )
    try:
        with transaction.atomic():
            release = GateRelease.objects.create(
                gate=gate, released_by=user, with_exception=with_exception, reason=reason.strip()
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
        },
    )
    return release


def _named_in_file(order: PurchaseOrder, payee: str) -> bool:
    """The supplier, or a party the responsibility map names for this order."""
    from evidence.services import current_responsibilities

    names = {order.supplier.name.casefold()} | {
        entry.party_name.casefold() for entry in current_responsibilities(order).values()
    }
    return payee.strip().casefold() in names


@transaction.atomic
def payment_record(
    *,
    gate: Gate,
    user: User,
    kind: str,
    amount: Decimal,
    currency: str,
    payee: str,
    paid_on: datetime.date,
    document: UploadedFile,
    reason: str = "",
) -> Payment:
    """Finance records money that moved, with its proving document. While the gate is blocked
    a written reason is required; an extra charge to someone the file does not name is flagged."""
    if role_of(user) not in {Role.FINANCE, Role.ADMIN}:
        raise PermissionDenied("Only finance records payments.")
    if not orders_visible_to(user).filter(pk=gate.order_id).exists():
        raise PermissionDenied("This gate is not yours.")
    gate = Gate.objects.select_for_update().select_related("order__supplier").get(pk=gate.pk)
    if kind not in Payment.Kind.values:
        raise ValidationError({"kind": f"“{kind}” is not a kind of payment."})
    if amount <= 0:
        raise ValidationError({"amount": "The amount must be more than zero."})
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationError({"currency": "Use a three-letter currency code such as EUR or USD."})
    if not payee.strip():
        raise ValidationError({"payee": "Name the company that received the money."})
    if not document or not document.size:
        raise ValidationError({"document": "Attach the document that proves the payment."})
    state = gate_state(gate).state
    if state == "blocked" and not reason.strip():
        raise ValidationError(
            {"reason": f"{gate} is blocked: write why money moved while evidence is pending."}
        )
    name = os.path.basename((document.name or "document").replace("\\", "/"))[:255]
    storage_name, sha, _ = store_by_hash(document, folder="payment-documents")
    payment = Payment.objects.create(
        gate=gate,
        kind=kind,
        amount=amount,
        currency=currency,
        payee=payee.strip(),
        paid_on=paid_on,
        document=storage_name,
        document_name=name,
        document_sha256=sha,
        gate_state=state,
        reason=reason.strip(),
        recorded_by=user,
        payee_named_in_file=kind not in Payment.EXTRA_KINDS or _named_in_file(gate.order, payee),
    )
    audit_log(
        actor=user,
        action="payment.recorded",
        obj=payment,
        order=gate.order,
        payload={
            "gate": str(gate),
            "kind": kind,
            "amount": str(amount),
            "currency": currency,
            "payee": payment.payee,
            "gate_state": state,
            "reason": payment.reason,
            "document_sha256": sha,
            "payee_named_in_file": payment.payee_named_in_file,
        },
    )
    return payment


def approvals_on_new_version(kind: str, object_ids: list[int], reason: str) -> None:
    """Subscribed in ``ready()``: a pinned kind's record got a new version."""
    approvals_mark_stale(kind=kind, object_ids=object_ids, reason=reason)
