"""Content-addressed storage: bytes are kept under their SHA-256, through Django's storage API
(local files by default, S3-compatible storage when configured). Nothing is ever overwritten:
the same bytes land on the same name, different bytes on a different one."""

from __future__ import annotations

import hashlib

from django.core.files.base import File
from django.core.files.storage import default_storage


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
