"""What the order and batch pages (owned by orders, below us) show about serials: registered
in ``SerialsConfig.ready()`` with ``portal.pages``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from orders.models import Batch, PurchaseOrder
from portal.models import User
from portal.roles import can_upload_batch_files
from serials import services
from serials.forms import AllocatedCodeListForm, AllocatedRangeForm, SerialListUploadForm
from serials.models import NumberingRule


def batch_serials_context(user: User | AnonymousUser, batch: Batch) -> dict[str, Any]:
    """What the batch page shows about serials."""
    serial_status = services.batch_serial_status(batch)
    return {
        "numbering_rule": NumberingRule.for_order(batch.order),
        "serial_lists": batch.serial_lists.select_related("uploaded_by")[:20],
        "serial_status": serial_status,
        "can_upload": can_upload_batch_files(user),
        "upload_form": SerialListUploadForm(),
        "open_exceptions": services.current_exceptions(batch).filter(status="open").count(),
    }


def order_serials_context(user: User | AnonymousUser, order: PurchaseOrder) -> dict[str, Any]:
    """What the order page shows about numbering: the rule and the current allocations."""
    current: dict[Any, Any] = {}
    for allocation in order.allocations.select_related("batch"):
        current.setdefault(allocation.batch_id, allocation)  # newest first: first one wins
    code_lists: dict[Any, Any] = {}
    for code_list in order.allocated_code_lists.select_related("batch"):
        code_lists.setdefault(code_list.batch_id, code_list)
    return {
        "numbering_rule": NumberingRule.for_order(order),
        "allocations": list(current.values()),
        "allocation_form": AllocatedRangeForm(order=order),
        "code_lists": list(code_lists.values()),
        "code_list_form": AllocatedCodeListForm(order=order),
    }
