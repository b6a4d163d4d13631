"""The dossier's ZIP writer: every file added is hashed as it is written, and a stored file is
copied in chunks with the hash of what was actually copied beside the hash recorded at upload."""

from __future__ import annotations

import datetime
import hashlib
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.files.storage import default_storage

CHUNK = 1024 * 1024


@dataclass
class Entry:
    path: str
    sha256: str
    size: int
    source: str  # what the file is, in words
    recorded_sha256: str = ""  # the hash the portal recorded when the file was stored

    @property
    def intact(self) -> bool | None:
        return None if not self.recorded_sha256 else self.recorded_sha256 == self.sha256


@dataclass
class Writer:
    archive: zipfile.ZipFile
    entries: list[Entry] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    # Called with each entry once it is written (a worker's progress and heartbeat).
    on_entry: Callable[[Entry], None] | None = None

    def _added(self, entry: Entry) -> None:
        self.entries.append(entry)
        if self.on_entry is not None:
            self.on_entry(entry)

    def _unique(self, path: str) -> str:
        stem, dot, ext = path.rpartition(".")
        candidate, n = path, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{stem}-{n}.{ext}" if dot else f"{path}-{n}"
        self.taken.add(candidate)
        return candidate

    def add_bytes(self, path: str, data: bytes, source: str) -> None:
        path = self._unique(path)
        self.archive.writestr(path, data)
        self._added(Entry(path, hashlib.sha256(data).hexdigest(), len(data), source))

    def add_stored(
        self,
        path: str,
        storage_name: str,
        source: str,
        recorded_sha256: str,
        stored_at: datetime.datetime,
    ) -> None:
        """Copy a stored file in chunks, hashing what was actually copied."""
        path = self._unique(path)
        info = zipfile.ZipInfo(path, date_time=stored_at.utctimetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        digest, size = hashlib.sha256(), 0
        try:
            stored = default_storage.open(storage_name, "rb")
        except (FileNotFoundError, OSError):
            self._added(Entry(path, "", 0, f"{source} — MISSING from storage", recorded_sha256))
            return
        with stored, self.archive.open(info, "w", force_zip64=True) as target:
            while chunk := stored.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
        self._added(Entry(path, digest.hexdigest(), size, source, recorded_sha256))


def safe_name(name: str) -> str:
    """A file name that is safe inside a ZIP on any system."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit("/", 1)[-1]).strip("._")
    return cleaned[:120] or "file"
