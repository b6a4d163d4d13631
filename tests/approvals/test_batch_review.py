"""The review page of a batch, on the demo: the records side by side, and a draft of the one
sentence that follows from them (accepted, accepted with conditions, rejected)."""

from __future__ import annotations

import re
from html import unescape
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from orders.models import Batch
from portal.models import User
from serials import services as serial_services
from serials.exception_models import SerialException


@pytest.fixture
def demo(db: None) -> None:
    call_command("seed_demo", stdout=StringIO())


def _page(username: str, batch: Batch) -> tuple[int, str]:
    client = Client()
    client.force_login(User.objects.get(username=username))
    response = client.get(reverse("batch-review", args=[batch.pk]))
    return response.status_code, unescape(response.content.decode())


def _draft(page: str) -> tuple[str, str]:
    """(decision checked, sentence) of the draft form."""
    decision = re.search(r'name="decision"[^>]*value="(\w+)" checked', page)
    sentence = re.search(r'<textarea[^>]*name="sentence"[^>]*>([^<]*)</textarea>', page)
    assert decision and sentence, "the draft form is missing"
    return decision.group(1), sentence.group(1)


def test_the_buyer_sees_every_record_of_a_batch_with_open_exceptions_side_by_side(
    demo: None,
) -> None:
    b2 = Batch.objects.get(order__number="2026-0141", code="B2")
    status, page = _page("buyer", b2)
    assert status == 200
    for heading in (
        "The order's terms and the promise to customers",
        "The approved sample",
        "Serials and exceptions",
        "Factory evidence",
        "Inspection: instruction and result",
        "Payment schedule",
        "The supplier's latest statement",
        "The one sentence",
    ):
        assert heading in page, heading
    assert b2.order.customer_promise.splitlines()[0] in page
    # The exceptions with the supplier's reasons, answered or not.
    assert "Test scrap" in page and "not answered yet" in page
    # The money: the balance due through the batch's shipment release.
    assert "USD 42,000.00" in page
    decision, sentence = _draft(page)
    assert decision == "accepted_with_conditions"
    assert sentence.startswith("Batch B2 of PO 2026-0141 is accepted on condition that ")
    assert "open exceptions are explained and decided" in sentence
    # The draft goes to the approval form; nothing is signed here.
    assert f'action="{reverse("batch-approvals", args=[b2.pk])}"' in page
    assert 'method="get"' in page


def test_a_rejected_exception_turns_the_draft_into_a_rejection(demo: None) -> None:
    b2 = Batch.objects.get(order__number="2026-0141", code="B2")
    answered = SerialException.objects.filter(
        batch=b2, status=SerialException.Status.ANSWERED
    ).first()
    assert answered is not None
    serial_services.exception_decide(
        exceptions=[answered],
        user=User.objects.get(username="buyer"),
        decision="rejected",
        note="A scrap tag is not proof of destruction.",
        promises=["identity"],
    )
    decision, sentence = _draft(_page("buyer", b2)[1])
    assert decision == "rejected"
    assert sentence == "Batch B2 of PO 2026-0141 is rejected: 1 exception was rejected."


def test_finance_reads_the_review_but_drafts_nothing(demo: None) -> None:
    b2 = Batch.objects.get(order__number="2026-0141", code="B2")
    status, page = _page("finance", b2)
    assert status == 200
    assert "Payment schedule" in page and 'name="sentence"' not in page


@pytest.mark.parametrize("username", ["supplier_a", "inspector", "service"])
def test_the_review_is_not_there_for_the_supplier_the_inspector_or_service(
    demo: None, username: str
) -> None:
    b2 = Batch.objects.get(order__number="2026-0141", code="B2")
    assert _page(username, b2)[0] == 404


def test_the_batch_page_leads_the_buyer_to_the_review_and_not_the_supplier(demo: None) -> None:
    b2 = Batch.objects.get(order__number="2026-0141", code="B2")
    link = reverse("batch-review", args=[b2.pk])
    for username, shown in (("buyer", True), ("finance", True), ("supplier_a", False)):
        client = Client()
        client.force_login(User.objects.get(username=username))
        page = client.get(reverse("batch-detail", args=[b2.pk])).content.decode()
        assert (link in page) is shown, username
