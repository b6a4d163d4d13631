"""HTML to PDF with WeasyPrint, without its side effect on Pillow.

Importing ``weasyprint`` sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True`` for the whole
process, which would let a truncated upload pass our image checks (evidence, label photos) in
any process that once made a PDF. The flag is put back after the import."""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        from weasyprint import HTML
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    return HTML(string=html).write_pdf()
