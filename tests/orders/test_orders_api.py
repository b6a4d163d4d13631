from __future__ import annotations

from django.urls import reverse
from rest_framework.test import APIClient

from orders.models import PurchaseOrder
from portal.models import AuditEvent
from tests.conftest import PASSWORD, Cast


def test_it_exchanges_a_password_for_a_token(cast: Cast) -> None:
    client = APIClient()
    response = client.post(reverse("api-token"), {"username": "buyer", "password": PASSWORD})
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get(reverse("api-order-list")).status_code == 200
    wrong = APIClient().post(reverse("api-token"), {"username": "buyer", "password": "nope"})
    assert wrong.status_code == 400


def test_it_creates_an_audited_order(cast: Cast) -> None:
    response = cast.api("buyer").post(
        reverse("api-order-list"),
        {
            "number": "PO-API",
            "supplier": cast.organisations["supplier_b"].pk,
            "product_name": "Drill",
            "gtin": "05012345678900",
            "quantity": 50,
            "order_date": "2026-11-01",
            "required_by": "2026-11-30",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["buyer"] == "Buyer Co" and body["status"] == "draft"
    order = PurchaseOrder.objects.get(pk=body["id"])
    assert AuditEvent.objects.filter(order=order, action="order.created").exists()


def test_it_answers_rule_violations_with_field_messages(cast: Cast) -> None:
    api = cast.api("buyer")
    response = api.post(
        reverse("api-order-list"),
        {
            "number": "PO-OWN",
            "supplier": cast.organisations["supplier_b"].pk,
            "product_name": "Drill",
            "gtin": "05012345678901",
            "quantity": 0,
            "order_date": "2026-11-01",
            "required_by": "2026-10-01",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "not a valid GTIN" in response.json()["gtin"][0]
    assert "quantity" in response.json()
    response = api.post(
        reverse("api-order-list"),
        {
            "number": "PO-OWN",
            "supplier": cast.organisations["supplier_b"].pk,
            "product_name": "Drill",
            "sku": "D",
            "quantity": 5,
            "order_date": "2026-11-01",
            "required_by": "2026-10-01",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "before the order date" in body["required_by"][0]
    assert "already exists" in str(body)


def test_it_refuses_fields_the_caller_cannot_set(cast: Cast) -> None:
    batch = cast.batches["own"]
    response = cast.api("supplier_a").patch(
        reverse("api-batch-detail", args=[batch.pk]), {"planned_quantity": 1}, format="json"
    )
    assert response.status_code == 403
    assert "planned_quantity" in response.json()["detail"]
    response = cast.api("buyer").patch(
        reverse("api-order-detail", args=[cast.orders["own"].pk]),
        {"buyer": 3, "id": 9},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"buyer", "id"}


def test_it_filters_and_paginates(cast: Cast) -> None:
    api = cast.api("buyer")
    body = api.get(reverse("api-order-list"), {"q": "bee"}).json()
    assert [order["number"] for order in body["results"]] == ["PO-BEE"]
    assert body["count"] == 1 and "next" in body
    body = api.get(
        reverse("api-order-list"), {"supplier": cast.organisations["supplier_a"].pk}
    ).json()
    assert [order["number"] for order in body["results"]] == ["PO-OWN"]
    batches = api.get(reverse("api-order-batches", args=[cast.orders["own"].pk])).json()
    assert [batch["code"] for batch in batches["results"]] == ["OWN-B1"]


def test_it_serves_the_schema_and_local_swagger(cast: Cast) -> None:
    client = cast.client("buyer")
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = schema.json()["paths"]
    assert {
        "/api/orders/",
        "/api/orders/{id}/",
        "/api/orders/{id}/batches/",
        "/api/batches/{id}/",
        "/api/auth/token/",
    } <= set(paths)
    docs = client.get(reverse("api-docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower()
