"""Reading serial labels: typed and pasted text, scanner output, and generated label images.

Every image is drawn at test time with zxing-cpp's own writer, so there are no binary fixtures.
"""

from __future__ import annotations

import io

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageOps
from stdnum import ean

from inspection.labels import LabelReading, _load_image, label_decode, label_parse

GTIN = "09506000134352"  # GS1's own example GTIN, valid check digit
BAD_GTIN = "09506000134353"
GS = "\x1d"
Format = zxingcpp.BarcodeFormat


def _label(
    content: str, barcode_format: Format, *, gs1: bool = False, scale: int = 4
) -> Image.Image:
    """A barcode as a greyscale image with a wide white border, like a printed label."""
    options = {"gs1": True} if gs1 else {}
    barcode = zxingcpp.create_barcode(content, barcode_format, **options)
    image = Image.fromarray(zxingcpp.write_barcode_to_image(barcode, scale=scale))
    return ImageOps.expand(image, border=8 * scale, fill=255)


def _encode(image: Image.Image, image_format: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def _fields(reading: LabelReading) -> tuple[str | None, ...]:
    return (reading.kind, reading.gtin, reading.serial, reading.batch_lot, reading.error)


# --- label_parse: GS1 element strings -------------------------------------------------------


def test_it_reads_a_bracketed_element_string() -> None:
    reading = label_parse(f"(01){GTIN}(21)ABC123(10)LOT1")
    assert _fields(reading) == ("gs1_element_string", GTIN, "ABC123", "LOT1", None)
    assert reading.symbology is None


def test_it_reads_a_bracketed_element_string_typed_with_spaces() -> None:
    reading = label_parse(f"(01) {GTIN} (21) ABC123")
    assert _fields(reading) == ("gs1_element_string", GTIN, "ABC123", None, None)


def test_it_reads_scanner_output_with_symbology_prefix_and_group_separators() -> None:
    text = f"]d2{GS}01{GTIN}21abc123{GS}10LOT1"
    reading = label_parse(text)
    assert _fields(reading) == ("gs1_element_string", GTIN, "abc123", "LOT1", None)
    assert reading.symbology == "DataMatrix"
    assert reading.text == text


def test_it_reads_group_separated_gs1_data_without_a_prefix() -> None:
    reading = label_parse(f"01{GTIN}21ABC123{GS}10LOT1")
    assert _fields(reading) == ("gs1_element_string", GTIN, "ABC123", "LOT1", None)
    assert reading.symbology is None


@pytest.mark.parametrize(
    ("text", "serial"),
    [(f"01{GTIN}", None), (f"01{GTIN}21ABC123", "ABC123"), (f"01{GTIN}10LOT1", None)],
)
def test_it_reads_bare_digits_as_gs1_only_when_they_start_with_a_valid_gtin(
    text: str, serial: str | None
) -> None:
    reading = label_parse(text)
    assert (reading.kind, reading.gtin, reading.serial, reading.error) == (
        "gs1_element_string",
        GTIN,
        serial,
        None,
    )


def test_it_reads_gtin_only_scanner_output_without_a_serial() -> None:
    reading = label_parse("]E04006381333931")
    assert _fields(reading) == ("gs1_element_string", "04006381333931", None, None, None)
    assert reading.symbology == "EAN13"
    assert label_parse("]E496385074").gtin == "00000096385074"


# --- label_parse: GS1 Digital Link ---------------------------------------------------------


def test_it_reads_a_digital_link_on_id_gs1_org() -> None:
    reading = label_parse(f"https://id.gs1.org/01/{GTIN}/21/ABC123")
    assert _fields(reading) == ("digital_link", GTIN, "ABC123", None, None)


def test_it_reads_a_digital_link_on_a_custom_domain_with_query_and_percent_encoding() -> None:
    url = (
        f"https://brand.example.com/products/01/{GTIN}/10/LOT%2F7/21/AB%2FC%25-1"
        "?linkType=gs1:pip&17=261231"
    )
    reading = label_parse(url)
    assert _fields(reading) == ("digital_link", GTIN, "AB/C%-1", "LOT/7", None)


def test_it_reads_a_digital_link_batch_from_the_query_string() -> None:
    reading = label_parse(f"https://example.com/01/{GTIN}/21/X1?10=LOT9")
    assert _fields(reading) == ("digital_link", GTIN, "X1", "LOT9", None)


def test_it_pads_a_13_digit_digital_link_gtin_and_accepts_an_upper_case_scheme() -> None:
    reading = label_parse("HTTPS://ID.GS1.ORG/01/4006381333931/21/Sn1")
    assert _fields(reading) == ("digital_link", "04006381333931", "Sn1", None, None)


def test_it_reports_a_url_that_is_not_a_digital_link_instead_of_taking_it_as_a_serial() -> None:
    reading = label_parse("https://example.com/about")
    assert (reading.kind, reading.serial, reading.gtin) == ("digital_link", None, None)
    assert reading.error is not None and "Digital Link" in reading.error


# --- label_parse: errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"(01){BAD_GTIN}(21)ABC123",
        f"]d201{BAD_GTIN}21ABC123",
        f"01{BAD_GTIN}21ABC123{GS}10LOT1",
        f"https://id.gs1.org/01/{BAD_GTIN}/21/ABC123",
        "]E04006381333932",
    ],
    ids=["bracketed", "prefixed", "group-separated", "digital-link", "ean13-scan"],
)
def test_it_reports_a_bad_gtin_check_digit_without_raising(text: str) -> None:
    reading = label_parse(text)
    assert reading.gtin is None
    assert reading.error is not None and "check digit" in reading.error
    assert reading.kind != "plain"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(01)123(21)X", "Not a valid GS1 element string"),
        ("(99)x(21)A(B)C", "losing data"),
        ("(21)X(21)Y", "appears twice"),
        ("]C1SN-000123", "Not a valid GS1 element string"),
        (f"]d201{GTIN}17991399", "Not a valid GS1 element string"),
    ],
    ids=["short-gtin", "brackets-in-value", "conflicting-serials", "gs1-128-not-gs1", "bad-date"],
)
def test_it_reports_malformed_gs1_data_without_raising(text: str, expected: str) -> None:
    reading = label_parse(text)
    assert reading.kind == "gs1_element_string"
    assert reading.error is not None and expected in reading.error
    assert reading.gtin is None


@pytest.mark.parametrize("text", ["", "   \t\n", "]C1", "]d2  "])
def test_it_reports_empty_input(text: str) -> None:
    reading = label_parse(text)
    assert reading.serial is None and reading.gtin is None
    assert reading.error is not None and ("Empty" in reading.error or "No data" in reading.error)


# --- label_parse: plain serials ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "SN-000123",
        "sn-AbC-42",
        "000123",  # biip alone reads this as a UPC-E GTIN
        "123456",
        "2112345",  # ... and this as AI (21) "12345"
        "10ABC",  # ... and this as AI (10) "ABC"
        "96385074",  # ... and this as a GTIN-8 and as AI (96)
        "4006381333931",  # a bare EAN-13 typed in is a serial; a scanner would send ]E0
        f"01{BAD_GTIN}",  # 01 + 14 digits but a wrong check digit: not a valid GS1 message
        f"01{GTIN}SN-1",  # valid GTIN prefix but the rest is not GS1 data
        "(ABC)123",
    ],
)
def test_it_keeps_text_that_is_not_a_valid_gs1_message_as_a_plain_serial(text: str) -> None:
    reading = label_parse(text)
    assert _fields(reading) == ("plain", None, text, None, None)
    assert reading.symbology is None


def test_it_strips_only_surrounding_whitespace_from_a_plain_serial() -> None:
    reading = label_parse(" \t Ab-12 x7\r\n")
    assert _fields(reading) == ("plain", None, "Ab-12 x7", None, None)
    assert reading.text == " \t Ab-12 x7\r\n"


@pytest.mark.parametrize(
    ("text", "symbology"),
    [("]C0SN-000123", "Code128"), ("]Q1SN-000123", "QRCode"), ("]d1SN-000123", "DataMatrix")],
)
def test_it_strips_a_scanner_symbology_prefix_from_a_plain_serial(
    text: str, symbology: str
) -> None:
    reading = label_parse(text)
    assert _fields(reading) == ("plain", None, "SN-000123", None, None)
    assert reading.symbology == symbology


@settings(max_examples=400, deadline=None, database=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.text(alphabet="0123456789()]dCQE12\x1d/%:.httpsABCx ", max_size=60),
        st.builds(
            lambda tail: f"01{GTIN}{tail}", st.text(alphabet="0123456789\x1dAB", max_size=30)
        ),
        st.builds(lambda tail: f"https://e.example/01/{tail}", st.text(max_size=40)),
    )
)
def test_it_never_raises_and_only_returns_verified_gtins(text: str) -> None:
    reading = label_parse(text)
    assert reading.text == text
    assert reading.kind in ("plain", "gs1_element_string", "digital_link")
    if reading.gtin is not None:
        assert len(reading.gtin) == 14 and ean.is_valid(reading.gtin)
    if reading.kind == "plain" and reading.error is None:
        assert reading.serial and reading.serial == reading.serial.strip()


# --- label_decode -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "barcode_format", "gs1", "expected"),
    [
        (
            f"(01){GTIN}(21)ABC123(10)LOT1",
            Format.DataMatrix,
            True,
            ("DataMatrix", "gs1_element_string", GTIN, "ABC123", "LOT1"),
        ),
        ("SN-Ab123", Format.DataMatrix, False, ("DataMatrix", "plain", None, "SN-Ab123", None)),
        ("000123", Format.DataMatrix, False, ("DataMatrix", "plain", None, "000123", None)),
        (
            f"https://id.gs1.org/01/{GTIN}/21/ABC123?10=LOT1",
            Format.QRCode,
            False,
            ("QRCode", "digital_link", GTIN, "ABC123", "LOT1"),
        ),
        ("sn-lower-42", Format.QRCode, False, ("QRCode", "plain", None, "sn-lower-42", None)),
        (
            f"(01){GTIN}(21)ABC123",
            Format.Code128,
            True,
            ("Code128", "gs1_element_string", GTIN, "ABC123", None),
        ),
        ("SN-000123", Format.Code128, False, ("Code128", "plain", None, "SN-000123", None)),
        (
            "4006381333931",
            Format.EAN13,
            False,
            ("EAN13", "gs1_element_string", "04006381333931", None, None),
        ),
    ],
    ids=[
        "gs1-datamatrix",
        "plain-datamatrix",
        "all-digit-datamatrix",
        "digital-link-qr",
        "plain-qr",
        "gs1-128",
        "plain-code128",
        "ean13",
    ],
)
def test_it_decodes_each_symbology(
    content: str, barcode_format: Format, gs1: bool, expected: tuple[str | None, ...]
) -> None:
    readings = label_decode(_encode(_label(content, barcode_format, gs1=gs1)))
    assert len(readings) == 1
    reading = readings[0]
    assert (
        reading.symbology,
        reading.kind,
        reading.gtin,
        reading.serial,
        reading.batch_lot,
    ) == expected
    assert reading.error is None
    # The raw text is what a handheld scanner would send, so it parses the same way again.
    assert reading.text.startswith("]")
    assert _fields(label_parse(reading.text)) == _fields(reading)


def test_it_keeps_group_separators_in_decoded_gs1_text() -> None:
    image = _label(f"(01){GTIN}(21)ABC123(10)LOT1", Format.DataMatrix, gs1=True)
    [reading] = label_decode(_encode(image))
    assert reading.text == f"]d201{GTIN}21ABC123{GS}10LOT1"


def test_it_reads_a_photo_rotated_by_its_exif_orientation() -> None:
    upright = _label(f"(01){GTIN}(21)ROT-90", Format.Code128, gs1=True, scale=3)
    assert upright.width > upright.height
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    stored = upright.transpose(Image.Transpose.ROTATE_90).convert("RGB")
    data = _encode(stored, "JPEG", quality=90, exif=exif)

    assert _load_image(data).size == upright.size
    [reading] = label_decode(data)
    assert _fields(reading) == ("gs1_element_string", GTIN, "ROT-90", None, None)
    assert reading.symbology == "Code128"


def test_it_finds_every_barcode_on_a_jpeg_photo_of_a_label() -> None:
    photo = Image.new("RGB", (1400, 1000), (150, 150, 155))
    draw = ImageDraw.Draw(photo)
    draw.rectangle((120, 100, 1280, 880), fill=(245, 245, 240))
    for line, text in enumerate(["ACME Widgets", f"GTIN {GTIN}", "SN ABC123  LOT LOT1"]):
        draw.text((160, 140 + 40 * line), text, fill=(20, 20, 20))
    data_matrix = _label(f"(01){GTIN}(21)ABC123(10)LOT1", Format.DataMatrix, gs1=True, scale=8)
    photo.paste(data_matrix, (180, 300))
    photo.paste(_label("SN-000123", Format.Code128, scale=3), (640, 320))
    photo = photo.rotate(4, resample=Image.Resampling.BICUBIC, fillcolor=(150, 150, 155))

    readings = label_decode(_encode(photo, "JPEG", quality=75))

    found = {(r.symbology, r.kind, r.gtin, r.serial, r.batch_lot) for r in readings}
    assert found == {
        ("DataMatrix", "gs1_element_string", GTIN, "ABC123", "LOT1"),
        ("Code128", "plain", None, "SN-000123", None),
    }


def test_it_reads_a_barcode_on_a_transparent_background() -> None:
    label = _label("SN-CLEAR-1", Format.QRCode)
    # Black modules, fully transparent black elsewhere, as some label software exports.
    transparent = Image.new("RGBA", label.size, (0, 0, 0, 0))
    transparent.putalpha(ImageOps.invert(label))
    [reading] = label_decode(_encode(transparent))
    assert reading.serial == "SN-CLEAR-1"


def test_it_returns_no_readings_for_an_image_without_barcodes() -> None:
    image = Image.new("RGB", (800, 600), (200, 200, 200))
    ImageDraw.Draw(image).text((40, 40), "No barcode on this label, SN-000123", fill=(0, 0, 0))
    assert label_decode(_encode(image, "JPEG")) == []


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"definitely not an image",
        _encode(_label("SN-1", Format.QRCode))[:200],
    ],
    ids=["empty", "garbage", "truncated-png"],
)
def test_it_rejects_bytes_that_are_not_an_image(data: bytes) -> None:
    with pytest.raises(ValueError, match="Not an image Pillow can read"):
        label_decode(data)


@pytest.mark.parametrize(
    "size",
    [
        # Between MAX_IMAGE_PIXELS and twice that, Pillow itself only warns.
        pytest.param(
            (110, 100),
            marks=pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
        ),
        pytest.param(
            (110, 100),
            marks=pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning"),
        ),
        (150, 150),  # above twice the limit Pillow raises
    ],
    ids=["pillow-warns", "warnings-as-errors", "pillow-raises"],
)
def test_it_refuses_images_over_the_pixel_limit(
    monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    data = _encode(Image.new("L", size, 255))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(ValueError, match="too large"):
        label_decode(data)
