"""EPCIS 2.0 export benchmark (run by hand, not a test): the document of a batch of 1,000,000
accepted serials, packed 50 to a carton (20,000 AggregationEvents) and all shipped (one shipping
event per customer and day), built once and timed.

    DATABASE_URL=sqlite:////tmp/epcis-bench.sqlite3 MEDIA_ROOT=/tmp/epcis-bench-media \\
        python benchmarks/epcis_bench.py [--fresh]

Seeds the demo (``seed_demo``) into the database named by ``DATABASE_URL`` (use a scratch one)
and, on the demo's 30W charger order (PO 2026-0160), a numbering rule with its GS1 Company
Prefix length, a batch whose production list (serial, carton) holds 1,000,000 serials, accepted
and approved, and a distribution list of the same serials (ten customers, five days); a later
run reuses them (``--fresh`` seeds again). Prints the time of the build (reading the records,
writing the events, the event hashes), of the event hashes alone, and of the JSON bytes, and
the peak memory of the process.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402

from accounts.factors import command_factor  # noqa: E402
from approvals import services as approvals  # noqa: E402
from dossier import epcis, epcis_hash  # noqa: E402
from orders import services as order_services  # noqa: E402
from orders.models import Batch, PurchaseOrder  # noqa: E402
from portal.models import User  # noqa: E402
from portal.passwords import command_request  # noqa: E402
from serials import services as serial_services  # noqa: E402

SERIALS, PER_CARTON, PASSWORD = 1_000_000, 50, "bench-epcis-2026"


def _csv(header: str, rows: int, row: object) -> SimpleUploadedFile:
    lines = [header, *(row(n) for n in range(1, rows + 1))]  # type: ignore[operator]
    return SimpleUploadedFile(f"{header.split(',')[-1]}.csv", ("\n".join(lines) + "\n").encode())


def seed() -> Batch:
    call_command("seed_demo", "--password", PASSWORD)
    buyer = User.objects.get(username="buyer")
    order = PurchaseOrder.objects.get(number="2026-0160")
    serial_services.numbering_rule_save(
        user=buyer, product=order.gtin, prefix="VTR", width=9, company_prefix_length=7
    )
    batch = order_services.batch_create(
        order=order, user=buyer, code=f"BIG-{time.time_ns()}", planned_quantity=order.quantity
    )
    production = serial_services.serial_list_upload(
        batch=batch,
        user=buyer,
        uploaded_file=_csv(
            "serial,carton", SERIALS, lambda n: f"VTR{n:09d},C{(n - 1) // PER_CARTON:06d}"
        ),
    )
    serial_services.serial_list_validate(serial_list_id=production.pk)
    serial_services.batch_serials_accept(batch=batch, user=buyer)
    approvals.approval_sign(
        user=buyer,
        password=PASSWORD,
        request=command_request("epcis_bench"),
        factor=command_factor("epcis_bench"),
        order=order,
        batch=batch,
        promises=["identity"],
        decision="accepted",
        sentence="The benchmark's million chargers may ship.",
        pins=[("serial_list", production.pk)],
    )
    distribution = serial_services.serial_list_upload(
        batch=batch,
        user=buyer,
        kind="distribution",
        uploaded_file=_csv(
            "serial,customer_reference,shipped_on",
            SERIALS,
            lambda n: f"VTR{n:09d},CUSTOMER-{n % 10},2026-11-{10 + n % 5:02d}",
        ),
    )
    serial_services.serial_list_validate(serial_list_id=distribution.pk)
    return batch


def main() -> None:
    started = time.perf_counter()
    # A database already seeded by an earlier run is reused: seeding takes minutes.
    batch = Batch.objects.filter(order__number="2026-0160", code__startswith="BIG-").last()
    if batch is None or len(sys.argv) > 1 and sys.argv[1] == "--fresh":
        batch = seed()
        print(f"seeded in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    document = epcis.epcis_document(batch)
    built = time.perf_counter() - started
    started = time.perf_counter()
    body = epcis.epcis_bytes(document)
    written = time.perf_counter() - started
    events = document["epcisBody"]["eventList"]
    started = time.perf_counter()
    epcis_hash.event_ids(document["@context"], events)  # the eventIDs again: the same work
    hashed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    epcs = sum(len(e.get("epcList", e.get("childEPCs", []))) for e in events)
    print(
        f"{len(events):,} events, {epcs:,} EPCs, {len(body) / 1e6:.0f} MB: document built in "
        f"{built:.1f} s (of which the event hashes {hashed:.1f} s), JSON bytes in "
        f"{written:.1f} s; peak memory {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
