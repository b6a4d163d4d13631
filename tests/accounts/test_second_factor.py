"""Second factors: authenticator apps (django-otp TOTP) set up and answered at sign-in, a fresh
answer at every signature and release, and passkeys whose signature covers exactly the manifest
(a software authenticator here; Chromium's virtual one in tests/browser/test_browser_passkeys.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.factors import NO_FACTOR, FactorAnswer
from accounts.passkeys import SESSION_KEY, assertion_check, b64url
from approvals import services as approvals
from approvals.models import Approval, Gate, Signature
from portal.errors import Conflict
from portal.models import AuditEvent, User
from tests.conftest import (
    PASSWORD,
    ROLES,
    TEST_FACTOR,
    Cast,
    authenticator_app,
    second_factor_answered,
    signing_request,
    totp_code,
)

ORIGIN = "http://localhost:8000"


@pytest.fixture
def setup(signable: dict[str, Any]) -> dict[str, Any]:
    return signable


def _form(setup: dict[str, Any], **extra: str) -> dict[str, Any]:
    return {
        "decision": "accepted",
        "promises": ["identity", "payment"],
        "sentence": "Batch OWN-B1's labels as photographed may ship.",
        "pins": [f"evidence:{setup['photo'].pk}"],
        "unlocks": [setup["gate"].pk],
        "password": PASSWORD,
        **extra,
    }


def _signed_in(user: User) -> Client:
    """Signed in with the password only, as the sign-in page leaves a session."""
    client = Client()
    client.force_login(user)
    return client


# --- pages, per role ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_everyone_has_a_security_page_of_their_own(cast: Cast, role: str) -> None:
    client = cast.client(role)
    page = client.get(reverse("account-security"))
    assert page.status_code == 200
    assert "Add a passkey" in page.content.decode()
    assert client.get(reverse("account-app-setup")).status_code == 200
    # Someone else's factor answers like a missing one.
    other = authenticator_app(cast.users["finance" if role != "finance" else "buyer"])
    removed = client.post(reverse("account-factor-remove"), {"kind": "app", "id": other.pk})
    assert removed.status_code == 404
    assert TOTPDevice.objects.filter(pk=other.pk).exists()
    assert (
        client.post(reverse("account-factor-remove"), {"kind": "x", "id": "1"}).status_code == 404
    )


@pytest.mark.parametrize(
    "name", ["account-security", "account-app-setup", "account-verify", "account-factor-remove"]
)
def test_anonymous_visitors_are_sent_to_sign_in(db: None, name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code in (302, 405)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))


def test_the_webauthn_endpoints_refuse_anonymous_registration(db: None) -> None:
    begin = Client().post(reverse("otp_webauthn:credential-registration-begin"))
    assert begin.status_code in (401, 403)
    # Passwordless sign-in is off: a passkey is the second step, never the only one.
    auth = Client().post(reverse("otp_webauthn:credential-authentication-begin"))
    assert auth.status_code in (400, 403)


@pytest.mark.parametrize("role", ["buyer", "finance", "admin"])
def test_signers_and_money_movers_are_told_to_set_one_up(cast: Cast, role: str) -> None:
    user = cast.users[role]
    page = _signed_in(user).get(reverse("order-list")).content.decode()
    assert 'data-testid="second-factor-missing"' in page


@pytest.mark.parametrize("role", ["supplier_a", "service", "inspector"])
def test_others_are_not_nagged(cast: Cast, role: str) -> None:
    page = _signed_in(cast.users[role]).get(reverse("order-list")).content.decode()
    assert "second-factor-missing" not in page


# --- an authenticator app -------------------------------------------------------------------


def test_an_app_is_set_up_with_its_current_code(cast: Cast) -> None:
    buyer = cast.users["buyer"]
    client = _signed_in(buyer)
    page = client.get(reverse("account-app-setup")).content.decode()
    assert "<svg" in page and 'data-testid="totp-key"' in page
    assert not TOTPDevice.objects.filter(user=buyer).exists()  # opening the page writes nothing
    shown = re.search(r'data-testid="totp-key">([A-Z2-7 ]+)<', page).group(1)  # type: ignore[union-attr]
    assert shown in client.get(reverse("account-app-setup")).content.decode()  # the same key
    key = base64.b32decode(shown.replace(" ", ""))
    wrong = client.post(reverse("account-app-setup"), {"name": "Phone", "code": "000000"})
    assert wrong.status_code == 200 and "not the code your app shows" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=buyer).exists()
    code = f"{TOTP(key).token():06d}"
    added = client.post(reverse("account-app-setup"), {"name": "Phone · Aegis", "code": code})
    assert added.status_code == 302
    device = TOTPDevice.objects.get(user=buyer)
    assert device.confirmed and device.name == "Phone · Aegis"
    event = AuditEvent.objects.get(action="second_factor.added")
    assert event.payload["kind"] == "totp" and event.actor == buyer
    # The session that set it up counts as having answered it.
    assert client.get(reverse("order-list")).status_code == 200
    # Removing it is recorded too.
    client.post(reverse("account-factor-remove"), {"kind": "app", "id": device.pk})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AuditEvent.objects.filter(action="second_factor.removed").count() == 1


def test_sign_in_asks_whoever_holds_a_factor_for_it(cast: Cast) -> None:
    buyer = cast.users["buyer"]
    authenticator_app(buyer)
    client = Client()
    signed = client.post(reverse("login"), {"username": "buyer", "password": PASSWORD})
    assert signed.status_code == 302
    page = client.get(reverse("order-list"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account-verify"))
    # The API, through the session, is shut as well until the factor is answered.
    assert client.get(reverse("api-order-list")).status_code == 403
    verify = reverse("account-verify") + "?next=" + reverse("order-list")
    wrong = client.post(verify, {"code": "123456"})
    assert wrong.status_code == 200 and "current one" in wrong.content.decode()
    right = client.post(verify, {"code": totp_code(buyer), "next": reverse("order-list")})
    assert right.status_code == 302 and right["Location"] == reverse("order-list")
    assert client.get(reverse("order-list")).status_code == 200
    # A foreign "next" goes nowhere but home.
    other = Client()
    other.post(reverse("login"), {"username": "buyer", "password": PASSWORD})
    away = other.post(
        reverse("account-verify"), {"code": totp_code(buyer), "next": "https://evil.example/"}
    )
    assert away["Location"] == "/"


def test_the_token_endpoint_asks_for_the_code_too(cast: Cast) -> None:
    from rest_framework.test import APIClient

    buyer = cast.users["buyer"]
    authenticator_app(buyer)
    url = reverse("api-token")
    bare = APIClient().post(url, {"username": "buyer", "password": PASSWORD}, format="json")
    assert bare.status_code == 400 and "code" in str(bare.json())
    coded = APIClient().post(
        url, {"username": "buyer", "password": PASSWORD, "code": totp_code(buyer)}, format="json"
    )
    assert coded.status_code == 200


# --- signing and releasing ------------------------------------------------------------------


def test_signing_without_any_factor_is_refused_and_the_page_says_how(
    cast: Cast, setup: dict[str, Any]
) -> None:
    buyer = cast.users["buyer"]
    client = _signed_in(buyer)
    url = reverse("batch-approvals", args=[setup["batch"].pk])
    page = client.get(url).content.decode()
    assert 'data-testid="factor-missing"' in page and "disabled" in page
    refused = client.post(url, _form(setup, code="123456"))
    assert refused.status_code == 200 and "Set up a passkey" in refused.content.decode()
    with pytest.raises(ValidationError, match="Set up a passkey"):
        approvals.approval_sign(
            user=buyer,
            request=signing_request(),
            order=setup["batch"].order,
            batch=setup["batch"],
            **{k: v for k, v in _service_form(setup).items()},
        )
    assert not Approval.objects.exists() and NO_FACTOR


def _service_form(setup: dict[str, Any]) -> dict[str, Any]:
    return {
        "password": PASSWORD,
        "decision": "accepted",
        "promises": ["identity", "payment"],
        "sentence": "Batch OWN-B1 may ship.",
        "pins": [("evidence", setup["photo"].pk)],
        "unlocks": [setup["gate"]],
    }


def test_a_wrong_or_reused_code_signs_nothing(cast: Cast, setup: dict[str, Any]) -> None:
    client = cast.client("buyer")
    url = reverse("batch-approvals", args=[setup["batch"].pk])
    wrong = client.post(url, _form(setup, code="000000"))
    assert wrong.status_code == 200 and "nothing was signed" not in ""  # the page shows the form
    assert "current one" in wrong.content.decode()
    assert not Approval.objects.exists()
    code = totp_code(cast.users["buyer"])
    signed = client.post(url, _form(setup, code=code))
    assert signed.status_code == 302
    signature = Signature.objects.get()
    assert signature.factor == {
        "kind": "totp",
        "device": authenticator_app(cast.users["buyer"]).pk,
        "name": "Test app",
    }
    event = AuditEvent.objects.get(action="approval.signed")
    assert event.payload["factor"] == "authenticator app “Test app”"
    assert approvals.signature_intact(signature.approval)
    # The same code again (someone looking over a shoulder) signs nothing.
    again = client.post(
        url, _form(setup, code=code, based_on=str(signature.approval_id), sentence="Again.")
    )
    assert again.status_code == 200 and Approval.objects.count() == 1


def _gate_opened(cast: Cast, setup: dict[str, Any]) -> None:
    """The buyer's approval opens the batch's shipment gate (signed by the test run's factor)."""
    approvals.approval_sign(
        user=cast.users["buyer"],
        request=signing_request(),
        factor=TEST_FACTOR,
        order=setup["batch"].order,
        batch=setup["batch"],
        **_service_form(setup),
    )


def test_releasing_a_gate_asks_for_a_fresh_factor(cast: Cast, setup: dict[str, Any]) -> None:
    gate: Gate = setup["gate"]
    finance = cast.users["finance"]
    _gate_opened(cast, setup)
    with pytest.raises(ValidationError, match="Set up a passkey"):
        approvals.gate_release(gate=gate, user=finance, request=signing_request())
    with pytest.raises(ValidationError):
        approvals.gate_release(gate=gate, user=finance, request=signing_request(), code="1")
    assert approvals.gate_state(gate).state == "open"
    release = approvals.gate_release(
        gate=gate, user=finance, request=signing_request(), code=totp_code(finance)
    )
    assert release.factor["kind"] == "totp"


# --- passkeys, with a software authenticator ------------------------------------------------


class SoftAuthenticator:
    """A passkey in software: an ES256 key, answering WebAuthn assertions as a browser does."""

    def __init__(self, user: User, rp_id: str = "localhost") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.rp_id = rp_id
        self.count = 0
        numbers = self.key.public_key().public_numbers()
        cose = {
            1: 2,
            3: -7,
            -1: 1,
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
        import cbor2

        self.credential_id = b"soft-" + user.username.encode()
        self.credential = WebAuthnCredential.objects.create(
            user=user,
            name="Soft passkey",
            credential_id=self.credential_id,
            public_key=cbor2.dumps(cose),
            sign_count=0,
            transports=[],
            confirmed=True,
        )

    def answer(self, challenge: str, origin: str = ORIGIN, flags: int = 0x01 | 0x04) -> str:
        """The assertion for ``challenge``; ``flags`` 0x01 user present, 0x04 user verified."""
        self.count += 1
        client_data = json.dumps(
            {"type": "webauthn.get", "challenge": challenge, "origin": origin}
        ).encode()
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([flags])
            + struct.pack(">I", self.count)
        )
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        raw_id = b64url(self.credential_id)
        return json.dumps(
            {
                "id": raw_id,
                "rawId": raw_id,
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                },
                "clientExtensionResults": {},
            }
        )


def _with_passkey(user: User) -> tuple[SoftAuthenticator, Client]:
    """``user`` holds a software passkey and has answered it at sign-in."""
    passkey = SoftAuthenticator(user)
    client = _signed_in(user)
    second_factor_answered(client, passkey.credential)
    return passkey, client


def test_a_passkey_signs_exactly_the_manifest_hash(cast: Cast, setup: dict[str, Any]) -> None:
    passkey, client = _with_passkey(cast.users["buyer"])
    batch = setup["batch"]
    options = client.post(reverse("batch-approval-passkey", args=[batch.pk]), _form(setup))
    assert options.status_code == 200, options.content
    body = options.json()
    challenge = base64.urlsafe_b64decode(body["options"]["challenge"] + "==")
    assert challenge[:32].hex() == body["sha256"] and len(challenge) == 48
    assert body["options"]["userVerification"] == "required"
    url = reverse("batch-approvals", args=[batch.pk])
    signed = client.post(url, _form(setup, passkey=passkey.answer(body["options"]["challenge"])))
    assert signed.status_code == 302, signed.content.decode()[:2000]
    approval = Approval.objects.get()
    signature = approval.signature
    # The challenge the passkey signed is the manifest's hash, and anyone can check it later.
    assert signature.factor["kind"] == "passkey"
    assert b64url(challenge) == signature.factor["challenge"]
    assert body["sha256"] == approval.manifest_sha256 == signature.manifest_sha256
    assert assertion_check(signature.factor, signature.manifest_sha256) == ""
    assert assertion_check(signature.factor, "0" * 64) != ""
    forged = {**signature.factor, "signature": signature.factor["signature"][:-4] + "AAAA"}
    assert assertion_check(forged, signature.manifest_sha256) != ""
    assert approvals.signature_intact(approval)
    # The challenge was used up: the same answer again signs nothing.
    assert SESSION_KEY not in client.session


def test_a_passkey_answer_for_another_draft_signs_nothing(
    cast: Cast, setup: dict[str, Any]
) -> None:
    passkey, client = _with_passkey(cast.users["buyer"])
    batch = setup["batch"]
    url = reverse("batch-approvals", args=[batch.pk])
    options = client.post(reverse("batch-approval-passkey", args=[batch.pk]), _form(setup)).json()
    # The passkey saw "accepted"; the form now says something else.
    changed = _form(
        setup,
        sentence="Batch OWN-B1 may ship, and so may everything else.",
        passkey=passkey.answer(options["options"]["challenge"]),
    )
    refused = client.post(url, changed)
    assert refused.status_code == 200
    assert "no longer exactly what would be signed" in refused.content.decode()
    # A forged answer, or one from another site, signs nothing either.
    options = client.post(reverse("batch-approval-passkey", args=[batch.pk]), _form(setup)).json()
    elsewhere = passkey.answer(options["options"]["challenge"], origin="https://evil.example")
    refused = client.post(url, _form(setup, passkey=elsewhere))
    assert refused.status_code == 200 and "does not match" in refused.content.decode()
    # Without a challenge made for it (replayed later): refused.
    refused = client.post(url, _form(setup, passkey=elsewhere))
    assert refused.status_code == 200 and "does not match" in refused.content.decode()
    assert not Approval.objects.exists()


def test_a_passkey_bound_to_another_hash_signs_nothing(cast: Cast, setup: dict[str, Any]) -> None:
    stranger = FactorAnswer(kind="passkey", record={"kind": "passkey"}, binding="ab" * 32)
    with pytest.raises(Conflict, match="no longer exactly"):
        approvals.approval_sign(
            user=cast.users["buyer"],
            request=signing_request(),
            factor=stranger,
            order=setup["batch"].order,
            batch=setup["batch"],
            **_service_form(setup),
        )
    assert not Approval.objects.exists()


def test_a_passkey_confirms_a_release_and_the_check_holds_it_to_the_statement(
    cast: Cast, setup: dict[str, Any]
) -> None:
    import pgtrigger

    from approvals.models import GateRelease
    from approvals.records import signatures_check

    gate: Gate = setup["gate"]
    _gate_opened(cast, setup)
    passkey, client = _with_passkey(cast.users["finance"])
    options = client.post(reverse("gate-release-passkey", args=[gate.pk]), {"confirm": "on"})
    assert options.status_code == 200, options.content
    body = options.json()
    assert "the release of Shipment release of batch OWN-B1" in body["summary"]
    answer = passkey.answer(body["options"]["challenge"])
    released = client.post(
        reverse("gate-release", args=[gate.pk]), {"confirm": "on", "passkey": answer}
    )
    assert released.status_code == 302, released.content.decode()[:1500]
    release = GateRelease.objects.get(gate=gate)
    assert release.factor["kind"] == "passkey"
    event = AuditEvent.objects.get(action="gate.released")
    challenge = base64.urlsafe_b64decode(release.factor["challenge"] + "==")
    assert challenge[:32].hex() == event.payload["statement_sha256"] == body["sha256"]
    assert signatures_check().findings == []
    # The assertion kept with the release swapped for one over another statement: found.
    other = passkey.answer(b64url(bytes.fromhex("ab" * 32) + b"0123456789abcdef"))
    forged = {
        **release.factor,
        "challenge": b64url(bytes.fromhex("ab" * 32) + b"0123456789abcdef"),
        "client_data_json": json.loads(other)["response"]["clientDataJSON"],
        "authenticator_data": json.loads(other)["response"]["authenticatorData"],
        "signature": json.loads(other)["response"]["signature"],
    }
    uris = [f"approvals.GateRelease:{trigger.name}" for trigger in GateRelease._meta.triggers]
    with pgtrigger.ignore(*uris):
        GateRelease.objects.filter(pk=release.pk).update(factor=forged)
    findings = signatures_check().findings
    assert [(f.table, f.id) for f in findings] == [("orders_gaterelease", str(release.pk))]
    assert "does not verify" in findings[0].what or "challenge" in findings[0].what


def test_a_double_encoded_or_unverified_passkey_answer_signs_nothing(
    cast: Cast, setup: dict[str, Any]
) -> None:
    passkey, client = _with_passkey(cast.users["buyer"])
    batch = setup["batch"]
    url = reverse("batch-approvals", args=[batch.pk])
    options_url = reverse("batch-approval-passkey", args=[batch.pk])
    challenge = client.post(options_url, _form(setup)).json()["options"]["challenge"]
    twice = json.dumps(passkey.answer(challenge))  # a JSON string holding the JSON
    refused = client.post(url, _form(setup, passkey=twice))
    assert refused.status_code == 200 and "does not match" in refused.content.decode()
    challenge = client.post(options_url, _form(setup)).json()["options"]["challenge"]
    present_only = passkey.answer(challenge, flags=0x01)  # nobody's fingerprint or PIN
    refused = client.post(url, _form(setup, passkey=present_only))
    assert refused.status_code == 200 and "does not match" in refused.content.decode()
    assert not Approval.objects.exists()


def test_a_kept_assertion_is_checked_for_its_site_and_its_owner(
    cast: Cast, setup: dict[str, Any]
) -> None:
    passkey, client = _with_passkey(cast.users["buyer"])
    batch = setup["batch"]
    body = client.post(reverse("batch-approval-passkey", args=[batch.pk]), _form(setup)).json()
    answer = passkey.answer(body["options"]["challenge"])
    client.post(reverse("batch-approvals", args=[batch.pk]), _form(setup, passkey=answer))
    record = Signature.objects.get().factor
    assert assertion_check(record, body["sha256"]) == ""
    assert "another site" in assertion_check(record, body["sha256"], rp_id="evil.example")
    # Rebuilt by someone else: their own key, for their own site, with no one verified.
    forger = SoftAuthenticator(cast.users["finance"], rp_id="evil.example")
    forged_answer = json.loads(forger.answer(record["challenge"], flags=0x01))["response"]
    forged = {
        **record,
        "public_key": b64url(bytes(forger.credential.public_key)),
        "client_data_json": forged_answer["clientDataJSON"],
        "authenticator_data": forged_answer["authenticatorData"],
        "signature": forged_answer["signature"],
    }
    assert assertion_check(forged, body["sha256"]) != ""
    from accounts.passkeys import credential_check

    assert credential_check(record, cast.users["buyer"].pk) == ""
    assert "another person's" in credential_check(record, cast.users["finance"].pk)
    assert "not the passkey's" in credential_check(
        {**record, "public_key": forged["public_key"]}, cast.users["buyer"].pk
    )


def test_one_code_used_at_once_in_many_requests_releases_one_gate(
    transactional_db: None, cast: Cast
) -> None:
    import threading

    from django.db import connection

    from approvals.models import GateRelease

    finance = cast.users["finance"]
    gates = [
        approvals.gate_create(user=cast.users["buyer"], order=batch.order, batch=batch, kind=kind)
        for batch in (cast.batches["own"], cast.batches["b_order"])
        for kind in ("deposit", "balance", "shipment_release")
    ]
    code = totp_code(finance)
    start = threading.Barrier(len(gates))
    outcomes: list[str] = []

    def release(gate: Gate) -> None:
        try:
            start.wait()
            approvals.gate_release(
                gate=gate, user=finance, request=signing_request(), reason="race", code=code
            )
            outcomes.append("released")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=release, args=(gate,)) for gate in gates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * (len(gates) - 1) + ["released"]
    assert GateRelease.objects.count() == 1
