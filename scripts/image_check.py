"""What pip alone cannot promise: the native libraries load, and a one-page PDF renders with a
real font. The Dockerfile runs this at build, so an image that could not make the approval PDF
or the dossier is never built; it runs the same anywhere the portal runs. Needs no database,
no settings and no network."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAGE = (
    "<h1>Approval</h1><p>Batch B1 of PO 2026-0141 may ship. Signed by Amelia Hart.</p>"
    "<p>VLT000100001 – VLT000106000</p>"
)


def _require(holds: bool, problem: str) -> None:
    if not holds:
        raise SystemExit(f"image check failed: {problem}")


def main() -> None:
    import magic  # libmagic: evidence types from their bytes
    import zxingcpp  # label barcodes

    from portal.pdf import html_to_pdf

    # With no font at all WeasyPrint only warns, then Pango draws no letters or crashes.
    warnings.filterwarnings("error", message="No fonts configured")
    try:
        pdf = html_to_pdf(PAGE)
    except UserWarning as warning:
        raise SystemExit(f"image check failed: {warning} (install fonts-dejavu-core)") from None
    _require(pdf.startswith(b"%PDF-"), f"not a PDF: {pdf[:16]!r}")
    kind = magic.from_buffer(pdf, mime=True)
    _require(kind == "application/pdf", f"libmagic reads the PDF as {kind}")

    from weasyprint import HTML  # already imported, with Pillow's flag put back, by html_to_pdf

    document = HTML(string=PAGE).render()
    document.write_pdf()
    _require(len(document.pages) == 1, f"{len(document.pages)} pages for one page of text")
    _require(bool(document.fonts), "no font embedded in the PDF (install fonts-dejavu-core)")

    _passkey_signature_verifies()

    # pikepdf (qpdf, native) opens the rendered PDF in a confined child, as evidence uploads do.
    from untrusted import pdf as untrusted_pdf

    pages = untrusted_pdf.check(pdf)
    _require(pages == 1, f"the upload gate counts {pages} pages in a one-page PDF")

    _provenance_readers_load()

    symbol = zxingcpp.create_barcode("VLT000100001", zxingcpp.BarcodeFormat.DataMatrix)
    _require(symbol.text == "VLT000100001", f"zxing-cpp wrote {symbol.text!r}")
    print(f"image check: PDF of {len(pdf)} bytes, 1 page, fonts {len(document.fonts)}; ok")


def _provenance_readers_load() -> None:
    """c2pa-python (a native C2PA library) loads and reads a photo with no content credentials;
    ImageHash (NumPy, SciPy, PyWavelets) gives two photos of one scene the same perceptual hash."""
    import io

    import c2pa
    import imagehash
    from PIL import Image

    _require(bool(c2pa.sdk_version()), "the C2PA library reports no version")
    photo = Image.effect_mandelbrot((256, 256), (-2.0, -1.5, 1.0, 1.5), 100).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    try:
        with c2pa.Reader("image/jpeg", io.BytesIO(buffer.getvalue())) as reader:
            reader.json()
        raise SystemExit("image check failed: c2pa read a manifest in a plain photo")
    except c2pa.C2paError:
        pass  # no manifest: what most photos carry
    smaller = photo.resize((128, 128))
    distance = imagehash.phash(photo) - imagehash.phash(smaller)
    _require(distance <= 4, f"a resized photo is {distance} bits away from its original")


def _passkey_signature_verifies() -> None:
    """cbor2 and cryptography (native) decode a passkey's public key and check its signature,
    as py_webauthn does when a passkey signs an approval."""
    import cbor2
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from webauthn.helpers import decode_credential_public_key, decoded_public_key_to_cryptography
    from webauthn.helpers.verify_signature import verify_signature

    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    cose = {
        1: 2,
        3: -7,
        -1: 1,
        -2: numbers.x.to_bytes(32, "big"),
        -3: numbers.y.to_bytes(32, "big"),
    }
    decoded = decode_credential_public_key(cbor2.dumps(cose))
    data = b"manifest sha256 and nonce"
    verify_signature(
        public_key=decoded_public_key_to_cryptography(decoded),
        signature_alg=decoded.alg,
        signature=key.sign(data, ec.ECDSA(hashes.SHA256())),
        data=data,
    )


if __name__ == "__main__":
    main()
