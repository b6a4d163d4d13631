"""Narrow signed approvals and the gates they open."""

from __future__ import annotations

import re
import threading
from typing import Any

import pgtrigger
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from approvals import services as approvals
from approvals.models import Approval, Gate, Signature
from evidence import services as evidence_services
from evidence.selectors import freshness_flags
from portal.errors import Conflict
from portal.models import AuditEvent
from serials import services as serial_services
from tests.conftest import PASSWORD, TEST_FACTOR, Cast, signing_request, totp_code
from tests.documents import pdf_document
from tests.evidence.conftest import jpeg

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


@pytest.fixture
def setup(cast: Cast) -> dict[str, Any]:
    buyer = cast.users["buyer"]
    photo = evidence_services.evidence_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        kind="label_print",
        uploaded_file=jpeg("label.jpg", captured="2026:11:03 09:00:00"),
    )
    gate = approvals.gate_create(
        user=buyer, order=cast.orders["own"], batch=cast.batches["own"], kind="shipment_release"
    )
    other_gate = approvals.gate_create(
        user=buyer, order=cast.orders["b_order"], batch=cast.batches["b_order"], kind="balance"
    )
    return {"photo": photo, "gate": gate, "other_gate": other_gate}


def _sign(cast: Cast, setup: dict[str, Any], **overrides: Any) -> Approval:
    values: dict[str, Any] = {
        "user": cast.users["buyer"],
        "password": PASSWORD,
        "request": signing_request(),
        "factor": TEST_FACTOR,
        "order": cast.orders["own"],
        "batch": cast.batches["own"],
        "decision": "accepted",
        "promises": ["identity", "payment"],
        "sentence": "Batch OWN-B1's labels as photographed may ship.",
        "pins": [("evidence", setup["photo"].pk)],
        "unlocks": [setup["gate"]],
    }
    values.update(overrides)
    return approvals.approval_sign(**values)


def test_a_signed_approval_opens_its_gate(cast: Cast, setup: dict[str, Any]) -> None:
    assert approvals.gate_state(setup["gate"]).state == "blocked"
    approval = _sign(cast, setup)
    state = approvals.gate_state(setup["gate"])
    assert (state.state, state.approval) == ("open", approval)
    signature = approval.signature
    assert signature.printed_name == "Buyer" and "Accepted" in signature.meaning
    assert signature.manifest_sha256 == approval.manifest_sha256
    assert approvals.signature_intact(approval)
    assert approval.manifest["pins"][0]["fingerprint"] == f"sha256:{setup['photo'].sha256}"
    assert AuditEvent.objects.filter(action="approval.signed", object_id=approval.pk).exists()


def test_signing_needs_the_password(cast: Cast, setup: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="not your password"):
        _sign(cast, setup, password="guess")
    assert not Approval.objects.exists() and not Signature.objects.exists()


def test_only_the_buyer_signs(cast: Cast, setup: dict[str, Any]) -> None:
    for role in ("supplier_a", "finance", "inspector"):
        with pytest.raises(PermissionDenied):
            _sign(cast, setup, user=cast.users[role])


def test_an_approval_cannot_widen_past_what_it_pins(cast: Cast, setup: dict[str, Any]) -> None:
    foreign_photo = evidence_services.evidence_upload(
        batch=cast.batches["b_order"],
        user=cast.users["supplier_b"],
        kind="photo",
        uploaded_file=jpeg("other.jpg", colour="red"),
    )
    with pytest.raises(ValidationError, match="covers only its own batch; there is no"):
        _sign(cast, setup, pins=[("evidence", foreign_photo.pk)])
    with pytest.raises(ValidationError, match="only the gates of its own batch"):
        _sign(cast, setup, unlocks=[setup["gate"], setup["other_gate"]])
    order_gate = approvals.gate_create(
        user=cast.users["buyer"], order=cast.orders["own"], kind="balance"
    )
    with pytest.raises(ValidationError, match="only the gates of its own batch"):
        _sign(cast, setup, unlocks=[order_gate])  # an order's gate is wider than a batch
    with pytest.raises(ValidationError, match="Pin what you reviewed"):
        _sign(cast, setup, pins=[])
    with pytest.raises(ValidationError, match="A rejection opens no gate"):
        _sign(cast, setup, decision="rejected")
    assert not Approval.objects.exists()


def test_open_exceptions_block_accepted_unless_named(cast: Cast, setup: dict[str, Any]) -> None:
    serial_services.numbering_rule_save(
        user=cast.users["buyer"],
        product="05012345678900",
        prefix="VLT",
        width=6,
        check_digit="none",
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    serial_list = serial_services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("s.csv", b"serial\nVLT000001\nVLT000004\n"),
    )
    serial_services.serial_list_validate(serial_list_id=serial_list.pk)
    gap = serial_list.exceptions.get()
    pins = [("evidence", setup["photo"].pk), ("serial_list", serial_list.pk)]
    with pytest.raises(ValidationError, match="not accepted"):
        _sign(cast, setup, pins=pins)
    with pytest.raises(ValidationError, match="must name every open exception"):
        _sign(
            cast,
            setup,
            pins=pins,
            decision="accepted_with_conditions",
            conditions="Ship; the gap is explained before the balance.",
        )
    approval = _sign(
        cast,
        setup,
        pins=[*pins, ("exception", gap.pk)],
        decision="accepted_with_conditions",
        conditions="Ship; the supplier explains the gap VLT000002–3 before balance.",
    )
    assert approvals.gate_state(setup["gate"]).state == "open"
    # A new serial list for the batch makes the approval stale.
    serial_services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("s2.csv", b"serial\nVLT000001\n"),
    )
    assert approval.staleness.exists()


def test_replacing_a_pinned_photo_makes_the_approval_stale(
    cast: Cast, setup: dict[str, Any]
) -> None:
    approval = _sign(cast, setup)
    evidence_services.evidence_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        kind="label_print",
        uploaded_file=jpeg("label-v2.jpg", colour="blue"),
        replaces=setup["photo"],
    )
    state = approvals.gate_state(setup["gate"])
    assert state.state == "blocked"
    assert "label.jpg (v1) was replaced by version 2" in state.reason
    assert approval.staleness.count() == 1
    assert AuditEvent.objects.filter(action="approval.stale", object_id=approval.pk).exists()


def test_a_new_approval_supersedes_the_stale_one(cast: Cast, setup: dict[str, Any]) -> None:
    first = _sign(cast, setup)
    new_photo = evidence_services.evidence_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        kind="label_print",
        uploaded_file=jpeg("label-v2.jpg", colour="blue"),
        replaces=setup["photo"],
    )
    with pytest.raises(Conflict):  # it must say which approval it supersedes
        _sign(cast, setup, pins=[("evidence", new_photo.pk)])
    with pytest.raises(ValidationError, match="newer version"):
        _sign(cast, setup, based_on=first)  # the old photo can no longer be pinned
    second = _sign(cast, setup, pins=[("evidence", new_photo.pk)], based_on=first)
    assert approvals.gate_state(setup["gate"]).approval == second
    assert approvals.gate_state(setup["gate"]).state == "open"


def test_finance_releases_open_gates_and_blocked_ones_only_with_a_reason(
    cast: Cast, setup: dict[str, Any]
) -> None:
    finance = cast.users["finance"]
    with pytest.raises(PermissionDenied):
        approvals.gate_release(
            request=signing_request(),
            factor=TEST_FACTOR,
            gate=setup["gate"],
            user=cast.users["buyer"],
        )
    with pytest.raises(ValidationError, match="write why"):
        approvals.gate_release(
            request=signing_request(), factor=TEST_FACTOR, gate=setup["other_gate"], user=finance
        )
    approvals.gate_release(
        request=signing_request(),
        factor=TEST_FACTOR,
        gate=setup["other_gate"],
        user=finance,
        reason="Rush: the forwarder's slot is tomorrow; labels checked on site.",
    )
    assert approvals.gate_state(setup["other_gate"]).state == "released_with_exception"
    _sign(cast, setup)
    approvals.gate_release(
        request=signing_request(), factor=TEST_FACTOR, gate=setup["gate"], user=finance
    )
    assert approvals.gate_state(setup["gate"]).state == "released"
    with pytest.raises(Conflict):
        approvals.gate_release(
            request=signing_request(), factor=TEST_FACTOR, gate=setup["gate"], user=finance
        )


def test_evidence_after_a_release_is_flagged(cast: Cast, setup: dict[str, Any]) -> None:
    _sign(cast, setup)
    approvals.gate_release(
        request=signing_request(),
        factor=TEST_FACTOR,
        gate=setup["gate"],
        user=cast.users["finance"],
    )
    late = evidence_services.evidence_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        kind="photo",
        uploaded_file=jpeg("late.jpg", colour="purple"),
    )
    flags = freshness_flags([late, setup["photo"]], cast.users["buyer"])
    assert "after_gate_released" in [flag.code for flag in flags[late.pk]]
    assert "after_gate_released" not in [flag.code for flag in flags.get(setup["photo"].pk, [])]


def test_a_tampered_manifest_breaks_the_signature(cast: Cast, setup: dict[str, Any]) -> None:
    approval = _sign(cast, setup)
    with pgtrigger.ignore("approvals.Approval:append_only"):
        manifest = {**approval.manifest, "sentence": "All future batches may ship."}
        Approval.objects.filter(pk=approval.pk).update(manifest=manifest)
    approval.refresh_from_db()
    assert not approvals.signature_intact(approval)


@postgres_only
def test_a_signed_approval_cannot_be_changed_in_the_database(
    cast: Cast, setup: dict[str, Any]
) -> None:
    approval = _sign(cast, setup)
    for statement in (
        lambda: Approval.objects.filter(pk=approval.pk).update(sentence="All future batches."),
        lambda: Signature.objects.filter(approval=approval).update(printed_name="Someone"),
        lambda: approval.pins.all().delete(),
        lambda: Signature.objects.filter(approval=approval).delete(),
    ):
        with pytest.raises(Exception, match="Cannot update or delete"), transaction.atomic():
            statement()
    with (
        pytest.raises(Exception, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE orders_approval SET sentence = 'forged'")


def test_the_admin_cannot_change_approvals(cast: Cast, setup: dict[str, Any]) -> None:
    from django.urls import reverse

    approval = _sign(cast, setup)
    admin = cast.client("admin")
    url = reverse("admin:approvals_approval_change", args=[approval.pk])
    assert admin.get(url).status_code == 200  # visible, read-only
    admin.post(url, {"sentence": "All future batches may ship.", "decision": "accepted"})
    approval.refresh_from_db()
    assert approval.sentence == "Batch OWN-B1's labels as photographed may ship."
    delete = admin.post(reverse("admin:approvals_approval_delete", args=[approval.pk]))
    assert delete.status_code == 403 and Approval.objects.filter(pk=approval.pk).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_signatures_at_once_end_with_one(cast: Cast, setup: dict[str, Any]) -> None:
    _race(lambda: _sign(cast, setup), Approval, 1)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_releases_at_once_end_with_one(cast: Cast, setup: dict[str, Any]) -> None:
    _sign(cast, setup)
    from approvals.models import GateRelease

    _race(
        lambda: approvals.gate_release(
            request=signing_request(),
            factor=TEST_FACTOR,
            gate=setup["gate"],
            user=cast.users["finance"],
        ),
        GateRelease,
        1,
    )


def _race(action: Any, model: Any, expected: int) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait()
            action()
            outcomes.append("done")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "done"]
    assert model.objects.count() == expected


def test_gates_are_one_per_kind(cast: Cast, setup: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        approvals.gate_create(
            user=cast.users["buyer"],
            order=cast.orders["own"],
            batch=cast.batches["own"],
            kind="shipment_release",
        )
    assert Gate.objects.count() == 2


def test_each_new_approval_speaks_for_the_batch(cast: Cast, setup: dict[str, Any]) -> None:
    deposit = approvals.gate_create(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        batch=cast.batches["own"],
        kind="deposit",
    )
    first = _sign(cast, setup, unlocks=[deposit])
    assert approvals.gate_state(deposit).state == "open"
    assert approvals.gate_state(setup["gate"]).state == "blocked"
    second = _sign(cast, setup, unlocks=[deposit, setup["gate"]], based_on=first)
    assert {approvals.gate_state(g).state for g in (deposit, setup["gate"])} == {"open"}
    narrower = _sign(cast, setup, unlocks=[deposit], based_on=second)
    state = approvals.gate_state(setup["gate"])
    assert state.state == "blocked" and f"#{narrower.pk}" in state.reason
    _sign(
        cast,
        setup,
        decision="rejected",
        unlocks=[],
        based_on=narrower,
        sentence="The labels do not match the approved sample.",
    )
    assert approvals.gate_state(deposit).reason.startswith("Rejected: The labels")


def test_another_batch_s_approval_cannot_be_superseded_here(
    cast: Cast, setup: dict[str, Any]
) -> None:
    other_photo = evidence_services.evidence_upload(
        batch=cast.batches["b_order"],
        user=cast.users["supplier_b"],
        kind="photo",
        uploaded_file=jpeg("b.jpg", colour="red"),
    )
    other = _sign(
        cast,
        setup,
        order=cast.orders["b_order"],
        batch=cast.batches["b_order"],
        pins=[("evidence", other_photo.pk)],
        unlocks=[setup["other_gate"]],
    )
    with pytest.raises(ValidationError, match="same batch"):
        _sign(cast, setup, based_on=other)


def test_an_inserted_gate_link_neither_opens_nor_keeps_the_seal(
    cast: Cast, setup: dict[str, Any]
) -> None:
    from approvals.models import ApprovalGate

    deposit = approvals.gate_create(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        batch=cast.batches["own"],
        kind="deposit",
    )
    approval = _sign(cast, setup)
    ApprovalGate.objects.create(approval=approval, gate=deposit)  # inserts are not updates
    assert approvals.gate_state(deposit).state == "blocked"
    assert not approvals.signature_intact(approval)


def test_accepting_waits_for_the_latest_serial_report(cast: Cast, setup: dict[str, Any]) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    serial_services.numbering_rule_save(
        user=cast.users["buyer"],
        product="05012345678900",
        prefix="VLT",
        width=6,
        check_digit="none",
    )
    serial_services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("s.csv", b"serial\nVLT000001\n"),
    )  # queued: nobody has validated it yet
    with pytest.raises(ValidationError, match="wait for its report"):
        _sign(cast, setup)


def test_a_new_list_makes_pinned_exceptions_stale(cast: Cast, setup: dict[str, Any]) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    serial_services.numbering_rule_save(
        user=cast.users["buyer"],
        product="05012345678900",
        prefix="VLT",
        width=6,
        check_digit="none",
    )
    first = serial_services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("s.csv", b"serial\nVLT000001\nVLT000003\n"),
    )
    serial_services.serial_list_validate(serial_list_id=first.pk)
    gap = first.exceptions.get()
    approval = _sign(
        cast,
        setup,
        decision="accepted_with_conditions",
        conditions="Explain VLT000002.",
        pins=[("evidence", setup["photo"].pk), ("exception", gap.pk)],
    )
    serial_services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("s2.csv", b"serial\nVLT000001\nVLT000009\n"),
    )
    assert approval.staleness.exists()
    assert approvals.gate_state(setup["gate"]).state == "blocked"


def test_suppliers_do_not_read_finance_s_reasons(cast: Cast, setup: dict[str, Any]) -> None:
    from django.urls import reverse

    approvals.gate_release(
        request=signing_request(),
        factor=TEST_FACTOR,
        gate=setup["gate"],
        user=cast.users["finance"],
        reason="Supplier is on credit watch; released for the rush order.",
    )
    url = reverse("batch-approvals", args=[cast.batches["own"].pk])
    assert "credit watch" not in cast.client("supplier_a").get(url).content.decode()
    assert "credit watch" not in cast.client("inspector").get(url).content.decode()
    assert "credit watch" in cast.client("buyer").get(url).content.decode()


def test_huge_gate_ids_are_a_form_error(cast: Cast, setup: dict[str, Any]) -> None:
    from django.urls import reverse

    response = cast.client("buyer").post(
        reverse("batch-approvals", args=[cast.batches["own"].pk]),
        {
            "decision": "accepted",
            "promises": ["identity", "payment"],
            "sentence": "x",
            "pins": [f"evidence:{setup['photo'].pk}"],
            "unlocks": ["99999999999999999999999"],
            "password": PASSWORD,
        },
    )
    assert response.status_code == 200 and "Choose gates from the list" in response.content.decode()
    assert not Approval.objects.exists()


def _pay(cast: Cast, gate: Gate, **overrides: Any) -> Any:
    import datetime
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile

    values: dict[str, Any] = {
        "gate": gate,
        "user": cast.users["finance"],
        "kind": "balance",
        "amount": Decimal("12500.00"),
        "currency": "usd",
        "payee": "Supplier A Co",
        "paid_on": datetime.date(2026, 11, 20),
        "document": SimpleUploadedFile("swift.pdf", pdf_document("transfer confirmation")),
    }
    values.update(overrides)
    return approvals.payment_record(**values)


def test_money_that_moves_while_blocked_needs_a_reason(cast: Cast, setup: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="write why money moved"):
        _pay(cast, setup["gate"])
    payment = _pay(cast, setup["gate"], reason="Deposit due by contract before evidence.")
    assert payment.paid_while_blocked and payment.currency == "USD"
    _sign(cast, setup)
    assert not _pay(cast, setup["gate"]).paid_while_blocked
    with pytest.raises(PermissionDenied):
        _pay(cast, setup["gate"], user=cast.users["buyer"])
    with pytest.raises(ValidationError, match="empty.pdf is empty"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        _pay(cast, setup["gate"], document=SimpleUploadedFile("empty.pdf", b""))


def test_an_extra_charge_to_a_stranger_is_flagged(cast: Cast, setup: dict[str, Any]) -> None:
    from evidence import services as evidence_services_

    _sign(cast, setup)
    stranger = _pay(cast, setup["gate"], kind="rework_charge", payee="Quick Fix Trading Ltd")
    assert not stranger.payee_named_in_file
    evidence_services_.responsibility_record(
        order=cast.orders["own"],
        user=cast.users["supplier_a"],
        role="repairs",
        party_name="Quick Fix Trading Ltd",
        party_type="repair_centre",
        contact="qf@example.com",
        accepts_responsibility=True,
    )
    named = _pay(cast, setup["gate"], kind="rework_charge", payee="quick fix trading ltd")
    assert named.payee_named_in_file
    assert _pay(cast, setup["gate"], kind="balance", payee="Someone Else").payee_named_in_file


@postgres_only
def test_payments_are_never_changed(cast: Cast, setup: dict[str, Any]) -> None:
    from approvals.models import Payment

    payment = _pay(cast, setup["gate"], reason="Contractual deposit.")
    with pytest.raises(Exception, match="Cannot update or delete"), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(amount=1)


def test_the_finance_board_costs_the_same_queries_for_more_gates(cast_with_lists: Cast) -> None:
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    cast = cast_with_lists
    client = cast.client("finance")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("finance-board")).status_code == 200
        return len(captured)

    before = queries()
    for order in (cast.orders["own"], cast.orders["b_order"]):
        for kind in ("deposit", "balance", "extra_fee"):
            approvals.gate_create(user=cast.users["buyer"], order=order, kind=kind)
    assert queries() == before


def test_releasing_a_gate_takes_a_confirmation_naming_it(cast: Cast, setup: dict[str, Any]) -> None:
    from django.urls import reverse

    _sign(cast, setup)
    _pay(cast, setup["gate"], reason="")
    client = cast.client("finance")
    url = reverse("gate-release", args=[setup["gate"].pk])
    board = client.get(reverse("finance-board")).content.decode()
    assert f'href="{url}"' in board  # the board leads to the confirmation, never straight past it
    assert f'action="{url}"' not in board
    confirm = (
        "I confirm releasing Shipment release of batch OWN-B1 of PO PO-OWN (12,500.00 USD paid)"
    )
    page = client.get(url)
    assert page.status_code == 200 and confirm in page.content.decode()
    unconfirmed = client.post(url, {})
    assert unconfirmed.status_code == 200
    assert "Tick the box to confirm" in unconfirmed.content.decode()
    assert approvals.gate_state(setup["gate"]).state == "open"
    no_code = client.post(url, {"confirm": "on"})
    assert no_code.status_code == 200 and "6-digit code" in no_code.content.decode()
    wrong = client.post(url, {"confirm": "on", "code": "000000"})
    assert (
        wrong.status_code == 200 and "current one (or was used already)" in wrong.content.decode()
    )
    assert approvals.gate_state(setup["gate"]).state == "open"
    released = client.post(url, {"confirm": "on", "code": totp_code(cast.users["finance"])})
    assert released.status_code == 302 and released["Location"] == reverse("finance-board")
    assert approvals.gate_state(setup["gate"]).state == "released"


def test_releasing_a_blocked_gate_takes_a_reason_in_a_full_width_box(
    cast: Cast, setup: dict[str, Any]
) -> None:
    from django.urls import reverse

    client = cast.client("finance")
    url = reverse("gate-release", args=[setup["other_gate"].pk])
    html = client.get(url).content.decode()
    box = html[html.index("<textarea") : html.index("</textarea>")]
    assert 'name="reason"' in box and "form-control" in box and "w-auto" not in box
    assert "I confirm releasing Balance payment of batch B_ORDER-B1 of PO PO-BEE" in html
    assert "blocked" in html
    code = totp_code(cast.users["finance"])
    no_reason = client.post(url, {"confirm": "on", "reason": " ", "code": code})
    assert no_reason.status_code == 200 and "write why" in no_reason.content.decode()
    assert approvals.gate_state(setup["other_gate"]).state == "blocked"
    client.post(url, {"confirm": "on", "reason": "The forwarder's slot is tomorrow.", "code": code})
    assert approvals.gate_state(setup["other_gate"]).state == "released_with_exception"


def test_the_board_names_gate_states_by_their_labels(cast: Cast, setup: dict[str, Any]) -> None:
    from django.urls import reverse

    html = cast.client("finance").get(reverse("finance-board")).content.decode()
    assert re.search(r'<option value="released_with_exception"[^>]*>Released with exception<', html)
    assert "Releasedwithexception" not in html


HOSTILE_DOCUMENTS = [
    ("receipt.html", b"<!doctype html><script>alert(document.cookie)</script>", "text/html"),
    ("receipt.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "svg"),
    ("receipt.exe", b"MZ\x90\x00\x03" + b"\x00" * 200, "application/"),
    ("receipt.pdf", b"<html><body>not a PDF</body></html>", "text/html"),
    ("receipt.txt", b"paid " * 1000, "text/plain"),
    ("receipt.png", "truncated-png", "damaged or truncated"),
    ("receipt.jpg", b"%PDF-1.4 a PDF named as a photo", "its name says .jpg"),
]


@pytest.mark.parametrize(("name", "content", "message"), HOSTILE_DOCUMENTS)
def test_a_payment_document_goes_through_the_upload_gate(
    cast: Cast, setup: dict[str, Any], name: str, content: Any, message: str
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from approvals.models import Payment

    if content == "truncated-png":  # a real photo, cut off halfway through its pixels
        import io

        from PIL import Image

        buffer = io.BytesIO()
        Image.effect_noise((200, 200), 60).save(buffer, format="PNG")
        content = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    with pytest.raises(ValidationError) as refused:
        _pay(cast, setup["gate"], reason="Due.", document=SimpleUploadedFile(name, content))
    assert name in str(refused.value) and message in str(refused.value), refused.value
    assert not Payment.objects.exists()


def test_a_payment_document_bomb_is_refused(
    cast: Cast, setup: dict[str, Any], settings: Any
) -> None:
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.PAYMENT_DOCUMENT_MAX_BYTES = 2_000_000
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, format="PNG")  # 50 KB, 400 million pixels
    bomb = SimpleUploadedFile("receipt.png", buffer.getvalue())
    with pytest.raises(ValidationError, match="decompression bomb"):
        _pay(cast, setup["gate"], reason="Due.", document=bomb)
    big = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 " + b"0" * 2_100_000)
    with pytest.raises(ValidationError, match="may be at most 2 MB"):
        _pay(cast, setup["gate"], reason="Due.", document=big)
