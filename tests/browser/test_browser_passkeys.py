"""A buyer makes a passkey on the Security page and signs an approval with it, in Chromium with
its virtual authenticator (CDP ``WebAuthn.addVirtualAuthenticator``); the passkey's signature
covers exactly the manifest's hash. A passkey that cannot verify its owner signs nothing, and the
next sign-in asks for the passkey."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import LazySettings
from playwright.sync_api import Page, Route, expect

from accounts.passkeys import assertion_check
from approvals.models import Approval, Signature
from portal.models import AuditEvent
from tests.browser.test_browser_walk import _sign_in
from tests.conftest import PASSWORD, Cast

pytestmark = pytest.mark.browser


def _draft(page: Page) -> None:
    page.get_by_label("Product identity").check()
    page.get_by_label("Decision", exact=True).select_option("accepted")
    page.get_by_label("The decision in one sentence").fill(
        "Batch OWN-B1 may ship with the label printed as in label-B1.jpg."
    )
    page.get_by_label("Evidence: Label print label-B1.jpg (v1)").check()
    page.get_by_label("Shipment release of batch OWN-B1").check()
    page.get_by_label("Your password, to sign").fill(PASSWORD)


def _late(route: Route) -> None:
    time.sleep(1.5)
    route.continue_()


def test_a_buyer_makes_a_passkey_and_signs_with_it(
    transactional_db: None,
    live_server: Any,
    cast: Cast,
    page: Page,
    shot: Any,
    settings: LazySettings,
    batch_ready_to_sign: Any,
) -> None:
    base = live_server.url.replace("127.0.0.1", "localhost")  # a passkey needs a host name
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [base]
    batch = batch_ready_to_sign
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]

    # No second factor yet: the pages say so, and signing cannot start.
    _sign_in(page, base, "buyer")
    expect(page.get_by_test_id("second-factor-missing")).to_be_visible()
    page.goto(f"{base}/batches/{batch.pk}/approvals/")
    expect(page.get_by_test_id("factor-missing")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 900})
    shot(page, "70-signing-needs-a-second-factor-phone")
    page.set_viewport_size({"width": 1366, "height": 900})

    # On a slow line the passkey script's message catalogue arrives late; the first click must
    # still work (it did nothing when the catalogue loaded "async" after the button's script).
    page.route("**/webauthn/jsi18n/**", _late)
    page.get_by_role("link", name="set up a passkey or an authenticator app").click()
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Added ")).to_be_visible()
    expect(page.get_by_text("No passkey yet.")).to_have_count(0)
    shot(page, "71-security-passkey-added")
    assert AuditEvent.objects.filter(action="second_factor.added").count() == 1

    page.goto(f"{base}/batches/{batch.pk}/approvals/")
    _draft(page)
    page.get_by_role("button", name="Sign with your passkey").click()
    expect(page.get_by_text("Signature binds this manifest")).to_be_visible()
    shot(page, "72-signed-with-a-passkey")
    signature = Signature.objects.get()
    assert signature.factor["kind"] == "passkey"
    assert assertion_check(signature.factor, signature.manifest_sha256) == ""

    # A passkey that cannot verify its owner (no fingerprint, no PIN) signs nothing.
    cdp.send(
        "WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False}
    )
    page.goto(f"{base}/batches/{batch.pk}/approvals/")
    _draft(page)
    page.get_by_role("button", name="Sign with your passkey").click()
    expect(page.get_by_text("nothing was signed", exact=False).first).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 900})
    shot(page, "73-passkey-refused-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    assert Approval.objects.count() == 1
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": True})

    # Signing in again asks for the passkey after the password.
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill("buyer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    shot(page, "74-sign-in-asks-for-the-passkey")
    page.get_by_role("button", name="Use your passkey").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")
