"""The dashboard shows what the apps registered in portal.dashboard, in registration order."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from portal import dashboard
from portal.dashboard import WaitingItem
from tests.conftest import Cast, make_order

FAR = datetime.date(2099, 1, 1)


def _titles(cast: Cast, username: str) -> list[str]:
    response = cast.client(username).get(reverse("dashboard"))
    assert response.status_code == 200
    return [item.title for item in response.context["waiting"]]


def test_orders_tell_each_role_what_waits_on_it(cast: Cast) -> None:
    supplier = cast.organisations["supplier_a"]
    make_order(cast.users["buyer"], supplier, "PO-DRAFT", status="draft", required_by=FAR)
    make_order(cast.users["buyer"], supplier, "PO-EMPTY", required_by=FAR)
    buyer = [title for title in _titles(cast, "buyer") if "overdue" not in title]
    assert buyer == ["Issue PO PO-DRAFT to Supplier A Co", "Plan batches for PO PO-EMPTY"]
    supplier_a = _titles(cast, "supplier_a")
    assert "PO PO-EMPTY has no batches yet" in supplier_a
    assert "PO PO-DRAFT has no batches yet" not in supplier_a
    # The inspector's items come from the inspection app (an inspection to read, a batch to
    # sample: tests/inspection/test_inspector_path.py); PO-OWN has neither yet.
    assert _titles(cast, "inspector") == []
    assert _titles(cast, "service") == []


def test_a_registered_source_is_listed_after_the_earlier_ones(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "_waiting_sources", list(dashboard._waiting_sources))
    item = WaitingItem("Read the new rules", "From a later app.", "/later/")
    dashboard.waiting_register(lambda user: [item])
    assert _titles(cast, "buyer")[-1] == "Read the new rules"
    assert _titles(cast, "inspector") == ["Read the new rules"]
    page = cast.client("inspector").get(reverse("dashboard")).content.decode()
    assert "Read the new rules" in page and 'href="/later/"' in page


def test_two_providers_may_not_give_the_same_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "_context_providers", [])
    dashboard.context_register(lambda user: {"orders": 1})
    dashboard.context_register(lambda user: {"orders": 2})
    with pytest.raises(RuntimeError, match="orders"):
        dashboard.dashboard_context(None)  # type: ignore[arg-type]


def test_dated_items_come_first_overdue_before_soonest(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = datetime.date.today()
    monkeypatch.setattr(dashboard, "_waiting_sources", [])
    undated = WaitingItem("Undated", "", "/a/")
    later = WaitingItem("Later", "", "/b/", due=today + datetime.timedelta(days=9))
    sooner = WaitingItem("Sooner", "", "/c/", due=today + datetime.timedelta(days=1))
    late = WaitingItem("Late", "", "/d/", due=today - datetime.timedelta(days=2), overdue=True)
    just_late = WaitingItem("Just late", "", "/e/", due=today, overdue=True)
    dashboard.waiting_register(lambda user: [undated, later, sooner])
    dashboard.waiting_register(lambda user: [just_late, late])
    assert _titles(cast, "buyer") == ["Late", "Just late", "Sooner", "Later", "Undated"]
    assert sooner.due_soon and not later.due_soon and not late.due_soon
