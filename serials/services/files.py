"""Files a service reads: what an uploaded serial or code list may be, and a local path for
bytes in storage or for an upload that is checked and not kept."""

from __future__ import annotations

import os
import shutil
import tempfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile

from portal.uploads import sniffed_type

# What a serial list's first bytes may be: text (CSV/TXT), or a ZIP that may be an XLSX
# workbook (libmagic names some workbooks only "a ZIP"; the worker opens it to be sure).
SERIAL_LIST_XLSX_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/zip",
}
SERIAL_LIST_TEXT_TYPES = {"application/csv"}
# Text that is a page or a document, not a list (an HTML page renamed .csv): refused like binary.
NOT_LIST_TEXT_TYPES = {"text/html", "text/xml", "text/rtf"}


def _checked_name(uploaded_file: UploadedFile) -> str:
    """The file's own name (never a path), after the size checks every upload gets and a
    look at its first bytes: what is not text or a workbook is refused now, not stored."""
    name = os.path.basename((uploaded_file.name or "upload").replace("\\", "/"))[:255]
    name = name or "upload"
    if not uploaded_file.size:
        raise ValidationError({"file": f"{name} is empty."})
    if uploaded_file.size > settings.SERIAL_LIST_MAX_BYTES:
        raise ValidationError(
            {
                "file": f"{name} is {uploaded_file.size / 1e6:.1f} MB; the limit is "
                f"{settings.SERIAL_LIST_MAX_BYTES / 1e6:.1f} MB."
            }
        )
    content_type, description = sniffed_type(uploaded_file)
    if content_type in NOT_LIST_TEXT_TYPES or not (
        content_type.startswith("text/")
        or content_type in SERIAL_LIST_TEXT_TYPES
        or content_type in SERIAL_LIST_XLSX_TYPES
    ):
        raise ValidationError(
            {
                "file": f"{name} is not a serial list: its bytes are {description} "
                f"({content_type}). Upload CSV or TXT text, or an XLSX workbook."
            }
        )
    return name


class _local_copy:  # noqa: N801 - used as a context manager
    """A filesystem path for the stored bytes (copied down from remote storage if needed).
    The engine names files in its messages: show the uploader's file name, not our hash."""

    def __init__(self, storage_name: str, shown_name: str) -> None:
        self.storage_name = storage_name
        self.shown_name = os.path.basename(shown_name) or "upload"
        self.directory: str | None = None

    def __enter__(self) -> str:
        self.directory = tempfile.mkdtemp(prefix="serial-list-")
        path = os.path.join(self.directory, self.shown_name)
        try:
            os.symlink(default_storage.path(self.storage_name), path)
        except NotImplementedError:
            with default_storage.open(self.storage_name, "rb") as source, open(path, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
        return path

    def __exit__(self, *exc: object) -> None:
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)


class _uploaded_copy:  # noqa: N801 - used as a context manager
    """A filesystem path for an uploaded file's bytes that are checked and never kept: a private
    temporary folder outside MEDIA_ROOT, removed on leaving. A large upload Django already
    spooled to a temporary file is linked, not copied. The file is named ``upload`` (the
    uploader's name never becomes a path); callers show their own name in messages."""

    def __init__(self, uploaded_file: UploadedFile) -> None:
        self.uploaded_file = uploaded_file
        self.directory: str | None = None

    def __enter__(self) -> str:
        self.directory = tempfile.mkdtemp(prefix="serial-list-check-")
        path = os.path.join(self.directory, "upload")
        spooled = getattr(self.uploaded_file, "temporary_file_path", None)
        if spooled is not None:
            os.symlink(spooled(), path)
        else:
            self.uploaded_file.seek(0)
            with open(path, "wb") as out:
                for chunk in self.uploaded_file.chunks():
                    out.write(chunk)
            self.uploaded_file.seek(0)
        return path

    def __exit__(self, *exc: object) -> None:
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
