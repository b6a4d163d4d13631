"""The vectorised engine against a small, obviously correct pure-Python reference.

The reference below reads the contract (SERIALS-CLI.md) literally with the csv module, loops
and sets; hypothesis generates files with prefixes, widths, check schemes, duplicates, gaps,
malformed values, ranges, limits, headers, BOMs, CRLF, blank lines, quotes and extra columns.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from serials.engine import (
    NumberingRule,
    SerialFileError,
    ValidationReport,
    validate_file,
    validate_serials,
)
from serials.engine import reader as reader_module
from serials.engine import report as report_module

HEADERS = {"serial", "serial_number", "serial no", "serial_no", "sn"}


# --- the reference ----------------------------------------------------------------------------


def ref_check_digit(digits: str, scheme: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if scheme == "gs1":
            total += d * 3 if i % 2 == 0 else d
        else:
            if i % 2 == 0:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
    return str((10 - total % 10) % 10)


def ref_classify(value: str, prefix: str, width: int, check: str):
    prefix = prefix.upper()
    if not value.startswith(prefix):
        return "prefix", None
    if len(value) != len(prefix) + width + (0 if check == "none" else 1):
        return "length", None
    body = value[len(prefix) :]
    if any(ch not in "0123456789" for ch in body):
        return "digits", None
    if check != "none" and body[-1] != ref_check_digit(body[:width], check):
        return "check_digit", None
    return None, int(body[:width])


def ref_rows(data: bytes) -> list[tuple[int, str]]:
    """(line, stripped upper-cased serial cell) for every row that is not skipped."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    rows = []
    consumed = 0
    for row in reader:
        rows.append((consumed + 1, row))
        consumed = reader.line_num
    out = []
    col = 0
    started = False
    for line, row in rows:
        if not started:
            if not any(cell.strip() for cell in row):
                continue
            started = True
            names = [i for i, cell in enumerate(row) if cell.strip().lower() in HEADERS]
            if names:
                col = names[0]
                continue
        cell = row[col] if col < len(row) else ""
        value = cell.strip().upper()
        if value:
            out.append((line, value))
    return out


def ref_report(rows, prefix, width, check, rng, limit):
    fmt_prefix = prefix.upper()

    def serial(counter):
        digits = str(counter).zfill(width)
        return fmt_prefix + digits + ("" if check == "none" else ref_check_digit(digits, check))

    malformed = []
    good = []  # (line, counter)
    for line, value in rows:
        reason, counter = ref_classify(value, prefix, width, check)
        if reason:
            malformed.append({"line": line, "value": value, "reason": reason})
        else:
            good.append((line, counter))
    counters = [c for _, c in good]
    used = [min(counters), max(counters)] if counters else None
    expected = list(rng) if rng else used
    missing_ranges = []
    missing_count = 0
    if expected:
        present = set(counters)
        run = None
        for c in range(expected[0], expected[1] + 1):
            if c not in present:
                missing_count += 1
                if run and run[1] == c - 1:
                    run[1] = c
                else:
                    run = [c, c]
                    missing_ranges.append(run)
    lines_of = {}
    for line, c in good:
        lines_of.setdefault(c, []).append(line)
    dups = [(ls[0], c, ls) for c, ls in lines_of.items() if len(ls) > 1]
    dups.sort()
    out_of_range = []
    if rng:
        out_of_range = [
            {"line": line, "serial": serial(c)} for line, c in good if not rng[0] <= c <= rng[1]
        ]
    return {
        "rows": len(rows),
        "valid": len(good),
        "unique": len(lines_of),
        "used_range": used,
        "expected_range": expected,
        "missing_count": missing_count,
        "missing_ranges": missing_ranges[:limit],
        "duplicate_count": len(dups),
        "duplicates": [
            {"serial": serial(c), "count": len(ls), "lines": ls[:limit]}
            for _, c, ls in dups[:limit]
        ],
        "malformed_count": len(malformed),
        "malformed": malformed[:limit],
        "out_of_range_count": len(out_of_range),
        "out_of_range": out_of_range[:limit],
    }


# --- generated files --------------------------------------------------------------------------


@st.composite
def rules(draw):
    prefix = draw(st.sampled_from(["", "SN", "A", "XY-", "ab", "LONGPREFIX12"]))
    width = draw(st.one_of(st.integers(1, 6), st.integers(7, 18), st.sampled_from([19, 21, 25])))
    check = draw(st.sampled_from(["none", "gs1", "luhn"]))
    return prefix, width, check


def make_serial(prefix, width, check, counter):
    digits = str(counter).zfill(width)
    return prefix.upper() + digits + ("" if check == "none" else ref_check_digit(digits, check))


@st.composite
def cells(draw, prefix, width, check, base):
    counter = base + draw(st.integers(0, 30))
    good = make_serial(prefix, width, check, counter)
    kind = draw(
        st.sampled_from(
            ["good"] * 6
            + [
                "lower",
                "spaces",
                "tab",
                "bad_check",
                "short",
                "long",
                "letter",
                "noprefix",
                "empty",
                "blank",
                "unicode",
                "nbsp",
                "comma_extra",
                "quoted",
            ]
        )
    )
    if kind == "good":
        return good
    if kind == "lower":
        return good.lower()
    if kind == "spaces":
        return "  " + good + " "
    if kind == "tab":
        return "\t" + good
    if kind == "bad_check":
        if check == "none":
            return good
        return good[:-1] + str((int(good[-1]) + draw(st.integers(1, 9))) % 10)
    if kind == "short":
        return good[:-1]
    if kind == "long":
        return good + draw(st.sampled_from(["0", "7"]))
    if kind == "letter":
        i = draw(st.integers(len(prefix), len(good) - 1))
        return good[:i] + draw(st.sampled_from("OXz")) + good[i + 1 :]
    if kind == "noprefix":
        return good[len(prefix) :] if prefix else "Q" + good[1:]
    if kind == "empty":
        return ""
    if kind == "blank":
        return "   "
    if kind == "unicode":
        return good[:-1] + "é"
    if kind == "nbsp":
        return "\u00a0" + good
    if kind == "comma_extra":
        return good + ",extra"
    return '"' + good + '"'


@st.composite
def files(draw):
    prefix, width, check = draw(rules())
    top = 10**width - 1
    base = draw(st.integers(0, max(0, min(top - 30, 10 ** min(width, 12)))))
    values = draw(st.lists(cells(prefix, width, check, base), min_size=0, max_size=40))
    values = [v for v in values if width > 0]
    layout = draw(st.sampled_from(["single", "single", "serial_then_carton", "carton_then_serial"]))
    header = draw(st.sampled_from([None, "serial", "SN", " Serial_No ", "serial no"]))
    if layout == "carton_then_serial" and header is None:
        header = "serial"
    lines = []
    if header is not None:
        lines.append(
            header
            if layout == "single"
            else (f"{header},carton" if layout == "serial_then_carton" else f"carton,{header}")
        )
    for i, v in enumerate(values):
        if layout == "single":
            lines.append(v)
        elif layout == "serial_then_carton":
            lines.append(f"{v},C{i}")
        else:
            lines.append(f"C{i},{v}")
    if draw(st.booleans()):
        # blank lines here and there
        for _ in range(draw(st.integers(0, 3))):
            lines.insert(draw(st.integers(0, len(lines))), "")
    eol = draw(st.sampled_from(["\n", "\n", "\r\n", "mixed"]))
    if eol == "mixed":
        text = "".join(line + draw(st.sampled_from(["\n", "\r\n"])) for line in lines)
    else:
        text = eol.join(lines) + (eol if draw(st.booleans()) else "")
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    rng = None
    if draw(st.booleans()):
        lo = draw(st.integers(max(0, base - 3), min(top, base + 20)))
        rng = (lo, draw(st.integers(lo, min(top, lo + 40))))
    limit = draw(st.sampled_from([0, 1, 2, 3, 1000]))
    return data, prefix, width, check, rng, limit


@st.composite
def fixed_files(draw):
    """Mostly equal-length lines: exercises the fixed-stride route and its irregular rows."""
    prefix, width, check = draw(rules())
    top = 10**width - 1
    base = draw(st.integers(0, max(0, min(top - 300, 10 ** min(width, 12)))))
    n = draw(st.integers(1, 300))
    counters = (
        [base + draw(st.integers(0, 299)) for _ in range(n)]
        if draw(st.booleans())
        else [min(top, base + i) for i in range(n)]
    )
    values = [make_serial(prefix, width, check, c) for c in counters]
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, n - 1))
        good = values[i]
        values[i] = draw(
            st.one_of(
                cells(prefix, width, check, base),
                # same length as a serial, so the line keeps the fixed stride
                st.sampled_from(
                    [
                        good[:-2] + ",Z",
                        good[:-1] + ",",
                        "," + good[1:],
                        " " + good[1:],
                        good[:-1] + "\t",
                        " " * len(good),
                        good[:-1] + "\u00e9"[: max(0, len(good) - 1)],
                        good[:-2] + "\u00e9" if len(good) >= 2 else good,
                    ]
                ),
            )
        )
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    header = draw(st.sampled_from([None, "serial"]))
    text = eol.join(([header] if header else []) + values) + (eol if draw(st.booleans()) else "")
    rng = None
    if draw(st.booleans()):
        lo = draw(st.integers(max(0, base - 3), min(top, base + 50)))
        rng = (lo, min(top, lo + draw(st.integers(0, 400))))
    return text.encode("utf-8"), prefix, width, check, rng, draw(st.sampled_from([2, 1000]))


SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check_file(tmp_path, case):
    data, prefix, width, check, rng, limit = case
    path = tmp_path / "serials.csv"
    path.write_bytes(data)
    rule = NumberingRule(prefix=prefix, width=width, check=check)
    expected = ref_report(ref_rows(data), prefix, width, check, rng, limit)
    report = validate_file(path, rule, expected_range=rng, limit=limit)
    assert report.to_json() == expected
    # what the portal stores reads back as the same report
    assert ValidationReport.from_json(json.loads(json.dumps(report.to_json()))) == report


@pytest.fixture(params=["presence+copy", "sort+mmap"])
def counting(request, monkeypatch):
    """Run each property both ways of finding duplicates and gaps in unordered lists, and
    both ways of holding the file (a padded copy, a memory map as for big files)."""
    if request.param == "sort+mmap":
        monkeypatch.setattr(report_module, "DENSE_FACTOR", 0)
        monkeypatch.setattr(report_module, "DENSE_MIN_SPAN", 0)
        monkeypatch.setattr(reader_module, "MMAP_MIN_BYTES", 0)
    return request.param


@SETTINGS
@given(case=files())
def test_it_matches_the_reference_on_random_files(tmp_path, counting, case):
    _check_file(tmp_path, case)


@SETTINGS
@given(case=fixed_files())
def test_it_matches_the_reference_on_fixed_width_files(tmp_path, counting, case):
    _check_file(tmp_path, case)


@settings(max_examples=150, deadline=None)
@given(
    rule=rules(),
    values=st.lists(
        st.one_of(
            st.text(alphabet="SNAXYab-0123456789 \t", max_size=14),
            st.integers(0, 10**6).map(str),
        ),
        max_size=40,
    ),
    limit=st.sampled_from([1, 1000]),
)
def test_it_matches_the_reference_on_random_strings(rule, values, limit):
    prefix, width, check = rule
    assume(values is not None)
    rows = [(i + 1, v.strip().upper()) for i, v in enumerate(values) if v.strip()]
    expected = ref_report(rows, prefix, width, check, None, limit)
    got = validate_serials(values, None, NumberingRule(prefix, width, check), limit=limit).to_json()
    assert got == expected


def test_it_accepts_numpy_arrays_and_explicit_lines():
    values = np.array(["SN01", "SN03", "SN03", "bad"])
    report = validate_serials(values, [10, 20, 30, 40], NumberingRule("SN", 2)).to_json()
    assert report["missing_ranges"] == [[2, 2]]
    assert report["duplicates"] == [{"serial": "SN03", "count": 2, "lines": [20, 30]}]
    assert report["malformed"] == [{"line": 40, "value": "BAD", "reason": "prefix"}]


def test_it_raises_a_file_error_naming_the_file(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(SerialFileError, match="nope.csv"):
        validate_file(missing, NumberingRule("SN", 4))
