from __future__ import annotations

from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from portal.models import User
from tests.conftest import PASSWORD, Cast, totp_code

pytestmark = pytest.mark.browser


def _sign_in(page: Page, base: str, username: str) -> None:
    """Sign in; whoever holds the test authenticator app answers it, as the page asks."""
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    user = User.objects.get(username=username)
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
        page.get_by_label("6-digit code from your app").fill(totp_code(user))
        page.get_by_role("button", name="Confirm with the code").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")


def test_buyer_signs_in_and_opens_an_order(
    transactional_db: None, live_server: Any, cast: Cast, page: Page, shot: Any
) -> None:
    base = live_server.url
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/login/?next=/")
    shot(page, "01-login")
    _sign_in(page, base, "buyer")
    expect(page.get_by_text("PO-FOREIGN")).to_have_count(0)
    shot(page, "02-dashboard-buyer")

    page.get_by_role("link", name="Orders", exact=True).click()
    shot(page, "03-order-list")
    page.get_by_role("link", name="PO-OWN").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("PO PO-OWN")
    expect(page.get_by_text("OWN-B1")).to_be_visible()
    shot(page, "04-order-detail")

    page.get_by_role("link", name="Timeline").click()
    # Sentences a person reads; the raw event one click away.
    expect(page.get_by_text("created PO PO-OWN", exact=False)).to_be_visible()
    expect(page.get_by_text("order.created")).to_be_hidden()
    shot(page, "05-order-timeline")

    page.goto(f"{base}/orders/new/")
    page.get_by_role("button", name="Create order").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    shot(page, "06-order-form-errors")


def test_supplier_adds_production_details(
    transactional_db: None, live_server: Any, cast: Cast, page: Page, shot: Any
) -> None:
    base = live_server.url
    _sign_in(page, base, "supplier_a")
    expect(page.get_by_text("PO-BEE")).to_have_count(0)
    shot(page, "07-dashboard-supplier")
    page.get_by_role("link", name="Add production details to batch OWN-B1").click()
    page.get_by_label("Declared first serial").fill("VLT000001")
    page.get_by_label("Declared last serial").fill("VLT000100")
    page.get_by_label("Production started on").fill("2026-11-02")
    shot(page, "08-batch-edit-supplier")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("VLT000001 – VLT000100")).to_be_visible()
    shot(page, "09-batch-detail")
