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


def _policy(response: object) -> dict[str, str]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_page_carries_a_strict_content_security_policy(cast: Cast, role: str | None) -> None:
    page = cast.client(role).get(reverse("login") if role is None else reverse("dashboard"))
    policy = _policy(page)
    for directive in ("script-src", "style-src", "default-src"):
        assert policy[directive] == f"{directive} 'self'", policy[directive]
    assert "unsafe-inline" not in page["Content-Security-Policy"]
    assert "unsafe-eval" not in page["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"


def test_no_template_carries_inline_script_or_style() -> None:
    """The policy refuses them; a template that brings one back shows a dead control or a bar
    that never moves. The approval record is drawn by WeasyPrint, never served as a page."""
    import re
    from pathlib import Path

    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>|<style\b|\sstyle=|\son[a-z]+=",
        re.I,
    )
    root = Path(__file__).resolve().parents[2] / "templates"
    found = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in root.rglob("*.html")
        if path.name != "approval_record_pdf.html"
        for match in inline.finditer(path.read_text())
    ]
    assert not found, found


def test_the_api_documentation_runs_without_inline_script(cast: Cast) -> None:
    page = cast.client("buyer").get(reverse("api-docs"))
    assert page.status_code == 200
    assert b"<script>" not in page.content.replace(b" ", b"")
    start = cast.client("buyer").get(reverse("api-docs") + "?script=")
    assert start.status_code == 200 and b"SwaggerUIBundle" in start.content


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
