from __future__ import annotations

import struct
import zlib
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from tests.documents import pdf_document


def jpeg(
    name: str = "photo.jpg", captured: str | None = None, colour: str = "orange"
) -> SimpleUploadedFile:
    """A small JPEG, with an EXIF DateTimeOriginal when ``captured`` ("2025:03:04 10:11:12")."""
    image = Image.new("RGB", (64, 48), colour)
    buffer = BytesIO()
    if captured:
        exif = Image.Exif()
        exif.get_ifd(ExifTags.IFD.Exif)[0x9003] = captured
        image.save(buffer, "JPEG", exif=exif)
    else:
        image.save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), "image/jpeg")


def png(name: str = "label.png") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (40, 40), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), "image/png")


def png_bomb(name: str = "bomb.png") -> SimpleUploadedFile:
    """A PNG whose header claims 30,000 × 30,000 pixels: a few bytes, 900 million pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    return SimpleUploadedFile(name, data, "image/png")


def pdf(name: str = "record.pdf") -> SimpleUploadedFile:
    body = pdf_document(name)
    return SimpleUploadedFile(name, body, "application/pdf")
