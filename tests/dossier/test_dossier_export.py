"""The dossier built by a worker: asked for on the order's page, its progress shown while it is
written, downloaded when ready (logged with the ZIP's SHA-256); scoped to the buyer's staff."""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from dossier import services
from dossier.build import dossier_entries_expected, dossier_write
from dossier.models import DossierExport
from portal.celery import app
from portal.models import AuditEvent
from tests.conftest import (
    BUYER_SIDE,
    HANG_GUARD_SECONDS,
    ORDER_KEYS,
    ROLES,
    VISIBLE,
    Cast,
    WorkerProcess,
)


def _verified(body: bytes) -> dict:
    """The ZIP opens, every file hashes to what the manifest and SHA256SUMS say."""
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:
        data = archive.read(entry["path"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert len(data) == entry["size"]
    sums = dict(
        line.split("  ", 1)[::-1] for line in archive.read("SHA256SUMS").decode().splitlines()
    )
    assert set(sums) == set(archive.namelist()) - {"SHA256SUMS"}
    for name, sha in sums.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == sha, name
    return manifest


def _download(client: Any, export: DossierExport) -> Any:
    return client.get(reverse("order-dossier-download", args=[export.order_id, export.pk]))


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _request(cast: Cast, role: str = "buyer", key: str = "own", client: Any = None) -> Any:
    """Post the page's "Build a new dossier" as ``role``; returns the export asked for."""
    order = cast.orders[key]
    client = client or cast.client(role)
    response = client.post(reverse("order-dossier-export", args=[order.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("order-dossier", args=[order.pk])
    return DossierExport.objects.filter(order=order).latest("id")


def test_a_requested_dossier_is_built_once_and_downloaded_with_its_hash(
    cast_with_lists: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    cast = cast_with_lists
    order = cast.orders["own"]
    with django_capture_on_commit_callbacks() as callbacks:
        export = _request(cast, "buyer")
    # The job is sent once the request commits, never before.
    assert len(callbacks) == 1
    assert (export.status, export.progress, export.requested_by) == (
        "queued",
        0,
        cast.users["buyer"],
    )
    assert AuditEvent.objects.filter(action="order.dossier_requested", order=order).count() == 1
    page = cast.client("buyer").get(reverse("order-dossier", args=[order.pk])).content.decode()
    assert "Waiting for a worker" in page
    assert reverse("order-dossier-progress", args=[order.pk]) in page  # it polls

    services.dossier_export_build(export_id=export.pk)
    export.refresh_from_db()
    assert (export.status, export.progress, export.error, export.attempts) == ("done", 100, "", 1)
    assert export.finished_at is not None and export.size > 0
    # In private storage, under its final name only: no partial is left behind.
    folder = Path(default_storage.path(export.file.name)).parent
    assert [p.name for p in folder.iterdir()] == [Path(export.file.name).name]
    built = AuditEvent.objects.get(action="order.dossier_built", order=order)
    assert built.payload["sha256"] == export.sha256

    # Delivered twice: the second finds it done and changes nothing.
    services.dossier_export_build(export_id=export.pk)
    again = DossierExport.objects.get(pk=export.pk)
    assert (again.attempts, again.sha256, again.file.name) == (1, export.sha256, export.file.name)
    assert AuditEvent.objects.filter(action="order.dossier_built").count() == 1

    page = cast.client("finance").get(reverse("order-dossier", args=[order.pk])).content.decode()
    download_url = reverse("order-dossier-download", args=[order.pk, export.pk])
    assert download_url in page and export.sha256 in page
    assert reverse("order-dossier-progress", args=[order.pk]) not in page  # nothing to poll

    response = _download(cast.client("finance"), export)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="dossier-PO-OWN.zip"'
    body = _body(response)
    assert hashlib.sha256(body).hexdigest() == export.sha256 and len(body) == export.size
    manifest = _verified(body)
    assert manifest["order"] == "PO-OWN"
    assert {e["what"].split(" ")[0] for e in manifest["files"]} >= {"approvals,", "Photo"}
    event = AuditEvent.objects.get(action="order.dossier_downloaded")
    assert event.actor == cast.users["finance"] and event.order == order
    # The ZIP's hash is in the chain: what its own SHA256SUMS cannot vouch for.
    assert event.payload["sha256"] == export.sha256 and event.payload["export"] == export.pk


def test_progress_is_reported_per_file_and_shown_while_building(cast_with_lists: Cast) -> None:
    order = cast_with_lists.orders["own"]
    calls: list[tuple[int, int]] = []
    entries = dossier_write(
        order=order, target=io.BytesIO(), progress=lambda done, of: calls.append((done, of))
    )
    assert len(calls) == len(entries) + 1
    assert [done for done, _ in calls[:-1]] == list(range(1, len(entries) + 1))
    assert all(done < of for done, of in calls[:-1]) and calls[-1][0] == calls[-1][1]
    assert dossier_entries_expected(order) <= calls[-1][1]

    export = DossierExport.objects.create(order=order, requested_by=cast_with_lists.users["buyer"])
    DossierExport.objects.filter(pk=export.pk).update(status="running", progress=42)
    client = cast_with_lists.client("service")
    fragment = client.get(reverse("order-dossier-progress", args=[order.pk])).content.decode()
    assert "Writing the ZIP" in fragment and 'data-width="42"' in fragment
    assert 'hx-trigger="every 1s"' in fragment


def test_the_heartbeat_records_progress_while_the_zip_is_written(
    cast_with_lists: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = cast_with_lists.orders["own"]
    export = DossierExport.objects.create(order=order, requested_by=cast_with_lists.users["buyer"])
    seen: list[int] = []
    write = services.dossier_write

    def watched(**kwargs: Any) -> Any:
        outer = kwargs["progress"]

        def progress(done: int, of: int) -> None:
            outer(done, of)
            seen.append(DossierExport.objects.get(pk=export.pk).progress)

        return write(**{**kwargs, "progress": progress})

    monkeypatch.setattr(services, "dossier_write", watched)
    services.dossier_export_build(export_id=export.pk)
    assert seen == sorted(seen) and seen[0] < seen[-1] == services.WRITING_SHARE
    assert DossierExport.objects.get(pk=export.pk).status == "done"


def test_a_failed_build_says_why_and_leaves_no_file(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = cast.orders["own"]

    def broken(*, order: Any, target: Any, progress: Any) -> None:
        target.write(b"PK half a zip")
        progress(1, 4)
        raise OSError("No space left on device")

    monkeypatch.setattr(services, "dossier_write", broken)
    export, created = services.dossier_export_request(order=order, user=cast.users["buyer"])
    assert created
    services.dossier_export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == "failed" and export.progress == 100
    assert "No space left on device" in export.error and "OSError" in export.error
    assert not export.file and not export.sha256
    folder = Path(default_storage.path(f"dossier-exports/{order.pk}"))
    assert not folder.exists() or not list(folder.iterdir())
    failed = AuditEvent.objects.get(action="order.dossier_failed", order=order)
    assert failed.payload["error"] == export.error
    page = cast.client("buyer").get(reverse("order-dossier", args=[order.pk])).content.decode()
    assert "No space left on device" in page
    assert reverse("order-dossier-download", args=[order.pk, export.pk]) not in page
    assert _download(cast.client("buyer"), export).status_code == 404
    # Failed is final: another delivery does not build it.
    monkeypatch.undo()
    services.dossier_export_build(export_id=export.pk)
    assert DossierExport.objects.get(pk=export.pk).status == "failed"


def test_a_build_whose_claim_was_taken_over_writes_nothing(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = cast.orders["own"]
    export, _ = services.dossier_export_request(order=order, user=cast.users["buyer"])

    def overtaken(*, order: Any, target: Any, progress: Any) -> None:
        # Its heartbeat was late: another worker claimed the job meanwhile.
        DossierExport.objects.filter(pk=export.pk).update(claim_token=None)
        progress(1, 4)

    monkeypatch.setattr(services, "dossier_write", overtaken)
    services.dossier_export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == "running" and not export.file
    folder = Path(default_storage.path(f"dossier-exports/{order.pk}"))
    assert not folder.exists() or not list(folder.iterdir())


def _died(export: DossierExport, times: int) -> None:
    """As if ``times`` workers had claimed the export and died, the last ten minutes ago."""
    DossierExport.objects.filter(pk=export.pk).update(
        status="running", attempts=times, heartbeat_at=timezone.now() - timedelta(minutes=10)
    )


def test_stuck_builds_are_sent_again_and_a_poison_one_fails(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, int]] = []
    from portal import jobs

    monkeypatch.setattr(jobs, "task_send", lambda name, *args: sent.append((name, *args)))
    order = cast.orders["own"]
    poison, _ = services.dossier_export_request(order=order, user=cast.users["buyer"])
    _died(poison, 3)
    lost = DossierExport.objects.create(order=order, requested_by=cast.users["finance"])
    assert services.dossier_exports_requeue_stuck() == [poison.pk]  # queued, but not for long
    assert services.dossier_exports_requeue_stuck(queued_for=timedelta(0)) == [poison.pk, lost.pk]
    assert sent == [(services.TASK, poison.pk)] * 2 + [(services.TASK, lost.pk)]
    fresh = DossierExport.objects.create(order=order, requested_by=cast.users["finance"])

    services.dossier_export_build(export_id=poison.pk)
    poison.refresh_from_db()
    assert poison.status == "failed" and "stopped 3 times before it finished" in poison.error
    # A worker that died twice is not poison: the third attempt builds it.
    _died(fresh, 2)
    services.dossier_export_build(export_id=fresh.pk)
    fresh.refresh_from_db()
    assert fresh.status == "done" and fresh.attempts == 3
    # A live claim is left alone, by the reconciler and by a second delivery.
    DossierExport.objects.filter(pk=lost.pk).update(status="running", heartbeat_at=timezone.now())
    services.dossier_export_build(export_id=lost.pk)
    assert DossierExport.objects.get(pk=lost.pk).attempts == 0
    assert services.dossier_exports_requeue_stuck() == []


def test_a_second_request_while_one_is_building_returns_it(cast: Cast) -> None:
    first = _request(cast, "buyer")
    client = cast.client("finance")
    second = _request(cast, client=client)
    assert first == second and DossierExport.objects.count() == 1
    page = client.get(reverse("order-dossier", args=[cast.orders["own"].pk])).content.decode()
    assert f"already being built (export #{first.pk})" in page


def test_eager_tasks_build_it_within_the_request(
    transactional_db: None, cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded default (no broker: ``make run``) runs the job at once, in the request,
    once the request's transaction commits."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    client = cast.client("admin")
    export = _request(cast, client=client)
    assert export.status == "done"
    page = client.get(reverse("order-dossier", args=[cast.orders["own"].pk]))
    assert "ready to download" in page.content.decode()
    body = _body(_download(client, export))
    assert hashlib.sha256(body).hexdigest() == export.sha256
    _verified(body)


def test_a_stored_zip_that_changed_is_not_served(cast: Cast) -> None:
    export, _ = services.dossier_export_request(order=cast.orders["own"], user=cast.users["buyer"])
    services.dossier_export_build(export_id=export.pk)
    export.refresh_from_db()
    with default_storage.open(export.file.name, "r+b") as stored:
        stored.seek(30)
        stored.write(b"tampered")
    response = _download(cast.client("buyer"), export)
    assert response.status_code == 409
    assert "no longer matches" in response.content.decode()
    assert not AuditEvent.objects.filter(action="order.dossier_downloaded").exists()


def _done_export(cast: Cast, key: str) -> DossierExport:
    """A finished export of the cast's order ``key``, without building one."""
    order = cast.orders[key]
    buyer = cast.users["other_buyer" if key == "foreign" else "buyer"]
    data = f"a dossier of {order.number}".encode()
    name = default_storage.save(f"dossier-exports/{order.pk}/test.zip", ContentFile(data))
    return DossierExport.objects.create(
        order=order,
        requested_by=buyer,
        status="done",
        progress=100,
        file=name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        finished_at=timezone.now(),
    )


def test_every_role_reaches_only_its_own_buyer_s_dossiers(cast: Cast) -> None:
    """Every role × own and foreign order: the page, its progress, a request and a download;
    the buyer's staff of the order's buyer get them, everyone else 404 (as for a missing id)."""
    exports = {key: _done_export(cast, key) for key in ORDER_KEYS}
    wrong = []
    for role in ROLES:
        client = cast.client(role)
        for key in ORDER_KEYS:
            order = cast.orders[key]
            allowed = key in VISIBLE[role] and role in BUYER_SIDE
            answers = {
                "page": client.get(reverse("order-dossier", args=[order.pk])),
                "progress": client.get(reverse("order-dossier-progress", args=[order.pk])),
                "download": _download(client, exports[key]),
                "request": client.post(reverse("order-dossier-export", args=[order.pk])),
            }
            expected = {"page": 200, "progress": 200, "download": 200, "request": 302}
            for what, response in answers.items():
                status = expected[what] if allowed else 404
                if response.status_code != status:
                    wrong.append((role, key, what, response.status_code, status))
                if not allowed and order.number in response.content.decode():
                    wrong.append((role, key, what, "shows the order number"))
    assert wrong == []
    # An export is reached only through its own order: another order's id in the URL is 404.
    client = cast.client("buyer")
    for own, other in (("own", "b_order"), ("own", "foreign"), ("foreign", "own")):
        url = reverse("order-dossier-download", args=[cast.orders[other].pk, exports[own].pk])
        assert client.get(url).status_code == 404, (own, other)
    downloads = AuditEvent.objects.filter(action="order.dossier_downloaded")
    assert {(e.actor.username, e.order.number) for e in downloads} == {
        (role, cast.orders[key].number) for role in BUYER_SIDE for key in VISIBLE[role]
    }
    # Requests were queued only on the orders their askers may see.
    requested = DossierExport.objects.filter(status="queued").values_list("order_id", flat=True)
    assert set(requested) == {cast.orders[key].pk for key in ORDER_KEYS}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="triggers are PostgreSQL's")
def test_a_finished_export_never_changes_nor_goes_away(cast: Cast) -> None:
    export = _done_export(cast, "own")
    for change in (
        {"sha256": "0" * 64},
        {"file": "dossier-exports/other.zip"},
        {"status": "queued"},
        {"progress": 5},
    ):
        with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
            DossierExport.objects.filter(pk=export.pk).update(**change)
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
        DossierExport.objects.filter(pk=export.pk)._raw_delete(using="default")
    queued = DossierExport.objects.create(order=export.order, requested_by=export.requested_by)
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
        DossierExport.objects.filter(pk=queued.pk).update(order=cast.orders["b_order"])


@pytest.mark.worker
def test_a_real_worker_builds_it_and_the_page_shows_it_ready(
    transactional_db: None, worker_factory: type[WorkerProcess], cast: Cast
) -> None:
    worker_factory().start()
    order = cast.orders["own"]
    client = cast.client("buyer")
    response = client.post(reverse("order-dossier-export", args=[order.pk]))
    assert response.status_code == 302
    export = DossierExport.objects.get(order=order)
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while export.status not in ("done", "failed"):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for the worker; the export is {export.status}")
        time.sleep(0.1)
        export.refresh_from_db()
    assert export.status == "done", export.error
    assert export.attempts == 1 and export.progress == 100
    fragment = client.get(reverse("order-dossier-progress", args=[order.pk])).content.decode()
    assert reverse("order-dossier-download", args=[order.pk, export.pk]) in fragment
    body = _body(_download(client, export))
    assert hashlib.sha256(body).hexdigest() == export.sha256
    assert _verified(body)["order"] == "PO-OWN"
