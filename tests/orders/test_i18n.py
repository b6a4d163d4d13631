"""Suppliers read the order pages in their own language: the words are translated, the serials,
PO numbers, names and what people wrote stay as written. A small catalogue built here stands in
for locale/ (the translators' files), so these tests check the marking, not the wording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from orders.models import Batch
from tests.conftest import Cast

CATALOGUE = {
    "zh_Hans": {
        "Orders": "采购订单",
        "Any status": "全部状态",
        "Issued to supplier": "已下达给供应商",
        "Batch %(code)s planned.": "批次 %(code)s 已计划。",
        "The order is for %(quantity)s units and its other batches already plan %(others)s; "
        "this batch can plan at most %(left)s.": "该订单共 %(quantity)s 件，其他批次已计划 "
        "%(others)s 件；本批次最多可计划 %(left)s 件。",
    },
    "vi": {
        "Declared first serial": "Số sê-ri đầu tiên đã khai báo",
        "Give both the first and the last serial, or neither.": "Hãy nhập cả số sê-ri đầu và "
        "cuối, hoặc để trống cả hai.",
        "Production details for batch %(code)s": "Thông tin sản xuất của lô %(code)s",
    },
}


@pytest.fixture
def catalogue(settings: Any, tmp_path: Path) -> None:
    """Compiled catalogues in a folder of the test's own; changing LOCALE_PATHS makes Django
    forget the translations it had loaded (django.test.signals), before and after."""
    for language, entries in CATALOGUE.items():
        folder = tmp_path / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        po = polib.POFile()
        po.metadata = {
            "Content-Type": "text/plain; charset=UTF-8",
            "Plural-Forms": "nplurals=1; plural=0;",
        }
        for msgid, msgstr in entries.items():
            po.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
        po.save_as_mofile(str(folder / "django.mo"))
    settings.LOCALE_PATHS = [tmp_path]


def _speaks(cast: Cast, username: str, language: str) -> None:
    user = cast.users[username]
    user.language = language
    user.save(update_fields=["language"])


def test_it_shows_a_supplier_s_order_list_in_chinese_with_the_numbers_as_written(
    cast: Cast, catalogue: None
) -> None:
    _speaks(cast, "supplier_a", "zh-hans")
    body = cast.client("supplier_a").get(reverse("order-list")).content.decode()
    assert "<h1>采购订单</h1>" in body
    assert "全部状态" in body and "Any status" not in body
    assert "已下达给供应商" in body  # the order's status label
    # The PO number, the product name and the buyer's name stay as the buyer wrote them.
    assert "PO-OWN" in body and "Volta 65W charger" in body and "Buyer Co" in body


def test_it_refuses_bad_batch_details_in_vietnamese_and_saves_nothing(
    cast: Cast, catalogue: None
) -> None:
    _speaks(cast, "supplier_a", "vi")
    batch = cast.batches["own"]
    page = cast.client("supplier_a").post(
        reverse("batch-edit", args=[batch.pk]),
        {"declared_first_serial": "VLT000000001", "declared_last_serial": "", "status": "planned"},
    )
    body = page.content.decode()
    assert page.status_code == 200
    assert "Hãy nhập cả số sê-ri đầu và cuối, hoặc để trống cả hai." in body
    assert "Số sê-ri đầu tiên đã khai báo" in body  # the field's label
    assert "Thông tin sản xuất của lô OWN-B1" in body
    assert 'value="VLT000000001"' in body  # what the supplier typed, kept as typed
    batch.refresh_from_db()
    assert batch.declared_first_serial == ""


def test_it_answers_a_buyer_in_chinese_and_plans_nothing_on_a_refusal(
    cast: Cast, catalogue: None
) -> None:
    _speaks(cast, "buyer", "zh-hans")
    client = cast.client("buyer")
    order = cast.orders["own"]
    url = reverse("batch-create", args=[order.pk])
    refused = client.post(url, {"code": "OWN-B2", "planned_quantity": "5000"})
    assert "该订单共 1000 件，其他批次已计划 100 件；本批次最多可计划 900 件。" in (
        refused.content.decode()
    )
    assert not Batch.objects.filter(order=order, code="OWN-B2").exists()
    planned = client.post(url, {"code": "OWN-B2", "planned_quantity": "900"})
    assert planned.status_code == 302
    assert [str(m) for m in get_messages(planned.wsgi_request)] == ["批次 OWN-B2 已计划。"]


def test_in_english_the_same_pages_read_as_before(cast: Cast) -> None:
    body = cast.client("supplier_a").get(reverse("order-list")).content.decode()
    assert "<h1>Orders</h1>" in body and "Any status" in body and "Issued to supplier" in body
