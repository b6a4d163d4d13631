"""Lists that used to cost far more than their bytes: every other serial (a run per serial),
interleaved with another batch's serials (an overlap per serial), blank lines by the million,
one endless line. Each is checked right, and what it writes stays bounded."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from serials import services
from serials.models import NumberingRule, SerialException, SerialList, SerialRun
from serials.services.registry import REPORT_LIMIT
from tests.conftest import Cast
from tests.serials.conftest import csv_file


def _validated(cast: Cast, key: str, upload: SimpleUploadedFile) -> SerialList:
    user = cast.users["supplier_b" if key == "b_order" else "supplier_a"]
    serial_list = services.serial_list_upload(
        batch=cast.batches[key], user=user, uploaded_file=upload
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    return serial_list


def test_every_other_serial_is_one_run_each_and_the_gaps_are_grouped(
    cast: Cast, rule: NumberingRule
) -> None:
    odd = list(range(1, 6001, 2))  # 3,000 runs, 2,999 gaps
    serial_list = _validated(cast, "own", csv_file(odd))
    assert serial_list.status == "done", serial_list.error
    assert SerialRun.objects.filter(serial_list=serial_list).count() == 3000
    assert serial_list.report["missing_count"] == 2999
    missing = serial_list.exceptions.filter(kind=SerialException.Kind.MISSING)
    assert missing.count() == REPORT_LIMIT + 1  # the first thousand, then the rest in one
    assert sum(missing.values_list("count", flat=True)) == 2999


def test_serials_interleaved_with_another_batch_s_are_reported_whole_and_grouped(
    cast: Cast, rule: NumberingRule
) -> None:
    """Another batch holds the odd serials; this list has them all: 2,500 overlaps. The first
    thousand are exceptions one by one, the rest one exception that counts them all."""
    _validated(cast, "own", csv_file(list(range(1, 5001, 2))))
    serial_list = _validated(cast, "b_order", csv_file(list(range(1, 5001))))
    assert serial_list.status == "done", serial_list.error
    assert serial_list.report["reused_count"] == 2500
    reused = serial_list.exceptions.filter(kind=SerialException.Kind.REUSED).order_by("id")
    assert reused.count() == REPORT_LIMIT + 1
    assert sum(reused.values_list("count", flat=True)) == 2500
    grouped = reused.last()
    assert grouped is not None
    assert grouped.summary.startswith("1,500 more serials in 1,500 ranges from VLT002001")
    assert grouped.detail["ranges"] == 1500 and grouped.detail["state"] == "pending"
    assert grouped.other_batch_id == cast.batches["own"].pk
    # Another supplier's order is not named to this supplier.
    assert grouped.detail["batch"] == "(another supplier)"


def test_blank_lines_by_the_hundred_thousand_keep_every_line_number(
    cast: Cast, rule: NumberingRule
) -> None:
    body = "serial\n" + "\n" * 100_000 + "VLT000001\n" + "\n" * 100_000 + "VLT000001\nVLT000003\n"
    serial_list = _validated(cast, "own", SimpleUploadedFile("blank.csv", body.encode()))
    assert serial_list.status == "done", serial_list.error
    report = serial_list.report
    assert report["rows"] == 3 and report["unique"] == 2
    assert report["duplicates"][0]["lines"] == [100_002, 200_003]
    assert report["missing_ranges"] == [[2, 2]]


def test_one_endless_line_fails_with_words_a_person_reads(cast: Cast, rule: NumberingRule) -> None:
    body = b"VLT" + b"0" * 300_000
    serial_list = _validated(cast, "own", SimpleUploadedFile("one-line.csv", body))
    assert serial_list.status == "failed"
    assert serial_list.error.startswith("one-line.csv: line 1: a cell holds more than 131,072")
