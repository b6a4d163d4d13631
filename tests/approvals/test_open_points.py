"""Conditions that stay tracked (issue 15): an approval accepted with conditions lists its
conditions and open points; an open point has an owner of the responsibility map (or the buyer),
a due date and, closed, the record that closes it; a gate can wait on open points; the inbox
shows them. And: explain in writing before money moves."""

from __future__ import annotations

import datetime
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from approvals import services as approvals
from approvals.explain import explain_offers, pending_requests
from approvals.models import Approval, OpenPoint, OpenPointClosure
from evidence import services as evidence_services
from evidence.models import EvidenceRequest
from portal.dashboard import waiting_on
from portal.errors import Conflict
from portal.models import AuditEvent
from portal.timeline import timeline_entry
from tests.conftest import PASSWORD, TEST_FACTOR, Cast, signing_request, totp_code

FAR = datetime.date(2030, 1, 1)
POINT = "Show the packing scanner refuses a label it has already read."


def _conditional(
    cast: Cast, *, owner: str = "packer", blocks: bool = True, due: datetime.date = FAR, **more: Any
) -> Approval:
    """A new approval of batch OWN-B1, accepted with conditions, opening its shipment release,
    with one open point (owned by the packer the supplier named, or by the buyer)."""
    batch = cast.batches["own"]
    packer = cast.open_points["own"].owner
    values: dict[str, Any] = {
        "user": cast.users["buyer"],
        "password": PASSWORD,
        "request": signing_request(),
        "factor": TEST_FACTOR,
        "order": batch.order,
        "batch": batch,
        "promises": ["shipment", "process"],
        "decision": "accepted_with_conditions",
        "sentence": "Batch OWN-B1 may ship once the packing hall shows its scanner is fixed.",
        "conditions": "The gap is explained before the balance.\nCartons stay sealed.",
        "pins": [
            ("evidence", cast.evidence["own"].pk),
            *(("exception", pk) for pk in batch.serial_exceptions.values_list("pk", flat=True)),
        ],
        "unlocks": [cast.gates["own"]],
        "based_on": cast.approvals["own"],
        "open_points": [
            approvals.OpenPointDraft(
                text=POINT,
                owner=packer if owner == "packer" else None,
                due_on=due,
                blocks_gates=blocks,
            )
        ],
    }
    values.update(more)
    return approvals.approval_sign(**values)


def _point(approval: Approval) -> OpenPoint:
    return approval.open_points.get()


# ---------------------------------------------------------------- signing with open points


def test_open_points_are_written_with_the_approval_and_in_its_manifest(
    cast_with_lists: Cast,
) -> None:
    cast = cast_with_lists
    approval = _conditional(cast)
    point = _point(approval)
    assert (point.text, point.owner, point.due_on, point.blocks_gates) == (
        POINT,
        cast.open_points["own"].owner,
        FAR,
        True,
    )
    assert point.owner_label == "Packing hall of own (Packs)"
    assert approval.manifest["open_points"] == [
        {
            "text": POINT,
            "owner": "Packing hall of own (Packs)",
            "party": point.owner_id,
            "due_on": "2030-01-01",
            "blocks_gates": True,
        }
    ]
    assert approvals.signature_intact(approval)
    event = AuditEvent.objects.filter(action="approval.signed").latest("id")
    assert event.payload["open_points"] == [POINT]
    assert "open points: “Show the packing scanner" in timeline_entry(event, FAR).sentence


def test_open_points_are_refused_where_they_do_not_belong(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    with pytest.raises(ValidationError, match="Only an approval accepted with conditions"):
        _conditional(cast, decision="rejected", unlocks=[])
    with pytest.raises(ValidationError, match="due in the past"):
        _conditional(cast, due=timezone.localdate() - datetime.timedelta(days=1))
    # Another order's party is no party of this order's map.
    foreign_party = cast.open_points["foreign"].owner
    with pytest.raises(ValidationError, match="not a current party"):
        _conditional(
            cast,
            open_points=[approvals.OpenPointDraft(text=POINT, owner=foreign_party, due_on=FAR)],
        )
    assert not OpenPoint.objects.filter(approval__based_on=cast.approvals["own"]).exists()


def test_the_page_signs_with_an_open_point_and_lists_conditions_and_points(
    cast_with_lists: Cast,
) -> None:
    cast = cast_with_lists
    batch = cast.batches["own"]
    packer = cast.open_points["own"].owner
    url = reverse("batch-approvals", args=[batch.pk])
    form = {
        "promises": ["shipment"],
        "decision": "accepted_with_conditions",
        "sentence": "Batch OWN-B1 may ship once the scanner is fixed.",
        "conditions": "The gap is explained before the balance.\nCartons stay sealed.",
        "pins": [
            f"evidence:{cast.evidence['own'].pk}",
            *(f"exception:{pk}" for pk in batch.serial_exceptions.values_list("pk", flat=True)),
        ],
        "unlocks": [cast.gates["own"].pk],
        "based_on": cast.approvals["own"].pk,
        "open_point_1_text": POINT,
        "open_point_1_owner": str(packer.pk),
        "open_point_1_due_on": "2030-01-01",
        "open_point_1_blocks": "on",
        "open_point_2_owner": "buyer",  # an owner without a point: said so, nothing signed
        "password": PASSWORD,
        "code": totp_code(cast.users["buyer"]),
    }
    client = cast.client("buyer")
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "Say what the open point is." in refused.content.decode()
    form.pop("open_point_2_owner")
    form["code"] = totp_code(cast.users["buyer"])
    signed = client.post(url, form)
    assert signed.status_code == 302, signed.content.decode()[:3000]
    approval = Approval.objects.get(based_on=cast.approvals["own"])
    assert _point(approval).blocks_gates
    page = cast.client("supplier_a").get(reverse("approval-detail", args=[approval.pk]))
    text = page.content.decode()
    assert "Accepted conditions" in text
    assert "<li>The gap is explained before the balance.</li>" in text
    assert "<li>Cartons stay sealed.</li>" in text
    assert POINT in text and "the gates wait on it" in text
    assert reverse("open-point-close", args=[_point(approval).pk]) in text  # the supplier's own


# ---------------------------------------------------------------- a gate waits on a point


def test_an_open_point_blocks_its_gate_until_it_is_closed(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    gate = cast.gates["own"]
    approval = _conditional(cast)
    state = approvals.gate_state(gate)
    assert state.state == "blocked"
    assert state.reason.startswith(f"Waiting on open point: {POINT[:-1]} (Packing hall of own")
    assert [point.pk for point in state.waiting_on] == [_point(approval).pk]
    # Finance sees why; releasing it now is an exception with a reason, as for any blocked gate.
    board = cast.client("finance").get(reverse("finance-board")).content.decode()
    assert "Waiting on open point" in board
    approvals.open_point_close(
        point=_point(approval), user=cast.users["supplier_a"], note="Fixed and tested."
    )
    state = approvals.gate_state(gate)
    assert state.state == "open" and state.approval == approval


def test_a_point_the_gates_do_not_wait_on_leaves_them_open(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    _conditional(cast, blocks=False)
    assert approvals.gate_state(cast.gates["own"]).state == "open"


# ---------------------------------------------------------------- who closes a point


def test_the_supplier_closes_its_own_point_with_a_record_of_the_batch(
    cast_with_lists: Cast,
) -> None:
    cast = cast_with_lists
    point = _point(_conditional(cast))
    url = reverse("open-point-close", args=[point.pk])
    client = cast.client("supplier_a")
    page = client.get(url)
    assert page.status_code == 200
    statement = cast.statements["own"]
    assert f'value="statement:{statement.pk}"' in page.content.decode()
    # A record of another batch is not offered, and not taken.
    other = cast.statements["foreign"]
    assert f'value="statement:{other.pk}"' not in page.content.decode()
    refused = client.post(url, {"note": "Done.", "record": f"statement:{other.pk}"})
    assert refused.status_code == 200 and not OpenPointClosure.objects.exists()
    closed = client.post(
        url, {"note": "Fixed; see statement.", "record": f"statement:{statement.pk}"}
    )
    assert closed.status_code == 302
    closure = OpenPointClosure.objects.get()
    assert (closure.point, closure.closed_by, closure.record_kind, closure.record_id) == (
        point,
        cast.users["supplier_a"],
        "statement",
        statement.pk,
    )
    event = AuditEvent.objects.get(action="open_point.closed")
    assert event.payload["record"] == closure.record_label
    sentence = timeline_entry(event, FAR).sentence
    assert "closed the open point “Show the packing scanner" in sentence
    assert "with Statement v1" in sentence
    # Closed once: the page shows the closing, a second one is refused.
    assert "Closed by" in client.get(url).content.decode()
    with pytest.raises(Conflict):
        approvals.open_point_close(point=point, user=cast.users["buyer"], note="Again.")
    detail = cast.client("buyer").get(reverse("approval-detail", args=[point.approval_id]))
    assert "closed" in detail.content.decode() and closure.record_label in detail.content.decode()


def test_the_supplier_cannot_close_the_buyer_s_point_and_others_cannot_at_all(
    cast_with_lists: Cast,
) -> None:
    cast = cast_with_lists
    point = _point(_conditional(cast, owner="buyer"))
    assert point.owner_label == cast.orders["own"].buyer.name
    url = reverse("open-point-close", args=[point.pk])
    for username in ("supplier_a", "finance", "service", "inspector"):
        assert cast.client(username).get(url).status_code == 403, username
        assert cast.client(username).post(url, {"note": "Done."}).status_code == 403, username
    with pytest.raises(PermissionDenied):
        approvals.open_point_close(point=point, user=cast.users["supplier_a"], note="Done.")
    # Another organisation's people do not see it at all.
    for username in ("supplier_b", "other_buyer", "outsider"):
        assert cast.client(username).get(url).status_code == 404, username
        assert cast.client(username).post(url, {"note": "Done."}).status_code == 404, username
    assert not OpenPointClosure.objects.exists()
    assert cast.client("buyer").post(url, {"note": "Settled by phone."}).status_code == 302
    assert OpenPointClosure.objects.get().record_kind == ""


def test_a_closing_needs_a_note(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    point = _point(_conditional(cast))
    with pytest.raises(ValidationError, match="how the point was settled"):
        approvals.open_point_close(point=point, user=cast.users["supplier_a"], note="  ")


def test_the_api_signs_and_returns_open_points(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    batch = cast.batches["own"]
    packer = cast.open_points["own"].owner
    payload = {
        "order": batch.order_id,
        "batch": batch.pk,
        "promises": ["shipment"],
        "decision": "accepted_with_conditions",
        "sentence": "Batch OWN-B1 may ship once the scanner is fixed.",
        "conditions": "The gap is explained before the balance.",
        "pins": [
            f"evidence:{cast.evidence['own'].pk}",
            *(f"exception:{pk}" for pk in batch.serial_exceptions.values_list("pk", flat=True)),
        ],
        "unlocks": [cast.gates["own"].pk],
        "based_on": cast.approvals["own"].pk,
        "open_points": [
            {"text": POINT, "party": packer.pk, "due_on": "2030-01-01", "blocks_gates": True}
        ],
        "password": PASSWORD,
        "code": totp_code(cast.users["buyer"]),
    }
    api = cast.api("buyer")
    foreign = payload | {
        "open_points": [
            {"text": POINT, "party": cast.open_points["foreign"].owner_id, "due_on": "2030-01-01"}
        ]
    }
    refused = api.post(reverse("api-approval-list"), foreign, format="json")
    assert refused.status_code == 400 and "open_points" in refused.json()
    payload["code"] = totp_code(cast.users["buyer"])
    signed = api.post(reverse("api-approval-list"), payload, format="json")
    assert signed.status_code == 201, signed.content
    [point] = signed.json()["open_points"]
    assert point["party"] == packer.pk and point["blocks_gates"] and point["closure"] is None
    assert point["owner"] == "Packing hall of own (Packs)"


# ---------------------------------------------------------------- the inbox


def test_the_inbox_shows_open_points_to_their_owner_the_buyer_and_finance(
    cast_with_lists: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    cast = cast_with_lists
    due = timezone.localdate() + datetime.timedelta(days=2)
    point = _point(_conditional(cast, due=due))
    supplier = [i for i in waiting_on(cast.users["supplier_a"]) if i.kind == "open_point"]
    # The supplier: its points of the current approvals only (the cast's own one is superseded).
    assert [(i.url, i.due, i.overdue) for i in supplier] == [
        (reverse("open-point-close", args=[point.pk]), due, False),
        (reverse("open-point-close", args=[cast.open_points["foreign"].pk]), FAR, False),
    ]
    # Supplier B sees only the point of its own order.
    assert [i.url for i in waiting_on(cast.users["supplier_b"]) if i.kind == "open_point"] == [
        reverse("open-point-close", args=[cast.open_points["b_order"].pk])
    ]
    finance = [
        i for i in waiting_on(cast.users["finance"]) if i.kind == "gate_waiting_on_open_point"
    ]
    assert len(finance) == 1 and POINT in finance[0].detail and finance[0].due == due
    buyer_kinds = {i.kind for i in waiting_on(cast.users["buyer"])}
    assert "open_point_overdue" not in buyer_kinds

    # Three days later the point is overdue: it stands out for the supplier and the buyer.
    later = timezone.localdate() + datetime.timedelta(days=3)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: later)
    supplier = [i for i in waiting_on(cast.users["supplier_a"]) if i.kind == "open_point"]
    assert supplier[0].overdue and supplier[0].sort_key[0] == 0
    overdue = [i for i in waiting_on(cast.users["buyer"]) if i.kind == "open_point_overdue"]
    assert [i.url for i in overdue] == [reverse("approval-detail", args=[point.approval_id])]

    approvals.open_point_close(point=point, user=cast.users["supplier_a"], note="Fixed.")
    buyer = waiting_on(cast.users["buyer"])
    assert "open_point_overdue" not in {i.kind for i in buyer}
    closed = [i for i in buyer if i.kind == "open_point_closed"]
    assert len(closed) == 1 and POINT in closed[0].title
    assert not [
        i for i in waiting_on(cast.users["supplier_a"]) if i.url.endswith(f"/{point.pk}/close/")
    ]
    assert not [
        i for i in waiting_on(cast.users["finance"]) if i.kind == "gate_waiting_on_open_point"
    ]
    assert "gate_to_release" in {i.kind for i in waiting_on(cast.users["finance"])}


# ---------------------------------------------------------------- explain before money moves


def test_the_buyer_is_offered_a_written_request_before_a_gate_falls_due(
    cast_with_lists: Cast,
) -> None:
    cast = cast_with_lists
    batch = cast.batches["own"]
    today = timezone.localdate()
    # The batch has exceptions not decided; its deposit falls due in ten days.
    deposit = approvals.gate_create(
        user=cast.users["buyer"],
        order=batch.order,
        batch=batch,
        kind="deposit",
        amount="500.00",
        currency="USD",
        due_date=today + datetime.timedelta(days=10),
    )
    approvals.gate_create(  # falls due later than the setting's 14 days: not yet
        user=cast.users["buyer"],
        order=batch.order,
        batch=batch,
        kind="balance",
        amount="900.00",
        currency="USD",
        due_date=today + datetime.timedelta(days=40),
    )
    offers = [i for i in waiting_on(cast.users["buyer"]) if i.kind == "explain_before_gate"]
    assert [i.title for i in offers] == [
        "Ask the supplier to explain before Deposit of batch OWN-B1 falls due"
    ]
    undecided = batch.serial_exceptions.count()
    assert f"{undecided} exceptions not decided" in offers[0].detail
    assert offers[0].due == deposit.due_date
    # Not for the supplier, nor for finance, nor for the other buyer.
    for username in ("supplier_a", "finance", "other_buyer"):
        assert not [i for i in waiting_on(cast.users[username]) if i.kind == "explain_before_gate"]

    # The link opens the request form prefilled: the question lists the open exceptions.
    url = offers[0].url
    query = parse_qs(urlsplit(url).query)
    assert query["promises"] == ["payment"]
    assert query["due_on"] == [(deposit.due_date - datetime.timedelta(days=1)).isoformat()]
    page = cast.client("buyer").get(url)
    form = page.context["form"]
    assert form.initial["promises"] == ["payment"]
    assert form.initial["due_on"] == deposit.due_date - datetime.timedelta(days=1)
    assert form.initial["subject"].startswith("Explain the open exceptions of batch OWN-B1")
    for exception in batch.serial_exceptions.all():
        assert exception.summary in form.initial["question"]
    assert re.search(r'value="payment"[^>]*checked', page.content.decode())

    # Sent as prefilled, the request is pending on the gate: finance sees it, the offer goes.
    sent = cast.client("buyer").post(
        reverse("batch-requests", args=[batch.pk]),
        {
            "promises": ["payment"],
            "subject": form.initial["subject"],
            "question": form.initial["question"],
            "due_on": form.initial["due_on"].isoformat(),
        },
    )
    assert sent.status_code == 302
    asked = EvidenceRequest.objects.latest("id")
    assert asked.promises == "payment"
    assert pending_requests([deposit])[deposit.pk] == [asked]
    assert not [i for i in waiting_on(cast.users["buyer"]) if i.kind == "explain_before_gate"]
    assert explain_offers(cast.users["buyer"]) == []
    board = cast.client("finance").get(reverse("finance-board")).content.decode()
    assert "A written request is pending on it" in board and asked.subject in board
    # Answered, it is pending no more.
    evidence_services.statement_write(request=asked, user=cast.users["supplier_a"], text="Here.")
    assert pending_requests([deposit])[deposit.pk] == []


def test_an_overdue_gate_asks_for_an_answer_today(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    batch = cast.batches["own"]
    today = timezone.localdate()
    approvals.gate_create(
        user=cast.users["buyer"],
        order=batch.order,
        kind="deposit",  # the order's own gate: its batches' exceptions count
        amount="500.00",
        currency="USD",
        due_date=today - datetime.timedelta(days=3),
    )
    [offer] = explain_offers(cast.users["buyer"])
    assert offer.batch == batch and offer.due_on == today
    [item] = [i for i in waiting_on(cast.users["buyer"]) if i.kind == "explain_before_gate"]
    assert item.overdue


# ---------------------------------------------------------------- the demo


def test_the_demo_names_its_promises_and_closes_its_open_point(db: None) -> None:
    import io

    from django.core.management import call_command

    from approvals.models import Gate

    call_command("seed_demo", stdout=io.StringIO())
    b1 = Approval.objects.get(batch__code="B1", batch__order__number="2026-0141")
    assert b1.promises == "identity,shipment" and b1.gate_reason  # it opens the deposit too
    asked = EvidenceRequest.objects.get(subject="Ten serials missing after VLT000102400")
    assert asked.promises == "process"
    b2 = Approval.objects.get(batch__code="B2", batch__order__number="2026-0141")
    assert b2.decision == "accepted_with_conditions" and b2.conditions.count("\n") == 1
    point = b2.open_points.get()
    assert point.blocks_gates and point.owner is not None and point.owner.role == "packs"
    closure = point.closure
    assert closure.record_kind == "statement" and closure.closed_by.username == "supplier_a"
    assert closure.closed_at > b2.signature.signed_at  # a later record closed it
    gate = Gate.objects.get(batch=b2.batch, kind="shipment_release")
    assert approvals.gate_state(gate).state == "open"
    assert approvals.signature_intact(b2)


def test_the_approval_record_lists_each_point_open_then_closed(
    cast_with_lists: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dossier import build

    cast = cast_with_lists
    monkeypatch.setattr(build, "html_to_pdf", lambda html: html.encode())
    point = _point(_conditional(cast))
    record = build.approval_record_pdf(cast.orders["own"]).decode()
    assert POINT in record and "Packing hall of own (Packs)" in record
    assert 'the gates wait on it: <span class="flag">open</span>' in record
    approvals.open_point_close(
        point=point,
        user=cast.users["supplier_a"],
        note="Fixed.",
        record=f"evidence:{cast.evidence['own'].pk}",
    )
    record = build.approval_record_pdf(cast.orders["own"]).decode()
    assert "the gates wait on it: closed by Supplier_A" in record
    assert "with Evidence: Photo own.jpg (v1), batch OWN-B1 (Fixed.)" in record


def test_rejected_exceptions_are_decided_and_offer_no_request(cast_with_lists: Cast) -> None:
    """A rejection is a decision: what is left to explain before money moves is the open and
    the answered exceptions only (``SerialException.UNDECIDED``, as on the review page)."""
    from serials import services as serial_services
    from serials.services.answers import AnswerRow

    cast = cast_with_lists
    batch = cast.batches["own"]
    exceptions = list(batch.serial_exceptions.all())
    serial_services.exceptions_answer(
        rows=[AnswerRow(e.pk, "double_scan", "Read twice.") for e in exceptions],
        user=cast.users["supplier_a"],
    )
    serial_services.exception_decide(
        exceptions=exceptions,
        user=cast.users["buyer"],
        decision="rejected",
        promises=["process"],
        note="Not shown.",
    )
    approvals.gate_create(
        user=cast.users["buyer"],
        order=batch.order,
        batch=batch,
        kind="deposit",
        amount="500.00",
        currency="USD",
        due_date=timezone.localdate() + datetime.timedelta(days=10),
    )
    offers = [i for i in waiting_on(cast.users["buyer"]) if i.kind == "explain_before_gate"]
    assert offers == []
