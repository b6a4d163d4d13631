"""Allocated code lists: non-sequential codes, where "missing" means allocated but unused."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from serials import selectors, services
from serials.models import AllocatedCodeList, NumberingRule, SerialCode, SerialList
from tests.conftest import Cast

ALLOCATED = ["K7Q2-MX", "P9ZC-41", "A3RT-0B", "W8NF-2D", "H5LX-7K", "C1VY-9E"]


def _codes(name: str, codes: list[str], header: str = "code") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join([header, *codes]) + "\n").encode())


@pytest.fixture
def code_rule(cast: Cast) -> NumberingRule:
    rule = services.numbering_rule_save(
        user=cast.users["buyer"], product="05012345678900", kind="allocated_codes"
    )
    services.allocated_code_list_upload(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        uploaded_file=_codes("allocated.csv", ALLOCATED),
    )
    services.allocated_code_list_upload(
        user=cast.users["buyer"],
        order=cast.orders["b_order"],
        uploaded_file=_codes("allocated-b.csv", ["ZZ00-01", "k7q2-mx"]),
    )
    return rule


def _validate(cast: Cast, key: str, codes: list[str]) -> SerialList:
    user = cast.users["supplier_b" if key == "b_order" else "supplier_a"]
    serial_list = services.serial_list_upload(
        batch=cast.batches[key], user=user, uploaded_file=_codes("used.csv", codes, "serial")
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    return serial_list


def test_it_reports_unknown_unused_and_duplicated_codes(
    cast: Cast, code_rule: NumberingRule
) -> None:
    serial_list = _validate(cast, "own", ["k7q2-mx", "P9ZC-41", "A3RT-0B", "A3RT-0B", "FAKE-99"])
    report = serial_list.report
    assert serial_list.status == "done" and serial_list.rule_pattern == "allocated codes"
    assert report["unknown"] == [{"line": 6, "code": "FAKE-99"}]
    assert report["unused_count"] == 3 and report["unused"] == ["W8NF-2D", "H5LX-7K", "C1VY-9E"]
    assert report["duplicates"] == [{"code": "A3RT-0B", "count": 2, "lines": [4, 5]}]
    assert report["reused_count"] == 0
    kinds = sorted(serial_list.exceptions.values_list("kind", flat=True))
    assert kinds == ["duplicate", "unknown", "unused"]
    assert SerialCode.objects.filter(batch=cast.batches["own"]).count() == 4


def test_codes_used_by_another_batch_are_reuse(cast: Cast, code_rule: NumberingRule) -> None:
    first = _validate(cast, "own", ALLOCATED)
    services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    assert selectors.batch_serial_status(cast.batches["own"]) == "accepted"
    assert not first.exceptions.exists()
    second = _validate(cast, "b_order", ["K7Q2-MX", "ZZ00-01"])
    assert second.report["reused_count"] == 1
    # Supplier B must not learn supplier A's order; the buyer sees it on the exception.
    assert second.report["reused"] == [
        {"serial": "K7Q2-MX", "order": "(another supplier)", "batch": "(another supplier)"}
    ]
    reused = second.exceptions.get(kind="reused")
    assert reused.other_batch == cast.batches["own"] and reused.detail["state"] == "accepted"


def test_the_database_refuses_an_accepted_code_twice(cast: Cast, code_rule: NumberingRule) -> None:
    serial_list = _validate(cast, "own", ALLOCATED)
    services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    other = _validate(cast, "b_order", ["ZZ00-01"])
    with pytest.raises(IntegrityError), transaction.atomic():
        SerialCode.objects.create(
            scope=SerialCode.objects.filter(serial_list=serial_list).first().scope,
            code="K7Q2-MX",
            batch=cast.batches["b_order"],
            serial_list=other,
            accepted=True,
        )


def test_a_code_list_needs_an_allocation_first(cast: Cast) -> None:
    services.numbering_rule_save(
        user=cast.users["buyer"], product="05012345678900", kind="allocated_codes"
    )
    response = cast.api("supplier_a").post(
        reverse("api-batch-serial-lists", args=[cast.batches["own"].pk]),
        {"file": _codes("used.csv", ["X"])},
    )
    assert response.status_code == 400
    assert "none are allocated to this order yet" in str(response.json())


def test_the_api_allocates_codes_and_refuses_bad_files(
    cast: Cast, code_rule: NumberingRule
) -> None:
    url = reverse("api-order-allocated-codes", args=[cast.orders["own"].pk])
    api = cast.api("buyer")
    created = api.post(
        url, {"file": _codes("batch.csv", ALLOCATED[:3]), "batch": cast.batches["own"].pk}
    )
    assert created.status_code == 201, created.content
    assert created.json()["code_count"] == 3 and created.json()["batch"] == cast.batches["own"].pk
    assert selectors.allocated_code_list_for(cast.batches["own"]).code_count == 3
    before = AllocatedCodeList.objects.count()
    png = api.post(
        url, {"file": SimpleUploadedFile("codes.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)}
    )
    assert png.status_code == 400 and "codes.csv" in str(png.json())
    empty = api.post(url, {"file": SimpleUploadedFile("e.csv", b"code\n\n")})
    assert empty.status_code == 400 and "holds no codes" in str(empty.json())
    foreign_batch = api.post(
        url, {"file": _codes("x.csv", ["A"]), "batch": cast.batches["b_order"].pk}
    )
    assert foreign_batch.status_code == 400
    assert AllocatedCodeList.objects.count() == before
    assert not default_storage.exists("allocated-codes") or all(
        AllocatedCodeList.objects.filter(file__endswith=name).exists()
        for name in default_storage.listdir("allocated-codes")[1]
    )
    assert cast.api("supplier_a").post(url, {"file": _codes("s.csv", ["A"])}).status_code == 403


def test_the_report_page_shows_code_findings(cast: Cast, code_rule: NumberingRule) -> None:
    serial_list = _validate(cast, "own", ["K7Q2-MX", "=HYPERLINK(1)"])
    client = cast.client("buyer")
    page = client.get(reverse("serial-list-detail", args=[serial_list.pk])).content.decode()
    assert "never allocated" in page and "allocated, unused" in page
    unused = client.get(reverse("serial-list-detail", args=[serial_list.pk]), {"show": "unused"})
    assert "C1VY-9E" in unused.content.decode()
    csv = client.get(reverse("serial-list-anomalies-csv", args=[serial_list.pk])).content.decode()
    assert "'=HYPERLINK(1)" in csv and "unused,C1VY-9E" in csv


def test_an_allocation_that_is_not_a_list_is_refused_before_it_is_stored(
    cast: Cast, code_rule: NumberingRule
) -> None:
    from tests.evidence.conftest import jpeg

    before = AllocatedCodeList.objects.count()
    response = cast.api("buyer").post(
        reverse("api-order-allocated-codes", args=[cast.orders["own"].pk]),
        {"file": jpeg("codes.jpg")},
    )
    assert response.status_code == 400
    assert "codes.jpg is not a serial list: its bytes are JPEG image data" in str(response.json())
    assert AllocatedCodeList.objects.count() == before
