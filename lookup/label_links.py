"""The unit's GS1 Digital Link on this portal, for its label's QR code: a shopper who scans it
gets the public genuine-or-not check (``lookup.public_views.digital_link``), the brand's staff
the lookup. Shown with a QR code on the lookup page; the QR code is drawn by zxing-cpp (already
the label reader) as SVG."""

from __future__ import annotations

import re
from urllib.parse import quote

import zxingcpp
from django.conf import settings

from orders.gtin import gtin14

# A serial a GS1 Digital Link can carry (AI 21: 1 to 20 characters of GS1's set 82).
SERIAL_CSET_82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")


def label_link(product: str, serial: str) -> str:
    """The Digital Link of the unit, or '' when its product is not a GTIN or its serial cannot
    be carried (a label of that product needs another scheme)."""
    gtin = gtin14(product)
    if not gtin or not SERIAL_CSET_82.fullmatch(serial):
        return ""
    return f"{settings.PORTAL_BASE_URL}/01/{gtin}/21/{quote(serial, safe='')}"


def label_qr_svg(link: str) -> str:
    """The link as a QR code (SVG, 4 modules of quiet zone), for a label printer or a page."""
    symbol = zxingcpp.create_barcode(link, zxingcpp.BarcodeFormat.QRCode)
    return zxingcpp.write_barcode_to_svg(symbol, scale=4)
