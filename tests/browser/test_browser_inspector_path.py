"""The inspector's path on a phone: from the dashboard to the first label in at most two taps,
then one tap per unit (the carton confirmed, not typed), a mismatch shown side by side, a unit
not found and one skipped; no inspection page scrolls sideways at 390 px."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from inspection.models import InspectionPlan, UnitResult
from inspection.selectors import units_in_carton_order
from tests.browser.test_browser_inspection import GTIN, _lot
from tests.browser.test_browser_walk import _sign_in
from tests.conftest import Cast

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _fits(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide at {width} px"


def test_the_inspector_reads_labels_from_the_dashboard_one_tap_per_unit(
    jobs_run: None, live_server: Any, cast: Cast, page: Page, shot: Any
) -> None:
    from inspection import services

    base = live_server.url
    _lot(cast)
    plan = services.inspection_plan_create(
        batch=cast.batches["own"], user=cast.users["inspector"], level="II", aql="1.0", seed=3
    )
    walked = units_in_carton_order(plan)
    page.set_viewport_size(PHONE)
    _sign_in(page, base, "inspector")
    _fits(page, 390)
    shot(page, "inspector-path-dashboard-390")

    taps = 0
    item = page.get_by_role("link", name=re.compile(r"Inspect batch OWN-B1 of PO PO-OWN"))
    expect(item).to_contain_text("50 units to read, 0 read")
    item.click()
    taps += 1
    expect(page.locator(".unit-serial")).to_have_text(walked[0].serial)
    assert taps <= 2  # dashboard → the first label
    expect(page.get_by_label("Carton it was found in")).to_have_value(walked[0].carton)
    _fits(page, 390)
    shot(page, "inspector-path-unit-390")

    # One tap per unit: the label scanned (Enter moves to the button), the carton confirmed.
    for unit, following in zip(walked[:3], walked[1:4], strict=True):
        page.get_by_label("Label as read").fill(f"(01){GTIN}(21){unit.serial}")
        page.get_by_label("Label as read").press("Enter")
        confirm = page.get_by_role("button", name=f"Carton {unit.carton} matches · record")
        expect(confirm).to_be_focused()
        confirm.click()  # the one tap
        expect(page.get_by_text(f"{unit.serial} recorded.")).to_be_visible()
        expect(page.locator(".unit-serial")).to_have_text(following.serial)
    for unit in walked[:3]:
        result = UnitResult.objects.get(unit=unit)
        assert result.carton_found == unit.carton and result.in_right_carton is True

    # A label that is not the list's, in another carton: red, expected and read side by side.
    unit = walked[3]
    page.get_by_label("Label as read").fill(f"(01){GTIN}(21){walked[9].serial}")
    page.get_by_label("Carton it was found in").fill("CTN-99")
    expect(page.get_by_role("button", name=re.compile("matches · record"))).to_be_hidden()
    page.get_by_role("button", name="Record with the carton typed above").click()
    mismatch = page.locator("[data-mismatch]")
    expect(mismatch).to_contain_text("Mismatch: the label does not match the list")
    expect(mismatch.locator('[data-expected="serial"]')).to_have_text(unit.serial)
    expect(mismatch.locator('[data-read="serial"]')).to_contain_text(walked[9].serial)
    expect(mismatch.locator('[data-expected="carton"]')).to_have_text(unit.carton)
    expect(mismatch.locator('[data-read="carton"]')).to_contain_text("CTN-99")
    colour = mismatch.locator('[data-read="serial"]').evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert colour == "rgb(254, 228, 226)"  # the red of a finding
    _fits(page, 390)
    shot(page, "inspector-path-mismatch-390")
    page.set_viewport_size({"width": 1366, "height": 900})
    shot(page, "inspector-path-mismatch-1366")
    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="Confirm the mismatch and go to the next unit").click()

    # Not found (a finding) and skip (back at the end), each one tap.
    expect(page.locator(".unit-serial")).to_have_text(walked[4].serial)
    page.get_by_role("button", name="Unit not found").click()
    expect(page.get_by_text(f"{walked[4].serial} recorded as not found")).to_be_visible()
    expect(page.locator(".unit-serial")).to_have_text(walked[5].serial)
    page.get_by_role("button", name="Skip for now").click()
    expect(page.get_by_text(f"{walked[5].serial} skipped")).to_be_visible()
    expect(page.locator(".unit-serial")).to_have_text(walked[6].serial)
    expect(page.locator("[data-progress]")).to_contain_text("5 of 50 read · 1 skipped")
    methods = [UnitResult.objects.get(unit=u).method for u in (walked[4], walked[5])]
    assert methods == ["not_found", "skipped"]

    # Every inspection page fits the phone.
    urls = [
        reverse("inspection-detail", args=[plan.pk]),
        reverse("inspection-detail", args=[plan.pk]) + "?state=defective",
        reverse("inspection-checklist", args=[plan.pk]),
        reverse("batch-inspections", args=[plan.batch_id]),
        reverse("sampled-unit", args=[walked[3].pk]),
    ]
    for url in urls:
        page.goto(base + url)
        _fits(page, 390)
    page.goto(base + urls[0])
    cards = page.get_by_test_id("sampled-unit-cards")
    expect(cards).to_be_visible()
    expect(cards.locator("li").first).to_contain_text(walked[0].serial)
    shot(page, "inspector-path-inspection-390")
    page.goto(base + urls[2])
    shot(page, "inspector-path-checklist-390")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(base + urls[0])
    expect(page.get_by_test_id("sampled-units")).to_be_visible()
    _fits(page, 1366)
    shot(page, "inspector-path-inspection-1366")
    assert InspectionPlan.objects.get(pk=plan.pk).units.count() == 50
