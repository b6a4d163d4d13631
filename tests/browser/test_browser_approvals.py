"""Buyer drafts and signs a narrow approval → finance sees the gate open → the supplier replaces
the pinned photo → finance sees the gate blocked, with the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_browser_walk import _sign_in
from tests.conftest import PASSWORD, Cast, authenticator_app, totp_code
from tests.documents import pdf_document
from tests.evidence.conftest import jpeg

pytestmark = pytest.mark.browser


def test_a_signed_approval_opens_a_gate_until_its_photo_is_replaced(
    jobs_run: None,
    live_server: Any,
    cast: Cast,
    page: Page,
    shot: Any,
    tmp_path: Path,
    batch_ready_to_sign: Any,
) -> None:
    base = live_server.url
    batch = batch_ready_to_sign
    buyer = cast.users["buyer"]
    authenticator_app(buyer)

    _sign_in(page, base, "buyer")
    page.goto(f"{base}/batches/{batch.pk}/approvals/")
    # The form starts from the promise under test; ticking it marks (and ticks) its records.
    page.get_by_label("Product identity").check()
    expect(page.get_by_label("Evidence: Label print label-B1.jpg (v1)")).to_be_checked()
    page.get_by_label("Decision", exact=True).select_option("accepted")
    page.get_by_label("The decision in one sentence").fill(
        "Batch OWN-B1 may ship with the label printed as in label-B1.jpg."
    )
    page.get_by_label("What the supplier must keep unchanged").fill("Label layout and printer.")
    page.get_by_label("What the inspector must check").fill("20 labels against the photo.")
    page.get_by_label("Evidence: Label print label-B1.jpg (v1)").check()
    page.get_by_label("Shipment release of batch OWN-B1").check()
    page.get_by_label("Your password, to sign").fill("wrong password")
    page.get_by_label("6-digit code from your authenticator app").fill(totp_code(buyer))
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("That is not your password; nothing was signed.")).to_be_visible()
    shot(page, "20-approval-draft")
    page.get_by_label("Evidence: Label print label-B1.jpg (v1)").check()
    page.get_by_label("Shipment release of batch OWN-B1").check()
    page.get_by_label("Your password, to sign").fill(PASSWORD)
    page.get_by_label("6-digit code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("current one (or was used already)")).to_be_visible()
    page.get_by_label("Evidence: Label print label-B1.jpg (v1)").check()
    page.get_by_label("Shipment release of batch OWN-B1").check()
    page.get_by_label("Your password, to sign").fill(PASSWORD)
    page.get_by_label("6-digit code from your authenticator app").fill(totp_code(buyer))
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("Signature binds this manifest")).to_be_visible()
    shot(page, "21-approval-signed")
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, "finance")
    page.get_by_role("link", name="Gates").click()
    row = page.get_by_role("row").filter(has_text="Batch OWN-B1")
    expect(row.get_by_text("Open", exact=True)).to_be_visible()
    shot(page, "22-finance-gate-open")
    page.get_by_role("button", name="Sign out").click()

    replacement = tmp_path / "label-B1-v2.jpg"
    replacement.write_bytes(jpeg("label-B1-v2.jpg", colour="red").read())
    _sign_in(page, base, "supplier_a")
    page.goto(f"{base}/batches/{batch.pk}/evidence/")
    page.locator(".evidence-card").filter(has_text="label-B1.jpg").click()
    page.get_by_label("New version").set_input_files(str(replacement))
    page.get_by_role("button", name="Store as version 2").click()
    expect(page.get_by_text("Version 2 stored")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, "finance")
    page.goto(f"{base}/finance/")
    row = page.get_by_role("row").filter(has_text="Batch OWN-B1")
    expect(row.get_by_text("Blocked", exact=True)).to_be_visible()
    expect(row.get_by_text("label-B1.jpg (v1) was replaced by version 2")).to_be_visible()
    shot(page, "23-finance-gate-blocked")

    # Money moves anyway: finance records it with the reason and the proving document.
    proof = tmp_path / "swift-confirmation.pdf"
    proof.write_bytes(pdf_document("transfer confirmation"))
    row.get_by_role("link", name="0 payments").click()
    page.get_by_label("Kind").select_option("balance")
    page.get_by_label("Amount").fill("12500")
    page.get_by_label("Currency").fill("usd")
    page.get_by_label("Payee company").fill("Supplier A Co")
    page.get_by_label("Paid on").fill("2026-11-20")
    page.get_by_label("Reason (required while the gate is blocked)").fill(
        "Balance due by contract; the new label photo is being reviewed."
    )
    page.get_by_label("Proving document").set_input_files(str(proof))
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text("paid while the gate was blocked")).to_be_visible()
    shot(page, "24-payment-while-blocked")
