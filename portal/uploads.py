"""Refuse an oversized upload from its Content-Length, before Django spools it to disk; tell
an upload's type from its bytes."""

from __future__ import annotations

from typing import Any

import magic
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler


class UploadSizeCap(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: answers 400 for a body above UPLOAD_MAX_REQUEST_BYTES."""

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        limit = settings.UPLOAD_MAX_REQUEST_BYTES
        if content_length and content_length > limit:
            raise RequestDataTooBig(
                f"The upload is {content_length / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB."
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
