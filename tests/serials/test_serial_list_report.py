"""The stored report read back as its dataclass: ``SerialList.validation_report`` is the
engine's report plus reuse, and ``to_json()`` gives back exactly what is stored."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from orders import services as order_services
from serials import engine, services
from serials.models import NumberingRule, SerialList
from serials.reports import CodeListReport, ReusedSerial, SerialListReport
from tests.conftest import Cast
from tests.serials.conftest import csv_file


def _validate(cast: Cast, key: str, uploaded_file: SimpleUploadedFile) -> SerialList:
    serial_list = services.serial_list_upload(
        batch=cast.batches[key], user=cast.users["supplier_a"], uploaded_file=uploaded_file
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    return serial_list


def _round_trips(serial_list: SerialList, kind: type) -> None:
    report = serial_list.validation_report
    assert type(report) is kind
    assert report.to_json() == serial_list.report  # same keys, same values
    assert kind.from_json(json.loads(json.dumps(report.to_json()))) == report


def test_a_sequential_list_with_findings_and_reuse_round_trips(
    cast: Cast, rule: NumberingRule
) -> None:
    _validate(cast, "own", csv_file(list(range(1, 101))))
    services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    cast.batches["own2"] = order_services.batch_create(
        order=cast.orders["own"], user=cast.users["buyer"], code="OWN-B2", planned_quantity=100
    )
    second = _validate(cast, "own2", csv_file([*range(90, 131), 120, 140], extra=["XX1", "VLT12"]))
    _round_trips(second, SerialListReport)
    report = second.validation_report
    assert report.reused_count == 11 and report.reused[0] == ReusedSerial(
        "VLT000090", "PO-OWN", "OWN-B1"
    )
    assert report.missing_ranges == ((131, 139),) and report.malformed_count == 2
    assert report.duplicates[0].serial == "VLT000120"
    # the engine's keys first, then the portal's
    assert list(report.to_json()) == [*engine.REPORT_KEYS, "reused_count", "reused"]


def test_a_code_list_round_trips(cast: Cast) -> None:
    services.numbering_rule_save(
        user=cast.users["buyer"], product="05012345678900", kind="allocated_codes"
    )
    services.allocated_code_list_upload(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        uploaded_file=SimpleUploadedFile("allocated.csv", b"code\nK7Q2-MX\nP9ZC-41\nA3RT-0B\n"),
    )
    serial_list = _validate(
        cast, "own", SimpleUploadedFile("used.csv", b"serial\nk7q2-mx\nK7Q2-MX\nFAKE-99\n")
    )
    _round_trips(serial_list, CodeListReport)
    report = serial_list.validation_report
    assert report.unknown_count == 1 and report.unused == ("P9ZC-41", "A3RT-0B")
    assert report.duplicates[0].code == "K7Q2-MX" and report.reused == ()


def test_an_empty_list_round_trips_and_a_failed_one_has_no_report(
    cast: Cast, rule: NumberingRule
) -> None:
    empty = _validate(cast, "own", SimpleUploadedFile("empty.csv", b"serial\n"))
    _round_trips(empty, SerialListReport)
    assert empty.validation_report.used_range is None and empty.validation_report.rows == 0
    # text that passes the look at upload but is not UTF-8: the job fails, nothing is stored
    failed = _validate(cast, "own", SimpleUploadedFile("bad.csv", b"serial\nVLT000001\nVLT\xe9\n"))
    assert failed.status == SerialList.Status.FAILED
    assert failed.report is None and failed.validation_report is None


def test_a_new_stored_report_is_read_anew(cast: Cast, rule: NumberingRule) -> None:
    serial_list = _validate(cast, "own", csv_file([1, 2, 4]))
    first = serial_list.validation_report
    assert serial_list.validation_report is first  # read once per stored value
    serial_list.validation_report = SerialListReport.of(first, 0, ())
    assert serial_list.validation_report == first and serial_list.report == first.to_json()
    other = _validate(cast, "own", csv_file([1, 2, 3]))
    serial_list.report = other.report
    assert serial_list.validation_report.missing_count == 0
