"""The promise under test (issue 15): requests, exception reviews and approvals name what they
test; the approval form starts from it and proposes what to pin; a gate its promises do not
cover needs a written reason; the promises are in the manifest, on the pages, in the timeline,
the PDF record and the lookup."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from approvals import services as approvals
from approvals.models import Approval
from approvals.promises import GATE_PROMISES, PROPOSALS, uncovered_gates
from evidence import services as evidence_services
from evidence.models import EvidenceRequest
from orders.promises import Promise, promises_clean, promises_joined, promises_label
from portal.models import AuditEvent
from portal.timeline import timeline_entry
from serials import services as serial_services
from serials.models import ExceptionDecision
from tests.conftest import PASSWORD, TEST_FACTOR, Cast, signing_request, totp_code

IDENTITY = [Promise.IDENTITY.value]


def _sign(cast: Cast, signable: dict[str, Any], **overrides: Any) -> Approval:
    values: dict[str, Any] = {
        "user": cast.users["buyer"],
        "password": PASSWORD,
        "request": signing_request(),
        "factor": TEST_FACTOR,
        "order": signable["batch"].order,
        "batch": signable["batch"],
        "promises": IDENTITY,
        "decision": "accepted",
        "sentence": "Batch OWN-B1's labels as photographed may ship.",
        "pins": [("evidence", signable["photo"].pk)],
        "unlocks": [signable["gate"]],
    }
    values.update(overrides)
    return approvals.approval_sign(**values)


def _form(cast: Cast, signable: dict[str, Any], **changes: Any) -> dict[str, Any]:
    form = {
        "promises": IDENTITY,
        "decision": "accepted",
        "sentence": "Batch OWN-B1's labels as photographed may ship.",
        "pins": [f"evidence:{signable['photo'].pk}"],
        "unlocks": [signable["gate"].pk],
        "password": PASSWORD,
        "code": totp_code(cast.users["buyer"]),
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


# ---------------------------------------------------------------- the five promises, once


def test_the_promises_are_stored_once_each_in_their_order() -> None:
    assert promises_joined(["payment", "identity", "identity"]) == "identity,payment"
    assert promises_clean("shipment,capacity") == ["capacity", "shipment"]
    assert promises_label("identity,shipment") == "Product identity, shipment evidence"
    with pytest.raises(ValidationError, match="Name the promise"):
        promises_joined([])
    with pytest.raises(ValidationError, match="is not a promise"):
        promises_joined(["trust"])


def test_every_promise_proposes_something_and_every_gate_kind_is_covered() -> None:
    from approvals.models import Gate

    assert set(PROPOSALS) == set(Promise.values)
    assert set(GATE_PROMISES) == set(Gate.Kind.values)
    assert GATE_PROMISES[Gate.Kind.DEPOSIT] == {Promise.PAYMENT}
    assert GATE_PROMISES[Gate.Kind.SHIPMENT_RELEASE] == {Promise.SHIPMENT, Promise.IDENTITY}


# ---------------------------------------------------------------- an approval names its promise


def test_an_approval_without_a_promise_is_refused_by_the_service(
    cast: Cast, signable: dict[str, Any]
) -> None:
    for promises in ([], "", ["faith"]):
        with pytest.raises(ValidationError) as refused:
            _sign(cast, signable, promises=promises)
        assert "promises" in refused.value.message_dict
    assert not Approval.objects.exists()
    assert not AuditEvent.objects.filter(action="approval.signed").exists()


def test_an_approval_without_a_promise_is_refused_by_the_page(
    cast: Cast, signable: dict[str, Any]
) -> None:
    url = reverse("batch-approvals", args=[signable["batch"].pk])
    response = cast.client("buyer").post(url, _form(cast, signable, promises=None))
    assert response.status_code == 200
    assert "Name the promise (or promises) this tests." in response.content.decode()
    assert not Approval.objects.exists()


def test_an_approval_without_a_promise_is_refused_by_the_api(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    batch = cast.batches["own"]
    payload = {
        "order": batch.order_id,
        "batch": batch.pk,
        "decision": "accepted_with_conditions",
        "sentence": "Batch OWN-B1 may ship as photographed.",
        "conditions": "The gap is explained before the balance.",
        "pins": [
            f"evidence:{cast.evidence['own'].pk}",
            *(f"exception:{pk}" for pk in batch.serial_exceptions.values_list("pk", flat=True)),
        ],
        "unlocks": [cast.gates["own"].pk],
        "based_on": cast.approvals["own"].pk,
        "password": PASSWORD,
        "code": totp_code(cast.users["buyer"]),
    }
    before = Approval.objects.count()
    api = cast.api("buyer")
    for promises in (None, [], ["faith"], ["identity", "identity"]):
        sent = payload if promises is None else payload | {"promises": promises}
        response = api.post(reverse("api-approval-list"), sent, format="json")
        assert response.status_code == 400, (promises, response.content)
        assert "promises" in response.json()
    assert Approval.objects.count() == before
    signed = api.post(
        reverse("api-approval-list"), payload | {"promises": ["shipment"]}, format="json"
    )
    assert signed.status_code == 201, signed.content
    assert signed.json()["promises"] == ["shipment"]
    detail = api.get(reverse("api-approval-detail", args=[signed.json()["id"]])).json()
    assert detail["promises"] == ["shipment"] and detail["gate_reason"] == ""


def test_the_database_refuses_an_empty_or_unknown_promise(
    cast: Cast, signable: dict[str, Any]
) -> None:
    batch = signable["batch"]
    for value in ("", "faith", "identity,", ",identity"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Approval.objects.create(
                order=batch.order,
                batch=batch,
                decision="accepted",
                sentence="Forged without a promise.",
                manifest={},
                manifest_sha256="0" * 64,
                promises=value,
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            EvidenceRequest.objects.create(
                batch=batch,
                subject="Forged",
                question="?",
                due_on=datetime.date(2030, 1, 1),
                asked_by=cast.users["buyer"],
                promises=value,
            )


# ---------------------------------------------------------------- a gate outside the promise


def test_a_gate_its_promises_do_not_cover_needs_a_written_reason(
    cast: Cast, signable: dict[str, Any]
) -> None:
    assert uncovered_gates("process", [signable["gate"]]) == [signable["gate"]]
    with pytest.raises(ValidationError) as refused:
        _sign(cast, signable, promises=["process"])
    assert "gate_reason" in refused.value.message_dict
    assert "Shipment release of batch OWN-B1" in refused.value.message_dict["gate_reason"][0]
    assert not Approval.objects.exists()
    reason = "The forwarder's slot is tomorrow; the labels were checked on the line."
    approval = _sign(cast, signable, promises=["process"], gate_reason=reason)
    assert approval.gate_reason == reason
    assert approval.manifest["gate_reason"] == reason
    assert approvals.gate_state(signable["gate"]).state == "open"


def test_a_reason_is_kept_only_where_a_gate_needs_one(cast: Cast, signable: dict[str, Any]) -> None:
    approval = _sign(cast, signable, promises=["shipment"], gate_reason="Not needed.")
    assert approval.gate_reason == "" and approval.manifest["gate_reason"] == ""


def test_a_money_gate_needs_payment_leverage_or_a_reason(
    cast: Cast, signable: dict[str, Any]
) -> None:
    deposit = approvals.gate_create(
        user=cast.users["buyer"],
        order=signable["batch"].order,
        batch=signable["batch"],
        kind="deposit",
        amount="100.00",
        currency="USD",
    )
    with pytest.raises(ValidationError, match="Deposit of batch OWN-B1"):
        _sign(cast, signable, unlocks=[signable["gate"], deposit])
    _sign(cast, signable, promises=["identity", "payment"], unlocks=[signable["gate"], deposit])


def test_the_page_asks_for_the_reason(cast: Cast, signable: dict[str, Any]) -> None:
    url = reverse("batch-approvals", args=[signable["batch"].pk])
    client = cast.client("buyer")
    refused = client.post(url, _form(cast, signable, promises=["capacity"]))
    assert refused.status_code == 200
    assert "what this approval tests does not cover it" in refused.content.decode()
    assert not Approval.objects.exists()
    signed = client.post(
        url, _form(cast, signable, promises=["capacity"], gate_reason="Shipped on capacity alone.")
    )
    assert signed.status_code == 302
    assert Approval.objects.get().gate_reason == "Shipped on capacity alone."


def test_the_api_asks_for_the_reason(cast: Cast, signable: dict[str, Any]) -> None:
    batch = signable["batch"]
    payload = {
        "order": batch.order_id,
        "batch": batch.pk,
        "promises": ["capacity"],
        "decision": "accepted",
        "sentence": "Batch OWN-B1 may ship.",
        "pins": [f"evidence:{signable['photo'].pk}"],
        "unlocks": [signable["gate"].pk],
        "password": PASSWORD,
    }
    api = cast.api("buyer")
    refused = api.post(
        reverse("api-approval-list"),
        payload | {"code": totp_code(cast.users["buyer"])},
        format="json",
    )
    assert refused.status_code == 400 and "gate_reason" in refused.json()
    signed = api.post(
        reverse("api-approval-list"),
        payload | {"code": totp_code(cast.users["buyer"]), "gate_reason": "Capacity is the risk."},
        format="json",
    )
    assert signed.status_code == 201, signed.content
    assert signed.json()["gate_reason"] == "Capacity is the risk."


# ---------------------------------------------------------------- the signed record carries it


def test_the_manifest_carries_the_promises_and_the_signature_binds_them(
    cast: Cast, signable: dict[str, Any]
) -> None:
    approval = _sign(cast, signable, promises=["shipment", "identity"])
    assert approval.promises == "identity,shipment"
    assert approval.manifest["promises"] == "identity,shipment"
    assert approvals.signature_intact(approval)
    _, draft_hash = approvals.approval_manifest(
        user=cast.users["buyer"],
        draft=approvals.Draft(
            order=approval.order,
            batch=approval.batch,
            promises=["identity"],
            decision="accepted",
            sentence=approval.sentence,
            pins=[("evidence", signable["photo"].pk)],
            unlocks=[signable["gate"]],
            conditions="",
            keep_unchanged="",
            inspector_checks="",
            based_on=approval,
            gate_reason="",
            open_points=[],
        ),
    )
    assert draft_hash != approval.manifest_sha256  # another promise: another manifest
    # A manifest whose promises were changed no longer matches its signature.
    approval.manifest["promises"] = "identity"
    assert not approvals.signature_intact(approval)


def test_the_promises_are_shown_wherever_the_approval_is(
    cast: Cast, signable: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    approval = _sign(
        cast, signable, promises=["process", "identity"], gate_reason="Not needed here."
    )
    event = AuditEvent.objects.get(action="approval.signed")
    assert event.payload["promises"] == ["identity", "process"]
    sentence = timeline_entry(event, datetime.date.today()).sentence
    assert "(it tests product identity, process control)" in sentence
    page = cast.client("supplier_a").get(reverse("approval-detail", args=[approval.pk]))
    assert "Product identity" in page.content.decode()
    assert "Process control" in page.content.decode()
    batch_page = cast.client("buyer").get(reverse("batch-detail", args=[approval.batch_id]))
    assert "It tests: Product identity, process control" in batch_page.content.decode()
    listed = cast.client("buyer").get(reverse("batch-approvals", args=[approval.batch_id]))
    assert "Tests: Product identity, process control" in listed.content.decode()

    from dossier import build

    monkeypatch.setattr(build, "html_to_pdf", lambda html: html.encode())
    record = build.approval_record_pdf(approval.order).decode()
    assert "Product identity, process control" in record


def test_the_lookup_shows_the_decision_and_what_it_tested(
    cast: Cast, signable: dict[str, Any]
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    serial_services.numbering_rule_save(
        user=cast.users["buyer"],
        product="05012345678900",
        prefix="VLT",
        width=6,
        check_digit="none",
    )
    listed = serial_services.serial_list_upload(
        batch=signable["batch"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("b1.csv", b"serial\nVLT000001\nVLT000002\n"),
    )
    serial_services.serial_list_validate(serial_list_id=listed.pk)
    _sign(cast, signable, promises=["identity", "shipment"])
    page = cast.client("service").get(reverse("serial-lookup"), {"serial": "VLT000001"})
    text = page.content.decode()
    assert "Batch decision" in text
    assert "It tests: Product identity, shipment evidence" in text


# ---------------------------------------------------------------- the form starts from it


def test_the_form_starts_from_the_promise_and_proposes_what_to_pin(
    cast: Cast, signable: dict[str, Any]
) -> None:
    client = cast.client("buyer")
    url = reverse("batch-approvals", args=[signable["batch"].pk])
    page = client.get(url).content.decode()
    form = page[page.index("data-promise-form") :]
    assert form.index('name="promises"') < form.index('name="decision"') < form.index('name="pins"')
    assert "What does this approval test?" in form
    # The label print is proposed for product identity (and highlighted once ticked).
    photo = f'value="evidence:{signable["photo"].pk}"'
    tag = form[form.rindex("<input", 0, form.index(photo)) : form.index(">", form.index(photo))]
    assert 'data-promises="identity"' in tag and "data-proposed" not in tag
    # A link naming the promise ticks and marks what it proposes.
    named = client.get(url, {"promises": "identity"}).content.decode()
    tag = named[
        named.rindex("<input", 0, named.index(photo)) : named.index(">", named.index(photo))
    ]
    assert "data-proposed" in tag and "checked" in tag
    gate = f'value="{signable["gate"].pk}"'
    gate_tag = named[
        named.rindex("<input", 0, named.index(gate)) : named.index(">", named.index(gate))
    ]
    assert 'data-promises="identity shipment"' in gate_tag and "data-proposed" in gate_tag
    # Process control proposes no label print.
    other = client.get(url, {"promises": "process"}).content.decode()
    tag = other[
        other.rindex("<input", 0, other.index(photo)) : other.index(">", other.index(photo))
    ]
    assert "data-proposed" not in tag and "checked" not in tag


# ---------------------------------------------------------------- requests and reviews


def test_a_request_names_its_promise_in_the_service_the_page_and_the_api(cast: Cast) -> None:
    batch = cast.batches["own"]
    buyer = cast.users["buyer"]
    values = {
        "batch": batch,
        "user": buyer,
        "subject": "Printer log",
        "question": "Send the printer log of line 2.",
        "due_on": datetime.date(2030, 1, 1),
    }
    with pytest.raises(ValidationError, match="Name the promise"):
        evidence_services.request_create(**values, promises=[])
    url = reverse("batch-requests", args=[batch.pk])
    form = {
        "subject": "Printer log",
        "question": "Send the printer log of line 2.",
        "due_on": "2030-01-01",
    }
    refused = cast.client("buyer").post(url, form)
    assert refused.status_code == 200 and not EvidenceRequest.objects.exists()
    sent = cast.client("buyer").post(url, form | {"promises": ["process", "capacity"]})
    assert sent.status_code == 302
    asked = EvidenceRequest.objects.get()
    assert asked.promises == "capacity,process"
    page = cast.client("supplier_a").get(reverse("request-detail", args=[asked.pk]))
    assert "What your answer will test:" in page.content.decode()
    assert "Process control" in page.content.decode()
    api = cast.api("buyer")
    api_url = reverse("api-batch-requests", args=[batch.pk])
    body = form | {"due_on": "2030-01-01"}
    assert api.post(api_url, body, format="json").status_code == 400
    created = api.post(api_url, body | {"promises": ["payment"]}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["promises"] == ["payment"]
    listed = cast.api("supplier_a").get(api_url).json()["results"]
    assert {tuple(row["promises"]) for row in listed} == {("capacity", "process"), ("payment",)}


def test_an_exception_review_names_its_promise_on_each_decision(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    exceptions = list(cast.serial_lists["own"].exceptions.all())
    serial_services.exceptions_answer(
        rows=[serial_services.AnswerRow(e.pk, "test_scrap", "Scrapped.") for e in exceptions],
        user=cast.users["supplier_a"],
    )
    url = reverse("batch-exceptions", args=[cast.batches["own"].pk])
    form = {"decide": "1", "exception": [e.pk for e in exceptions], "decision": "accepted"}
    refused = cast.client("buyer").post(url, form)
    assert refused.status_code == 200 and not ExceptionDecision.objects.exists()
    assert "Name the promise" in refused.content.decode()
    decided = cast.client("buyer").post(url, form | {"promises": ["process", "identity"]})
    assert decided.status_code == 302
    assert set(ExceptionDecision.objects.values_list("promises", flat=True)) == {"identity,process"}
    shown = cast.api("supplier_a").get(
        reverse("api-batch-exceptions", args=[cast.batches["own"].pk])
    )
    decisions = [d for row in shown.json()["results"] for d in row["decisions"]]
    assert decisions and all(d["promises"] == ["identity", "process"] for d in decisions)
    event = AuditEvent.objects.filter(action="serial_exception.accepted").first()
    assert event is not None and event.payload["promises"] == ["identity", "process"]
