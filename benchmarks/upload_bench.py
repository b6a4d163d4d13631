"""End-to-end benchmark (run by hand, not a test): upload 1 million serials through the API and
wait until the report is ready, with one Celery worker, PostgreSQL and Redis.

    python benchmarks/upload_bench.py [--rows 1000000] [--rounds 3]

It creates (and afterwards drops) the database ``portal_bench`` on the local PostgreSQL, starts
gunicorn and one worker, and times: POST /api/batches/{id}/serial-lists/ → 202 → polling
GET /api/serial-lists/{id}/ every 20 ms until ``status`` is ``done``. Target: under 5 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[1]
DB = "portal_bench"
PORT = 8765
BROKER = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")


def _admin_sql(sql: str) -> None:
    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        "CELERY_BROKER_URL": BROKER,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "NUMPY_MADVISE_HUGEPAGE": "0",
    }


SETUP = """
import datetime, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from portal.models import Organisation, Membership, User
from orders import services
from serials.services import numbering_rule_save
from accounts.models import ApiToken
buyer_org = Organisation.objects.create(name="Bench buyer", kind="buyer")
supplier_org = Organisation.objects.create(name="Bench supplier", kind="supplier")
buyer = User.objects.create_user("bench_buyer", password="x")
supplier = User.objects.create_user("bench_supplier", password="x")
Membership.objects.create(user=buyer, organisation=buyer_org, role="buyer")
Membership.objects.create(user=supplier, organisation=supplier_org, role="supplier")
order = services.order_create(user=buyer, supplier=supplier_org, number="B-1", product_name="x",
    gtin="05012345678900", quantity=10_000_000, order_date=datetime.date(2026, 1, 1),
    required_by=datetime.date(2026, 12, 1), status="issued")
batch = services.batch_create(order=order, user=buyer, code="B1", planned_quantity=10_000_000)
numbering_rule_save(user=buyer, product="05012345678900", prefix="SN", width=10, check_digit="none")
print(batch.pk, ApiToken.objects.create(user=supplier, name="upload bench")[1])
"""


def _multipart(path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nproduction\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), boundary


def _request(method: str, url: str, token: str, body: bytes = b"", ctype: str = "") -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1"}
    if ctype:
        headers["Content-Type"] = ctype
    connection.request(method, url, body=body or None, headers=headers)
    response = connection.getresponse()
    data = json.loads(response.read() or b"{}")
    connection.close()
    if response.status >= 400:
        raise SystemExit(f"{method} {url} answered {response.status}: {data}")
    return data


def _wait_for_server() -> None:
    for _ in range(200):
        try:
            http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/healthz")
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    _admin_sql(f"DROP DATABASE IF EXISTS {DB}")
    _admin_sql(f"CREATE DATABASE {DB}")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        out = subprocess.run(
            [sys.executable, "-c", SETUP],
            cwd=REPO,
            env=_env(),
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        batch_id, token = out[-2], out[-1]
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "serials-1m.csv"
            # A realistic list: ascending, a gap every 5,000 units, a duplicate every 20,000.
            lines = ["serial"]
            for i in range(1, args.rows + 1):
                if i % 5000 != 0:
                    lines.append(f"SN{i:010d}")
                if i % 20000 == 0:
                    lines.append(f"SN{i - 1:010d}")
            path.write_text("\n".join(lines) + "\n")
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "portal",
                        "worker",
                        "--pool",
                        "solo",
                        "--loglevel",
                        "WARNING",
                        "--without-gossip",
                        "--without-mingle",
                    ],
                    cwd=REPO,
                    env=_env(),
                )
            )
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "portal.wsgi:application",
                        "--bind",
                        f"127.0.0.1:{PORT}",
                        "--workers",
                        "2",
                        "--log-level",
                        "warning",
                    ],
                    cwd=REPO,
                    env=_env(),
                )
            )
            _wait_for_server()
            time.sleep(3)  # let the worker connect
            body, boundary = _multipart(path)
            size_mb = len(body) / 1e6
            totals, uploads = [], []
            for round_ in range(args.rounds):
                started = time.perf_counter()
                queued = _request(
                    "POST",
                    f"/api/batches/{batch_id}/serial-lists/",
                    token,
                    body,
                    f"multipart/form-data; boundary={boundary}",
                )
                accepted = time.perf_counter()
                while True:
                    state = _request("GET", f"/api/serial-lists/{queued['id']}/", token)
                    if state["status"] in ("done", "failed"):
                        break
                    time.sleep(0.02)
                finished = time.perf_counter()
                if state["status"] != "done":
                    raise SystemExit(f"the job failed: {state['error']}")
                totals.append(finished - started)
                uploads.append(accepted - started)
                report = state["report"]
                print(
                    f"round {round_ + 1}: {finished - started:.2f} s total "
                    f"({accepted - started:.2f} s upload → 202); rows {report['rows']:,}, "
                    f"missing {report['missing_count']:,}, duplicates {report['duplicate_count']:,}"
                )
        print()
        print(f"| measure ({args.rows:,} serials, {size_mb:.0f} MB, one worker) | median |")
        print("| --- | --- |")
        print(f"| upload → 202 | {statistics.median(uploads):.2f} s |")
        print(f"| upload → report ready | {statistics.median(totals):.2f} s (target < 5 s) |")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        _admin_sql(f"DROP DATABASE IF EXISTS {DB}")


if __name__ == "__main__":
    main()
