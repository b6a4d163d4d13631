"""Content credentials (C2PA) on a demo photo, as a camera that signs its pictures would write
them: a camera maker's CA and the camera's certificate it issued (ES256, digitalSignature,
emailProtection), made afresh each time and on no trust list. The tests sign their photos the
same way (tests/evidence/test_provenance.py)."""

from __future__ import annotations

import datetime
import io

import c2pa  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.files.uploadedfile import SimpleUploadedFile

CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )


def _usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not sign,
        crl_sign=not sign,
        encipher_only=False,
        decipher_only=False,
    )


def camera_signer(camera: str, organisation: str) -> c2pa.Signer:
    """A signer for ``camera`` of ``organisation``, its certificate issued by the
    organisation's CA (valid from yesterday for ten years)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{organisation} CA", organisation)

    def issued(subject: x509.Name, public: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        )

    ca = (
        issued(ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(sign=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    certificate = (
        issued(_name(camera, organisation), key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in (certificate, ca))
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, private, None)
    return c2pa.Signer.from_info(info)


def signed_jpeg(
    source: bytes,
    *,
    signer: c2pa.Signer,
    created: str,
    title: str,
    generator: tuple[str, str] = ("Brightline QA camera", "2.1"),
) -> bytes:
    """The JPEG with a C2PA manifest: captured (``c2pa.created``, digital capture) at
    ``created`` (ISO 8601) by a camera that signs what it takes."""
    manifest = {
        "claim_generator_info": [{"name": generator[0], "version": generator[1]}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {"action": "c2pa.created", "when": created, "digitalSourceType": CAPTURE}
                    ]
                },
            }
        ],
    }
    signed = io.BytesIO()
    c2pa.Builder(manifest).sign(signer, "image/jpeg", io.BytesIO(source), signed)
    return signed.getvalue()


def with_credentials(
    photo: SimpleUploadedFile, *, captured: datetime.datetime
) -> SimpleUploadedFile:
    """A demo photo as Brightline's QA camera signs it."""
    signer = camera_signer("Line 2 QA camera", "Brightline Electronics Co.")
    moment = captured if captured.tzinfo else captured.replace(tzinfo=datetime.UTC)
    created = moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    name = photo.name or "photo.jpg"
    data = signed_jpeg(photo.read(), signer=signer, created=created, title=name)
    return SimpleUploadedFile(name, data, "image/jpeg")
