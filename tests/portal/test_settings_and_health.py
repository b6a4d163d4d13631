from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3Jq9vXr2pL8wZt5nB7yH4mC6dF1gS0aQeRuTiOpAsDfGhJkLzXcVbNm",
    "AUDIT_KEY": "Zr8Lq2Wm5Tn7Vb1Xc4Hs9Kd3Pf6Gj0Ya",
    "ALLOWED_HOSTS": "portal.example.com",
    "DATABASE_URL": "sqlite:////tmp/portal-deploy-check.sqlite3",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DEBUG", "SECRET_KEY", "AUDIT_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deploy_check_with_production_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "set SECRET_KEY"),
        ("ALLOWED_HOSTS", "set ALLOWED_HOSTS"),
        ("AUDIT_KEY", "set AUDIT_KEY"),
    ],
)
def test_it_refuses_to_start_without_production_secrets(missing: str, message: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr


def test_it_refuses_a_weak_secret_key() -> None:
    result = _manage("check", env={**PRODUCTION, "SECRET_KEY": "short"})
    assert result.returncode != 0 and "set SECRET_KEY" in result.stderr


@pytest.mark.parametrize("audit_key", ["short", PRODUCTION["SECRET_KEY"]])
def test_it_refuses_a_weak_audit_key_or_the_secret_key_again(audit_key: str) -> None:
    result = _manage("check", env={**PRODUCTION, "AUDIT_KEY": audit_key})
    assert result.returncode != 0 and "set AUDIT_KEY" in result.stderr


def test_it_runs_embedded_with_nothing_set(tmp_path: Path) -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_it_configures_celery_not_to_lose_jobs() -> None:
    from portal.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] >= 3600


@pytest.mark.django_db
def test_healthz_reports_each_service(client: object) -> None:
    response = client.get(reverse("healthz"))  # type: ignore[attr-defined]
    body = response.json()
    assert body["database"] == "ok"
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assert (response.status_code, body["broker"], body["workers"]) == (200, "eager", "eager")
    else:
        # No worker runs in this test: the broker answers, nobody consumes.
        assert body["broker"] == "ok"
        assert response.status_code == 503 and body["workers"] == "no worker answered"


@pytest.mark.worker
def test_healthz_sees_a_real_worker(celery_worker_process: None, client: object) -> None:
    response = client.get(reverse("healthz"))  # type: ignore[attr-defined]
    body = response.json()
    assert response.status_code == 200, body
    assert body["worker_count"] >= 1
    assert body == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "workers": "ok",
        "worker_count": body["worker_count"],
        # No verification has run in this test (tests/portal/test_integrity_page.py has some).
        "integrity_last_run_at": None,
        "integrity_last_run_ok": None,
        "integrity_last_passed_at": None,
    }
