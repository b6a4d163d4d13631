"""The supplier's CSV template: the header the reader expects and the batch's first serials in
the rule's exact shape, which the portal's own reader accepts as a clean start."""

from __future__ import annotations

import csv
import io

from django.urls import reverse

from serials import services
from serials.models import NumberingRule
from tests.conftest import Cast


def _rows(cast: Cast, username: str) -> list[list[str]]:
    response = cast.client(username).get(
        reverse("serial-list-template", args=[cast.batches["own"].pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_it_gives_the_rule_s_first_serials_with_the_check_digit(cast: Cast) -> None:
    services.numbering_rule_save(
        user=cast.users["buyer"],
        product="05012345678900",
        prefix="VLT",
        width=6,
        check_digit="luhn",
    )
    rows = _rows(cast, "supplier_a")
    assert rows[0] == ["serial", "carton"]
    serials = [row[0] for row in rows[1:]]
    assert len(serials) == 3 and all(s.startswith("VLT00000") and len(s) == 10 for s in serials)
    rule = NumberingRule.for_order(cast.orders["own"]).as_engine_rule()
    assert serials == [rule.format(counter) for counter in (1, 2, 3)]


def test_without_a_rule_it_is_the_header_alone(cast: Cast) -> None:
    assert _rows(cast, "supplier_a") == [["serial", "carton"]]


def test_a_foreign_batch_answers_404(cast: Cast) -> None:
    response = cast.client("supplier_b").get(
        reverse("serial-list-template", args=[cast.batches["own"].pk])
    )
    assert response.status_code == 404
