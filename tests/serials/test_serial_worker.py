"""End to end on the real stack: an API upload, a Celery worker on Redis, PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.audit import AUDIT_CHAIN_LOCK
from portal.models import AuditEvent
from serials import engine, services
from serials.models import NumberingRule, SerialList
from tests.conftest import HANG_GUARD_SECONDS, Cast, WorkerProcess
from tests.serials.conftest import csv_file

pytestmark = pytest.mark.worker


def _poll(api: Any, url: str, until: Any, every: float = 0.1) -> dict:
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while True:
        body = api.get(url).json()
        if until(body):
            return body
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting; last answer: {body}")
        time.sleep(every)


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_an_api_upload_is_validated_by_a_real_worker(
    transactional_db: None,
    worker_factory: type[WorkerProcess],
    cast: Cast,
    rule: NumberingRule,
    tmp_path: Path,
) -> None:
    worker_factory().start()
    api = cast.api("supplier_a")
    counters = [*range(1, 51), 50, *range(61, 101)]
    response = api.post(
        reverse("api-batch-serial-lists", args=[cast.batches["own"].pk]),
        {"file": csv_file(counters), "kind": "production"},
    )
    assert response.status_code == 202, response.content
    queued = response.json()
    assert set(queued) == {"id", "status", "url"} and queued["status"] in ("queued", "running")
    done = _poll(api, queued["url"], lambda body: body["status"] in ("done", "failed"))
    assert done["status"] == "done" and done["progress"] == 100 and done["error"] is None
    path = tmp_path / "same.csv"
    path.write_bytes(csv_file(counters).read())
    expected = engine.validate_file(path, engine.NumberingRule("VLT", 6)).to_json()
    assert {key: done["report"][key] for key in expected} == expected
    assert done["report"]["reused_count"] == 0 and done["report"]["reused"] == []
    exceptions = api.get(reverse("api-batch-exceptions", args=[cast.batches["own"].pk])).json()
    assert sorted(e["kind"] for e in exceptions["results"]) == ["duplicate", "missing"]


@contextmanager
def _audit_chain_held() -> Iterator[Callable[[], bool]]:
    """Hold the audit chain's lock from a connection of our own, as a long writer would. The
    worker's result transaction ends with an audit event, so the worker waits there, inside
    its result transaction, with everything computed. Yields: is someone waiting for it?"""
    from django.db import connection

    db = connection.settings_dict
    holder = psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"],
    )
    holder.autocommit = True
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [AUDIT_CHAIN_LOCK])

        def someone_waits() -> bool:
            with holder.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND objid = %s",
                    [AUDIT_CHAIN_LOCK],
                )
                return cursor.fetchone()[0] > 0

        yield someone_waits
    finally:
        holder.close()  # releases the lock


def test_a_killed_worker_s_job_completes_once_with_the_same_report(
    transactional_db: None,
    worker_factory: type[WorkerProcess],
    cast: Cast,
    rule: NumberingRule,
    tmp_path: Path,
) -> None:
    # Short timeouts so the test does not wait an hour for Redis to redeliver.
    quick = {
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "CELERY_RESTORE_INTERVAL": "1",
        "CELERY_RESTORE_THROTTLE": "1",
        "SERIAL_LIST_LEASE_SECONDS": "2",
    }
    services.numbering_rule_save(
        user=cast.users["buyer"],
        product="05012345678900",
        prefix="VLT",
        width=8,
        check_digit="none",
    )
    # Quoted, with a carton column: the careful path, and placements written with the result.
    rows = (f'"VLT{i:08d}","C{i // 100}"' for i in range(1, 200_001) if i % 1000 != 7)
    content = ('"serial","carton"\n' + "\n".join(rows) + "\n").encode()
    api = cast.api("supplier_a")
    queued = api.post(
        reverse("api-batch-serial-lists", args=[cast.batches["own"].pk]),
        {"file": SimpleUploadedFile("big.csv", content), "kind": "production"},
    ).json()
    serial_list = SerialList.objects.get(pk=queued["id"])

    # The first worker is killed where it hurts most: inside the transaction writing the result
    # (runs, exceptions, placements written, the audit event pending). Nothing of it may stay.
    with _audit_chain_held() as someone_waits:
        first = worker_factory(**quick).start()
        _wait_for(someone_waits, "the worker to reach its result transaction")
        first.kill()
    serial_list.refresh_from_db()
    assert serial_list.status == SerialList.Status.RUNNING and serial_list.attempts == 1
    assert serial_list.exceptions.count() == 0 and not serial_list.placements.exists()

    time.sleep(4.5)  # past the visibility timeout: the message is due for redelivery
    worker_factory(**quick).start()
    done = _poll(api, queued["url"], lambda body: body["status"] in ("done", "failed"))
    assert done["status"] == "done", done["error"]
    serial_list.refresh_from_db()
    assert serial_list.attempts == 2

    path = tmp_path / "big.csv"
    path.write_bytes(content)
    expected = engine.validate_file(path, engine.NumberingRule("VLT", 8)).to_json()
    assert {key: done["report"][key] for key in expected} == expected
    assert expected["missing_count"] == 200
    validated = AuditEvent.objects.filter(action="serial_list.validated", object_id=serial_list.pk)
    assert validated.count() == 1
    assert serial_list.exceptions.count() == 200
    assert serial_list.placements.count() == 200_000 - 200


def test_the_reconciler_resends_a_job_whose_worker_died(
    transactional_db: None, worker_factory: type[WorkerProcess], cast: Cast, rule: NumberingRule
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    serial_list = services.serial_list_upload(
        batch=cast.batches["own"], user=cast.users["supplier_a"], uploaded_file=csv_file([1, 3])
    )
    fresh = services.serial_list_upload(
        batch=cast.batches["b_order"], user=cast.users["supplier_b"], uploaded_file=csv_file([9])
    )
    # As if a worker had claimed both, then died ten minutes ago (one) or is alive (the other).
    SerialList.objects.filter(pk=serial_list.pk).update(
        status="running", heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    SerialList.objects.filter(pk=fresh.pk).update(status="running", heartbeat_at=timezone.now())
    from portal.celery import app

    app.control.purge()  # drop the upload's own messages: only the reconciler sends now
    assert services.serial_lists_requeue_stuck() == [serial_list.pk]
    worker_factory().start()
    api = cast.api("buyer")
    url = reverse("api-serial-list-detail", args=[serial_list.pk])
    done = _poll(api, url, lambda body: body["status"] == "done")
    assert done["report"]["missing_ranges"] == [[2, 2]]
    assert SerialList.objects.get(pk=fresh.pk).status == "running"  # a live claim is left alone


def _lock_waiters() -> int:
    """How many sessions of the test database wait for a lock (row, advisory or any other)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.datname = current_database()"
        )
        return cursor.fetchone()[0]


def test_uploads_and_the_worker_take_the_batch_row_before_the_audit_lock(
    transactional_db: None, worker_factory: type[WorkerProcess], cast: Cast, rule: NumberingRule
) -> None:
    """The worker's result names its own batch and, for reused serials, another one; uploads to
    both batches arrive while it writes. Each side takes the batch rows first and the audit lock
    last, so they queue instead of deadlocking (before, PostgreSQL killed one of them and the
    list stayed running at 90 % for good)."""
    import threading

    from django.db import connection

    own, other = cast.batches["own"], cast.batches["b_order"]
    pending = services.serial_list_upload(
        batch=other, user=cast.users["supplier_b"], uploaded_file=csv_file([1, 2, 3])
    )
    services.serial_list_validate(serial_list_id=pending.pk)  # its runs are pending: reuse
    first = services.serial_list_upload(
        batch=own, user=cast.users["supplier_a"], uploaded_file=csv_file([1, 2, 3, 5])
    )
    clients = {"own": cast.api("supplier_a"), "b_order": cast.api("supplier_b")}
    answers: dict[str, Any] = {}

    def upload(key: str) -> None:
        try:
            answers[key] = clients[key].post(
                reverse("api-batch-serial-lists", args=[cast.batches[key].pk]),
                {"file": csv_file([7, 8], name=f"{key}-again.csv"), "kind": "production"},
            )
        except Exception as error:  # noqa: BLE001 - the test reports it below
            answers[key] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(key,)) for key in clients]
    with _audit_chain_held() as someone_waits:
        worker_factory().start()
        _wait_for(someone_waits, "the worker to reach its result transaction")
        for thread in threads:
            thread.start()
        _wait_for(lambda: _lock_waiters() >= 3, "both uploads to queue behind the worker")
    for thread in threads:
        thread.join(HANG_GUARD_SECONDS)
    for key, answer in answers.items():
        assert not isinstance(answer, Exception), f"the upload to {key} failed: {answer!r}"
        assert answer.status_code == 202, (key, answer.content)
    again = [answer.json()["id"] for answer in answers.values()]
    api = cast.api("buyer")
    for serial_list_id in again:  # a solo worker takes jobs in turn: the first one is over
        url = reverse("api-serial-list-detail", args=[serial_list_id])
        _poll(api, url, lambda body: body["status"] in ("done", "failed"))
    first.refresh_from_db()
    assert first.status == SerialList.Status.DONE, (first.status, first.progress)
    assert first.report["reused_count"] == 3
    assert first.exceptions.filter(kind="reused", other_batch=other).exists()
    statuses = SerialList.objects.filter(pk__in=again).values_list("status", flat=True)
    assert list(statuses) == ["done", "done"]
