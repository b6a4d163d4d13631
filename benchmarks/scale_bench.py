"""Registry scale benchmark (run by hand, not a test): the reuse check of a new 1-million-serial
list and a single customer-service lookup, against a registry of 100 million accepted serials
and, in the same database and the same rounds, against one of 1 million. The growth is the ratio.

    python benchmarks/scale_bench.py [--big 100000000] [--small 1000000] [--rounds 5]

Creates (and afterwards drops) the database ``portal_scale``. Each registry is one product of
one buyer (its own scope), filled the way accepted batches fill it: batches of 10,000 to
1,000,000 serials, each a run of consecutive counters broken by gaps every 100 to 5,000 serials
(so the 100M registry holds about 40,000 runs). The batches' own lists are real (uploaded and
validated through the services); the registry runs are then written with COPY
(``portal.bulk.bulk_insert``) and marked accepted.

Measured, alternately per round:
* reuse: ``serials.services.registry._reuse`` for a new list of 1,000,000 serials in 200 runs,
  whose last quarter overlaps the registry's newest batch (so reuse is found and listed);
* lookup: ``lookup.selectors.serial_lookup`` for one registered serial, as customer service, 50
  different serials per round (median).
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from upload_bench import _admin_sql  # noqa: E402 - the benchmarks' shared admin connection

DB = "portal_scale"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=100_000_000)
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    _admin_sql(f"DROP DATABASE IF EXISTS {DB}")
    _admin_sql(f"CREATE DATABASE {DB}")
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB}",
        CELERY_BROKER_URL="",
        DJANGO_SETTINGS_MODULE="portal.settings",
        LOG_LEVEL="WARNING",
        MEDIA_ROOT=tempfile.mkdtemp(prefix="scale-media-"),
    )
    try:
        _run(args)
    finally:
        from django.db import connections

        connections.close_all()
        _admin_sql(f"DROP DATABASE IF EXISTS {DB}")


def _run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    import numpy as np
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection, transaction

    from lookup.selectors import serial_lookup
    from orders import services as orders
    from portal.bulk import bulk_insert
    from portal.models import Membership, Organisation, User
    from serials.models import SerialList, SerialRun, registry_scope
    from serials.services import numbering_rule_save, serial_list_upload
    from serials.services.registry import _reuse

    call_command("migrate", verbosity=0)
    buyer_org = Organisation.objects.create(name="Scale buyer", kind="buyer")
    supplier_org = Organisation.objects.create(name="Scale supplier", kind="supplier")
    buyer = User.objects.create_user("scale_buyer", password="x")
    supplier = User.objects.create_user("scale_supplier", password="x")
    service = User.objects.create_user("scale_service", password="x")
    Membership.objects.create(user=buyer, organisation=buyer_org, role="buyer")
    Membership.objects.create(user=service, organisation=buyer_org, role="customer_service")
    Membership.objects.create(user=supplier, organisation=supplier_org, role="supplier")
    rng = random.Random(2026)

    def registry(size: int, prefix: str) -> dict[str, object]:
        """Batches of accepted serials totalling ``size``; the newest batch's range."""
        sku = f"SCALE-{prefix}"
        rule = numbering_rule_save(
            user=buyer, product=sku, prefix=prefix, width=10, check_digit="none"
        )
        order = orders.order_create(
            user=buyer,
            supplier=supplier_org,
            number=f"S-{prefix}",
            product_name=sku,
            sku=sku,
            quantity=size + 1_000_000,  # and the new list's batch
            order_date=datetime.date(2026, 1, 1),
            required_by=datetime.date(2026, 12, 1),
            status="issued",
        )
        counter, made, number, runs = 1, 0, 0, 0
        newest: tuple[int, int] = (1, 1)
        started = time.perf_counter()
        while made < size:
            number += 1
            planned = min(rng.randint(10_000, 1_000_000), size - made)
            batch = orders.batch_create(
                order=order, user=buyer, code=f"{prefix}{number}", planned_quantity=planned
            )
            first = f"{prefix}{counter:010d}"
            serial_list = serial_list_upload(
                batch=batch,
                user=supplier,
                uploaded_file=SimpleUploadedFile("list.csv", f"serial\n{first}\n".encode()),
            )
            rows = []
            lo, left = counter, planned
            while left > 0:
                length = min(rng.randint(100, 5_000), left)
                rows.append((lo, lo + length - 1))
                left -= length
                lo += length + rng.randint(1, 3)  # a gap of 1-3 serials
            with transaction.atomic():
                SerialRun.objects.filter(serial_list=serial_list).delete()
                bulk_insert(
                    SerialRun,
                    ("scope", "lo", "hi", "batch_id", "serial_list_id", "accepted"),
                    (
                        (registry_scope(order), a, b, batch.pk, serial_list.pk, True)
                        for a, b in rows
                    ),
                )
            runs += len(rows)
            newest = (counter, lo)
            counter = lo + 1_000
            made += planned
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE serials_serialrun")
        print(
            f"registry {prefix}: {made:,} serials, {number} batches, {runs:,} runs, "
            f"built in {time.perf_counter() - started:.0f} s"
        )
        # A new list of a new batch: 1M serials in 200 runs, its last quarter over the
        # registry's newest batch.
        batch = orders.batch_create(
            order=order, user=buyer, code=f"{prefix}-new", planned_quantity=1_000_000
        )
        new_list = serial_list_upload(
            batch=batch,
            user=supplier,
            uploaded_file=SimpleUploadedFile("new.csv", b"serial\n"),
        )
        new_list = SerialList.objects.get(pk=new_list.pk)
        start = newest[1] - 250_000
        lo = np.arange(start, start + 200 * 5_001, 5_001, dtype=np.int64)
        hi = lo + 4_999
        samples = [
            f"{prefix}{a + rng.randint(0, b - a):010d}"
            for a, b in rng.sample(rows, k=min(50, len(rows)))
        ]
        return {
            "list": new_list,
            "rule": rule.as_engine_rule(),
            "lo": lo,
            "hi": hi,
            "samples": samples,
        }

    sets = {"1M": registry(args.small, "SA"), "100M": registry(args.big, "SB")}
    reuse: dict[str, list[float]] = {name: [] for name in sets}
    lookup: dict[str, list[float]] = {name: [] for name in sets}
    found: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, data in sets.items():
            started = time.perf_counter()
            result = _reuse(data["list"], data["rule"], data["lo"], data["hi"])  # type: ignore[arg-type]
            reuse[name].append(time.perf_counter() - started)
            found[name] = result.count
            times = []
            for serial in data["samples"]:  # type: ignore[attr-defined]
                started = time.perf_counter()
                answer = serial_lookup(user=service, text=serial)
                times.append(time.perf_counter() - started)
                assert answer is not None
            lookup[name].append(statistics.median(times))
    print(f"{'registry':<10}{'reuse check':>14}{'reused found':>14}{'one lookup':>12}")
    for name in sets:
        print(
            f"{name:<10}{statistics.median(reuse[name]) * 1000:>11.1f} ms{found[name]:>14,}"
            f"{statistics.median(lookup[name]) * 1000:>9.1f} ms"
        )
    grew = {
        what: statistics.median(measured["100M"]) / statistics.median(measured["1M"])
        for what, measured in (("reuse", reuse), ("lookup", lookup))
    }
    print(f"ratio 100M / 1M: reuse {grew['reuse']:.2f}, lookup {grew['lookup']:.2f}")


if __name__ == "__main__":
    main()
