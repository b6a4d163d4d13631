"""Signed-in answers are never cached; unknown API paths answer JSON; exports neutralise formulas
however they are disguised."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.exports import spreadsheet_safe
from tests.conftest import ROLES, Cast


@pytest.mark.parametrize("role", ROLES)
def test_signed_in_pages_and_api_answers_are_not_stored(cast: Cast, role: str) -> None:
    page = cast.client(role).get(reverse("order-list"))
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]
    api = cast.api(role).get(reverse("api-order-list"))
    assert "no-store" in api["Cache-Control"]


def test_public_answers_keep_their_caching(db: None, client: object) -> None:
    schema = client.get(reverse("api-schema"))  # type: ignore[attr-defined]
    assert schema.status_code == 200
    assert "no-store" not in schema.get("Cache-Control", "")


def test_an_unknown_api_path_answers_json(cast: Cast) -> None:
    for client in (cast.api("buyer"), cast.client(None)):
        response = client.get("/api/no-such-thing/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}
    page = cast.client("buyer").get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "cell",
    ["=1+1", "+1", "-1", "@SUM(A1)", "\ufeff=HYPERLINK(1)", "  =1", "\u200b=1", "＝1+1", "＠A1"],
)
def test_a_disguised_formula_is_neutralised(cell: str) -> None:
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["VLT000001", "Line 2, carton 4", "", "a=b"])
def test_plain_text_is_left_alone(cell: str) -> None:
    assert spreadsheet_safe(cell) == cell
