"""The admin verifies the record from the integrity page: "Verify now" runs on a real worker
(with a broker), the page polls until the run is logged, and shows it; at a laptop's and a
phone's width nothing is cut off."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from portal import anchors
from tests.browser.test_browser_walk import _sign_in
from tests.conftest import Cast

pytestmark = pytest.mark.browser


def _fits_the_window(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_admin_verifies_now_and_sees_the_history(
    jobs_run: None, live_server: Any, cast: Cast, page: Page, shot: Any
) -> None:
    base = live_server.url
    call_command("integrity_checkpoint")
    call_command("integrity_checkpoint")
    # An earlier night that found something, so the history has both outcomes.
    log = anchors.verify_log_path()
    finding = {
        "table": "portal_auditevent",
        "id": "12–40",
        "what": "29 events in a row whose hashes are not the HMAC of their contents under "
        "AUDIT_KEY (changed, or re-hashed without the key or with another)",
    }
    log.write_text(
        json.dumps(
            {
                "at": "2026-12-01T02:30:00.412Z",
                "ok": False,
                "parts": {
                    "chain": {"checked": 52, "findings": 1},
                    "anchors": {"checked": 1, "findings": 0},
                },
                "findings": [finding],
                "finding_count": 1,
                "source": "beat",
            }
        )
        + "\n"
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in(page, base, "admin")
    page.get_by_role("link", name="Integrity").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Integrity")
    expect(page.locator("#last-run")).to_contain_text("Failed")

    page.get_by_role("button", name="Verify now").click()
    # Eager, the result is there at once; on a worker, the page polls until it is logged.
    expect(page.get_by_text("The verification you asked for ran at")).to_be_visible()
    expect(page.locator("#last-run")).to_contain_text("Passed")
    expect(page.locator("#last-run")).to_contain_text("page, asked by admin")
    expect(page.locator("#history tbody tr")).to_have_count(2)
    expect(page.locator("#checkpoints tbody tr")).to_have_count(2)
    shot(page, "integrity-1366")
    assert _fits_the_window(page)

    page.locator("#history details summary").first.click()
    expect(page.get_by_text("portal_auditevent #12–40")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "integrity-390")
    assert _fits_the_window(page)
