"""Supplier uploads several photos → the old one is flagged on the buyer's page → the buyer asks
for an explanation → the supplier answers, then revises → the buyer sees the diff."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_browser_walk import _sign_in
from tests.conftest import Cast
from tests.evidence.conftest import jpeg, png

pytestmark = pytest.mark.browser


def test_evidence_from_upload_to_statement_diff(
    jobs_run: None, live_server: Any, cast: Cast, page: Page, shot: Any, tmp_path: Path
) -> None:
    base = live_server.url
    files = []
    for upload in (
        jpeg("line-2-label.jpg", captured="2026:11:05 09:12:00", colour="teal"),
        jpeg("old-label.jpg", captured="2024:03:18 16:40:00", colour="orange"),
        png("carton-label.png"),
    ):
        path = tmp_path / upload.name
        path.write_bytes(upload.read())
        files.append(str(path))

    _sign_in(page, base, "supplier_a")
    page.goto(f"{base}/batches/{cast.batches['own'].pk}/evidence/")
    page.get_by_label("Files").set_input_files(files)
    page.get_by_label("Description").fill("Labels of batch OWN-B1, printed on line 2")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator(".evidence-card")).to_have_count(3)
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, "buyer")
    evidence_url = f"{base}/batches/{cast.batches['own'].pk}/evidence/"
    old_card = page.locator(".evidence-card").filter(has_text="old-label.jpg")
    for _ in range(40):  # the worker reads capture dates in the background
        page.goto(evidence_url)
        if old_card.get_by_text("Captured before the order existed").count():
            break
        time.sleep(0.5)
    expect(old_card.get_by_text("Captured before the order existed")).to_be_visible()
    expect(page.locator(".evidence-card img")).to_have_count(3)
    shot(page, "17-evidence-gallery-buyer")
    old_card.click()
    expect(page.get_by_text("Captured before the order existed.")).to_be_visible()
    shot(page, "17b-evidence-item")
    page.go_back()

    page.get_by_role("link", name="Requests and statements").click()
    page.get_by_label("Product identity").check()  # what the answer will test
    page.get_by_label("Subject").fill("Label photo dated March 2024")
    page.get_by_label("Question").fill(
        "old-label.jpg claims it was taken in March 2024, before this order. "
        "Which batch does it show?"
    )
    page.get_by_label("Due on").fill("2030-01-15")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Label photo dated March 2024")
    request_url = page.url
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, "supplier_a")
    page.goto(f"{base}/orders/{cast.orders['own'].pk}/responsibilities/")
    page.get_by_label("Role").select_option("prints_labels")
    page.get_by_label("Party name").fill("Shenzhen Label Works")
    page.get_by_label("Party type").select_option("subcontractor")
    page.get_by_label("Contact").fill("Mr Chen, +86 755 0000 0000")
    page.get_by_label("Accepts responsibility").check()
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_text("Nobody is named for: Assigns serial numbers")).to_be_visible()
    shot(page, "19-responsibility-map")
    page.goto(request_url)
    page.get_by_label("Statement").fill("The photo shows a sample label from the 2024 order.")
    page.get_by_role("button", name="Send statement").click()
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, "buyer")
    page.goto(request_url)
    page.get_by_role("button", name="Mark version 1 as reviewed").click()
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, "supplier_a")
    page.goto(request_url)
    page.get_by_label("Statement").fill(
        "The photo shows a sample label from the pilot run of this order, printed on line 2."
    )
    page.get_by_role("button", name="Send statement").click()
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, "buyer")
    page.goto(request_url)
    expect(page.get_by_text("What changed: version 1 (last reviewed) → version 2")).to_be_visible()
    expect(page.locator(".diff del").first).to_be_visible()
    expect(page.locator(".diff ins").first).to_be_visible()
    shot(page, "18-statement-diff-buyer")
