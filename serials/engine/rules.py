"""Numbering rules, check digits and the per-value (scalar) classification.

The scalar functions here are the plain definition of the contract; the vectorised kernel in
``serials.engine.kernel`` must agree with them, and the tests hold it to that.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECK_SCHEMES = ("none", "gs1", "luhn")

# Reason codes, in the order the contract applies them. 0 means well-formed.
OK = 0
PREFIX = 1
LENGTH = 2
DIGITS = 3
CHECK_DIGIT = 4
# A whole number read from a numeric spreadsheet cell with more than 15 digits: its digits
# cannot be trusted (spreadsheets keep 15 significant digits, readers use floating point).
STORED_AS_NUMBER = 5

REASON_NAMES = {
    PREFIX: "prefix",
    LENGTH: "length",
    DIGITS: "digits",
    CHECK_DIGIT: "check_digit",
    STORED_AS_NUMBER: "stored_as_number",
}

_DIGITS = frozenset("0123456789")
_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


@dataclass(frozen=True)
class NumberingRule:
    """How a sequential serial is formed: ``prefix``, ``width`` counter digits, a check digit.

    The prefix is compared with upper-cased cells, so it is kept upper-cased too.
    """

    prefix: str
    width: int
    check: str = "none"

    def __post_init__(self) -> None:
        if not isinstance(self.width, int) or isinstance(self.width, bool) or self.width < 1:
            raise ValueError(f"width must be a whole number of at least 1, not {self.width!r}")
        if self.check not in CHECK_SCHEMES:
            raise ValueError(f"check must be one of {', '.join(CHECK_SCHEMES)}, not {self.check!r}")
        object.__setattr__(self, "prefix", str(self.prefix).upper())

    @property
    def has_check_digit(self) -> bool:
        return self.check != "none"

    @property
    def length(self) -> int:
        """Total length of a well-formed serial, in characters."""
        return len(self.prefix) + self.width + (1 if self.has_check_digit else 0)

    @property
    def max_counter(self) -> int:
        return 10**self.width - 1

    def check_digit(self, counter_digits: str) -> str:
        """The check digit for these counter digits ('' when the rule has none)."""
        if self.check == "gs1":
            return gs1_check_digit(counter_digits)
        if self.check == "luhn":
            return luhn_check_digit(counter_digits)
        return ""

    def format(self, counter: int) -> str:
        """The well-formed serial for ``counter``."""
        digits = str(int(counter)).zfill(self.width)
        return f"{self.prefix}{digits}{self.check_digit(digits)}"


def gs1_check_digit(digits: str) -> str:
    """GS1 mod 10: weights 3, 1, 3, ... from the rightmost digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def luhn_check_digit(digits: str) -> str:
    """Luhn: double every second digit starting from the rightmost one."""
    total = sum(
        _LUHN_DOUBLED[int(d)] if i % 2 == 0 else int(d) for i, d in enumerate(reversed(digits))
    )
    return str((10 - total % 10) % 10)


def classify_value(value: str, rule: NumberingRule) -> tuple[int, int | None]:
    """Classify one stripped, upper-cased serial: ``(reason, counter)``; counter only when OK."""
    prefix = rule.prefix
    if not value.startswith(prefix):
        return PREFIX, None
    if len(value) != rule.length:
        return LENGTH, None
    body = value[len(prefix) :]
    if not all(ch in _DIGITS for ch in body):
        return DIGITS, None
    counter_digits = body[: rule.width]
    if rule.has_check_digit and body[rule.width] != rule.check_digit(counter_digits):
        return CHECK_DIGIT, None
    return OK, int(counter_digits)


_SCHEME_NAMES = {"gs1": "GS1 mod-10", "luhn": "Luhn", "none": ""}


def _character(ch: str) -> str:
    if ch.isalpha():
        return f"letter {ch}"
    if ch.isspace():
        return "a space"
    return f"“{ch}”"


def malformed_explanation(value: str, reason: str, rule: NumberingRule) -> str:
    """Why one malformed value fails the rule, for a person: the first offending character and
    its 1-based position ("letter O at position 7 where a digit is expected"). Scalar on
    purpose: called only for the malformed values a report lists, never per row."""
    prefix, position = rule.prefix, len(rule.prefix) + 1
    if reason == "prefix":
        for index, (got, wanted) in enumerate(zip(value, prefix, strict=False)):
            if got != wanted:
                where = f"where the prefix {prefix} has {wanted}"
                return f"{_character(got)} at position {index + 1} {where}"
        return f"it ends at position {len(value)}, inside the prefix {prefix}"
    if reason == "length":
        return f"{len(value)} characters where {rule.length} are expected"
    if reason == "digits":
        for index, ch in enumerate(value[len(prefix) :], start=position):
            if ch not in _DIGITS:
                return f"{_character(ch)} at position {index} where a digit is expected"
    if reason == "check_digit":
        wanted = rule.check_digit(value[len(prefix) : len(prefix) + rule.width])
        scheme = _SCHEME_NAMES[rule.check]
        where = f"where the {scheme} check gives {wanted}"
        return f"check digit {value[-1]} at position {rule.length} {where}"
    if reason == "stored_as_number":
        return (
            "a number of more than 15 digits in a spreadsheet cell, whose digits cannot be trusted"
        )
    return reason
