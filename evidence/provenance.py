"""What an evidence file says about where it came from: its C2PA content credentials (read and
validated with c2pa-python) and, for a photo, a 64-bit perceptual hash (ImageHash's pHash) that
finds the same scene sent again after it was resized, recompressed or cropped a little.

Both read bytes nobody here wrote with native code (c2pa-rs, libjpeg), so they run together in a
child process under a memory and time limit (``untrusted.confine``): a file built to break a
reader breaks only the child, and the item is recorded as "could not be read".

Most files carry no credentials (messengers and most cameras write none): absence is reported,
never held against the file. Nothing here touches the network: fetching remote manifests and
OCSP answers is turned off, so a file cannot make the worker call out.
"""

from __future__ import annotations

import datetime
import io
import os
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import c2pa  # type: ignore[import-untyped]
import imagehash
import numpy as np
from PIL import Image, ImageOps

from evidence.models import EvidenceProvenance
from untrusted import gettext_noop
from untrusted.confine import Confined, run_confined

PROVENANCE_MAX_MEMORY = int(os.environ.get("EVIDENCE_PROVENANCE_MAX_MEMORY", 1 << 30))
PROVENANCE_MAX_SECONDS = float(os.environ.get("EVIDENCE_PROVENANCE_MAX_SECONDS", 60))

# The types whose credentials are read: the evidence images and PDF documents.
READ_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
HASHED_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}

# A photo this plain (the grey levels of its 32 × 32 reduction barely vary: a blank wall, a
# solid colour) has a pHash made of noise; two such photos would look "similar" for no reason.
MIN_DETAIL = 3.0

# Codes c2pa reports that say nothing about the file: OCSP was not asked (no network here).
QUIET_CODES = {"signingCredential.ocsp.skipped", "signingCredential.ocsp.inaccessible"}

_NO_NETWORK = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
Credentials = EvidenceProvenance.Credentials


@dataclass(frozen=True)
class Provenance:
    """One reading of a file, carried back from the child process."""

    credentials: str
    codes: list[str] = field(default_factory=list)  # failure codes, e.g. dataHash.mismatch
    signer: str = ""
    signer_issuer: str = ""
    claim_generator: str = ""
    claimed_at: datetime.datetime | None = None  # c2pa.created "when", else the EXIF claim
    source_type: str = ""  # digitalSourceType, an IPTC URI
    claims: dict[str, str] = field(default_factory=dict)  # the other facts, as the file says
    phash: int | None = None  # signed 64 bits, as PostgreSQL's bigint holds it
    note: str = ""


def provenance_read(data: bytes, content_type: str) -> Provenance | None:
    """The file's provenance, or None for a type that carries none we read. Never raises for
    what the file holds: a file that breaks a reader or a limit reads as ``UNREAD``."""
    if content_type not in READ_TYPES:
        return None
    # pHash imports SciPy's DCT on first use (a quarter of a second): import it here, in the
    # worker, once, so that every forked child starts with it loaded.
    import scipy.fftpack  # type: ignore[import-untyped]  # noqa: F401

    try:
        return run_confined(
            _read,
            data,
            content_type,
            memory_bytes=PROVENANCE_MAX_MEMORY,
            seconds=PROVENANCE_MAX_SECONDS,
        )
    except Confined as exc:
        return Provenance(Credentials.UNREAD, note=f"Not read: {exc}"[:300])
    except Exception as exc:  # noqa: BLE001 - an unexpected reader error must not stall the item
        return Provenance(Credentials.UNREAD, note=f"Not read: {type(exc).__name__}: {exc}"[:300])


def _read(data: bytes, content_type: str) -> Provenance:
    """In the child: credentials first, then the photo's hash; each failure is its own note."""
    reading = _credentials(data, content_type)
    if content_type in HASHED_TYPES:
        phash, note = _photo_hash(data, HASHED_TYPES[content_type])
        notes = "; ".join(part for part in (reading.note, note) if part)
        reading = replace(reading, phash=phash, note=notes[:300])
    return reading


# ---------------------------------------------------------------- content credentials


def _credentials(data: bytes, content_type: str) -> Provenance:
    try:
        context = c2pa.Context(settings=c2pa.Settings.from_dict(_NO_NETWORK))
        reader = c2pa.Reader.try_create(content_type, io.BytesIO(data), None, context)
    except c2pa.C2paError as exc:
        return Provenance(Credentials.UNREAD, note=f"Credentials not read: {exc}"[:300])
    if reader is None:
        return Provenance(Credentials.ABSENT)
    with reader:
        state = (reader.get_validation_state() or "").lower()
        results = reader.get_validation_results() or {}
        manifest = reader.get_active_manifest() or {}
    failures = [
        str(entry.get("code", ""))
        for entry in (results.get("activeManifest") or {}).get("failure", [])
    ]
    if state == "trusted":
        credentials = Credentials.TRUSTED
    elif state == "valid":
        credentials = Credentials.VALID
    else:
        credentials = Credentials.INVALID
    return Provenance(
        credentials,
        codes=[code for code in failures if code and code not in QUIET_CODES],
        **manifest_facts(manifest),
    )


def manifest_facts(manifest: dict[str, Any]) -> dict[str, Any]:
    """Who signed, with what, and what the manifest claims about the capture."""
    signature = manifest.get("signature_info") or {}
    generators = manifest.get("claim_generator_info") or []
    generator = manifest.get("claim_generator") or ""
    if not generator and generators:
        first = generators[0]
        generator = " ".join(str(first.get(key, "")) for key in ("name", "version")).strip()
    claims: dict[str, str] = {}
    claimed_at, source_type = None, ""
    for assertion in manifest.get("assertions") or []:
        label, body = str(assertion.get("label", "")), assertion.get("data") or {}
        if label.startswith("c2pa.actions"):
            for action in body.get("actions") or []:
                if action.get("action") != "c2pa.created":
                    continue
                claimed_at = claimed_at or _when(action.get("when"))
                source_type = source_type or str(action.get("digitalSourceType") or "")
        elif label in ("stds.exif", "cawg.metadata"):
            for key in ("exif:DateTimeOriginal", "exif:Make", "exif:Model", "exif:GPSLatitude"):
                if body.get(key):
                    claims[key.removeprefix("exif:")] = str(body[key])[:100]
    if claimed_at is None and "DateTimeOriginal" in claims:
        claimed_at = _when(claims["DateTimeOriginal"])
    if manifest.get("title"):
        claims["title"] = str(manifest["title"])[:200]
    return {
        "signer": str(signature.get("common_name") or "")[:200],
        "signer_issuer": str(signature.get("issuer") or "")[:200],
        "claim_generator": generator[:200],
        "claimed_at": claimed_at,
        "source_type": source_type[:200],
        "claims": claims,
    }


def _when(value: object) -> datetime.datetime | None:
    """An ISO 8601 time (c2pa) or an EXIF one ("2026:11:03 09:30:00"); UTC when it names none."""
    if not value:
        return None
    text = str(value).strip()
    for parse in (
        lambda: datetime.datetime.fromisoformat(text.replace("Z", "+00:00")),
        lambda: datetime.datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S"),
    ):
        try:
            moment = parse()
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
    return None


# ---------------------------------------------------------------- the same scene again


def _photo_hash(data: bytes, pillow_format: str) -> tuple[int | None, str]:
    """pHash of the upright photo as people see it, as a signed 64-bit integer; None with a
    note when the photo is too plain to compare or cannot be decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                image.draft("RGB", (512, 512))  # JPEG: decode at 1/2…1/8 scale, same hash
                upright = ImageOps.exif_transpose(image).convert("L")
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds on a hostile file
        return None, f"Not hashed: {type(exc).__name__}: {exc}"[:200]
    reduced = np.asarray(upright.resize((32, 32), Image.Resampling.LANCZOS), dtype=float)
    if reduced.std() < MIN_DETAIL:
        return None, gettext_noop("Too plain to compare with other photos")
    return signed64(int(str(imagehash.phash(upright)), 16)), ""


def signed64(value: int) -> int:
    """An unsigned 64-bit hash as PostgreSQL's signed bigint stores it."""
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned64(value: int) -> int:
    return value & ((1 << 64) - 1)
