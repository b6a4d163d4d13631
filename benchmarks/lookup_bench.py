"""Customer-service lookup benchmark (run by hand, not a test): single lookups under load and a
bulk lookup of 100,000 serials, against gunicorn on PostgreSQL with about a million registered
serials.

    python benchmarks/lookup_bench.py [--fresh] [--workers 2] [--clients 20] [--requests 4000]
                                      [--rounds 2]

The dataset lives in its own database, named after ``DATABASE_URL``'s with ``_lookup_bench``
appended (``portal_lookup_bench`` by default); it is created, migrated and seeded through the
portal's own services on the first run and reused afterwards (``--fresh`` rebuilds it, ``--drop``
drops it at the end). Seeded: 4 orders × 2 batches of 125,000 serials (1,000,000), each
production list with a carton column and a distribution list (customer, shipment date), gaps
every ~1,000 serials, a few duplicates, 100 serials reused by the last batch from the first,
half the batches accepted after their exceptions were answered and decided (some missing ranges
declared destroyed), and an inspection sample per batch with some units found defective.

Measured, with gunicorn (``--workers``, sync) serving ``DEBUG=false`` on a free port:

(a) single lookups: ``--clients`` threads each send ``GET /api/lookup/?serial=...`` with a token
    in a closed loop (a mix of registered, unknown, missing, GS1 element strings and Digital
    Link URLs) → p50 / p95 / p99 latency and throughput. Target: p95 < 50 ms at 20 clients.
(b) bulk: ``POST /api/lookup/bulk/`` with 100,000 serials (JSON in, JSON out). Target < 10 s.
    Measured alternately with two peers on the same 100,000 serials:
    * naive ORM: one ORM query per serial (run → batch → order), in this process;
    * SQL floor: COPY the serials into a temporary table and join them with the placements and
      the registry's runs in one statement (what the database alone needs to find them).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from statistics import median, quantiles
from urllib.parse import quote, urlparse

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from upload_bench import _admin_sql  # noqa: E402 - the benchmarks' shared admin connection

REPO = Path(__file__).resolve().parents[1]
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal")
DB = (urlparse(BASE_URL).path.lstrip("/") or "portal") + "_lookup_bench"
GTIN = "05012345678900"
ORDERS, BATCHES_PER_ORDER, PER_BATCH = 4, 2, 125_000
# One key for this process and the gunicorn it starts (sessions are not used: tokens are).
SECRET_KEY = os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50)
AUDIT_KEY = os.environ.get("BENCH_AUDIT_KEY") or secrets.token_urlsafe(48)


def _bench_url() -> str:
    parsed = urlparse(BASE_URL)
    return parsed._replace(path=f"/{DB}").geturl()


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": _bench_url(),
        "CELERY_BROKER_URL": "",  # eager: seeding validates in-process; lookups send nothing
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "AUDIT_KEY": AUDIT_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "NUMPY_MADVISE_HUGEPAGE": "0",
    }


def _database_exists() -> bool:
    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB])
        found = cursor.fetchone() is not None
    connection.close()
    return found


# ---------------------------------------------------------------- the dataset


def _serial(counter: int) -> str:
    return f"VLT{counter:09d}"


def _seed() -> None:
    """Build the dataset through the portal's services, as suppliers and buyers would."""
    import datetime

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from inspection.models import InspectionPlan, SampledUnit, UnitResult
    from orders import services as order_services
    from portal.models import Membership, Organisation, User
    from serials import services
    from serials.models import SerialException

    call_command("migrate", verbosity=0)
    rng = random.Random(20261124)
    buyer_org = Organisation.objects.create(name="Bench buyer", kind="buyer")
    supplier_org = Organisation.objects.create(name="Bench supplier", kind="supplier")
    people = {}
    for username, organisation, role in [
        ("bench_buyer", buyer_org, "buyer"),
        ("bench_supplier", supplier_org, "supplier"),
        ("bench_service", buyer_org, "customer_service"),
    ]:
        people[username] = User.objects.create_user(username, password=secrets.token_hex(16))
        Membership.objects.create(user=people[username], organisation=organisation, role=role)
    buyer, supplier = people["bench_buyer"], people["bench_supplier"]
    services.numbering_rule_save(
        user=buyer, product=GTIN, prefix="VLT", width=9, warranty_months=24
    )
    counter = 100_000_001
    batches = []
    for order_number in range(1, ORDERS + 1):
        order = order_services.order_create(
            user=buyer,
            supplier=supplier_org,
            number=f"PO-BENCH-{order_number}",
            product_name="Volta 65W charger",
            gtin=GTIN,
            quantity=PER_BATCH * BATCHES_PER_ORDER * 2,
            order_date=datetime.date(2026, order_number, 1),
            required_by=datetime.date(2026, order_number + 2, 1),
            status="issued",
        )
        for batch_number in range(1, BATCHES_PER_ORDER + 1):
            batch = order_services.batch_create(
                order=order,
                user=buyer,
                code=f"B{order_number}{batch_number}",
                planned_quantity=PER_BATCH,
            )
            first = counter
            counter += PER_BATCH + PER_BATCH // 1000  # room for the gaps
            batches.append((batch, first, counter - 1))
    first_batch_serials: list[int] = []
    for index, (batch, first, last) in enumerate(batches):
        counters = [c for c in range(first, last + 1) if rng.random() > 0.001]
        counters = counters[:PER_BATCH]
        if index == 0:
            first_batch_serials = counters
        if index == len(batches) - 1:  # a relabelled repair batch reusing the first's labels
            counters = sorted(set(counters[:-100]) | set(first_batch_serials[500:600]))
        duplicates = rng.sample(counters, 20)
        rows = ["serial,carton"] + [
            f"{_serial(c)},CTN-{batch.code}-{i // 50:05d}" for i, c in enumerate(counters)
        ]
        rows += [f"{_serial(c)},CTN-{batch.code}-DUP" for c in duplicates]
        serial_list = services.serial_list_upload(
            batch=batch,
            user=supplier,
            uploaded_file=SimpleUploadedFile(
                f"{batch.code}-production.csv", ("\n".join(rows) + "\n").encode()
            ),
        )
        services.serial_list_validate(serial_list_id=serial_list.pk)
        serial_list.refresh_from_db()
        assert serial_list.status == "done", serial_list.error
        shipped = datetime.date(2026, 3, 1) + datetime.timedelta(days=index * 20)
        rows = ["serial,customer_reference,shipped_on"] + [
            f"{_serial(c)},CUST-{rng.randrange(1, 5000):05d},{shipped.isoformat()}"
            for c in counters
        ]
        distribution = services.serial_list_upload(
            batch=batch,
            user=supplier,
            uploaded_file=SimpleUploadedFile(
                f"{batch.code}-shipped.csv", ("\n".join(rows) + "\n").encode()
            ),
            kind="distribution",
        )
        services.serial_list_validate(serial_list_id=distribution.pk)
        plan = InspectionPlan.objects.create(
            batch=batch,
            serial_list=serial_list,
            level="II",
            aql="1.0",
            lot_size=len(counters),
            code_letter="N",
            plan_letter="N",
            sample_size=200,
            accept=3,
            reject=4,
            seed=index,
            created_by=buyer,
        )
        for position, c in enumerate(rng.sample(counters, 200), start=1):
            unit = SampledUnit.objects.create(plan=plan, position=position, serial=_serial(c))
            UnitResult.objects.create(
                unit=unit,
                method="scanned",
                label_text=_serial(c),
                read_serial=_serial(c),
                matches=True,
                defective=position % 40 == 0,
                defects="Label peeling" if position % 40 == 0 else "",
                recorded_by=buyer,
            )
        if index % 2 == 0:  # half the batches: everything explained, accepted, registered
            open_ = list(SerialException.objects.filter(serial_list=serial_list))
            services.exception_answer(
                exceptions=open_, user=supplier, reason="destroyed", note="Scrapped at test."
            )
            services.exception_decide(
                exceptions=open_, user=buyer, decision="accepted", promises=["identity"]
            )
            services.batch_serials_accept(batch=batch, user=buyer)


def _dataset() -> dict[str, object]:
    """The seeded dataset's token and sample serials (seeding it first if needed)."""
    from django.db import connection

    from accounts.models import ApiToken
    from portal.models import User
    from serials.models import SerialException, SerialPlacement, SerialRun

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('serials_serialplacement') IS NOT NULL")
        ready = cursor.fetchone()[0] and User.objects.filter(username="bench_service").exists()
    if not ready:
        print("seeding the dataset (about 1,000,000 serials; a few minutes, once)…", flush=True)
        started = time.perf_counter()
        _seed()
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    # Only a token's hash is stored (django-rest-knox): each run makes its own.
    _, token = ApiToken.objects.create(
        user=User.objects.get(username="bench_service"), name="lookup bench"
    )
    runs = list(SerialRun.objects.values_list("lo", "hi"))
    registered = sum(hi - lo + 1 for lo, hi in runs)
    missing = list(
        SerialException.objects.filter(kind="missing", lo__isnull=False).values_list(
            "lo", flat=True
        )
    )
    print(
        f"dataset: {registered:,} registered serials in {len(runs):,} runs, "
        f"{SerialPlacement.objects.count():,} placements, {len(missing):,} missing ranges",
        flush=True,
    )
    return {"token": token, "runs": runs, "missing": missing}


def _inputs(data: dict, count: int, seed: int) -> list[str]:
    """A customer-service mix: mostly registered serials typed plainly, some scanned as GS1
    element strings or Digital Link URLs, some unknown, some from missing ranges."""
    rng = random.Random(seed)
    runs, missing = data["runs"], data["missing"]
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.05:
            serial = _serial(rng.randrange(900_000_000, 999_999_999))  # nobody's
        elif roll < 0.08 and missing:
            serial = _serial(rng.choice(missing))
        else:
            lo, hi = rng.choice(runs)
            serial = _serial(rng.randint(lo, hi))
        form = rng.random()
        if form < 0.05:
            out.append(f"(01){GTIN}(21){serial}")
        elif form < 0.10:
            out.append(f"https://id.gs1.org/01/{GTIN}/21/{serial}")
        else:
            out.append(serial)
    return out


# ---------------------------------------------------------------- the server and the clients


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_gunicorn(port: int, workers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=_env(),
    )
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def _get(port: int, path: str, token: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "GET", path, headers={"Authorization": f"Token {token}", "Host": "127.0.0.1"}
    )
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def _post_json(port: int, path: str, token: str, payload: object) -> tuple[int, bytes]:
    body = json.dumps(payload).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.request(
        "POST",
        path,
        body=body,
        headers={
            "Authorization": f"Token {token}",
            "Host": "127.0.0.1",
            "Content-Type": "application/json",
        },
    )
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    return response.status, answer


def _single_lookups(port: int, token: str, texts: list[str], clients: int) -> dict[str, float]:
    """``clients`` threads in a closed loop over ``texts``; latencies in milliseconds."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    share = [texts[i::clients] for i in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def client(mine: list[str]) -> None:
        barrier.wait()
        local = []
        for text in mine:
            started = time.perf_counter()
            status, body = _get(port, f"/api/lookup/?serial={quote(text, safe='')}", token)
            local.append((time.perf_counter() - started) * 1000)
            if status != 200:
                with lock:
                    errors.append(f"{status} {body[:200]!r}")
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=client, args=(mine,)) for mine in share]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} lookups failed, e.g. {errors[0]}")
    cuts = quantiles(latencies, n=100, method="inclusive")
    return {
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "throughput": len(latencies) / elapsed,
        "count": len(latencies),
    }


# ---------------------------------------------------------------- the peers


def _naive_orm(texts: list[str]) -> float:
    """One ORM query per serial: which run (batch, order) holds it. Less than the lookup does
    (no placements, exceptions or samples), so the ratio flatters the peer."""
    from serials.models import SerialRun

    scope = SerialRun.objects.values_list("scope", flat=True).first()
    started = time.perf_counter()
    for text in texts:
        serial = text.rsplit("/", 1)[-1].rsplit(")", 1)[-1]
        counter = int(serial[3:])
        SerialRun.objects.filter(scope=scope, lo__lte=counter, hi__gte=counter).select_related(
            "batch__order"
        ).first()
    return time.perf_counter() - started


def _sql_floor(texts: list[str]) -> float:
    """COPY the serials into a temporary table and join them with placements and runs."""
    import io

    url = urlparse(_bench_url())
    serials = [text.rsplit("/", 1)[-1].rsplit(")", 1)[-1] for text in texts]
    started = time.perf_counter()
    connection = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username or "postgres", dbname=DB
    )
    with connection, connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE wanted (serial text, counter bigint)")
        buffer = io.StringIO("".join(f"{s}\t{int(s[3:])}\n" for s in serials))
        cursor.copy_expert("COPY wanted FROM STDIN", buffer)
        cursor.execute(
            """
            SELECT w.serial, r.batch_id, p.carton, p.customer_reference, p.shipped_on
            FROM wanted w
            LEFT JOIN serials_serialrun r
              ON r.scope = (SELECT scope FROM serials_serialrun LIMIT 1)
             AND r.lo <= w.counter AND r.hi >= w.counter
            LEFT JOIN serials_serialplacement p
              ON p.scope = r.scope AND p.serial = w.serial AND p.batch_id = r.batch_id
            """
        )
        cursor.fetchall()
    connection.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="rebuild the dataset")
    parser.add_argument("--drop", action="store_true", help="drop the dataset at the end")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--bulk", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()

    if args.fresh:
        _admin_sql(f"DROP DATABASE IF EXISTS {DB}")
    if not _database_exists():
        _admin_sql(f"CREATE DATABASE {DB}")
    os.environ.update(_env())
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    data = _dataset()
    token = data["token"]
    port = _free_port()
    server = _start_gunicorn(port, args.workers)
    try:
        warm = _inputs(data, 400, seed=1)
        _single_lookups(port, token, warm, args.clients)  # warm caches and connections
        single = _single_lookups(port, token, _inputs(data, args.requests, seed=2), args.clients)
        print(
            f"single lookups ({single['count']:,}): p50 {single['p50']:.1f} ms, "
            f"p95 {single['p95']:.1f} ms, p99 {single['p99']:.1f} ms, "
            f"{single['throughput']:.0f} lookups/s",
            flush=True,
        )
        texts = _inputs(data, args.bulk, seed=3)
        ours, naive, floor = [], [], []
        for round_ in range(args.rounds):
            started = time.perf_counter()
            status, body = _post_json(port, "/api/lookup/bulk/", token, {"serials": texts})
            ours.append(time.perf_counter() - started)
            if status != 200:
                raise SystemExit(f"bulk lookup answered {status}: {body[:300]!r}")
            results = json.loads(body)
            counts: dict[str, int] = {}
            for result in results:
                counts[result["status"]] = counts.get(result["status"], 0) + 1
            print(
                f"round {round_ + 1}: bulk {len(results):,} in {ours[-1]:.2f} s {counts}",
                flush=True,
            )
            if not args.skip_peers:
                naive.append(_naive_orm(texts))
                print(f"round {round_ + 1}: naive ORM peer {naive[-1]:.2f} s", flush=True)
                floor.append(_sql_floor(texts))
                print(f"round {round_ + 1}: SQL floor {floor[-1]:.2f} s", flush=True)
        table = [
            (
                f"single lookup p50 / p95 / p99, {args.clients} clients, {args.workers} workers",
                f"{single['p50']:.1f} / {single['p95']:.1f} / {single['p99']:.1f} ms",
            ),
            ("single lookups per second", f"{single['throughput']:.0f}"),
            (f"bulk lookup of {args.bulk:,} via the API (median)", f"{median(ours):.2f} s"),
        ]
        if naive:
            table += [
                ("naive ORM peer, one query per serial (median)", f"{median(naive):.2f} s"),
                ("SQL floor: COPY + one join (median)", f"{median(floor):.2f} s"),
                ("ratio bulk / naive ORM", f"{median(ours) / median(naive):.3f}"),
                ("ratio bulk / SQL floor", f"{median(ours) / median(floor):.1f}"),
            ]
        print()
        print("| measure (dataset: ~1,000,000 registered serials) | result |")
        print("| --- | --- |")
        for measure, result in table:
            print(f"| {measure} | {result} |")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.drop:
            from django.db import connections

            connections.close_all()
            _admin_sql(f"DROP DATABASE IF EXISTS {DB}")


if __name__ == "__main__":
    main()
