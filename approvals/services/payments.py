"""Payments through a gate, with the document that proves why."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.models import (
    Gate,
    Payment,
)
from approvals.services.gates import gate_state
from orders.models import PurchaseOrder
from orders.selectors import orders_visible_to
from portal.audit import audit_log
from portal.models import User
from portal.roles import can_move_money
from portal.storage import store_by_hash
from portal.uploads import upload_checked


def paid_on_problem(paid_on: datetime.date) -> str:
    """A payment is never edited: a date far in the past or the future is a typing slip, caught
    before it is kept for good."""
    today = timezone.localdate()
    if paid_on > today + datetime.timedelta(days=PAID_ON_AHEAD_DAYS):
        return str(_("A payment cannot be dated more than a week ahead."))
    if paid_on < today - datetime.timedelta(days=PAID_ON_BACK_DAYS):
        return str(_("A payment cannot be dated more than five years back."))
    return ""


PAID_ON_AHEAD_DAYS = 7
PAID_ON_BACK_DAYS = 5 * 366


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
    if not can_move_money(user):
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
    if problem := paid_on_problem(paid_on):
        raise ValidationError({"paid_on": problem})
    if not document:
        raise ValidationError({"document": "Attach the document that proves the payment."})
    name, _ = upload_checked(
        document,
        allowed=settings.PAYMENT_DOCUMENT_ALLOWED_TYPES,
        max_bytes=settings.PAYMENT_DOCUMENT_MAX_BYTES,
        field="document",
        what="a payment document",
    )
    state = gate_state(gate).state
    if state == "blocked" and not reason.strip():
        raise ValidationError(
            {"reason": f"{gate} is blocked: write why money moved while evidence is pending."}
        )
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
