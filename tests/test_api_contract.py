"""What the API says it does (issue 13): every refusal documented, query parameters checked (a
bad one is a 400 naming it), unknown API paths answered in JSON. The bounded schemathesis run
(test_api_schema_fuzz) checks the answers against the schema; these name the cases."""

from __future__ import annotations

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from tests.conftest import Cast


@pytest.fixture(scope="module")
def operations() -> list[tuple[str, str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_operation_documents_its_refusals(operations: list[tuple[str, str, dict]]) -> None:
    for method, path, operation in operations:
        answers = set(operation["responses"])
        where = f"{method} {path}"
        parameters = {parameter["in"] for parameter in operation.get("parameters", [])}
        if method != "GET" or "query" in parameters:
            assert "400" in answers, where
        if path == "/api/auth/token/":
            assert {"400", "429"} <= answers, where
            continue
        assert {"401", "403"} <= answers, where
        if "path" in parameters or method != "GET":
            assert "404" in answers, where
        for code in answers - {"200", "201", "202"}:
            content = operation["responses"][code]["content"]["application/json"]
            assert content["schema"]["$ref"].startswith("#/components/schemas/"), (where, code)
    releases = [op for method, path, op in operations if path.endswith("/release/")]
    assert "409" in releases[0]["responses"]


@pytest.mark.parametrize(
    "query",
    [
        {"page": ""},
        {"page": "abc"},
        {"page": "0"},
        {"status": "bogus"},
        {"status": ""},
        {"required_by_before": "notadate"},
        {"required_by_before": ""},
        {"supplier": "x"},
        {"q": ""},
        {"ordering": "bogus"},
        {"ordering": "-number,product_name"},
        {"ordering": ""},
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(cast: Cast, query: dict[str, str]) -> None:
    response = cast.api("buyer").get(reverse("api-order-list"), query)
    assert response.status_code == 400
    assert response.json().keys() == query.keys()


def test_good_query_parameters_and_unknown_ones_are_answered(cast: Cast) -> None:
    api = cast.api("buyer")
    url = reverse("api-order-list")
    ordered = api.get(url, {"ordering": "-number,required_by", "page": "1", "whatever": ""})
    assert ordered.status_code == 200
    assert [order["number"] for order in ordered.json()["results"]] == ["PO-OWN", "PO-BEE"]
    assert api.get(url, {"page": "2"}).status_code == 404  # past the last page
    assert api.get(url, {"page": "9" * 30}).status_code == 404


def test_unknown_api_paths_and_bad_ids_answer_json(cast: Cast) -> None:
    api = cast.api("buyer")
    for path in ("/api/nothing-here/", "/api/orders/abc/", "/api/orders/999999999/"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json", path
        assert "detail" in response.json()


def test_a_body_django_refuses_to_read_is_a_json_400(cast: Cast, settings: object) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10  # type: ignore[attr-defined]
    form = {"ids": [str(number) for number in range(1, 50)], "reason": "x"}
    response = cast.api("supplier_a").post(reverse("api-exception-answers"), form)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_text_fields_take_text_only(cast: Cast) -> None:
    response = cast.api("buyer").post(
        reverse("api-order-batches", args=[cast.orders["own"].pk]),
        {"code": 12, "planned_quantity": 5},
        format="json",
    )
    assert response.status_code == 400 and set(response.json()) == {"code"}
