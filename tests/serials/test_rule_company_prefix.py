"""The numbering rule's GS1 Company Prefix length: where an SGTIN URI splits the GTIN (EPCIS).
Kept on the rule, through the page and the API, and refused on a product that is no GTIN."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from serials import services
from serials.models import NumberingRule
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def test_the_rule_keeps_the_company_prefix_length(cast: Cast) -> None:
    rule = services.numbering_rule_save(
        user=cast.users["buyer"],
        product=cast.orders["own"].gtin,
        prefix="VLT",
        width=6,
        company_prefix_length=7,
    )
    assert NumberingRule.objects.get(pk=rule.pk).company_prefix_length == 7


@pytest.mark.parametrize("length", [5, 13])
def test_a_length_gs1_never_assigns_is_refused(cast: Cast, length: int) -> None:
    with pytest.raises(ValidationError, match="company_prefix_length"):
        services.numbering_rule_save(
            user=cast.users["buyer"],
            product=cast.orders["own"].gtin,
            prefix="VLT",
            width=6,
            company_prefix_length=length,
        )


def test_a_sku_product_has_no_company_prefix(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="SKU"):
        services.numbering_rule_save(
            user=cast.users["buyer"],
            product="DRILL-1",
            prefix="VLT",
            width=6,
            company_prefix_length=7,
        )


def test_the_page_and_the_api_set_it(cast: Cast) -> None:
    client = cast.client("buyer")
    gtin = cast.orders["own"].gtin
    response = client.post(
        reverse("numbering-rules"),
        {
            "product": gtin,
            "kind": "sequential",
            "prefix": "VLT",
            "width": 6,
            "check_digit": "none",
            "company_prefix_length": 7,
            "note": "",
        },
    )
    assert response.status_code in (200, 302)
    assert NumberingRule.objects.get(product=gtin).company_prefix_length == 7
    api = cast.api("buyer")
    answer = api.post(
        "/api/numbering-rules/",
        {
            "product": gtin,
            "kind": "sequential",
            "prefix": "VLT",
            "width": 6,
            "check_digit": "none",
            "company_prefix_length": 8,
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["company_prefix_length"] == 8
