"""A list whose worker died each time it was checked (killed, or out of memory on a hostile file)
ends as failed with the reason, instead of being sent again and again."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from portal.models import AuditEvent
from serials import services
from serials.models import NumberingRule, SerialList
from tests.conftest import Cast
from tests.serials.conftest import csv_file


def _died(serial_list: SerialList, times: int) -> None:
    """As if ``times`` workers had claimed the list and died, the last ten minutes ago."""
    SerialList.objects.filter(pk=serial_list.pk).update(
        status="running", attempts=times, heartbeat_at=timezone.now() - timedelta(minutes=10)
    )


def test_a_list_whose_workers_died_three_times_fails_with_the_reason(
    db: None, cast: Cast, rule: NumberingRule
) -> None:
    assert settings.SERIAL_LIST_MAX_ATTEMPTS == 3
    serial_list = services.serial_list_upload(
        batch=cast.batches["own"], user=cast.users["supplier_a"], uploaded_file=csv_file([1, 3])
    )
    _died(serial_list, 3)
    assert services.serial_lists_requeue_stuck() == [serial_list.pk]
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.status == "failed"
    assert "stopped 3 times before it finished" in serial_list.error
    assert serial_list.original_name in serial_list.error
    assert AuditEvent.objects.filter(action="serial_list.failed", object_id=serial_list.pk).exists()
    # Failed is final: the reconciler leaves it alone.
    assert services.serial_lists_requeue_stuck() == []


def test_a_list_whose_worker_died_twice_is_still_checked(
    db: None, cast: Cast, rule: NumberingRule
) -> None:
    serial_list = services.serial_list_upload(
        batch=cast.batches["own"], user=cast.users["supplier_a"], uploaded_file=csv_file([1, 3])
    )
    _died(serial_list, 2)
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.status == "done" and serial_list.attempts == 3
    assert serial_list.report["missing_ranges"] == [[2, 2]]
