"""The demo's day of work on batch B2 of PO 2026-0141, beside its exceptions (``demo.story``):
the buyer's written questions, so that each role's inbox (``portal.dashboard``) has today's work
in it — a statement to review for the buyer, requests due within days and evidence still to
send for the supplier. Every step goes through the services the pages use."""

from __future__ import annotations

import datetime

from django.utils import timezone

from evidence import services as evidence_services
from orders.models import PurchaseOrder
from orders.promises import Promise
from portal.models import User


def demo_inbox_work(*, order: PurchaseOrder, users: dict[str, User]) -> None:
    """The buyer's questions on batch B2, so each role's inbox has today's work in it: the
    supplier has answered one request (the buyer reviews the statement), two more are due
    within days, and the photos and process record the buyer requires of B2 are not sent yet.
    Does nothing if B2 already has a request."""
    batch = order.batches.get(code="B2")
    if batch.evidence_requests.exists():
        return
    buyer, supplier = users["buyer"], users["supplier_a"]
    today = timezone.localdate()
    evidence_services.requirements_set(batch=batch, user=buyer, kinds=["photo", "process_record"])
    scrap_record = evidence_services.request_create(
        batch=batch,
        user=buyer,
        subject="Burn-in log for the twelve scrapped units",
        question="Please send the burn-in log of station BI-4 showing the twelve scrapped "
        "units, and say who destroyed their labels.",
        due_on=today + datetime.timedelta(days=6),
        promises=[Promise.PROCESS],
    )
    evidence_services.statement_write(
        request=scrap_record,
        user=supplier,
        text="The twelve units failed burn-in at station BI-4 (log lines 2211–2222). QC "
        "supervisor Zhou Min cut their labels and logged them as scrap the same day.",
    )
    evidence_services.request_create(
        batch=batch,
        user=buyer,
        subject="Photo of the reprinted label",
        question="Photograph the unit that carries the reprinted label next to its rework ticket.",
        due_on=today + datetime.timedelta(days=2),
        promises=[Promise.IDENTITY],
    )
    evidence_services.request_create(
        batch=batch,
        user=buyer,
        subject="Carton list of B2 before palletising",
        question="Upload the carton list (serial → carton) of B2 before the cartons are "
        "shrink-wrapped, so the inspector can pick cartons to open.",
        due_on=today + datetime.timedelta(days=9),
        promises=[Promise.SHIPMENT],
    )
