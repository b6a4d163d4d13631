"""The admins' integrity page (the verification's last result and history, the checkpoints,
"Verify now"), and /healthz saying when the verification last passed."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from portal import anchors
from portal.integrity_runs import (
    checkpoints_latest,
    integrity_health,
    integrity_run_since,
    integrity_runs,
)
from tests.conftest import ROLES, Cast


@pytest.fixture(autouse=True)
def eager() -> Iterator[None]:
    """“Verify now” runs in the test's process here; tests/browser/test_browser_integrity.py has
    a real worker run it."""
    from portal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _log(*runs: dict[str, Any]) -> Path:
    path = anchors.verify_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as log:
        for run in runs:
            log.write(json.dumps(run) + "\n")
    return path


def _run(at: str, ok: bool, findings: list[dict[str, str]] | None = None) -> dict[str, Any]:
    findings = findings or []
    return {
        "at": at,
        "ok": ok,
        "parts": {"chain": {"checked": 40, "findings": len(findings)}},
        "findings": findings,
        "finding_count": len(findings),
        "source": "beat",
    }


@pytest.mark.parametrize("role", ROLES)
def test_only_the_admin_opens_the_page_and_runs_it(cast: Cast, role: str) -> None:
    client = cast.client(role)
    expected = 200 if role == "admin" else 403
    assert client.get(reverse("integrity")).status_code == expected
    assert client.get(reverse("integrity-progress")).status_code == expected
    posted = client.post(reverse("integrity"))
    assert posted.status_code == (302 if role == "admin" else 403)
    # Nobody but the admin made a run happen.
    assert anchors.verify_log_path().exists() == (role == "admin")
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert (reverse("integrity") in dashboard) == (role == "admin")


def test_anonymous_visitors_are_sent_to_sign_in(cast: Cast) -> None:
    anonymous = cast.client(None)
    for name in ("integrity", "integrity-progress"):
        response = anonymous.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert anonymous.post(reverse("integrity")).status_code == 302
    assert not anchors.verify_log_path().exists()


def test_it_shows_the_last_result_the_history_and_the_checkpoints(cast: Cast) -> None:
    call_command("integrity_checkpoint")
    finding = {"table": "portal_auditevent", "id": "7", "what": "its hash is not the HMAC"}
    _log(
        _run("2026-11-30T02:30:00.5Z", True),
        _run("2026-12-01T02:30:00Z", False, [finding]),
    )
    page = cast.client("admin").get(reverse("integrity")).content.decode()
    assert "Failed" in page and "Passed" in page
    assert "portal_auditevent #7" in page and "its hash is not the HMAC" in page
    assert "01 Dec 2026 02:30:00" in page and "30 Nov 2026 02:30:00" in page
    assert "the audit chain&#x27;s HMACs and links" in page  # the part's label
    [checkpoint] = checkpoints_latest()
    assert checkpoint.name in page and checkpoint.last_hash[:12] in page
    assert not checkpoint.token and "none" in page  # no TSA configured


def test_verify_now_runs_it_and_shows_the_outcome(cast: Cast) -> None:
    admin = cast.client("admin")
    before = datetime.datetime.now(datetime.UTC)
    response = admin.post(reverse("integrity"))
    assert response.status_code == 302 and response["Location"] == reverse("integrity")
    # Eager here (or a worker): the run is logged with who asked.
    [run] = integrity_runs()
    assert run.at >= before - datetime.timedelta(seconds=1)
    assert run.source == "page, asked by admin"
    assert integrity_run_since(before - datetime.timedelta(seconds=1)) == run
    page = admin.get(reverse("integrity")).content.decode()
    assert "The verification you asked for ran at" in page
    # Shown once: the next visit shows the history, not the outcome banner.
    assert "The verification you asked for" not in admin.get(reverse("integrity")).content.decode()
    progress = admin.get(reverse("integrity-progress"))
    assert progress["HX-Refresh"] == "true"


def test_while_it_runs_the_page_polls_until_the_run_is_logged(cast: Cast) -> None:
    admin = cast.client("admin")
    session = admin.session
    session["integrity_verify_asked"] = "2999-01-01T00:00:00+00:00"  # not logged yet
    session.save()
    page = admin.get(reverse("integrity")).content.decode()
    assert 'hx-get="/integrity/progress/"' in page and "Verifying: asked at" in page
    assert "disabled" in page  # one run at a time
    progress = admin.get(reverse("integrity-progress"))
    assert "HX-Refresh" not in progress and "Verifying" in progress.content.decode()
    # A second "Verify now" while waiting sends nothing.
    admin.post(reverse("integrity"))
    assert integrity_runs() == []


def test_the_log_is_read_from_its_end(cast: Cast) -> None:
    runs = [_run(f"2026-11-{day:02d}T02:30:00Z", day % 3 != 0) for day in range(1, 29)]
    _log(*runs)
    # A line cut short by a crash, and a long one, are skipped or read whole.
    path = anchors.verify_log_path()
    with path.open("a") as log:
        log.write('{"at": "2026-11-29T0')
        log.write("\n" + json.dumps(_run("2026-11-30T02:30:00Z", False, [
            {"table": "x", "id": str(n), "what": "w" * 100} for n in range(1000)
        ])) + "\n")  # fmt: skip
    newest = integrity_runs(5)
    assert [run.at.day for run in newest] == [30, 28, 27, 26, 25]
    assert len(newest[0].findings) == 1000
    health = integrity_health()
    assert health.last_run_ok is False
    assert health.last_run_at == newest[0].at
    assert health.last_passed_at == datetime.datetime(2026, 11, 28, 2, 30, tzinfo=datetime.UTC)


def test_healthz_says_when_the_verification_last_passed(cast: Cast, client: Any) -> None:
    body = client.get(reverse("healthz")).json()
    assert (
        body["integrity_last_run_at"],
        body["integrity_last_run_ok"],
        body["integrity_last_passed_at"],
    ) == (None, None, None)
    _log(_run("2026-11-30T02:30:00Z", True))
    body = client.get(reverse("healthz")).json()
    assert body["integrity_last_run_ok"] is True
    assert body["integrity_last_passed_at"] == "2026-11-30T02:30:00Z"
    _log(_run("2026-12-01T02:30:00Z", False, [{"table": "t", "id": "1", "what": "w"}]))
    body = client.get(reverse("healthz")).json()
    assert body["integrity_last_run_ok"] is False
    assert body["integrity_last_run_at"] == "2026-12-01T02:30:00Z"
    assert body["integrity_last_passed_at"] == "2026-11-30T02:30:00Z"


def test_the_admin_site_links_to_it(cast: Cast) -> None:
    cast.users["admin"].is_staff = True
    cast.users["admin"].save()
    index = cast.client("admin").get(reverse("admin:index")).content.decode()
    assert reverse("integrity") in index


def test_a_run_no_worker_took_may_be_asked_for_again(cast: Cast) -> None:
    admin = cast.client("admin")
    session = admin.session
    session["integrity_verify_asked"] = "2026-01-01T00:00:00+00:00"  # long ago, never logged
    session.save()
    progress = admin.get(reverse("integrity-progress")).content.decode()
    assert "is a Celery worker running?" in progress
    page = admin.get(reverse("integrity")).content.decode()
    assert "disabled" not in page
    admin.post(reverse("integrity"))
    [run] = integrity_runs()
    assert run.source == "page, asked by admin"
