"""The serial validation engine: plain Python and NumPy, no Django.

Public API::

    rule = NumberingRule(prefix="SN", width=8, check="gs1")
    report = validate_file("serials.csv", rule, expected_range=(1, 5000), limit=1000)
    report = validate_serials(["SN000000017", ...], lines=None, rule=rule)
    codes = validate_codes(used_codes, allocated_codes)

Reports are dataclasses (``ValidationReport``, ``CodesReport``, in ``contract``) whose
``to_json()`` is the JSON of ``/work/shared/SERIALS-CLI.md`` (keys ``REPORT_KEYS``) and
``from_json()`` reads it back. Unreadable or unsupported files raise ``SerialFileError``.
"""

from .api import read_serial_cells, run_file, validate_file, validate_serials
from .codes import validate_codes
from .contract import (
    CODES_REPORT_KEYS,
    REPORT_KEYS,
    CodesReport,
    CounterRange,
    Duplicate,
    DuplicateCode,
    Malformed,
    OutOfRange,
    UnknownCode,
    ValidationReport,
)
from .errors import SerialFileError
from .report import Validation, has_findings, render_text
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
    "CodesReport",
    "CounterRange",
    "Duplicate",
    "DuplicateCode",
    "Malformed",
    "NumberingRule",
    "OutOfRange",
    "SerialFileError",
    "UnknownCode",
    "Validation",
    "ValidationReport",
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
