"""``python -m serials validate`` as an operator runs it: exit status, streams, messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "serials", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.fixture
def clean_file(tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text("serial\nSN0001\nSN0002\nSN0003\n")
    return path


@pytest.fixture
def dirty_file(tmp_path):
    path = tmp_path / "dirty.csv"
    path.write_text("serial\nSN0001\nSN0001\nSN0004\nSNXX01\n")
    return path


def test_it_exits_0_with_a_json_report_when_nothing_is_wrong(clean_file):
    result = cli("validate", str(clean_file), "--prefix", "SN", "--width", "4")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rows"] == 3 and report["used_range"] == [1, 3]
    assert result.stderr == ""


def test_it_exits_1_when_the_report_has_findings(dirty_file):
    result = cli("validate", str(dirty_file), "--prefix", "SN", "--width", "4", "--limit", "1")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["missing_ranges"] == [[2, 3]]
    assert report["duplicates"] == [{"serial": "SN0001", "count": 2, "lines": [2]}]
    assert report["malformed"] == [{"line": 5, "value": "SNXX01", "reason": "digits"}]


def test_it_reports_out_of_range_serials(clean_file):
    result = cli("validate", str(clean_file), "--prefix", "SN", "--width", "4", "--range", "2-5")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["expected_range"] == [2, 5]
    assert report["out_of_range"] == [{"line": 2, "serial": "SN0001"}]
    assert report["missing_ranges"] == [[4, 5]]


def test_it_prints_text_for_a_person(dirty_file):
    result = cli("validate", str(dirty_file), "--prefix", "SN", "--width", "4", "--format", "text")
    assert result.returncode == 1
    assert "Missing: 2 serials" in result.stdout and "SNXX01" in result.stdout


def test_it_reads_xlsx_told_by_its_bytes(tmp_path):
    path = tmp_path / "serials.dat"
    workbook = openpyxl.Workbook()
    workbook.active.append(["sn"])
    for value in ("A0007", 8, "a0009"):
        workbook.active.append([value])
    workbook.save(path)
    result = cli("validate", str(path), "--prefix", "A", "--width", "4")
    report = json.loads(result.stdout)
    assert report["rows"] == 3
    assert report["malformed"] == [{"line": 3, "value": "8", "reason": "prefix"}]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b"\x00\x01\x02\x03" * 100), "unsupported file"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)), "unsupported file"),
    ],
)
def test_it_exits_2_with_a_short_message_when_the_file_is_unusable(tmp_path, make, message):
    path = tmp_path / "input.csv"
    make(path)
    result = cli("validate", str(path), "--prefix", "SN", "--width", "4")
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr and "input.csv" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 3


@pytest.mark.parametrize(
    "args",
    [
        ["--width", "4"],  # no prefix
        ["--prefix", "SN"],  # no width
        ["--prefix", "SN", "--width", "0"],
        ["--prefix", "SN", "--width", "four"],
        ["--prefix", "SN", "--width", "4", "--check", "mod11"],
        ["--prefix", "SN", "--width", "4", "--range", "9-1"],
        ["--prefix", "SN", "--width", "4", "--range", "1-99999"],
        ["--prefix", "SN", "--width", "4", "--range", "abc"],
        ["--prefix", "SN", "--width", "4", "--limit", "-1"],
        ["--prefix", "SN", "--width", "4", "--format", "xml"],
    ],
)
def test_it_exits_2_on_bad_arguments(clean_file, args):
    result = cli("validate", str(clean_file), *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_it_never_imports_django(clean_file):
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['serials', 'validate', {str(clean_file)!r}, '--prefix', 'SN',"
        " '--width', '4']\n"
        "try:\n"
        "    runpy.run_module('serials', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "sys.stderr.write('DJANGO_MODULES=' + ','.join(loaded))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert "DJANGO_MODULES=" in result.stderr
    assert result.stderr.rsplit("DJANGO_MODULES=", 1)[1] == ""
    imported = [
        line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line
    ]
    assert "serials.engine" in imported
    assert not any(name == "django" or name.startswith("django.") for name in imported)


def test_it_compares_codes_with_an_allocated_list(tmp_path):
    used = tmp_path / "used.csv"
    used.write_text("code\nK7F2\nQQ11\nK7F2\n")
    allocated = tmp_path / "allocated.txt"
    allocated.write_text("K7F2\nZ9Y8\n")
    result = cli("codes", str(used), "--allocated", str(allocated))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["unknown"] == [{"line": 3, "code": "QQ11"}]
    assert report["unused"] == ["Z9Y8"]
    assert report["duplicates"] == [{"code": "K7F2", "count": 2, "lines": [2, 4]}]
