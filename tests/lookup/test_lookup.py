"""Customer-service lookup: every integrity status from real validated lists, every input form,
placements and warranty, bulk lookups of 100,000 serials, and who may look up what."""

from __future__ import annotations

import csv
import datetime
import html as html_module
import io
import re
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inspection.models import InspectionPlan, SampledUnit, UnitResult
from lookup.inputs import VECTOR_MIN
from lookup.results import (
    BULK_CSV_HEADER,
    LOOKUP_MEANINGS,
    RANK,
    LookupResult,
    LookupStatus,
    warranty_end,
)
from lookup.selectors import serial_lookup, serials_lookup_bulk
from serials import services
from serials.models import NumberingRule, SerialException, SerialList
from tests.conftest import BUYER_SIDE, ROLES, Cast

GTIN = "05012345678900"
S = LookupStatus


@dataclass
class World:
    cast: Cast
    own: SerialList  # OWN-B1 of PO-OWN (supplier A): VLT000001–21 without 5, 7 twice
    bee: SerialList  # B_ORDER-B1 of PO-BEE (supplier B): VLT000003 again
    foreign: SerialList  # the other buyer's batch: VLT000500–510


def _validated(
    cast: Cast, key: str, lines: list[str], kind: str = "production", name: str = "list.csv"
) -> SerialList:
    uploader = {"own": "supplier_a", "b_order": "supplier_b", "foreign": "supplier_a"}[key]
    serial_list = services.serial_list_upload(
        batch=cast.batches[key],
        user=cast.users[uploader],
        uploaded_file=SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode()),
        kind=kind,
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.status == SerialList.Status.DONE, serial_list.error
    return serial_list


@pytest.fixture
def world(cast: Cast) -> World:
    for buyer in ("buyer", "other_buyer"):
        services.numbering_rule_save(
            user=cast.users[buyer],
            product=GTIN,
            prefix="VLT",
            width=6,
            check_digit="none",
            warranty_months=1,
        )
    services.allocated_range_set(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        first_serial="VLT000001",
        last_serial="VLT000020",
        batch=cast.batches["own"],
    )
    rows = ["serial,carton"]
    for n in [*range(1, 22), 7]:
        if n != 5:
            rows.append(f"VLT{n:06d},CTN-{(n - 1) // 10 + 1:03d}")
    own = _validated(cast, "own", rows, name="own-production.csv")
    bee = _validated(cast, "b_order", ["serial", "VLT000003"])
    foreign = _validated(cast, "foreign", ["serial", *(f"VLT{n:06d}" for n in range(500, 511))])
    _validated(
        cast,
        "own",
        ["serial,customer_reference,shipped_on", "VLT000001,ACME-778,2026-01-31"],
        kind="distribution",
        name="shipped.csv",
    )
    return World(cast, own, bee, foreign)


def _exception(serial_list: SerialList, kind: str) -> SerialException:
    return serial_list.exceptions.get(kind=kind)


def _accept(world: World, exception: SerialException, supplier: str, reason: str) -> None:
    services.exception_answer(
        exceptions=[exception], user=world.cast.users[supplier], reason=reason, note="Told so."
    )
    services.exception_decide(
        promises=["identity"],
        exceptions=[exception],
        user=world.cast.users["buyer"],
        decision="accepted",
    )


def _look(world: World, text: str, user: str = "service") -> LookupResult:
    return serial_lookup(user=world.cast.users[user], text=text)


# ---------------------------------------------------------------- each status


def test_a_clean_serial_shows_its_order_batch_carton_customer_and_warranty(world: World) -> None:
    result = _look(world, "VLT000001")
    assert (result.status, result.statuses) == (S.CLEAN, [S.CLEAN])
    assert result.reason == "In the validated production list of batch OWN-B1 of PO PO-OWN " + (
        "(pending acceptance)."
    )
    assert (result.order_number, result.batch_code, result.carton) == (
        "PO-OWN",
        "OWN-B1",
        "CTN-001",
    )
    assert result.customer_reference == "ACME-778"
    assert result.shipped_on == datetime.date(2026, 1, 31)
    # 31 January + 1 month: the last day of February.
    assert (result.warranty_months, result.warranty_end) == (1, datetime.date(2026, 2, 28))
    assert result.order_url == reverse("order-detail", args=[world.cast.orders["own"].pk])
    assert result.batch_url == reverse("batch-detail", args=[world.cast.batches["own"].pk])
    assert result.report_url == reverse("serial-list-detail", args=[world.own.pk])
    assert result.registered is False


def test_an_accepted_batch_is_registered(world: World) -> None:
    for exception in world.own.exceptions.all():
        _accept(world, exception, "supplier_a", "printer_skip")
    services.batch_serials_accept(batch=world.cast.batches["own"], user=world.cast.users["buyer"])
    result = _look(world, "VLT000002")
    assert result.status == S.CLEAN and result.registered is True
    assert "(accepted into the registry)" in result.reason


def test_a_duplicated_serial(world: World) -> None:
    result = _look(world, "VLT000007")
    assert result.statuses == [S.DUPLICATED]
    assert result.reason == (
        "On 2 rows of the list of batch OWN-B1 of PO PO-OWN (lines 7, 22) (exception open)."
    )
    assert result.findings[0].url == (
        reverse("serial-list-detail", args=[world.own.pk]) + "?show=duplicates&q=VLT000007"
    )


def test_a_serial_reused_from_an_earlier_order(world: World) -> None:
    result = _look(world, "VLT000003")
    assert result.status == S.REUSED
    assert result.reason == (
        "Reused: batch OWN-B1 of PO PO-OWN used it first; batch B_ORDER-B1 of PO PO-BEE used it "
        "again (exception open)."
    )
    # The unit in hand is most likely the later batch's.
    assert (result.order_number, result.batch_code) == ("PO-BEE", "B_ORDER-B1")


def test_an_accepted_reuse_is_an_accepted_exception(world: World) -> None:
    _accept(world, _exception(world.bee, "reused"), "supplier_b", "rework_relabel")
    result = _look(world, "VLT000003")
    assert result.statuses == [S.ACCEPTED_EXCEPTION]
    assert "The buyer accepted the supplier's reason: Rework — “Told so.”" in result.reason


def test_a_serial_outside_its_batch_allocation(world: World) -> None:
    result = _look(world, "VLT000021")
    assert result.statuses == [S.OUT_OF_RANGE]
    assert result.reason.startswith(
        "Outside the range expected for batch OWN-B1 of PO PO-OWN: VLT000001 – VLT000020"
    )
    assert result.batch_code == "OWN-B1"


def test_a_serial_that_failed_an_inspection_sample(world: World) -> None:
    cast = world.cast
    plan = InspectionPlan.objects.create(
        batch=cast.batches["own"],
        serial_list=world.own,
        level="II",
        aql="1.0",
        lot_size=20,
        code_letter="C",
        plan_letter="C",
        sample_size=5,
        accept=0,
        reject=1,
        seed=7,
        created_by=cast.users["buyer"],
    )
    for position, serial, verdicts in [
        (2, "VLT000002", [False, True]),
        (4, "VLT000004", [True, False]),
    ]:
        unit = SampledUnit.objects.create(plan=plan, position=position, serial=serial)
        for defective in verdicts:  # the newest result counts
            UnitResult.objects.create(
                unit=unit,
                method="typed",
                label_text=serial,
                read_serial=serial,
                matches=True,
                defective=defective,
                defects="Label smudged" if defective else "",
                recorded_by=cast.users["inspector"],
            )
    failed = _look(world, "VLT000002")
    assert failed.statuses == [S.FAILED_INSPECTION]
    assert failed.reason == (
        "Found defective in the inspection sample of batch OWN-B1 of PO PO-OWN: Label smudged"
    )
    assert failed.findings[0].url == reverse("inspection-detail", args=[plan.pk])
    assert _look(world, "VLT000004").status == S.CLEAN


def test_a_serial_declared_destroyed_is_a_counterfeit_signal(world: World) -> None:
    result = _look(world, "VLT000005")
    assert result.statuses == [S.UNKNOWN]
    assert result.reason == (
        "Not in any production list: inside the missing range VLT000005 – VLT000005 of batch "
        "OWN-B1 of PO PO-OWN (exception open)."
    )
    _accept(world, _exception(world.own, "missing"), "supplier_a", "destroyed")
    result = _look(world, "VLT000005")
    # The loudest status, never the calm "inside an accepted exception".
    assert result.statuses == [S.DESTROYED] and RANK[S.DESTROYED] == 0
    assert result.reason.startswith(
        "Possible counterfeit: the supplier declared that no unit carries this serial "
        "(Destroyed: “Told so.”), inside the missing range VLT000005 – VLT000005 of batch "
        "OWN-B1 of PO PO-OWN; the buyer accepted that. No unit should carry it: hold this one, "
        "honour no warranty"
    )
    assert (result.order_number, result.batch_code) == ("PO-OWN", "OWN-B1")
    assert result.warranty_months is None and result.warranty_end is None


@pytest.mark.parametrize("reason", ["printer_skip", "test_scrap"])
def test_labels_never_applied_or_units_scrapped_are_counterfeit_signals_too(
    world: World, reason: str
) -> None:
    _accept(world, _exception(world.own, "missing"), "supplier_a", reason)
    assert _look(world, "VLT000005").statuses == [S.DESTROYED]


def test_the_page_shows_a_destroyed_serial_as_the_loudest_status(world: World) -> None:
    _accept(world, _exception(world.own, "missing"), "supplier_a", "destroyed")
    page = world.cast.client("service").get(reverse("serial-lookup"), {"serial": "VLT000005"})
    html = page.content.decode()
    card = html[html.index("data-lookup-result") : html.index("Bulk lookup")]
    assert 'data-status="destroyed"' in html and "text-bg-danger" in card
    assert "Possible counterfeit" in card and "alert-danger" in card
    assert '<div class="text-body-secondary">Warranty</div>' not in card  # no warranty line
    assert "in warranty" not in card
    assert "Inside an accepted exception" not in card


def test_the_status_names_and_the_legend_agree(world: World) -> None:
    page = world.cast.client("service").get(reverse("serial-lookup"), {"serial": "ABC-1"})
    html = page.content.decode()
    assert 'data-status="unknown"' in html
    legend = html[html.index("What the statuses mean") :]
    found = re.findall(r'</i> ([^<]+)</span><div class="mt-1">([^<]+)</div>', legend)
    rows = [(html_module.unescape(label), html_module.unescape(text)) for label, text in found]
    # One list, in precedence order, each status named as the result badge names it.
    assert [label for label, _ in rows] == [str(S(status).label) for status in S.values]
    meanings = dict(rows)
    assert meanings == {str(S(status).label): str(LOOKUP_MEANINGS[status]) for status in S.values}
    assert "fits none of your numbering rules" in meanings[S.UNKNOWN.label]
    assert "fit" not in meanings[S.MALFORMED.label]  # breaking its rule is not "fitting none"


def test_an_accepted_missing_range_explains_a_serial_others_left_open(world: World) -> None:
    _validated(world.cast, "b_order", ["serial", "VLT000004", "VLT000006"])  # misses 5 too
    _accept(world, _exception(world.own, "missing"), "supplier_a", "sample_retained")
    result = _look(world, "VLT000005")
    assert result.statuses == [S.ACCEPTED_EXCEPTION]
    assert result.reason.endswith(
        "It also lies inside the missing range VLT000005 – VLT000005 of batch B_ORDER-B1 of PO "
        "PO-BEE (exception open)."
    )
    assert result.batch_code == "OWN-B1"


def test_an_accepted_duplicate_is_not_also_duplicated(world: World) -> None:
    _accept(world, _exception(world.own, "duplicate"), "supplier_a", "rework_relabel")
    result = _look(world, "VLT000007")
    assert result.statuses == [S.ACCEPTED_EXCEPTION]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("VLT12", "VLT12 has 5 characters; VLT###### has 9 (the rule for 05012345678900)."),
        ("VLT00000X", "VLT00000X has other characters where VLT######'s digits go"),
        (f"(01){GTIN}(21)XYZ000001", "XYZ000001 does not start with the prefix VLT"),
        ("(01)05012345678901(21)VLT000001", "The text cannot be read: Invalid GTIN check digit"),
        (f"(01){GTIN}", f"The label carries GTIN {GTIN} but no serial (AI 21)."),
    ],
)
def test_malformed_input(world: World, text: str, reason: str) -> None:
    result = _look(world, text)
    assert result.statuses == [S.MALFORMED]
    assert result.reason.startswith(reason), result.reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("VLT000999", "VLT000999 fits VLT######, but no batch of yours used it."),
        ("ABC-1", "ABC-1 fits none of your numbering rules."),
        (
            "(01)09506000134352(21)VLT000001",
            "None of your numbering rules is for GTIN 09506000134352.",
        ),
    ],
)
def test_unknown_serials(world: World, text: str, reason: str) -> None:
    result = _look(world, text)
    assert (result.statuses, result.reason) == ([S.UNKNOWN], reason)
    assert result.order_number == result.batch_code == ""


def test_it_returns_every_status_that_applies_primary_first(world: World) -> None:
    cast = world.cast
    # VLT000007 is duplicated in OWN-B1; make BEE-B1 hold it too.
    bee = _validated(cast, "b_order", ["serial", "VLT000003", "VLT000007", "VLT000030"])
    assert bee.pk != world.bee.pk
    result = _look(world, "VLT000007")
    assert result.statuses == [S.REUSED, S.DUPLICATED]
    assert result.status == S.REUSED


# ---------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("  vlt000001 ", "plain"),
        (f"(01){GTIN}(21)VLT000001", "gs1_element_string"),
        (f"]d201{GTIN}21VLT000001\x1d10LOT7", "gs1_element_string"),
        (f"https://id.gs1.org/01/{GTIN}/21/VLT000001", "digital_link"),
    ],
)
def test_every_input_form_finds_the_same_unit(world: World, text: str, kind: str) -> None:
    result = _look(world, text)
    assert (result.serial, result.input_kind, result.status) == ("VLT000001", kind, S.CLEAN)
    assert (result.batch_code, result.customer_reference) == ("OWN-B1", "ACME-778")
    assert result.gtin == ("" if kind == "plain" else GTIN)


@pytest.mark.parametrize(
    ("shipped", "months", "end"),
    [
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2028, 1, 31), 1, datetime.date(2028, 2, 29)),
        (datetime.date(2026, 3, 31), 6, datetime.date(2026, 9, 30)),
        (datetime.date(2026, 11, 24), 24, datetime.date(2028, 11, 24)),
        (datetime.date(2026, 11, 24), None, None),
        (None, 24, None),
    ],
)
def test_warranty_end(shipped: datetime.date | None, months: int | None, end: object) -> None:
    assert warranty_end(shipped, months) == end


def test_the_newest_list_of_each_kind_speaks(world: World) -> None:
    _validated(
        world.cast,
        "own",
        ["serial,customer,shipped", "VLT000001,Shop 9,2026-03-01"],
        kind="distribution",
        name="corrected.csv",
    )
    _validated(
        world.cast, "own", ["serial,box", "VLT000001,BOX-9"], kind="carton", name="boxes.csv"
    )
    result = _look(world, "VLT000001")
    assert (result.customer_reference, result.shipped_on) == ("Shop 9", datetime.date(2026, 3, 1))
    assert result.carton == "BOX-9"  # a carton list beats the production list's carton column
    assert result.warranty_end == datetime.date(2026, 4, 1)


# ---------------------------------------------------------------- reads only, and quickly


def test_a_lookup_only_reads_in_a_handful_of_queries(world: World) -> None:
    user = world.cast.users["service"]
    user.membership  # noqa: B018 - the session's user arrives with its membership loaded
    with CaptureQueriesContext(connection) as queries:
        result = serial_lookup(user=user, text=f"(01){GTIN}(21)VLT000001")
    assert result.status == S.CLEAN
    statements = [q["sql"].lstrip().split(None, 1)[0].upper() for q in queries.captured_queries]
    assert set(statements) == {"SELECT"}, statements
    # The buyer's rules, the lists that speak for the product, one statement for the runs,
    # placements and sampled units, one for the exceptions of the list holding it.
    assert len(statements) == 4, [q["sql"] for q in queries.captured_queries]


def test_a_bulk_lookup_gives_one_result_per_input_in_order(world: World) -> None:
    texts = ["VLT000007", "VLT000001", "nonsense", "VLT000001", "VLT000005", "VLT000003"]
    results = serials_lookup_bulk(user=world.cast.users["service"], texts=texts)
    assert [r.input for r in results] == texts
    assert [r.status for r in results] == [
        S.DUPLICATED,
        S.CLEAN,
        S.UNKNOWN,
        S.CLEAN,
        S.UNKNOWN,
        S.REUSED,
    ]
    # Enough serials for the engine's vectorised classification; the same answers as one by one.
    texts += [f"VLT{n:06d}" for n in range(1, 25)] + ["VLT12", "VLT00000X", f"(01){GTIN}(21)A1"]
    assert len(texts) >= VECTOR_MIN
    results = serials_lookup_bulk(user=world.cast.users["service"], texts=texts)
    single = [_look(world, text) for text in texts]
    assert [r.as_dict() for r in results] == [r.as_dict() for r in single]
    assert [r.status for r in results[-3:]] == [S.MALFORMED] * 3


# ---------------------------------------------------------------- pages and API


def _csv(response: object) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_page_shows_a_result(world: World) -> None:
    page = world.cast.client("service").get(reverse("serial-lookup"), {"serial": "VLT000007"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-status="duplicated"' in html and "Duplicated in its batch" in html
    assert "PO PO-OWN" in html and "CTN-001" in html
    assert reverse("serial-list-detail", args=[world.own.pk]) + "?show=duplicates" in html
    empty = world.cast.client("service").get(reverse("serial-lookup"), {"serial": "  "})
    assert empty.status_code == 400 and "Type, paste or scan a serial." in empty.content.decode()


def test_bulk_csv_of_100000_lines(world: World) -> None:
    lines = ["serial", *(f"VLT{n:06d}" for n in range(1, 100_001))]
    upload = SimpleUploadedFile("returns.csv", ("\n".join(lines) + "\n").encode())
    response = world.cast.client("service").post(reverse("serial-lookup-bulk"), {"file": upload})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert len(rows) == 100_000
    assert list(rows[0]) == BULK_CSV_HEADER
    assert rows[0] | {"reason": ""} == {
        "input": "VLT000001",
        "serial": "VLT000001",
        "gtin": "",
        "status": "clean",
        "statuses": "clean",
        "order": "PO-OWN",
        "batch": "OWN-B1",
        "carton": "CTN-001",
        "shipped_on": "2026-01-31",
        "customer_reference": "ACME-778",
        "warranty_end": "2026-02-28",
        "reason": "",
    }
    assert rows[4]["status"] == "unknown" and "missing range" in rows[4]["reason"]
    assert rows[499]["status"] == "unknown"  # VLT000500 is the other buyer's


def test_bulk_refuses_100001_serials_naming_the_limit(world: World) -> None:
    text = "\n".join(f"VLT{n:06d}" for n in range(1, 100_002))
    upload = SimpleUploadedFile("returns.txt", text.encode())
    response = world.cast.client("service").post(reverse("serial-lookup-bulk"), {"file": upload})
    assert response.status_code == 400
    assert "100,001 serials were given; one bulk lookup takes at most 100,000" in (
        response.content.decode()
    )
    api = world.cast.api("service").post(
        reverse("api-serial-lookup-bulk"), {"serials": text.split("\n")}, format="json"
    )
    assert api.status_code == 400
    assert "at most 100,000" in api.json()["serials"][0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"serials": "   \n  "}, "Paste serials or choose a file to look up."),
        ({}, "Paste serials or choose a file to look up."),
        ({"file": ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00")}, "photo.png is not a text file"),
        ({"file": ("list.xlsx", b"PK\x03\x04abc")}, "list.xlsx is a spreadsheet or ZIP archive"),
        ({"file": ("blank.csv", b"serial\n\n")}, "There are no serials to look up."),
        (
            {"serials": "VLT000001", "file": ("a.csv", b"VLT000002")},
            "Paste serials or upload a file, not both.",
        ),
    ],
)
def test_bulk_bad_input_shows_the_page_with_a_message(
    world: World, data: dict, message: str
) -> None:
    if "file" in data:
        name, content = data["file"]
        data = {**data, "file": SimpleUploadedFile(name, content)}
    response = world.cast.client("service").post(reverse("serial-lookup-bulk"), data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_bulk_paste_reads_lines_and_csv_columns_safely(world: World) -> None:
    paste = 'serial,note\r\nVLT000001,x\r\n=HYPERLINK("http://evil"),y\r\n'
    response = world.cast.client("service").post(reverse("serial-lookup-bulk"), {"serials": paste})
    rows = _csv(response)
    assert [row["input"] for row in rows] == ["VLT000001", '\'=HYPERLINK("http://evil")']
    # A scanner's group separator stays inside its line.
    paste = f"]d201{GTIN}21VLT000007\x1d10LOT1\nVLT000003"
    rows = _csv(
        world.cast.client("service").post(reverse("serial-lookup-bulk"), {"serials": paste})
    )
    assert [(row["serial"], row["status"]) for row in rows] == [
        ("VLT000007", "duplicated"),
        ("VLT000003", "reused"),
    ]


def test_the_api_answers_one_serial(world: World) -> None:
    api = world.cast.api("service")
    response = api.get(
        reverse("api-serial-lookup"), {"serial": f"https://id.gs1.org/01/{GTIN}/21/VLT000001"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "clean" and body["statuses"] == ["clean"]
    assert (body["order"], body["batch"], body["carton"]) == ("PO-OWN", "OWN-B1", "CTN-001")
    assert (body["shipped_on"], body["warranty_end"]) == ("2026-01-31", "2026-02-28")
    assert body["order_url"] == "http://testserver" + reverse(
        "order-detail", args=[world.cast.orders["own"].pk]
    )
    missing = api.get(reverse("api-serial-lookup"))
    assert missing.status_code == 400
    assert missing.json() == {
        "serial": ["Give the serial to look up: ?serial=<serial or label text>."]
    }


def test_the_api_answers_many_serials_as_json_or_csv(world: World) -> None:
    api = world.cast.api("service")
    url = reverse("api-serial-lookup-bulk")
    payload = {"serials": ["VLT000003", "VLT000005", "x"]}
    body = api.post(url, payload, format="json").json()
    assert [row["status"] for row in body] == ["reused", "unknown", "unknown"]
    as_csv = api.post(url + "?format=csv", payload, format="json")
    assert as_csv["Content-Type"].startswith("text/csv")
    assert [row["status"] for row in _csv(as_csv)] == ["reused", "unknown", "unknown"]
    accepts = api.post(url, payload, format="json", HTTP_ACCEPT="text/csv")
    assert accepts["Content-Type"].startswith("text/csv")
    refused = api.post(url + "?format=csv", {"serials": "VLT1"}, format="json")
    assert refused.status_code == 400 and refused["Content-Type"] == "application/json"
    assert refused.json() == {"serials": ["Give the serials as a list of texts."]}


def test_the_api_result_has_the_documented_fields(world: World) -> None:
    from lookup.api.serializers import LookupResultSerializer

    body = world.cast.api("service").get(reverse("api-serial-lookup"), {"serial": "VLT1"}).json()
    assert set(body) == set(LookupResultSerializer().fields)
    bulk = world.cast.api("service").post(
        reverse("api-serial-lookup-bulk"), {"serials": ["VLT1"]}, format="json"
    )
    assert bulk.json() == [body]


# ---------------------------------------------------------------- who may look up what


@pytest.mark.parametrize("role", ROLES)
def test_only_the_buyer_s_staff_look_up_and_only_their_own_orders(world: World, role: str) -> None:
    cast = world.cast
    page = cast.client(role).get(reverse("serial-lookup"), {"serial": "VLT000001"})
    bulk = cast.client(role).post(reverse("serial-lookup-bulk"), {"serials": "VLT000001"})
    api = cast.api(role).get(reverse("api-serial-lookup"), {"serial": "VLT000001"})
    api_bulk = cast.api(role).post(
        reverse("api-serial-lookup-bulk"), {"serials": ["VLT000001"]}, format="json"
    )
    if role not in BUYER_SIDE:
        assert (page.status_code, bulk.status_code, api.status_code, api_bulk.status_code) == (
            403,
            403,
            403,
            403,
        ), role
        assert "PO-OWN" not in page.content.decode() + api.content.decode()
        with pytest.raises(PermissionDenied):
            serial_lookup(user=cast.users[role], text="VLT000001")
        return
    assert (page.status_code, bulk.status_code, api.status_code, api_bulk.status_code) == (
        200,
        200,
        200,
        200,
    ), role
    if role == "other_buyer":
        # The cast's buyer's serial is unknown to another buyer; its order is never named.
        assert api.json()["status"] == "unknown" and api.json()["order"] == ""
        assert "PO-OWN" not in page.content.decode() + bulk.content.decode()
        assert "PO-OWN" not in api.content.decode() + api_bulk.content.decode()
        own = cast.api(role).get(reverse("api-serial-lookup"), {"serial": "VLT000500"}).json()
        assert (own["status"], own["order"]) == ("clean", "PO-FOREIGN")
    else:
        assert (api.json()["status"], api.json()["order"]) == ("clean", "PO-OWN")
        assert _csv(bulk)[0]["order"] == "PO-OWN"
        assert api_bulk.json()[0]["order"] == "PO-OWN"
        # ...and another buyer's serial is unknown to them.
        foreign = cast.api(role).get(reverse("api-serial-lookup"), {"serial": "VLT000500"}).json()
        assert (foreign["status"], foreign["order"]) == ("unknown", "")
    nav = cast.client(role).get(reverse("dashboard")).content.decode()
    assert reverse("serial-lookup") in nav


def test_anonymous_visitors_are_sent_away(world: World) -> None:
    anonymous = world.cast.client(None)
    for response in (
        anonymous.get(reverse("serial-lookup"), {"serial": "VLT000001"}),
        anonymous.post(reverse("serial-lookup-bulk"), {"serials": "VLT000001"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    api = world.cast.api(None)
    assert api.get(reverse("api-serial-lookup"), {"serial": "VLT000001"}).status_code == 401
    bulk = api.post(reverse("api-serial-lookup-bulk"), {"serials": ["VLT1"]}, format="json")
    assert bulk.status_code == 401


def test_suppliers_do_not_see_the_lookup_in_the_menu(world: World) -> None:
    nav = world.cast.client("supplier_a").get(reverse("dashboard")).content.decode()
    assert reverse("serial-lookup") not in nav


def test_numbering_rules_carry_the_warranty(cast: Cast) -> None:
    response = cast.client("buyer").post(
        reverse("numbering-rules"),
        {
            "product": GTIN,
            "kind": "sequential",
            "prefix": "VLT",
            "width": 6,
            "check_digit": "none",
            "warranty_months": 24,
        },
    )
    assert response.status_code == 302
    assert NumberingRule.objects.get(product=GTIN).warranty_months == 24
    assert "24 months" in cast.client("service").get(reverse("numbering-rules")).content.decode()
    api = cast.api("buyer").post(
        reverse("api-numbering-rules"),
        {"product": "SKU-1", "prefix": "S", "width": 4, "warranty_months": 601},
        format="json",
    )
    assert api.status_code == 400 and "warranty_months" in api.json()
    listed = cast.api("buyer").get(reverse("api-numbering-rules")).json()["results"]
    assert listed[0]["warranty_months"] == 24
