"""A serial's life in the demo: after batch B1's serials were accepted, one charger was crushed
at the buyer's warehouse and destroyed (its serial must never come back), and one shipped to a
retailer came back from a customer. Recorded through the same service the page uses, with the
same proof a person would attach."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from orders.models import PurchaseOrder
from portal.models import User
from portal.pdf import html_to_pdf
from serials.models import SerialLifeEvent
from serials.services import serial_life_record

DESTROYED = "VLT000105500"  # never shipped: crushed at the buyer's warehouse
RETURNED = "VLT000100050"  # shipped to RETAIL-UK-0042; the service user scanned it back


def _destruction_certificate() -> SimpleUploadedFile:
    """The warehouse's certificate of destruction, as PDF."""
    html = (
        "<h1 style='font-family:sans-serif'>Certificate of destruction</h1>"
        f"<p style='font-family:sans-serif'>One Volta 65W charger, serial {DESTROYED}, crushed "
        "by a forklift in aisle 4 and destroyed under supervision. Ref. WH-DC-2026-031.</p>"
    )
    return SimpleUploadedFile("destruction-certificate.pdf", html_to_pdf(html))


def demo_serial_life(*, order: PurchaseOrder, users: dict[str, User]) -> None:
    """One serial of the accepted batch B1 destroyed, one returned. Does nothing once the batch
    has any life event, or while its serials are not accepted."""
    batch = order.batches.get(code="B1")
    if (
        SerialLifeEvent.objects.filter(batch=batch).exists()
        or not batch.serial_runs.filter(accepted=True).exists()
    ):
        return
    serial_life_record(
        batch=batch,
        user=users["buyer"],
        state=SerialLifeEvent.State.DESTROYED,
        first_serial=DESTROYED,
        reason="Crushed by a forklift at our Daventry warehouse before shipment; destroyed.",
        reference="WH-DC-2026-031",
        proof=_destruction_certificate(),
    )
    serial_life_record(
        batch=batch,
        user=users["service"],
        state=SerialLifeEvent.State.RETURNED,
        first_serial=RETURNED,
        reason="Returned by the customer through RETAIL-UK-0042: no output at 20 V.",
        reference="RMA-58812",
    )
