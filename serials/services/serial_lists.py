"""A serial list's upload: checked, stored by hash with the rule and range it is held against,
and queued for the worker (``serials.services.job``) after commit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from orders.models import Batch
from orders.selectors import batches_visible_to
from orders.services import batch_lock
from portal.audit import audit_log
from portal.jobs import task_send_on_commit
from portal.models import User
from portal.roles import can_upload_batch_files, membership_of
from portal.storage import store_by_hash
from serials.models import NumberingRule, SerialList
from serials.selectors import allocated_code_list_for, expected_range_for
from serials.services.files import _checked_name


def _can_upload(user: User, batch: Batch) -> bool:
    membership = membership_of(user)
    if membership is None or not batches_visible_to(user).filter(pk=batch.pk).exists():
        return False
    return can_upload_batch_files(user)


def _held_against(batch: Batch, kind: str) -> dict[str, Any]:
    """What a new list of ``kind`` for ``batch`` is held against, as SerialList fields: the
    rule as it is now, the allocation in force and the expected range. ValidationError when
    the batch cannot take a list yet (no rule, or allocated codes without an allocation)."""
    order = batch.order
    rule = NumberingRule.for_order(order)
    if rule is None:
        raise ValidationError(
            f"There is no numbering rule for {order.product_code} yet: the buyer defines one "
            "under Numbering rules before serial lists can be checked."
        )
    allocation = None
    if rule.uses_codes:
        allocation = allocated_code_list_for(batch)
        if allocation is None:
            raise ValidationError(
                f"{order.product_code} uses allocated codes, and none are allocated to this "
                "order yet: the buyer uploads the allocated code list on the order page first."
            )
    # Only a production list is held against a range: a carton or distribution list covers the
    # units packed or shipped so far, and the rest of the range is not "missing" from it.
    expected, expected_source = (
        expected_range_for(batch, rule)
        if kind == SerialList.Kind.PRODUCTION and not rule.uses_codes
        else (None, "")
    )
    return {
        "rule_kind": rule.kind,
        "rule_prefix": rule.prefix,
        "rule_width": rule.width or 0,
        "rule_check": rule.check_digit,
        "allocated_codes": allocation,
        "expected_lo": expected[0] if expected else None,
        "expected_hi": expected[1] if expected else None,
        "expected_source": expected_source,
    }


@transaction.atomic
def serial_list_upload(
    *, batch: Batch, user: User, uploaded_file: UploadedFile, kind: str = SerialList.Kind.PRODUCTION
) -> SerialList:
    """Store an uploaded serial list and queue its validation after commit."""
    if not _can_upload(user, batch):
        raise PermissionDenied("Only the batch's supplier and the buyer upload serial lists.")
    if kind not in SerialList.Kind.values:
        raise ValidationError({"kind": f"“{kind}” is not a kind of serial list."})
    name = _checked_name(uploaded_file)
    batch_lock(batch=batch)  # queue behind a signer of this batch, or the worker's result
    held_against = _held_against(batch, kind)  # the allocation and range in force, locked
    storage_name, sha, size = store_by_hash(uploaded_file, folder="serial-lists")
    serial_list = SerialList.objects.create(
        batch=batch,
        kind=kind,
        file=storage_name,
        original_name=name,
        size=size,
        sha256=sha,
        uploaded_by=user,
        **held_against,
    )
    # The event supersedes older lists, their exceptions and inspections (see serials.pins,
    # inspection.pins): approvals pinning them turn stale in this transaction.
    audit_log(
        actor=user,
        action="serial_list.uploaded",
        obj=serial_list,
        order=batch.order,
        payload={"batch": batch.code, "kind": kind, "file": name, "sha256": sha, "size": size},
    )
    task_send_on_commit("serials.tasks.validate_serial_list", serial_list.pk)
    return serial_list
