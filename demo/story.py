"""The demo's worked example: batch B1 of PO 2026-0141 from serial list to signed approval.

The supplier uploads 6,000 serials with a printer skip and one label printed twice, photos of the
rating label and the packed cartons taken during the production run, names who does each part
of the serial work, and answers the buyer's request; the buyer decides the two exceptions and
signs an approval that opens the shipment release; finance releases it and records the deposit,
and the first chargers ship that day. The portal flags none of it: nothing contradicts.
Every step goes through the same services the pages use, so the audit log, the timeline, the
finance board and the dossier all have something real to show.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from accounts.factors import command_factor
from approvals import services as approvals
from approvals.models import Gate
from evidence import services as evidence_services
from inspection import services as inspection_services
from orders.models import PurchaseOrder
from portal.models import User
from portal.passwords import command_request
from portal.pdf import html_to_pdf
from serials import services as serial_services

FIRST, LAST = 100_001, 106_000
SKIPPED = range(102_401, 102_411)  # ten labels the printer skipped
PRINTED_TWICE = 104_077

# The responsibility map the supplier fills before the buyer signs: (role, party, party type,
# contact), every party accepting responsibility.
RESPONSIBILITIES = [
    ("prints_labels", "Brightline line 2 label room", "supplier", "Li Na, +86 755 2100 4471"),
    ("assigns_numbers", "Brightline ERP team", "supplier", "erp@brightline.example.com"),
    ("verifies_serials", "Brightline end-of-line QC", "supplier", "qc@brightline.example.com"),
    ("packs", "Brightline packing hall B", "supplier", "packing@brightline.example.com"),
    ("tests", "Huace Test Lab, Shenzhen", "test_lab", "lab@huace.example.com"),
    ("repairs", "Brightline rework bench", "supplier", "rework@brightline.example.com"),
    ("forwards", "Pearl River Forwarding Ltd", "forwarder", "ops@pearlriver.example.com"),
]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default()


def label_photo(serial: str, gtin: str, captured: datetime.datetime) -> SimpleUploadedFile:
    """A rating label: GS1 DataMatrix with GTIN and serial, and the same in print beside it."""
    import zxingcpp

    symbol = zxingcpp.create_barcode(
        f"(01){gtin}(21){serial}", zxingcpp.BarcodeFormat.DataMatrix, options="gs1"
    )
    code = Image.fromarray(zxingcpp.write_barcode_to_image(symbol, scale=8)).convert("RGB")
    photo = Image.new("RGB", (900, 600), (214, 210, 200))
    draw = ImageDraw.Draw(photo)
    draw.rounded_rectangle((60, 70, 840, 530), radius=18, fill="white", outline=(60, 60, 60))
    photo.paste(code, (100, 130))
    text = _font(30)
    draw.text((100 + code.width + 40, 140), "Volta 65W USB-C", fill="black", font=_font(36))
    draw.text((100 + code.width + 40, 200), f"GTIN {gtin}", fill="black", font=text)
    draw.text((100 + code.width + 40, 250), f"S/N {serial}", fill="black", font=text)
    draw.text((100 + code.width + 40, 300), "100–240V~ 50/60Hz 1.5A", fill="black", font=_font(24))
    return _jpeg(photo, f"label-{serial}.jpg", captured)


def carton_photo(captured: datetime.datetime) -> SimpleUploadedFile:
    photo = Image.new("RGB", (900, 600), (190, 160, 120))
    draw = ImageDraw.Draw(photo)
    for row in range(2):
        for col in range(3):
            x, y = 70 + col * 270, 60 + row * 270
            draw.rectangle(
                (x, y, x + 240, y + 240), fill=(170, 135, 90), outline=(90, 70, 40), width=4
            )
            draw.text(
                (x + 20, y + 20), f"CTN-{row * 3 + col + 1:03d}", fill="black", font=_font(28)
            )
    return _jpeg(photo, "packed-cartons.jpg", captured)


def _jpeg(image: Image.Image, name: str, captured: datetime.datetime) -> SimpleUploadedFile:
    exif = Image.Exif()
    exif[0x8769] = {0x9003: f"{captured:%Y:%m:%d %H:%M:%S}"}  # Exif IFD → DateTimeOriginal
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, exif=exif)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _serial_csv() -> bytes:
    lines = ["serial,carton"]
    for n in range(FIRST, LAST + 1):
        if n in SKIPPED:
            continue
        lines.append(f"VLT{n:09d},CTN-{(n - FIRST) // 50 + 1:03d}")
        if n == PRINTED_TWICE:
            lines.append(f"VLT{n:09d},CTN-{(n - FIRST) // 50 + 1:03d}")
    return ("\n".join(lines) + "\n").encode()


def _distribution_csv(shipped_on: datetime.date) -> bytes:
    """The first 1,200 chargers, shipped to three retailers' distribution centres."""
    customers = [
        "RETAIL-UK-0042 (Harrow DC)",
        "MARKET-EU-7781 (Venlo)",
        "RETAIL-UK-0057 (Leeds DC)",
    ]
    lines = ["serial,customer_reference,shipped_on"]
    for n in range(FIRST, FIRST + 1_200):
        if n in SKIPPED:
            continue
        lines.append(f"VLT{n:09d},{customers[(n - FIRST) // 400]},{shipped_on.isoformat()}")
    return ("\n".join(lines) + "\n").encode()


def payment_proof(order: PurchaseOrder, amount: str) -> SimpleUploadedFile:
    """A remittance advice as PDF, as a bank would send it."""
    html = (
        "<h1 style='font-family:sans-serif'>Remittance advice</h1>"
        f"<p style='font-family:sans-serif'>Payment of USD {amount} to {order.supplier} "
        f"for PO {order.number} (deposit).</p>"
    )
    return SimpleUploadedFile("remittance-advice.pdf", html_to_pdf(html))


def demo_inspection(*, order: PurchaseOrder, users: dict[str, User]) -> None:
    """The inspector's visit to batch B1: a level II sample at AQL 1.0, the first dozen labels
    read (one scratched), one carton opened and scanned, and one step the factory blocked."""
    batch = order.batches.get(code="B1")
    if batch.inspection_plans.exists():
        return
    inspector = users["inspector"]
    plan = inspection_services.inspection_plan_create(
        batch=batch, user=inspector, level="II", aql="1.0", seed=20261124
    )
    for number, unit in enumerate(plan.units.order_by("position")[:12]):
        inspection_services.unit_result_record(
            unit=unit,
            user=inspector,
            method="scanned",
            label_text=f"]d201{order.gtin}21{unit.serial}",
            carton_found=unit.carton,
            defects="Label scratched: serial unreadable by eye, barcode still scans"
            if number == 4
            else "",
        )
    opened = plan.units.order_by("position").first()
    if opened is not None and opened.carton:
        first = (int(opened.serial[3:]) - FIRST) // 50 * 50 + FIRST
        inspection_services.carton_scans_record(
            plan=plan,
            user=inspector,
            carton=opened.carton,
            labels=[f"VLT{n:09d}" for n in range(first, first + 50)],
        )
    inspection_services.blocked_step_record(
        plan=plan,
        user=inspector,
        step="open_cartons",
        blocked_by="Factory logistics supervisor (Mr. Chen)",
        reason="Cartons CTN-090 to CTN-120 were already palletised and shrink-wrapped for the "
        "forwarder; opening them was refused until the buyer pays the re-packing fee.",
    )


def demo_story(*, order: PurchaseOrder, users: dict[str, User], password: str) -> None:
    """Play the story once; does nothing if batch B1 already has a serial list."""
    batch = order.batches.get(code="B1")
    if batch.serial_lists.exists():
        return
    buyer, supplier, finance = users["buyer"], users["supplier_a"], users["finance"]
    # Every date of the story falls inside B1's production run, or after the release.
    started = batch.production_started_on or timezone.localdate()

    def during(days: int, hour: int, minute: int) -> datetime.datetime:
        day = started + datetime.timedelta(days=days)
        return datetime.datetime.combine(day, datetime.time(hour, minute))

    jammed_on = started + datetime.timedelta(days=7)  # some 2,400 labels into the run

    serial_list = serial_services.serial_list_upload(
        batch=batch,
        user=supplier,
        uploaded_file=SimpleUploadedFile("B1-production-serials.csv", _serial_csv()),
    )
    serial_services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()

    evidence_services.requirements_set(batch=batch, user=buyer, kinds=["photo", "label_print"])
    label = evidence_services.evidence_upload(
        batch=batch,
        user=supplier,
        kind="photo",
        description="Rating label of the first unit off line 2",
        uploaded_file=label_photo(f"VLT{FIRST:09d}", order.gtin, during(0, 9, 14)),
    )
    label_print = evidence_services.evidence_upload(
        batch=batch,
        user=supplier,
        kind="label_print",
        description="Print proof of the first label of the run, off the line-2 printer",
        uploaded_file=label_photo(f"VLT{FIRST:09d}", order.gtin, during(0, 8, 50)),
    )
    cartons = evidence_services.evidence_upload(
        batch=batch,
        user=supplier,
        kind="photo",
        description="Cartons CTN-001 to CTN-006 packed and sealed",
        uploaded_file=carton_photo(during(2, 16, 40)),
    )
    for item in (label, label_print, cartons):
        evidence_services.evidence_process(item_id=item.pk)
    for role, party_name, party_type, contact in RESPONSIBILITIES:
        evidence_services.responsibility_record(
            order=order,
            user=supplier,
            role=role,
            party_name=party_name,
            party_type=party_type,
            contact=contact,
            accepts_responsibility=True,
        )

    request = evidence_services.request_create(
        batch=batch,
        user=buyer,
        subject="Ten serials missing after VLT000102400",
        question="The list skips VLT000102401–VLT000102410 and has VLT000104077 twice. "
        "What happened to those labels, and which unit carries VLT000104077?",
        due_on=timezone.localdate() + datetime.timedelta(days=7),
    )
    statement = evidence_services.statement_write(
        request=request,
        user=supplier,
        text=f"The label printer jammed on line 2 on {jammed_on.day} {jammed_on:%B}; ten labels "
        "were torn and destroyed with the roll, never applied. VLT000104077 was entered twice "
        "by the packing scanner; only one unit carries it (carton CTN-082).",
    )
    evidence_services.statement_review(statement=statement, user=buyer)

    exceptions = list(serial_list.exceptions.all())
    serial_services.exception_answer(
        exceptions=exceptions,
        user=supplier,
        reason="printer_skip",
        note="Printer jam on line 2: labels destroyed with the roll; the duplicate is a "
        "double scan at packing.",
    )
    serial_services.exception_decide(
        exceptions=exceptions,
        user=buyer,
        decision="accepted",
        note="Explained in the supplier's statement of the same day.",
    )
    # The exceptions explained and accepted, the registry takes the batch's serials: a batch is
    # not approved to ship on serials the registry does not hold.
    serial_services.batch_serials_accept(batch=batch, user=buyer)

    gate = Gate.objects.get(batch=batch, kind=Gate.Kind.SHIPMENT_RELEASE)
    deposit = approvals.gate_create(user=buyer, order=order, batch=batch, kind=Gate.Kind.DEPOSIT)
    approvals.approval_sign(
        user=buyer,
        password=password,
        request=command_request("seed_demo"),
        factor=command_factor("seed_demo"),
        order=order,
        batch=batch,
        decision="accepted",
        sentence="Batch B1 (5,990 chargers, VLT000100001–VLT000106000 less ten destroyed "
        "labels) may ship and its deposit may be paid.",
        keep_unchanged="The rating label artwork and the serial printer settings of line 2.",
        inspector_checks="Carton CTN-082 holds exactly one VLT000104077.",
        pins=[
            ("evidence", label.pk),
            ("evidence", label_print.pk),
            ("evidence", cartons.pk),
            ("serial_list", serial_list.pk),
            ("statement", statement.pk),
            *(("exception", e.pk) for e in exceptions),
        ],
        unlocks=[gate, deposit],
    )
    # Goods leave only once finance has released the shipment, and on that day at the earliest.
    released = approvals.gate_release(
        gate=gate,
        user=finance,
        request=command_request("seed_demo"),
        factor=command_factor("seed_demo"),
    )
    distribution = serial_services.serial_list_upload(
        batch=batch,
        user=supplier,
        kind="distribution",
        uploaded_file=SimpleUploadedFile(
            "B1-shipped-to-customers.csv",
            _distribution_csv(timezone.localdate(released.released_at)),
        ),
    )
    serial_services.serial_list_validate(serial_list_id=distribution.pk)
    approvals.payment_record(
        gate=deposit,
        user=finance,
        kind="deposit",
        amount=Decimal("18000.00"),
        currency="USD",
        payee=str(order.supplier),
        paid_on=timezone.localdate(),
        document=payment_proof(order, "18,000.00"),
    )
