"""The serial validation engine: plain Python and NumPy, no Django.

Public API::

    rule = NumberingRule(prefix="SN", width=8, check="gs1")
    report = validate_file("serials.csv", rule, expected_range=(1, 5000), limit=1000)
    report = validate_serials(["SN000000017", ...], lines=None, rule=rule)
    codes = validate_codes(used_codes, allocated_codes)

Reports are plain dicts with the keys of ``/work/shared/SERIALS-CLI.md`` (``REPORT_KEYS``).
Unreadable or unsupported files raise ``SerialFileError``.
"""

from .api import read_serial_cells, run_file, validate_file, validate_serials
from .codes import CODES_REPORT_KEYS, validate_codes
from .errors import SerialFileError
from .report import REPORT_KEYS, Validation, has_findings, render_text
from .rules import (
    CHECK_SCHEMES,
    NumberingRule,
    classify_value,
    gs1_check_digit,
    luhn_check_digit,
    malformed_explanation,
)

__all__ = [
    "CHECK_SCHEMES",
    "CODES_REPORT_KEYS",
    "REPORT_KEYS",
    "NumberingRule",
    "SerialFileError",
    "Validation",
    "classify_value",
    "gs1_check_digit",
    "has_findings",
    "luhn_check_digit",
    "malformed_explanation",
    "read_serial_cells",
    "render_text",
    "run_file",
    "validate_codes",
    "validate_file",
    "validate_serials",
]
