"""EPCIS 2.0 out: the demo batch's document validates against GS1's schema, its event hashes
are recomputed by epcis-event-hash-generator and match, a changed field changes its hash; SGTIN
URIs split and escape as GS1's Tag Data Standard says; a batch that cannot be written is
refused with what to set; the buyer's staff alone download it; the dossier holds it."""

from __future__ import annotations

import copy
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse
from epcis_event_hash_generator.dl_normaliser import normaliser
from pyld.jsonld import JsonLdError

from approvals.models import Approval
from dossier.build import dossier_write
from dossier.epcis import (
    EpcisRefused,
    carton_uri,
    epcis_document,
    formatted_serials,
    sgtin_uri,
)
from dossier.epcis_hash import epcis_schema_errors, event_ids, event_ids_recomputed, schema_path
from orders.models import Batch, PurchaseOrder
from portal.models import AuditEvent, User
from serials import engine
from serials.models import NumberingRule
from tests.conftest import BUYER_SIDE, ORDER_KEYS, ROLES, VISIBLE, Cast

DEMO_BUYER_SIDE = ["buyer", "finance", "service", "admin"]


@pytest.fixture
def demo(db: None) -> Batch:
    call_command("seed_demo", stdout=io.StringIO())
    return Batch.objects.get(order__number="2026-0141", code="B1")


def _events(document: dict) -> list[dict]:
    return document["epcisBody"]["eventList"]


# SGTIN URIs ----------------------------------------------------------------------------------


def test_it_splits_the_gtin_at_the_company_prefix_and_moves_the_indicator_digit() -> None:
    assert (
        sgtin_uri("05012345678900", 7, "VLT000100001")
        == "urn:epc:id:sgtin:5012345.067890.VLT000100001"
    )
    # The indicator digit (a case of units: 1) leads the item reference; the check digit goes.
    assert sgtin_uri("15012345678907", 7, "A1") == "urn:epc:id:sgtin:5012345.167890.A1"
    assert sgtin_uri("15012345678907", 9, "A1") == "urn:epc:id:sgtin:501234567.1890.A1"
    assert sgtin_uri("15012345678907", 12, "A1") == "urn:epc:id:sgtin:501234567890.1.A1"
    # A GTIN-13 is the GTIN-14 with indicator 0.
    assert sgtin_uri("5012345678900", 7, "A1") == sgtin_uri("05012345678900", 7, "A1")
    # GS1's own reading of the URI (the hash generator's normaliser) gives back the GTIN.
    for length in range(6, 13):
        uri = sgtin_uri("15012345678907", length, "SN-1")
        assert normaliser(uri) == "https://id.gs1.org/01/15012345678907/21/SN-1", length


def test_it_escapes_the_serial_characters_tds_reserves() -> None:
    uri = sgtin_uri("05012345678900", 7, 'A/B%C&D<E>F?G"H')
    assert uri == "urn:epc:id:sgtin:5012345.067890.A%2FB%25C%26D%3CE%3EF%3FG%22H"
    # The rest of character set 82 stays as it is, and GS1's reader accepts the result.
    assert sgtin_uri("05012345678900", 7, "a!'()*+,-.:;=_z").endswith(".a!'()*+,-.:;=_z")
    assert normaliser(uri) is not None


@pytest.mark.parametrize("serial", ["", "X" * 21, "café", "A B", "A#B"])
def test_it_refuses_a_serial_sgtin_cannot_hold(serial: str) -> None:
    with pytest.raises(ValueError, match="character set 82"):
        sgtin_uri("05012345678900", 7, serial)


@pytest.mark.parametrize("check", ["none", "gs1", "luhn"])
def test_it_formats_a_run_of_counters_as_the_engine_does(check: str) -> None:
    rule = engine.NumberingRule("SN", 8, check)
    serials = formatted_serials(rule, 9_999_990, 10_000_020).tolist()
    assert serials == [rule.format(n) for n in range(9_999_990, 10_000_021)]


def test_a_carton_with_an_sscc_is_its_digital_link_and_any_other_is_ours(demo: Batch) -> None:
    assert carton_uri(demo, "350123451234567894") == "https://id.gs1.org/00/350123451234567894"
    # A wrong check digit is no SSCC.
    ours = carton_uri(demo, "350123451234567890")
    assert ours.endswith(f"/epcis/batches/{demo.pk}/cartons/350123451234567890")
    assert carton_uri(demo, "CTN 1/2").endswith("/cartons/CTN%201%2F2")


# The demo batch's document --------------------------------------------------------------------


def test_the_demo_batch_s_document_validates_against_gs1_s_schema(demo: Batch) -> None:
    errors = epcis_schema_errors(epcis_document(demo))
    if errors is None:
        pytest.skip(
            f"GS1's EPCIS 2.0 JSON Schema is not at {schema_path()}: the schema check was not run."
        )
    assert errors == []


def test_the_demo_batch_s_event_hashes_are_recomputed_and_match(demo: Batch) -> None:
    document = epcis_document(demo)
    events = _events(document)
    assert event_ids_recomputed(document) == [event["eventID"] for event in events]
    assert all(e["eventID"].startswith("ni:///sha-256;") for e in events)
    assert all(e["eventID"].endswith("?ver=CBV2.0") for e in events)
    assert len({e["eventID"] for e in events}) == len(events)

    commissioning, *rest = events
    assert (commissioning["type"], commissioning["action"]) == ("ObjectEvent", "ADD")
    assert (commissioning["bizStep"], commissioning["disposition"]) == ("commissioning", "active")
    # VLT000100001–VLT000106000 less the ten destroyed labels, once each.
    epcs = commissioning["epcList"]
    assert len(epcs) == len(set(epcs)) == 5_990
    assert epcs[0] == "urn:epc:id:sgtin:5012345.067890.VLT000100001"
    assert "urn:epc:id:sgtin:5012345.067890.VLT000102405" not in epcs
    accepted = AuditEvent.objects.get(action="batch.serials_accepted", object_id=str(demo.pk))
    assert commissioning["eventTime"].startswith(accepted.created_at.strftime("%Y-%m-%dT%H:%M"))

    packing = [e for e in rest if e["type"] == "AggregationEvent"]
    assert len(packing) == 120  # CTN-001 … CTN-120, fifty chargers each
    assert {e["bizStep"] for e in packing} == {"packing"}
    assert sum(len(e["childEPCs"]) for e in packing) == 5_990
    assert packing[0]["parentID"].endswith(f"/epcis/batches/{demo.pk}/cartons/CTN-001")
    assert set(packing[0]["childEPCs"]) <= set(epcs)

    shipping = [e for e in rest if e.get("bizStep") == "shipping"]
    assert [(e["action"], e["bizStep"], e["disposition"]) for e in shipping] == [
        ("OBSERVE", "shipping", "in_transit")
    ] * 3  # three customers, one shipment date
    assert sum(len(e["epcList"]) for e in shipping) == 1_200  # the first 1,200 chargers
    assert all(len(e["destinationList"]) == 1 for e in shipping)

    # The demo's recorded life: VLT000100050 returned, VLT000105500 destroyed (seed_demo), so
    # that other systems stop treating it as live.
    life = [e for e in rest if "sep:lifeEvent" in e]
    assert [(e["action"], e["bizStep"], e["disposition"], e["epcList"]) for e in life] == [
        ("DELETE", "destroying", "destroyed", ["urn:epc:id:sgtin:5012345.067890.VLT000105500"]),
        ("OBSERVE", "receiving", "returned", ["urn:epc:id:sgtin:5012345.067890.VLT000100050"]),
    ]
    assert len(rest) == len(packing) + len(shipping) + len(life)

    # Every event names the PO and the signed approval that accepted the batch.
    approval = Approval.objects.get(batch=demo, pins__kind="serial_list")
    for event in events:
        transactions = {t["type"]: t["bizTransaction"] for t in event["bizTransactionList"]}
        assert transactions["po"].endswith(f"/orders/{demo.order_id}/")
        assert transactions["sep:approval"].endswith(f"/approvals/{approval.pk}/")
        assert event["sep:approval"]["sep:approvalID"] == str(approval.pk)
        assert event["sep:approval"]["sep:manifestSHA256"] == approval.manifest_sha256
    assert document["@context"][1]["sep"].endswith("/epcis/vocabulary/")


@pytest.mark.parametrize(
    ("position", "field", "value"),
    [
        (0, "eventTime", "2026-01-01T00:00:00.000Z"),
        (5, "parentID", "https://id.gs1.org/00/350123451234567894"),
        (-1, "sep:approval", {"sep:approvalID": "1", "sep:manifestSHA256": "0" * 64}),
    ],
)
def test_a_changed_field_changes_its_event_s_recomputed_hash(
    demo: Batch, position: int, field: str, value: object
) -> None:
    document = epcis_document(demo)
    tampered = copy.deepcopy(document)
    _events(tampered)[position][field] = value
    recomputed = event_ids_recomputed(tampered)
    stated = [event["eventID"] for event in _events(document)]
    changed = [i for i, (a, b) in enumerate(zip(recomputed, stated, strict=True)) if a != b]
    assert changed == [range(len(stated))[position]]


def test_a_changed_serial_in_a_big_list_changes_the_hash(demo: Batch) -> None:
    document = epcis_document(demo)
    tampered = copy.deepcopy(document)
    epcs = _events(tampered)[0]["epcList"]
    epcs[4000] = epcs[4000].replace("VLT", "VLX")
    assert event_ids_recomputed(tampered)[0] != _events(document)[0]["eventID"]


def test_the_hash_never_fetches_a_context(demo: Batch) -> None:
    document = epcis_document(demo)
    document["@context"] = ["https://example.com/not-gs1-context.jsonld"]
    with pytest.raises(JsonLdError):
        event_ids_recomputed(document)


# Refusals ------------------------------------------------------------------------------------


def test_it_refuses_a_rule_without_its_company_prefix_length(demo: Batch) -> None:
    NumberingRule.objects.filter(product=demo.order.gtin).update(company_prefix_length=None)
    with pytest.raises(EpcisRefused, match="Set the GS1 Company Prefix length"):
        epcis_document(demo)
    buyer = User.objects.get(username="buyer")
    client = _client(buyer)
    response = client.get(reverse("batch-epcis", args=[demo.pk]), follow=True)
    assert response.redirect_chain == [(reverse("batch-detail", args=[demo.pk]), 302)]
    assert "Set the GS1 Company Prefix length" in response.content.decode()
    api = client.get(reverse("api-batch-epcis", args=[demo.pk]))
    assert api.status_code == 409
    assert "GS1 Company Prefix length" in api.json()["detail"]


def test_it_refuses_a_sku_product_and_a_batch_without_accepted_serials(demo: Batch) -> None:
    sku_batch = Batch.objects.get(order__number="2026-0152")
    with pytest.raises(EpcisRefused, match="SKU TQ-18V-DRL-EU"):
        epcis_document(sku_batch)
    unaccepted = Batch.objects.get(order__number="2026-0141", code="B2")
    with pytest.raises(EpcisRefused, match="no accepted serials"):
        epcis_document(unaccepted)


# Who downloads it ----------------------------------------------------------------------------


def _client(user: User) -> object:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_buyer_s_staff_download_it_and_others_get_404(demo: Batch) -> None:
    for username in [*DEMO_BUYER_SIDE, "supplier_a", "supplier_b", "inspector"]:
        client = _client(User.objects.get(username=username))
        for name in ("batch-epcis", "api-batch-epcis"):
            response = client.get(reverse(name, args=[demo.pk]))
            if username not in DEMO_BUYER_SIDE:
                assert response.status_code == 404, (username, name)
                assert b"urn:epc" not in response.content
                continue
            assert response.status_code == 200, (username, name)
            assert response["Content-Type"] == "application/ld+json"
            assert response["Content-Disposition"] == (
                'attachment; filename="epcis-PO-2026-0141-B1.jsonld"'
            )
            document = json.loads(response.content)
            assert len(_events(document)) == 126  # 1 + 120 cartons + 3 shipments + 2 life events
    logged = AuditEvent.objects.filter(action="batch.epcis_downloaded", object_id=str(demo.pk))
    assert logged.count() == 2 * len(DEMO_BUYER_SIDE)


def test_it_is_scoped_for_every_role_own_and_foreign(cast_with_lists: Cast) -> None:
    """The cast's batches cannot be written (no prefix length, serials not accepted): whoever
    may download gets the refusal, everyone else 404 as for a batch that does not exist."""
    cast, wrong = cast_with_lists, []
    for role in ROLES:
        page, api = cast.client(role), cast.api(role)
        for key in ORDER_KEYS:
            batch = cast.batches[key]
            may = key in VISIBLE[role] and role in BUYER_SIDE
            response = page.get(reverse("batch-epcis", args=[batch.pk]))
            expected = (302, reverse("batch-detail", args=[batch.pk])) if may else (404, None)
            if (response.status_code, response.get("Location")) != expected:
                wrong.append((role, key, "page", response.status_code))
            response = api.get(reverse("api-batch-epcis", args=[batch.pk]))
            if response.status_code != (409 if may else 404):
                wrong.append((role, key, "api", response.status_code))
            elif not may and cast.orders[key].number in response.content.decode():
                wrong.append((role, key, "api shows the order number", 404))
    assert wrong == []
    anonymous = cast.client(None).get(reverse("batch-epcis", args=[cast.batches["own"].pk]))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    api = cast.api(None).get(reverse("api-batch-epcis", args=[cast.batches["own"].pk]))
    assert api.status_code in (401, 403)


def test_the_batch_page_offers_the_download_to_the_buyer_s_staff_only(demo: Batch) -> None:
    link = reverse("batch-epcis", args=[demo.pk])
    for username in [*DEMO_BUYER_SIDE, "supplier_a", "inspector"]:
        page = _client(User.objects.get(username=username)).get(
            reverse("batch-detail", args=[demo.pk])
        )
        assert page.status_code == 200
        assert (link in page.content.decode()) == (username in DEMO_BUYER_SIDE), username


# The dossier ---------------------------------------------------------------------------------


def test_the_dossier_holds_each_batch_s_document_or_why_not(demo: Batch) -> None:
    order = PurchaseOrder.objects.get(number="2026-0141")
    target = io.BytesIO()
    dossier_write(order=order, target=target)
    archive = zipfile.ZipFile(target)
    manifest = json.loads(archive.read("manifest.json"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    sums = archive.read("SHA256SUMS").decode()
    assert "epcis/batch-B1.jsonld" in listed and "  epcis/batch-B1.jsonld\n" in sums
    document = json.loads(archive.read("epcis/batch-B1.jsonld"))
    assert event_ids_recomputed(document) == [e["eventID"] for e in _events(document)]
    why = archive.read("epcis/batch-B2-not-written.txt").decode()
    assert "no accepted serials" in why
    assert "epcis/" in archive.read("README.txt").decode()


def test_events_of_one_shape_hash_as_the_library_hashes_each() -> None:
    """Cartons differing only in their parent (ours or an SSCC) and their units, a serial the
    library escapes, lists of one: the shortcut's hashes are the library's, event by event."""
    context = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"sep": "urn:x"}]
    gtin = "05012345678900"
    parents = ["https://id.gs1.org/00/350123451234567894", "http://x.example/cartons/C%201"]

    def carton(i: int, serials: list[str]) -> dict:
        return {
            "type": "AggregationEvent",
            "eventTime": "2026-11-20T10:00:00.000Z",
            "eventTimeZoneOffset": "+00:00",
            "parentID": parents[i % 2] + str(i),
            "childEPCs": [sgtin_uri(gtin, 7, serial) for serial in serials],
            "action": "ADD",
            "bizStep": "packing",
            "bizTransactionList": [{"type": "po", "bizTransaction": "http://x.example/po/1"}],
        }

    events = [
        carton(0, ["B2", "A1", "C3"]),
        carton(1, ["Z9"]),
        carton(2, ["A/B", "A(1)", "a!", "X"]),
        carton(4, ["A.B", "A.C", "Z-1"]),
        carton(3, [f"SN{n:05d}" for n in range(500, 0, -1)]),
    ]
    document = {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-20T10:00:00Z",
        "epcisBody": {"eventList": events},
    }
    assert event_ids(context, events) == event_ids_recomputed(document)


def test_a_refusal_is_json_whichever_media_type_was_asked(cast_with_lists: Cast) -> None:
    """A batch that cannot be written answers 409 as a JSON error, also to a client asking for
    JSON-LD (the schema documents the error as application/json)."""
    url = reverse("api-batch-epcis", args=[cast_with_lists.batches["own"].pk])
    client = cast_with_lists.api("buyer")
    for asked in ({"HTTP_ACCEPT": "application/ld+json"}, {}):
        response = client.get(url, **asked)
        assert response.status_code == 409 and response["Content-Type"] == "application/json"
    response = client.get(url + "?format=jsonld")
    assert response.status_code == 409 and response["Content-Type"] == "application/json"
