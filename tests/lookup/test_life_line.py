"""The lookup's life line: allocated, commissioned, sampled, shipped composed from the records
that prove them, returned and destroyed from the recorded events; a destroyed serial is the
loudest status, and says so again where it turns up after the event."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from inspection.models import InspectionPlan, SampledUnit
from lookup.results import LookupStatus as S
from lookup.selectors import serial_lookup, serials_lookup_bulk
from orders import services as order_services
from orders.models import PurchaseOrder
from serials import services
from serials.models import SerialLifeEvent, SerialList
from tests.conftest import Cast

GTIN = "05012345678900"


def _validated(cast: Cast, lines: list[str], kind: str = "production") -> SerialList:
    serial_list = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile(f"{kind}.csv", ("\n".join(lines) + "\n").encode()),
        kind=kind,
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.status == SerialList.Status.DONE, serial_list.error
    return serial_list


def _record(cast: Cast, batch: str, user: str, **values: Any) -> SerialLifeEvent:
    """A life event recorded on one of the cast's batches by one of its people."""
    return services.serial_life_record(batch=cast.batches[batch], user=cast.users[user], **values)


@pytest.fixture
def accepted(cast: Cast) -> SerialList:
    """VLT000001–100 allocated, listed, accepted; VLT000010 sampled and shipped to ACME."""
    services.numbering_rule_save(
        user=cast.users["buyer"],
        product=GTIN,
        prefix="VLT",
        width=6,
        check_digit="none",
        warranty_months=24,
    )
    services.allocated_range_set(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        first_serial="VLT000001",
        last_serial="VLT000100",
        batch=cast.batches["own"],
    )
    production = _validated(cast, ["serial", *(f"VLT{n:06d}" for n in range(1, 101))])
    services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    plan = InspectionPlan.objects.create(
        batch=cast.batches["own"],
        serial_list=production,
        level="II",
        aql="1.0",
        lot_size=100,
        code_letter="F",
        plan_letter="F",
        sample_size=20,
        accept=0,
        reject=1,
        seed=7,
        created_by=cast.users["inspector"],
    )
    SampledUnit.objects.create(plan=plan, position=10, serial="VLT000010")
    _validated(
        cast,
        ["serial,customer_reference,shipped_on", "VLT000010,ACME-778,2026-02-01"],
        kind="distribution",
    )
    return production


def test_the_life_line_composes_every_state_in_time_order(cast: Cast, accepted: SerialList) -> None:
    _record(
        cast,
        "own",
        "service",
        state="returned",
        first_serial="VLT000010",
        reason="Dead on arrival; customer sent it back.",
        reference="RMA-5512",
    )
    result = serial_lookup(user=cast.users["service"], text="VLT000010")
    states = [entry.state for entry in result.life]
    # The allocation, acceptance and sample were recorded today; the shipment is dated earlier
    # by its list, and the return was recorded last.
    assert sorted(states) == sorted(["allocated", "commissioned", "sampled", "shipped", "returned"])
    assert states[-1] == "returned" and result.life_state == "returned"
    assert [e.state for e in result.life if e.state != "shipped"] == [
        "allocated",
        "commissioned",
        "sampled",
        "returned",
    ]
    by_state = {entry.state: entry for entry in result.life}
    assert by_state["commissioned"].url == reverse("serial-list-detail", args=[accepted.pk])
    assert by_state["commissioned"].who == cast.users["buyer"].printed_name
    assert by_state["sampled"].who == cast.users["inspector"].printed_name
    assert by_state["shipped"].at == datetime.date(2026, 2, 1)
    assert "ACME-778" in by_state["shipped"].why
    assert by_state["returned"].proof == "RMA-5512"
    assert by_state["returned"].who == cast.users["service"].printed_name
    # A return is part of a unit's life, not an anomaly.
    assert result.status == S.CLEAN and result.warranty_end is not None


def test_a_destroyed_serial_is_the_loudest_status_and_turns_up_again_loudly(
    cast: Cast, accepted: SerialList
) -> None:
    _record(
        cast,
        "own",
        "buyer",
        state="destroyed",
        first_serial="VLT000020",
        last_serial="VLT000029",
        reason="Units crushed in transit; scrapped at the warehouse.",
        reference="SCRAP-88",
    )
    later = timezone.localdate() + datetime.timedelta(days=3)
    _validated(
        cast,
        ["serial,customer_reference,shipped_on", f"VLT000025,SHOP-9,{later.isoformat()}"],
        kind="distribution",
    )
    result = serial_lookup(user=cast.users["finance"], text=f"(01){GTIN}(21)VLT000025")
    assert result.status == S.DESTROYED and result.statuses[0] == S.DESTROYED
    name = cast.users["buyer"].printed_name
    assert f"by {name}" in result.reason and "a unit carrying it is not genuine" in result.reason
    assert result.reason.startswith("Reported destroyed on ")
    assert "It turned up again after that: shipped on" in result.reason
    assert result.warranty_end is None  # no warranty for a unit that should not exist
    states = [entry.state for entry in result.life]
    assert states == ["allocated", "commissioned", "destroyed", "shipped"]
    assert result.findings[0].url == reverse("batch-serial-life", args=[cast.batches["own"].pk])
    # The page says so, with the life line and its proof.
    page = cast.client("service").get(reverse("serial-lookup"), {"serial": "VLT000025"})
    body = page.content.decode()
    assert page.status_code == 200 and 'data-status="destroyed"' in body
    assert "data-life-line" in body and "SCRAP-88" in body
    # So does the API, with the life line.
    api = cast.api("service").get(reverse("api-serial-lookup"), {"serial": "VLT000025"}).json()
    assert api["status"] == "destroyed" and "not genuine" in api["reason"]
    assert "destroyed" in [entry["state"] for entry in api["life"]]
    # Serials beside the destroyed range are untouched.
    assert serial_lookup(user=cast.users["service"], text="VLT000030").status == S.CLEAN


def test_a_destroyed_serial_no_list_holds_is_known_and_destroyed(cast: Cast) -> None:
    """A reel destroyed before any list named it: the lookup knows the serial by its event."""
    services.numbering_rule_save(
        user=cast.users["buyer"], product=GTIN, prefix="VLT", width=6, check_digit="none"
    )
    _record(
        cast,
        "own",
        "buyer",
        state="decommissioned",
        first_serial="VLT000700",
        last_serial="VLT000799",
        reason="Range withdrawn: the label artwork was wrong.",
        reference="ECO-12",
    )
    result = serial_lookup(user=cast.users["service"], text="VLT000750")
    assert result.status == S.DESTROYED and "Reported decommissioned on" in result.reason
    assert result.batch_code == cast.batches["own"].code and result.report_url == ""
    assert [entry.state for entry in result.life] == ["decommissioned"]
    assert serial_lookup(user=cast.users["service"], text="VLT000800").status == S.UNKNOWN
    # Another buyer knows nothing of it.
    services.numbering_rule_save(
        user=cast.users["other_buyer"], product=GTIN, prefix="VLT", width=6, check_digit="none"
    )
    other = serial_lookup(user=cast.users["other_buyer"], text="VLT000750")
    assert other.status == S.UNKNOWN and other.life == []


def test_a_bulk_lookup_finds_destroyed_serials_without_composing_life_lines(
    cast: Cast, accepted: SerialList
) -> None:
    _record(
        cast,
        "own",
        "buyer",
        state="destroyed",
        first_serial="VLT000050",
        reason="Label printed twice; the spare was shredded.",
        reference="DC-3",
    )
    texts = [f"VLT{n:06d}" for n in range(1, 101)] + ["VLT000050"] * 50
    results = serials_lookup_bulk(user=cast.users["service"], texts=texts)
    destroyed = [r.serial for r in results if r.status == S.DESTROYED]
    assert destroyed == ["VLT000050"] * 51
    assert all(r.life == [] for r in results)  # past 100 inputs: the status only


def test_a_unit_shipped_is_destroyed_only_once_the_recorder_has_checked(
    cast: Cast, accepted: SerialList
) -> None:
    """VLT000010 went to ACME-778: recording it destroyed names that shipment and waits for a
    second tick; the page shows the warning and keeps what was typed."""
    url = reverse("batch-serial-life", args=[cast.batches["own"].pk])
    values = {
        "state": "destroyed",
        "first_serial": "VLT000005",
        "last_serial": "VLT000015",
        "reason": "Labels of the wrong reel.",
        "reference": "NCR-4",
        "confirm": "on",
    }
    client = cast.client("buyer")
    first = client.post(url, values)
    body = first.content.decode()
    assert first.status_code == 400 and not SerialLifeEvent.objects.exists()
    assert "1 of these serials was shipped to a customer (VLT000010 to ACME-778 on 2026-02-01)" in (
        body
    )
    assert 'name="shipped_confirmed"' in body and 'value="VLT000015"' in body
    with pytest.raises(ValidationError, match="shipped to a customer"):
        services.serial_life_record(
            batch=cast.batches["own"], user=cast.users["buyer"], **_service_values(values)
        )
    checked = client.post(url, {**values, "shipped_confirmed": "on"})
    assert checked.status_code == 302 and SerialLifeEvent.objects.count() == 1
    # A return needs no such tick: the serial stays valid.
    returned = client.post(url, {**values, "state": "returned", "first_serial": "VLT000010"})
    assert returned.status_code == 302, returned.content.decode()


def _service_values(values: dict) -> dict:
    return {
        key: values[key] for key in ("state", "first_serial", "last_serial", "reason", "reference")
    }


def test_serials_of_another_batch_are_recorded_from_that_batch(
    cast: Cast, accepted: SerialList
) -> None:
    """VLT000001–100 are batch OWN-B1's: recorded from another batch's page they would sit on
    the wrong batch's record."""
    second = order_services.batch_create(
        order=cast.orders["own"], user=cast.users["buyer"], code="OWN-B2", planned_quantity=10
    )
    with pytest.raises(ValidationError, match="in the lists of batch OWN-B1 of PO PO-OWN"):
        services.serial_life_record(
            batch=second,
            user=cast.users["buyer"],
            state="destroyed",
            first_serial="VLT000050",
            reason="Crushed.",
            reference="DC-1",
        )
    # Serials no list holds yet (a reel destroyed before use) may be recorded from any batch.
    event = services.serial_life_record(
        batch=second,
        user=cast.users["buyer"],
        state="destroyed",
        first_serial="VLT000500",
        last_serial="VLT000599",
        reason="Reel crushed before use.",
        reference="DC-2",
    )
    assert event.batch == second


def test_a_destroyed_serial_stays_destroyed_after_a_return_is_recorded(
    cast: Cast, accepted: SerialList
) -> None:
    for state in ("destroyed", "returned"):
        _record(
            cast,
            "own",
            "buyer",
            state=state,
            first_serial="VLT000030",
            reason="Seen again at the counter." if state == "returned" else "Scrapped.",
            reference="X-1",
        )
    result = serial_lookup(user=cast.users["service"], text="VLT000030")
    assert [entry.state for entry in result.life][-1] == "returned"
    assert result.life_state == "destroyed" and result.status == S.DESTROYED


def test_a_returned_unit_says_so_and_service_is_offered_only_what_it_may_record(
    cast: Cast, accepted: SerialList
) -> None:
    _record(
        cast,
        "own",
        "service",
        state="returned",
        first_serial="VLT000040",
        reason="Warranty claim: no power.",
        reference="RMA-1",
    )
    page = cast.client("service").get(reverse("serial-lookup"), {"serial": "VLT000040"})
    body = page.content.decode()
    assert "data-returned" in body and "second claim on the same unit" in body
    assert "Record a return" in body and "Record destroyed or decommissioned" not in body
    buyer = cast.client("buyer").get(reverse("serial-lookup"), {"serial": "VLT000040"})
    assert "Record destroyed or decommissioned" in buyer.content.decode()
    # A link asking customer service to record "destroyed" chooses nothing for them.
    form = cast.client("service").get(
        reverse("batch-serial-life", args=[cast.batches["own"].pk]),
        {"serial": "VLT000041", "state": "destroyed"},
    )
    assert 'value="returned" selected' not in form.content.decode()
    assert 'value="" selected' in form.content.decode()


def test_a_serial_destroyed_under_one_product_answers_under_any(cast: Cast) -> None:
    """Two products whose rules both fit the serial (a SKU and a GTIN with one pattern): the one
    that recorded it destroyed answers, however new the other's batch."""
    for product in ("SKU-A", GTIN):
        services.numbering_rule_save(
            user=cast.users["buyer"], product=product, prefix="VLT", width=6
        )
    _record(
        cast,
        "b_order",
        "buyer",
        state="destroyed",
        first_serial="VLT000007",
        reason="Scrapped.",
        reference="SC-1",
    )
    PurchaseOrder.objects.filter(pk=cast.orders["b_order"].pk).update(gtin="", sku="SKU-A")
    _validated(cast, ["serial", *(f"VLT{n:06d}" for n in range(1, 11))])  # the GTIN's batch
    assert serial_lookup(user=cast.users["service"], text="VLT000007").status == S.DESTROYED
