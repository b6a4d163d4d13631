"""Narrow signed approvals.

An approval is created and signed in one step: the buyer re-enters the password and answers a
second factor (``accounts.factors``), and the signature holds the SHA-256 of a manifest listing
exactly what was reviewed. A passkey signs that very hash: its challenge is the manifest's
SHA-256 (``approval_manifest`` makes it before the passkey is asked), and the assertion is kept
with the signature. It can only pin
things of its own batch (or order), only unlock that batch's (or order's) gates, and is never
changed."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.factors import FactorAnswer, factor_answer
from accounts.passkeys import assertion_check
from approvals.models import (
    Approval,
    ApprovalGate,
    ApprovalPin,
    Gate,
    OpenPoint,
    Signature,
)
from approvals.promises import uncovered_gates
from approvals.services.drafts import Draft, ManifestGate, ManifestPin
from approvals.services.gates import latest_approval
from approvals.services.open_point_drafts import (
    ManifestOpenPoint,
    OpenPointDraft,
    open_points_checked,
    open_points_listed,
)
from approvals.services.pins import Pin, Resolved, _pin_in_scope, _resolve, _sha
from orders.models import Batch, PurchaseOrder
from orders.promises import promises_joined
from orders.selectors import orders_visible_to
from orders.services import batch_lock
from portal.audit import audit_log
from portal.errors import Conflict
from portal.models import User
from portal.passwords import password_confirm
from portal.roles import can_manage_orders


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
    open_points: list[ManifestOpenPoint],
) -> tuple[dict[str, Any], str]:
    manifest = {
        "order": {"id": order.pk, "number": order.number},
        "batch": {"id": batch.pk, "code": batch.code} if batch else None,
        **fields,
        "open_points": open_points,
        "pins": sorted(
            (
                ManifestPin(kind=p.kind, id=p.object_id, label=p.label, fingerprint=p.fingerprint)
                for p in pins
            ),
            key=lambda pin: (pin["kind"], pin["id"]),
        ),
        "unlocks": sorted(
            (ManifestGate(id=g.pk, gate=str(g)) for g in gates), key=lambda gate: gate["id"]
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
    fields = ["decision", "sentence", "conditions", "keep_unchanged", "inspector_checks"]
    # Approvals signed before promises and open points were named have none in their manifest.
    fields += [name for name in ("promises", "gate_reason") if name in approval.manifest]
    return (
        manifest_sha256(approval) == approval.manifest_sha256 == signature.manifest_sha256
        and pins == listed
        and gates == sorted(entry["id"] for entry in approval.manifest["unlocks"])
        and all(getattr(approval, name) == approval.manifest[name] for name in fields)
        and open_points_listed(approval) == approval.manifest.get("open_points", [])
        and signature.signature_sha256 == _signature_hash(approval, signature)
        and (
            signature.factor.get("kind") != "passkey"
            or not assertion_check(signature.factor, signature.manifest_sha256)
        )
    )


def _signature_hash(approval: Approval, signature: Signature) -> str:
    factor = ""
    if signature.factor:  # signatures made before second factors hash as they always did
        factor = "|" + json.dumps(signature.factor, sort_keys=True, separators=(",", ":"))
    return _sha(
        f"{approval.pk}|{signature.manifest_sha256}|{signature.signer_id}|"
        f"{signature.signed_at.isoformat()}|{signature.meaning}{factor}"
    )


def _decision_checked(
    *,
    order: PurchaseOrder,
    batch: Batch | None,
    decision: str,
    sentence: str,
    pins: Sequence[Pin],
    conditions: str,
    based_on: Approval | None,
) -> None:
    """What the signer wrote makes one narrow, well-formed decision."""
    if batch is not None and batch.order_id != order.pk:
        raise ValidationError({"batch": "That batch belongs to another order."})
    if based_on is not None and (based_on.order_id, based_on.batch_id) != (
        order.pk,
        batch.pk if batch else None,
    ):
        raise ValidationError("An approval can only supersede one of the same batch (or order).")
    if decision not in Approval.Decision.values:
        raise ValidationError({"decision": f"“{decision}” is not a decision."})
    if not sentence:
        raise ValidationError({"sentence": "State the decision in one sentence."})
    if not pins:
        raise ValidationError({"pins": "Pin what you reviewed: an approval covers only that."})
    if decision == Approval.Decision.ACCEPTED_WITH_CONDITIONS and not conditions.strip():
        raise ValidationError({"conditions": "Write the conditions."})


def _pins_resolved(
    *, order: PurchaseOrder, batch: Batch | None, decision: str, pins: Sequence[Pin]
) -> list[Resolved]:
    """The pinned records, each inside the approval's batch (or order), with its fingerprint;
    refused while an exception the decision rests on is not pinned or not decided."""
    scope = {batch.pk} if batch else set(order.batches.values_list("pk", flat=True))
    # Scope first, before anything is locked or named: an id outside it answers exactly like
    # an id that does not exist, so nothing about another batch or buyer leaks back.
    unique_pins = list(dict.fromkeys((kind, int(object_id)) for kind, object_id in pins))
    batch_id = batch.pk if batch else None
    outside = [
        pin
        for pin in unique_pins
        if not _pin_in_scope(*pin, order_id=order.pk, batch_id=batch_id, scope=scope)
    ]
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
    return resolved


def _gates_locked(
    *, order: PurchaseOrder, batch: Batch | None, decision: str, unlocks: Iterable[Gate]
) -> list[Gate]:
    """The gates the approval opens, locked in id order (so two signers never deadlock) before
    their state is read; each must be a gate of the approval's own batch (or order)."""
    gate_ids = sorted({gate.pk for gate in unlocks})
    if gate_ids and decision == Approval.Decision.REJECTED:
        raise ValidationError({"unlocks": "A rejection opens no gate."})
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
    return gates


def _signature_write(
    *, approval: Approval, user: User, manifest_hash: str, factor: FactorAnswer
) -> Signature:
    """The signer's printed name, the time, the meaning, and a hash binding them to the
    manifest and this approval, so the signature cannot be copied onto another record."""
    meaning = (
        f"I, {user.printed_name}, sign this decision for the buyer: "
        f"{approval.get_decision_display()}."
    )
    signature = Signature(
        approval=approval,
        signer=user,
        printed_name=user.printed_name,
        meaning=meaning,
        signed_at=timezone.now(),
        manifest_sha256=manifest_hash,
        factor=factor.record,
    )
    signature.signature_sha256 = _signature_hash(approval, signature)
    signature.save()
    return signature


def approval_sign(
    *,
    user: User,
    password: str,
    request: HttpRequest,
    order: PurchaseOrder,
    promises: Iterable[str] | str,
    decision: str,
    sentence: str,
    pins: Sequence[Pin],
    unlocks: Iterable[Gate] = (),
    batch: Batch | None = None,
    conditions: str = "",
    keep_unchanged: str = "",
    inspector_checks: str = "",
    based_on: Approval | None = None,
    gate_reason: str = "",
    open_points: Sequence[OpenPointDraft] = (),
    code: str = "",
    passkey: str = "",
    factor: FactorAnswer | None = None,
) -> Approval:
    """Record and sign one narrow decision. ``promises`` names what it tests (at least one
    ``orders.promises.Promise``); a gate it opens that they do not cover needs ``gate_reason``
    (``approvals.promises``). ``open_points`` are what an approval accepted with conditions
    leaves open. ``based_on`` is the approval the buyer saw as the
    current one for these gates (None if none): if someone signed since, this raises Conflict.

    The password is checked first, then the second factor, both outside the signing
    transaction: the password through django-axes with ``request`` (``portal.passwords``; a
    wrong one counts towards the sign-in lockout, and once locked out this raises
    ``PasswordsLocked``), then a fresh answer: ``passkey`` (the assertion over the manifest hash
    ``approval_manifest`` gave) or ``code`` (an authenticator app's). ``factor`` is for
    management commands only (``accounts.factors.command_factor``). Nothing is signed when
    either is wrong, or when the manifest differs from the one the passkey signed."""
    _signer_checked(user, order)
    password_confirm(
        request=request,
        user=user,
        password=password,
        refused="That is not your password; nothing was signed.",
    )
    if factor is None:
        factor = factor_answer(
            request=request, user=user, code=code, passkey=passkey, purpose="sign"
        )
    draft = Draft(
        order=order,
        promises=promises,
        decision=decision,
        sentence=sentence,
        pins=pins,
        unlocks=unlocks,
        batch=batch,
        conditions=conditions,
        keep_unchanged=keep_unchanged,
        inspector_checks=inspector_checks,
        based_on=based_on,
        gate_reason=gate_reason,
        open_points=open_points,
    )
    with transaction.atomic():
        return _approval_signed(user=user, draft=draft, factor=factor)


def _signer_checked(user: User, order: PurchaseOrder) -> None:
    if not can_manage_orders(user) or not orders_visible_to(user).filter(pk=order.pk).exists():
        raise PermissionDenied("Only the buyer's buyers and admins sign approvals.")


def approval_manifest(*, user: User, draft: Draft) -> tuple[dict[str, Any], str]:
    """The manifest this draft would sign now, and its SHA-256: what a passkey is asked to sign.
    Checked as signing checks it (a ValidationError or Conflict says what is wrong); nothing is
    written."""
    _signer_checked(user, draft["order"])
    with transaction.atomic():
        prepared = _prepared(draft)
        transaction.set_rollback(True)
    return prepared.manifest, prepared.manifest_hash


@dataclass(frozen=True)
class _Prepared:
    fields: dict[str, str]
    resolved: list[Resolved]
    gates: list[Gate]
    open_points: list[ManifestOpenPoint]
    manifest: dict[str, Any]
    manifest_hash: str


def _prepared(draft: Draft) -> _Prepared:
    """The draft checked, its batch (or order) and gates locked, its records resolved and its
    manifest made, in the caller's transaction."""
    order, batch, based_on = draft["order"], draft["batch"], draft["based_on"]
    sentence = " ".join(draft["sentence"].split())
    decision = draft["decision"]
    promises = promises_joined(draft["promises"])
    _decision_checked(
        order=order,
        batch=batch,
        decision=decision,
        sentence=sentence,
        pins=draft["pins"],
        conditions=draft["conditions"],
        based_on=based_on,
    )
    # Lock the batch (or order): signers, and uploads of new serial lists, queue up here.
    if batch is not None:
        batch_lock(batch=batch)
    else:
        PurchaseOrder.objects.select_for_update().get(pk=order.pk)
    resolved = _pins_resolved(order=order, batch=batch, decision=decision, pins=draft["pins"])
    gates = _gates_locked(order=order, batch=batch, decision=decision, unlocks=draft["unlocks"])
    gate_reason = draft["gate_reason"].strip()
    uncovered = uncovered_gates(promises, gates)
    if uncovered and not gate_reason:
        raise ValidationError(
            {
                "gate_reason": _(
                    "%(gates)s: what this approval tests does not cover it. Write why it opens "
                    "it anyway, or name the promise that does."
                )
                % {"gates": ", ".join(str(gate) for gate in uncovered)}
            }
        )
    open_points = open_points_checked(
        order=order, decision=decision, open_points=draft["open_points"]
    )
    current = latest_approval(order, batch)
    if (current.pk if current else None) != (based_on.pk if based_on else None):
        target = f"batch {batch.code}" if batch else f"PO {order.number}"
        raise Conflict(
            f"Someone signed an approval for {target} a moment ago; reload and review it first."
        )
    fields = {
        "promises": promises,
        "decision": decision,
        "sentence": sentence,
        "conditions": draft["conditions"].strip(),
        "keep_unchanged": draft["keep_unchanged"].strip(),
        "inspector_checks": draft["inspector_checks"].strip(),
        # Kept only when a gate needs it: a reason for nothing is not part of the decision.
        "gate_reason": gate_reason if uncovered else "",
    }
    manifest, manifest_hash = _manifest(
        order, batch, fields, resolved, gates, based_on, open_points
    )
    return _Prepared(fields, resolved, gates, open_points, manifest, manifest_hash)


def _approval_signed(*, user: User, draft: Draft, factor: FactorAnswer) -> Approval:
    """The decision checked, its records pinned, its gates locked and the signature written, in
    the caller's transaction."""
    prepared = _prepared(draft)
    order, batch, based_on = draft["order"], draft["batch"], draft["based_on"]
    fields, resolved, gates = prepared.fields, prepared.resolved, prepared.gates
    manifest, manifest_hash = prepared.manifest, prepared.manifest_hash
    if factor.binding is not None and factor.binding != manifest_hash:
        raise Conflict(
            "What your passkey confirmed is no longer exactly what would be signed (a pinned "
            "record or the form changed since); nothing was signed. Review and sign again."
        )
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
    owners = {point.owner.pk: point.owner for point in draft["open_points"] if point.owner}
    OpenPoint.objects.bulk_create(
        OpenPoint(
            approval=approval,
            text=point["text"],
            owner=owners.get(point["party"]) if point["party"] else None,
            owner_label=point["owner"],
            due_on=datetime.date.fromisoformat(point["due_on"]),
            blocks_gates=point["blocks_gates"],
        )
        for point in prepared.open_points
    )
    _signature_write(approval=approval, user=user, manifest_hash=manifest_hash, factor=factor)
    audit_log(
        actor=user,
        action="approval.signed",
        obj=approval,
        order=order,
        payload={
            "decision": fields["decision"],
            "promises": fields["promises"].split(","),
            "sentence": fields["sentence"],
            "gate_reason": fields["gate_reason"],
            "open_points": [point["text"] for point in prepared.open_points],
            "factor": factor.summary,
            "manifest_sha256": manifest_hash,
            "gates": [str(g) for g in gates],
            "supersedes": based_on.pk if based_on else None,
        },
    )
    return approval
