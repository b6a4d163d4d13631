"""API tokens (django-rest-knox): hashed, expiring, named per device, shown once, revocable from
the user's own page; a password change revokes them all; DRF's plain tokens are gone."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_create
from tests.conftest import PASSWORD, ROLES, Cast


def _token(client: APIClient, username: str, **extra: str) -> dict:
    response = client.post(
        reverse("api-token"), {"username": username, "password": PASSWORD, **extra}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_plain_drf_tokens_are_gone() -> None:
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS
    classes = settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    assert "rest_framework.authentication.TokenAuthentication" not in classes
    assert settings.REST_KNOX["TOKEN_TTL"] == datetime.timedelta(days=30)


def test_the_token_endpoint_answers_a_hashed_expiring_named_token_once(cast: Cast) -> None:
    api = APIClient()
    body = _token(api, "supplier_a", name="ERP export")
    assert set(body) == {"token", "expiry", "name"} and body["name"] == "ERP export"
    token = ApiToken.objects.get(user=cast.users["supplier_a"])
    # Only the digest is stored, never the token.
    assert body["token"] not in (token.digest, token.token_key)
    assert len(token.digest) == 128
    expiry = datetime.datetime.fromisoformat(body["expiry"].replace("Z", "+00:00"))
    assert abs(expiry - (timezone.now() + datetime.timedelta(days=30))) < datetime.timedelta(
        minutes=1
    )
    # `Authorization: Token <token>` opens the API, and the use is recorded.
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api.get(reverse("api-order-list")).status_code == 200
    token.refresh_from_db()
    assert token.last_used is not None
    # Each call makes another token (one per device).
    _token(APIClient(), "supplier_a")
    assert ApiToken.objects.filter(user=cast.users["supplier_a"]).count() == 2


def test_a_wrong_password_gets_no_token(cast: Cast) -> None:
    response = APIClient().post(
        reverse("api-token"), {"username": "buyer", "password": "guess"}, format="json"
    )
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_an_expired_or_revoked_token_opens_nothing(cast: Cast) -> None:
    token, key = token_create(user=cast.users["buyer"], name="old laptop")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api-order-list")).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - datetime.timedelta(1))
    assert api.get(reverse("api-order-list")).status_code == 401
    assert not ApiToken.objects.filter(pk=token.pk).exists()  # knox deletes it


def test_the_page_lists_makes_and_revokes_own_tokens(cast: Cast) -> None:
    client = cast.client("finance")
    other, _ = token_create(user=cast.users["buyer"], name="buyer's phone")
    page = client.get(reverse("account-tokens"))
    assert page.status_code == 200 and "No API tokens." in page.content.decode()
    assert "buyer&#x27;s phone" not in page.content.decode()
    made = client.post(reverse("account-tokens"), {"name": "Finance laptop"})
    html = made.content.decode()
    assert made.status_code == 200 and "shown this once" in html
    token = ApiToken.objects.get(user=cast.users["finance"])
    assert token.name == "Finance laptop"
    key = html.split('data-testid="new-token">')[1].split("<")[0]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(reverse("api-gate-list")).status_code == 200
    # Listed afterwards, never shown again.
    again = client.get(reverse("account-tokens")).content.decode()
    assert "Finance laptop" in again and key not in again
    # Someone else's token cannot be revoked from here.
    foreign = client.post(reverse("account-token-revoke"), {"digest": other.digest})
    assert foreign.status_code == 404 and ApiToken.objects.filter(pk=other.pk).exists()
    revoked = client.post(reverse("account-token-revoke"), {"digest": token.digest})
    assert revoked.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert api.get(reverse("api-gate-list")).status_code == 401


def test_a_name_is_required(cast: Cast) -> None:
    response = cast.client("buyer").post(reverse("account-tokens"), {"name": "   "})
    assert response.status_code == 200 and not ApiToken.objects.exists()


def test_the_users_own_password_change_revokes_every_token(cast: Cast) -> None:
    user = cast.users["inspector"]
    token_create(user=user, name="scanner 1")
    token_create(user=user, name="scanner 2")
    kept, _ = token_create(user=cast.users["buyer"], name="buyer's")
    client = cast.client("inspector")
    response = client.post(
        reverse("account-password"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase-2026",
            "new_password2": "a-new-long-passphrase-2026",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("account-tokens")
    assert not ApiToken.objects.filter(user=user).exists()
    assert ApiToken.objects.filter(pk=kept.pk).exists()
    # Still signed in on this browser.
    assert client.get(reverse("account-tokens")).status_code == 200


def test_a_wrong_old_password_counts_like_a_sign_in(cast: Cast) -> None:
    client = cast.client("service")
    for _ in range(4):
        response = client.post(
            reverse("account-password"),
            {
                "old_password": "guess",
                "new_password1": "x-y-z-12345",
                "new_password2": "x-y-z-12345",
            },
        )
        assert response.status_code == 200
    assert client.post(reverse("account-password"), {"old_password": "guess"}).status_code == 429


def test_the_admins_password_change_revokes_every_token(cast: Cast) -> None:
    user = cast.users["finance"]
    token_create(user=user, name="ERP")
    response = cast.client("admin").post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {
            "password1": "another-long-passphrase",
            "password2": "another-long-passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not ApiToken.objects.filter(user=user).exists()


def test_set_password_and_save_revokes_but_a_sign_in_does_not(cast: Cast) -> None:
    user = cast.users["buyer"]
    token_create(user=user, name="ERP")
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    user.first_name = "Renamed"
    user.save()
    assert ApiToken.objects.filter(user=user).count() == 1
    user.set_password("yet-another-passphrase")
    user.save()
    assert not ApiToken.objects.filter(user=user).exists()


@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_person_has_the_pages(cast: Cast, role: str) -> None:
    client = cast.client(role)
    assert client.get(reverse("account-tokens")).status_code == 200
    assert client.get(reverse("account-password")).status_code == 200
    assert client.get(reverse("account-token-revoke")).status_code == 405
    assert client.post(reverse("account-token-revoke"), {"digest": "x"}).status_code == 404
    assert client.post(reverse("account-tokens"), {"name": f"{role} device"}).status_code == 200
    assert ApiToken.objects.filter(user=cast.users[role], name=f"{role} device").exists()
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("account-tokens")}"' in dashboard


def test_anonymous_visitors_are_sent_to_sign_in(cast: Cast) -> None:
    anonymous = Client()
    for name in ("account-tokens", "account-password"):
        response = anonymous.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = anonymous.post(reverse("account-token-revoke"), {"digest": "x"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
