"""A wrong signing password is refused on the page, with its message; wrong ones in a row pause
signing (django-axes), on a wide screen and a phone."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from approvals.models import Approval
from portal.models import User
from tests.browser.test_browser_walk import _sign_in
from tests.conftest import PASSWORD, Cast, authenticator_app, totp_code

pytestmark = pytest.mark.browser


def _attempt(page: Page, password: str) -> None:
    page.get_by_label("Product identity").check()
    page.get_by_label("Decision", exact=True).select_option("accepted")
    page.get_by_label("The decision in one sentence").fill("Batch OWN-B1 may ship as photographed.")
    page.get_by_label("Evidence: Label print label-B1.jpg (v1)").check()
    page.get_by_label("Your password, to sign").fill(password)
    page.get_by_label("6-digit code from your authenticator app").fill(
        totp_code(User.objects.get(username="buyer"))
    )
    page.get_by_role("button", name="Sign", exact=True).click()


def test_wrong_signing_passwords_are_refused_then_pause_signing(
    transactional_db: None,
    live_server: Any,
    cast: Cast,
    page: Page,
    shot: Any,
    batch_ready_to_sign: Any,
) -> None:
    base = live_server.url
    batch = batch_ready_to_sign
    authenticator_app(cast.users["buyer"])
    _sign_in(page, base, "buyer")
    url = f"{base}/batches/{batch.pk}/approvals/"
    for width, name in ((1366, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        _attempt(page, "wrong password")
        expect(page.get_by_text("That is not your password; nothing was signed.")).to_be_visible()
        shot(page, f"60-signing-wrong-password-{name}")
    for _ in range(3):  # the fifth wrong password in a row pauses signing
        page.goto(url)
        _attempt(page, "wrong password")
    expect(page.get_by_text("signing in is paused for 15 minutes")).to_be_visible()
    shot(page, "61-signing-paused-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(url)
    _attempt(page, PASSWORD)
    expect(page.get_by_text("anything signed with your password")).to_be_visible()
    shot(page, "61-signing-paused-desktop")
    assert not Approval.objects.exists()
