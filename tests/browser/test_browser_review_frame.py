"""The review frame on the demo (issue 15): the buyer opens the review page of batch B2, which has
open exceptions, drafts the sentence there, and signs an approval with a condition and an open
point that holds the shipment release; the supplier closes the point; finance sees the gate
open."""

from __future__ import annotations

import datetime
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from approvals.models import OpenPoint
from demo.management.commands.seed_demo import DEFAULT_PASSWORD
from orders.models import Batch
from portal.models import User
from tests.conftest import authenticator_app, totp_code

pytestmark = pytest.mark.browser

POINT = "Show the packing scanner refusing a repeated label, on video, before the pallets close."


@pytest.fixture
def demo(transactional_db: None, live_server: Any) -> str:
    call_command("seed_demo", stdout=StringIO())
    return str(live_server.url)


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.locator("#id_password").press("Enter")
    user = User.objects.get(username=username)
    if user.totpdevice_set.filter(confirmed=True).exists():
        page.get_by_label("6-digit code from your app").fill(totp_code(user))
        page.get_by_role("button", name="Confirm with the code").click()
    expect(page.get_by_test_id("inbox")).to_be_visible()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_review_draft_sign_with_an_open_point_close_it_and_the_gate_opens(
    demo: str, page: Page, shot: Any
) -> None:
    base = demo
    buyer = User.objects.get(username="buyer")
    authenticator_app(buyer)

    # The buyer: from the batch page to the review, where everything sits side by side.
    _sign_in(page, base, "buyer")
    b2 = Batch.objects.get(order__number="2026-0141", code="B2")
    page.goto(f"{base}/batches/{b2.pk}/")
    page.get_by_test_id("review-link").click()
    expect(page.get_by_role("heading", name="Review the batch")).to_be_visible()
    expect(page.get_by_role("heading", name="The approved sample")).to_be_visible()
    expect(page.get_by_text("not answered yet").first).to_be_visible()
    draft = page.get_by_test_id("review-decision")
    expect(draft.get_by_label("Accepted with conditions")).to_be_checked()
    expect(draft.get_by_label("The decision in one sentence (edit it: it is yours)")).to_have_value(
        re.compile(r"^Batch B2 of PO 2026-0141 is accepted on condition that ")
    )
    shot(page, "review-1-page")
    sentence = (
        "Batch B2 may ship once the packing hall shows its scanner refusing a repeated label."
    )
    draft.get_by_label("The decision in one sentence (edit it: it is yours)").fill(sentence)
    draft.get_by_role("button", name="Take this draft to the approval form").click()

    # The approval form starts from the draft: decision and sentence carried over.
    expect(page.get_by_label("The decision in one sentence")).to_have_value(sentence)
    expect(page.get_by_label("Decision", exact=True)).to_have_value("accepted_with_conditions")
    page.get_by_label("Shipment evidence").check()
    page.locator("#id_open_point_1_text").fill(POINT)
    page.locator("#id_open_point_1_owner").select_option(index=1)
    due = timezone.localdate() + datetime.timedelta(days=5)
    page.locator("#id_open_point_1_due_on").fill(due.isoformat())
    page.locator("#id_open_point_1_blocks").check()
    page.get_by_label("Shipment release of batch B2").check()
    page.get_by_label("Your password, to sign").fill(DEFAULT_PASSWORD)
    page.get_by_label("6-digit code from your authenticator app").fill(totp_code(buyer))
    shot(page, "review-2-approval-with-open-point")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("Signature binds this manifest")).to_be_visible()
    expect(page.get_by_text(POINT).first).to_be_visible()
    shot(page, "review-3-approval-signed")
    point = OpenPoint.objects.get(text=POINT)
    assert point.blocks_gates
    _sign_out(page)

    # Finance: the shipment release waits on the point.
    _sign_in(page, base, "finance")
    page.goto(f"{base}/finance/")
    row = page.get_by_role("row").filter(has_text="Shipment release").filter(has_text="B2")
    expect(row.get_by_text("Blocked", exact=True)).to_be_visible()
    _sign_out(page)

    # The supplier closes the point from its inbox.
    _sign_in(page, base, "supplier_a")
    page.get_by_test_id("inbox").get_by_text(POINT).first.click()
    page.get_by_label("How was it settled?").fill(
        "Video of the scanner refusing VLT000107250 twice, sent with the pallet list."
    )
    shot(page, "review-4-supplier-closes-point")
    page.get_by_role("button", name="Close the point").click()
    expect(page.get_by_text("Closed by").first).to_be_visible()
    _sign_out(page)

    # Finance: the gate is open, ready to release.
    _sign_in(page, base, "finance")
    page.goto(f"{base}/finance/")
    row = page.get_by_role("row").filter(has_text="Shipment release").filter(has_text="B2")
    expect(row.get_by_text("Open", exact=True)).to_be_visible()
    shot(page, "review-5-finance-gate-open")
