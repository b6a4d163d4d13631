"""Supplier uploads a list → buyer reads the report → supplier answers an exception → buyer
accepts it and the batch's serials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from serials.models import NumberingRule
from tests.browser.test_browser_walk import _sign_in
from tests.conftest import Cast

pytestmark = pytest.mark.browser


def test_serial_list_from_upload_to_acceptance(
    jobs_run: None, live_server: Any, cast: Cast, page: Page, shot: Any, tmp_path: Path
) -> None:
    base = live_server.url
    _sign_in(page, base, "buyer")
    page.get_by_role("link", name="Rules", exact=True).click()
    page.get_by_label("Product").fill("05012345678900")
    page.get_by_label("Prefix", exact=True).fill("vlt")
    page.get_by_label("Counter digits").fill("6")
    shot(page, "10-numbering-rules")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("Rule for 05012345678900 saved")).to_be_visible()
    assert NumberingRule.objects.get().prefix == "VLT"
    page.get_by_role("button", name="Sign out").click()

    serials = [f"VLT{c:06d}" for c in [*range(1, 41), 25, *range(51, 81)]]
    upload = tmp_path / "batch-own-b1.csv"
    upload.write_text("serial\n" + "\n".join(serials) + "\n")
    _sign_in(page, base, "supplier_a")
    page.goto(f"{base}/batches/{cast.batches['own'].pk}/")
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Upload", exact=True).click()
    # The page polls the job's progress and reloads itself when the report is ready.
    expect(page.get_by_role("heading", level=1)).to_contain_text("batch-own-b1.csv")
    expect(page.locator(".figure").filter(has_text="missing serials")).to_contain_text("10")
    shot(page, "11-serial-report-supplier")
    page.get_by_role("link", name="Exceptions").click()
    # Both answers, each with its own reason and note, go in one submission.
    page.get_by_label("Reason for VLT000025 is on 2 rows").select_option("rework_relabel")
    page.get_by_label("Note for VLT000025 is on 2 rows").fill(
        "Unit 25 failed test, was reworked and relabelled twice."
    )
    expect(page.get_by_label("Select VLT000025 is on 2 rows")).to_be_checked()
    page.get_by_label("Reason for 10 missing: VLT000041 – VLT000050").select_option("test_scrap")
    page.get_by_label("Note for 10 missing: VLT000041 – VLT000050").fill(
        "Ten units scrapped at burn-in; scrap log LOG-77."
    )
    page.get_by_role("button", name="Send answers").click()
    expect(page.get_by_text("2 exceptions answered.")).to_be_visible()
    shot(page, "12-exceptions-supplier")
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, "buyer")
    page.goto(f"{base}/batches/{cast.batches['own'].pk}/")
    page.get_by_role("link", name="#").first.click()
    expect(page.locator("svg.strip rect.missing")).to_have_count(1)
    shot(page, "13-serial-report-buyer")
    page.get_by_role("link", name="Exceptions").click()
    page.get_by_label("Select all").check()
    page.get_by_label("Decision for the ticked rows").select_option("accepted")
    page.get_by_label("Process control").check()  # what this review tests
    page.get_by_role("button", name="Record decisions").click()
    expect(page.get_by_text("2 exceptions decided.")).to_be_visible()
    page.get_by_role("button", name="Accept the batch's serials").click()
    expect(page.get_by_text("are accepted and registered")).to_be_visible()
    shot(page, "14-exceptions-accepted")


def test_allocated_codes_from_allocation_to_report(
    jobs_run: None, live_server: Any, cast: Cast, page: Page, shot: Any, tmp_path: Path
) -> None:
    base = live_server.url
    allocated = tmp_path / "allocated.csv"
    allocated.write_text("code\nK7Q2-MX\nP9ZC-41\nA3RT-0B\nW8NF-2D\n")
    used = tmp_path / "used-codes.csv"
    used.write_text("code\nK7Q2-MX\nP9ZC-41\nP9ZC-41\nFAKE-99\n")
    _sign_in(page, base, "buyer")
    page.get_by_role("link", name="Rules", exact=True).click()
    page.get_by_label("Product").fill("05012345678900")
    page.get_by_label("Kind").select_option("allocated_codes")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_text("allocated codes").first).to_be_visible()
    page.goto(f"{base}/orders/{cast.orders['own'].pk}/")
    page.get_by_label("Allocated codes (CSV or XLSX, one code per row)").set_input_files(
        str(allocated)
    )
    page.get_by_role("button", name="Upload allocated codes").click()
    expect(page.get_by_text("Allocated 4 codes from allocated.csv")).to_be_visible()
    shot(page, "15-order-allocated-codes")
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, "supplier_a")
    page.goto(f"{base}/batches/{cast.batches['own'].pk}/")
    page.locator("input[type=file]").set_input_files(str(used))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator(".figure").filter(has_text="never allocated")).to_contain_text("1")
    expect(page.locator(".figure").filter(has_text="allocated, unused")).to_contain_text("2")
    shot(page, "16-code-report")
