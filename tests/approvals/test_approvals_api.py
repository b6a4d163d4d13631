"""Approvals, gates and payments over the API: the same narrow rules as the pages."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from approvals import services as approvals
from approvals.models import Approval, Gate, Payment
from tests.conftest import PASSWORD, ROLES, VISIBLE, Cast, totp_code
from tests.documents import pdf_document


def _sign_payload(cast: Cast, **changes: object) -> dict:
    batch = cast.batches["own"]
    payload = {
        "order": batch.order_id,
        "batch": batch.pk,
        "decision": "accepted_with_conditions",
        "promises": ["identity", "payment"],
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
    payload.update(changes)
    return payload


def test_the_buyer_signs_through_the_api(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    response = cast.api("buyer").post(
        reverse("api-approval-list"), _sign_payload(cast), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["signature"]["printed_name"] == cast.users["buyer"].printed_name
    assert body["signature_intact"] is True
    assert body["unlocks"] == [cast.gates["own"].pk]
    assert "password" not in body
    assert {pin["kind"] for pin in body["pins"]} == {"evidence", "exception"}


def test_signing_needs_the_password(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    before = Approval.objects.count()
    response = cast.api("buyer").post(
        reverse("api-approval-list"), _sign_payload(cast, password="guess"), format="json"
    )
    assert response.status_code == 400
    assert "not your password" in str(response.json())
    assert Approval.objects.count() == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pins": ["evidence:{b_evidence}"]}, "covers only its own batch"),
        ({"unlocks": ["{b_gate}"]}, "opens only the gates of its own batch"),
        ({"unlocks": ["{foreign_gate}"]}, "No gate with id"),
        ({"pins": ["everything:1"]}, "is not a kind of pin"),
        ({"pins": []}, "This list may not be empty"),
    ],
)
def test_an_approval_cannot_widen_through_the_api(
    cast_with_lists: Cast, changes: dict, message: str
) -> None:
    cast = cast_with_lists
    values = {
        "b_evidence": cast.evidence["b_order"].pk,
        "b_gate": cast.gates["b_order"].pk,
        "foreign_gate": cast.gates["foreign"].pk,
    }
    filled = {key: [str(item).format(**values) for item in value] for key, value in changes.items()}
    filled["unlocks"] = [int(x) for x in filled.get("unlocks", [cast.gates["own"].pk])]
    before = Approval.objects.count()
    response = cast.api("buyer").post(
        reverse("api-approval-list"), _sign_payload(cast, **filled), format="json"
    )
    assert response.status_code == 400, response.json()
    assert message in str(response.json())
    assert Approval.objects.count() == before
    # A foreign gate is not named back to the caller.
    assert "PO-FOREIGN" not in response.content.decode()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_signed_approval_cannot_be_changed_through_the_api(
    cast_with_lists: Cast, method: str
) -> None:
    cast = cast_with_lists
    approval = cast.approvals["own"]
    url = reverse("api-approval-detail", args=[approval.pk])
    response = getattr(cast.api("buyer"), method)(
        url, {"sentence": "Anything goes."}, format="json"
    )
    assert response.status_code == 405
    approval.refresh_from_db()
    assert approval.sentence == "Batch OWN-B1 may ship as photographed."


def test_a_signature_on_an_outdated_approval_is_a_conflict(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    api = cast.api("buyer")
    assert (
        api.post(reverse("api-approval-list"), _sign_payload(cast), format="json").status_code
        == 201
    )
    again = api.post(reverse("api-approval-list"), _sign_payload(cast), format="json")
    assert again.status_code == 409
    assert "signed" in again.json()["detail"]


@pytest.mark.parametrize("role", ROLES)
def test_lists_show_only_what_the_caller_may_see(cast_with_lists: Cast, role: str) -> None:
    cast = cast_with_lists
    api = cast.api(role)
    approvals_seen = {a["order"] for a in api.get(reverse("api-approval-list")).json()["results"]}
    gates = api.get(reverse("api-gate-list")).json()["results"]
    visible = {cast.orders[key].pk for key in VISIBLE[role]}
    assert approvals_seen == visible
    assert {g["order"] for g in gates} == visible
    for gate in gates:
        assert gate["state"] == "open"
        # Only the buyer's staff read why a gate is in its state.
        assert bool(gate["reason"]) == (
            role in {"buyer", "finance", "service", "admin", "other_buyer"}
        )


def test_the_gate_list_filters_by_state_and_order(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    api = cast.api("finance")
    approvals.gate_create(
        user=cast.users["buyer"], order=cast.orders["own"], batch=None, kind="deposit"
    )
    blocked = api.get(reverse("api-gate-list"), {"state": "blocked"}).json()["results"]
    assert [(g["kind"], g["batch"]) for g in blocked] == [("deposit", None)]
    own = api.get(reverse("api-gate-list"), {"order": cast.orders["own"].pk}).json()["results"]
    assert len(own) == 2
    refused = api.get(reverse("api-gate-list"), {"order": "x"})
    assert refused.status_code == 400 and "order" in refused.json()
    assert api.get(reverse("api-gate-list"), {"state": "shut"}).json().keys() == {"state"}


def test_managers_add_gates_through_the_api(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    payload = {"order": cast.orders["own"].pk, "batch": cast.batches["own"].pk, "kind": "balance"}
    # A money gate is set once: without its amount it is refused, never made empty.
    refused = cast.api("buyer").post(reverse("api-gate-list"), payload, format="json")
    assert refused.status_code == 400 and "amount" in refused.json()
    payload |= {"amount": "42000.00", "currency": "USD"}
    created = cast.api("buyer").post(reverse("api-gate-list"), payload, format="json")
    assert created.status_code == 201 and created.json()["state"] == "blocked"
    assert (
        cast.api("buyer").post(reverse("api-gate-list"), payload, format="json").status_code == 400
    )
    assert (
        cast.api("finance").post(reverse("api-gate-list"), payload, format="json").status_code
        == 403
    )
    foreign = {"order": cast.orders["foreign"].pk, "kind": "shipment_release"}
    assert (
        cast.api("buyer").post(reverse("api-gate-list"), foreign, format="json").status_code == 404
    )


def test_finance_releases_once_and_a_blocked_gate_needs_a_reason(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    api = cast.api("finance")
    gate = approvals.gate_create(
        user=cast.users["buyer"], order=cast.orders["own"], batch=None, kind="deposit"
    )
    url = reverse("api-gate-release", args=[gate.pk])
    finance = cast.users["finance"]
    refused = api.post(url, {"code": totp_code(finance)}, format="json")
    assert refused.status_code == 400 and "write why" in str(refused.json())
    no_code = api.post(url, {"reason": "Deposit due by contract."}, format="json")
    assert no_code.status_code == 400 and "code" in no_code.json()
    wrong = {"reason": "Deposit due by contract.", "code": "000000"}
    assert api.post(url, wrong, format="json").status_code == 400
    released = api.post(
        url, {"reason": "Deposit due by contract.", "code": totp_code(finance)}, format="json"
    )
    assert released.status_code == 200
    assert released.json()["state"] == "released_with_exception"
    again = {"reason": "again", "code": totp_code(finance)}
    assert api.post(url, again, format="json").status_code == 409


def test_finance_records_a_payment_with_its_document(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    gate = cast.gates["own"]
    url = reverse("api-gate-payments", args=[gate.pk])
    payload = {
        "kind": "rework_charge",
        "amount": "250.00",
        "currency": "usd",
        "payee": "Quick Relabel Ltd",
        "paid_on": "2026-11-20",
        "document": SimpleUploadedFile("invoice.pdf", pdf_document("rework")),
    }
    response = cast.api("finance").post(url, payload, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["currency"] == "USD" and body["payee_named_in_file"] is False
    assert len(body["document_sha256"]) == 64
    listed = cast.api("finance").get(url).json()["results"]
    assert body["id"] in {p["id"] for p in listed}
    payload["document"] = SimpleUploadedFile("invoice.pdf", pdf_document("rework"))
    assert cast.api("buyer").post(url, payload, format="multipart").status_code == 403
    assert cast.api("supplier_a").post(url, payload, format="multipart").status_code == 404
    assert Payment.objects.filter(gate=gate, kind="rework_charge").count() == 1


def test_the_schema_describes_the_new_endpoints_without_warnings() -> None:
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/approvals/" in out.getvalue() and "/api/gates/{id}/payments/" in out.getvalue()


def test_gate_ids_in_the_api_match_the_models(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    body = cast.api("buyer").get(reverse("api-gate-detail", args=[cast.gates["own"].pk])).json()
    assert body["kind"] == Gate.Kind.SHIPMENT_RELEASE
    assert body["approval"] == cast.approvals["own"].pk


def test_another_buyers_ids_answer_like_missing_ones(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    foreign = cast.batches["foreign"]
    payload = {
        "order": foreign.order_id,
        "batch": foreign.pk,
        "decision": "rejected",
        "promises": ["identity", "payment"],
        "sentence": "No.",
        "password": PASSWORD,
        "code": totp_code(cast.users["other_buyer"]),
        "based_on": cast.approvals["foreign"].pk,
    }
    api = cast.api("other_buyer")
    theirs = api.post(
        reverse("api-approval-list"),
        payload | {"pins": [f"evidence:{cast.evidence['own'].pk}"]},
        format="json",
    )
    missing = api.post(
        reverse("api-approval-list"), payload | {"pins": ["evidence:999999"]}, format="json"
    )
    assert theirs.status_code == missing.status_code == 400
    assert "there is no evidence #" in str(theirs.json())
    assert "own.jpg" not in theirs.content.decode() and "OWN-B1" not in theirs.content.decode()


@pytest.mark.parametrize(
    "query", [{"order": "²"}, {"batch": "١٢"}, {"order": "9" * 40}, {"batch": ""}]
)
def test_odd_ids_in_filters_answer_400_naming_them(cast_with_lists: Cast, query: dict) -> None:
    api = cast_with_lists.api("buyer")
    for name in ("api-approval-list", "api-gate-list"):
        response = api.get(reverse(name), query)
        assert response.status_code == 400 and response.json().keys() == query.keys()
    pinned = api.post(
        reverse("api-approval-list"),
        _sign_payload(cast_with_lists, pins=["evidence:²"]),
        format="json",
    )
    assert pinned.status_code == 400


def test_an_order_level_acceptance_needs_every_batch_decided(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    order = cast.orders["own"]
    gate = approvals.gate_create(user=cast.users["buyer"], order=order, kind="balance")
    payload = {
        "order": order.pk,
        "decision": "accepted",
        "promises": ["identity", "payment"],
        "sentence": "The whole order may be paid.",
        "pins": [f"evidence:{cast.evidence['own'].pk}"],
        "unlocks": [gate.pk],
        "password": PASSWORD,
        "code": totp_code(cast.users["buyer"]),
    }
    response = cast.api("buyer").post(reverse("api-approval-list"), payload, format="json")
    assert response.status_code == 400
    assert "are not accepted" in str(response.json())
    assert approvals.gate_state(gate).state == "blocked"
