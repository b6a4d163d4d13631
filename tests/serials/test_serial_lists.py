"""Serial lists in the portal: upload, validation by the worker's service, reuse across
batches, exceptions answered and decided, acceptance into the registry."""

from __future__ import annotations

import html

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from portal.models import AuditEvent
from serials import engine, selectors, services
from serials.models import NumberingRule, SerialException, SerialList, SerialRun
from tests.conftest import Cast
from tests.serials.conftest import csv_file

FILE_WITH_FINDINGS = [*range(1, 51), 50, 50, 17, *range(61, 101)]  # gap 51–60, dups 50 and 17


def _upload_and_validate(cast: Cast, key: str, counters: list[int], **kw: object) -> SerialList:
    serial_list = services.serial_list_upload(
        batch=cast.batches[key],
        user=cast.users["supplier_a" if key != "b_order" else "supplier_b"],
        uploaded_file=csv_file(counters, **kw),
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    return serial_list


def test_it_validates_a_list_into_a_report_and_exceptions(cast: Cast, rule: NumberingRule) -> None:
    serial_list = _upload_and_validate(cast, "own", FILE_WITH_FINDINGS, extra=["XX1", "VLT12"])
    assert serial_list.status == SerialList.Status.DONE and serial_list.progress == 100
    report = serial_list.report
    assert report["used_range"] == [1, 100]
    assert report["missing_ranges"] == [[51, 60]] and report["missing_count"] == 10
    assert [d["serial"] for d in report["duplicates"]] == ["VLT000017", "VLT000050"]
    assert report["malformed_count"] == 2 and report["reused_count"] == 0
    kinds = sorted(serial_list.exceptions.values_list("kind", flat=True))
    assert kinds == ["duplicate", "duplicate", "malformed", "missing"]
    # Stored by hash, never under the sender's name.
    assert serial_list.file.name == f"serial-lists/{serial_list.sha256[:2]}/{serial_list.sha256}"
    assert (
        AuditEvent.objects.filter(action="serial_list.validated", object_id=serial_list.pk).count()
        == 1
    )


def test_it_matches_the_engine_report(cast: Cast, rule: NumberingRule, tmp_path) -> None:
    serial_list = _upload_and_validate(cast, "own", FILE_WITH_FINDINGS)
    path = tmp_path / "same.csv"
    path.write_bytes(csv_file(FILE_WITH_FINDINGS).read())
    expected = engine.validate_file(path, engine.NumberingRule("VLT", 6), limit=1000).to_json()
    assert {k: serial_list.report[k] for k in expected} == expected


def test_running_the_job_twice_changes_nothing(cast: Cast, rule: NumberingRule) -> None:
    serial_list = _upload_and_validate(cast, "own", FILE_WITH_FINDINGS)
    before = (serial_list.report, serial_list.exceptions.count(), SerialRun.objects.count())
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert (serial_list.report, serial_list.exceptions.count(), SerialRun.objects.count()) == before
    assert serial_list.attempts == 1


def test_it_finds_serials_reused_from_another_batch(cast: Cast, rule: NumberingRule) -> None:
    first = _upload_and_validate(cast, "own", list(range(1, 101)))
    assert first.report["reused_count"] == 0
    services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    from orders import services as order_services

    cast.batches["own2"] = order_services.batch_create(
        order=cast.orders["own"], user=cast.users["buyer"], code="OWN-B2", planned_quantity=100
    )
    second = _upload_and_validate(cast, "own2", list(range(90, 131)))
    report = second.report
    assert report["reused_count"] == 11
    assert report["reused"][0] == {"serial": "VLT000090", "order": "PO-OWN", "batch": "OWN-B1"}
    reused = second.exceptions.get(kind=SerialException.Kind.REUSED)
    assert (reused.lo, reused.hi, reused.detail["state"]) == (90, 100, "accepted")


def test_it_finds_reuse_against_pending_lists_too(cast: Cast, rule: NumberingRule) -> None:
    _upload_and_validate(cast, "own", list(range(1, 101)))
    second = _upload_and_validate(cast, "b_order", [5, 6, 7, 500])
    assert second.report["reused_count"] == 3
    assert second.exceptions.get(kind="reused").detail["state"] == "pending"


def test_another_product_may_use_the_same_counters(cast: Cast, rule: NumberingRule) -> None:
    from orders import services as order_services

    order_services.order_update(
        order=cast.orders["b_order"], user=cast.users["buyer"], gtin="", sku="DRILL-1"
    )
    services.numbering_rule_save(
        user=cast.users["buyer"], product="DRILL-1", prefix="VLT", width=6, check_digit="none"
    )
    _upload_and_validate(cast, "own", list(range(1, 101)))
    services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    assert _upload_and_validate(cast, "b_order", list(range(1, 101))).report["reused_count"] == 0


def test_exceptions_are_answered_then_decided_before_acceptance(
    cast: Cast, rule: NumberingRule
) -> None:
    serial_list = _upload_and_validate(cast, "own", [*range(1, 11), *range(21, 31)])
    gap = serial_list.exceptions.get()
    buyer, supplier = cast.users["buyer"], cast.users["supplier_a"]
    with pytest.raises(ValidationError, match="exceptions open"):
        services.batch_serials_accept(batch=cast.batches["own"], user=buyer)
    with pytest.raises(PermissionDenied):
        services.exception_answer(exceptions=[gap], user=buyer, reason="test_scrap", note="x")
    with pytest.raises(ValidationError, match="no new answer"):
        services.exception_decide(
            exceptions=[gap], user=buyer, decision="accepted", promises=["identity"]
        )
    services.exception_answer(
        exceptions=[gap], user=supplier, reason="test_scrap", note="Scrapped at burn-in."
    )
    assert selectors.batch_serial_status(cast.batches["own"]) == "exceptions_answered"
    services.exception_decide(
        promises=["identity"],
        exceptions=[gap],
        user=buyer,
        decision="rejected",
        note="Show the scrap log.",
    )
    assert selectors.batch_serial_status(cast.batches["own"]) == "rejected"
    services.exception_answer(
        exceptions=[gap], user=supplier, reason="test_scrap", note="Scrap log attached."
    )
    services.exception_decide(
        exceptions=[gap], user=buyer, decision="accepted", promises=["identity"]
    )
    assert gap.answers.count() == 2 and gap.decisions.count() == 2  # nothing overwritten
    services.batch_serials_accept(batch=cast.batches["own"], user=buyer)
    assert selectors.batch_serial_status(cast.batches["own"]) == "accepted"
    assert SerialRun.objects.filter(accepted=True).count() == 2


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="exclusion constraints are PostgreSQL's"
)
def test_the_database_refuses_two_accepted_batches_sharing_a_serial(
    cast: Cast, rule: NumberingRule
) -> None:
    a = _upload_and_validate(cast, "own", list(range(1, 101)))
    b = _upload_and_validate(cast, "b_order", list(range(200, 301)))
    SerialRun.objects.filter(serial_list=a).update(accepted=True)
    run = SerialRun.objects.get(serial_list=b)
    with pytest.raises(IntegrityError), transaction.atomic():
        SerialRun.objects.create(
            scope=run.scope, lo=100, hi=100, batch=run.batch, serial_list=b, accepted=True
        )
    # Not accepted, the same overlap is allowed: pending lists may collide until reviewed.
    SerialRun.objects.create(scope=run.scope, lo=100, hi=100, batch=run.batch, serial_list=b)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # Bytes that pass the look at upload (text, a ZIP) but cannot be read as a list.
        (b"PK\x03\x04" + b"\0" * 100, ""),
        (b"serial\n" + b"VLT000001\n" * 1000 + b"\x00\x01\x02 binary", "binary data"),
        (b"serial\nVLT000001\nVLT\xe9\n", "not UTF-8 text"),
    ],
)
def test_unreadable_files_fail_with_a_message(
    cast: Cast, rule: NumberingRule, content: bytes, message: str
) -> None:
    serial_list = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("photo.csv", content),
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.status == SerialList.Status.FAILED
    assert serial_list.error.startswith("photo.csv: ") and message in serial_list.error
    assert serial_list.report is None and not serial_list.exceptions.exists()


NOT_SERIAL_LISTS = [
    ("label.jpg", None, "JPEG image data (image/jpeg)"),
    ("photo.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "(application/octet-stream)"),
    ("report.xlsx", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n", "PDF document (application/pdf)"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "application/x-ole-storage"),
    ("dump.csv", b"serial\nVLT000001\n\x00\x01\x02 binary", "data (application/octet-stream)"),
]


@pytest.mark.parametrize(("name", "content", "says"), NOT_SERIAL_LISTS)
def test_a_file_that_is_not_a_serial_list_is_refused_at_upload_and_nothing_is_kept(
    cast: Cast, rule: NumberingRule, name: str, content: bytes | None, says: str
) -> None:
    from django.core.files.storage import default_storage

    from tests.evidence.conftest import jpeg

    def file() -> SimpleUploadedFile:
        return jpeg(name) if content is None else SimpleUploadedFile(name, content)

    batch = cast.batches["own"]
    events = AuditEvent.objects.count()
    api = cast.api("supplier_a")
    answer = api.post(
        reverse("api-batch-serial-lists", args=[batch.pk]), {"file": file(), "kind": "production"}
    )
    assert answer.status_code == 400, answer.content
    message = str(answer.json())
    assert f"{name} is not a serial list: its bytes are" in message and says in message
    assert "CSV or TXT text, or an XLSX workbook" in message
    page = cast.client("supplier_a").post(
        reverse("serial-list-upload", args=[batch.pk]),
        {"file": file(), "kind": "production"},
        follow=True,
    )
    assert page.redirect_chain == [(reverse("batch-detail", args=[batch.pk]), 302)]
    assert f"{name} is not a serial list" in html.unescape(page.content.decode())
    assert not SerialList.objects.exists() and AuditEvent.objects.count() == events
    assert not default_storage.exists("serial-lists")


def test_text_and_workbooks_pass_the_look_at_upload(cast: Cast, rule: NumberingRule) -> None:
    import io

    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["serial"])
    workbook.active.append(["VLT000001"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    files = {
        "list.xlsx": buffer.getvalue(),
        "bom.csv": b"\xef\xbb\xbfserial\r\nVLT000001\r\n",
        "utf16.txt": "serial\nVLT000001\n".encode("utf-16"),
        "columns.csv": b"serial,carton\nVLT000001,C1\n",
    }
    for name, content in files.items():
        serial_list = services.serial_list_upload(
            batch=cast.batches["own"],
            user=cast.users["supplier_a"],
            uploaded_file=SimpleUploadedFile(name, content),
        )
        services.serial_list_validate(serial_list_id=serial_list.pk)
        serial_list.refresh_from_db()
        assert serial_list.status == SerialList.Status.DONE, (name, serial_list.error)
        assert serial_list.report["unique"] == 1


def test_the_api_refuses_bad_uploads_up_front(cast: Cast, rule: NumberingRule) -> None:
    api = cast.api("supplier_a")
    url = reverse("api-batch-serial-lists", args=[cast.batches["own"].pk])
    empty = api.post(url, {"file": SimpleUploadedFile("empty.csv", b""), "kind": "production"})
    assert empty.status_code == 400 and "empty.csv is empty" in str(empty.json())
    wrong_kind = api.post(url, {"file": csv_file([1]), "kind": "invoice"})
    assert wrong_kind.status_code == 400 and "kind" in wrong_kind.json()
    missing = api.post(url, {"kind": "production"})
    assert missing.status_code == 400 and "file" in missing.json()
    assert not SerialList.objects.exists()


def test_an_api_upload_answers_202_with_a_plain_string_location(
    cast: Cast, rule: NumberingRule
) -> None:
    # A strict WSGI server (wsgiref, the live server the pages' upload script meets in the
    # browser tests) answers 500 on a header value that is a str subclass, after storing the list.
    url = reverse("api-batch-serial-lists", args=[cast.batches["own"].pk])
    response = cast.api("supplier_a").post(url, {"file": csv_file([1]), "kind": "production"})
    assert response.status_code == 202, response.content
    assert type(response.headers["Location"]) is str
    assert response.headers["Location"] == response.json()["url"]


def test_the_api_needs_a_numbering_rule_first(cast: Cast) -> None:
    response = cast.api("supplier_a").post(
        reverse("api-batch-serial-lists", args=[cast.batches["own"].pk]), {"file": csv_file([1])}
    )
    assert response.status_code == 400
    assert "no numbering rule for GTIN 05012345678900" in str(response.json())


def test_an_allocated_range_is_what_a_list_is_held_against(cast: Cast, rule: NumberingRule) -> None:
    order, buyer = cast.orders["own"], cast.users["buyer"]
    services.allocated_range_set(
        user=buyer, order=order, first_serial="VLT000001", last_serial="VLT000200"
    )
    serial_list = _upload_and_validate(cast, "own", [*range(1, 101), 250])
    assert serial_list.report["expected_range"] == [1, 200]
    assert serial_list.report["missing_count"] == 100
    assert serial_list.report["out_of_range"] == [{"line": 102, "serial": "VLT000250"}]
    out = serial_list.exceptions.get(kind="out_of_range")
    assert "allocated to the order" in out.summary
    # A batch allocation is narrower and wins; the order's stays on file.
    services.allocated_range_set(
        user=buyer,
        order=order,
        batch=cast.batches["own"],
        first_serial="vlt000001",
        last_serial="VLT000100",
    )
    again = _upload_and_validate(cast, "own", [*range(1, 101), 250])
    assert again.report["expected_range"] == [1, 100] and again.report["missing_count"] == 0
    assert order.allocations.count() == 2


def test_an_allocation_must_follow_the_rule(cast: Cast, rule: NumberingRule) -> None:
    with pytest.raises(ValidationError) as error:
        services.allocated_range_set(
            user=cast.users["buyer"],
            order=cast.orders["own"],
            first_serial="ABC1",
            last_serial="VLT000001",
        )
    assert "does not follow VLT######" in str(error.value)
    with pytest.raises(ValidationError, match="comes before"):
        services.allocated_range_set(
            user=cast.users["buyer"],
            order=cast.orders["own"],
            first_serial="VLT000009",
            last_serial="VLT000001",
        )
    with pytest.raises(PermissionDenied):
        services.allocated_range_set(
            user=cast.users["other_buyer"],
            order=cast.orders["own"],
            first_serial="VLT000001",
            last_serial="VLT000009",
        )


def test_reuse_never_names_another_supplier_s_order(cast: Cast, rule: NumberingRule) -> None:
    _upload_and_validate(cast, "b_order", [1, 2, 3])  # supplier B's batch
    mine = _upload_and_validate(cast, "own", [1, 2, 3])  # supplier A's
    assert mine.report["reused_count"] == 3
    text = str(mine.report) + " ".join(e.summary + str(e.detail) for e in mine.exceptions.all())
    assert "PO-BEE" not in text and "B_ORDER-B1" not in text
    assert "(another supplier)" in text


def test_a_carton_list_does_not_take_the_production_list_s_place(
    cast: Cast, rule: NumberingRule
) -> None:
    _upload_and_validate(cast, "own", [1, 2, 3])
    carton = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=csv_file([1, 2, 3]),
        kind="carton",
    )
    services.serial_list_validate(serial_list_id=carton.pk)
    services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    assert SerialRun.objects.filter(accepted=True, lo=1, hi=3).count() == 1
    with pytest.raises(ValidationError, match="already accepted"):
        services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])


def test_only_the_buyer_learns_which_other_supplier_s_batch_holds_the_serials(
    cast: Cast, rule: NumberingRule
) -> None:
    _upload_and_validate(cast, "b_order", [1, 2, 3])
    _upload_and_validate(cast, "own", [1, 2, 3])
    url = reverse("batch-exceptions", args=[cast.batches["own"].pk])
    buyer_page = cast.client("buyer").get(url).content.decode()
    supplier_page = cast.client("supplier_a").get(url).content.decode()
    assert "Buyer only" in buyer_page and "PO-BEE" in buyer_page
    assert "PO-BEE" not in supplier_page and "B_ORDER-B1" not in supplier_page
    api = cast.api("supplier_a").get(reverse("api-batch-exceptions", args=[cast.batches["own"].pk]))
    assert "PO-BEE" not in api.content.decode()


def test_a_new_list_replaces_the_old_list_s_exceptions_on_the_page(
    cast: Cast, rule: NumberingRule
) -> None:
    _upload_and_validate(cast, "own", [1, 5])
    _upload_and_validate(cast, "own", [1, 2, 3, 4, 5])
    page = cast.client("buyer").get(reverse("batch-exceptions", args=[cast.batches["own"].pk]))
    body = page.content.decode().lower().split("<tbody")[1].split("</tbody>")[0]
    assert "missing" not in body
    batch_page = cast.client("buyer").get(reverse("batch-detail", args=[cast.batches["own"].pk]))
    assert "wait for the supplier" not in batch_page.content.decode()
    assert selectors.batch_serial_status(cast.batches["own"]) == "clean"


def test_the_exception_filter_does_not_tell_foreign_lists_from_missing_ones(
    cast_with_lists: Cast,
) -> None:
    cast = cast_with_lists
    url = reverse("api-batch-exceptions", args=[cast.batches["own"].pk])
    api = cast.api("supplier_b")
    assert api.get(url).status_code == 404
    api = cast.api("supplier_a")
    foreign = api.get(url, {"serial_list": cast.serial_lists["b_order"].pk})
    missing = api.get(url, {"serial_list": 987654})
    assert foreign.status_code == missing.status_code == 200
    assert foreign.json()["count"] == missing.json()["count"] == 0


def test_a_batch_is_held_against_its_declared_share_of_the_order_allocation(
    cast: Cast, rule: NumberingRule
) -> None:
    order, buyer, batch = cast.orders["own"], cast.users["buyer"], cast.batches["own"]
    services.allocated_range_set(
        user=buyer, order=order, first_serial="VLT000001", last_serial="VLT000200"
    )
    batch.declared_first_serial, batch.declared_last_serial = "VLT000001", "VLT000100"
    batch.save()
    serial_list = _upload_and_validate(cast, "own", [*range(1, 100), 150])
    # The other batches' share (101–200) is not "missing" from this one.
    assert serial_list.report["expected_range"] == [1, 100]
    assert serial_list.report["missing_count"] == 1
    out = serial_list.exceptions.get(kind="out_of_range")
    assert "declared for the batch in the allocation" in out.summary
    # A declared range reaching outside the allocation is not trusted.
    batch.declared_last_serial = "VLT000300"
    batch.save()
    again = _upload_and_validate(cast, "own", [*range(1, 100), 150])
    assert again.report["expected_range"] == [1, 200]
