"""The demo's conditions that stay tracked: batch B2 of PO 2026-0141, accepted with conditions.

B2's list came in with exceptions the supplier has only partly explained (``demo.story``,
``demo.inbox_story``). The buyer lets B2's shipment release be opened on conditions that name
every open exception, and leaves one point open: the packing hall must show that its scanner now
refuses a label it has already read (the double scan on B2's list), and the shipment release
waits on it. The buyer asks for it in writing; the supplier answers with a statement and closes
the point with it, so the gate opens and finance sees it ready to release. Every step goes
through the services the pages use."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.factors import command_factor
from approvals import services as approvals
from approvals.models import Gate
from evidence import services as evidence_services
from orders.models import PurchaseOrder
from orders.promises import Promise
from portal.models import User
from portal.passwords import command_request
from serials.selectors import current_exceptions, latest_production_list

OPEN_POINT = (
    "Show that the packing scanner of hall B now refuses a label it has already read (the "
    "double scan of VLT000107250)."
)


def demo_conditions(*, order: PurchaseOrder, users: dict[str, User], password: str) -> None:
    """B2 accepted with conditions, one open point owned by the packing hall blocking its
    shipment release, closed by the supplier's later statement. Does nothing if B2 has an
    approval already, or no validated list yet."""
    batch = order.batches.get(code="B2")
    serial_list = latest_production_list(batch)
    if batch.approvals.exists() or serial_list is None or serial_list.status != "done":
        return
    buyer, supplier = users["buyer"], users["supplier_a"]
    today = timezone.localdate()
    packing_hall = evidence_services.current_responsibilities(order)["packs"]
    gate = Gate.objects.get(batch=batch, kind=Gate.Kind.SHIPMENT_RELEASE)
    exceptions = list(current_exceptions(batch))
    approval = approvals.approval_sign(
        user=buyer,
        password=password,
        request=command_request("seed_demo"),
        factor=command_factor("seed_demo"),
        order=order,
        batch=batch,
        # What leaves must be what the lists say, and the packing process must stop reading a
        # label twice: not a review of the product itself, nor of the money.
        promises=[Promise.SHIPMENT, Promise.PROCESS],
        decision="accepted_with_conditions",
        sentence="Batch B2 may be released for shipment once the packing hall shows its scanner "
        "refuses a repeated label; its exceptions stay open until each is answered.",
        conditions="Every exception of B2 not yet answered is answered in writing, with its "
        "records, before the balance falls due.\n"
        "The twelve scrapped units' labels stay out of every carton list.",
        keep_unchanged="The packing scanner's firmware and settings, once shown to refuse a "
        "repeated label.",
        inspector_checks="Carton CTN-145 holds exactly one VLT000107250.",
        pins=[
            ("serial_list", serial_list.pk),
            *(("exception", exception.pk) for exception in exceptions),
        ],
        unlocks=[gate],
        open_points=[
            approvals.OpenPointDraft(
                text=OPEN_POINT,
                owner=packing_hall,
                due_on=today + datetime.timedelta(days=5),
                blocks_gates=True,
            )
        ],
    )
    asked = evidence_services.request_create(
        batch=batch,
        user=buyer,
        subject="Packing scanner: a label read twice",
        question="Your scanner read VLT000107250 twice at packing. Show that it now refuses a "
        "label it has already read, and since when.",
        due_on=today + datetime.timedelta(days=5),
        promises=[Promise.PROCESS],
    )
    statement = evidence_services.statement_write(
        request=asked,
        user=supplier,
        text="Since this morning the scanner at packing hall B refuses a serial already read for "
        "the same order (firmware 2.4, change log CL-118). Our QC supervisor tried ten labels "
        "twice each: all ten repeats were refused and logged.",
    )
    evidence_services.statement_review(statement=statement, user=buyer)
    [point] = approval.open_points.all()
    approvals.open_point_close(
        point=point,
        user=supplier,
        note="The scanner now refuses repeated reads; the test is in our statement.",
        record=f"statement:{statement.pk}",
    )
