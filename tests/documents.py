"""Real documents for tests that upload one: a PDF the upload gate opens (a page that says
``text``, so two texts give two files)."""

from __future__ import annotations

import io

import pikepdf


def pdf_document(text: str = "a record") -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    page.Contents = pdf.make_stream(
        f"BT /F1 12 Tf 72 760 Td ({escaped}) Tj ET".encode("latin-1", "replace")
    )
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
