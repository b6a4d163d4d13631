"""Rules, check digits, reading (CSV/TXT/XLSX) and report details of the serial engine."""

from __future__ import annotations

import zipfile

import openpyxl
import pytest

from serials.engine import (
    REPORT_KEYS,
    CounterRange,
    Duplicate,
    NumberingRule,
    SerialFileError,
    classify_value,
    gs1_check_digit,
    luhn_check_digit,
    render_text,
    run_file,
    validate_codes,
    validate_file,
    validate_serials,
)
from untrusted import xlsx


def write(tmp_path, data: bytes | str, name: str = "serials.csv"):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_it_computes_gs1_check_digits_like_gtin():
    assert gs1_check_digit("400638133393") == "1"  # EAN-13 4006381333931
    assert gs1_check_digit("0000000000") == "0"
    assert gs1_check_digit("1") == "7"  # 1 * 3 = 3 -> 7


def test_it_computes_luhn_check_digits():
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_check_digit("1") == "8"  # 1 doubled = 2 -> 8
    assert luhn_check_digit("5") == "9"  # 10 - 9 = 1 -> 9


def test_it_applies_reasons_in_the_contract_order():
    rule = NumberingRule("SN", 4, "gs1")
    good = rule.format(12)
    assert good == "SN0012" + gs1_check_digit("0012")
    assert classify_value(good, rule) == (0, 12)
    assert classify_value("XX00121", rule)[0] == 1  # prefix before anything else
    assert classify_value("SN001", rule)[0] == 2  # length before digits
    assert classify_value("SN00A21", rule)[0] == 3
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert classify_value(bad, rule)[0] == 4


def test_it_rejects_bad_rules():
    with pytest.raises(ValueError):
        NumberingRule("SN", 0)
    with pytest.raises(ValueError):
        NumberingRule("SN", 4, "mod11")


def test_it_reads_headers_bom_crlf_and_counts_editor_lines(tmp_path):
    data = "\ufeffSerial_No\r\nSN0001\r\n\r\n  sn0002  \r\n,\r\nSN0002\r\nSN000X\r\n"
    report = validate_file(write(tmp_path, data), NumberingRule("SN", 4)).to_json()
    assert list(report) == list(REPORT_KEYS)
    assert report["rows"] == 4  # header, blank line and the empty cell are not counted
    assert report["duplicates"] == [{"serial": "SN0002", "count": 2, "lines": [4, 6]}]
    assert report["malformed"] == [{"line": 7, "value": "SN000X", "reason": "digits"}]


def test_it_takes_the_named_column_of_a_multi_column_file(tmp_path):
    data = 'carton,SN,note\nC1,SN0003,"a, b"\nC2,"SN0004",x\nC3\n'
    report = validate_file(write(tmp_path, data), NumberingRule("SN", 4)).to_json()
    assert report["rows"] == 2
    assert report["used_range"] == [3, 4]


def test_it_takes_the_first_column_without_a_header(tmp_path):
    report = validate_file(write(tmp_path, "SN0001,C1\nSN0003,C1\n"), NumberingRule("SN", 4))
    assert report.missing_ranges == ((2, 2),)


def test_it_treats_a_bare_cr_as_a_line_end(tmp_path):
    report = validate_file(write(tmp_path, "serial\rSN0001\rSN0001\r"), NumberingRule("SN", 4))
    assert report.duplicates == (Duplicate("SN0001", 2, (2, 3)),)


def test_it_reads_utf16_text_with_a_bom(tmp_path):
    path = write(tmp_path, "serial\r\nSN0001\r\nSN0002\r\n".encode("utf-16"))
    assert validate_file(path, NumberingRule("SN", 4)).valid == 2


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n\0\0\0", b"%PDF-1.7\n", b"SN0001\n\0\0binary", b"\xd0\xcf\x11\xe0\xa1\xb1"],
)
def test_it_refuses_binary_files(tmp_path, data):
    with pytest.raises(SerialFileError, match="serials.csv: unsupported file"):
        validate_file(write(tmp_path, data), NumberingRule("SN", 4))


def test_it_names_the_line_of_text_that_is_not_utf8(tmp_path):
    with pytest.raises(SerialFileError, match=r"line 3: unsupported file: not UTF-8"):
        validate_file(write(tmp_path, b"serial\nSN0001\nSN\xe90002\n"), NumberingRule("SN", 4))


def test_it_refuses_a_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "serials.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "SN0001\n")
    with pytest.raises(SerialFileError, match="not an XLSX workbook"):
        validate_file(path, NumberingRule("SN", 4))


def test_it_bounds_the_uncompressed_size_of_a_workbook(tmp_path, monkeypatch):
    path = tmp_path / "big.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "SN0001"
    workbook.save(path)
    monkeypatch.setattr(xlsx, "XLSX_MAX_UNCOMPRESSED", 100)
    with pytest.raises(SerialFileError, match="inflates"):
        validate_file(path, NumberingRule("SN", 4))


def test_it_reads_the_first_sheet_of_a_workbook_with_numbers_as_digits(tmp_path):
    path = tmp_path / "list.bin"  # told by its bytes, not its name
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A2"] = "Serial"
    sheet["A3"] = 123
    sheet["A4"] = " 124 "
    sheet["A6"] = 124.0
    sheet["A7"] = 12.5
    sheet["A8"] = 12345678901234567890  # more digits than a spreadsheet number keeps
    workbook.create_sheet("second")["A1"] = "ignored"
    workbook.save(path)
    report = validate_file(path, NumberingRule("", 3)).to_json()
    assert report["rows"] == 5
    assert report["duplicates"] == [{"serial": "124", "count": 2, "lines": [4, 6]}]
    assert report["malformed"][0] == {"line": 7, "value": "12.5", "reason": "length"}
    assert report["malformed"][1]["line"] == 8
    wide = validate_file(path, NumberingRule("", 20)).to_json()
    # the digits as read may already differ from what was typed: flagged, never accepted
    assert wide["malformed"][-1]["line"] == 8
    assert wide["malformed"][-1]["reason"] == "stored_as_number"


def test_it_handles_counters_wider_than_int64(tmp_path):
    rule = NumberingRule("X", 25, "luhn")
    values = [rule.format(10**24 + k) for k in (1, 2, 2, 5)]
    report = validate_file(
        write(tmp_path, "\n".join(values)), rule, expected_range=(10**24, 10**24 + 5)
    ).to_json()
    assert report["used_range"] == [10**24 + 1, 10**24 + 5]
    assert report["missing_ranges"] == [[10**24, 10**24], [10**24 + 3, 10**24 + 4]]
    assert report["missing_count"] == 3
    assert report["duplicates"][0]["lines"] == [2, 3]


def test_it_cuts_lists_at_the_limit_and_keeps_exact_counts(tmp_path):
    values = ["SN0001"] * 5 + ["SN0009", "SN0005", "bad1", "bad2", "bad3"]
    report = validate_file(
        write(tmp_path, "\n".join(values)), NumberingRule("SN", 4), (1, 8), limit=2
    ).to_json()
    assert report["duplicates"] == [{"serial": "SN0001", "count": 5, "lines": [1, 2]}]
    assert report["malformed_count"] == 3 and len(report["malformed"]) == 2
    assert report["missing_count"] == 6 and report["missing_ranges"] == [[2, 4], [6, 8]]
    assert report["out_of_range"] == [{"line": 6, "serial": "SN0009"}]


def test_it_reports_an_empty_file_as_empty(tmp_path):
    report = validate_file(write(tmp_path, ""), NumberingRule("SN", 4))
    assert report.rows == 0 and report.used_range is None and report.expected_range is None
    ranged = validate_file(write(tmp_path, "serial\n"), NumberingRule("SN", 4), (1, 3))
    assert ranged.missing_ranges == (CounterRange(1, 3),) and ranged.missing_count == 3


def test_it_rejects_a_range_that_does_not_fit_the_width(tmp_path):
    with pytest.raises(ValueError, match="does not fit"):
        validate_file(write(tmp_path, "SN01\n"), NumberingRule("SN", 2), (1, 100))


def test_it_reports_progress_from_0_to_100(tmp_path):
    seen: list[int] = []
    validate_file(write(tmp_path, "SN01\nSN02\n"), NumberingRule("SN", 2), progress=seen.append)
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen)


def test_it_renders_text_with_the_largest_problem_first(tmp_path):
    values = ["SN0001", "SN0001", "SN0010", "junk"]
    text = render_text(run_file(write(tmp_path, "\n".join(values)), NumberingRule("SN", 4)))
    assert text.index("Missing: 8 serials") < text.index("Duplicates") < text.index("Malformed")


def test_it_compares_used_codes_with_allocated_codes():
    report = validate_codes(
        ["ab12", "ZZ99", "AB12", " ", "CD34"], ["AB12", "CD34", "EF56", "EF56", "GH78"], limit=1
    ).to_json()
    assert report["rows"] == 4 and report["allocated"] == 4 and report["unique"] == 3
    assert report["unknown"] == [{"line": 2, "code": "ZZ99"}] and report["unknown_count"] == 1
    assert report["unused"] == ["EF56"] and report["unused_count"] == 2
    assert report["duplicates"] == [{"code": "AB12", "count": 2, "lines": [1]}]


def test_validate_serials_matches_validate_file(tmp_path):
    values = ["SN0003", "sn0001", " SN0003", "", "SN00x1"]
    rule = NumberingRule("SN", 4)
    from_list = validate_serials(values, None, rule)
    from_file = validate_file(write(tmp_path, "\n".join(values) + "\n"), rule)
    assert from_list == from_file
