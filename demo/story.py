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
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.factors import command_factor
from approvals import services as approvals
from approvals.models import Gate
from demo.credentials import with_credentials
from demo.documents import carton_photo, label_photo, payment_proof, scrap_tag_photo
from evidence import services as evidence_services
from inspection import services as inspection_services
from inspection.selectors import units_in_carton_order
from orders import services as order_services
from orders.models import Batch, PurchaseOrder
from orders.promises import Promise
from orders.samples import approved_sample_for
from portal.models import User
from portal.passwords import command_request
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


# The money of the demo's gates. PO 2026-0141: 12,000 chargers at USD 10.00, paid per batch of
# 6,000: a 30% deposit, and the 70% balance against the shipping documents, due two weeks
# after the shipment release (seed_demo creates the shipment gates with shipment_gate_money).
BATCH_DEPOSIT = Decimal("18000.00")
BATCH_BALANCE = Decimal("42000.00")


def shipment_gate_money(batch: Batch) -> dict[str, Any]:
    """The balance due through a batch's shipment release: USD 42,000.00, two weeks after the
    batch is due to leave (B1 now, B2 on the order's required-by date)."""
    leaves = timezone.localdate() if batch.code == "B1" else batch.order.required_by
    return {
        "amount": BATCH_BALANCE,
        "currency": "USD",
        "due_date": leaves + datetime.timedelta(days=14),
    }


def demo_finance(*, users: dict[str, User]) -> None:
    """Money on the other gates, so the finance board has something to add up and to flag:
    the re-packing fee the inspector was refused over (PO 2026-0141), a deposit in euros that
    is overdue and was partly paid while its gate was blocked (PO 2026-0152), and the deposit
    of the order not issued yet (PO 2026-0160). Does nothing once the first of them exists."""
    buyer, finance = users["buyer"], users["finance"]
    orders = {
        order.number: order
        for order in PurchaseOrder.objects.filter(
            buyer=buyer.membership.organisation, number__in=["2026-0141", "2026-0152", "2026-0160"]
        ).select_related("supplier")
    }
    if Gate.objects.filter(order=orders["2026-0141"], kind=Gate.Kind.EXTRA_FEE).exists():
        return
    today, day = timezone.localdate(), datetime.timedelta(days=1)
    approvals.gate_create(
        user=buyer,
        order=orders["2026-0141"],
        kind=Gate.Kind.EXTRA_FEE,
        amount=Decimal("650.00"),
        currency="USD",
        due_date=today + 3 * day,
    )
    deposit = approvals.gate_create(
        user=buyer,
        order=orders["2026-0152"],
        kind=Gate.Kind.DEPOSIT,
        amount=Decimal("21600.00"),  # 30% of 3,000 drills at EUR 24.00
        currency="EUR",
        due_date=today - 6 * day,
    )
    approvals.payment_record(
        gate=deposit,
        user=finance,
        kind="deposit",
        amount=Decimal("6000.00"),
        currency="EUR",
        payee=orders["2026-0152"].supplier.name,
        paid_on=today - 4 * day,
        document=payment_proof(orders["2026-0152"], "6,000.00", "EUR", "part of the deposit"),
        reason="Harbour Tools would not book the gearbox steel without part of the deposit; "
        "Amelia Hart agreed by email. The rest waits for the approval of lot L01.",
    )
    approvals.gate_create(
        user=buyer,
        order=orders["2026-0160"],
        kind=Gate.Kind.DEPOSIT,
        amount=Decimal("12500.00"),
        currency="USD",
        due_date=today + 5 * day,
    )


def demo_inspection(*, order: PurchaseOrder, users: dict[str, User]) -> None:
    """The inspector's visit to batch B1: a level II sample at AQL 1.0, walked carton by carton.
    The first fourteen units: most confirmed in their carton with one tap, one label scratched,
    one unit found in the next carton, one not found where the list puts it, one skipped for
    now (under a pallet); one carton opened and scanned, and one step the factory blocked."""
    batch = order.batches.get(code="B1")
    if batch.inspection_plans.exists():
        return
    inspector = users["inspector"]
    plan = inspection_services.inspection_plan_create(
        batch=batch, user=inspector, level="II", aql="1.0", seed=20261124
    )
    opened = plan.units.order_by("position").first()
    walked = units_in_carton_order(plan)[:14]
    # Not found: a unit outside the carton the inspector scans in full (that scan would show it).
    missing = next(u for u in walked[5:] if opened is None or u.carton != opened.carton)
    for number, unit in enumerate(walked):
        if unit == missing:
            inspection_services.unit_result_record(
                unit=unit,
                user=inspector,
                method="not_found",
                carton_found=unit.carton,
                defects=f"Carton {unit.carton} opened and counted: 50 units, none with this "
                "serial; the supplier's packer could not say where it went.",
            )
        elif number == 9:
            inspection_services.unit_result_record(unit=unit, user=inspector, method="skipped")
        elif number == 11:
            elsewhere = f"CTN-{int(unit.carton[4:]) + 1:03d}" if unit.carton else "CTN-999"
            inspection_services.unit_result_record(
                unit=unit,
                user=inspector,
                method="scanned",
                label_text=f"]d201{order.gtin}21{unit.serial}",
                carton_found=elsewhere,
            )
        else:
            inspection_services.unit_result_record(
                unit=unit,
                user=inspector,
                method="scanned",
                label_text=f"]d201{order.gtin}21{unit.serial}",
                carton_confirmed=True,
                defects="Label scratched: serial unreadable by eye, barcode still scans"
                if number == 4
                else "",
            )
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


# Batch B2's list, uploaded and not yet explained: (counter or raw value, carton) rows with a
# double scan, a keyed-in serial with a letter O, two scrapped runs, a reprinted label and five
# samples the lab kept.
B2_FIRST, B2_LAST = 106_001, 112_000
B2_DOUBLE_SCANNED = 107_250
B2_MISTYPED = 108_380  # keyed in as VLT00010838O
B2_TEST_SCRAP = range(109_501, 109_513)
B2_REPRINTED = 110_042
B2_SAMPLES = range(111_996, 112_001)


def _b2_serial_csv() -> bytes:
    skipped = {B2_REPRINTED, *B2_TEST_SCRAP, *B2_SAMPLES}
    lines = ["serial,carton"]
    for n in range(B2_FIRST, B2_LAST + 1):
        carton = f"CTN-{(n - B2_FIRST) // 50 + 121:03d}"
        if n in skipped:
            continue
        serial = f"VLT{n:09d}"
        lines.append(f"{serial[:-1]}O,{carton}" if n == B2_MISTYPED else f"{serial},{carton}")
        if n == B2_DOUBLE_SCANNED:
            lines.append(f"{serial},{carton}")
    return ("\n".join(lines) + "\n").encode()


def demo_exceptions(*, order: PurchaseOrder, users: dict[str, User]) -> None:
    """Batch B2: its list uploaded with six exceptions; the supplier has answered two in one
    submission (the scrap tag attached) for the buyer to decide, and four wait for an answer.
    Does nothing if B2 already has a serial list."""
    batch = order.batches.get(code="B2")
    if batch.serial_lists.exists():
        return
    supplier = users["supplier_a"]
    started = timezone.localdate() - datetime.timedelta(days=11)
    batch = order_services.batch_update(
        batch=batch,
        user=supplier,
        declared_first_serial=f"VLT{B2_FIRST:09d}",
        declared_last_serial=f"VLT{B2_LAST:09d}",
        production_started_on=started,
    )
    serial_list = serial_services.serial_list_upload(
        batch=batch,
        user=supplier,
        uploaded_file=SimpleUploadedFile("B2-production-serials.csv", _b2_serial_csv()),
    )
    serial_services.serial_list_validate(serial_list_id=serial_list.pk)
    exceptions = list(serial_list.exceptions.all())
    answered = [
        serial_services.AnswerRow(
            exception.pk,
            "double_scan",
            "The packing scanner read this label twice; one unit carries it.",
        )
        for exception in exceptions
        if exception.kind == "duplicate"
    ] + [
        serial_services.AnswerRow(
            exception.pk,
            "test_scrap",
            "Twelve units failed burn-in at station BI-4 and were scrapped; tag attached.",
        )
        for exception in exceptions
        if exception.kind == "missing" and exception.lo == B2_TEST_SCRAP[0]
    ]
    serial_services.exceptions_answer(
        rows=answered,
        user=supplier,
        attachment=scrap_tag_photo(
            datetime.datetime.combine(started + datetime.timedelta(days=3), datetime.time(15, 20))
        ),
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
        # Line 2's QA camera signs its pictures: the page shows its content credentials.
        uploaded_file=with_credentials(
            label_photo(f"VLT{FIRST:09d}", order.gtin, during(0, 9, 14)), captured=during(0, 9, 14)
        ),
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
        # Who printed, destroyed and scanned those labels: the process, not the product.
        promises=[Promise.PROCESS],
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
    # One submission, a reason and a note per row: the torn labels were destroyed with the roll,
    # the duplicate is the packing scanner's double scan.
    serial_services.exceptions_answer(
        rows=[
            serial_services.AnswerRow(
                exception.pk,
                "double_scan" if exception.kind == "duplicate" else "destroyed",
                "Scanned twice at packing; one unit carries it (carton CTN-082)."
                if exception.kind == "duplicate"
                else "Printer jam on line 2: ten labels torn and destroyed with the roll.",
            )
            for exception in exceptions
        ],
        user=supplier,
    )
    serial_services.exception_decide(
        exceptions=exceptions,
        user=buyer,
        decision="accepted",
        note="Explained in the supplier's statement of the same day.",
        promises=[Promise.PROCESS],
    )
    # The exceptions explained and accepted, the registry takes the batch's serials: a batch is
    # not approved to ship on serials the registry does not hold.
    serial_services.batch_serials_accept(batch=batch, user=buyer)

    gate = Gate.objects.get(batch=batch, kind=Gate.Kind.SHIPMENT_RELEASE)
    deposit = approvals.gate_create(
        user=buyer,
        order=order,
        batch=batch,
        kind=Gate.Kind.DEPOSIT,
        amount=BATCH_DEPOSIT,
        currency="USD",
        due_date=timezone.localdate(),
    )
    approvals.approval_sign(
        user=buyer,
        password=password,
        request=command_request("seed_demo"),
        factor=command_factor("seed_demo"),
        order=order,
        batch=batch,
        # Are these the approved chargers, each with its own serial, and is what ships what the
        # lists say? Not a review of capacity, the process or the money: the deposit it opens
        # is named in writing below.
        promises=[Promise.IDENTITY, Promise.SHIPMENT],
        gate_reason="The deposit was due on signing, against these same serials: the batch's "
        "identity is what the buyer pays for, and no money question is open.",
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
            # The product's approved sample: what "the approved chargers" means.
            *((("sample", sample.pk),) if (sample := approved_sample_for(batch)) else ()),
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
    # The deposit is released before it is paid: money through a gate not released is flagged.
    approvals.gate_release(
        gate=deposit,
        user=finance,
        request=command_request("seed_demo"),
        factor=command_factor("seed_demo"),
    )
    approvals.payment_record(
        gate=deposit,
        user=finance,
        kind="deposit",
        amount=BATCH_DEPOSIT,
        currency="USD",
        payee=str(order.supplier),
        paid_on=timezone.localdate(),
        document=payment_proof(order, "18,000.00"),
    )
