"""Spreadsheet-safe exports."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse

# A cell starting with one of these runs as a formula in Excel or LibreOffice, once leading
# spaces, a byte-order mark and other invisible characters are skipped; full-width signs
# (＝ ＋ － ＠) are read as their ASCII forms by some spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_INVISIBLE = " \ufeff\u200b\u200c\u200d\u2060\u00a0"


def spreadsheet_safe(value: Any) -> str:
    """Neutralise formula injection: prefix a quote to text a spreadsheet would execute."""
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip(_INVISIBLE).startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return response
