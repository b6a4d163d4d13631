"""How each approval record is sealed in its audit event (``portal.records``), and the check
of every signature against its manifest and every pin against the record it names."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from accounts.passkeys import assertion_check, credential_check
from approvals.models import (
    Approval,
    ApprovalGate,
    ApprovalPin,
    ApprovalStaleness,
    Gate,
    GateRelease,
    OpenPoint,
    OpenPointClosure,
    Payment,
    Signature,
)
from approvals.services.pins import _resolve
from approvals.services.signing import signature_intact
from portal.integrity import CheckResult, Finding
from portal.models import AuditEvent
from portal.records import Seal, columns

SIGNED = ("approval.signed",)

SEALS = (
    Seal(Gate, columns(Gate), ("gate.created",)),
    Seal(GateRelease, columns(GateRelease), ("gate.released",), "gate"),
    Seal(Approval, columns(Approval), SIGNED),
    Seal(ApprovalPin, columns(ApprovalPin), SIGNED, "approval"),
    Seal(ApprovalGate, columns(ApprovalGate), SIGNED, "approval"),
    Seal(Signature, columns(Signature), SIGNED, "approval"),
    Seal(OpenPoint, columns(OpenPoint), SIGNED, "approval"),
    Seal(OpenPointClosure, columns(OpenPointClosure), ("open_point.closed",), "point"),
    Seal(ApprovalStaleness, columns(ApprovalStaleness), ("approval.stale",), "approval"),
    Seal(Payment, columns(Payment), ("payment.recorded",)),
)


def signatures_check() -> CheckResult:
    """Each approval's signature against its manifest (``signature_intact``), and each pin of an
    approval that is not stale against the record it names now: the same fingerprint."""
    result = CheckResult("approvals-signatures")
    approvals_table = Approval._meta.db_table
    pins_table = ApprovalPin._meta.db_table
    approvals = (
        Approval.objects.order_by("id")
        .select_related("signature")
        .prefetch_related("pins", "staleness")
    )
    for approval in approvals:
        result.checked += 1
        try:
            intact = signature_intact(approval)
        except ObjectDoesNotExist:
            result.findings.append(
                Finding(approvals_table, str(approval.pk), "it has no signature")
            )
            continue
        except (KeyError, TypeError):
            intact = False
        if not intact:
            result.findings.append(
                Finding(
                    approvals_table,
                    str(approval.pk),
                    "its signature does not bind it: the manifest, its hash, its pins, gates "
                    "or fields, or the signature's own hash, no longer agree",
                )
            )
        factor = approval.signature.factor
        if factor.get("kind") == "passkey":
            what = credential_check(factor, approval.signature.signer_id)
            if what:
                result.findings.append(
                    Finding(Signature._meta.db_table, str(approval.signature.pk), what)
                )
        if approval.staleness.all():
            continue  # what it pinned changed, and that was recorded
        for pin in approval.pins.all():
            what = _pin_differs(pin)
            if what:
                result.findings.append(
                    Finding(pins_table, str(pin.pk), f"(approval #{approval.pk}) {what}")
                )
    _releases_checked(result)
    return result


def _releases_checked(result: CheckResult) -> None:
    """Each gate release confirmed by a passkey: its assertion signed the release statement's
    hash that the release's audit event recorded (the event itself is checked by the chain)."""
    table = GateRelease._meta.db_table
    recorded = {
        event.object_id: event.payload.get("statement_sha256", "")
        for event in AuditEvent.objects.filter(action="gate.released").only("object_id", "payload")
    }
    for release in GateRelease.objects.order_by("id"):
        if release.factor.get("kind") != "passkey":
            continue
        result.checked += 1
        binding = recorded.get(str(release.gate_id), "")
        what = assertion_check(release.factor, binding) if binding else "no event records it"
        what = what or credential_check(release.factor, release.released_by_id)
        if what:
            result.findings.append(Finding(table, str(release.pk), f"its passkey: {what}"))


def _pin_differs(pin: ApprovalPin) -> str:
    try:
        with transaction.atomic():  # some kinds lock the record they read
            now = _resolve(pin.kind, pin.object_id)
    except ValidationError as error:
        return f"the {pin.kind} #{pin.object_id} it pins can no longer be read: {error.messages[0]}"
    if now.fingerprint != pin.fingerprint:
        return (
            f"the {pin.kind} #{pin.object_id} it pins has changed: fingerprint "
            f"{now.fingerprint} now, {pin.fingerprint} when signed"
        )
    return ""


def payment_documents_check() -> CheckResult:
    """Re-hash every payment's proving document against its row."""
    from portal.storage import stored_files_check

    return stored_files_check(
        "payment-documents",
        Payment.objects.all(),
        file_field="document",
        sha_field="document_sha256",
    )
