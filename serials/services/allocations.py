"""What the buyer allocates to an order or one of its batches: a range of counters, or a list
of non-sequential codes. A new allocation supersedes the previous one."""

from __future__ import annotations

import os

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from orders.models import Batch, PurchaseOrder
from portal.audit import audit_log
from portal.models import User
from portal.roles import can_manage_orders
from portal.storage import store_by_hash
from serials import engine
from serials.engine.reader import CODE_HEADER_NAMES
from serials.models import AllocatedCodeList, AllocatedRange, NumberingRule
from serials.selectors import counter_of
from serials.services.files import _checked_name, _local_copy


@transaction.atomic
def allocated_code_list_upload(
    *, user: User, order: PurchaseOrder, uploaded_file: UploadedFile, batch: Batch | None = None
) -> AllocatedCodeList:
    """The buyer allocates non-sequential codes to an order or batch. The file is read now, so
    a bad one is refused at once; a new list supersedes the previous one."""
    if not can_manage_orders(user) or order.buyer_id != user.membership.organisation_id:
        raise PermissionDenied("Only the buyer's buyers and admins allocate codes.")
    if batch is not None and batch.order_id != order.pk:
        raise ValidationError({"batch": "That batch belongs to another order."})
    rule = NumberingRule.for_order(order)
    if rule is None or not rule.uses_codes:
        raise ValidationError(
            f"{order.product_code} does not use allocated codes: change its numbering rule first."
        )
    name = _checked_name(uploaded_file)
    storage_name, sha, _ = store_by_hash(uploaded_file, folder="allocated-codes")
    try:
        with _local_copy(storage_name, name) as path:
            _, codes = engine.read_serial_cells(path, CODE_HEADER_NAMES)
        if not codes:
            raise engine.SerialFileError(f"{name}: holds no codes")
    except engine.SerialFileError as error:
        if not AllocatedCodeList.objects.filter(sha256=sha).exists():  # nothing left behind
            default_storage.delete(storage_name)
        message = str(error).replace(os.path.dirname(path) + os.sep, "")
        raise ValidationError({"file": message}) from None
    distinct = len(set(codes))
    code_list = AllocatedCodeList.objects.create(
        order=order,
        batch=batch,
        file=storage_name,
        original_name=name,
        sha256=sha,
        code_count=distinct,
        created_by=user,
    )
    audit_log(
        actor=user,
        action="allocated_codes.uploaded",
        obj=code_list,
        order=order,
        payload={
            "batch": batch.code if batch else None,
            "file": name,
            "sha256": sha,
            "codes": distinct,
        },
    )
    return code_list


@transaction.atomic
def allocated_range_set(
    *,
    user: User,
    order: PurchaseOrder,
    first_serial: str,
    last_serial: str,
    batch: Batch | None = None,
) -> AllocatedRange:
    """Assign counters to an order or one of its batches; supersedes the previous allocation."""
    if not can_manage_orders(user) or order.buyer_id != user.membership.organisation_id:
        raise PermissionDenied("Only the buyer's buyers and admins allocate serial ranges.")
    if batch is not None and batch.order_id != order.pk:
        raise ValidationError({"batch": "That batch belongs to another order."})
    rule = NumberingRule.for_order(order)
    if rule is None:
        raise ValidationError(f"Define the numbering rule for {order.product_code} first.")
    engine_rule_ = rule.as_engine_rule()
    first, last = first_serial.strip().upper(), last_serial.strip().upper()
    lo, hi = counter_of(engine_rule_, first), counter_of(engine_rule_, last)
    errors = {}
    if lo is None:
        errors["first_serial"] = f"“{first}” does not follow {rule.pattern}."
    if hi is None:
        errors["last_serial"] = f"“{last}” does not follow {rule.pattern}."
    if lo is not None and hi is not None and lo > hi:  # i.e. no error yet, and out of order
        errors["last_serial"] = "The last serial comes before the first."
    if errors:
        raise ValidationError(errors)
    assert lo is not None and hi is not None  # else there were errors
    allocation = AllocatedRange.objects.create(
        order=order,
        batch=batch,
        lo=lo,
        hi=hi,
        first_serial=first,
        last_serial=last,
        created_by=user,
    )
    audit_log(
        actor=user,
        action="allocated_range.set",
        obj=allocation,
        order=order,
        payload={"batch": batch.code if batch else None, "first": first, "last": last},
    )
    return allocation
