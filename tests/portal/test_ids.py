import pytest

from portal.ids import MAX_ID, parse_id, parse_ids


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7),
        ("1", 1),
        ("01", 1),
        (7, 7),
        (str(MAX_ID), MAX_ID),
        (MAX_ID, MAX_ID),
        ("", None),
        ("0", None),
        (0, None),
        ("-1", None),
        (-1, None),
        (" 7", None),
        ("7 ", None),
        ("+7", None),
        ("7.0", None),
        ("1e3", None),
        ("0x10", None),
        ("٣", None),  # an Arabic-Indic digit: isdigit() says yes, an id says no
        ("²", None),
        ("9" * 30, None),
        ("0" * 100 + "1", None),
        (str(MAX_ID + 1), None),
        (MAX_ID + 1, None),
        (True, None),
        (None, None),
        (7.0, None),
        (["7"], None),
    ],
)
def test_parse_id(value: object, expected: int | None) -> None:
    assert parse_id(value) == expected


def test_parse_ids_keeps_the_ids_in_order() -> None:
    assert parse_ids(["3", "x", "1", "0", "3"]) == [3, 1, 3]
