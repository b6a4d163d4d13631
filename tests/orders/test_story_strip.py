"""The order page's story strip per batch and the batch page's headline, on the demo: each stage
in its state, the inspection step for those who may see inspections only."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from orders.models import Batch
from portal.models import User


@pytest.fixture
def demo(db: None) -> None:
    call_command("seed_demo", stdout=StringIO())


def _client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _strip(page: str, code: str) -> list[tuple[str, str]]:
    """(state, name) of each chip in the strip of batch ``code``."""
    row = page.split(f'data-testid="stages-{code}"', 1)[1].split("</tr>", 1)[0]
    return re.findall(
        r'class="stage stage-(\w+)">\s*<a[^>]*>\s*<i[^>]*></i>\s*<span class="stage-name">([^<]+)',
        row,
    )


def test_the_order_page_shows_each_batch_s_story(demo: None) -> None:
    b1 = Batch.objects.get(order__number="2026-0141", code="B1")
    page = _client("buyer").get(reverse("order-detail", args=[b1.order_id])).content.decode()
    assert _strip(page, "B1") == [
        ("done", "Serial list"),
        ("done", "Exceptions"),
        ("done", "Approval"),
        ("done", "Gates"),  # deposit and shipment release both released
        ("problem", "Inspection"),  # the demo's blocked carton step
    ]
    assert [name for _, name in _strip(page, "B2")][:3] == ["Serial list", "Exceptions", "Approval"]


def test_a_supplier_never_sees_the_inspection_step(demo: None) -> None:
    b1 = Batch.objects.get(order__number="2026-0141", code="B1")
    page = _client("supplier_a").get(reverse("order-detail", args=[b1.order_id])).content.decode()
    assert [name for _, name in _strip(page, "B1")] == [
        "Serial list",
        "Exceptions",
        "Approval",
        "Gates",
    ]


def test_the_batch_page_leads_with_the_decision_and_what_it_rests_on(demo: None) -> None:
    b1 = Batch.objects.get(order__number="2026-0141", code="B1")
    approval = b1.approvals.order_by("-id").first()
    page = _client("supplier_a").get(reverse("batch-detail", args=[b1.pk])).content.decode()
    headline = page.split('data-testid="batch-headline"', 1)[1].split('class="stage-strip', 1)[0]
    assert approval.sentence.replace("'", "&#x27;") in headline
    assert "Rests on:" in headline and reverse("approval-detail", args=[approval.pk]) in headline
    assert "It tests: Product identity, shipment evidence" in headline
    # B2 is accepted with conditions (demo.conditions_story); L01 of PO 2026-0152 has no decision.
    b2 = Batch.objects.get(order__number="2026-0141", code="B2")
    page = _client("buyer").get(reverse("batch-detail", args=[b2.pk])).content.decode()
    assert "Accepted with conditions" in page
    assert "It tests: Process control, shipment evidence" in page
    l01 = Batch.objects.get(order__number="2026-0152", code="L01")
    page = _client("buyer").get(reverse("batch-detail", args=[l01.pk])).content.decode()
    assert "No decision yet" in page
