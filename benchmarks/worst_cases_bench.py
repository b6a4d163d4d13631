"""Worst cases of a serial list, from upload to report, in one process on PostgreSQL (run by
hand, not a test):

    python benchmarks/worst_cases_bench.py [--rows 1000000] [--rounds 3] [--profile CASE]

Creates (and afterwards drops) the database ``portal_worst``; tasks run eagerly, so the time is
``serial_list_upload`` + the worker's ``serial_list_validate`` (read, engine, reuse check, the
writes of registry runs, exceptions and placements, the audit event). The cases, measured
alternately in each round:

* ``plain``: 1M serials, one column (the floor every other case is a ratio of);
* ``carton``: the same serials with a quoted carton column (a production list placed by carton);
* ``distribution``: serial, customer and shipment date (a distribution list);
* ``runs``: 500,000 serials, every other number (500,000 registry runs, 499,999 gaps);
* ``blank``: 20 MB of blank lines around 1,000 serials;
* ``long-line``: one 100 MB line (no line end).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[1]
DB = "portal_worst"
sys.path.insert(0, str(REPO))


def _admin_sql(sql: str) -> None:
    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def _files(directory: Path, rows: int) -> dict[str, Path]:
    def write(name: str, text: str) -> Path:
        path = directory / name
        path.write_text(text)
        return path

    serials = [f"SN{i:010d}" for i in range(1, rows + 1)]
    return {
        "plain": write("plain.csv", "serial\n" + "\n".join(serials) + "\n"),
        "carton": write(
            "carton.csv",
            '"serial","carton"\n'
            + "".join(f'"{s}","CTN-{i // 50:06d}"\n' for i, s in enumerate(serials)),
        ),
        "distribution": write(
            "distribution.csv",
            "serial,customer,shipped_on\n"
            + "".join(
                f"{s},CUST-{i % 977:04d},2026-11-{1 + i % 28:02d}\n" for i, s in enumerate(serials)
            ),
        ),
        "runs": write(
            "runs.csv", "serial\n" + "\n".join(f"SN{i:010d}" for i in range(1, rows + 1, 2)) + "\n"
        ),
        "blank": write(
            "blank.csv",
            "serial\n" + "\n" * (10 << 20) + "\n".join(serials[:1000]) + "\n" * (10 << 20),
        ),
        "long-line": write("long-line.csv", "SN" + "0" * (100 << 20)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", default="")
    parser.add_argument("--cases", default="")
    args = parser.parse_args()

    _admin_sql(f"DROP DATABASE IF EXISTS {DB}")
    _admin_sql(f"CREATE DATABASE {DB}")
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB}",
        CELERY_BROKER_URL="",
        DJANGO_SETTINGS_MODULE="portal.settings",
        LOG_LEVEL="WARNING",
    )
    media = tempfile.mkdtemp(prefix="worst-media-")
    os.environ["MEDIA_ROOT"] = media
    try:
        _run(args)
    finally:
        from django.db import connections

        connections.close_all()
        _admin_sql(f"DROP DATABASE IF EXISTS {DB}")


def _run(args: argparse.Namespace) -> None:
    import datetime

    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from orders import services as orders
    from portal.models import Membership, Organisation, User
    from serials.models import SerialList
    from serials.services import numbering_rule_save, serial_list_upload

    supplier_org = Organisation.objects.create(name="Worst supplier", kind="supplier")
    supplier = User.objects.create_user("worst_supplier", password="x")
    Membership.objects.create(user=supplier, organisation=supplier_org, role="supplier")

    def buyer_of_its_own(number: int) -> User:
        """A buyer (so a registry scope) per upload: no list meets another's serials."""
        organisation = Organisation.objects.create(name=f"Worst buyer {number}", kind="buyer")
        buyer = User.objects.create_user(f"worst_buyer_{number}", password="x")
        Membership.objects.create(user=buyer, organisation=organisation, role="buyer")
        numbering_rule_save(
            user=buyer, product="05012345678900", prefix="SN", width=10, check_digit="none"
        )
        return buyer

    kinds = {"carton": "carton", "distribution": "distribution"}
    with tempfile.TemporaryDirectory() as directory:
        files = _files(Path(directory), args.rows)
        cases = args.cases.split(",") if args.cases else list(files)
        times: dict[str, list[float]] = {case: [] for case in cases}
        number = 0
        for round_ in range(args.rounds):
            for case in cases:
                number += 1
                buyer = buyer_of_its_own(number)
                order = orders.order_create(
                    user=buyer,
                    supplier=supplier_org,
                    number=f"W-{number}",
                    product_name="x",
                    gtin="05012345678900",
                    quantity=10_000_000,
                    order_date=datetime.date(2026, 1, 1),
                    required_by=datetime.date(2026, 12, 1),
                    status="issued",
                )
                batch = orders.batch_create(
                    order=order, user=buyer, code=f"B{number}", planned_quantity=10_000_000
                )
                upload = SimpleUploadedFile(files[case].name, files[case].read_bytes())
                profiler = cProfile.Profile() if case == args.profile and round_ == 0 else None
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                serial_list = serial_list_upload(
                    batch=batch,
                    user=supplier,
                    uploaded_file=upload,
                    kind=kinds.get(case, "production"),
                )
                if profiler:
                    profiler.disable()
                times[case].append(time.perf_counter() - started)
                serial_list.refresh_from_db()
                if serial_list.status != SerialList.Status.DONE:
                    print(f"{case}: {serial_list.status} {serial_list.error}")
                if profiler:
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    floor = statistics.median(times["plain"]) if "plain" in times else None
    print(f"{'case':<14}{'median s':>10}{'min s':>9}{'× plain':>9}")
    for case, measured in times.items():
        ratio = f"{statistics.median(measured) / floor:.1f}" if floor else "—"
        print(f"{case:<14}{statistics.median(measured):>10.2f}{min(measured):>9.2f}{ratio:>9}")


if __name__ == "__main__":
    main()
