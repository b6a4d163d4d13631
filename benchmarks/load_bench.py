"""Load benchmark (run by hand, not a test): the buyer's pages and single lookups under 20
concurrent clients, each against a trivial authenticated JSON endpoint measured in the same run.

    python benchmarks/load_bench.py [--workers 4] [--clients 20] [--rounds 25] [--keep]

It creates (and afterwards drops, unless ``--keep``) the database ``portal_bench_load``, loads
the demo (``manage.py seed_demo``), and starts gunicorn (``--workers`` sync workers,
``DEBUG=false``; ``benchmarks/bench_settings.py``: static files collected to a scratch
directory) on a free port. No Celery worker runs: the pages and lookups send no jobs, and the
demo's notification jobs go to Redis database 12, flushed at the start and the end.

Each client signs in through the pages as a person would: ``/login/`` with the password, and
for the buyer (who holds a second factor) ``/account/verify/`` with a current code of an
authenticator app set up for the benchmark; the session cookie is kept. Then, in rounds, each
client requests every URL of its set once, in turn (each client starting at another URL, so all
URLs are in flight together), and the latencies are kept per URL (the first round warms up and
is not counted):

* buyer (``--clients`` signed-in buyers): the dashboard, the order list, an order page, a batch
  page, the finance board, and ``GET /api/numbering-rules/`` (the trivial endpoint);
* customer service (``--clients`` signed-in people): the lookup page with one serial, the lookup
  API with one serial, and the same trivial endpoint.

The trivial endpoint: there is no "who am I" endpoint; ``/api/numbering-rules/`` is the
cheapest authenticated API GET (one rule, one query after authentication), through the same
session, middleware and second-factor check as the pages. The figure is p95(URL) / p95(trivial).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from statistics import quantiles
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from upload_bench import _admin_sql  # noqa: E402 - the benchmarks' shared admin connection

REPO = Path(__file__).resolve().parents[1]
DB = "portal_bench_load"
BROKER = "redis://127.0.0.1:6379/12"
PASSWORD = "load-bench-" + secrets.token_hex(8)
SECRET_KEY = secrets.token_urlsafe(50)
AUDIT_KEY = secrets.token_urlsafe(48)
TRIVIAL = "/api/numbering-rules/"
WORK = Path(tempfile.mkdtemp(prefix="load-bench-"))  # MEDIA_ROOT and the anchor file


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        "CELERY_BROKER_URL": BROKER,
        # portal.settings with STATIC_ROOT in WORK (benchmarks/bench_settings.py)
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "BENCH_STATIC_ROOT": str(WORK / "static"),
        "PYTHONPATH": os.pathsep.join([str(REPO / "benchmarks"), str(REPO)]),
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "AUDIT_KEY": AUDIT_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(WORK / "media"),
        "AUDIT_ANCHOR_PATH": str(WORK / "integrity" / "audit-anchor.jsonl"),
        "NUMPY_MADVISE_HUGEPAGE": "0",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One browser: a keep-alive connection (reopened when the server closes it) and cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()  # the server closed the kept-alive connection: reopen
                if attempt:
                    raise
        for header in response.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, dict(response.getheaders()), data

    def csrf(self, path: str) -> str:
        status, _, body = self.request("GET", path)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if status != 200 or not match:
            raise SystemExit(f"no form at {path} ({status})")
        return match.group(1).decode()

    def sign_in(self, username: str, code_for=None) -> None:  # noqa: ANN001
        token = self.csrf("/login/")
        status, headers, body = self.request(
            "POST",
            "/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        if status != 302:
            raise SystemExit(f"{username} could not sign in ({status}): {body[:300]!r}")
        if code_for is not None:
            token = self.csrf("/account/verify/")
            status, headers, body = self.request(
                "POST",
                "/account/verify/",
                {"code": code_for(username), "csrfmiddlewaretoken": token, "next": "/"},
            )
            if status != 302:
                raise SystemExit(f"{username}'s code was refused ({status}): {body[:300]!r}")
        status, _, _ = self.request("GET", TRIVIAL)
        if status != 200:
            raise SystemExit(f"{username} is not through after signing in ({status})")


def _setup() -> dict:
    """The demo, a buyer's authenticator app, the URLs, and one code per sign-in."""
    from django.core.management import call_command
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from orders.models import Batch, PurchaseOrder
    from portal.models import User

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG is off: the manifest
    print(f"static files collected in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    call_command("seed_demo", password=PASSWORD, verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    print(f"demo loaded in {time.perf_counter() - started:.1f} s", flush=True)
    buyer = User.objects.get(username="buyer")
    device = TOTPDevice.objects.create(user=buyer, name="Load bench app", confirmed=True)
    lock = threading.Lock()

    def code_for(username: str) -> str:
        """A current code; each sign-in uses a code once, so the last step used is forgotten
        first (as the tests' ``totp_code`` does), as if each client had its own app."""
        with lock:
            TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
            fresh = TOTPDevice.objects.get(pk=device.pk)
            return f"{TOTP(fresh.bin_key, fresh.step, fresh.t0, fresh.digits).token():06d}"

    order = PurchaseOrder.objects.get(number="2026-0141")
    batch = Batch.objects.get(order=order, code="B1")
    rng = random.Random(20261202)
    serials = [f"VLT{rng.randint(100_001, 106_000):09d}" for _ in range(5000)]
    return {
        "code_for": code_for,
        "buyer_urls": [
            ("dashboard", "/"),
            ("order list", "/orders/"),
            (f"order page ({order.number})", f"/orders/{order.pk}/"),
            (f"batch page ({batch.code})", f"/batches/{batch.pk}/"),
            ("finance board", "/finance/"),
            ("trivial JSON", TRIVIAL),
        ],
        "service_urls": [
            ("lookup page, one serial", "/lookup/?serial={serial}"),
            ("lookup API, one serial", "/api/lookup/?serial={serial}"),
            ("trivial JSON", TRIVIAL),
        ],
        "serials": serials,
    }


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
            # Not /healthz: it pings Celery workers, and this benchmark starts none.
            connection.request("GET", "/login/", headers={"Host": "127.0.0.1"})
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def _phase(
    port: int,
    username: str,
    urls: list[tuple[str, str]],
    clients: int,
    rounds: int,
    serials: list[str],
    code_for=None,  # noqa: ANN001
) -> dict[str, dict[str, float]]:
    """``clients`` signed-in clients, ``rounds`` rounds over ``urls`` each; p50/p95 per URL."""
    signed_in = []
    for _ in range(clients):
        client = Client(port)
        client.sign_in(username, code_for)
        signed_in.append(client)
    latencies: dict[str, list[float]] = {name: [] for name, _ in urls}
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def run(index: int, client: Client) -> None:
        rng = random.Random(index)
        local: dict[str, list[float]] = {name: [] for name, _ in urls}
        barrier.wait()
        for round_ in range(rounds + 1):  # round 0 warms up
            for step in range(len(urls)):
                name, path = urls[(index + step) % len(urls)]
                path = path.format(serial=rng.choice(serials))
                started = time.perf_counter()
                status, _, body = client.request("GET", path)
                took = (time.perf_counter() - started) * 1000
                if status != 200:
                    with lock:
                        errors.append(f"{name} {path}: {status} {body[:200]!r}")
                elif round_:
                    local[name].append(took)
        with lock:
            for name, values in local.items():
                latencies[name].extend(values)

    threads = [threading.Thread(target=run, args=(i, client)) for i, client in enumerate(signed_in)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. {errors[0]}")
    total = sum(len(v) for v in latencies.values())
    print(
        f"{username}: {clients} clients, {rounds} rounds, {total:,} requests counted, "
        f"{total / elapsed:.0f}/s",
        flush=True,
    )
    out = {}
    for name, values in latencies.items():
        cuts = quantiles(values, n=100, method="inclusive")
        out[name] = {"p50": cuts[49], "p95": cuts[94], "count": len(values)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    _admin_sql(f"DROP DATABASE IF EXISTS {DB}")
    _admin_sql(f"CREATE DATABASE {DB}")
    os.environ.update(_env())
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    import redis

    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()  # ours: the demo's notification jobs land here, and nobody takes them
    server = None
    try:
        data = _setup()
        port = _free_port()
        server = _start_gunicorn(port, args.workers)
        phases = [
            (
                "buyer",
                _phase(
                    port,
                    "buyer",
                    data["buyer_urls"],
                    args.clients,
                    args.rounds,
                    data["serials"],
                    data["code_for"],
                ),
            ),
            (
                "service",
                _phase(
                    port,
                    "service",
                    data["service_urls"],
                    args.clients,
                    args.rounds,
                    data["serials"],
                ),
            ),
        ]
        print()
        print(
            f"| {args.clients} concurrent clients, gunicorn {args.workers} sync workers, "
            "DEBUG=false | p50 | p95 | p95 / p95(trivial) |"
        )
        print("| --- | --- | --- | --- |")
        for who, figures in phases:
            trivial = figures["trivial JSON"]["p95"]
            for name, figure in figures.items():
                label = f"{who}: {name}" + (f" (`{TRIVIAL}`)" if name == "trivial JSON" else "")
                print(
                    f"| {label} | {figure['p50']:.1f} ms | {figure['p95']:.1f} ms | "
                    f"{'' if name == 'trivial JSON' else '**'}{figure['p95'] / trivial:.2f}"
                    f"{'' if name == 'trivial JSON' else '**'} |"
                )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        broker.flushdb()
        if not args.keep:
            _admin_sql(f"DROP DATABASE IF EXISTS {DB}")
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
