"""The inspector's path: from the dashboard straight to the next unit to read, units walked
carton by carton, the carton confirmed with one tap, "unit not found" and "skip" as results,
a mismatch shown side by side, and every save moving on to the next unit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inspection import services
from inspection.models import InspectionPlan, SampledUnit, UnitResult
from inspection.selectors import carton_order, next_unit, plan_outcome, units_in_carton_order
from orders.models import Batch
from portal.models import AuditEvent, User
from serials import services as serial_services
from tests.conftest import Cast

GTIN = "05012345678900"


def _sampled(cast: Cast, batch: Batch, supplier: User, planner: User) -> InspectionPlan:
    rows = "\n".join(f"VLT{n:06d},CTN-{(n - 1) // 20 + 1}" for n in range(1, 301))
    production = serial_services.serial_list_upload(
        batch=batch,
        user=supplier,
        uploaded_file=SimpleUploadedFile("production.csv", f"serial,carton\n{rows}\n".encode()),
    )
    serial_services.serial_list_validate(serial_list_id=production.pk)
    return services.inspection_plan_create(
        batch=batch, user=planner, level="II", aql="1.0", seed=11
    )


@pytest.fixture
def plan(cast: Cast) -> InspectionPlan:
    """Batch "own" with 300 serials, 20 to a carton named without zero padding (CTN-1 …
    CTN-15, so that CTN-10 would sort before CTN-2 as text), and a level II sample of them."""
    serial_services.numbering_rule_save(
        user=cast.users["buyer"], product=GTIN, prefix="VLT", width=6, check_digit="none"
    )
    return _sampled(cast, cast.batches["own"], cast.users["supplier_a"], cast.users["inspector"])


def _carton_number(unit: SampledUnit) -> int:
    return int(unit.carton.split("-")[1])


def _record(cast: Cast, unit: SampledUnit, **values: object) -> UnitResult:
    values.setdefault("method", "scanned")
    return services.unit_result_record(unit=unit, user=cast.users["inspector"], **values)


def test_units_are_walked_carton_by_carton_with_the_numbers_compared_as_numbers(
    cast: Cast, plan: InspectionPlan
) -> None:
    walked = units_in_carton_order(plan)
    assert len(walked) == plan.sample_size == 50
    keys = [(_carton_number(unit), unit.position) for unit in walked]
    assert keys == sorted(keys)
    assert {_carton_number(unit) for unit in walked} >= {2, 10}  # "CTN-10" after "CTN-2"
    # The checklist, the page's list and the "next unit" follow the same order.
    client = cast.client("inspector")
    checklist = client.get(reverse("inspection-checklist", args=[plan.pk])).content.decode()
    positions = [checklist.index(f"<code>{unit.serial}</code>") for unit in walked]
    assert positions == sorted(positions)
    detail = client.get(reverse("inspection-detail", args=[plan.pk]))
    shown = [row.record.unit for row in detail.context["table"].paginated_rows]
    assert shown == walked[:50]
    assert next_unit(plan) == walked[0]
    assert next_unit(plan, after=walked[3]) == walked[4]


def test_the_dashboard_links_straight_to_the_next_unit_to_read(
    cast: Cast, plan: InspectionPlan
) -> None:
    walked = units_in_carton_order(plan)
    for unit in walked[:5]:
        _record(cast, unit, label_text=unit.serial, carton_confirmed=True)
    _record(cast, walked[5], method="skipped")
    response = cast.client("inspector").get(reverse("dashboard"))
    items = [item for item in response.context["waiting"] if item.url.startswith("/sampled")]
    assert [item.title for item in items] == [
        "Inspect batch OWN-B1 of PO PO-OWN: 45 units to read, 5 read"
    ]
    assert items[0].url == reverse("sampled-unit", args=[walked[6].pk])
    assert f"Next: {walked[6].serial} in carton {walked[6].carton}" in items[0].detail
    assert "1 skipped, waiting at the end" in items[0].detail
    # No second item for the same work: the order itself is no longer "assigned to you".
    titles = [item.title for item in response.context["waiting"]]
    assert not [title for title in titles if "PO-OWN" in title and "Inspect" not in title]
    page = response.content.decode()
    assert f'href="{items[0].url}"' in page
    # An inspection of an order the inspector is not assigned to: no item, and its unit is 404.
    other = _sampled(cast, cast.batches["b_order"], cast.users["supplier_b"], cast.users["buyer"])
    waiting = cast.client("inspector").get(reverse("dashboard")).context["waiting"]
    assert [item.url for item in waiting if "Inspect batch" in item.title] == [items[0].url]
    unit = other.units.first()
    assert cast.client("inspector").get(reverse("sampled-unit", args=[unit.pk])).status_code == 404
    # Other roles see no inspection item.
    for role in ("buyer", "supplier_a", "finance", "service"):
        waiting = cast.client(role).get(reverse("dashboard")).context["waiting"]
        assert not [item for item in waiting if "Inspect batch" in item.title]


def test_the_dashboard_item_ends_with_the_inspection(cast: Cast, plan: InspectionPlan) -> None:
    for unit in plan.units.all():
        _record(cast, unit, label_text=unit.serial)
    assert plan_outcome(plan).state == "passed"
    waiting = cast.client("inspector").get(reverse("dashboard")).context["waiting"]
    assert not [item for item in waiting if "Inspect batch OWN-B1" in item.title]


def test_confirming_the_prefilled_carton_records_the_expected_carton(
    cast: Cast, plan: InspectionPlan
) -> None:
    walked = units_in_carton_order(plan)
    unit = walked[0]
    client = cast.client("inspector")
    url = reverse("sampled-unit", args=[unit.pk])
    page = client.get(url).content.decode()
    assert f'name="carton_found" value="{unit.carton}"' in page  # prefilled from the list
    assert f"Carton {unit.carton} matches" in page
    response = client.post(
        url,
        {
            "method": "scanned",
            "label_text": f"(01){GTIN}(21){unit.serial}",
            "action": "carton_matches",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("sampled-unit", args=[walked[1].pk])  # straight on
    result = unit.results.get()
    assert (result.carton_found, result.in_right_carton, result.defective) == (
        unit.carton,
        True,
        False,
    )
    # Confirming the list's carton while typing another is a contradiction: refused, unsaved.
    other = walked[1]
    refused = client.post(
        reverse("sampled-unit", args=[other.pk]),
        {
            "method": "scanned",
            "label_text": other.serial,
            "carton_found": "CTN-99",
            "action": "carton_matches",
        },
    )
    assert refused.status_code == 200
    assert "You typed carton CTN-99 but confirmed" in refused.content.decode()
    assert not other.results.exists()
    # Typed only when it differs: the carton typed is the one recorded.
    moved = client.post(
        reverse("sampled-unit", args=[other.pk]),
        {
            "method": "typed",
            "label_text": other.serial,
            "carton_found": "CTN-99",
            "action": "record",
        },
    )
    assert moved.status_code == 302
    assert other.results.get().in_right_carton is False


def test_not_found_is_a_finding_and_skip_sends_the_unit_to_the_end(
    cast: Cast, plan: InspectionPlan
) -> None:
    walked = units_in_carton_order(plan)
    client = cast.client("inspector")
    first, second = walked[0], walked[1]
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("sampled-unit", args=[first.pk]),
        {
            "method": "scanned",
            "carton_found": first.carton,
            "action": "not_found",
            "defects": "Empty slot",
        },
    )
    assert response["Location"] == reverse("sampled-unit", args=[second.pk])
    missing = first.results.get()
    assert (missing.method, missing.defective, missing.matches) == ("not_found", True, False)
    assert missing.carton_found == first.carton and missing.in_right_carton is None
    assert missing.defects == "Empty slot"
    response = client.post(
        reverse("sampled-unit", args=[second.pk]),
        {"method": "scanned", "carton_found": second.carton, "action": "skip"},
    )
    assert response["Location"] == reverse("sampled-unit", args=[walked[2].pk])
    skipped = second.results.get()
    assert (skipped.method, skipped.defective) == ("skipped", False)
    assert AuditEvent.objects.count() == events + 2  # each a new row and an event
    outcome = plan_outcome(plan)
    assert (outcome.recorded, outcome.defective, outcome.not_found, outcome.skipped) == (1, 1, 1, 1)
    assert outcome.to_read == 49
    # The skipped unit waits at the end of the queue: after every unread unit.
    for unit in walked[2:-1]:
        _record(cast, unit, label_text=unit.serial)
    assert next_unit(plan) == walked[-1]
    last = client.post(
        reverse("sampled-unit", args=[walked[-1].pk]),
        {"method": "typed", "label_text": walked[-1].serial, "action": "carton_matches"},
    )
    assert last["Location"] == reverse("sampled-unit", args=[second.pk])
    assert plan_outcome(plan).state == "in_progress"  # a skipped unit is still to be read
    _record(cast, second, label_text=second.serial)
    assert plan_outcome(plan).state == "passed"  # 1 defective (not found) ≤ Ac 1
    assert second.results.count() == 2  # the skip stays as history: nothing was updated
    detail = client.get(reverse("inspection-detail", args=[plan.pk]) + "?state=not_found")
    assert [row.record.unit for row in detail.context["table"].paginated_rows] == [first]


def test_not_found_and_skip_refuse_what_they_cannot_record(
    cast: Cast, plan: InspectionPlan
) -> None:
    unit = units_in_carton_order(plan)[0]
    with pytest.raises(ValidationError, match="records no label"):
        _record(cast, unit, method="not_found", label_text=unit.serial)
    with pytest.raises(ValidationError, match="A skip records no defect"):
        _record(cast, unit, method="skipped", defects="Scratched")
    _record(cast, unit, label_text=unit.serial)
    with pytest.raises(ValidationError, match="already has a result"):
        _record(cast, unit, method="skipped")
    assert unit.results.count() == 1
    client = cast.client("inspector")
    page = client.post(
        reverse("sampled-unit", args=[unit.pk]),
        {"method": "scanned", "label_text": unit.serial, "action": "not_found"},
    )
    assert page.status_code == 200 and "records no label" in page.content.decode()
    unknown = client.post(
        reverse("sampled-unit", args=[unit.pk]), {"method": "scanned", "action": "delete"}
    )
    assert unknown.status_code == 200 and "That button records nothing" in unknown.content.decode()
    assert unit.results.count() == 1


def test_a_mismatch_shows_expected_and_read_side_by_side(cast: Cast, plan: InspectionPlan) -> None:
    walked = units_in_carton_order(plan)
    unit = walked[0]
    client = cast.client("inspector")
    url = reverse("sampled-unit", args=[unit.pk])
    response = client.post(
        url,
        {
            "method": "scanned",
            "label_text": f"(01)09506000134352(21){walked[3].serial}",
            "carton_found": "CTN-77",
            "action": "record",
        },
    )
    assert response["Location"] == url  # the inspector sees it before moving on
    page = client.get(url).content.decode()
    block = page[page.index("data-mismatch") : page.index("Confirm the mismatch")]
    for what, expected, read in (
        ("serial", unit.serial, walked[3].serial),
        ("gtin", GTIN, "09506000134352"),
        ("carton", unit.carton, "CTN-77"),
    ):
        assert f'class="bad" data-expected="{what}"><code>{expected}</code>' in block
        assert f'class="bad" data-read="{what}">' in block
        assert f"<code>{read}</code>" in block
    # On the inspection's list, the expected and the read value stand side by side too.
    detail = client.get(reverse("inspection-detail", args=[plan.pk])).content.decode()
    assert f'<code class="expected">{unit.serial}</code>' in detail
    assert f'<code class="read-bad">{walked[3].serial}</code>' in detail


def test_a_matching_label_shows_no_mismatch(cast: Cast, plan: InspectionPlan) -> None:
    unit = units_in_carton_order(plan)[0]
    _record(cast, unit, label_text=f"(01){GTIN}(21){unit.serial}", carton_confirmed=True)
    page = cast.client("inspector").get(reverse("sampled-unit", args=[unit.pk])).content.decode()
    assert "data-mismatch" not in page


def test_every_save_goes_to_the_next_unit_and_the_last_to_the_inspection(
    cast: Cast, plan: InspectionPlan
) -> None:
    walked = units_in_carton_order(plan)
    client = cast.client("inspector")
    for unit, following in zip(walked, walked[1:], strict=False):
        response = client.post(
            reverse("sampled-unit", args=[unit.pk]),
            {"method": "scanned", "label_text": unit.serial, "action": "carton_matches"},
        )
        assert response["Location"] == reverse("sampled-unit", args=[following.pk])
    response = client.post(
        reverse("sampled-unit", args=[walked[-1].pk]),
        {"method": "scanned", "label_text": walked[-1].serial, "action": "carton_matches"},
    )
    assert response["Location"] == reverse("inspection-detail", args=[plan.pk])
    assert plan_outcome(plan).state == "passed"


def test_the_units_list_filters_sorts_and_exports(cast: Cast, plan: InspectionPlan) -> None:
    walked = units_in_carton_order(plan)
    _record(cast, walked[0], label_text="VLT999999")
    _record(cast, walked[1], method="not_found")
    _record(cast, walked[2], method="skipped")
    client = cast.client("buyer")
    url = reverse("inspection-detail", args=[plan.pk])

    def shown(query: str) -> list[SampledUnit]:
        response = client.get(url + query)
        assert response.status_code == 200
        return [row.record.unit for row in response.context["table"].paginated_rows]

    assert shown("?state=defective") == [walked[0], walked[1]]
    assert shown("?state=skipped") == [walked[2]]
    assert len(shown("?state=pending")) == 47
    assert shown(f"?q={walked[5].serial}") == [walked[5]]
    assert shown("?state=bogus") == walked  # an unknown filter is ignored, never a 500
    by_serial = shown("?sort=-serial")
    assert [u.serial for u in by_serial] == sorted((u.serial for u in walked), reverse=True)
    by_result = shown("?sort=state")
    assert by_result[:3] == [u for u in walked if u not in walked[:3]][:3]  # pending first
    csv = client.get(url + "?state=defective&format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert len(lines) == 3 and lines[1].startswith(walked[0].serial)
    assert "Not found" in lines[2]
    assert sorted(walked, key=carton_order) == walked


def test_the_api_records_not_found_skip_and_a_confirmed_carton(
    cast: Cast, plan: InspectionPlan
) -> None:
    walked = units_in_carton_order(plan)
    api = cast.api("inspector")
    confirmed = api.post(
        reverse("api-unit-results", args=[walked[0].pk]),
        {"label_text": walked[0].serial, "carton_confirmed": True},
        format="json",
    )
    assert confirmed.status_code == 201, confirmed.json()
    assert confirmed.json()["results"][0]["carton_found"] == walked[0].carton
    missing = api.post(
        reverse("api-unit-results", args=[walked[1].pk]), {"method": "not_found"}, format="json"
    )
    assert missing.status_code == 201 and missing.json()["results"][0]["defective"] is True
    refused = api.post(
        reverse("api-unit-results", args=[walked[2].pk]),
        {"method": "skipped", "label_text": "VLT000001"},
        format="json",
    )
    assert refused.status_code == 400 and "records no label" in str(refused.json())
