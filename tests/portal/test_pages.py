"""The order and batch pages belong to orders; serials and evidence add to them by registry."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal import pages
from tests.conftest import Cast


def test_the_batch_page_shows_what_serials_and_evidence_registered(cast: Cast) -> None:
    registered = {provider.__module__ for provider in pages._providers["batch"]}
    assert {"serials.pages", "evidence.pages"} <= registered
    page = cast.client("buyer").get(reverse("batch-detail", args=[cast.batches["own"].pk]))
    assert page.status_code == 200
    assert "No serial list yet" in page.content.decode()  # serials' status, with its label
    assert "current files on file" in page.content.decode()


def test_the_order_page_shows_the_numbering_rule_serials_registered(cast: Cast) -> None:
    assert [p.__module__ for p in pages._providers["order"]] == ["serials.pages"]
    page = cast.client("buyer").get(reverse("order-detail", args=[cast.orders["own"].pk]))
    assert "No numbering rule for" in page.content.decode()


def test_a_registered_provider_reaches_the_batch_page(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(pages._providers, "batch", list(pages._providers["batch"]))
    seen = []
    pages.page_context_register("batch", lambda user, batch: seen.append(batch) or {})
    cast.client("supplier_a").get(reverse("batch-detail", args=[cast.batches["own"].pk]))
    assert seen == [cast.batches["own"]]


def test_two_providers_of_a_page_may_not_give_the_same_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(pages._providers, "batch", [])
    pages.page_context_register("batch", lambda user, batch: {"evidence": 1})
    pages.page_context_register("batch", lambda user, batch: {"evidence": 2})
    with pytest.raises(RuntimeError, match="evidence"):
        pages.page_context("batch", None, None)  # type: ignore[arg-type]
