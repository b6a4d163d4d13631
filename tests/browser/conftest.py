"""Playwright drives Debian's Chromium: nothing is downloaded, nothing reaches the internet."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import HANG_GUARD_SECONDS

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Django refuses ORM calls from inside an event loop; Playwright's sync API runs one.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Playwright's defaults (5 s for an expectation, 30 s for an action) race a loaded machine; a
# wait here ends when the page shows what is expected, and the bound only turns a hang into a
# failure.
expect.set_options(timeout=HANG_GUARD_SECONDS * 1000)


@pytest.fixture(autouse=True)
def _patient_pages(request: pytest.FixtureRequest) -> None:
    if "page" in request.fixturenames:
        request.getfixturevalue("page").set_default_timeout(HANG_GUARD_SECONDS * 1000)


@pytest.fixture(autouse=True)
def _no_content_security_policy_violation(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every page a browser test opens runs under the portal's CSP: an inline script or style,
    an eval or a foreign source that the policy blocks is something a user would miss (a dead
    button, a bar that never moves), so it fails the test that met it."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield
    assert not refused, "blocked by the Content-Security-Policy:\n" + "\n".join(refused)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1360, "height": 900}}


@pytest.fixture
def shot() -> Any:
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def jobs_run(transactional_db: None, request: pytest.FixtureRequest) -> None:
    """Jobs run eagerly on the embedded default; with a broker, a real worker runs them."""
    from django.conf import settings

    if not settings.CELERY_TASK_ALWAYS_EAGER:
        request.getfixturevalue("worker_factory")().start()


@pytest.fixture
def batch_ready_to_sign(signable: dict[str, Any]) -> Any:
    """The batch of ``signable`` (tests/conftest.py): what a buyer's signing page needs."""
    return signable["batch"]
