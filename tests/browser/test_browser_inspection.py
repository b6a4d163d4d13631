"""The inspector samples a batch, reads two labels and records one blocked step → the buyer
sees it on the inspection and on the batch's gate → customer service looks up a sampled serial
and sees it failed the inspection sample."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from approvals import services as approvals
from serials import services as serial_services
from serials.models import SerialList
from tests.browser.test_browser_walk import _sign_in
from tests.conftest import HANG_GUARD_SECONDS, Cast

pytestmark = pytest.mark.browser

GTIN = "05012345678900"


def _lot(cast: Cast) -> None:
    """300 serials, 30 to a carton, validated; a balance gate on the batch."""
    serial_services.numbering_rule_save(
        user=cast.users["buyer"], product=GTIN, prefix="VLT", width=6, check_digit="none"
    )
    batch = cast.batches["own"]
    rows = "\n".join(f"VLT{n:06d},CTN-{(n - 1) // 30 + 1:02d}" for n in range(1, 301))
    production = serial_services.serial_list_upload(
        batch=batch,
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("production.csv", f"serial,carton\n{rows}\n".encode()),
    )
    serial_services.serial_list_validate(serial_list_id=production.pk)
    # With a broker the worker may have claimed the list first: then the call above leaves it
    # to the worker, and the lot is ready once the worker says so (the hang guard bounds it).
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while SerialList.objects.get(pk=production.pk).status != SerialList.Status.DONE:
        assert time.monotonic() < deadline, "the serial list was never validated"
        time.sleep(0.05)
    approvals.gate_create(user=cast.users["buyer"], order=batch.order, batch=batch, kind="balance")


def test_an_inspection_with_a_blocked_step_reaches_the_buyer_and_customer_service(
    jobs_run: None, live_server: Any, cast: Cast, page: Page, shot: Any
) -> None:
    base = live_server.url
    _lot(cast)
    batch = cast.batches["own"]

    _sign_in(page, base, "inspector")
    page.goto(f"{base}/batches/{batch.pk}/")
    page.get_by_role("link", name="Inspection", exact=True).click()
    page.get_by_label("Inspection level").select_option("II")
    page.get_by_label("AQL (acceptance quality limit, % defective)").select_option("1.0")
    page.get_by_role("button", name="Draw the sample").click()
    # 300 units at level II: code letter H, 50 units; AQL 1.0: accept 1, reject 2.
    expect(page.get_by_text("50 units drawn; the seed is stored with the plan.")).to_be_visible()
    expect(page.get_by_text("Ac 1 · Re 2")).to_be_visible()
    shot(page, "40-inspection-planned")

    page.get_by_role("link", name="Read the next label").click()
    first = page.locator(".unit-serial").inner_text().strip()
    page.get_by_label("Label as read").fill(f"(01){GTIN}(21){first}")
    page.get_by_role("button", name=re.compile(r"Carton CTN-\d+ matches · record")).click()
    expect(page.get_by_text(f"{first} recorded.")).to_be_visible()
    second = page.locator(".unit-serial").inner_text().strip()
    assert second != first
    page.get_by_label("Typed").check()
    page.get_by_label("Label as read").fill(second)
    page.get_by_label("Defects or a note (leave empty if none)").fill("Label peeling at one corner")
    shot(page, "41-inspection-unit-phone")
    page.get_by_role("button", name=re.compile(r"Carton CTN-\d+ matches · record")).click()
    expect(page.get_by_text(f"{second} recorded.")).to_be_visible()

    page.get_by_role("link", name="Inspection #").first.click()
    page.get_by_label("Step").select_option("open_cartons")
    page.get_by_label("Blocked by").fill("Factory QA manager")
    page.get_by_label("Reason").fill("Cartons were sealed for the forwarder.")
    page.get_by_role("button", name="Record a blocked step").click()
    expect(page.get_by_text("Blocked step recorded; the batch's gates show it.")).to_be_visible()
    expect(page.locator(".status-badge", has_text="Blocked").first).to_be_visible()
    shot(page, "42-inspection-blocked")
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, "buyer")
    page.goto(f"{base}/batches/{batch.pk}/inspection/")
    expect(page.get_by_text("2 read, 1 defective")).to_be_visible()
    page.get_by_role("link", name="Inspection #").first.click()
    expect(
        page.get_by_text(
            "Blocked by Factory QA manager: Cartons were sealed for the forwarder.", exact=True
        )
    ).to_be_visible()
    page.goto(f"{base}/batches/{batch.pk}/approvals/")
    expect(page.get_by_text("opening cartons was blocked by Factory QA manager")).to_be_visible()
    shot(page, "43-inspection-seen-by-buyer")
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, base, "service")
    page.get_by_role("link", name="Lookup").click()
    page.locator("input[name=serial]").fill(f"https://id.gs1.org/01/{GTIN}/21/{second}")
    page.locator("input[name=serial]").press("Enter")
    expect(page.get_by_text("PO-OWN").first).to_be_visible()
    expect(page.get_by_text("OWN-B1").first).to_be_visible()
    expect(page.get_by_text("inspection", exact=False).first).to_be_visible()
    shot(page, "44-lookup-sampled-serial")
    # The supplier never sees the sample.
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, base, "supplier_a")
    response = page.goto(f"{base}/batches/{batch.pk}/inspection/")
    assert response is not None and response.status == 404
