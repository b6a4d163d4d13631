from __future__ import annotations

import pytest

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
