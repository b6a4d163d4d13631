"""Passkeys (django-otp-webauthn) that sign what the person saw.

At sign-in a passkey answers a random challenge, as django-otp-webauthn does it. At signing an
approval or releasing a gate the challenge is the SHA-256 of exactly what is being signed (the
manifest), followed by 16 random bytes: the authenticator signs ``authenticatorData ||
SHA-256(clientDataJSON)`` and clientDataJSON carries the challenge, so the assertion kept with
the signature proves that this passkey, with its owner present and verified, approved that
manifest and nothing else. Anyone holding the public key can check it later
(``assertion_check``), without the portal."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from webauthn import generate_authentication_options
from webauthn.helpers import (
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    options_to_json_dict,
    parse_client_data_json,
)
from webauthn.helpers.structs import UserVerificationRequirement
from webauthn.helpers.verify_signature import verify_signature

from portal.models import User

SESSION_KEY = "passkey_signing_state"
NONCE_BYTES = 16
USER_PRESENT_AND_VERIFIED = 0x01 | 0x04  # authenticatorData flags UP and UV


class PasskeyHelper(WebAuthnHelper):
    """django-otp-webauthn's helper, with the passkey's display name saying whose it is here."""

    def get_credential_display_name(self, user: Any) -> str:
        name = getattr(user, "printed_name", "") or user.get_username()
        return f"{name} ({user.get_username()})"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def passkeys_of(user: User) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk"))


def signing_options(*, request: HttpRequest, user: User, binding: str, purpose: str) -> dict:
    """WebAuthn request options whose challenge is ``binding`` (a SHA-256, hex) and a nonce; the
    state waits in the session for the one answer it allows (``signing_answer``)."""
    helper = PasskeyHelper(request)
    challenge = bytes.fromhex(binding) + secrets.token_bytes(NONCE_BYTES)
    options = generate_authentication_options(
        rp_id=helper.get_relying_party_domain(),
        challenge=challenge,
        timeout=helper_timeout_ms(),
        allow_credentials=WebAuthnCredential.get_credential_descriptors_for_user(user),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    data = options_to_json_dict(options)
    request.session[SESSION_KEY] = {
        "challenge": data["challenge"],
        "binding": binding,
        "purpose": purpose,
        "user": user.pk,
        "issued_at": time.time(),
    }
    return data


def helper_timeout_ms() -> int:
    from django_otp_webauthn.settings import app_settings

    return int(app_settings.OTP_WEBAUTHN_TIMEOUT_SECONDS) * 1000


@dataclass(frozen=True)
class PasskeyAnswer:
    """A passkey's answer to a signing challenge, verified: what was signed and the evidence."""

    binding: str
    record: dict[str, Any]


def signing_answer(*, request: HttpRequest, user: User, answer: str, purpose: str) -> PasskeyAnswer:
    """Verify ``answer`` (the browser's PublicKeyCredential as JSON) against the challenge made
    for ``user`` and ``purpose``. The challenge is used up first, even when the answer fails, so
    it can never be replayed. Raises ValidationError (on ``passkey``) when anything is off."""
    refused = "The passkey's answer does not match this signing; nothing was signed. Try again."
    session = getattr(request, "session", None)
    if session is None:  # a service called without a browser session: no challenge was made
        raise ValidationError({"passkey": refused})
    state = session.pop(SESSION_KEY, None)
    session.save()
    if not state or state.get("user") != user.pk or state.get("purpose") != purpose:
        raise ValidationError({"passkey": refused})
    if time.time() - state.get("issued_at", 0) > helper_timeout_ms() / 1000 + 60:
        raise ValidationError({"passkey": "The passkey took too long; nothing was signed. Retry."})
    try:
        data = json.loads(answer)
        if not isinstance(data, dict) or not isinstance(data.get("response"), dict):
            raise ValueError("not a PublicKeyCredential")
        helper = PasskeyHelper(request)
        credential = helper.authenticate_complete(
            user=user,
            state={"challenge": state["challenge"], "require_user_verification": True},
            data=data,
        )
    except Exception:  # noqa: BLE001 - py_webauthn raises many kinds; each one means "refused"
        raise ValidationError({"passkey": refused}) from None
    if not credential.confirmed:
        raise ValidationError({"passkey": "That passkey is switched off; nothing was signed."})
    response = data["response"]
    record = {
        "kind": "passkey",
        "credential": credential.pk,
        "credential_id_sha256": credential.credential_id_sha256,
        "public_key": b64url(bytes(credential.public_key)),
        "challenge": state["challenge"],
        "client_data_json": response["clientDataJSON"],
        "authenticator_data": response["authenticatorData"],
        "signature": response["signature"],
    }
    return PasskeyAnswer(binding=state["binding"], record=record)


def assertion_check(record: dict[str, Any], binding: str, rp_id: str | None = None) -> str:
    """What is wrong with a kept passkey assertion for ``binding`` (a SHA-256, hex), or "" when
    it holds: the challenge begins with ``binding``, the client data is a ``webauthn.get`` of
    that challenge, the authenticator saw its owner present and verified, for this site
    (``rp_id``, the portal's by default), and the public key kept beside it verifies the
    signature. Whether that key is the signer's is the caller's to check (``credential``)."""
    try:
        challenge = b64url_bytes(record["challenge"])
        client_data_bytes = b64url_bytes(record["client_data_json"])
        client_data = parse_client_data_json(client_data_bytes)
        authenticator_data = b64url_bytes(record["authenticator_data"])
        if challenge[:32] != bytes.fromhex(binding):
            return "its challenge is not the hash of what was signed"
        if client_data.type != "webauthn.get" or client_data.challenge != challenge:
            return "the browser's client data names another challenge"
        site = rp_id if rp_id is not None else settings.OTP_WEBAUTHN_RP_ID
        if authenticator_data[:32] != hashlib.sha256(site.encode()).digest():
            return f"the authenticator answered for another site than {site}"
        if authenticator_data[32] & USER_PRESENT_AND_VERIFIED != USER_PRESENT_AND_VERIFIED:
            return "the authenticator did not verify its owner"
        public_key = decode_credential_public_key(b64url_bytes(record["public_key"]))
        verify_signature(
            public_key=decoded_public_key_to_cryptography(public_key),
            signature_alg=public_key.alg,
            signature=b64url_bytes(record["signature"]),
            data=b64url_bytes(record["authenticator_data"])
            + hashlib.sha256(client_data_bytes).digest(),
        )
    except Exception:  # noqa: BLE001 - a malformed or forged record is a finding, not a crash
        return "the passkey's signature does not verify"
    return ""


def credential_check(record: dict[str, Any], user_id: int) -> str:
    """What is wrong between a kept assertion and the passkey it names, or "": the passkey is
    the signer's and holds the public key kept. A passkey removed since cannot be compared; the
    kept key then stands on its own."""
    credential = WebAuthnCredential.objects.filter(pk=record.get("credential")).first()
    if credential is None:
        return ""
    if credential.user_id != user_id:
        return "the passkey it names is another person's"
    if b64url(bytes(credential.public_key)) != record.get("public_key"):
        return "the public key kept with it is not the passkey's"
    return ""
