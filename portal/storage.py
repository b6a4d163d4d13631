"""Content-addressed storage: bytes are kept under their SHA-256, through Django's storage API
(local files by default, S3-compatible storage when configured). Nothing is ever overwritten:
the same bytes land on the same name, different bytes on a different one."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db.models import QuerySet

from portal.integrity import CheckResult, Finding


def sha256_of(file: File) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def store_by_hash(file: File, *, folder: str) -> tuple[str, str, int]:
    """Store the bytes under ``folder/ab/abcd…`` (never under the sender's name); returns the
    storage name, the SHA-256 and the size."""
    sha, size = sha256_of(file)
    name = f"{folder}/{sha[:2]}/{sha}"
    if not default_storage.exists(name):
        stored = default_storage.save(name, file)
        if stored != name:  # a concurrent upload of the same bytes won the race
            default_storage.delete(stored)
    return name, sha, size


def stored_files_check(
    part: str, rows: QuerySet[Any], *, file_field: str = "file", sha_field: str = "sha256"
) -> CheckResult:
    """Re-hash every stored file of ``rows`` against the SHA-256 its row records: an
    ``integrity_verify`` part. A finding names the table and id, never the uploader's file
    name (the findings are shown to the portal's admins, and a name may come from another
    buyer's order)."""
    result = CheckResult(part)
    table = rows.model._meta.db_table
    for row in rows.order_by("id").iterator():
        result.checked += 1
        name, recorded = getattr(row, file_field).name, getattr(row, sha_field)
        if not name or not default_storage.exists(name):
            result.findings.append(
                Finding(table, str(row.pk), f"its stored file {name} is missing")
            )
            continue
        with default_storage.open(name, "rb") as stored:
            sha, _ = sha256_of(stored)
        if sha != recorded:
            what = f"stored bytes hash to {sha[:16]}…, the row records {recorded[:16]}…"
            result.findings.append(Finding(table, str(row.pk), what))
    return result
