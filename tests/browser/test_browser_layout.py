"""At a laptop's 1,366 px nothing the user must read is cut off: the batch page's list table,
its file box, the inspection progress label, the sentence being signed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from inspection import services as inspection_services
from tests.browser.test_browser_inspection import _lot
from tests.browser.test_browser_walk import _sign_in
from tests.conftest import Cast

pytestmark = pytest.mark.browser

SENTENCE = (
    "Batch OWN-B1 (300 chargers, VLT000001–VLT000300, none missing, none duplicated) may ship "
    "once carton CTN-05 is re-taped, and its balance may be paid after the inspector's visit."
)


def _fits(page: Page, selector: str) -> bool:
    """The element shows all it holds: nothing scrolls inside it, sideways or down."""
    return page.locator(selector).first.evaluate(
        "e => e.scrollWidth <= e.clientWidth + 1 && e.scrollHeight <= e.clientHeight + 1"
    )


def test_nothing_is_cut_off_at_1366_px(
    jobs_run: None, live_server: Any, cast: Cast, page: Page
) -> None:
    base = live_server.url
    _lot(cast)
    batch = cast.batches["own"]
    plan = inspection_services.inspection_plan_create(
        batch=batch, user=cast.users["inspector"], level="II", aql="1.0"
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in(page, base, "buyer")

    page.goto(f"{base}/batches/{batch.pk}/")
    assert _fits(page, ".serial-lists >> xpath=..")  # the table's scroll box
    file_box = page.locator("input[type=file]").first.bounding_box()
    assert file_box is not None and file_box["width"] >= 300  # "No file chosen" in full

    page.goto(f"{base}/inspections/{plan.pk}/")
    assert page.get_by_text(f"0/{plan.sample_size}", exact=True).is_visible()

    page.goto(f"{base}/batches/{batch.pk}/approvals/")
    sentence = page.get_by_label("The decision in one sentence")
    assert sentence.evaluate("e => e.tagName") == "TEXTAREA"
    sentence.fill(SENTENCE)
    assert _fits(page, "#id_sentence")


def test_the_browser_enforces_the_policy_on_a_portal_page(
    transactional_db: None, live_server: Any, browser: Any
) -> None:
    """Not only a header: Chromium refuses a script and a style injected into the page (as a
    stored cross-site script would be), while the portal's own scripts run (the progress bars
    that static/js/portal.js widens). A context of its own: its refusals are the point here."""
    context = browser.new_context()
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    page.goto(f"{live_server.url}/login/")
    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.head.appendChild(script);
            const style = document.createElement("style");
            style.textContent = "body { display: none }";
            document.head.appendChild(style);
        }"""
    )
    assert page.evaluate("() => window.injected === undefined")
    assert page.locator("body").is_visible()
    assert any("Content Security Policy" in text for text in refused), refused
    assert page.evaluate("() => typeof htmx") == "object"  # the vendored scripts still load
    context.close()
