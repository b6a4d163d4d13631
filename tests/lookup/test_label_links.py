"""A unit's label link: the GS1 Digital Link on this portal and its QR code, shown on the lookup
to the brand's staff, so that a label printed with it answers a shopper's scan with the
genuine-or-not check."""

from __future__ import annotations

import pytest
import zxingcpp
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from lookup.label_links import label_link, label_qr_svg
from tests.conftest import BUYER_SIDE, ROLES, Cast
from tests.lookup.test_life_line import GTIN, accepted  # noqa: F401  (the fixture)


@override_settings(PORTAL_BASE_URL="https://portal.example.com")
def test_the_link_is_the_unit_s_digital_link_on_this_portal() -> None:
    assert label_link("05012345678900", "VLT000010") == (
        "https://portal.example.com/01/05012345678900/21/VLT000010"
    )
    assert label_link("5012345678900", "A/B%1") == (  # a GTIN-13, escaped characters
        "https://portal.example.com/01/05012345678900/21/A%2FB%251"
    )
    assert label_link("CHARGER-65W", "VLT000010") == ""  # a SKU: no Digital Link
    assert label_link(GTIN, "x" * 21) == "" and label_link(GTIN, "Ä1") == ""


def test_its_qr_code_reads_back_as_the_link() -> None:
    link = "https://portal.example.com/01/05012345678900/21/VLT000010"
    svg = label_qr_svg(link)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    symbol = zxingcpp.create_barcode(link, zxingcpp.BarcodeFormat.QRCode)
    image = Image.fromarray(zxingcpp.write_barcode_to_image(symbol, scale=4))
    assert [found.text for found in zxingcpp.read_barcodes(image)] == [link]


def test_the_lookup_shows_it_and_serves_the_qr_code_to_the_brand_s_staff(
    cast: Cast,
    accepted: object,  # noqa: F811
) -> None:
    page = cast.client("service").get(reverse("serial-lookup"), {"serial": "VLT000010"})
    body = page.content.decode()
    assert "data-label-link" in body and f"/01/{GTIN}/21/VLT000010" in body
    url = reverse("label-qr")
    query = {"product": GTIN, "serial": "VLT000010"}
    wrong = []
    for role in [*ROLES, None]:
        response = cast.client(role).get(url, query)
        expected = 200 if role in BUYER_SIDE else 302 if role is None else 404
        if response.status_code != expected:
            wrong.append((role, response.status_code, expected))
        elif expected == 200:
            assert response["Content-Type"] == "image/svg+xml"
            assert response["X-Content-Type-Options"] == "nosniff"
    assert wrong == []
    for bad in ({"product": "CHARGER", "serial": "X1"}, {"product": GTIN, "serial": "é" * 3}, {}):
        assert cast.client("buyer").get(url, bad).status_code == 404


@pytest.mark.parametrize("serial", ["VLT000999"])
def test_an_unknown_serial_gets_no_label_link(cast: Cast, accepted: object, serial: str) -> None:  # noqa: F811
    page = cast.client("buyer").get(reverse("serial-lookup"), {"serial": serial})
    assert "data-label-link" not in page.content.decode()
