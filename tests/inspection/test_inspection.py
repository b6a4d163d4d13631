"""Inspection plans on real lists: ISO 2859-1 sizes, reproducible samples across cartons,
results per unit (typed, scanned, decoded from a photo), pass/fail, blocked steps, carton
reconciliation, and approvals that pin inspection results."""

from __future__ import annotations

import io
from collections import Counter

import pytest
import zxingcpp
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.utils import InternalError
from django.urls import reverse
from PIL import Image

from approvals import services as approvals
from inspection import services
from inspection.models import InspectionPlan, UnitResult
from inspection.selectors import carton_reconciliation, plan_outcome
from serials import services as serial_services
from serials.models import SerialPlacement
from tests.conftest import PASSWORD, TEST_FACTOR, Cast, signing_request

GTIN = "05012345678900"
CARTONS = 10
PER_CARTON = 50


def _serial(n: int) -> str:
    return f"VLT{n:06d}"


@pytest.fixture
def lot(cast: Cast) -> Cast:
    """Batch "own" with a validated production list of 500 serials and a carton list putting
    them 50 to a carton in CTN-01 … CTN-10."""
    serial_services.numbering_rule_save(
        user=cast.users["buyer"], product=GTIN, prefix="VLT", width=6, check_digit="none"
    )
    batch = cast.batches["own"]
    content = "serial\n" + "\n".join(_serial(n) for n in range(1, 501)) + "\n"
    production = serial_services.serial_list_upload(
        batch=batch,
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("production.csv", content.encode()),
    )
    serial_services.serial_list_validate(serial_list_id=production.pk)
    carton_csv = "serial,carton\n" + "\n".join(
        f"{_serial(n)},CTN-{(n - 1) // PER_CARTON + 1:02d}" for n in range(1, 501)
    )
    carton_list = serial_services.serial_list_upload(
        batch=batch,
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("cartons.csv", carton_csv.encode()),
        kind="carton",
    )
    serial_services.serial_list_validate(serial_list_id=carton_list.pk)
    # Validating the carton list placed every serial in its carton.
    assert SerialPlacement.objects.filter(serial_list=carton_list).count() == 500
    return cast


def _plan(cast: Cast, **extra: object) -> InspectionPlan:
    values = {"level": "II", "aql": "1.0"} | extra
    return services.inspection_plan_create(
        batch=cast.batches["own"], user=cast.users["inspector"], **values
    )


def test_it_sizes_the_sample_by_iso_2859_1(lot: Cast) -> None:
    plan = _plan(lot)
    # 500 units at level II → code letter H: n = 50; AQL 1.0 → Ac 1, Re 2.
    assert (plan.lot_size, plan.code_letter, plan.sample_size) == (500, "H", 50)
    assert (plan.accept, plan.reject) == (1, 2)
    assert plan.units.count() == 50
    assert plan.serial_list.kind == "production"


def test_it_spreads_the_sample_across_cartons(lot: Cast) -> None:
    plan = _plan(lot)
    per_carton = Counter(plan.units.values_list("carton", flat=True))
    assert set(per_carton) == {f"CTN-{n:02d}" for n in range(1, CARTONS + 1)}
    assert set(per_carton.values()) == {5}
    for unit in plan.units.all():
        number = int(unit.serial[3:])
        assert unit.carton == f"CTN-{(number - 1) // PER_CARTON + 1:02d}"
        assert unit.position == number  # its row in the production list


def test_the_sample_is_reproducible_from_its_seed(lot: Cast) -> None:
    first = _plan(lot)
    again = _plan(lot, seed=first.seed)
    other = _plan(lot, seed=first.seed + 1)

    def serials(plan: InspectionPlan) -> list[str]:
        return sorted(plan.units.values_list("serial", flat=True))

    assert serials(again) == serials(first)
    assert serials(other) != serials(first)


def test_it_refuses_bad_plans_with_a_clear_message(lot: Cast, cast: Cast) -> None:
    with pytest.raises(ValidationError, match="not a valid AQL|AQL"):
        _plan(lot, aql="3.3")
    with pytest.raises(ValidationError, match="level"):
        _plan(lot, level="IV")
    with pytest.raises(ValidationError, match="no production serial list"):
        services.inspection_plan_create(
            batch=cast.batches["b_order"], user=cast.users["buyer"], level="II", aql="1.0"
        )
    with pytest.raises(PermissionDenied):
        services.inspection_plan_create(
            batch=cast.batches["own"], user=cast.users["supplier_a"], level="II", aql="1.0"
        )
    assert InspectionPlan.objects.count() == 0


def _record(cast: Cast, unit: object, **values: object) -> UnitResult:
    values.setdefault("method", "scanned")
    return services.unit_result_record(unit=unit, user=cast.users["inspector"], **values)


def test_it_judges_each_label_against_the_list(lot: Cast) -> None:
    plan = _plan(lot)
    units = list(plan.units.all())
    typed = _record(lot, units[0], method="typed", label_text=f"  {units[0].serial} ")
    assert typed.matches and not typed.defective
    gs1 = _record(lot, units[1], label_text=f"(01){GTIN}(21){units[1].serial}")
    assert gs1.matches and gs1.read_gtin == GTIN
    link = _record(lot, units[2], label_text=f"https://id.gs1.org/01/{GTIN}/21/{units[2].serial}")
    assert link.matches
    other_product = _record(lot, units[3], label_text=f"(01)09506000134352(21){units[3].serial}")
    assert not other_product.matches and other_product.defective
    wrong_label = _record(lot, units[4], label_text=units[5].serial)
    assert wrong_label.defective
    wrong_box = _record(lot, units[6], label_text=units[6].serial, carton_found="CTN-99")
    assert wrong_box.in_right_carton is False and wrong_box.defective
    scratched = _record(lot, units[7], label_text=units[7].serial, defects="Label scratched")
    assert scratched.matches and scratched.defective


def test_it_decodes_a_label_photo(lot: Cast) -> None:
    plan = _plan(lot)
    unit = plan.units.first()
    symbol = zxingcpp.create_barcode(
        f"(01){GTIN}(21){unit.serial}", zxingcpp.BarcodeFormat.DataMatrix, options="gs1"
    )
    label = Image.fromarray(zxingcpp.write_barcode_to_image(symbol, scale=8)).convert("RGB")
    photo = Image.new("RGB", (label.width + 200, label.height + 200), (200, 200, 190))
    photo.paste(label, (100, 100))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    result = _record(
        lot,
        unit,
        method="typed",
        photo=SimpleUploadedFile("label.jpg", buffer.getvalue(), content_type="image/jpeg"),
    )
    assert result.method == "photo" and result.matches and not result.defective
    assert result.read_gtin == GTIN and len(result.photo_sha256) == 64
    blank = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(blank, "PNG")
    with pytest.raises(ValidationError, match="no barcode could be read"):
        _record(lot, unit, photo=SimpleUploadedFile("blank.png", blank.getvalue()))
    with pytest.raises(ValidationError, match="notes.txt"):
        _record(lot, unit, photo=SimpleUploadedFile("notes.txt", b"not an image"))


def test_it_passes_and_fails_on_the_acceptance_number(lot: Cast) -> None:
    plan = _plan(lot)
    units = list(plan.units.all())
    assert plan_outcome(plan).state == "in_progress"
    _record(lot, units[0], label_text="VLT999999")  # one defective: Ac is 1, still fine
    for unit in units[1:]:
        _record(lot, unit, label_text=unit.serial)
    outcome = plan_outcome(plan)
    assert (outcome.state, outcome.defective, outcome.recorded) == ("passed", 1, 50)
    _record(lot, units[1], label_text=units[1].serial, defects="Cracked housing")
    failed = plan_outcome(plan)
    assert failed.state == "failed" and "rejection number is 2" in failed.reason
    # A corrected reading is a new row; the newest counts.
    _record(lot, units[1], label_text=units[1].serial)
    assert plan_outcome(plan).state == "passed"
    assert units[1].results.count() == 3


def test_a_blocked_step_shows_on_the_plan_and_the_batch_gates(lot: Cast) -> None:
    plan = _plan(lot)
    gate = approvals.gate_create(
        user=lot.users["buyer"], order=lot.orders["own"], batch=lot.batches["own"], kind="balance"
    )
    services.blocked_step_record(
        plan=plan,
        user=lot.users["inspector"],
        step="open_cartons",
        blocked_by="Factory QA manager",
        reason="Cartons already sealed for the forwarder.",
    )
    outcome = plan_outcome(plan)
    assert outcome.state == "blocked" and "Factory QA manager" in outcome.reason
    reason = approvals.gate_state(gate).reason
    assert "opening cartons was blocked by Factory QA manager" in reason
    assert "already sealed" in reason
    with pytest.raises(ValidationError, match="Name who blocked"):
        services.blocked_step_record(
            plan=plan, user=lot.users["inspector"], step="other", blocked_by=" ", reason="x"
        )


def test_it_reconciles_cartons_with_the_scans(lot: Cast) -> None:
    plan = _plan(lot)
    scan = services.carton_scans_record
    inspector = lot.users["inspector"]
    # CTN-01 holds VLT000001–050. Scanned: 1–47 as listed, 51 (listed in CTN-02), 9999 (not
    # listed anywhere), 5 again, and one unreadable Digital Link.
    labels = [_serial(n) for n in range(1, 48)]
    labels += [_serial(51), "VLT009999", _serial(5), "https://id.gs1.org/01/12345678901234/21/X"]
    scan(plan=plan, user=inspector, carton="CTN-01", labels=labels)
    found = carton_reconciliation(plan)
    assert found.cartons == ["CTN-01"]
    assert found.matched == 47
    assert found.missing_from_carton == [
        (_serial(48), "CTN-01"),
        (_serial(49), "CTN-01"),
        (_serial(50), "CTN-01"),
    ]
    assert found.wrong_carton == [(_serial(51), "CTN-01", "CTN-02")]
    assert found.not_on_list == [("VLT009999", "CTN-01")]
    assert found.seen_twice == [(_serial(5), 2)]
    assert len(found.unreadable) == 1 and not found.clean
    # Opening CTN-02 too: 51 is no longer "missing" there, it was found in CTN-01.
    scan(plan=plan, user=inspector, carton="CTN-02", labels=[_serial(n) for n in range(52, 101)])
    again = carton_reconciliation(plan)
    assert (_serial(51), "CTN-02") not in again.missing_from_carton
    assert again.matched == 47 + 49
    with pytest.raises(ValidationError, match="at least one label"):
        scan(plan=plan, user=inspector, carton="CTN-03", labels=["", "  "])


def test_an_approval_pinning_the_inspection_goes_stale_on_a_new_result(lot: Cast) -> None:
    plan = _plan(lot)
    for unit in plan.units.all():
        _record(lot, unit, label_text=unit.serial)
    batch = lot.batches["own"]
    gate = approvals.gate_create(
        user=lot.users["buyer"], order=batch.order, batch=batch, kind="shipment_release"
    )
    approval = approvals.approval_sign(
        promises=["identity", "payment"],
        user=lot.users["buyer"],
        password=PASSWORD,
        request=signing_request(),
        factor=TEST_FACTOR,
        order=batch.order,
        batch=batch,
        decision="accepted",
        sentence="Batch OWN-B1 passed inspection and may ship.",
        pins=[("inspection", plan.pk)],
        unlocks=[gate],
    )
    assert approval.pins.get().fingerprint.startswith("sha256:")
    assert approvals.gate_state(gate).state == "open"
    _record(lot, plan.units.first(), label_text="VLT999999")
    assert approvals.gate_state(gate).state == "blocked"
    assert "Inspection #" in approvals.gate_state(gate).reason
    # The reason names no sampled serial: suppliers read it on the approval page.
    assert plan.units.first().serial not in approvals.gate_state(gate).reason


@pytest.mark.skipif(connection.vendor != "postgresql", reason="triggers are PostgreSQL's")
def test_results_cannot_be_changed_even_by_raw_sql(lot: Cast) -> None:
    plan = _plan(lot)
    result = _record(lot, plan.units.first(), label_text="VLT999999")
    for statement in (
        "UPDATE inspection_unitresult SET defective = false WHERE id = %s",
        "DELETE FROM inspection_unitresult WHERE id = %s",
    ):
        with pytest.raises(InternalError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [result.pk])
    result.refresh_from_db()
    assert result.defective


def test_the_inspector_records_through_the_phone_page(lot: Cast) -> None:
    plan = _plan(lot)
    units = list(plan.units.all())
    client = lot.client("inspector")
    page = client.get(reverse("sampled-unit", args=[units[0].pk]))
    assert page.status_code == 200 and units[0].serial in page.content.decode()
    response = client.post(
        reverse("sampled-unit", args=[units[0].pk]),
        {"method": "scanned", "label_text": units[0].serial, "carton_found": units[0].carton},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("sampled-unit", args=[units[1].pk])
    empty = client.post(reverse("sampled-unit", args=[units[1].pk]), {"method": "typed"})
    assert empty.status_code == 200 and "Type or scan what the label says" in empty.content.decode()
    detail = client.get(reverse("inspection-detail", args=[plan.pk])).content.decode()
    assert "1/50" in detail
    checklist = lot.client("buyer").get(reverse("inspection-checklist", args=[plan.pk]))
    assert checklist.status_code == 200 and units[1].serial in checklist.content.decode()
    assert (
        lot.client("supplier_a").get(reverse("inspection-detail", args=[plan.pk])).status_code
        == 404
    )


def test_the_phone_page_shows_a_mismatch_and_waits_for_the_inspector(lot: Cast) -> None:
    plan = _plan(lot)
    units = list(plan.units.all())
    unit, url = units[0], reverse("sampled-unit", args=[units[0].pk])
    client = lot.client("inspector")
    wrong = {"method": "typed", "label_text": units[5].serial, "carton_found": "CTN-99"}
    response = client.post(url, wrong)
    # No moving on to the next unit: the inspector sees what went wrong first.
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url).content.decode()
    assert f"{unit.serial} recorded." not in page and "alert-success" not in page
    mismatch = page[page.index("data-mismatch") :]
    assert "border-danger" in page[page.rindex("<div", 0, page.index("data-mismatch")) :][:200]
    # Expected and read side by side, each differing cell in red ("bad").
    assert f'class="bad" data-expected="serial"><code>{unit.serial}</code>' in mismatch
    assert 'class="bad" data-read="serial">' in mismatch
    assert f"<code>{units[5].serial}</code>" in mismatch
    assert f'class="bad" data-expected="carton"><code>{unit.carton}</code>' in mismatch
    assert "<code>CTN-99</code>" in mismatch
    assert "Recorded as defective" in mismatch
    assert reverse("sampled-unit", args=[units[1].pk]) in mismatch  # confirm and go on
    assert UnitResult.objects.get(unit=unit).defective
    # Read again, rightly this time: the newest reading counts and the page moves on.
    right = {"method": "typed", "label_text": unit.serial, "carton_found": unit.carton}
    response = client.post(url, right, follow=True)
    assert response.redirect_chain[-1][0] == reverse("sampled-unit", args=[units[1].pk])
    assert f"{unit.serial} recorded." in response.content.decode()
    assert "data-mismatch" not in client.get(url).content.decode()


def test_a_written_defect_is_recorded_as_defective_not_as_a_success(lot: Cast) -> None:
    plan = _plan(lot)
    units = list(plan.units.all())
    client = lot.client("inspector")
    values = {"method": "typed", "label_text": units[0].serial, "defects": "Label peeling"}
    response = client.post(reverse("sampled-unit", args=[units[0].pk]), values, follow=True)
    assert response.redirect_chain[-1][0] == reverse("sampled-unit", args=[units[1].pk])
    html = response.content.decode()
    assert f"{units[0].serial} recorded. Defective: Label peeling" in html
    assert "alert-success" not in html and "alert-warning" in html


def test_the_api_plans_records_and_reports(lot: Cast) -> None:
    batch = lot.batches["own"]
    api = lot.api("inspector")
    created = api.post(
        reverse("api-batch-inspections", args=[batch.pk]),
        {"level": "II", "aql": "0.65"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    plan = created.json()
    # 500 at level II → H (n = 50); AQL 0.65 at H is an arrow down to J: n = 80, Ac 1, Re 2.
    assert (plan["code_letter"], plan["plan_letter"], plan["sample_size"]) == ("H", "J", 80)
    unit = plan["units"][0]
    recorded = api.post(
        reverse("api-unit-results", args=[unit["id"]]),
        {"label_text": f"]d201{GTIN}21{unit['serial']}", "carton_found": unit["carton"]},
        format="json",
    )
    assert recorded.status_code == 201, recorded.json()
    assert recorded.json()["results"][0]["matches"] is True
    refused = api.post(reverse("api-unit-results", args=[unit["id"]]), {}, format="json")
    assert refused.status_code == 400 and "Type or scan" in str(refused.json())
    detail = lot.api("buyer").get(reverse("api-inspection-detail", args=[plan["id"]])).json()
    assert detail["outcome"]["recorded"] == 1 and detail["outcome"]["state"] == "in_progress"
    assert (
        lot.api("supplier_a").get(reverse("api-inspection-detail", args=[plan["id"]])).status_code
        == 404
    )
    bad = api.post(reverse("api-batch-inspections", args=[batch.pk]), {"aql": "3.3"}, format="json")
    assert bad.status_code == 400


def test_the_lot_cannot_be_smaller_than_the_list(lot: Cast) -> None:
    with pytest.raises(ValidationError, match="cannot be smaller than the 500 serials"):
        _plan(lot, lot_size=2)
    bigger = _plan(lot, lot_size=1500)  # units beyond the list: the plan of the real lot
    assert (bigger.code_letter, bigger.sample_size) == ("K", 125)


def test_a_blocked_step_keeps_a_fully_read_sample_from_passing(lot: Cast) -> None:
    plan = _plan(lot)
    for unit in plan.units.all():
        _record(lot, unit, label_text=unit.serial)
    assert plan_outcome(plan).state == "passed"
    services.blocked_step_record(
        plan=plan,
        user=lot.users["inspector"],
        step="test",
        blocked_by="Line supervisor",
        reason="No power at the test bench.",
    )
    assert plan_outcome(plan).state == "blocked"


def test_a_carton_is_judged_by_its_newest_scan_whatever_its_case(lot: Cast) -> None:
    plan = _plan(lot)
    inspector = lot.users["inspector"]
    first = [_serial(n) for n in range(1, 51)]
    services.carton_scans_record(plan=plan, user=inspector, carton="ctn-01", labels=first[:40])
    services.carton_scans_record(plan=plan, user=inspector, carton="CTN-01", labels=first)
    found = carton_reconciliation(plan)
    assert found.clean and found.matched == 50 and found.cartons == ["CTN-01"]
    assert plan.carton_scans.count() == 90  # the first scan stays as history


def test_reconciliation_keeps_to_the_carton_list_the_sample_was_drawn_with(lot: Cast) -> None:
    plan = _plan(lot)
    services.carton_scans_record(
        plan=plan, user=lot.users["inspector"], carton="CTN-01", labels=[_serial(51)]
    )
    # The supplier then uploads a carton list that agrees with the scan.
    newer = serial_services.serial_list_upload(
        batch=lot.batches["own"],
        user=lot.users["supplier_a"],
        uploaded_file=SimpleUploadedFile(
            "cartons-v2.csv", f"serial,carton\n{_serial(51)},CTN-01\n".encode()
        ),
        kind="carton",
    )
    serial_services.serial_list_validate(serial_list_id=newer.pk)
    assert carton_reconciliation(plan).wrong_carton == [(_serial(51), "CTN-01", "CTN-02")]


def test_only_an_inspection_of_the_latest_list_can_be_pinned(lot: Cast) -> None:
    plan = _plan(lot)
    batch = lot.batches["own"]
    newer = serial_services.serial_list_upload(
        batch=batch,
        user=lot.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("production-v2.csv", b"serial\nVLT000001\nVLT000002\n"),
    )
    serial_services.serial_list_validate(serial_list_id=newer.pk)
    with pytest.raises(ValidationError, match="sampled an older serial list"):
        approvals.approval_sign(
            promises=["identity", "payment"],
            user=lot.users["buyer"],
            password=PASSWORD,
            request=signing_request(),
            factor=TEST_FACTOR,
            order=batch.order,
            batch=batch,
            decision="rejected",
            sentence="Not yet.",
            pins=[("inspection", plan.pk)],
        )


def test_a_new_carton_list_makes_an_approval_of_the_inspection_stale(lot: Cast) -> None:
    plan = _plan(lot)
    batch = lot.batches["own"]
    gate = approvals.gate_create(
        user=lot.users["buyer"], order=batch.order, batch=batch, kind="shipment_release"
    )
    approvals.approval_sign(
        promises=["identity", "payment"],
        user=lot.users["buyer"],
        password=PASSWORD,
        request=signing_request(),
        factor=TEST_FACTOR,
        order=batch.order,
        batch=batch,
        decision="accepted",
        sentence="Batch OWN-B1 may ship.",
        pins=[("inspection", plan.pk)],
        unlocks=[gate],
    )
    assert approvals.gate_state(gate).state == "open"
    serial_services.serial_list_upload(
        batch=batch,
        user=lot.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("cartons-v2.csv", b"serial,carton\nVLT000001,CTN-09\n"),
        kind="carton",
    )
    state = approvals.gate_state(gate)
    assert state.state == "blocked" and "carton list" in state.reason


def test_a_distribution_list_is_not_held_against_the_range(lot: Cast) -> None:
    batch = lot.batches["own"]
    batch.declared_first_serial, batch.declared_last_serial = "VLT000001", "VLT000500"
    batch.save()
    shipped = serial_services.serial_list_upload(
        batch=batch,
        user=lot.users["supplier_a"],
        uploaded_file=SimpleUploadedFile(
            "shipped.csv",
            b"serial,customer,shipped_on\nVLT000001,ACME,2026-11-20\nVLT000002,ACME,2026-11-20\n",
        ),
        kind="distribution",
    )
    serial_services.serial_list_validate(serial_list_id=shipped.pk)
    shipped.refresh_from_db()
    assert shipped.status == "done"
    assert not shipped.exceptions.filter(kind="missing").exists()
