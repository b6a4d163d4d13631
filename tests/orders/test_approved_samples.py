"""The approved sample (issue 15): per product (buyer and GTIN), overridden per order, versioned
and append-only; who sees it; pinned by an approval that a new version makes stale; and the
label layout every label read is held against."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from approvals import services as approvals
from evidence import services as evidence_services
from inspection import services as inspection_services
from inspection.labels import label_parse
from inspection.layout import layout_problems
from inspection.models import InspectionPlan, LayoutCheck
from inspection.selectors import plan_outcome
from orders.models import ApprovedSample
from orders.samples import (
    approved_sample_create,
    approved_sample_for,
    approved_sample_new_version,
    samples_visible_to,
    serial_format_fits,
)
from portal.integrity import integrity_verify
from portal.models import AuditEvent
from serials import services as serial_services
from tests.conftest import (
    MANAGERS,
    PASSWORD,
    ROLES,
    TEST_FACTOR,
    VISIBLE,
    Cast,
    signing_request,
)
from tests.evidence.conftest import jpeg, png

GTIN = "05012345678900"
OTHER_GTIN = "05012345678917"  # another product of the buyer
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only triggers exist on PostgreSQL only"
)
LAYOUT: dict[str, Any] = {
    "label_fields": ["gtin", "serial", "model", "rating"],
    "symbology": "gs1_datamatrix",
    "serial_format": "VLT######",
    "code_position": "right of the rating text",
    "instruction": "Scan the DataMatrix; compare the rating text with the approved label.",
}


def _product_sample(cast: Cast, user: str = "buyer", **extra: Any) -> ApprovedSample:
    values: dict[str, Any] = {
        "user": cast.users[user],
        "product_name": "Volta 65W charger",
        "gtin": GTIN,
        "sample_photo": jpeg("sample.jpg", colour="white"),
        "label_photo": png("label.png"),
        **LAYOUT,
    }
    values.update(extra)
    return approved_sample_create(**values)


def _new_version(cast: Cast, sample: ApprovedSample, **extra: Any) -> ApprovedSample:
    values: dict[str, Any] = {
        "sample": sample,
        "user": cast.users["buyer"],
        "change_note": "The rating text moved above the code.",
        **LAYOUT,
    }
    values.update(extra)
    return approved_sample_new_version(**values)


# ---------------------------------------------------------------- versions, product and order


def test_a_new_version_points_at_the_one_it_replaces(cast: Cast) -> None:
    first = _product_sample(cast)
    second = _new_version(cast, first, serial_format="VLT#######")
    assert (first.version, second.version, second.previous_id) == (1, 2, first.pk)
    # The photos carry over when none are given; the layout is the new one.
    assert second.label_photo_sha256 == first.label_photo_sha256
    assert second.serial_format == "VLT#######"
    assert approved_sample_for(cast.orders["own"]) == second
    assert approved_sample_for(cast.batches["b_order"]) == second  # same buyer and GTIN
    assert approved_sample_for(cast.orders["foreign"]) is None  # another buyer's product
    with pytest.raises(ValidationError, match="already replaced"):
        _new_version(cast, first)
    with pytest.raises(ValidationError, match="already has an approved sample"):
        _product_sample(cast)
    assert AuditEvent.objects.filter(action="approved_sample.versioned").count() == 1


def test_an_order_s_own_sample_wins_over_the_product_s(cast: Cast) -> None:
    product = _product_sample(cast)
    own = _product_sample(cast, order=cast.orders["own"], symbology="gs1_qr")
    assert (own.order, own.gtin) == (cast.orders["own"], GTIN)
    assert approved_sample_for(cast.batches["own"]) == own
    assert approved_sample_for(cast.orders["b_order"]) == product
    own_v2 = _new_version(cast, own, symbology="gs1_128")
    assert approved_sample_for(cast.orders["own"]) == own_v2
    assert approved_sample_for(cast.orders["b_order"]) == product


def test_only_the_buyer_s_managers_record_samples(cast: Cast) -> None:
    for role in ("finance", "service", "supplier_a", "inspector"):
        with pytest.raises(PermissionDenied):
            _product_sample(cast, role)
    with pytest.raises(PermissionDenied):  # another buyer's order
        _product_sample(cast, "other_buyer", order=cast.orders["own"])


def test_the_layout_and_photos_are_checked(cast: Cast) -> None:
    with pytest.raises(ValidationError, match="# for each digit"):
        _product_sample(cast, serial_format="VLT 123")
    with pytest.raises(ValidationError, match="Tick the fields"):
        _product_sample(cast, label_fields=[])
    with pytest.raises(ValidationError):
        _product_sample(cast, gtin="05012345678901")  # a wrong check digit
    with pytest.raises(ValidationError, match="not accepted"):
        _product_sample(cast, label_photo=SimpleUploadedFile("label.png", b"serial\nX\n"))
    assert not ApprovedSample.objects.exists()


@postgres_only
def test_versions_are_append_only_in_the_database(cast: Cast) -> None:
    sample = _product_sample(cast)
    newest = _new_version(cast, sample)
    rows = ApprovedSample.objects.filter(pk=sample.pk)

    def delete() -> None:  # as someone with SQL would, past the ORM's on_delete checks
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM orders_approvedsample WHERE id = %s", [newest.pk])

    for change in (
        lambda: rows.update(instruction="Anything goes."),
        lambda: rows.update(serial_format="#"),
        delete,
    ):
        with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
            change()
    with (
        pytest.raises(DatabaseError, match="pgtrigger: Cannot"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute('TRUNCATE "orders_approvedsample" CASCADE')


def test_the_integrity_check_covers_samples_and_their_photos(cast: Cast) -> None:
    sample = _product_sample(cast)
    report = integrity_verify(["orders-records", "approved-sample-photos"])
    assert report.ok, report.findings
    assert [result.checked for result in report.results] == [1, 2]
    path = default_storage.path(sample.label_photo.name)
    with open(path, "ab") as stored:
        stored.write(b"changed")
    report = integrity_verify(["approved-sample-photos"])
    assert [str(finding).split(":")[0] for finding in report.findings] == [
        f"orders_approvedsample #{sample.pk}"
    ]


def test_the_serial_format_reads_hash_as_a_digit() -> None:
    assert serial_format_fits("VLT#########", "VLT000100001")
    assert not serial_format_fits("VLT#########", "VLT00010000")  # one digit short
    assert not serial_format_fits("VLT#########", "VLX000100001")
    assert not serial_format_fits("VLT#########", "VLT00010000O")  # a letter O
    assert not serial_format_fits("VLT###", "VLT١٢٣")  # digits only from 0 to 9
    assert serial_format_fits("", "anything")


# ---------------------------------------------------------------- who sees it


def test_each_party_sees_the_samples_of_what_it_sees(cast: Cast) -> None:
    product = _product_sample(cast)
    own = _product_sample(cast, order=cast.orders["own"])
    foreign = _product_sample(cast, "other_buyer", gtin=GTIN)
    expected = {
        "buyer": {product, own},
        "finance": {product, own},
        "service": {product, own},
        "admin": {product, own},
        # Supplier A sees the product's through PO-OWN, its own order's, and the other buyer's
        # product through PO-FOREIGN; supplier B the product's through PO-BEE only.
        "supplier_a": {product, own, foreign},
        "supplier_b": {product},
        "inspector": {product, own},
        "other_buyer": {foreign},
        "outsider": set(),
    }
    for role in ROLES:
        assert set(samples_visible_to(cast.users[role])) == expected[role], role


# Who sees the product's sample (through an order of the product) and the other buyer's sample
# of its order PO-FOREIGN.
SEES_PRODUCT = {"buyer", "finance", "service", "admin", "supplier_a", "supplier_b", "inspector"}
SEES_FOREIGN = {"other_buyer", "supplier_a"}
BUYER_SIDE = {"buyer", "finance", "service", "admin", "other_buyer"}


@pytest.mark.parametrize("role", ROLES)
def test_pages_answer_each_role_own_and_foreign(cast: Cast, role: str) -> None:
    product = _product_sample(cast)
    foreign = _product_sample(cast, "other_buyer", order=cast.orders["foreign"])
    client = cast.client(role)
    listed = client.get(reverse("sample-list"))
    assert listed.status_code == (200 if role in BUYER_SIDE else 403)
    if role in BUYER_SIDE:
        assert ("PO-FOREIGN" in listed.content.decode()) == (role == "other_buyer")
    create = client.get(reverse("sample-create"))
    assert create.status_code == (200 if role in MANAGERS else 403)
    for key in ("own", "foreign"):
        order = cast.orders[key]
        started = client.get(reverse("sample-create") + f"?order={order.pk}")
        if role not in MANAGERS:
            assert started.status_code == 403
        elif key in VISIBLE[role]:
            assert started.status_code == 200
            assert started.context["form"].initial["gtin"] == GTIN
        else:
            assert started.status_code == 404
            assert order.number not in started.content.decode()
    assert client.get(reverse("sample-create") + "?order=x").status_code == (
        404 if role in MANAGERS else 403
    )
    for sample, seen_by in ((product, SEES_PRODUCT), (foreign, SEES_FOREIGN)):
        sees = role in seen_by
        detail = client.get(reverse("sample-detail", args=[sample.pk]))
        assert detail.status_code == (200 if sees else 404), (role, sample)
        photo = client.get(reverse("sample-label-photo", args=[sample.pk]))
        assert photo.status_code == (200 if sees else 404), (role, sample)
        version = client.get(reverse("sample-new-version", args=[sample.pk]))
        assert version.status_code == (
            200 if sees and role in MANAGERS else 404 if not sees else 403
        )
        if sees:
            assert photo["Content-Type"] == "image/jpeg"
            assert photo["X-Content-Type-Options"] == "nosniff"
            body = detail.content.decode()
            # The inspection instruction is never the supplier's to read in advance.
            assert (LAYOUT["instruction"] in body) == (not role.startswith("supplier"))


def test_the_form_records_a_sample_for_one_order_from_its_page(cast: Cast) -> None:
    client = cast.client("buyer")
    order = cast.orders["own"]
    order_page = client.get(reverse("order-detail", args=[order.pk])).content.decode()
    assert f"{reverse('sample-create')}?order={order.pk}" in order_page
    response = client.post(
        reverse("sample-create") + f"?order={order.pk}",
        {
            "product_name": "Volta 65W charger (EU plug)",
            "gtin": GTIN,
            "for_order_only": "on",
            "sample_photo": jpeg("s.jpg"),
            "label_photo": jpeg("l.jpg", colour="white"),
            **LAYOUT,
        },
    )
    sample = ApprovedSample.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "sample-detail", args=[sample.pk]
    )
    assert (sample.order, sample.product_name) == (order, "Volta 65W charger (EU plug)")
    page = client.get(reverse("order-detail", args=[order.pk])).content.decode()
    assert reverse("sample-detail", args=[sample.pk]) in page
    new = client.post(
        reverse("sample-new-version", args=[sample.pk]),
        {"change_note": "Code moved.", **LAYOUT, "code_position": "under the rating text"},
    )
    newest = ApprovedSample.objects.get(previous=sample)
    assert new["Location"] == reverse("sample-detail", args=[newest.pk])
    assert newest.code_position == "under the rating text"


# ---------------------------------------------------------------- pinned, then a new version


def _sign_with_sample(cast: Cast, sample: ApprovedSample, **extra: Any) -> Any:
    batch = cast.batches["own"]
    gate = batch.gates.filter(kind="shipment_release").first() or approvals.gate_create(
        user=cast.users["buyer"], order=batch.order, batch=batch, kind="shipment_release"
    )
    values: dict[str, Any] = {
        "user": cast.users["buyer"],
        "password": PASSWORD,
        "request": signing_request(),
        "factor": TEST_FACTOR,
        "order": batch.order,
        "batch": batch,
        "decision": "accepted",
        "sentence": "Batch OWN-B1 is the approved product.",
        "pins": [("sample", sample.pk)],
        "promises": ["identity"],
        "unlocks": [gate],
    }
    values.update(extra)
    return approvals.approval_sign(**values), gate


def test_a_new_version_makes_the_approvals_that_pinned_it_stale(cast: Cast) -> None:
    sample = _product_sample(cast)
    assert f"sample:{sample.pk}" in dict(approvals.pin_candidates(cast.batches["own"]))
    approval, gate = _sign_with_sample(cast, sample)
    assert approvals.gate_state(gate).state == "open"
    pin = approval.pins.get()
    assert (pin.kind, pin.object_id) == ("sample", sample.pk)
    assert integrity_verify(["approvals-signatures"]).ok
    _new_version(cast, sample)
    state = approvals.gate_state(gate)
    assert state.state == "blocked"
    assert "approved sample of Volta 65W charger was revised" in state.reason
    assert approval.staleness.count() == 1
    assert AuditEvent.objects.filter(action="approval.stale", object_id=approval.pk).exists()


def test_an_approval_pins_only_the_sample_that_applies_to_its_order(cast: Cast) -> None:
    own = _product_sample(cast, order=cast.orders["b_order"])  # another order's own sample
    foreign = _product_sample(cast, "other_buyer", gtin=GTIN)
    product = _product_sample(cast)
    for sample in (own, foreign):
        with pytest.raises(ValidationError, match="covers only its own batch"):
            _sign_with_sample(cast, sample)
    _new_version(cast, product)
    with pytest.raises(ValidationError, match="newer version"):
        _sign_with_sample(cast, product)


# ---------------------------------------------------------------- the layout defect


def test_a_read_is_held_against_the_layout() -> None:
    sample = ApprovedSample(gtin=GTIN, **LAYOUT)
    fits = label_parse(f"]d201{GTIN}21VLT000002")
    assert layout_problems(sample, fits) == []
    codes = {
        "wrong GTIN": (f"]d201{OTHER_GTIN}21VLT000002", "gtin"),
        "serial off the format": (f"]d201{GTIN}21VLT00002", "serial_format"),
        "plain serial": ("VLT000002", "not_gs1"),
        "no serial in the code": (f"]d201{GTIN}", "missing"),
        "a QR code": (f"]Q301{GTIN}21VLT000002", "symbology"),
    }
    for what, (text, code) in codes.items():
        found = [problem["code"] for problem in layout_problems(sample, label_parse(text))]
        assert code in found, (what, found)


@pytest.fixture
def plan(cast: Cast) -> InspectionPlan:
    serial_services.numbering_rule_save(
        user=cast.users["buyer"], product=GTIN, prefix="VLT", width=6, check_digit="none"
    )
    batch = cast.batches["own"]
    content = "serial\n" + "\n".join(f"VLT{n:06d}" for n in range(1, 21)) + "\n"
    production = serial_services.serial_list_upload(
        batch=batch,
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("production.csv", content.encode()),
    )
    serial_services.serial_list_validate(serial_list_id=production.pk)
    return inspection_services.inspection_plan_create(
        batch=batch, user=cast.users["inspector"], level="II", aql="1.0", seed=3
    )


def test_a_label_read_off_the_layout_is_a_defect(cast: Cast, plan: InspectionPlan) -> None:
    units = list(plan.units.order_by("position"))
    # No approved sample: no layout check.
    plain = inspection_services.unit_result_record(
        unit=units[0], user=cast.users["inspector"], method="typed", label_text=units[0].serial
    )
    assert not plain.defective and not LayoutCheck.objects.exists()
    sample = _product_sample(cast)
    inspector = cast.users["inspector"]
    fits = inspection_services.unit_result_record(
        unit=units[1],
        user=inspector,
        method="scanned",
        label_text=f"]d201{GTIN}21{units[1].serial}",
    )
    assert not fits.defective
    assert (fits.layout_check.sample, fits.layout_check.fits) == (sample, True)
    plain = inspection_services.unit_result_record(
        unit=units[2], user=inspector, method="typed", label_text=units[2].serial
    )
    assert plain.matches and plain.defective  # the list matches; the layout does not
    assert [p["code"] for p in plain.layout_check.problems] == ["not_gs1"]
    wrong_gtin = inspection_services.unit_result_record(
        unit=units[3],
        user=inspector,
        method="scanned",
        label_text=f"]d201{OTHER_GTIN}21{units[3].serial}",
    )
    assert wrong_gtin.defective
    assert "gtin" in [p["code"] for p in wrong_gtin.layout_check.problems]
    assert plan_outcome(plan).defective == 2
    # Shown in red on the phone page and in the inspection's results.
    client = cast.client("inspector")
    phone = client.get(reverse("sampled-unit", args=[units[2].pk])).content.decode()
    assert "data-layout-defect" in phone and "does not fit the approved layout" in phone
    assert "data-approved-label" in phone
    assert reverse("sample-label-photo", args=[sample.pk]) in phone
    results = client.get(reverse("inspection-detail", args=[plan.pk])).content.decode()
    assert results.count("data-layout-defect") >= 2
    event = AuditEvent.objects.filter(action="inspection.unit_recorded").latest("id")
    assert event.payload["layout_fits"] is False
    assert integrity_verify(["inspection-records"]).ok


# ---------------------------------------------------------------- beside the supplier's photos


def test_the_evidence_pages_show_the_approved_photo_beside_the_supplier_s(cast: Cast) -> None:
    sample = _product_sample(cast)
    item = evidence_services.evidence_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        kind="label_print",
        uploaded_file=jpeg("label-print.jpg", captured="2026:11:02 10:00:00"),
    )
    evidence_services.evidence_process(item_id=item.pk)
    client = cast.client("supplier_a")
    detail = client.get(reverse("evidence-detail", args=[item.pk])).content.decode()
    assert 'data-approved-photo="label"' in detail
    assert reverse("sample-label-photo", args=[sample.pk]) in detail
    assert "Approved sample v1" in detail and "Supplier's photo · v1" in detail
    listed = client.get(reverse("batch-evidence", args=[cast.batches["own"].pk])).content.decode()
    assert 'data-testid="approved-strip"' in listed
    assert reverse("sample-photo", args=[sample.pk]) in listed
    # No approved sample for the other buyer's product: nothing beside its photos.
    foreign = evidence_services.evidence_upload(
        batch=cast.batches["foreign"],
        user=cast.users["supplier_a"],
        kind="label_print",
        uploaded_file=jpeg("label-foreign.jpg"),
    )
    evidence_services.evidence_process(item_id=foreign.pk)
    page = client.get(reverse("evidence-detail", args=[foreign.pk])).content.decode()
    assert "data-approved-photo" not in page
