"""What a signed approval or the registry rests on cannot change under it: the order's GTIN and
SKU, a batch's code and declared range. Refused by the services, so page, API and admin agree."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders import services
from orders.models import Batch, PurchaseOrder
from tests.conftest import Cast


def _accept_serials(cast: Cast, key: str) -> Batch:
    from serials import services as serial_services

    serial_services.numbering_rule_save(
        user=cast.users["buyer"], product="05012345678900", prefix="VLT", width=6
    )
    batch = cast.batches[key]
    serial_list = serial_services.serial_list_upload(
        batch=batch,
        user=cast.users["buyer"],
        uploaded_file=SimpleUploadedFile("clean.csv", b"serial\nVLT000001\nVLT000002\n"),
    )
    serial_services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_services.batch_serials_accept(batch=batch, user=cast.users["buyer"])
    return batch


@pytest.mark.parametrize("change", [{"sku": "OTHER-SKU"}, {"gtin": ""}])
def test_it_refuses_a_new_product_once_an_approval_is_signed(
    cast_with_lists: Cast, change: dict
) -> None:
    cast = cast_with_lists
    order = cast.orders["own"]
    response = cast.api("buyer").patch(
        reverse("api-order-detail", args=[order.pk]), change, format="json"
    )
    assert response.status_code == 400, response.content
    [field] = change
    assert field in response.json()
    assert "signed approval" in str(response.json()[field])
    order.refresh_from_db()
    assert (order.gtin, order.sku) == ("05012345678900", "")


def test_it_still_lets_the_buyer_change_what_nothing_rests_on(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    order = cast.orders["own"]
    response = cast.api("buyer").patch(
        reverse("api-order-detail", args=[order.pk]),
        {"product_name": "Volta 65W charger, EU plug", "gtin": order.gtin},
        format="json",
    )
    assert response.status_code == 200, response.content


def test_it_refuses_a_new_declared_range_once_an_approval_is_signed(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    batch = cast.batches["own"]
    response = cast.api("supplier_a").patch(
        reverse("api-batch-detail", args=[batch.pk]),
        {"declared_first_serial": "VLT000050"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "declared_first_serial" in response.json()
    renamed = cast.api("buyer").patch(
        reverse("api-batch-detail", args=[batch.pk]), {"code": "B1-NEW"}, format="json"
    )
    assert renamed.status_code == 400 and "code" in renamed.json()
    assert Batch.objects.get(pk=batch.pk).code == batch.code


def test_it_names_the_field_and_why_on_the_order_page(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    order = cast.orders["own"]
    data = {
        "number": order.number,
        "supplier": order.supplier_id,
        "product_name": order.product_name,
        "gtin": "04012345678901",
        "sku": "",
        "quantity": order.quantity,
        "order_date": order.order_date.isoformat(),
        "required_by": order.required_by.isoformat(),
        "status": order.status,
        "inspection_firms": [cast.organisations["inspection"].pk],
    }
    response = cast.client("buyer").post(reverse("order-edit", args=[order.pk]), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "gtin" in errors and "signed approval" in errors["gtin"][0]
    assert PurchaseOrder.objects.get(pk=order.pk).gtin == "05012345678900"


def test_it_freezes_the_product_once_the_registry_holds_the_serials(cast: Cast) -> None:
    batch = _accept_serials(cast, "own")
    with pytest.raises(ValidationError) as refused:
        services.order_update(order=cast.orders["own"], user=cast.users["buyer"], sku="X-1")
    assert "registry" in str(refused.value.message_dict["sku"])
    with pytest.raises(ValidationError):
        services.batch_update(
            batch=batch, user=cast.users["supplier_a"], declared_last_serial="VLT000099"
        )
    # Another order, with nothing signed or accepted, still changes freely.
    services.order_update(order=cast.orders["b_order"], user=cast.users["buyer"], sku="X-1")


def test_it_refuses_it_in_the_admin_too(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    batch = cast.batches["own"]
    response = cast.client("admin").post(
        reverse("admin:orders_batch_change", args=[batch.pk]),
        {"code": "RENAMED", "planned_quantity": 100, "status": batch.status, "_save": "Save"},
    )
    assert response.status_code == 200
    assert "signed approval" in response.content.decode()
    assert Batch.objects.get(pk=batch.pk).code == batch.code
