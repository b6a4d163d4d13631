from __future__ import annotations

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from orders import services
from portal.integrity import chain_check
from portal.models import GENESIS_HASH, AuditEvent
from tests.conftest import Cast

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


def test_it_chains_every_event_to_the_one_before(cast: Cast) -> None:
    events = list(AuditEvent.objects.order_by("id"))
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert all(event.hash == event.compute_hash() for event in events)
    result = chain_check()
    assert (result.checked, result.findings) == (len(events), [])


def test_it_records_who_changed_what(cast: Cast) -> None:
    order = cast.orders["own"]
    services.order_update(order=order, user=cast.users["buyer"], quantity=1200, sku="VLT-65")
    event = AuditEvent.objects.latest("id")
    assert event.action == "order.updated"
    assert event.actor == cast.users["buyer"]
    assert event.organisation == cast.organisations["buyer"]
    assert event.order == order
    assert event.payload == {"quantity": [1000, 1200], "sku": ["", "VLT-65"]}


def test_it_writes_nothing_when_nothing_changed(cast: Cast) -> None:
    before = AuditEvent.objects.count()
    services.order_update(order=cast.orders["own"], user=cast.users["buyer"], quantity=1000)
    assert AuditEvent.objects.count() == before


def _tamper(event_id: int, **fields: object) -> None:
    with pgtrigger.ignore("portal.AuditEvent:audit_event_append_only"):
        AuditEvent.objects.filter(pk=event_id).update(**fields)


def test_it_detects_a_changed_row(cast: Cast) -> None:
    victim = AuditEvent.objects.order_by("id")[2]
    _tamper(victim.pk, payload={"quantity": 5})
    [finding] = chain_check().findings
    assert (finding.table, finding.id) == ("portal_auditevent", str(victim.pk))
    assert "not the HMAC of its contents" in finding.what
    with pytest.raises(CommandError, match="1 integrity finding "):
        call_command("audit_verify")


def test_it_detects_a_removed_row(cast: Cast) -> None:
    events = list(AuditEvent.objects.order_by("id")[:3])
    with pgtrigger.ignore("portal.AuditEvent:audit_event_append_only"):
        AuditEvent.objects.filter(pk=events[1].pk).delete()
    [finding] = chain_check().findings
    assert finding.id == str(events[2].pk)
    assert f"does not link to event #{events[0].pk}" in finding.what


def test_it_reports_an_intact_chain(cast: Cast, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("audit_verify")
    assert f"chain {AuditEvent.objects.count()}, anchors 0" in capsys.readouterr().out


@postgres_only
def test_it_refuses_update_and_delete_in_the_database(cast: Cast) -> None:
    event = AuditEvent.objects.first()
    with pytest.raises(Exception, match="Cannot update or delete rows"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(Exception, match="Cannot update or delete rows"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with (
        pytest.raises(Exception, match="Cannot update or delete rows"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE portal_auditevent SET action = 'forged'")


def test_it_refuses_a_fork_in_the_chain(cast: Cast) -> None:
    head = AuditEvent.objects.latest("id")
    fork = AuditEvent(
        created_at=head.created_at,
        actor_label="x",
        action="forged",
        object_type="x",
        object_id="1",
        prev_hash=head.prev_hash,
        hash="f" * 64,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save()


def test_it_shows_the_order_timeline(cast: Cast) -> None:
    order = cast.orders["own"]
    services.order_update(order=order, user=cast.users["buyer"], quantity=900)
    page = cast.client("buyer").get(reverse("order-timeline", args=[order.pk])).content.decode()
    assert "order.created" in page and "order.updated" in page and "batch.created" in page
    assert "1000" in page and "900" in page
    # Another order's events stay on that order's timeline.
    assert "PO-BEE" not in page


def test_the_admin_cannot_change_audit_events(cast: Cast) -> None:
    admin = cast.client("admin")
    event = AuditEvent.objects.filter(order=cast.orders["own"]).first()
    url = reverse("admin:portal_auditevent_change", args=[event.pk])
    assert admin.get(url).status_code == 200
    admin.post(url, {"action": "forged"})
    event.refresh_from_db()
    assert event.action != "forged"
    assert admin.post(reverse("admin:portal_auditevent_delete", args=[event.pk])).status_code == 403
