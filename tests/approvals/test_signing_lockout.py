"""A signing password counts like a sign-in (django-axes): wrong ones in a row lock signing and
signing in for that user name from that address, a wrong one signs nothing, and once locked even
the right one is refused — on the page and the API alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from approvals import services as approvals
from approvals.models import Approval, Signature
from portal.models import AuditEvent, User
from portal.passwords import PasswordsLocked
from tests.conftest import PASSWORD, TEST_FACTOR, Cast, signing_request, totp_code


def test_the_limit_is_five() -> None:
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_ENABLED


@pytest.fixture
def setup(signable: dict[str, Any]) -> dict[str, Any]:
    return signable


def _form(setup: dict[str, Any], password: str, signer: User) -> dict[str, Any]:
    return {
        "decision": "accepted",
        "promises": ["identity", "payment"],
        "sentence": "Batch OWN-B1's labels as photographed may ship.",
        "pins": [f"evidence:{setup['photo'].pk}"],
        "unlocks": [setup["gate"].pk],
        "password": password,
        "code": totp_code(signer),
    }


def _nothing_signed() -> bool:
    return (
        not Approval.objects.exists()
        and not Signature.objects.exists()
        and not AuditEvent.objects.filter(action="approval.signed").exists()
    )


def test_six_wrong_signing_passwords_on_the_page_lock_signing_and_signing_in(
    cast: Cast, setup: dict[str, Any]
) -> None:
    buyer = cast.client("buyer")
    url = reverse("batch-approvals", args=[cast.batches["own"].pk])
    answers = []
    for _ in range(6):
        response = buyer.post(url, _form(setup, "guess", cast.users["buyer"]))
        answers.append(response.status_code)
        if response.status_code == 200:
            assert "That is not your password; nothing was signed." in response.content.decode()
    # Four wrong ones show the form again; the fifth locks; the sixth is refused unchecked.
    assert answers == [200, 200, 200, 200, 429, 429]
    assert _nothing_signed()
    locked = buyer.post(url, _form(setup, PASSWORD, cast.users["buyer"]))
    assert locked.status_code == 429
    assert "signing in is paused for 15 minutes" in locked.content.decode()
    assert "anything signed with your password" in locked.content.decode()
    assert _nothing_signed()
    # The same lockout as signing in: the right password does not sign in either.
    sign_in = Client().post(reverse("login"), {"username": "buyer", "password": PASSWORD})
    assert sign_in.status_code == 429
    # Someone else still signs.
    admin = cast.client("admin").post(url, _form(setup, PASSWORD, cast.users["admin"]))
    assert admin.status_code == 302 and Approval.objects.count() == 1


def test_six_wrong_signing_passwords_over_the_api_lock_it(
    cast: Cast, setup: dict[str, Any]
) -> None:
    api = cast.api("buyer")
    batch = cast.batches["own"]
    body = {
        **_form(setup, "guess", cast.users["buyer"]),
        "order": batch.order_id,
        "batch": batch.pk,
    }
    body["pins"] = [f"evidence:{setup['photo'].pk}"]
    url = reverse("api-approval-list")
    answers = [api.post(url, body, format="json") for _ in range(6)]
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 429, 429]
    assert "not your password" in str(answers[0].json())
    assert "paused" in answers[-1].json()["detail"]
    locked = api.post(url, {**body, "password": PASSWORD}, format="json")
    assert locked.status_code == 429 and "paused" in locked.json()["detail"]
    assert _nothing_signed()
    # The token endpoint, like the sign-in page, refuses the user name too.
    token = api.post(
        reverse("api-token"), {"username": "buyer", "password": PASSWORD}, format="json"
    )
    assert token.status_code == 429


def test_the_service_refuses_a_locked_out_signer(cast: Cast, setup: dict[str, Any]) -> None:
    values = {
        "user": cast.users["buyer"],
        "order": cast.orders["own"],
        "batch": cast.batches["own"],
        "decision": "accepted",
        "promises": ["identity", "payment"],
        "sentence": "Batch OWN-B1 may ship.",
        "pins": [("evidence", setup["photo"].pk)],
        "unlocks": [setup["gate"]],
    }
    for _ in range(4):
        with pytest.raises(Exception, match="not your password"):
            approvals.approval_sign(
                **values, password="guess", request=signing_request(), factor=TEST_FACTOR
            )
    with pytest.raises(PasswordsLocked):
        approvals.approval_sign(
            **values, password="guess", request=signing_request(), factor=TEST_FACTOR
        )
    with pytest.raises(PasswordsLocked):
        approvals.approval_sign(
            **values, password=PASSWORD, request=signing_request(), factor=TEST_FACTOR
        )
    assert _nothing_signed()


def test_a_right_signing_password_resets_the_count(cast: Cast, setup: dict[str, Any]) -> None:
    buyer = cast.client("buyer")
    url = reverse("batch-approvals", args=[cast.batches["own"].pk])
    for _ in range(4):
        assert buyer.post(url, _form(setup, "guess", cast.users["buyer"])).status_code == 200
    assert buyer.post(url, _form(setup, PASSWORD, cast.users["buyer"])).status_code == 302
    for _ in range(4):
        assert (
            Client().post(reverse("login"), {"username": "buyer", "password": "x"}).status_code
            == 200
        )
