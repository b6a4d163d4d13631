from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from serials import services
from serials.models import NumberingRule
from tests.conftest import Cast


@pytest.fixture
def rule(cast: Cast) -> NumberingRule:
    """The buyer's rule for the cast's product (GTIN 05012345678900): VLT + 6 digits."""
    return services.numbering_rule_save(
        user=cast.users["buyer"],
        product="05012345678900",
        prefix="VLT",
        width=6,
        check_digit="none",
    )


def csv_file(
    counters: list[int], name: str = "serials.csv", extra: list[str] = ()
) -> SimpleUploadedFile:
    lines = ["serial", *(f"VLT{c:06d}" for c in counters), *extra]
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), "text/csv")
