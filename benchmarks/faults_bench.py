"""Fault benchmark (run by hand, not a test): killed workers, duplicated task messages and a gate
released by 50 people at once, on the real stack (PostgreSQL, Redis, Celery workers).

    python benchmarks/faults_bench.py [--kills 20] [--rows 60000] [--controls 3] [--releases 50]
                                      [--keep]

It creates (and afterwards drops, unless ``--keep``) the database ``portal_bench_faults`` and
uses Redis database 11 (flushed at the start), a scratch MEDIA_ROOT, anchor file and file-based
mail directory of its own. Exits 1 if an invariant fails.

(a) ``--kills`` serial lists (quoted CSV with a carton column: the careful path, and placements
    written with the result), one per product so no list sees another's serials. Each list's
    worker is SIGKILLed while the list is ``running`` (at the claim, inside the engine, or in the
    result's transaction, in turn); a fresh worker takes the redelivered message. Each list is
    killed once (``SERIAL_LIST_MAX_ATTEMPTS`` stays 3). Asserted per list: ``done``, attempts 2,
    one ``serial_list.validated`` audit event and no ``serial_list.failed``, one notification
    per recipient, and report JSON, exceptions, runs and placements identical to those of the
    same file validated undisturbed (``--controls`` lists of products of their own, validated
    in this process, which must agree with each other) and to the engine's.
(b) Three workers; each task is sent three times at once (the same task id and arguments, three
    messages). Asserted once: a list's result (attempts, audit event, exceptions, placements,
    notification, email), an evidence item's processing (one thumbnail file), a notification
    job's rows, audit events and emails, the stuck-list reconciler's re-sent validation. The beat
    tasks (checkpoint, verification) have no arguments to deduplicate on: their lines are shown.
(c) ``--releases`` threads, each with its own database connection, release one gate through the
    service at once (``approvals.services.gate_release``, a command factor): exactly one
    ``GateRelease`` row and one ``gate.released`` event; every other caller gets a Conflict.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from upload_bench import _admin_sql  # noqa: E402 - the benchmarks' shared admin connection

REPO = Path(__file__).resolve().parents[1]
DB = "portal_bench_faults"
BROKER = "redis://127.0.0.1:6379/11"
WORK = Path(tempfile.mkdtemp(prefix="faults-bench-"))
MAIL = WORK / "mail"
# Short broker and lease timeouts for (a), so a killed worker's message comes back in seconds.
QUICK = {
    "CELERY_VISIBILITY_TIMEOUT": "4",
    "CELERY_RESTORE_INTERVAL": "1",
    "CELERY_RESTORE_THROTTLE": "1",
    "SERIAL_LIST_LEASE_SECONDS": "2",
}
PHASES = ("claimed", "engine", "result transaction")
FAILURES: list[str] = []
BUYERS = 3  # the buyer's people told of a serial report or new evidence (notifications)


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        "CELERY_BROKER_URL": BROKER,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "MEDIA_ROOT": str(WORK / "media"),
        "AUDIT_ANCHOR_PATH": str(WORK / "integrity" / "audit-anchor.jsonl"),
        "EMAIL_URL": f"filemail:///{MAIL}",  # four slashes: an absolute path
        "LOG_LEVEL": "WARNING",
        "NUMPY_MADVISE_HUGEPAGE": "0",
    }


def check(ok: bool, what: str) -> bool:
    if not ok:
        FAILURES.append(what)
        print(f"  FAILED: {what}", flush=True)
    return ok


class Worker:
    """A solo Celery worker on the bench database; ``start`` waits for its ready file."""

    def __init__(self, **env: str) -> None:
        self.hostname = f"faults-{uuid.uuid4().hex[:8]}@localhost"
        self.ready = WORK / f"{self.hostname}.ready"
        self.env = {**_env(), **env, "CELERY_WORKER_READY_FILE": str(self.ready)}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        log = open(WORK / "workers.log", "ab")  # noqa: SIM115 - the worker keeps it open
        self.process = subprocess.Popen(
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
                "--hostname",
                self.hostname,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + 120
        while not self.ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"a Celery worker did not start; see {WORK / 'workers.log'}")
            time.sleep(0.02)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


def _wait(condition, what: str, timeout: float = 120.0, every: float = 0.01):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(every)


def _redis():  # noqa: ANN202
    import redis

    return redis.Redis.from_url(BROKER)


def _broker_quiet(client, quiet: float = 1.5, timeout: float = 120.0) -> None:  # noqa: ANN001
    """Every message sent so far delivered and acknowledged (acks are late: after the task), and
    nothing new for ``quiet`` seconds (jobs a task sends on commit)."""
    deadline = time.monotonic() + timeout
    calm_since = None
    while time.monotonic() < deadline:
        busy = client.llen("celery") + client.hlen("unacked")
        if busy:
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= quiet:
            return
        time.sleep(0.05)
    raise SystemExit("the broker did not go quiet")


# ---------------------------------------------------------------- data


def _csv(rows: int, seed: int) -> bytes:
    """Quoted ``serial,carton`` rows: a gap every 1,000 counters and a few duplicates."""
    rng = random.Random(seed)
    counters = [i for i in range(1, rows + 1) if i % 1000 != 7]
    counters += rng.sample(counters, 25)
    lines = ['"serial","carton"']
    lines += [f'"FB{c:09d}","CTN-{c // 200:05d}"' for c in counters]
    return ("\n".join(lines) + "\n").encode()


def _setup(kills: int, controls: int) -> dict:
    from django.core.management import call_command

    from orders import services as order_services
    from portal.models import Membership, Organisation, Role, User
    from serials.services import numbering_rule_save

    call_command("migrate", verbosity=0)
    buyer_org = Organisation.objects.create(name="Faults buyer", kind="buyer")
    supplier_org = Organisation.objects.create(name="Faults supplier", kind="supplier")
    people = {}
    for username, organisation, role in [
        ("fb_buyer", buyer_org, Role.BUYER),
        ("fb_buyer2", buyer_org, Role.BUYER),
        ("fb_buyer3", buyer_org, Role.BUYER),
        ("fb_finance", buyer_org, Role.FINANCE),
        ("fb_admin", buyer_org, Role.ADMIN),
        ("fb_supplier", supplier_org, Role.SUPPLIER),
    ]:
        people[username] = User.objects.create_user(
            username, email=f"{username}@example.com", password=secrets.token_hex(16)
        )
        Membership.objects.create(user=people[username], organisation=organisation, role=role)
    buyer = people["fb_buyer"]

    def batch_for(sku: str):  # noqa: ANN202
        numbering_rule_save(user=buyer, product=sku, prefix="FB", width=9, check_digit="none")
        order = order_services.order_create(
            user=buyer,
            supplier=supplier_org,
            number=f"PO-{sku}",
            product_name=f"Faults bench {sku}",
            sku=sku,
            quantity=10_000_000,
            order_date=datetime.date(2026, 1, 1),
            required_by=datetime.date(2026, 12, 1),
            status="issued",
        )
        return order_services.batch_create(
            order=order, user=buyer, code="B1", planned_quantity=10_000_000
        )

    return {
        "people": people,
        "killed": [batch_for(f"KILL-{i:02d}") for i in range(kills)],
        "control": [batch_for(f"CTRL-{i:02d}") for i in range(controls)],
        "dup": batch_for("DUP-LIST"),
        "stuck": batch_for("DUP-STUCK"),
        "gate_batch": batch_for("GATE"),
    }


def _upload(batch, content: bytes, name: str, user):  # noqa: ANN001, ANN202
    from django.core.files.uploadedfile import SimpleUploadedFile

    from serials.services import serial_list_upload

    return serial_list_upload(
        batch=batch, user=user, uploaded_file=SimpleUploadedFile(name, content)
    )


def _outcome(serial_list_id: int) -> dict:
    """What a validated list left behind."""
    from portal.models import AuditEvent, Notification
    from serials.models import SerialList, SerialPlacement, SerialRun

    serial_list = SerialList.objects.get(pk=serial_list_id)
    events = AuditEvent.objects.filter(object_type="serials.SerialList", object_id=serial_list_id)
    validated = list(events.filter(action="serial_list.validated").values_list("pk", flat=True))
    return {
        "status": serial_list.status,
        "attempts": serial_list.attempts,
        "error": serial_list.error,
        "report": json.dumps(serial_list.report, sort_keys=True),
        "exceptions": sorted(
            serial_list.exceptions.values_list("kind", "lo", "hi", "serial", "count")
        ),
        "runs": sorted(SerialRun.objects.filter(serial_list=serial_list).values_list("lo", "hi")),
        "placements": SerialPlacement.objects.filter(serial_list=serial_list).count(),
        "validated_events": len(validated),
        "failed_events": events.filter(action="serial_list.failed").count(),
        "notifications": Notification.objects.filter(event_id__in=validated).count(),
        "validated_ids": validated,
    }


def _brief(got: dict) -> dict:
    """The outcome without its long parts, for messages."""
    return {
        key: (value if key not in ("report", "exceptions", "runs") else len(value))
        for key, value in got.items()
    }


def _same_result(got: dict, want: dict) -> bool:
    return all(got[key] == want[key] for key in ("report", "exceptions", "runs", "placements"))


def _emails_for(event_id: int) -> int:
    """Emails written by the file backend that name this audit event."""
    if not MAIL.exists():
        return 0
    # Django's file backend names a file by the second and the backend's id(): two emails sent
    # within one second may share a file, so count the emails, not the files.
    marker = f"(audit event #{event_id})."
    return sum(path.read_text(errors="replace").count(marker) for path in MAIL.iterdir())


# ---------------------------------------------------------------- (a) killed workers


def _worker_in_result_transaction() -> bool:
    """A session of the bench database other than ours is inside a transaction that has written
    (the result's: runs, exceptions, placements by COPY)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )
        return cursor.fetchone()[0] > 0


def killed_workers(data: dict, rows: int, client) -> dict:  # noqa: ANN001
    from django.db import connection

    from serials import engine
    from serials.models import SerialList
    from serials.services import serial_list_validate

    supplier = data["people"]["fb_supplier"]
    content = _csv(rows, seed=1)
    path = WORK / "list.csv"
    path.write_bytes(content)
    expected = engine.validate_file(path, engine.NumberingRule("FB", 9)).to_json()

    # The controls: the same file, each in a product of its own, validated undisturbed.
    print(f"(a) controls: {len(data['control'])} lists of {rows:,} rows, undisturbed", flush=True)
    controls, control_times = [], []
    for batch in data["control"]:
        serial_list = _upload(batch, content, "list.csv", supplier)
        client.flushdb()  # the upload's message: the control is validated here, in process
        started = time.perf_counter()
        serial_list_validate(serial_list_id=serial_list.pk)
        control_times.append(time.perf_counter() - started)
        controls.append(_outcome(serial_list.pk))
    client.flushdb()  # the notifications the controls sent
    reference = controls[0]
    report = json.loads(reference["report"])
    check(all(_same_result(c, reference) for c in controls), "the undisturbed controls all agree")
    check(
        {key: report[key] for key in expected} == expected and report["reused_count"] == 0,
        "the control's report is the engine's",
    )
    print(
        f"    one undisturbed validation: {sorted(control_times)[len(control_times) // 2]:.2f} s"
        f" (median); {report['missing_count']} missing, {report['duplicate_count']} duplicates,"
        f" {reference['placements']:,} placements",
        flush=True,
    )

    print(f"(a) {len(data['killed'])} lists, each worker SIGKILLed mid-job", flush=True)
    phases: Counter[str] = Counter()
    identical = done_once = 0
    recoveries = []
    started_all = time.perf_counter()
    worker = Worker(**QUICK).start()
    workers = [worker]
    try:
        for index, batch in enumerate(data["killed"]):
            phase = PHASES[index % len(PHASES)]
            serial_list = _upload(batch, content, "list.csv", supplier)
            queued = SerialList.objects.filter(pk=serial_list.pk)

            def running(queued=queued) -> bool:  # noqa: ANN001
                return queued.filter(status="running").exists()

            _wait(running, "the worker to claim the list")
            if phase == "engine":
                _wait(lambda q=queued: q.filter(progress__gte=30).exists(), "the engine")
            elif phase == "result transaction":
                _wait(lambda q=queued: q.filter(progress=90).exists(), "the engine's end")
                _wait(_worker_in_result_transaction, "the result's transaction", every=0.002)
            still_running = queued.filter(status="running").exists()
            worker.kill()
            killed_at = time.perf_counter()
            if not check(still_running, f"list {index + 1} was running when its worker died"):
                continue
            phases[phase] += 1
            worker = Worker(**QUICK).start()
            workers.append(worker)
            _wait(
                lambda q=queued: q.filter(status__in=["done", "failed"]).exists(),
                "the redelivered job",
            )
            recoveries.append(time.perf_counter() - killed_at)
            # The notification job the result sent, on its way.
            _wait(
                lambda pk=serial_list.pk: _outcome(pk)["notifications"] >= BUYERS,
                "the report's notification",
                timeout=30,
            )
            got = _outcome(serial_list.pk)
            once = (
                got["status"] == "done"
                and got["attempts"] == 2
                and got["validated_events"] == 1
                and got["failed_events"] == 0
                and got["notifications"] == BUYERS
                and _emails_for(got["validated_ids"][0]) == BUYERS
            )
            emails = _emails_for(got["validated_ids"][0]) if got["validated_ids"] else 0
            done_once += check(
                once, f"list {index + 1} ({phase}) done once: {_brief(got)}, emails {emails}"
            )
            identical += check(
                _same_result(got, reference), f"list {index + 1} ({phase}): the same report"
            )
    finally:
        for each in workers:
            each.stop()
    connection.close()
    elapsed = time.perf_counter() - started_all
    kills = sum(phases.values())
    print(
        f"    kills {kills} ({dict(phases)}), done once {done_once}/{len(data['killed'])}, "
        f"identical reports {identical}/{len(data['killed'])}, {elapsed:.0f} s in all; "
        f"kill → done {sorted(recoveries)[len(recoveries) // 2]:.1f} s median, "
        f"{max(recoveries):.1f} s max",
        flush=True,
    )
    return {
        "kills": kills,
        "phases": dict(phases),
        "lists": len(data["killed"]),
        "done_once": done_once,
        "identical": identical,
        "elapsed": elapsed,
        "recovery_median": sorted(recoveries)[len(recoveries) // 2],
        "recovery_max": max(recoveries),
        "rows": rows,
        "control_median": sorted(control_times)[len(control_times) // 2],
    }


# ---------------------------------------------------------------- (b) duplicated messages


def _jpeg(seed: int) -> bytes:
    """A 3,000 × 2,000 noisy photo (slow enough to thumbnail that three runs overlap)."""
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 255, (2000, 3000, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _send_three(name: str, *args: int) -> None:
    """The same message three times at once: one task id, three publishes from three threads."""
    from portal.celery import app

    task_id = str(uuid.uuid4())
    barrier = threading.Barrier(3)

    def send() -> None:
        barrier.wait()
        app.send_task(name, args=list(args), task_id=task_id)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def duplicated_messages(data: dict, rows: int, client) -> list[tuple[str, str, str, bool]]:  # noqa: ANN001
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.utils import timezone

    from evidence.models import EvidenceItem
    from evidence.services import evidence_upload
    from portal.anchors import anchor_path, verify_log_path
    from portal.models import AuditEvent, Notification
    from serials.models import SerialList

    people = data["people"]
    supplier = people["fb_supplier"]
    content = _csv(rows, seed=2)
    # Everything is set up before the workers start; the messages it sent are dropped.
    dup_list = _upload(data["dup"], content, "dup.csv", supplier)
    stuck_list = _upload(data["stuck"], content, "stuck.csv", supplier)
    SerialList.objects.filter(pk=stuck_list.pk).update(
        status="running", heartbeat_at=timezone.now() - timedelta(minutes=10), attempts=1
    )
    item = evidence_upload(
        batch=data["dup"],
        user=supplier,
        kind="photo",
        description="Faults bench photo",
        uploaded_file=SimpleUploadedFile("photo.jpg", _jpeg(3), content_type="image/jpeg"),
    )
    uploaded_event = AuditEvent.objects.get(
        action="evidence.uploaded", object_type="evidence.EvidenceItem", object_id=item.pk
    )
    client.flushdb()
    connection.close()
    workers = [Worker().start() for _ in range(3)]
    rows_out: list[tuple[str, str, str, bool]] = []
    try:
        print("(b) each task sent three times at once to three workers", flush=True)

        # validate_serial_list
        _send_three("serials.tasks.validate_serial_list", dup_list.pk)
        _broker_quiet(client)
        got = _outcome(dup_list.pk)
        emails = _emails_for(got["validated_ids"][0]) if got["validated_ids"] else 0
        ok = (
            got["status"] == "done"
            and got["attempts"] == 1
            and got["validated_events"] == 1
            and got["notifications"] == BUYERS
            and emails == BUYERS
        )
        rows_out.append(
            (
                "validate_serial_list",
                f"attempts {got['attempts']}, `serial_list.validated` events "
                f"{got['validated_events']}, {len(got['exceptions'])} exceptions, "
                f"{got['placements']:,} placements, notifications {got['notifications']}, "
                f"emails {emails}",
                "once",
                check(ok, f"validate_serial_list ×3: effects once ({_brief(got)})"),
            )
        )

        # process_evidence
        _send_three("evidence.tasks.process_evidence", item.pk)
        _broker_quiet(client)
        item = EvidenceItem.objects.get(pk=item.pk)
        thumbs = list((WORK / "media" / "evidence-thumbs").rglob(f"{item.sha256}*"))
        ok = item.processed_at is not None and item.thumbnail and len(thumbs) == 1
        rows_out.append(
            (
                "process_evidence",
                f"processed {'yes' if item.processed_at else 'no'}, thumbnail files {len(thumbs)}",
                "once",
                check(ok, f"process_evidence ×3: one thumbnail ({[t.name for t in thumbs]})"),
            )
        )

        # send_notifications (the evidence upload's event: the buyer side hears of it)
        _send_three("portal.tasks.send_notifications", uploaded_event.pk)
        _broker_quiet(client)
        notes = Notification.objects.filter(event=uploaded_event)
        recipients = notes.count()
        sent_events = AuditEvent.objects.filter(
            action="notification.sent",
            object_type="portal.Notification",
            object_id__in=list(notes.values_list("pk", flat=True)),
        ).count()
        emails = _emails_for(uploaded_event.pk)
        ok = recipients == sent_events == emails == BUYERS
        rows_out.append(
            (
                "send_notifications (3 buyers to tell)",
                f"notification rows {recipients}, `notification.sent` events {sent_events}, "
                f"emails {emails}",
                "3 / 3 / 3",
                check(ok, f"send_notifications ×3: each buyer told once (emails {emails})"),
            )
        )

        # requeue_stuck_serial_lists (one list whose worker died)
        _send_three("serials.tasks.requeue_stuck_serial_lists")
        _broker_quiet(client)
        got = _outcome(stuck_list.pk)
        ok = got["status"] == "done" and got["attempts"] == 2 and got["validated_events"] == 1
        rows_out.append(
            (
                "requeue_stuck_serial_lists (one stuck list)",
                f"list done, attempts {got['attempts']}, `serial_list.validated` events "
                f"{got['validated_events']}, notifications {got['notifications']}",
                "once",
                check(ok, f"requeue ×3: the stuck list done once ({_brief(got)})"),
            )
        )

        # The beat tasks: no arguments, each delivery does its work again (informational).
        def lines(path: Path) -> int:
            return len(path.read_text().splitlines()) if path.exists() else 0

        for name, args, path in [
            ("portal.tasks.integrity_checkpoint", (), anchor_path()),
            ("portal.tasks.integrity_verify", (), verify_log_path()),
            ("portal.tasks.integrity_verify_asked", (people["fb_admin"].pk,), verify_log_path()),
        ]:
            before = lines(path)
            _send_three(name, *args)
            _broker_quiet(client, timeout=300)
            added = lines(path) - before
            rows_out.append(
                (
                    name.rsplit(".", 1)[-1],
                    f"{added} lines appended to {path.name}",
                    "(not deduplicated: beat)",
                    True,
                )
            )
    finally:
        for worker in workers:
            worker.stop()
    for task, result, want, ok in rows_out:
        print(f"    {task}: {result} — want {want}: {'ok' if ok else 'FAILED'}", flush=True)
    return rows_out


# ---------------------------------------------------------------- (c) one gate, many releases


def parallel_releases(data: dict, releases: int) -> dict:
    from django.db import connection

    from accounts.factors import command_factor
    from approvals.models import Gate, GateRelease
    from approvals.services import gate_create, gate_release, gate_state
    from portal.errors import Conflict
    from portal.models import AuditEvent
    from portal.passwords import command_request

    people = data["people"]
    batch = data["gate_batch"]
    gate = gate_create(
        user=people["fb_buyer"], order=batch.order, batch=batch, kind=Gate.Kind.SHIPMENT_RELEASE
    )
    state_before = gate_state(gate).state
    connection.close()
    barrier = threading.Barrier(releases)
    outcomes: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    lock = threading.Lock()

    def release() -> None:
        from django.db import connection as own

        try:
            mine = Gate.objects.get(pk=gate.pk)
            own.ensure_connection()  # each thread has its own, opened before the start
            barrier.wait()
            gate_release(
                gate=mine,
                user=people["fb_finance"],
                request=command_request("faults_bench"),
                reason="Released by the faults benchmark.",
                factor=command_factor("faults_bench"),
            )
            outcome, message = "released", ""
        except Conflict as error:
            outcome, message = "conflict", str(error)
        except Exception as error:  # noqa: BLE001 - counted and shown below
            outcome, message = f"error {type(error).__name__}", str(error)[:200]
        finally:
            own.close()
        with lock:
            outcomes[outcome] += 1
            messages[message] += 1

    threads = [threading.Thread(target=release) for _ in range(releases)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    rows = GateRelease.objects.filter(gate=gate).count()
    events = AuditEvent.objects.filter(
        action="gate.released", object_type="approvals.Gate", object_id=gate.pk
    ).count()
    refusals = [m for m in messages if m]
    print(
        f"(c) {releases} parallel releases of one {state_before} gate: {dict(outcomes)}, "
        f"GateRelease rows {rows}, `gate.released` events {events}, {elapsed:.2f} s; "
        f"refusal: {refusals[0] if refusals else '-'}",
        flush=True,
    )
    check(
        outcomes["released"] == 1 and outcomes["conflict"] == releases - 1,
        f"one release, {releases - 1} refusals ({dict(outcomes)})",
    )
    check(rows == 1 and events == 1, f"one GateRelease row ({rows}) and one event ({events})")
    return {
        "releases": releases,
        "outcomes": dict(outcomes),
        "rows": rows,
        "events": events,
        "elapsed": elapsed,
        "state_before": state_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--controls", type=int, default=3, help="undisturbed validations")
    parser.add_argument("--releases", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    args = parser.parse_args()

    _admin_sql(f"DROP DATABASE IF EXISTS {DB}")
    _admin_sql(f"CREATE DATABASE {DB}")
    os.environ.update(_env())
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    client = _redis()
    client.flushdb()
    started = time.perf_counter()
    try:
        data = _setup(args.kills, args.controls)
        killed = killed_workers(data, args.rows, client)
        duplicated = duplicated_messages(data, args.rows, client)
        gate = parallel_releases(data, args.releases)
        print()
        print(
            f"| fault (benchmarks/faults_bench.py, {time.perf_counter() - started:.0f} s) | "
            "result | invariant |"
        )
        print("| --- | --- | --- |")
        print(
            f"| worker SIGKILLed mid-job, {killed['lists']} lists of {killed['rows']:,} rows "
            f"(killed at {', '.join(f'{k} ×{v}' for k, v in killed['phases'].items())}) | "
            f"kills {killed['kills']}, done once {killed['done_once']}/{killed['lists']}, "
            f"identical reports {killed['identical']}/{killed['lists']}; kill → done "
            f"{killed['recovery_median']:.1f} s median ({killed['recovery_max']:.1f} s max; "
            f"undisturbed {killed['control_median']:.2f} s) | done once, same report |"
        )
        for task, result, want, ok in duplicated:
            print(f"| `{task}` delivered 3× at once | {result} | {want}{'' if ok else ' ✗'} |")
        print(
            f"| {gate['releases']} parallel releases of one gate | "
            f"{gate['outcomes'].get('released', 0)} released, "
            f"{gate['outcomes'].get('conflict', 0)} refused (Conflict, the API's 409); "
            f"{gate['rows']} `GateRelease`, {gate['events']} `gate.released` event | "
            "exactly one |"
        )
    finally:
        from django.db import connections

        connections.close_all()
        client.flushdb()
        if not args.keep:
            _admin_sql(f"DROP DATABASE IF EXISTS {DB}")
            shutil.rmtree(WORK, ignore_errors=True)
        else:
            print(f"kept: database {DB}, files {WORK}")
    if FAILURES:
        print(f"\n{len(FAILURES)} invariant(s) failed:")
        for failure in FAILURES:
            print(f"  - {failure}")
        sys.exit(1)
    print("\nevery invariant held")


if __name__ == "__main__":
    main()
