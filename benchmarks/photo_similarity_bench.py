"""Photo similarity benchmark (run by hand, not a test): how far a photo's perceptual hash moves
when it is sent again, and how fast "the same scene on another batch" is found among a million
stored photos.

    python benchmarks/photo_similarity_bench.py [--photos 1000000] [--scenes 40] [--rounds 5]

(1) Threshold: ``--scenes`` photo-like pictures (``demo.documents.photo_scene``, 1200 × 900)
    are each halved, cropped by 3 % (1.5 % a side) and re-encoded as JPEG at quality 60; the
    distance between the hashes of each pair, and between every two different pictures.
    Stronger crops are shown too, for what the threshold gives up.
(2) Scale: creates (and afterwards drops) the database ``portal_photo_bench``, fills it with
    ``--photos`` evidence items and their provenance rows by COPY (``portal.bulk.bulk_insert``;
    random hashes, no files; a VACUUM, as autovacuum does for an insert-only table), 1,000 of
    them near-copies (1 to 7 bits away, five each) of 200 photos checked later, spread over 100
    batches of 10 orders. Then, alternately per round:
    * the similar-photo check, ``evidence.similar.similar_photos`` for one hash (band index), for
      200 new photos with nothing similar stored and for the 200 with five near-copies each;
    * its floor: the identical-bytes lookup ``freshness_flags`` makes (one SHA-256 on its index);
    * the whole ``freshness_flags`` of one new item, as the buyer, with both checks in it;
    and a few rounds of the scan the index replaces (a popcount over every stored hash).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from upload_bench import _admin_sql  # noqa: E402 - the benchmarks' shared admin connection

DB = "portal_photo_bench"
CHECKED = 200  # new photos checked per round


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=1_000_000)
    parser.add_argument("--scenes", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB}",
        CELERY_BROKER_URL="",
        DJANGO_SETTINGS_MODULE="portal.settings",
        LOG_LEVEL="WARNING",
        MEDIA_ROOT=tempfile.mkdtemp(prefix="photo-bench-media-"),
    )
    import django

    django.setup()
    if args.scenes > 1:
        _threshold(args.scenes)
    _admin_sql(f"DROP DATABASE IF EXISTS {DB}")
    _admin_sql(f"CREATE DATABASE {DB}")
    try:
        _scale(args)
    finally:
        from django.db import connections

        connections.close_all()
        _admin_sql(f"DROP DATABASE IF EXISTS {DB}")


# ---------------------------------------------------------------- (1) the threshold


def _threshold(scenes: int) -> None:
    import imagehash
    from PIL import Image

    from demo.documents import photo_scene
    from evidence.similar import SIMILAR_DISTANCE

    def sent_again(image: Image.Image, crop_per_side: float) -> Image.Image:
        half = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
        dx, dy = round(half.width * crop_per_side), round(half.height * crop_per_side)
        buffer = io.BytesIO()
        half.crop((dx, dy, half.width - dx, half.height - dy)).save(buffer, "JPEG", quality=60)
        return Image.open(io.BytesIO(buffer.getvalue()))

    started = time.perf_counter()
    hashes, moved = [], {0.015: [], 0.03: [], 0.05: []}
    for seed in range(scenes):
        image = photo_scene(seed)
        original = imagehash.phash(image)
        hashes.append(original)
        for crop, distances in moved.items():
            distances.append(original - imagehash.phash(sent_again(image, crop)))
    apart = [first - second for first, second in itertools.combinations(hashes, 2)]
    print(f"(1) threshold, {scenes} photo-like pictures ({time.perf_counter() - started:.0f} s)")
    for crop, distances in moved.items():
        within = sum(distance <= SIMILAR_DISTANCE for distance in distances)
        print(
            f"    halved + JPEG q60 + crop {crop * 200:.0f} % ({crop * 100:.1f} % a side): "
            f"max {max(distances)}, median {statistics.median(distances):.0f} bits; "
            f"{within}/{len(distances)} within {SIMILAR_DISTANCE}"
        )
    print(
        f"    different pictures, {len(apart):,} pairs: min {min(apart)}, "
        f"1st percentile {sorted(apart)[len(apart) // 100]}, median {statistics.median(apart):.0f}"
    )


# ---------------------------------------------------------------- (2) a million stored photos


def _scale(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from evidence.models import EvidenceItem, EvidenceProvenance
    from evidence.provenance import signed64
    from evidence.selectors import freshness_flags
    from evidence.similar import SIMILAR_DISTANCE, similar_photos
    from orders import services as orders
    from portal.bulk import bulk_insert
    from portal.models import Membership, Organisation, User

    call_command("migrate", verbosity=0)
    buyer_org = Organisation.objects.create(name="Photo buyer", kind="buyer")
    supplier_org = Organisation.objects.create(name="Photo supplier", kind="supplier")
    buyer = User.objects.create_user("photo_buyer", password="x")
    supplier = User.objects.create_user("photo_supplier", password="x")
    Membership.objects.create(user=buyer, organisation=buyer_org, role="buyer")
    Membership.objects.create(user=supplier, organisation=supplier_org, role="supplier")
    batches = []
    for number in range(10):
        order = orders.order_create(
            user=buyer,
            supplier=supplier_org,
            number=f"PH-{number}",
            product_name="Photo bench",
            sku="PHOTO",
            quantity=1_000,
            order_date=datetime.date(2026, 1, 1),
            required_by=datetime.date(2026, 12, 1),
            status="issued",
        )
        batches += [
            orders.batch_create(
                order=order, user=buyer, code=f"PH{number}-{b}", planned_quantity=100
            ).pk
            for b in range(10)
        ]
    rng = random.Random(2026)
    checked = [rng.getrandbits(64) for _ in range(CHECKED)]
    fresh = [rng.getrandbits(64) for _ in range(CHECKED)]
    near = min(5 * CHECKED, args.photos)

    def stored_hash(index: int) -> int:
        if index < near:  # a near-copy of a checked photo, 1-7 bits away
            value = checked[index % CHECKED]
            for bit in rng.sample(range(64), rng.randint(1, SIMILAR_DISTANCE)):
                value ^= 1 << bit
            return signed64(value)
        return signed64(rng.getrandbits(64))

    now = timezone.now()
    started = time.perf_counter()
    bulk_insert(
        EvidenceItem,
        (
            "batch_id",
            "kind",
            "description",
            "file",
            "original_name",
            "size",
            "sha256",
            "content_type",
            "uploaded_by_id",
            "uploaded_at",
            "version",
            "processed_at",
            "thumbnail",
            "processing_note",
        ),
        (
            (
                batches[index % len(batches)],
                "photo",
                "",
                f"evidence/bench/{index}",
                f"photo-{index}.jpg",
                100_000,
                hashlib.sha256(index.to_bytes(8, "big")).hexdigest(),
                "image/jpeg",
                supplier.pk,
                now,
                1,
                now,
                "evidence-thumbs/bench.jpg",  # a file name: COPY would read "" as NULL
                "",
            )
            for index in range(args.photos)
        ),
    )
    first = EvidenceItem.objects.order_by("pk").values_list("pk", flat=True)[0]
    filled = time.perf_counter()
    bulk_insert(
        EvidenceProvenance,
        (
            "item_id",
            "read_at",
            "credentials",
            "credential_codes",
            "signer",
            "signer_issuer",
            "claim_generator",
            "source_type",
            "claims",
            "phash",
            "note",
        ),
        (
            (first + index, now, "absent", [], "", "", "", "", {}, stored_hash(index), "")
            for index in range(args.photos)
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE evidence_evidenceitem")
        cursor.execute("VACUUM ANALYZE evidence_evidenceprovenance")
    print(
        f"(2) {args.photos:,} stored photos: items by COPY in {filled - started:.0f} s, "
        f"hashes in {time.perf_counter() - filled:.0f} s"
    )
    # A new photo of the last batch, to flag with freshness_flags as the buyer sees it.
    new_item = EvidenceItem.objects.create(
        batch_id=batches[-1],
        kind="photo",
        file="evidence/bench/new",
        original_name="new.jpg",
        size=1,
        sha256=hashlib.sha256(b"new").hexdigest(),
        content_type="image/jpeg",
        uploaded_by=supplier,
        processed_at=now,
    )
    EvidenceProvenance.objects.create(item=new_item, credentials="absent", phash=checked[0])
    new_item = EvidenceItem.objects.select_related("batch__order").get(pk=new_item.pk)
    shas = [hashlib.sha256(index.to_bytes(8, "big")).hexdigest() for index in range(CHECKED)]

    def timed(check: object, values: list[object]) -> tuple[float, int]:
        found = 0
        times = []
        for value in values:
            began = time.perf_counter()
            found += len(check(value))  # type: ignore[operator]
            times.append(time.perf_counter() - began)
        return statistics.median(times), found

    def similar_to(phash: object) -> list[object]:
        return similar_photos([signed64(phash)])[signed64(phash)]  # type: ignore[arg-type]

    similar, similar_found, floor, flags = [], [], [], []
    found_fresh = found_similar = 0
    for _ in range(args.rounds):
        took, found_fresh = timed(similar_to, fresh)
        similar.append(took)
        took, found_similar = timed(similar_to, checked)
        similar_found.append(took)
        floor.append(
            timed(
                lambda sha: list(
                    EvidenceItem.objects.filter(sha256__in={sha}).values_list(
                        "sha256", "batch_id", "batch__code", "batch__order__number"
                    )
                ),
                shas,
            )[0]
        )
        flags.append(timed(lambda item: freshness_flags([item], buyer), [new_item] * 20)[0])
    with connection.cursor() as cursor:
        scans = []
        for phash in checked[:5]:
            began = time.perf_counter()
            cursor.execute(
                "SELECT item_id FROM evidence_evidenceprovenance "
                "WHERE bit_count((phash # %s)::bit(64)) <= %s",
                [signed64(phash), SIMILAR_DISTANCE],
            )
            cursor.fetchall()
            scans.append(time.perf_counter() - began)
        sql, params = _candidate_sql(checked[0])
        cursor.execute(f"EXPLAIN {sql}", params)
        # The plan's nodes, without the 17 probed values of each band.
        plan = "\n".join(f"      {line}" for (line,) in cursor.fetchall() if "Cond" not in line)
    milliseconds = {
        name: statistics.median(values) * 1000
        for name, values in (
            ("similar", similar),
            ("found", similar_found),
            ("floor", floor),
            ("flags", flags),
        )
    }
    print(
        f"    similar-photo check, one new photo, nothing similar stored: "
        f"{milliseconds['similar']:.2f} ms median ({found_fresh} found among {CHECKED})"
    )
    print(
        f"    similar-photo check, one new photo with 5 near-copies stored: "
        f"{milliseconds['found']:.2f} ms median ({found_similar} found, {near:,} planted)"
    )
    print(f"    floor, identical-bytes lookup by SHA-256: {milliseconds['floor']:.2f} ms")
    print(
        f"    ratio similar / floor: {milliseconds['similar'] / milliseconds['floor']:.2f} "
        f"(nothing similar), {milliseconds['found'] / milliseconds['floor']:.2f} (5 found)"
    )
    print(f"    freshness_flags of one new photo (all flags): {milliseconds['flags']:.2f} ms")
    scan = statistics.median(scans) * 1000
    print(f"    the scan it replaces (popcount of every row): {scan:.0f} ms")
    print(f"    plan of the candidates' query:\n{plan}")


def _candidate_sql(phash: int) -> tuple[str, tuple[object, ...]]:
    from evidence.provenance import signed64
    from evidence.similar import band_index_probes, similar_candidates

    query = similar_candidates(band_index_probes({signed64(phash)})).values_list("phash", "item_id")
    sql, params = query.query.sql_with_params()
    return sql, params


if __name__ == "__main__":
    main()
