"""Read serial labels: typed or pasted text, handheld-scanner output, and photos of labels.

Two entry points, both free of Django so they can run in a worker or a shell:

- `label_parse(text)` turns one string into a `LabelReading`.
- `label_decode(image_bytes)` finds every barcode in an image and parses each one.

Which text is GS1 data and which is a plain serial
--------------------------------------------------
Text is read as GS1 data only when it says so; everything else is a plain serial:

1. An ``http://`` or ``https://`` URL is a GS1 Digital Link URI. A URL is never a serial: one
   that is not a valid Digital Link gives ``kind="digital_link"`` with an error.
2. Text starting with a bracketed AI such as ``(01)`` is a GS1 element string in
   human-readable form.
3. Text carrying scanner evidence of GS1 content is an unbracketed GS1 element string: a GS1
   symbology identifier (``]C1`` GS1-128, ``]d2`` GS1 DataMatrix, ``]Q3`` GS1 QR, ``]e0``
   DataBar) or a group separator (``\\x1d``, which a scanner sends for FNC1 and nobody types).
4. EAN/UPC and ITF-14 symbology identifiers (``]E0``, ``]E4``, ``]I1``) carry a bare GTIN; the
   reading counts as an element string with an implied AI (01) and no serial.
5. Any other text is GS1 only if, as a whole, it is a valid unbracketed GS1 message that starts
   with AI (01) and whose GTIN check digit is right, e.g. ``0109506000134352`` or
   ``010950600013435221ABC123``.

Everything else stays a plain serial, exactly as given apart from surrounding whitespace and
a scanner symbology prefix. Rule 5 is deliberately narrow because biip happily reads short
digit strings as GS1 data: ``000123`` as a UPC-E GTIN, ``2112345`` as AI (21) ``12345``,
``96385074`` as AI (96). A 16+ digit serial that starts with ``01`` and carries a valid GTIN
check digit is still taken for GS1 data; that is rare, and such text *is* a valid GS1 message.

Errors such as a wrong GTIN check digit are reported only where the text is clearly GS1 data
(rules 1-4): under rule 5 a wrong check digit means the text is a plain serial.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass, replace
from typing import Literal

import zxingcpp
from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from biip.symbology import GS1Symbology, SymbologyIdentifier
from PIL import Image, ImageOps

__all__ = ["LabelKind", "LabelReading", "label_decode", "label_parse"]

LabelKind = Literal["plain", "gs1_element_string", "digital_link"]

_GS = "\x1d"  # ASCII group separator: how scanners transmit FNC1 inside GS1 data
_BRACKETED_AI = re.compile(r"\(\d{2,4}\)")
_SYMBOLOGY_IDENTIFIER = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_GS1_MESSAGE_SYMBOLOGIES = GS1Symbology.with_gs1_messages()
_GTIN_SYMBOLOGIES = GS1Symbology.with_gtin()
# Symbology names follow zxingcpp.BarcodeFormat member names so that typed-in scanner output
# and decoded photos agree.
_ISO_SYMBOLOGY_NAMES = {
    "A": "Code39",
    "C": "Code128",
    "E": "EAN13",
    "F": "Codabar",
    "G": "Code93",
    "I": "ITF",
    "J": "DotCode",
    "L": "PDF417",
    "Q": "QRCode",
    "U": "MaxiCode",
    "d": "DataMatrix",
    "e": "DataBar",
    "z": "Aztec",
}
# What Pillow raises for bytes that are not an image, or a damaged one (UnidentifiedImageError is
# an OSError).
_IMAGE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error)


@dataclass(frozen=True, slots=True)
class LabelReading:
    """What one label (one barcode, or one piece of text) says.

    - ``text`` is the input exactly as received; for decoded images it is the scanner-style
      transmission (symbology identifier + content with ``\\x1d`` separators), so
      ``label_parse(reading.text)`` gives the same GTIN, serial and batch again.
    - ``gtin`` is always 14 digits with a verified check digit, or None.
    - ``serial`` is AI (21) for GS1 data, or the whole stripped text for a plain serial; its
      case is kept.
    - ``error`` is set when the text could not be read as what it claims to be; fields that
      did parse are kept for display, but a reading with an error must not count as a match.
    """

    text: str
    symbology: str | None = None
    gtin: str | None = None
    serial: str | None = None
    batch_lot: str | None = None
    kind: LabelKind = "plain"
    error: str | None = None


def label_parse(text: str) -> LabelReading:
    """Read one typed, pasted or scanned label text; see the module docstring for the rule.

    Never raises for bad input: empty text, malformed GS1 data or a wrong GTIN check digit
    come back as a reading with ``error`` set. ``symbology`` is None unless the text starts
    with a scanner symbology identifier such as ``]d2``.
    """
    value = text.strip()
    identifier, gs1_symbology, body = _split_symbology_identifier(value)
    reading = LabelReading(text=text, symbology=_symbology_name(identifier))
    if not body:
        message = "No data after the symbology identifier." if identifier else "Empty text."
        return replace(reading, error=message)

    if gs1_symbology in _GTIN_SYMBOLOGIES:
        return _parse_bare_gtin(reading, body)
    if body[:8].lower().startswith(("http://", "https://")):
        return _parse_digital_link(reading, body)
    if _BRACKETED_AI.match(body):
        return _parse_bracketed(reading, body)
    if gs1_symbology in _GS1_MESSAGE_SYMBOLOGIES or _GS in text:
        return _parse_unbracketed(reading, body)
    if body.startswith("01"):
        gs1_reading = _parse_unbracketed(reading, body)
        if gs1_reading.error is None and gs1_reading.gtin is not None:
            return gs1_reading
    return replace(reading, serial=body)


def label_decode(image_bytes: bytes) -> list[LabelReading]:
    """Decode every barcode in an image (PNG, JPEG, ...) and parse each with `label_parse`.

    Honours the EXIF orientation of photos. ``symbology`` is the zxing-cpp format name, e.g.
    ``"DataMatrix"``, ``"QRCode"``, ``"Code128"`` or ``"EAN13"``. Returns an empty list for an
    image without a readable barcode.

    Raises:
        ValueError: if the bytes are not an image Pillow can read, or if the image has more
            pixels than ``PIL.Image.MAX_IMAGE_PIXELS`` (a possible decompression bomb).
    """
    image = _load_image(image_bytes)
    # Plain text mode keeps GS1 content in its transmitted form with \x1d separators.
    # The bracketed HRI form zxing-cpp also offers is lossy: "(" and ")" are valid characters
    # in a GS1 serial.
    barcodes = zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain)
    readings = []
    for barcode in barcodes:
        reading = label_parse(f"{barcode.symbology_identifier}{barcode.text}")
        readings.append(replace(reading, symbology=barcode.format.name))
    return readings


def _split_symbology_identifier(value: str) -> tuple[str | None, GS1Symbology | None, str]:
    """Split ``"]d2..."`` into identifier ``"]d2"``, its GS1 meaning (if any) and the data."""
    if not value.startswith("]"):
        return None, None, value
    try:
        identifier: str | None = SymbologyIdentifier.extract(value).value
    except (ParseError, ValueError, IndexError):
        # biip raises IndexError for "]", and lacks some ISO 15424 code characters (e.g. "J",
        # DotCode), so fall back to the common "]" + code character + modifier shape.
        match = _SYMBOLOGY_IDENTIFIER.match(value)
        identifier = match.group() if match else None
    if identifier is None:
        return None, None, value
    try:
        gs1_symbology: GS1Symbology | None = GS1Symbology(identifier[1:])
    except ValueError:
        gs1_symbology = None
    return identifier, gs1_symbology, value[len(identifier) :].strip()


def _symbology_name(identifier: str | None) -> str | None:
    if identifier is None:
        return None
    if identifier == "]E4":
        return "EAN8"
    return _ISO_SYMBOLOGY_NAMES.get(identifier[1], identifier)


def _parse_bare_gtin(reading: LabelReading, body: str) -> LabelReading:
    reading = replace(reading, kind="gs1_element_string")
    try:
        gtin = Gtin.parse(body)
    except ParseError as exc:
        return replace(reading, error=str(exc))
    return replace(reading, gtin=gtin.as_gtin_14())


def _parse_digital_link(reading: LabelReading, body: str) -> LabelReading:
    reading = replace(reading, kind="digital_link")
    try:
        uri = GS1DigitalLinkURI.parse(body)
    except ParseError as exc:
        return replace(reading, error=f"Not a valid GS1 Digital Link URI: {exc}")
    return _with_element_strings(reading, list(uri.element_strings))


def _parse_bracketed(reading: LabelReading, body: str) -> LabelReading:
    reading = replace(reading, kind="gs1_element_string")
    try:
        message = GS1Message.parse_hri(body)
    except ParseError as exc:
        return replace(reading, error=f"Not a valid GS1 element string: {exc}")
    # biip skips text it cannot match (e.g. "(21)A(B)C" reads as serial "A"), so insist that
    # the parsed message renders back to the input, whitespace aside.
    if message.as_hri() != "".join(body.split()):
        return replace(
            reading,
            error=(
                f"GS1 element string {body!r} cannot be read without losing data; "
                "brackets inside values are not supported in the bracketed form."
            ),
        )
    return _with_element_strings(reading, list(message.element_strings))


def _parse_unbracketed(reading: LabelReading, body: str) -> LabelReading:
    reading = replace(reading, kind="gs1_element_string")
    try:
        message = GS1Message.parse(body)
    except ParseError as exc:
        return replace(reading, error=f"Not a valid GS1 element string: {exc}")
    return _with_element_strings(reading, list(message.element_strings))


def _with_element_strings(
    reading: LabelReading, element_strings: list[GS1ElementString]
) -> LabelReading:
    values: dict[str, str] = {}
    for element in element_strings:
        ai = element.ai.ai
        if ai in values and values[ai] != element.value:
            return replace(
                reading,
                error=f"AI ({ai}) appears twice with different values: "
                f"{values[ai]!r} and {element.value!r}.",
            )
        values[ai] = element.value
        if ai == "01":
            if element.gtin is None:
                reading = replace(reading, error=element.gtin_error or "Invalid GTIN.")
            else:
                reading = replace(reading, gtin=element.gtin.as_gtin_14())
    return replace(reading, serial=values.get("21"), batch_lot=values.get("10"))


# Photos and scans only; never EPS or other formats that hand bytes to outside programs.
LABEL_PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")


def _load_image(image_bytes: bytes) -> Image.Image:
    """Open image bytes as an upright, opaque greyscale image, or raise ValueError."""
    try:
        image: Image.Image = Image.open(io.BytesIO(image_bytes), formats=LABEL_PHOTO_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"Image is too large to decode safely: {exc}") from exc
    except _IMAGE_ERRORS as exc:
        raise ValueError(f"Not an image Pillow can read: {exc}") from exc

    # Pillow only warns between MAX_IMAGE_PIXELS and twice that. Checking here rather than
    # turning the warning into an error with warnings.catch_warnings(), which changes
    # process-wide state and is not thread-safe.
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and image.width * image.height > limit:
        raise ValueError(
            f"Image is too large to decode safely: {image.width}x{image.height} pixels "
            f"exceeds the limit of {limit} pixels."
        )

    try:
        image.load()
    except _IMAGE_ERRORS as exc:
        raise ValueError(f"Not an image Pillow can read: {exc}") from exc

    image = _upright(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparent pixels often hold black RGB values: flatten onto white first, or a
        # barcode on a transparent background disappears.
        background = Image.new("RGBA", image.size, "white")
        background.alpha_composite(image.convert("RGBA"))
        image = background
    return image.convert("L")


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation of a photo; on a corrupt EXIF block, leave the image as is."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        # The pixels are still good, and zxing-cpp tries rotated and mirrored symbols anyway.
        return image
