"""Guessing passwords: five wrong in a row lock that user name from that address for a while,
on the sign-in page and the API token endpoint alike; other users are not affected."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, Cast


def _sign_in(client: Client, username: str, password: str) -> int:
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code


def test_five_wrong_passwords_pause_signing_in(cast: Cast) -> None:
    client = Client()
    for _ in range(4):
        assert _sign_in(client, "buyer", "guess") == 200  # the form again, with its error
    assert _sign_in(client, "buyer", "guess") == 429
    # Even the right password is refused now, with a page that says why.
    response = client.post(reverse("login"), {"username": "buyer", "password": PASSWORD})
    assert response.status_code == 429
    assert "signing in is paused for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Someone else, from the same address, still signs in.
    assert _sign_in(Client(), "finance", PASSWORD) == 302


def test_a_success_resets_the_count(cast: Cast) -> None:
    client = Client()
    for _ in range(4):
        _sign_in(client, "buyer", "guess")
    assert _sign_in(client, "buyer", PASSWORD) == 302
    for _ in range(4):
        assert _sign_in(Client(), "buyer", "guess") == 200


def test_the_api_token_endpoint_is_locked_too(cast: Cast) -> None:
    api = APIClient()
    url = reverse("api-token")
    for _ in range(5):
        response = api.post(url, {"username": "supplier_a", "password": "guess"}, format="json")
    assert response.status_code == 429
    locked = api.post(url, {"username": "supplier_a", "password": PASSWORD}, format="json")
    assert locked.status_code == 429 and "paused" in locked.json()["detail"]
