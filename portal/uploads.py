"""Refuse an oversized upload from its Content-Length, before Django spools it to disk."""

from __future__ import annotations

from typing import Any

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
