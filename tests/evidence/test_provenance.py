"""Content credentials (C2PA) on evidence, read by the worker from real files: a photo signed
here with c2pa-python and a test certificate reads as valid, the same photo with one pixel
changed as invalid (and flagged), a plain photo and a PDF as absent (and not flagged)."""

from __future__ import annotations

import datetime
import io

import c2pa
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from PIL import ExifTags, Image

from demo.credentials import CAPTURE, camera_signer, signed_jpeg
from demo.documents import photo_scene
from evidence import provenance, services
from evidence.models import EvidenceItem, EvidenceProvenance
from evidence.selectors import freshness_flags
from tests.conftest import Cast
from tests.evidence.conftest import jpeg, pdf

CREATED = "2026-11-03T09:30:00Z"
Credentials = EvidenceProvenance.Credentials


def _signer() -> c2pa.Signer:
    """A test CA and the camera's end-entity certificate it issued: the chain c2pa needs to
    accept a signature, on no trust list."""
    return camera_signer("Test Camera", "Portal Test Lab")


def _photo_bytes(image: Image.Image) -> bytes:
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[0x9003] = "2026:11:03 09:30:00"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def _signed(source: bytes) -> bytes:
    """The photo with a C2PA manifest: created (captured) by a camera at ``CREATED``."""
    return signed_jpeg(
        source,
        signer=_signer(),
        created=CREATED,
        title="label.jpg",
        generator=("Portal test camera", "1.0"),
    )


def _one_pixel_changed(signed: bytes, image: Image.Image) -> bytes:
    """The signed file with one pixel changed: the image re-encoded with the same settings
    (so the same tables) and its scan spliced after the signed file's own headers, which keep
    the manifest. Everything but that pixel's block is byte for byte the same."""
    changed = image.copy()
    changed.putpixel((10, 10), (255, 255, 255))
    reencoded = _photo_bytes(changed)
    tampered = signed[: signed.rindex(b"\xff\xda")] + reencoded[reencoded.rindex(b"\xff\xda") :]
    assert tampered != signed
    with Image.open(io.BytesIO(tampered)) as decoded:
        decoded.load()  # still a photo anyone can open
    return tampered


def _upload(cast: Cast, data: bytes | SimpleUploadedFile, name: str = "label.jpg") -> EvidenceItem:
    uploaded = data if isinstance(data, SimpleUploadedFile) else SimpleUploadedFile(name, data)
    item = services.evidence_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=uploaded,
        kind="photo",
    )
    services.evidence_process(item_id=item.pk)
    return EvidenceItem.objects.select_related("provenance").get(pk=item.pk)


def _codes(cast: Cast, item: EvidenceItem) -> list[str]:
    return [flag.code for flag in freshness_flags([item], cast.users["buyer"]).get(item.pk, [])]


def _page(cast: Cast, item: EvidenceItem, viewer: str = "buyer") -> str:
    return cast.client(viewer).get(reverse("evidence-detail", args=[item.pk])).content.decode()


@pytest.fixture(scope="module")
def scene() -> Image.Image:
    return photo_scene(16, size=(320, 240))


def test_a_signed_photo_reads_as_valid_with_its_signer_and_claims(
    cast: Cast, scene: Image.Image
) -> None:
    item = _upload(cast, _signed(_photo_bytes(scene)))
    reading = item.provenance
    assert reading.credentials == Credentials.VALID
    assert reading.credential_codes == ["signingCredential.untrusted"]  # a test CA: no trust list
    assert reading.failure_codes == []
    assert (reading.signer, reading.signer_issuer) == ("Test Camera", "Portal Test Lab")
    assert reading.claim_generator.startswith("Portal test camera 1.0")
    assert reading.claimed_at == datetime.datetime(2026, 11, 3, 9, 30, tzinfo=datetime.UTC)
    assert reading.source_type == CAPTURE and reading.source_type_label == "digital capture"
    assert reading.phash is not None  # and a photo's hash, read in the same child
    assert _codes(cast, item) == []
    page = _page(cast, item)
    assert "Content credentials" in page and "valid (signer not on a trust list)" in page
    assert "Test Camera" in page and "digital capture" in page
    gallery = cast.client("supplier_a").get(reverse("batch-evidence", args=[item.batch_id]))
    assert "Content credentials: valid (signer not on a trust list)" in gallery.content.decode()
    api = cast.api("buyer").get(reverse("api-evidence-detail", args=[item.pk])).json()
    assert api["content_credentials"]["credentials"] == "valid"
    assert api["content_credentials"]["signer"] == "Test Camera"


def test_a_changed_pixel_makes_the_credentials_invalid_and_flagged(
    cast: Cast, scene: Image.Image
) -> None:
    signed = _signed(_photo_bytes(scene))
    item = _upload(cast, _one_pixel_changed(signed, scene))
    assert item.provenance.credentials == Credentials.INVALID
    assert "assertion.dataHash.mismatch" in item.provenance.failure_codes
    assert item.provenance.signer == "Test Camera"  # who signed what it was before
    assert _codes(cast, item) == ["c2pa_invalid"]
    api = cast.api("buyer").get(reverse("api-evidence-detail", args=[item.pk])).json()
    assert [flag["code"] for flag in api["flags"]] == ["c2pa_invalid"]
    flag = freshness_flags([item], cast.users["supplier_a"])[item.pk][0]
    assert flag.label == "Content credentials invalid"
    assert "the image data changed after it was signed" in flag.detail
    page = _page(cast, item)
    assert "Content credentials invalid" in page and "assertion.dataHash.mismatch" in page
    # The same signed file, unchanged, is still valid: the pixel made the difference.
    assert _upload(cast, signed, "signed.jpg").provenance.credentials == Credentials.VALID


def test_a_plain_photo_has_no_credentials_and_that_is_no_flag(cast: Cast) -> None:
    item = _upload(cast, jpeg(captured="2026:11:03 09:30:00"))
    assert item.provenance.credentials == Credentials.ABSENT
    assert item.provenance.signer == "" and item.provenance.credential_codes == []
    assert _codes(cast, item) == []
    page = _page(cast, item)
    assert "Content credentials" in page and "(most files carry none)" in page
    gallery = cast.client("buyer").get(reverse("batch-evidence", args=[item.batch_id]))
    assert "Content credentials: none" in gallery.content.decode()


def test_a_pdf_without_credentials_reads_as_absent(cast: Cast) -> None:
    item = _upload(cast, pdf())
    assert item.provenance.credentials == Credentials.ABSENT
    assert item.provenance.phash is None  # documents are not compared as photos
    assert _codes(cast, item) == []


def test_a_file_that_breaks_the_reader_s_limit_is_recorded_not_stalled(
    cast: Cast, scene: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader runs in a child under a time (and memory) limit: a file that takes longer
    fails the child, and the item is processed, its credentials "could not be read" (no flag)."""
    monkeypatch.setattr(provenance, "PROVENANCE_MAX_SECONDS", 1e-9)
    item = _upload(cast, _signed(_photo_bytes(scene)))
    assert item.processed_at is not None and item.thumbnail
    assert item.provenance.credentials == Credentials.UNREAD
    assert "took longer than" in item.provenance.note
    assert item.provenance.phash is None
    assert _codes(cast, item) == []
    assert "could not be read" in _page(cast, item)


def test_items_stored_before_are_read_by_the_command_once(cast: Cast, scene: Image.Image) -> None:
    uploaded = services.evidence_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("old.jpg", _signed(_photo_bytes(scene))),
        kind="photo",
    )
    # Processed by a worker from before provenance was read: no row.
    EvidenceItem.objects.filter(pk=uploaded.pk).update(processed_at=uploaded.uploaded_at)
    assert not EvidenceProvenance.objects.exists()
    out = io.StringIO()
    call_command("evidence_provenance", stdout=out)
    assert "provenance read for 1 evidence item(s)" in out.getvalue()
    assert EvidenceProvenance.objects.get(item=uploaded).credentials == Credentials.VALID
    call_command("evidence_provenance", stdout=out)
    assert "provenance read for 0 evidence item(s)" in out.getvalue()
    services.evidence_process(item_id=uploaded.pk)  # a late second delivery: nothing new
    assert EvidenceProvenance.objects.count() == 1


def test_the_reading_is_append_only_in_the_database(cast: Cast) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers live in PostgreSQL")
    item = _upload(cast, jpeg(captured="2026:11:03 09:30:00"))
    rows = EvidenceProvenance.objects.filter(item=item)
    for change in (
        lambda: rows.update(credentials=Credentials.VALID),
        lambda: rows.update(phash=1),
        rows.delete,
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            change()
    assert rows.get().credentials == Credentials.ABSENT
