"""A lookup's inputs: the texts (pasted, uploaded or sent to the API, checked the same way), what
each label says (a plain serial, a GS1 element string or a Digital Link URL, read by
``inspection.labels.label_parse``), and whether each serial fits a numbering rule it is tried in
(the engine's classification: vectorised from ``VECTOR_MIN`` serials on)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.core.exceptions import ValidationError

from inspection.labels import label_parse
from lookup.results import LookupResult
from lookup.results import LookupStatus as S
from serials import engine
from serials.engine.cells import segment_from_strings
from serials.engine.rules import CHECK_DIGIT, DIGITS, LENGTH, PREFIX
from serials.models import NumberingRule

BULK_LIMIT = 100_000
SERIAL_MAX = 100  # SerialPlacement.serial, SampledUnit.serial
TEXT_MAX = 500  # longer than any label text a person or scanner produces
# From this many serials on, the engine's vectorised classification beats its scalar one.
VECTOR_MIN = 32
BULK_FILE_MAX_BYTES = 32 * 1024 * 1024  # 100,000 Digital Link URLs fit several times over
INPUT_HEADERS = frozenset({"serial", "serial_number", "serial no", "serial_no", "sn", "input"})
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # not str.splitlines: it also splits at GS (\x1d)


def lookup_texts_check(texts: Sequence[object]) -> list[str]:
    """The inputs of a bulk lookup as text, or ValidationError naming what is wrong (used by
    the page's form and the API alike)."""
    if isinstance(texts, str | bytes) or not isinstance(texts, Sequence):
        raise ValidationError("Give the serials as a list of texts.")
    if not texts:
        raise ValidationError("There are no serials to look up.")
    if len(texts) > BULK_LIMIT:
        raise ValidationError(
            f"{len(texts):,} serials were given; one bulk lookup takes at most {BULK_LIMIT:,}. "
            "Split the list."
        )
    out = []
    for number, text in enumerate(texts, start=1):
        if not isinstance(text, str):
            raise ValidationError(f"Entry {number:,} is not text.")
        if len(text) > TEXT_MAX:
            raise ValidationError(
                f"Entry {number:,} is {len(text):,} characters long; a label text has at most "
                f"{TEXT_MAX:,}."
            )
        if "\x00" in text:
            raise ValidationError(f"Entry {number:,} holds a NUL character.")
        out.append(text)
    return out


def lookup_texts_from_text(text: str) -> list[str]:
    """The inputs of pasted text: one per non-blank line. When the first line is a CSV header
    naming a serial column (``serial``, ``sn``, ``input``...), that column of each row."""
    lines = _LINE_BREAK.split(text)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return []
    try:
        header = next(csv.reader([lines[first]]))
    except csv.Error:
        header = []
    column = next(
        (i for i, cell in enumerate(header) if cell.strip().lower() in INPUT_HEADERS), None
    )
    if column is None:
        return [line.strip() for line in lines[first:] if line.strip()]
    body = "\n".join(lines[first + 1 :])
    rows = csv.reader(io.StringIO(body, newline=""))
    try:
        cells = [row[column].strip() if len(row) > column else "" for row in rows]
    except csv.Error as exc:
        raise ValidationError(f"Line {first + 1 + rows.line_num}: not valid CSV ({exc}).") from None
    return [cell for cell in cells if cell]


def lookup_texts_from_upload(name: str, data: bytes) -> list[str]:
    """The inputs of an uploaded CSV or TXT file; ValidationError naming the file otherwise."""
    name = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:120] or "upload"
    if not data:
        raise ValidationError(f"{name} is empty.")
    if len(data) > BULK_FILE_MAX_BYTES:
        raise ValidationError(
            f"{name} is {len(data) / 1e6:.0f} MB; a bulk lookup file may have at most "
            f"{BULK_FILE_MAX_BYTES / 1e6:.0f} MB."
        )
    if data.startswith(b"PK\x03\x04"):
        raise ValidationError(
            f"{name} is a spreadsheet or ZIP archive: save the serials as CSV or TXT."
        )
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{name} is not a text file (CSV or TXT in UTF-8).") from None
    if "\x00" in text:
        raise ValidationError(f"{name} holds binary data, not a list of serials.")
    return lookup_texts_from_text(text)


# ---------------------------------------------------------------- reading each label


def inputs_read(texts: list[str]) -> list[LookupResult]:
    """One result per text, in the same order: its serial and GTIN read, and settled as
    malformed when the text cannot be read or carries no usable serial."""
    results: list[LookupResult] = []
    seen: dict[str, LookupResult] = {}
    for text in texts:
        if text in seen:  # the same label scanned twice reads the same
            template = seen[text]
            results.append(
                LookupResult(
                    input=text,
                    serial=template.serial,
                    gtin=template.gtin,
                    input_kind=template.input_kind,
                    findings=list(template.findings),
                    status=template.status,
                )
            )
            continue
        reading = label_parse(text)
        result = LookupResult(
            input=text,
            serial=(reading.serial or "").strip().upper(),
            gtin=reading.gtin or "",
            input_kind=reading.kind,
        )
        if reading.error:
            result.conclude(S.MALFORMED, f"The text cannot be read: {reading.error}", "")
        elif not result.serial:
            result.conclude(
                S.MALFORMED,
                f"The label carries GTIN {result.gtin} but no serial (AI 21)."
                if result.gtin
                else "There is no serial in this text.",
                "",
            )
        elif len(result.serial) > SERIAL_MAX:
            result.conclude(
                S.MALFORMED,
                f"{len(result.serial)} characters: longer than any serial.",
                "",
            )
        seen[text] = result
        results.append(result)
    return results


# ---------------------------------------------------------------- fitting serials to a rule

_REASON_TEXT = {
    PREFIX: "does not start with the prefix {prefix}",
    LENGTH: "has {length} characters; {pattern} has {expected}",
    DIGITS: "has other characters where {pattern}'s digits go",
    CHECK_DIGIT: "has a wrong check digit ({check})",
}


@dataclass(slots=True, eq=False)  # compared by identity
class Scope:
    """One product's numbering rule and the inputs tried in it: those that fit (with their
    counters, for a sequential rule) and why the others do not."""

    rule: NumberingRule
    key: str
    engine_rule: engine.NumberingRule | None
    positions: list[int] = field(default_factory=list)
    counters: list[int] = field(default_factory=list)  # sequential rules
    malformed: dict[int, str] = field(default_factory=dict)  # position -> reason


def scope_classify(scope: Scope, results: list[LookupResult], members: list[int]) -> None:
    """Vectorised: which members fit the rule (with their counters) and why others fail."""
    rule = scope.engine_rule
    assert rule is not None
    claimed = [
        p
        for p in members
        if (
            results[p].serial.startswith(rule.prefix)
            if rule.prefix
            else results[p].serial.isdigit()
        )
        or results[p].gtin  # the GTIN named the product: its rule speaks
    ]
    if not claimed:
        return
    serials = [results[p].serial for p in claimed]
    if len(claimed) < VECTOR_MIN:
        # The engine's scalar definition: for a few serials, cheaper than setting up arrays.
        classified = [engine.classify_value(serial, rule) for serial in serials]
    else:
        segment = segment_from_strings(np.arange(len(claimed)), serials, rule)
        classified = [(LENGTH, None)] * len(claimed)  # a row the engine skipped: empty
        for row, code, counter in zip(
            np.asarray(segment.lines).tolist(),
            segment.reason.tolist(),
            segment.counters.tolist(),
            strict=True,
        ):
            classified[row] = (code, counter)
    for position, (code, counter) in zip(claimed, classified, strict=True):
        if code == 0:
            assert counter is not None  # a serial that fits its rule has a counter
            scope.positions.append(position)
            scope.counters.append(int(counter))
        else:
            scope.malformed[position] = _malformed_reason(scope, results[position].serial, code)


def _malformed_reason(scope: Scope, serial: str, code: int) -> str:
    rule = scope.engine_rule
    assert rule is not None
    template = _REASON_TEXT.get(code, "does not fit {pattern}")
    detail = template.format(
        prefix=rule.prefix,
        length=len(serial),
        pattern=scope.rule.pattern,
        expected=rule.length,
        check=scope.rule.get_check_digit_display(),
    )
    return f"{serial} {detail} (the rule for {scope.rule.product})."
