"""Evidence: immutable uploads, freshness flags, versions, verification and bad input."""

from __future__ import annotations

import datetime
import html

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from evidence import services
from evidence.models import EvidenceItem, Responsibility
from evidence.selectors import freshness_flags
from orders import services as order_services
from portal.models import AuditEvent
from tests.conftest import Cast
from tests.evidence.conftest import jpeg, pdf, png, png_bomb


def _upload(cast: Cast, key: str, file: SimpleUploadedFile, kind: str = "photo") -> EvidenceItem:
    user = cast.users["supplier_b" if key == "b_order" else "supplier_a"]
    item = services.evidence_upload(
        batch=cast.batches[key], user=user, uploaded_file=file, kind=kind
    )
    services.evidence_process(item_id=item.pk)
    item.refresh_from_db()
    return item


def _codes(cast: Cast, item: EvidenceItem, viewer: str = "buyer") -> list[str]:
    return [flag.code for flag in freshness_flags([item], cast.users[viewer]).get(item.pk, [])]


def test_it_stores_by_hash_and_reads_the_capture_date(cast: Cast) -> None:
    item = _upload(cast, "own", jpeg(captured="2026:11:03 09:30:00"))
    assert item.file.name == f"evidence/{item.sha256[:2]}/{item.sha256}"
    assert item.content_type == "image/jpeg" and item.version == 1
    assert item.capture_date == datetime.datetime(2026, 11, 3, 9, 30, tzinfo=datetime.UTC)
    assert _codes(cast, item) == []
    assert AuditEvent.objects.filter(action="evidence.uploaded", object_id=item.pk).exists()


def test_the_thumbnail_carries_no_metadata(cast: Cast) -> None:
    from PIL import Image

    item = _upload(cast, "own", jpeg(captured="2026:11:03 09:30:00"))
    with default_storage.open(item.thumbnail.name, "rb") as thumb, Image.open(thumb) as image:
        assert image.format == "JPEG" and not image.getexif()


def test_it_flags_a_photo_captured_before_the_order(cast: Cast) -> None:
    item = _upload(cast, "own", jpeg(captured="2024:05:01 12:00:00"))
    assert _codes(cast, item) == ["captured_before_order"]


def test_it_flags_a_photo_captured_before_the_batch_s_production(cast: Cast) -> None:
    batch = cast.batches["own"]  # PO-OWN is dated 1 November 2026
    started = datetime.date(2026, 11, 10)
    order_services.batch_update(
        batch=batch, user=cast.users["supplier_a"], production_started_on=started
    )
    early = _upload(cast, "own", jpeg(name="early.jpg", captured="2026:11:05 09:30:00"))
    during = _upload(cast, "own", jpeg(name="during.jpg", captured="2026:11:10 07:00:00"))
    ancient = _upload(cast, "own", jpeg(name="ancient.jpg", captured="2024:05:01 12:00:00"))
    assert _codes(cast, early) == ["captured_before_production"]
    flag = freshness_flags([early], cast.users["buyer"])[early.pk][0]
    assert flag.label == "Captured before production started (10 Nov 2026)"
    assert "5 Nov 2026" in flag.detail and "OWN-B1" in flag.detail
    assert _codes(cast, during) == []
    assert _codes(cast, ancient) == ["captured_before_order"]  # the stronger flag, once
    # On the item, and counted on the batch like the other flags.
    page = cast.client("buyer").get(reverse("evidence-detail", args=[early.pk]))
    assert "Captured before production started (10 Nov 2026)" in page.content.decode()
    batch_page = cast.client("buyer").get(reverse("batch-detail", args=[batch.pk]))
    assert batch_page.context["evidence"]["flag_count"] == 2
    assert "2 flags" in batch_page.content.decode()


def test_it_flags_a_photo_without_a_capture_date(cast: Cast) -> None:
    assert _codes(cast, _upload(cast, "own", png())) == ["no_capture_date"]
    assert _codes(cast, _upload(cast, "own", pdf())) == []  # documents carry no capture date


def test_it_flags_the_same_bytes_on_another_batch(cast: Cast) -> None:
    _upload(cast, "b_order", jpeg(name="generic.jpg", captured="2026:11:02 08:00:00"))
    mine = _upload(cast, "own", jpeg(name="mine.jpg", captured="2026:11:02 08:00:00"))
    assert _codes(cast, mine) == ["seen_elsewhere"]
    buyer_detail = freshness_flags([mine], cast.users["buyer"])[mine.pk][0].detail
    supplier_detail = freshness_flags([mine], cast.users["supplier_a"])[mine.pk][0].detail
    assert "PO-BEE" in buyer_detail
    assert "PO-BEE" not in supplier_detail and "another order" in supplier_detail


def test_the_same_bytes_flag_never_names_another_buyer_s_order(cast: Cast) -> None:
    _upload(cast, "foreign", jpeg(name="shared.jpg", captured="2026:11:02 08:00:00"))
    mine = _upload(cast, "own", jpeg(name="shared.jpg", captured="2026:11:02 08:00:00"))
    for viewer in ("buyer", "inspector"):
        detail = freshness_flags([mine], cast.users[viewer])[mine.pk][0].detail
        assert "PO-FOREIGN" not in detail and "another order" in detail, viewer
    # The supplier made both: it may see where the file also went.
    assert "PO-FOREIGN" in freshness_flags([mine], cast.users["supplier_a"])[mine.pk][0].detail


def test_broken_metadata_never_stalls_processing(cast: Cast) -> None:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (32, 32), "navy").save(buffer, "WEBP", exif=b"MM\0\0\0\0\0\x08")
    item = _upload(cast, "own", SimpleUploadedFile("odd.webp", buffer.getvalue()))
    assert item.processed_at is not None and item.capture_date is None
    assert _codes(cast, item) == ["no_capture_date"]


def test_a_replacement_is_a_new_version_and_the_old_one_stays(cast: Cast) -> None:
    first = _upload(cast, "own", jpeg(colour="red"))
    second = services.evidence_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=jpeg(colour="blue"),
        kind="photo",
        replaces=first,
    )
    first.refresh_from_db()
    assert (second.version, second.previous) == (2, first)
    assert not first.is_current and default_storage.exists(first.file.name)
    with pytest.raises(ValidationError, match="already replaced"):
        services.evidence_upload(
            batch=cast.batches["own"],
            user=cast.users["supplier_a"],
            uploaded_file=jpeg(colour="green"),
            kind="photo",
            replaces=first,
        )
    page = cast.client("buyer").get(reverse("evidence-detail", args=[first.pk])).content.decode()
    assert "replaced by" in page and "v2" in page


def test_evidence_verify_names_a_changed_file(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    item = _upload(cast, "own", jpeg())
    _upload(cast, "own", png())
    call_command("evidence_verify")
    assert "Integrity holds (checked: evidence-files 2)" in capsys.readouterr().out
    with open(default_storage.path(item.file.name), "r+b") as stored:
        stored.seek(10)
        stored.write(b"tampered")
    with pytest.raises(CommandError, match="1 integrity finding "):
        call_command("evidence_verify")
    finding = f"evidence_evidenceitem #{item.pk}: stored bytes hash to"
    out = capsys.readouterr().out
    assert finding in out and "photo.jpg" not in out  # the admins may belong to another buyer
    # The whole verification names it too.
    with pytest.raises(CommandError):
        call_command("integrity_verify")
    assert finding in capsys.readouterr().out


BAD_FILES = [
    (lambda: SimpleUploadedFile("empty.jpg", b""), "empty.jpg is empty"),
    (lambda: SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 200), "are not accepted"),
    (lambda: pdf("photo.jpg"), "its name says .jpg, but its bytes are application/pdf"),
    (
        lambda: SimpleUploadedFile("notes.html", b"hello\n<img src=x onerror=alert(1)>\n"),
        "its name says .html, but its bytes are text/plain",
    ),
    (lambda: SimpleUploadedFile("notes", b"plain words\n"), "its name says nothing"),
    (lambda: png_bomb(), "too large to open safely"),
    (lambda: SimpleUploadedFile("cut.jpg", jpeg().read()[:300]), "damaged or truncated"),
]


@pytest.mark.parametrize(("make", "message"), BAD_FILES)
def test_bad_files_get_a_clear_400_and_leave_nothing(
    cast: Cast, make: object, message: str
) -> None:
    api = cast.api("supplier_a")
    response = api.post(
        reverse("api-batch-evidence", args=[cast.batches["own"].pk]),
        {"file": make(), "kind": "photo"},  # type: ignore[operator]
    )
    assert response.status_code == 400, response.content
    assert message in str(response.json())
    page = cast.client("supplier_a").post(
        reverse("evidence-upload", args=[cast.batches["own"].pk]),
        {"files": [make()], "kind": "photo"},  # type: ignore[operator]
        follow=True,
    )
    assert page.redirect_chain == [(reverse("batch-evidence", args=[cast.batches["own"].pk]), 302)]
    assert message in html.unescape(page.content.decode())
    assert not EvidenceItem.objects.exists()
    assert not default_storage.exists("evidence")


def test_a_huge_upload_is_refused_before_reading(cast: Cast, settings: object) -> None:
    settings.EVIDENCE_MAX_BYTES = 100  # type: ignore[attr-defined]
    response = cast.api("supplier_a").post(
        reverse("api-batch-evidence", args=[cast.batches["own"].pk]),
        {"file": jpeg(), "kind": "photo"},
    )
    assert response.status_code == 400 and "at most" in str(response.json())


def test_a_path_in_the_name_is_dropped(cast: Cast) -> None:
    item = _upload(cast, "own", jpeg(name="../../etc/photo.jpg"))
    assert item.original_name == "photo.jpg"
    assert item.file.name.startswith("evidence/")


def test_several_files_at_once_from_the_page(cast: Cast) -> None:
    response = cast.client("supplier_a").post(
        reverse("evidence-upload", args=[cast.batches["own"].pk]),
        {
            "files": [jpeg("a.jpg", colour="red"), jpeg("b.jpg", colour="blue"), png()],
            "kind": "photo",
        },
    )
    assert response.status_code == 302
    assert EvidenceItem.objects.filter(batch=cast.batches["own"]).count() == 3


def test_requirements_show_what_is_missing(cast: Cast) -> None:
    batch = cast.batches["own"]
    services.requirements_set(batch=batch, user=cast.users["buyer"], kinds=["photo", "test_values"])
    _upload(cast, "own", jpeg())
    page = (
        cast.client("supplier_a").get(reverse("batch-evidence", args=[batch.pk])).content.decode()
    )
    assert "Test values" in page and "missing" in page and "on file" in page
    with pytest.raises(PermissionDenied):
        services.requirements_set(batch=batch, user=cast.users["supplier_a"], kinds=["other"])


def test_a_revised_statement_is_shown_as_a_diff(cast: Cast) -> None:
    batch = cast.batches["own"]
    asked = services.request_create(
        promises=["process"],
        batch=batch,
        user=cast.users["buyer"],
        subject="Photo from 2024",
        question="Why is the label photo dated 2024?",
        due_on=datetime.date(2030, 1, 1),
    )
    first = services.statement_write(
        request=asked, user=cast.users["supplier_a"], text="The photo is from the old line."
    )
    services.statement_review(statement=first, user=cast.users["buyer"])
    services.statement_write(
        request=asked, user=cast.users["supplier_a"], text="The photo is from the new line."
    )
    page = cast.client("buyer").get(reverse("request-detail", args=[asked.pk])).content.decode()
    assert "<del>old</del>" in page and "<ins>new</ins>" in page
    assert asked.statements.count() == 2  # nothing overwritten
    with pytest.raises(ValidationError, match="past"):
        services.request_create(
            promises=["process"],
            batch=batch,
            user=cast.users["buyer"],
            subject="x",
            question="y",
            due_on=datetime.date(2020, 1, 1),
        )


def test_the_responsibility_map_shows_gaps_and_keeps_history(cast: Cast) -> None:
    order = cast.orders["own"]
    url = reverse("order-responsibilities", args=[order.pk])
    page = cast.client("buyer").get(url).content.decode()
    assert "Nobody is named for: Prints labels" in page
    client = cast.client("supplier_a")
    for party in ("Shenzhen Label Works", "Brightline print room"):
        response = client.post(
            url,
            {
                "role": "prints_labels",
                "party_name": party,
                "party_type": "subcontractor",
                "contact": "ops@example.com",
                "accepts_responsibility": "on",
            },
        )
        assert response.status_code == 302
    page = cast.client("buyer").get(url).content.decode()
    assert "Brightline print room" in page and "Shenzhen Label Works" not in page
    assert "Prints labels" not in page.split("Nobody is named for:")[1].split("</div>")[0]
    assert Responsibility.objects.filter(order=order).count() == 2


def test_an_upload_without_a_file_says_so_on_the_page_and_in_the_api(cast: Cast) -> None:
    batch = cast.batches["own"]
    page = cast.client("supplier_a").post(
        reverse("evidence-upload", args=[batch.pk]), {"kind": "photo"}, follow=True
    )
    assert "Choose at least one file" in page.content.decode()
    response = cast.api("supplier_a").post(
        reverse("api-batch-evidence", args=[batch.pk]), {"kind": "photo"}
    )
    assert response.status_code == 400 and "file" in response.json()
    assert not EvidenceItem.objects.exists()


def test_an_oversized_request_is_refused_before_it_is_read(cast: Cast, settings: object) -> None:
    settings.UPLOAD_MAX_REQUEST_BYTES = 2000  # type: ignore[attr-defined]
    response = cast.api("supplier_a").post(
        reverse("api-batch-evidence", args=[cast.batches["own"].pk]),
        {"file": SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 5000), "kind": "other"},
    )
    assert response.status_code == 400
    assert not EvidenceItem.objects.exists()


def _zip_bytes() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.txt", "hidden")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("image", "tail", "carried"),
    [
        ("jpeg", "zip", "a ZIP archive"),
        ("jpeg", "pdf", "a PDF document"),
        ("png", "zip", "more bytes"),
        ("png", "junk", "more bytes"),
    ],
)
def test_an_image_carrying_another_file_is_refused(
    cast: Cast, image: str, tail: str, carried: str
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from evidence.models import EvidenceItem

    photo = jpeg("label.jpg") if image == "jpeg" else png("label.png")
    extra = {"zip": _zip_bytes(), "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF", "junk": b"x" * 99}
    polyglot = SimpleUploadedFile(photo.name, photo.read() + extra[tail])
    with pytest.raises(ValidationError) as refused:
        services.evidence_upload(
            batch=cast.batches["own"],
            user=cast.users["supplier_a"],
            kind="label_print",
            uploaded_file=polyglot,
        )
    assert carried in str(refused.value) and photo.name in str(refused.value)
    assert not EvidenceItem.objects.exists()


def test_a_jpeg_trailer_that_is_no_file_is_kept(cast: Cast) -> None:
    """Phones append their own data after a photo's end (a motion clip): not refused."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = jpeg("label.jpg")
    item = services.evidence_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        kind="label_print",
        uploaded_file=SimpleUploadedFile("label.jpg", photo.read() + b"\x00\x00\x00\x18ftypmp42"),
    )
    assert item.pk
