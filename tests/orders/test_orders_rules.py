"""The order and batch rules, enforced the same way by services, API and pages."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from orders import services
from orders.models import Batch, PurchaseOrder, validate_gtin
from tests.conftest import Cast, make_order


@pytest.mark.parametrize("gtin", ["05012345678900", "5012345678900", "96385074", "036000291452"])
def test_it_accepts_gtins_with_a_correct_check_digit(gtin: str) -> None:
    validate_gtin(gtin)


@pytest.mark.parametrize(
    ("gtin", "message"),
    [
        ("05012345678901", "not a valid GTIN"),
        ("501234567891", "not a valid GTIN"),
        ("12345", "has 5 digits"),
        ("0501234567890A", "not a valid GTIN"),
    ],
)
def test_it_refuses_bad_gtins(gtin: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_gtin(gtin)


def test_it_requires_a_gtin_or_a_sku(cast: Cast) -> None:
    with pytest.raises(ValidationError) as error:
        make_order(cast.users["buyer"], cast.organisations["supplier_a"], "PO-X", gtin="")
    assert "GTIN or its SKU" in str(error.value)


def test_it_keeps_numbers_unique_per_buyer_only(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="already exists"):
        make_order(cast.users["buyer"], cast.organisations["supplier_b"], "PO-OWN")
    # Another buyer may use the same number.
    make_order(cast.users["other_buyer"], cast.organisations["supplier_b"], "PO-OWN")


def test_the_database_enforces_the_rules_too(cast: Cast) -> None:
    order = cast.orders["own"]
    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseOrder.objects.filter(pk=order.pk).update(gtin="", sku="")
    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseOrder.objects.filter(pk=order.pk).update(
            required_by=order.order_date - datetime.timedelta(days=1)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Batch.objects.create(order=order, code="OWN-B1", planned_quantity=1)


def test_it_refuses_a_supplier_that_is_not_a_supplier(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="is not a supplier"):
        make_order(cast.users["buyer"], cast.organisations["inspection"], "PO-Y")


def test_it_keeps_batches_within_the_order_quantity(cast: Cast) -> None:
    order = cast.orders["own"]
    services.batch_create(order=order, user=cast.users["buyer"], code="B2", planned_quantity=850)
    with pytest.raises(ValidationError, match="can plan at most 50"):
        services.batch_create(order=order, user=cast.users["buyer"], code="B3", planned_quantity=51)
    with pytest.raises(ValidationError, match="cannot be lower"):
        services.order_update(order=order, user=cast.users["buyer"], quantity=900)


def test_it_lets_the_supplier_report_production_but_not_replan(cast: Cast) -> None:
    batch = cast.batches["own"]
    supplier = cast.users["supplier_a"]
    services.batch_update(
        batch=batch,
        user=supplier,
        declared_first_serial="VLT000001",
        declared_last_serial="VLT000100",
        production_started_on=datetime.date(2026, 11, 2),
    )
    batch.refresh_from_db()
    assert batch.declared_range == "VLT000001 – VLT000100"
    with pytest.raises(PermissionDenied, match="planned_quantity"):
        services.batch_update(batch=batch, user=supplier, planned_quantity=5)
    with pytest.raises(PermissionDenied):
        services.batch_update(batch=cast.batches["b_order"], user=supplier, status="produced")


def test_it_needs_both_ends_of_a_declared_range(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="both the first and the last"):
        services.batch_update(
            batch=cast.batches["own"], user=cast.users["supplier_a"], declared_first_serial="A1"
        )


def test_it_refuses_production_ending_before_it_started(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="finish before it started"):
        services.batch_update(
            batch=cast.batches["own"],
            user=cast.users["supplier_a"],
            production_started_on=datetime.date(2026, 11, 5),
            production_finished_on=datetime.date(2026, 11, 4),
        )


def test_the_page_shows_model_errors_next_to_the_field(cast: Cast) -> None:
    response = cast.client("buyer").post(
        reverse("order-create"),
        {
            "number": "PO-NEW",
            "supplier": cast.organisations["supplier_a"].pk,
            "product_name": "Drill",
            "gtin": "05012345678901",
            "quantity": 10,
            "order_date": "2026-11-10",
            "required_by": "2026-11-01",
            "status": "draft",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "not a valid GTIN" in page
    assert "required-by date is before the order date" in page
    assert not PurchaseOrder.objects.filter(number="PO-NEW").exists()


def test_the_pages_create_and_edit_an_order(cast: Cast) -> None:
    client = cast.client("buyer")
    response = client.post(
        reverse("order-create"),
        {
            "number": "PO-NEW",
            "supplier": cast.organisations["supplier_a"].pk,
            "product_name": "Drill",
            "sku": "DRL",
            "quantity": 10,
            "order_date": "2026-11-01",
            "required_by": "2026-12-01",
            "status": "issued",  # a draft is hidden from the supplier, who edits the batch below
            "inspection_firms": [cast.organisations["inspection"].pk],
        },
    )
    order = PurchaseOrder.objects.get(number="PO-NEW")
    assert response.status_code == 302 and response["Location"] == reverse(
        "order-detail", args=[order.pk]
    )
    assert order.buyer == cast.organisations["buyer"]
    assert list(order.inspection_firms.all()) == [cast.organisations["inspection"]]
    response = client.post(
        reverse("batch-create", args=[order.pk]), {"code": "L1", "planned_quantity": 10}
    )
    assert response.status_code == 302
    response = cast.client("supplier_a").post(
        reverse("batch-edit", args=[order.batches.get().pk]),
        {
            "declared_first_serial": "D1",
            "declared_last_serial": "D10",
            "production_started_on": "2026-11-02",
            "production_finished_on": "",
            "status": "in_production",
        },
    )
    assert response.status_code == 302
    assert order.batches.get().status == Batch.Status.IN_PRODUCTION
