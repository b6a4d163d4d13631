"""Refuse an oversized upload from its Content-Length, before Django spools it to disk; tell
an upload's type from its bytes; one gate for the documents people upload (evidence, payment
documents): size, type told by the bytes, a name that matches, images decoded under bomb
limits."""

from __future__ import annotations

import os
import warnings
from collections.abc import Collection
from typing import Any

import magic
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext, gettext_noop
from PIL import Image, UnidentifiedImageError

from untrusted import Refused, pdf, xlsx
from untrusted.confine import Confined

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a name's extension may be for each type told by the bytes.
EXTENSIONS = {
    "image/jpeg": {".jpg", ".jpeg", ".jpe"},
    "image/png": {".png"},
    "image/webp": {".webp"},
    "application/pdf": {".pdf"},
    "text/plain": {".txt", ".csv", ".log", ".tsv"},
    "text/csv": {".csv", ".txt"},
    XLSX: {".xlsx"},
}
# Pillow may open only these (never EPS or anything else it knows).
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class UploadSizeCap(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: answers 400 for a body above UPLOAD_MAX_REQUEST_BYTES."""

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        limit = settings.UPLOAD_MAX_REQUEST_BYTES
        if content_length and content_length > limit:
            raise RequestDataTooBig(
                gettext("The upload is %(size)s MB; the limit is %(limit)s MB.")
                % {"size": f"{content_length / 1e6:.0f}", "limit": f"{limit / 1e6:.0f}"}
            )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


SNIFF_BYTES = 8192


def sniffed_type(uploaded: Any) -> tuple[str, str]:
    """The MIME type libmagic reads from the file's first bytes, and its description for a
    person ("JPEG image data"); the file is left at its start."""
    uploaded.seek(0)
    head = uploaded.read(SNIFF_BYTES)
    uploaded.seek(0)
    description = magic.from_buffer(head).split(",")[0]
    return magic.from_buffer(head, mime=True), description


def _check_image(uploaded: Any, name: str, content_type: str, field: str) -> None:
    """Open with only the allowed format, bomb limits on (the warning is an error too), and
    decode it fully, so truncated or hostile images are refused before anything is stored."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            uploaded.seek(0)
            with Image.open(uploaded, formats=[PILLOW_FORMATS[content_type]]) as image:
                image.verify()
            uploaded.seek(0)
            with Image.open(uploaded, formats=[PILLOW_FORMATS[content_type]]) as image:
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            {
                field: gettext(
                    "%(name)s: the image is too large to open safely (a decompression bomb?)."
                )
                % {"name": name}
            }
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            {
                field: gettext("%(name)s: the image is damaged or truncated (%(error)s).")
                % {"name": name, "error": error}
            }
        ) from None
    finally:
        uploaded.seek(0)


def upload_checked(
    uploaded: Any, *, allowed: Collection[str], max_bytes: int, field: str, what: str
) -> tuple[str, str]:
    """The file's own name and the type told by its bytes, after every check an upload of
    ``what`` ("evidence", "a payment document") gets; ValidationError on ``field`` naming the
    file and what is wrong."""
    name = os.path.basename((uploaded.name or "upload").replace("\\", "/"))[:255] or "upload"
    what = gettext(str(what))  # the callers' words, marked in WHAT_WORDS
    if not uploaded.size:
        raise ValidationError({field: gettext("%(name)s is empty.") % {"name": name}})
    if uploaded.size > max_bytes:
        raise ValidationError(
            {
                field: gettext("%(name)s is %(size)s MB; %(what)s may be at most %(limit)s MB.")
                % {
                    "name": name,
                    "size": f"{uploaded.size / 1e6:.1f}",
                    "what": what,
                    "limit": f"{max_bytes / 1e6:.0f}",
                }
            }
        )
    content_type, _ = sniffed_type(uploaded)
    if content_type not in allowed:
        raise ValidationError(
            {
                field: gettext("%(name)s: files of type %(type)s are not accepted as %(what)s.")
                % {"name": name, "type": content_type, "what": what}
            }
        )
    extension = os.path.splitext(name)[1].lower()
    if extension not in EXTENSIONS.get(content_type, set()):
        raise ValidationError(
            {
                field: gettext(
                    "%(name)s: its name says %(extension)s, but its bytes are %(type)s. Upload "
                    "the file its name promises, or rename it to one of %(extensions)s."
                )
                % {
                    "name": name,
                    "extension": extension or gettext("nothing"),
                    "type": content_type,
                    "extensions": ", ".join(sorted(EXTENSIONS.get(content_type, set()))),
                }
            }
        )
    if content_type in PILLOW_FORMATS:
        _check_image(uploaded, name, content_type, field)
        carried = _carried_after_image(uploaded, content_type)
        if carried:
            raise ValidationError(
                {
                    field: gettext(
                        "%(name)s: %(carried)s after the end of the image; upload the image alone."
                    )
                    % {"name": name, "carried": carried}
                }
            )
    try:
        if content_type == "application/pdf":
            _check_pdf(uploaded)
        elif content_type == XLSX:
            _check_workbook(uploaded)
    except Refused as refused:
        raise ValidationError(
            {
                field: gettext("%(name)s: %(refusal)s.")
                % {"name": name, "refusal": translated(refused)}
            }
        ) from None
    return name, content_type


# The words callers pass as ``what`` (in English; upload_checked translates them).
WHAT_WORDS = (gettext_noop("evidence"), gettext_noop("a payment document"))


def translated(refusal: Refused | Confined) -> str:
    """A refusal from ``untrusted`` (Django-free, so English) in the reader's language: its
    template is a marked msgid; a refusal inside it (a limit the reader broke) is translated too."""
    params = {
        key: translated(value) if isinstance(value, Refused | Confined) else value
        for key, value in refusal.params.items()
    }
    text = gettext(refusal.template)
    return text % params if params else text


def _check_pdf(uploaded: Any) -> None:
    """Opened under limits (untrusted.pdf): no password, no code, no files inside, bounded
    pages and inflation; nothing hidden after its last end-of-file marker."""
    uploaded.seek(0)
    data = uploaded.read()
    uploaded.seek(0)
    # After the last cross-reference pointer only the end-of-file marker may follow. (The last
    # "%%EOF" alone would not do: a ZIP may end with one in its comment.)
    end = data.rfind(b"startxref")
    trailing = data[end:] if end >= 0 else b""
    for signature, what in HIDDEN_FILES:
        if signature != b"%%EOF" and signature in trailing:
            raise Refused(
                gettext_noop("%(what)s is hidden after the end of the PDF; upload the PDF alone"),
                {"what": gettext(what)},
            )
    pdf.check(data)


def _check_workbook(uploaded: Any) -> None:
    """The spreadsheet guard (untrusted.xlsx) and no macros: a workbook kept as evidence is a
    record, never a program."""
    xlsx.check(uploaded)
    carrier = xlsx.macros(uploaded)
    if carrier:
        raise Refused(
            gettext_noop(
                "the workbook carries macros or other code (%(carrier)s); save it as a plain "
                ".xlsx workbook without macros"
            ),
            {"carrier": carrier},
        )
    uploaded.seek(0)


# Signatures of files that may hide after an image's end (a polyglot): ZIP (and so XLSX, JAR,
# APK, or a program packed in one), PDF, RAR, 7z.
HIDDEN_FILES = (
    (b"PK\x03\x04", gettext_noop("a ZIP archive")),
    (b"PK\x01\x02", gettext_noop("a ZIP archive")),  # its central directory, which ends the archive
    (b"PK\x05\x06", gettext_noop("a ZIP archive")),
    (b"%PDF", gettext_noop("a PDF document")),
    (b"%%EOF", gettext_noop("a PDF document")),
    (b"Rar!", gettext_noop("a RAR archive")),
    (b"7z\xbc\xaf", gettext_noop("a 7z archive")),
)


def _carried_after_image(uploaded: Any, content_type: str) -> str:
    """What the file carries after the image's own end, or "". A PNG ends with its IEND chunk
    and a WebP with its RIFF length: nothing may follow. A JPEG may legitimately carry a
    trailer (phones append a motion clip), so only another file's signature is refused."""
    uploaded.seek(0)
    data = uploaded.read()
    uploaded.seek(0)
    if content_type == "image/png":
        end = data.rfind(b"IEND")
        trailing = data[end + 8 :] if end >= 0 else b""  # the chunk's type, then its 4-byte CRC
        return _more_bytes(trailing)
    if content_type == "image/webp" and data[:4] == b"RIFF":
        length = int.from_bytes(data[4:8], "little") + 8
        trailing = data[length + (length % 2) :]
        return _more_bytes(trailing)
    end = data.rfind(b"\xff\xd9")  # JPEG: look past the last end-of-image marker
    trailing = data[end + 2 :] if end >= 0 else b""
    for signature, what in HIDDEN_FILES:
        if signature in trailing:
            return gettext(what)
    return ""


def _more_bytes(trailing: bytes) -> str:
    if not trailing.strip(b"\x00"):
        return ""
    return gettext("%(count)s more bytes") % {"count": len(trailing)}
