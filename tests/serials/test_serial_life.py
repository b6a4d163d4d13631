"""A serial's life: returned, destroyed and decommissioned recorded with who, when, why and their
proof (append-only); a destroyed or decommissioned serial is refused by the registry for good,
on PostgreSQL by the database itself, whatever path tries to accept it."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse

from orders import services as order_services
from portal.bulk import bulk_insert
from portal.models import AuditEvent
from serials import selectors, services
from serials.models import NumberingRule, SerialCode, SerialLifeEvent, SerialList, SerialRun
from tests.conftest import HANG_GUARD_SECONDS, ORDER_KEYS, ROLES, VISIBLE, Cast
from tests.serials.conftest import csv_file

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the guard is PostgreSQL's triggers"
)
RECORDERS = {"buyer", "admin", "other_buyer"}  # destroyed and decommissioned
RETURNS = RECORDERS | {"service"}  # returned
READERS = {"buyer", "finance", "service", "admin", "other_buyer"}  # the buyer's staff


def _validated(cast: Cast, key: str, counters: list[int]) -> SerialList:
    serial_list = services.serial_list_upload(
        batch=cast.batches[key],
        user=cast.users["supplier_a" if key != "b_order" else "supplier_b"],
        uploaded_file=csv_file(counters),
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    return serial_list


def _pdf() -> SimpleUploadedFile:
    from tests.documents import pdf_document

    return SimpleUploadedFile(
        "certificate.pdf", pdf_document("destruction certificate"), "application/pdf"
    )


def _destroy(cast: Cast, first: str, last: str = "", key: str = "own", **kw: object) -> object:
    values: dict = {"reason": "Reel crushed in the label printer.", "reference": "DC-2026-114"}
    values.update(kw)
    return services.serial_life_record(
        batch=cast.batches[key],
        user=cast.users["buyer"],
        state="destroyed",
        first_serial=first,
        last_serial=last,
        **values,
    )


def test_it_records_a_range_with_who_when_why_and_its_stored_proof(
    cast: Cast, rule: NumberingRule
) -> None:
    event = _destroy(cast, "vlt000010", "VLT000509", proof=_pdf(), reference="")
    assert isinstance(event, SerialLifeEvent)
    assert (event.counter_lo, event.counter_hi, event.count) == (10, 509, 500)
    assert (event.first_serial, event.last_serial) == ("VLT000010", "VLT000509")
    assert event.scope == f"{cast.orders['own'].buyer_id}:05012345678900"
    assert event.recorded_by == cast.users["buyer"] and event.recorded_at is not None
    # Stored by its hash, never under the sender's name.
    assert event.file.name == f"serial-life/{event.sha256[:2]}/{event.sha256}"
    assert default_storage.exists(event.file.name) and event.original_name == "certificate.pdf"
    audit = AuditEvent.objects.get(action="serial_life.recorded", object_id=str(event.pk))
    assert audit.payload["count"] == 500 and audit.payload["sha256"] == event.sha256
    assert audit.actor == cast.users["buyer"]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"first_serial": "XX000001"}, "does not fit VLT######: letter X at position 1"),
        ({"first_serial": "VLT000009", "last_serial": "VLT000001"}, "comes before the first"),
        ({"reason": "   "}, "Say why"),
        ({"reference": ""}, "Name the record that proves it"),
        ({"state": "lost"}, "Choose what happened"),
    ],
)
def test_it_refuses_what_it_cannot_read_naming_the_field(
    cast: Cast, rule: NumberingRule, fields: dict, error: str
) -> None:
    values = {
        "batch": cast.batches["own"],
        "user": cast.users["buyer"],
        "state": "destroyed",
        "first_serial": "VLT000001",
        "reason": "Crushed.",
        "reference": "DC-1",
        **fields,
    }
    with pytest.raises(ValidationError, match=error):
        services.serial_life_record(**values)
    assert not SerialLifeEvent.objects.exists()


def test_customer_service_records_returns_only_and_suppliers_nothing(
    cast: Cast, rule: NumberingRule
) -> None:
    batch = cast.batches["own"]
    common = {"batch": batch, "first_serial": "VLT000001", "reason": "x", "reference": "RMA-1"}
    services.serial_life_record(user=cast.users["service"], state="returned", **common)
    for role, state in [
        ("service", "destroyed"),
        ("service", "decommissioned"),
        ("finance", "returned"),
        ("supplier_a", "returned"),
        ("supplier_a", "destroyed"),
        ("inspector", "destroyed"),
    ]:
        with pytest.raises(PermissionDenied):
            services.serial_life_record(user=cast.users[role], state=state, **common)
    assert SerialLifeEvent.objects.count() == 1


def test_a_destroyed_serial_cannot_be_accepted_and_the_refusal_names_it(
    cast: Cast, rule: NumberingRule
) -> None:
    serial_list = _validated(cast, "own", list(range(1, 101)))
    _destroy(cast, "VLT000050")
    with pytest.raises(ValidationError, match=r"VLT000050 \(reported destroyed on .* by "):
        services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    assert not SerialRun.objects.filter(serial_list=serial_list, accepted=True).exists()
    assert selectors.batch_serial_status(cast.batches["own"]) != "accepted"


def test_a_returned_serial_and_serials_beside_a_destroyed_range_are_accepted(
    cast: Cast, rule: NumberingRule
) -> None:
    _validated(cast, "own", list(range(1, 101)))
    services.serial_life_record(
        batch=cast.batches["own"],
        user=cast.users["service"],
        state="returned",
        first_serial="VLT000050",
        reason="Customer returned it: dead on arrival.",
        reference="RMA-77",
    )
    _destroy(cast, "VLT000101", "VLT000200")  # the next reel, never in this list
    services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    assert selectors.batch_serial_status(cast.batches["own"]) == "accepted"


def test_a_new_list_holding_a_destroyed_serial_says_so_loudly(
    cast: Cast, rule: NumberingRule
) -> None:
    _destroy(cast, "VLT000050", "VLT000059", key="b_order")  # another supplier's batch
    serial_list = _validated(cast, "own", list(range(1, 101)))
    destroyed = serial_list.exceptions.get(kind="reused")
    assert destroyed.detail["state"] == "destroyed" and destroyed.count == 10
    assert destroyed.summary.startswith(
        "10 serials VLT000050 – VLT000059 were reported destroyed or decommissioned on "
    )
    assert "not genuine" in destroyed.summary
    assert serial_list.report["reused_count"] == 10
    # Another supplier's order is not named to this supplier.
    assert cast.orders["b_order"].number not in str(serial_list.report)
    assert selectors.batch_serial_status(cast.batches["own"]) != "accepted"


@postgres_only
def test_the_database_refuses_every_other_path_to_accept_a_destroyed_serial(
    cast: Cast, rule: NumberingRule
) -> None:
    serial_list = _validated(cast, "own", list(range(1, 101)))
    _destroy(cast, "VLT000100", "VLT000140")
    runs = SerialRun.objects.filter(serial_list=serial_list)
    run = runs.get()
    refused = pytest.raises(IntegrityError, match="can never|cannot be accepted again")
    with refused, transaction.atomic():  # the ORM
        runs.update(accepted=True)
    with refused, transaction.atomic():  # one row's save
        run.accepted = True
        run.save()
    with refused, transaction.atomic(), connection.cursor() as cursor:  # raw SQL
        cursor.execute("UPDATE serials_serialrun SET accepted = true WHERE id = %s", [run.pk])
    fields = ("scope", "lo", "hi", "batch_id", "serial_list_id", "accepted")
    row = (run.scope, 120, 130, run.batch_id, serial_list.pk, True)
    with refused, transaction.atomic():  # a bulk insert (COPY on PostgreSQL)
        bulk_insert(SerialRun, fields, [row])
    with refused, transaction.atomic():  # bulk_create
        SerialRun.objects.bulk_create([SerialRun(**dict(zip(fields, row, strict=True)))])
    with refused, transaction.atomic(), connection.cursor() as cursor:  # raw SQL insert
        cursor.execute(
            "INSERT INTO serials_serialrun (scope, lo, hi, batch_id, serial_list_id, accepted) "
            "VALUES (%s, %s, %s, %s, %s, true)",
            list(row[:5]),
        )
    assert not SerialRun.objects.filter(accepted=True).exists()
    # Beside the destroyed range, and pending (every upload), rows are written as before.
    bulk_insert(SerialRun, fields, [(run.scope, 141, 150, run.batch_id, serial_list.pk, True)])
    bulk_insert(SerialRun, fields, [(run.scope, 100, 140, run.batch_id, serial_list.pk, False)])
    # Another product's scope is another product: the same counters are accepted there.
    bulk_insert(SerialRun, fields, [("other:scope", 100, 140, run.batch_id, serial_list.pk, True)])


@postgres_only
def test_the_database_refuses_a_destroyed_code(cast: Cast) -> None:
    from tests.serials.test_serial_codes import ALLOCATED, _codes

    services.numbering_rule_save(
        user=cast.users["buyer"], product="05012345678900", kind="allocated_codes"
    )
    services.allocated_code_list_upload(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        uploaded_file=_codes("allocated.csv", ALLOCATED),
    )
    serial_list = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=_codes("used.csv", ALLOCATED),
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    with pytest.raises(ValidationError, match="one by one"):
        _destroy(cast, ALLOCATED[0], ALLOCATED[1])
    _destroy(cast, ALLOCATED[2].lower(), reason="Label torn off in the warehouse.")
    with pytest.raises(ValidationError, match=ALLOCATED[2]):
        services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    # A list uploaded after the event says so at once: a reuse nobody can explain away.
    again = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=_codes("used-again.csv", ALLOCATED),
    )
    services.serial_list_validate(serial_list_id=again.pk)
    flagged = SerialList.objects.get(pk=again.pk).exceptions.get(kind="reused")
    assert flagged.detail == {"first": [ALLOCATED[2]], "state": "destroyed"}
    assert "reported destroyed or decommissioned" in flagged.summary
    serial_list = again
    with pytest.raises(IntegrityError, match="cannot be accepted again"), transaction.atomic():
        SerialCode.objects.filter(serial_list__pk=serial_list.pk).update(accepted=True)
    SerialCode.objects.filter(serial_list__pk=serial_list.pk).exclude(code=ALLOCATED[2]).update(
        accepted=True
    )


@postgres_only
def test_the_accept_page_refuses_a_destroyed_serial_with_its_name(
    cast: Cast, rule: NumberingRule
) -> None:
    serial_list = _validated(cast, "own", list(range(1, 101)))
    _destroy(cast, "VLT000007")
    response = cast.client("buyer").post(
        reverse("batch-serials-accept", args=[cast.batches["own"].pk]), follow=True
    )
    assert "VLT000007 (reported destroyed on" in response.content.decode()
    assert not SerialRun.objects.filter(serial_list=serial_list, accepted=True).exists()


@postgres_only
def test_events_are_append_only(cast: Cast, rule: NumberingRule) -> None:
    event = _destroy(cast, "VLT000001")
    rows = SerialLifeEvent.objects.filter(pk=event.pk)
    for change in (lambda: rows.update(reason="typo"), rows.delete):
        with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
            change()
    with pytest.raises(IntegrityError), transaction.atomic():  # neither a range nor a code
        SerialLifeEvent.objects.create(
            scope=event.scope,
            batch=event.batch,
            first_serial="X",
            last_serial="X",
            state="destroyed",
            reason="x",
            recorded_by=event.recorded_by,
        )


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_acceptance_waiting_on_a_destroy_sees_it_once_committed(
    cast: Cast, rule: NumberingRule
) -> None:
    """One lock per scope, taken by recording and by accepting: an acceptance that starts while
    a destroy is being recorded waits for it, then is refused."""
    serial_list = _validated(cast, "own", list(range(1, 101)))
    recorded, release = threading.Event(), threading.Event()
    outcome: list[str] = []

    def destroy() -> None:
        try:
            with transaction.atomic():
                _destroy(cast, "VLT000042")
                recorded.set()
                release.wait(10)
        finally:
            connection.close()

    def accept() -> None:
        try:
            recorded.wait(10)
            with transaction.atomic():
                SerialRun.objects.filter(serial_list_id=serial_list.pk).update(accepted=True)
            outcome.append("accepted")
        except IntegrityError as error:
            outcome.append(str(error).split("\n")[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=destroy), threading.Thread(target=accept)]
    for thread in threads:
        thread.start()
    recorded.wait(10)
    time.sleep(0.5)  # let the acceptance reach the lock (an order of events, not a timing test)
    assert outcome == []  # it waits for the destroy's transaction
    release.set()
    for thread in threads:
        thread.join(20)
    assert len(outcome) == 1 and "cannot be accepted again" in outcome[0]
    assert not SerialRun.objects.filter(accepted=True).exists()


def _post(cast: Cast, role: str, key: str, **fields: object) -> object:
    values = {
        "state": "returned",
        "first_serial": "VLT000001",
        "reason": "Returned by the customer.",
        "reference": "RMA-9",
        "confirm": "on",
        **fields,
    }
    return cast.client(role).post(reverse("batch-serial-life", args=[cast.batches[key].pk]), values)


def test_the_page_records_per_role_own_and_foreign(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    wrong = []
    for role in ROLES:
        for key in ORDER_KEYS:
            before = SerialLifeEvent.objects.count()
            response = _post(cast, role, key, state="destroyed")
            returned = _post(cast, role, key)
            if key not in VISIBLE[role]:
                expected = (404, 404)
            else:
                expected = (
                    302 if role in RECORDERS else 403,
                    302 if role in RETURNS else 403,
                )
            got = (response.status_code, returned.status_code)
            if got != expected:
                wrong.append((role, key, got, expected))
            written = SerialLifeEvent.objects.count() - before
            if written != sum(status == 302 for status in expected):
                wrong.append((role, key, "wrote", written))
    assert wrong == []


def test_the_page_asks_for_confirmation_and_names_bad_fields(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    unconfirmed = _post(cast, "buyer", "own", confirm="")
    assert unconfirmed.status_code == 400 and not SerialLifeEvent.objects.exists()
    assert "cannot be undone" in unconfirmed.content.decode()
    bad = _post(cast, "buyer", "own", first_serial="NOPE1")
    assert bad.status_code == 400 and "NOPE1 does not fit VLT######" in bad.content.decode()
    page = cast.client("service").get(
        reverse("batch-serial-life", args=[cast.batches["own"].pk]) + "?serial=VLT000003"
    )
    body = page.content.decode()
    assert page.status_code == 200 and 'value="VLT000003"' in body
    assert 'value="destroyed"' not in body  # customer service records returns only
    finance = cast.client("finance").get(
        reverse("batch-serial-life", args=[cast.batches["own"].pk])
    )
    assert finance.status_code == 200 and "multipart/form-data" not in finance.content.decode()


def test_the_proof_is_served_to_the_buyer_s_staff_who_see_its_batch(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    events = {
        key: services.serial_life_record(
            batch=cast.batches[key],
            user=cast.users["buyer" if key != "foreign" else "other_buyer"],
            state="destroyed",
            first_serial="VLT000002",
            reason="Crushed.",
            proof=_pdf(),
        )
        for key in ORDER_KEYS
    }
    wrong = []
    for role in ROLES:
        for key in ORDER_KEYS:
            response = cast.client(role).get(reverse("serial-life-file", args=[events[key].pk]))
            expected = 200 if key in VISIBLE[role] and role in READERS else 404
            if response.status_code != expected:
                wrong.append((role, key, response.status_code, expected))
            elif expected == 200:
                assert response["Content-Disposition"].startswith("attachment")
                assert response["X-Content-Type-Options"] == "nosniff"
    assert wrong == []
    anonymous = cast.client(None).get(reverse("serial-life-file", args=[events["own"].pk]))
    assert anonymous.status_code == 302


def test_a_gtin_written_another_way_is_the_same_registry(cast: Cast) -> None:
    """5012345678900 and 05012345678900 are one GTIN: a rule or an order written the other way
    takes the writing already in use, so a destroyed serial stays refused."""
    rule = services.numbering_rule_save(
        user=cast.users["buyer"], product="05012345678900", prefix="VLT", width=6
    )
    again = services.numbering_rule_save(
        user=cast.users["buyer"], product="5012345678900", prefix="VLT", width=6, note="edited"
    )
    assert again.pk == rule.pk and NumberingRule.objects.count() == 1
    order = order_services.order_create(
        user=cast.users["buyer"],
        supplier=cast.organisations["supplier_a"],
        number="PO-13DIGITS",
        product_name="Volta 65W charger",
        quantity=100,
        order_date=datetime.date(2026, 11, 1),
        required_by=datetime.date(2026, 12, 1),
        gtin="5012345678900",
        status="issued",
    )
    assert order.gtin == "05012345678900"
    assert order_services.order_update(
        order=order, user=cast.users["buyer"], gtin="5012345678900"
    ).gtin == ("05012345678900")
    _destroy(cast, "VLT000050")
    batch = order_services.batch_create(
        order=order, user=cast.users["buyer"], code="Z1", planned_quantity=10
    )
    serial_list = services.serial_list_upload(
        batch=batch, user=cast.users["supplier_a"], uploaded_file=csv_file(list(range(45, 55)))
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    destroyed = serial_list.exceptions.get(kind="reused")
    assert destroyed.detail["state"] == "destroyed" and "VLT000050" in destroyed.summary
    # A GTIN nobody here writes yet keeps the writing given.
    other = services.numbering_rule_save(
        user=cast.users["buyer"], product="4006381333931", prefix="EW", width=6
    )
    assert other.product == "4006381333931"


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "allocated_codes", "prefix": "", "width": None},
        {"prefix": "VLX"},
        {"width": 7},
        {"check_digit": "luhn"},
    ],
)
def test_the_pattern_of_a_product_with_a_life_or_registered_serials_stays(
    cast: Cast, rule: NumberingRule, change: dict
) -> None:
    """Codes or a new width would read the registry's counters and the destroyed events
    otherwise: a destroyed serial could come back as a code no event names."""
    values = {"user": cast.users["buyer"], "product": rule.product, "prefix": "VLT", "width": 6}
    services.numbering_rule_save(**values, warranty_months=24)  # the pattern unchanged: fine
    _destroy(cast, "VLT000005")
    with pytest.raises(ValidationError, match="cannot change"):
        services.numbering_rule_save(**{**values, **change})
    rule.refresh_from_db()
    assert (rule.kind, rule.prefix, rule.width) == ("sequential", "VLT", 6)


def test_the_rules_page_and_api_say_why_the_pattern_stays(cast: Cast, rule: NumberingRule) -> None:
    _destroy(cast, "VLT000005")
    values = {
        "product": rule.product,
        "kind": "sequential",
        "prefix": "VLT",
        "width": 7,
        "check_digit": "none",
    }
    api = cast.api("buyer").post(reverse("api-numbering-rules"), values, format="json")
    assert api.status_code == 400 and "cannot change" in str(api.json())
    page = cast.client("buyer").post(reverse("numbering-rules"), values)
    assert page.status_code in (200, 400) and "cannot change" in page.content.decode()
    rule.refresh_from_db()
    assert rule.width == 6


def test_a_gtin_in_other_digits_is_refused_and_a_sku_has_one_writing(cast: Cast) -> None:
    """Full-width digits pass a GTIN's check digit but would be another registry; a SKU in
    another case takes the writing in use."""
    with pytest.raises(ValidationError, match="digits 0 to 9"):
        services.numbering_rule_save(
            user=cast.users["buyer"], product="０５０１２３４５６７８９００", prefix="VLT", width=6
        )
    with pytest.raises(ValidationError, match="digits 0 to 9"):
        order_services.order_update(
            order=cast.orders["own"], user=cast.users["buyer"], gtin="０５０１２３４５６７８９００"
        )
    rule = services.numbering_rule_save(
        user=cast.users["buyer"], product="SKU-Z", prefix="SZ", width=4
    )
    again = services.numbering_rule_save(
        user=cast.users["buyer"], product="sku-z ", prefix="SZ", width=4, note="edited"
    )
    assert again.pk == rule.pk and again.product == "SKU-Z"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_writings_saved_at_the_same_moment_agree(cast: Cast) -> None:
    """The product's lock: while one transaction saves the rule "05012345678900", another
    saving "5012345678900" waits for it, then takes that writing (one rule, no 500)."""
    saved_first, release = threading.Event(), threading.Event()
    products: dict[str, str] = {}
    errors: list[BaseException] = []

    def save(user: str, product: str, hold: bool) -> None:
        try:
            with transaction.atomic():
                rule = services.numbering_rule_save(
                    user=cast.users[user], product=product, prefix="VLT", width=6
                )
                products[user] = rule.product
                if hold:
                    saved_first.set()
                    release.wait(HANG_GUARD_SECONDS)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
            saved_first.set()
        finally:
            connection.close()

    first = threading.Thread(target=save, args=("buyer", "05012345678900", True))
    first.start()
    assert saved_first.wait(HANG_GUARD_SECONDS)
    second = threading.Thread(target=save, args=("admin", "5012345678900", False))
    second.start()
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    with connection.cursor() as cursor:  # the second save waits on the product's lock
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            if cursor.fetchone()[0] or errors:
                break
            assert time.monotonic() < deadline, "the second save never waited"
            time.sleep(0.02)
    release.set()
    first.join(HANG_GUARD_SECONDS)
    second.join(HANG_GUARD_SECONDS)
    assert errors == []
    assert products == {"buyer": "05012345678900", "admin": "05012345678900"}
    assert NumberingRule.objects.filter(buyer=cast.organisations["buyer"]).count() == 1


def test_an_order_s_product_stays_once_its_lists_are_registered(
    cast: Cast, rule: NumberingRule
) -> None:
    _validated(cast, "own", list(range(1, 21)))
    with pytest.raises(ValidationError, match="serial lists are registered under it"):
        order_services.order_update(
            order=cast.orders["own"], user=cast.users["buyer"], gtin="04006381333931"
        )


def test_a_range_reaching_into_another_batch_is_recorded_part_by_part(
    cast: Cast, rule: NumberingRule
) -> None:
    _validated(cast, "own", list(range(1, 21)))
    _validated(cast, "b_order", list(range(21, 41)))
    with pytest.raises(ValidationError, match="record that batch's part"):
        _destroy(cast, "VLT000015", "VLT000025", key="b_order")
    _destroy(cast, "VLT000021", "VLT000025", key="b_order")  # its own part: fine
    _destroy(cast, "VLT000015", "VLT000020")
    assert SerialLifeEvent.objects.count() == 2
