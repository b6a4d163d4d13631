"""A supplier makes an API token on their own page from the user menu, sees it once, and revokes
it; on a wide screen and a phone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import ApiToken
from tests.browser.test_browser_walk import _sign_in
from tests.conftest import Cast

pytestmark = pytest.mark.browser


def test_a_token_is_made_shown_once_and_revoked(
    transactional_db: None, live_server: Any, cast: Cast, page: Page, shot: Any
) -> None:
    base = live_server.url
    _sign_in(page, base, "supplier_a")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API tokens")
    page.get_by_label("Name").fill("ERP export")
    page.get_by_role("button", name="Make token").click()
    expect(page.get_by_text("Copy it now: it is shown this once.")).to_be_visible()
    key = page.get_by_test_id("new-token").inner_text().strip()
    assert len(key) == 64
    expect(page.get_by_role("cell", name="ERP export", exact=True)).to_be_visible()
    shot(page, "62-api-token-made-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/account/tokens/")
    expect(page.get_by_text(key)).to_have_count(0)
    # Nothing sticks out of a phone's width (the table scrolls inside its card).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "62-api-tokens-phone")
    page.get_by_role("button", name="Revoke ERP export").click()
    expect(page.get_by_text("Token “ERP export” revoked")).to_be_visible()
    expect(page.get_by_text("No API tokens.")).to_be_visible()
    shot(page, "63-api-token-revoked-phone")
    assert not ApiToken.objects.exists()
