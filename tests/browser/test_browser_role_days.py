"""Each role's day on the demo, from its inbox (issue 14): signed in as the demo's people, the
dashboard lists exactly the work each one has, with counts and due dates, and the first tap on an
item lands where the work is done. The supplier works in Simplified Chinese.

What each role should see follows from the demo's story (demo/story.py and its companions): the
buyer decides answered exceptions, reviews a statement and issues a draft; supplier A answers two
requests (the sooner due first), uploads missing evidence and answers exceptions; finance pays a
released balance and sees money paid while a gate was blocked; the inspector reads labels;
customer service has nothing to act on and a lookup at hand."""

from __future__ import annotations

import datetime
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from demo.management.commands.seed_demo import DEFAULT_PASSWORD
from portal.models import User
from serials.models import ExceptionAnswer

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db: None, live_server: Any) -> str:
    call_command("seed_demo", stdout=StringIO())
    return str(live_server.url)


def _sign_in(page: Page, base: str, username: str, language: str = "") -> None:
    page.goto(f"{base}/login/")
    if language:
        page.locator("#language-switch").select_option(language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page.get_by_test_id("inbox")).to_be_visible()


def _inbox(page: Page) -> list[str]:
    return [
        text.strip()
        for text in page.get_by_test_id("inbox")
        .locator(".waiting-item .fw-semibold")
        .all_inner_texts()
    ]


def _count_in_nav(page: Page) -> str:
    return page.get_by_test_id("inbox-count").inner_text().split()[-1]


def test_the_buyer_s_day(demo: str, page: Page, shot: Any) -> None:
    _sign_in(page, demo, "buyer")
    assert _inbox(page) == [
        "Issue PO 2026-0160 to Brightline Electronics Co.",
        "Review the statement on “Burn-in log for the twelve scrapped units”",
        "Decide 2 answered exceptions",
        "Open point closed: “Show that the packing scanner of hall B now refuses a label it has "
        "already read (the double scan of VLT000107250).”",
    ]
    assert _count_in_nav(page) == "4"
    shot(page, "day-buyer-inbox")
    # One tap: the exceptions waiting for a decision, and only those.
    page.get_by_role("link", name=re.compile("Decide 2 answered exceptions")).click()
    expect(page).to_have_url(re.compile(r"/batches/\d+/exceptions/\?status=answered"))
    expect(page.locator("select[name^=choice-]")).to_have_count(2)
    # Both decided in one action.
    for choice in page.locator("select[name^=choice-]").all():
        choice.select_option("accepted")
    page.get_by_label("Process control").check()  # what this review tests
    page.get_by_role("button", name="Record decisions").click()
    expect(page.get_by_text("2 exceptions decided.")).to_be_visible()
    page.goto(f"{demo}/")
    assert "Decide 2 answered exceptions" not in _inbox(page)


def test_a_supplier_s_day_in_simplified_chinese(demo: str, page: Page, shot: Any) -> None:
    _sign_in(page, demo, "supplier_a", language="zh-hans")
    assert User.objects.get(username="supplier_a").language == ""  # chosen signed out: a cookie
    assert _inbox(page) == [
        "答复问询“Photo of the reprinted label”",
        "答复问询“Carton list of B2 before palletising”",
        "上传缺少的 2 类证据",
        "答复 4 个序列号异常",
    ]
    inbox = page.get_by_test_id("inbox")
    expect(inbox.locator(".waiting-item").first).to_contain_text("即将到期")  # due soon
    expect(page.get_by_role("link", name=re.compile("采购订单"))).to_be_visible()  # the nav
    shot(page, "day-supplier-zh-inbox")
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "day-supplier-zh-inbox-phone")
    page.set_viewport_size({"width": 1366, "height": 900})

    # The exceptions, answered in one submission: a reason per row, no reason preselected.
    page.get_by_role("link", name=re.compile("答复 4 个序列号异常")).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    choices = page.locator("select[name^=choice-]")
    expect(choices).to_have_count(4)
    for choice in choices.all():
        expect(choice).to_have_value("")
    answers = ExceptionAnswer.objects.count()
    choices.nth(0).select_option("test_scrap")
    choices.nth(1).select_option("keying_error")
    page.locator("input[name^=note-]").nth(0).fill("老化测试报废 12 台，报废单 LOG-77。")
    page.locator("form button[type=submit]").filter(has_text="发送答复").click()
    expect(page.locator(".alert-success")).to_be_visible()
    assert ExceptionAnswer.objects.count() == answers + 2
    shot(page, "day-supplier-zh-answered")
    page.goto(f"{demo}/")
    assert "答复 2 个序列号异常" in _inbox(page)


def test_finance_s_day(demo: str, page: Page, shot: Any) -> None:
    _sign_in(page, demo, "finance")
    assert _inbox(page) == [
        "Pay 42,000.00 USD: Shipment release of batch B1",
        # B2's approval with conditions: its open point closed, the gate waits for finance.
        "Release: Shipment release of batch B2",
        "1 payment made while Deposit of PO 2026-0152 is blocked",
    ]
    balance_due = timezone.localdate() + datetime.timedelta(days=14)  # demo/story.py
    expect(page.get_by_test_id("inbox")).to_contain_text(f"due {balance_due:%-d %b %Y}")
    shot(page, "day-finance-inbox")
    # The payment form, prefilled from the gate: what is owed, in its currency, to the supplier.
    page.get_by_role("link", name=re.compile("Pay 42,000.00 USD")).click()
    expect(page.get_by_label("Amount")).to_have_value("42000.00")
    expect(page.get_by_label("Currency")).to_have_value("USD")
    expect(page.get_by_label("Payee")).to_have_value("Brightline Electronics Co.")
    shot(page, "day-finance-payment-prefilled")


def test_the_inspector_s_day(demo: str, page: Page, shot: Any) -> None:
    _sign_in(page, demo, "inspector")
    assert _inbox(page) == [
        "Inspect batch B1 of PO 2026-0141: 187 units to read, 13 read",
        "Plan the sample of batch B2 of PO 2026-0141",
    ]
    page.get_by_role("link", name=re.compile("Inspect batch B1")).click()  # the one tap
    expect(page.locator(".unit-serial")).to_be_visible()
    expect(page.get_by_label("Carton it was found in")).not_to_have_value("")
    shot(page, "day-inspector-first-label")


def test_customer_service_s_day(demo: str, page: Page, shot: Any) -> None:
    _sign_in(page, demo, "service")
    assert _inbox(page) == []
    expect(page.get_by_text("Nothing is waiting on you.")).to_be_visible()
    page.get_by_label("Look up a serial").fill("VLT000100001")
    page.get_by_label("Look up a serial").press("Enter")
    expect(page).to_have_url(re.compile(r"/lookup/"))
    expect(page.get_by_text("VLT000100001").first).to_be_visible()
    shot(page, "day-service-lookup")
    # The lookup heads "Your recent lookups", above the demo's earlier ones; one tap repeats one.
    recent = page.get_by_test_id("recent-lookups").locator("[data-lookup-log]")
    expect(recent.first).to_contain_text("VLT000100001")
    expect(recent).to_have_count(4)
    recent.nth(1).click()
    expect(page.locator("[data-lookup-result]")).to_be_visible()
    expect(page.locator("#id_serial")).to_have_value("(01)05012345678900(21)VLT000100050")
