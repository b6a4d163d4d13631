"""The same scene sent twice: photos whose perceptual hashes differ in at most
``SIMILAR_DISTANCE`` of their 64 bits, found through an index rather than a scan.

Multi-index hashing: the hash is split into four 16-bit bands, each a stored generated column
with its own B-tree index (``EvidenceProvenance.phash_band0..3``). Two hashes at distance ≤ 7
differ, by pigeonhole, in at most one bit of at least one band; so the candidates are the rows
whose band equals one of the photo's bands or one of its 16 one-bit neighbours (4 × 17 values,
one ``IN`` list per band, answered by four index-only scans, united), and the exact distance
is then counted on those few rows only. Among a million random hashes that is about 1,100
candidates (17 × 4 × n / 65,536: a thousandth of the table, read from the indexes alone).

The threshold was chosen by measuring (``benchmarks/photo_similarity_bench.py``): photo-like
pictures halved, cropped by 3 % and re-encoded as JPEG at quality 60 moved 4 bits (median), 38
of 40 within 7; 780 pairs of different pictures were never closer than 16 bits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from evidence.models import PHASH_BANDS, EvidenceItem, EvidenceProvenance
from evidence.provenance import unsigned64

SIMILAR_DISTANCE = 7  # the most the band probes below are sure to find
_BAND_BITS = 64 // PHASH_BANDS
_BAND_MASK = (1 << _BAND_BITS) - 1
_MASK64 = (1 << 64) - 1
_FEW = 16


@dataclass(frozen=True)
class SimilarPhoto:
    """A stored photo close to a photo being checked."""

    item_id: int
    sha256: str
    batch_id: int
    batch_code: str
    order_number: str
    distance: int


def bands(phash: int) -> list[int]:
    value = unsigned64(phash)
    return [(value >> (_BAND_BITS * number)) & _BAND_MASK for number in range(PHASH_BANDS)]


def band_probes(phash: int) -> list[set[int]]:
    """Per band, the band's own value and every value one bit away from it."""
    return [{value} | {value ^ (1 << bit) for bit in range(_BAND_BITS)} for value in bands(phash)]


def distance(first: int, second: int) -> int:
    return (unsigned64(first) ^ unsigned64(second)).bit_count()


def band_index_probes(wanted: set[int]) -> list[dict[int, set[int]]]:
    """Per band, each probed value and the wanted hashes it may lead to."""
    probes: list[dict[int, set[int]]] = [{} for _ in range(PHASH_BANDS)]
    for phash in wanted:
        for number, values in enumerate(band_probes(phash)):
            for value in values:
                probes[number].setdefault(value, set()).add(phash)
    return probes


def _leads(probes: list[dict[int, set[int]]], stored: int) -> set[int]:
    """The wanted hashes whose probes found ``stored``."""
    return set().union(
        *(probes[number].get(value, ()) for number, value in enumerate(bands(stored)))
    )


def similar_candidates(probes: list[dict[int, set[int]]]) -> QuerySet[Any]:
    """``(phash, item_id)`` of the stored readings sharing a probed value in any band: one
    index-only scan per band (each index carries the hash and the item), united."""
    per_band = [
        EvidenceProvenance.objects.filter(**{f"phash_band{number}__in": sorted(values)})
        .order_by()
        .values_list("phash", "item_id")
        for number, values in enumerate(probes)
    ]
    return per_band[0].union(*per_band[1:])


def similar_photos(hashes: Iterable[int]) -> dict[int, list[SimilarPhoto]]:
    """For each hash, the stored photos within ``SIMILAR_DISTANCE`` of it (itself included,
    when it is stored): one query through the band indexes for all of them, and one for the
    batches of the photos found."""
    wanted = set(hashes)
    if not wanted:
        return {}
    probes = band_index_probes(wanted)
    close: list[tuple[int, int, int]] = []  # (wanted hash, item id, distance)
    few = list(wanted) if len(wanted) <= _FEW else None
    for stored, item_id in similar_candidates(probes):
        if stored is None:  # a band matched, so never: for the type checker
            continue
        # A few wanted hashes: count the distance to each (a popcount is cheaper than finding
        # which of them led here); many (a whole batch page): only those whose probe led here.
        leads = few if few is not None else _leads(probes, stored)
        close += [
            (phash, item_id, apart)
            for phash in leads
            if (apart := ((phash ^ stored) & _MASK64).bit_count()) <= SIMILAR_DISTANCE
        ]
    found: dict[int, list[SimilarPhoto]] = {phash: [] for phash in wanted}
    if not close:  # the usual answer: one query, nothing else to read
        return found
    places: Iterable[tuple[int, str, int, str, str]] = EvidenceItem.objects.filter(
        pk__in={item_id for _, item_id, _ in close}
    ).values_list("pk", "sha256", "batch_id", "batch__code", "batch__order__number")
    where = {place[0]: place for place in places}
    for phash, item_id, apart in close:
        _, sha, batch_id, code, number = where[item_id]
        found[phash].append(SimilarPhoto(item_id, sha, batch_id, code, number, apart))
    return found
