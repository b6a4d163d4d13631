"""Odd label text held against the approved layout: NUL, 10 KB, non-ASCII, GS1 separators."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from inspection import services as inspection_services
from inspection.models import InspectionPlan, LayoutCheck
from tests.conftest import Cast
from tests.orders.test_approved_samples import GTIN, _product_sample, plan  # noqa: F401

ODD = [
    "VLT\x00000001",
    "]d201" + GTIN + "21VLT\x00" + "9" * 10_000,
    "Ω" * 10_000,
    "]d201" + GTIN + "21VLTé€😀\x1d10LOT",
    "]d2\x1d\x1d\x1d",
    "(01)" + GTIN + "(21)" + "𝟘" * 6,
]


@pytest.mark.parametrize("text", ODD)
def test_odd_label_text_is_recorded_not_a_crash(
    cast: Cast,
    plan: InspectionPlan,  # noqa: F811
    text: str,
) -> None:
    _product_sample(cast)
    unit = plan.units.order_by("position").first()
    assert unit is not None
    result = inspection_services.unit_result_record(
        unit=unit, user=cast.users["inspector"], method="typed", label_text=text
    )
    result.refresh_from_db()
    assert result.defective
    check = LayoutCheck.objects.get(result=result)
    assert "\x00" not in str(check.problems)


def test_a_label_of_nothing_but_nul_is_refused_as_empty(
    cast: Cast,
    plan: InspectionPlan,  # noqa: F811
) -> None:
    """It used to reach the database and fail there (PostgreSQL refuses NUL in text)."""
    _product_sample(cast)
    unit = plan.units.order_by("position").first()
    assert unit is not None
    with pytest.raises(ValidationError, match="Type or scan"):
        inspection_services.unit_result_record(
            unit=unit, user=cast.users["inspector"], method="typed", label_text="\x00" * 50
        )
