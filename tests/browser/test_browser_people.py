"""The buyer's admin invites a supplier's person from People, who opens the emailed link in a
browser of their own, sets a password and signs in; the admin then deactivates someone, on a
phone. Wide screen and phone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect

from portal.models import Role, User
from tests.browser.test_browser_walk import _sign_in
from tests.conftest import Cast

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Lantern-orchard-417"


def test_the_admin_invites_a_supplier_s_person_who_signs_in(
    transactional_db: None,
    live_server: Any,
    cast: Cast,
    page: Page,
    browser: Browser,
    shot: Any,
) -> None:
    base = live_server.url
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in(page, base, "admin")
    page.get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    expect(page.get_by_role("link", name="Supplier_B")).to_be_visible()
    expect(page.get_by_role("link", name="Other_Buyer", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Inspector", exact=True)).to_have_count(0)
    shot(page, "70-people-desktop")

    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("First name").fill("Jie")
    page.get_by_label("Last name").fill("Chen")
    page.get_by_label("Email").fill("chen.jie@brightline.example")
    page.get_by_label("User name").fill("chen.jie")
    page.locator("#id_organisation").select_option(label="Supplier A Co")
    # A supplier's people are suppliers: no other role is offered.
    offered = page.locator("#id_role option:not([disabled])").all_inner_texts()
    assert offered == ["Supplier"]
    shot(page, "71-people-invite-desktop")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("Jie Chen is invited")).to_be_visible()
    expect(page.get_by_test_id("person-status")).to_have_text("Invited")
    person = User.objects.get(username="chen.jie")
    assert person.membership.role == Role.SUPPLIER and not person.has_usable_password()

    [message] = mail.outbox
    [link] = re.findall(r"https?://[^/\s]+(/account/set-password/\S+/)", str(message.body))
    invited = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    invited.goto(f"{base}{link}")
    expect(invited.get_by_role("heading", name="Set your password")).to_be_visible()
    shot(invited, "72-set-password-phone")
    invited.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    invited.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    invited.get_by_role("button", name="Set password").click()
    expect(invited.get_by_text("Your password is set")).to_be_visible()
    invited.get_by_label("User name").fill("chen.jie")
    invited.get_by_label("Password").fill(NEW_PASSWORD)
    invited.get_by_role("button", name="Sign in").click()
    expect(invited).to_have_url(f"{base}/")
    expect(invited.get_by_text("PO-OWN").first).to_be_visible()
    invited.context.close()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/people/")
    # Nothing sticks out of a phone's width: organisation and role go under the name.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "73-people-phone")
    page.get_by_role("link", name="Supplier_B").click()
    page.get_by_role("link", name="Deactivate…").click()
    expect(page.get_by_role("heading", name="Deactivate Supplier_B?")).to_be_visible()
    shot(page, "74-people-deactivate-phone")
    page.get_by_role("button", name="Deactivate", exact=True).click()
    expect(page.get_by_test_id("person-status")).to_have_text("Deactivated")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "75-person-deactivated-phone")
    assert not User.objects.get(username="supplier_b").is_active
