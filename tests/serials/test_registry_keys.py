"""Registry runs and placements have their keys checked once per INSERT statement (a trigger),
not once per row: still no row may name a list that does not exist, or a batch that is not its
list's, whether it comes by the ORM or by COPY."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from portal.bulk import bulk_insert
from serials import services
from serials.models import NumberingRule, SerialPlacement, SerialRun
from tests.conftest import Cast
from tests.serials.conftest import csv_file

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger is PostgreSQL's"
)

PLACEMENT = (
    "serial_list_id",
    "batch_id",
    "scope",
    "line",
    "serial",
    "carton",
    "customer_reference",
    "shipped_on",
)


def _validated_list(cast: Cast) -> object:
    serial_list = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=csv_file([1, 2, 3], extra=[]),
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    return serial_list


def test_a_placement_must_name_a_list_that_exists(cast: Cast, rule: NumberingRule) -> None:
    serial_list = _validated_list(cast)
    good = (serial_list.pk, cast.batches["own"].pk, "s", 2, "VLT000001", "C1", "", None)  # type: ignore[attr-defined]
    with transaction.atomic():
        assert bulk_insert(SerialPlacement, PLACEMENT, [good]) == 1
    for bad in (
        (999_999, cast.batches["own"].pk, "s", 2, "VLT000001", "C1", "", None),
        (serial_list.pk, cast.batches["b_order"].pk, "s", 2, "VLT000001", "C1", "", None),  # type: ignore[attr-defined]
    ):
        with pytest.raises(IntegrityError, match="names no serial list"), transaction.atomic():
            bulk_insert(SerialPlacement, PLACEMENT, [good, bad])


def test_a_run_must_name_its_list_s_own_batch(cast: Cast, rule: NumberingRule) -> None:
    serial_list = _validated_list(cast)
    with pytest.raises(IntegrityError, match="names no serial list"), transaction.atomic():
        SerialRun.objects.create(
            scope="s", lo=1, hi=2, batch=cast.batches["b_order"], serial_list=serial_list
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        SerialRun.objects.create(
            scope="s", lo=1, hi=2, batch_id=cast.batches["own"].pk, serial_list_id=424242
        )
