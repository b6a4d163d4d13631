"""The same scene sent twice: a photo resized and recompressed on another order is found by its
perceptual hash through the band index, named only where the viewer may see the other batch; a
different photo is not; identical bytes keep their own flag."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from PIL import ExifTags, Image

from demo.documents import photo_scene
from dossier.build import dossier_write
from evidence import services
from evidence.models import EvidenceItem
from evidence.selectors import freshness_flags
from evidence.similar import (
    SIMILAR_DISTANCE,
    band_index_probes,
    band_probes,
    bands,
    distance,
    similar_candidates,
    similar_photos,
)
from orders import services as order_services
from orders.models import PurchaseOrder
from tests.conftest import Cast
from tests.evidence.conftest import jpeg

UPLOADER = {"own": "supplier_a", "b_order": "supplier_b", "foreign": "supplier_a"}


def _jpeg(image: Image.Image, name: str, quality: int = 90) -> SimpleUploadedFile:
    """A photo dated after the orders, so that only the flags under test can show."""
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[0x9003] = "2026:11:02 08:00:00"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=exif)
    return SimpleUploadedFile(name, buffer.getvalue())


def _sent_again(image: Image.Image, name: str = "again.jpg") -> SimpleUploadedFile:
    """What a messenger makes of a photo: half the size, cropped by 3 %, JPEG quality 60."""
    half = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
    edge_x, edge_y = round(half.width * 0.015), round(half.height * 0.015)
    cropped = half.crop((edge_x, edge_y, half.width - edge_x, half.height - edge_y))
    return _jpeg(cropped, name, quality=60)


def _upload(cast: Cast, key: str, file: SimpleUploadedFile) -> EvidenceItem:
    item = services.evidence_upload(
        batch=cast.batches[key], user=cast.users[UPLOADER[key]], uploaded_file=file, kind="photo"
    )
    services.evidence_process(item_id=item.pk)
    return EvidenceItem.objects.select_related("batch__order").get(pk=item.pk)


def _flags(cast: Cast, item: EvidenceItem, viewer: str = "buyer") -> dict[str, str]:
    found = freshness_flags([item], cast.users[viewer]).get(item.pk, [])
    return {flag.code: flag.detail for flag in found}


@pytest.fixture(scope="module")
def scene() -> Image.Image:
    return photo_scene(7, size=(1200, 900))


def test_a_photo_resized_and_recompressed_on_another_order_is_flagged(
    cast: Cast, scene: Image.Image
) -> None:
    original = _upload(cast, "b_order", _jpeg(scene, "carton.jpg"))
    again = _upload(cast, "own", _sent_again(scene))
    assert original.sha256 != again.sha256  # not the same bytes: only the picture is
    apart = distance(original.provenance.phash, again.provenance.phash)
    assert 0 < apart <= SIMILAR_DISTANCE
    # The buyer sees both orders: named. Supplier A may not see PO-BEE: "another order".
    buyer = _flags(cast, again)
    assert list(buyer) == ["similar_elsewhere"]
    assert "batch B_ORDER-B1 of PO PO-BEE" in buyer["similar_elsewhere"]
    supplier = _flags(cast, again, "supplier_a")
    assert "PO-BEE" not in supplier["similar_elsewhere"]
    assert "another order" in supplier["similar_elsewhere"]
    # Both ways: the earlier photo is flagged too, and named for its own supplier only where
    # it may look.
    assert "another order" in _flags(cast, original, "supplier_b")["similar_elsewhere"]
    page = cast.client("supplier_a").get(reverse("evidence-detail", args=[again.pk]))
    text = page.content.decode()
    assert "Similar photo on another batch" in text and "PO-BEE" not in text


def test_a_different_photo_is_not_similar(cast: Cast, scene: Image.Image) -> None:
    _upload(cast, "b_order", _jpeg(scene, "carton.jpg"))
    other = _upload(cast, "own", _sent_again(photo_scene(8, size=(1200, 900)), "other.jpg"))
    assert _flags(cast, other) == {}


def test_identical_bytes_keep_their_own_flag_only(cast: Cast, scene: Image.Image) -> None:
    _upload(cast, "b_order", _jpeg(scene, "carton.jpg"))
    same = _upload(cast, "own", _jpeg(scene, "carton.jpg"))
    assert list(_flags(cast, same)) == ["seen_elsewhere"]


def test_the_same_picture_on_the_same_batch_is_no_flag(cast: Cast, scene: Image.Image) -> None:
    _upload(cast, "own", _jpeg(scene, "carton.jpg"))
    again = _upload(cast, "own", _sent_again(scene))
    assert _flags(cast, again) == {}


def test_another_buyer_s_order_is_never_named(cast: Cast, scene: Image.Image) -> None:
    _upload(cast, "foreign", _jpeg(scene, "carton.jpg"))
    again = _upload(cast, "own", _sent_again(scene))
    for viewer in ("buyer", "inspector"):
        detail = _flags(cast, again, viewer)["similar_elsewhere"]
        assert "PO-FOREIGN" not in detail and "another order" in detail, viewer
    # Supplier A made both: it may see where the picture also went.
    assert "PO-FOREIGN" in _flags(cast, again, "supplier_a")["similar_elsewhere"]


def test_plain_pictures_are_not_compared(cast: Cast) -> None:
    """A solid colour has a pHash of noise: two of them would look alike for no reason."""
    _upload(cast, "b_order", jpeg(name="grey.jpg", captured="2026:11:02 08:00:00", colour="grey"))
    plain = _upload(cast, "own", jpeg(name="blue.jpg", captured="2026:11:02 08:00:00"))
    assert plain.provenance.phash is None
    assert "Too plain" in plain.provenance.note
    assert _flags(cast, plain) == {}


def test_every_hash_within_the_distance_shares_a_probed_band() -> None:
    """Pigeonhole, checked: flip up to SIMILAR_DISTANCE bits anywhere, and one of the four
    bands still equals the original's band or one of its one-bit neighbours."""
    rng = random.Random(16)
    for _ in range(2_000):
        phash = rng.getrandbits(64)
        flipped = phash
        for bit in rng.sample(range(64), rng.randint(0, SIMILAR_DISTANCE)):
            flipped ^= 1 << bit
        probes = band_probes(phash)
        assert any(value in probes[number] for number, value in enumerate(bands(flipped)))
    far = phash ^ 0x0003_0003_0003_0003  # two bits in every band: distance 8, never probed
    assert not any(value in band_probes(phash)[n] for n, value in enumerate(bands(far)))


def test_the_check_reads_the_band_indexes_not_the_table(cast: Cast, scene: Image.Image) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    stored = _upload(cast, "own", _jpeg(scene, "carton.jpg")).provenance.phash
    assert stored is not None
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE evidence_evidenceprovenance")
        # A tiny table: ask the plan PostgreSQL would pick once a scan costs what it does at
        # scale (the benchmark measures it on a million rows).
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = similar_candidates(band_index_probes({stored})).explain()
    for number in range(4):
        assert f"evidence_phash_band{number}" in plan, plan
    assert "Seq Scan" not in plan
    assert similar_photos([stored])[stored][0].distance == 0


def _findings(order: PurchaseOrder, tmp_path: Path) -> dict[str, dict[str, str]]:
    """The dossier's evidence/findings.csv, by file name."""
    output = tmp_path / "dossier.zip"
    with output.open("wb") as file:
        dossier_write(order=order, target=file)
    with zipfile.ZipFile(output) as archive:
        text = archive.read("evidence/findings.csv").decode()
    return {row["file"]: row for row in csv.DictReader(io.StringIO(text))}


def test_the_dossier_lists_what_was_read_from_each_file(
    cast: Cast, scene: Image.Image, tmp_path: Path
) -> None:
    """Dates, credentials and hash in findings.csv; a similar photo is named when it is on the
    same order, and is "another order" otherwise, even for the buyer's own other order: the
    dossier leaves the buyer's hands."""
    _upload(cast, "b_order", _jpeg(scene, "carton.jpg"))
    again = _upload(cast, "own", _sent_again(scene))
    second = order_services.batch_create(
        order=cast.orders["own"], user=cast.users["buyer"], code="OWN-B2", planned_quantity=100
    )
    item = services.evidence_upload(
        batch=second,
        user=cast.users["supplier_a"],
        uploaded_file=_sent_again(scene, "third.jpg"),
        kind="photo",
    )
    services.evidence_process(item_id=item.pk)

    rows = _findings(cast.orders["own"], tmp_path)
    assert set(rows) == {"again.jpg", "third.jpg"}
    row = rows["again.jpg"]
    assert row["sha256"] == again.sha256 and row["batch"] == "OWN-B1"
    assert row["content_credentials"] == "none"
    assert row["capture_date_claimed_by_file"].startswith("2026-11-02T08:00:00")
    assert int(row["perceptual_hash"], 16) == again.provenance.phash & (2**64 - 1)
    assert "Similar photo on another batch" in row["flags"]
    assert "batch OWN-B2 of PO PO-OWN" in row["flags"] and "another order" in row["flags"]
    assert "PO-BEE" not in "".join(str(value) for value in rows.values())
