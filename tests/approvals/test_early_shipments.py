"""Units shipped before the shipment release: read from the placements' shipment dates against
the release of the shipment gate that holds the batch, and shown to the buyer's staff."""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from approvals import services as approvals
from approvals.models import Gate
from approvals.selectors import early_shipments
from serials import services
from serials.models import NumberingRule, SerialList
from tests.conftest import TEST_FACTOR, Cast, signing_request

DAY = datetime.timedelta(days=1)


def _shipped(cast: Cast, rows: list[tuple[str, datetime.date]], key: str = "own") -> SerialList:
    lines = ["serial,customer_reference,shipped_on"]
    lines += [f"{serial},RETAIL-UK-0042,{day.isoformat()}" for serial, day in rows]
    serial_list = services.serial_list_upload(
        batch=cast.batches[key],
        user=cast.users["supplier_a" if key == "own" else "supplier_b"],
        uploaded_file=SimpleUploadedFile("shipped.csv", ("\n".join(lines) + "\n").encode()),
        kind="distribution",
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.status == SerialList.Status.DONE, serial_list.error
    return serial_list


def _gate(cast: Cast, key: str = "own", *, of_order: bool = False) -> Gate:
    return approvals.gate_create(
        user=cast.users["buyer"],
        order=cast.orders[key],
        batch=None if of_order else cast.batches[key],
        kind=Gate.Kind.SHIPMENT_RELEASE,
    )


def _released(cast: Cast, gate: Gate) -> None:
    approvals.gate_release(
        request=signing_request(),
        factor=TEST_FACTOR,
        gate=gate,
        user=cast.users["finance"],
        reason="The forwarder's slot could not wait.",
    )


def test_it_flags_every_shipment_while_the_gate_is_not_released(
    cast: Cast, rule: NumberingRule
) -> None:
    gate = _gate(cast)
    first, second = datetime.date(2026, 11, 10), datetime.date(2026, 11, 12)
    # The same unit twice on one day is one unit.
    _shipped(cast, [("VLT000001", first), ("VLT000002", first), ("VLT000002", first)])
    _shipped(cast, [("VLT000001", first), ("VLT000002", first), ("VLT000003", second)])
    found = early_shipments(batches=[cast.batches["own"]])
    assert [(e.gate, e.shipped_on, e.units, e.released_on) for e in found] == [
        (gate, first, 2, None),
        (gate, second, 1, None),
    ]
    assert found[0].text == (
        "2 units of batch OWN-B1 shipped on 10 Nov 2026 before the shipment release "
        "(not released yet)."
    )


def test_it_flags_only_what_left_before_the_release_day(cast: Cast, rule: NumberingRule) -> None:
    gate = _gate(cast)
    today = timezone.localdate()
    _released(cast, gate)
    _shipped(cast, [("VLT000001", today - 3 * DAY), ("VLT000002", today), ("VLT000003", today)])
    found = early_shipments(batches=[cast.batches["own"]])
    assert [(e.shipped_on, e.units, e.released_on) for e in found] == [(today - 3 * DAY, 1, today)]
    assert found[0].text.startswith("1 unit of batch OWN-B1 shipped on ")
    assert found[0].text.endswith(f"(released {today.day} {today:%b %Y}).")


def test_the_order_s_gate_holds_batches_without_their_own(cast: Cast, rule: NumberingRule) -> None:
    order_gate = _gate(cast, of_order=True)
    _shipped(cast, [("VLT000001", datetime.date(2026, 11, 10))])
    assert [e.gate for e in early_shipments(batches=[cast.batches["own"]])] == [order_gate]
    batch_gate = _gate(cast)
    _released(cast, batch_gate)
    # The batch's own gate, released after the shipment, now speaks for it.
    assert [e.gate for e in early_shipments(batches=[cast.batches["own"]])] == [batch_gate]


def test_a_batch_no_shipment_gate_holds_is_not_flagged(cast: Cast, rule: NumberingRule) -> None:
    approvals.gate_create(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        batch=cast.batches["own"],
        kind=Gate.Kind.DEPOSIT,
    )
    _shipped(cast, [("VLT000001", datetime.date(2026, 11, 10))])
    assert early_shipments(batches=[cast.batches["own"]]) == []


def test_the_buyer_and_finance_see_it_on_the_batch_and_gate_pages(
    cast: Cast, rule: NumberingRule
) -> None:
    gate = _gate(cast)
    _shipped(cast, [("VLT000001", datetime.date(2026, 11, 10))])
    sentence = "1 unit of batch OWN-B1 shipped on 10 Nov 2026 before the shipment release"
    batch = cast.batches["own"]
    pages = [
        reverse("batch-detail", args=[batch.pk]),
        reverse("batch-approvals", args=[batch.pk]),
        reverse("gate-payments", args=[gate.pk]),
    ]
    for username in ("buyer", "finance"):
        for url in pages:
            response = cast.client(username).get(url)
            assert response.status_code == 200, (username, url)
            assert sentence in response.content.decode(), (username, url)
    # The supplier's own pages stay as they were; the flag is the buyer's to act on.
    for url in pages[:2]:
        assert sentence not in cast.client("supplier_a").get(url).content.decode()
    _released(cast, gate)
    assert "before the shipment release (released " in (
        cast.client("finance").get(pages[2]).content.decode()
    )
