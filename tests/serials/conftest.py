from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile


def csv_file(
    counters: list[int], name: str = "serials.csv", extra: list[str] = ()
) -> SimpleUploadedFile:
    lines = ["serial", *(f"VLT{c:06d}" for c in counters), *extra]
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), "text/csv")
