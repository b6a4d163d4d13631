"""The report types: the engine builds them, ``to_json()`` is the contract's JSON (the command
line's, the stored report's) and ``from_json()`` reads it back to the same report."""

from __future__ import annotations

import json

import openpyxl
import pytest

from serials.engine import (
    CODES_REPORT_KEYS,
    REPORT_KEYS,
    CodesReport,
    CounterRange,
    Duplicate,
    DuplicateCode,
    Malformed,
    NumberingRule,
    OutOfRange,
    UnknownCode,
    ValidationReport,
    validate_codes,
    validate_file,
    validate_serials,
)


def _stored(report: ValidationReport | CodesReport) -> dict:
    """The JSON as a JSONField gives it back."""
    return json.loads(json.dumps(report.to_json()))


def _xlsx(path, values) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["serial"])
    for value in values:
        sheet.append([value])
    workbook.save(path)


CASES = {
    "findings": ("serial\nSN0001\nSN0001\nSN0004\nSNXX01\nBAD\nSN0009\n", (2, 8), 1000),
    "clean": ("serial\nSN0001\nSN0002\nSN0003\n", None, 1000),
    "cut at the limit": ("\n".join(["SN0001"] * 5 + ["SN0009", "bad1", "bad2"]), (1, 8), 1),
    "limit 0": ("SN0001\nSN0001\nSN0007\nbad\n", (1, 9), 0),
    "empty file": ("", None, 1000),
    "header only, with a range": ("serial\n", (1, 3), 1000),
    "nothing well-formed": ("serial\nbad\nSN00\n", None, 1000),
}


@pytest.mark.parametrize("name", CASES)
def test_a_file_report_round_trips_through_its_json(tmp_path, name):
    text, expected_range, limit = CASES[name]
    path = tmp_path / "serials.csv"
    path.write_text(text)
    report = validate_file(path, NumberingRule("SN", 4), expected_range, limit)
    assert isinstance(report, ValidationReport)
    assert list(report.to_json()) == list(REPORT_KEYS)
    assert ValidationReport.from_json(_stored(report)) == report
    assert ValidationReport.from_json(report.to_json()).to_json() == report.to_json()


def test_a_workbook_and_wide_counters_round_trip(tmp_path):
    path = tmp_path / "serials.xlsx"
    _xlsx(path, ["SN0001", "SN0001", 12, "SN0005"])
    report = validate_file(path, NumberingRule("SN", 4, "none"), (1, 6))
    assert ValidationReport.from_json(_stored(report)) == report
    wide = NumberingRule("X", 25, "luhn")
    values = [wide.format(10**24 + k) for k in (1, 2, 2, 5)]
    big = validate_serials(values, None, wide, expected_range=(10**24, 10**24 + 5))
    assert big.used_range == CounterRange(10**24 + 1, 10**24 + 5)
    assert ValidationReport.from_json(_stored(big)) == big


def test_the_report_holds_typed_parts(tmp_path):
    path = tmp_path / "serials.csv"
    path.write_text("serial\nSN0001\nSN0001\nSN0004\nSNXX01\nSN0009\n")
    report = validate_file(path, NumberingRule("SN", 4), (2, 8))
    assert report.used_range == CounterRange(1, 9) and report.expected_range == (2, 8)
    assert report.missing_ranges == (CounterRange(2, 3), CounterRange(5, 8))
    assert report.missing_ranges[1].size == 4
    assert report.duplicates == (Duplicate("SN0001", 2, (2, 3)),)
    assert report.malformed == (Malformed(5, "SNXX01", "digits"),)
    assert report.out_of_range[0] == OutOfRange(2, "SN0001")
    assert report.has_findings
    assert report.to_json()["missing_ranges"] == [[2, 3], [5, 8]]  # lists, as in the contract


@pytest.mark.parametrize(
    ("used", "allocated", "limit"),
    [
        (["K7F2", "QQ11", "K7F2", "A1B2"], ["K7F2", "A1B2", "Z9Y8"], 1000),
        (["K7F2", "QQ11", "K7F2", "QQ11", "A1B2"], ["K7F2", "A1B2", "Z9Y8", "Y1"], 1),
        ([], ["K7F2"], 1000),
        ([], [], 1000),
    ],
)
def test_a_code_list_report_round_trips_through_its_json(used, allocated, limit):
    report = validate_codes(used, allocated, limit=limit)
    assert isinstance(report, CodesReport)
    assert list(report.to_json()) == list(CODES_REPORT_KEYS)
    assert CodesReport.from_json(_stored(report)) == report


def test_a_code_list_report_holds_typed_parts():
    report = validate_codes(["K7F2", "QQ11", "K7F2"], ["K7F2", "Z9Y8"])
    assert report.unknown == (UnknownCode(2, "QQ11"),)
    assert report.unused == ("Z9Y8",)
    assert report.duplicates == (DuplicateCode("K7F2", 2, (1, 3)),)
    assert report.has_findings
    assert not validate_codes(["A"], ["A"]).has_findings
