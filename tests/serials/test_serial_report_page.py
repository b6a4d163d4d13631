"""The serial report page: every tab, filter and page of it answers for everyone who may see it,
for sequential and allocated-code lists, finished, failed or still queued."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders import services as order_services
from serials import services
from serials.models import NumberingRule, SerialList
from serials.views import CODE_TABLES, TABLES
from tests.conftest import Cast
from tests.serials.conftest import csv_file

VIEWERS = ["buyer", "finance", "service", "admin", "supplier_a", "inspector"]
# No filter, a filter that matches, one that matches nothing, and pages past the end or bogus.
VARIANTS = [{}, {"q": "VLT000050"}, {"q": "k7q2"}, {"q": "nothing-like-it"}, {"page": "2"}]
VARIANTS += [{"page": "x"}, {"page": "999"}, {"show": "no-such-tab"}]


def _pages(serial_list: SerialList, tables: dict[str, str]) -> list[dict[str, str]]:
    return [{"show": show, **variant} for show in tables for variant in VARIANTS]


def _assert_every_variant_answers(cast: Cast, serial_list: SerialList, tables: dict) -> None:
    url = reverse("serial-list-detail", args=[serial_list.pk])
    for username in VIEWERS:
        client = cast.client(username)
        for params in _pages(serial_list, tables):
            response = client.get(url, params)
            assert response.status_code == 200, (username, params, response.status_code)


def test_it_shows_every_tab_of_a_sequential_list_with_every_finding(
    cast: Cast, rule: NumberingRule
) -> None:
    services.allocated_range_set(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        first_serial="VLT000001",
        last_serial="VLT000090",
    )
    other = order_services.batch_create(
        order=cast.orders["own"], user=cast.users["buyer"], code="OWN-B2", planned_quantity=10
    )
    reused = services.serial_list_upload(
        batch=other, user=cast.users["supplier_a"], uploaded_file=csv_file([2, 3])
    )
    services.serial_list_validate(serial_list_id=reused.pk)
    counters = [*range(1, 51), 50, 50, 17, *range(61, 101)]  # gap, duplicates, out of range
    serial_list = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=csv_file(counters, extra=["XX1", "VLT12"]),
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    report = serial_list.report
    assert report["duplicate_count"] == 2 and report["malformed_count"] == 2
    assert report["out_of_range_count"] and report["missing_count"] and report["reused_count"]
    _assert_every_variant_answers(cast, serial_list, TABLES)
    duplicates = cast.client("buyer").get(
        reverse("serial-list-detail", args=[serial_list.pk]), {"show": "duplicates"}
    )
    page = duplicates.content.decode()
    assert "<code>VLT000050</code>" in page and "<code>VLT000017</code>" in page


def test_it_shows_every_tab_of_an_allocated_code_list_with_duplicates(cast: Cast) -> None:
    services.numbering_rule_save(
        user=cast.users["buyer"], product="05012345678900", kind="allocated_codes"
    )
    services.allocated_code_list_upload(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        uploaded_file=SimpleUploadedFile("allocated.csv", b"code\nK7Q2-MX\nP9ZC-41\nA3RT-0B\n"),
    )
    serial_list = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("used.csv", b"serial\nK7Q2-MX\nK7Q2-MX\nZZZZ-99\n"),
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.report["duplicate_count"] == 1
    _assert_every_variant_answers(cast, serial_list, CODE_TABLES)
    page = cast.client("buyer").get(
        reverse("serial-list-detail", args=[serial_list.pk]), {"show": "duplicates"}
    )
    assert "<code>K7Q2-MX</code>" in page.content.decode()


@pytest.mark.parametrize("status", ["queued", "failed"])
def test_it_shows_every_tab_of_a_list_without_a_report(
    cast: Cast, rule: NumberingRule, status: str
) -> None:
    serial_list = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("bad.csv", b"serial\nVLT000001\nVLT\xe9\n"),  # not UTF-8
    )
    if status == "failed":
        services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.status == status
    _assert_every_variant_answers(cast, serial_list, TABLES)


def test_a_duplicated_serial_counts_once_everywhere_and_a_malformed_value_says_why(
    cast: Cast, rule: NumberingRule
) -> None:
    from inspection import services as inspection_services

    serial_list = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=csv_file([1, 2, 3, 3, 4], extra=["VLT000O01"]),
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.report["duplicate_count"] == 1 and serial_list.report["unique"] == 4
    duplicate = serial_list.exceptions.get(kind="duplicate")
    assert duplicate.count == 1 and duplicate.detail["rows"] == 2
    assert duplicate.count_label == "1 serial on 2 rows"
    malformed = serial_list.exceptions.get(kind="malformed")
    why = "letter O at position 7 where a digit is expected"
    assert malformed.count_label == "1 row" and why in malformed.summary
    assert malformed.detail["first"][0]["why"] == why
    buyer = cast.client("buyer")
    report = buyer.get(reverse("serial-list-detail", args=[serial_list.pk])).content.decode()
    assert "serials on more than one row" in report
    tab = buyer.get(reverse("serial-list-detail", args=[serial_list.pk]), {"show": "malformed"})
    assert why in tab.content.decode()
    exceptions = buyer.get(reverse("batch-exceptions", args=[cast.batches["own"].pk]))
    assert "1 serial on 2 rows" in exceptions.content.decode()
    api = cast.api("buyer").get(reverse("api-batch-exceptions", args=[cast.batches["own"].pk]))
    counts = {e["kind"]: e["count"] for e in api.json()["results"]}
    assert counts["duplicate"] == 1
    plan = inspection_services.inspection_plan_create(
        batch=cast.batches["own"], user=cast.users["buyer"], level="II", aql="1.0", seed=7
    )
    assert plan.lot_size == 5  # four distinct well-formed serials and one malformed label
