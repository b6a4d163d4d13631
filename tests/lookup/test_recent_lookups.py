"""Customer service's recent lookups (issue 14): each lookup — page, API, bulk CSV — logged once
in the request that answered it, with the text as typed (or the file's name) and the loudest
status, never the answer's customer data; shown to the person who made it, within their
organisation, newest first, each repeating the lookup; and the log is append-only in the
database."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from lookup.log import RECENT_LOOKUPS, lookup_log, loudest_status, recent_lookups
from lookup.models import LookupLog
from lookup.results import LookupResult, LookupStatus
from lookup.selectors import serial_lookup
from serials import services
from serials.models import SerialList
from tests.conftest import BUYER_SIDE, ROLES, Cast

GTIN = "05012345678900"
S = LookupStatus


@pytest.fixture
def listed(cast: Cast) -> SerialList:
    """OWN-B1's list: VLT000001–VLT000010 in carton CTN-1, with VLT000007 twice."""
    services.numbering_rule_save(
        user=cast.users["buyer"], product=GTIN, prefix="VLT", width=6, check_digit="none"
    )
    rows = ["serial,carton", *(f"VLT{n:06d},CTN-1" for n in range(1, 11)), "VLT000007,CTN-1"]
    serial_list = services.serial_list_upload(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        uploaded_file=SimpleUploadedFile("own.csv", ("\n".join(rows) + "\n").encode()),
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.status == SerialList.Status.DONE, serial_list.error
    return serial_list


def _logged(cast: Cast, username: str = "service") -> list[LookupLog]:
    return list(LookupLog.objects.filter(user=cast.users[username]).order_by("id"))


def _entries(page: str) -> list[str]:
    """The recent lookups a page lists, newest first, by their log ids."""
    return re.findall(r'data-lookup-log="(\d+)"', page)


# ---------------------------------------------------------------- logged once per request


def test_a_page_lookup_is_logged_once_with_the_text_as_typed(
    cast: Cast, listed: SerialList
) -> None:
    typed = f" (01){GTIN}(21)VLT000007 "
    page = cast.client("service").get(reverse("serial-lookup"), {"serial": typed})
    assert page.status_code == 200
    [entry] = _logged(cast)
    assert (entry.channel, entry.query, entry.file_name) == ("page", typed, "")
    assert (entry.serial_count, entry.status) == (1, S.DUPLICATED)
    assert entry.organisation_id == cast.organisations["buyer"].pk
    # The page lists it at once, as a link that asks the same again.
    text = page.content.decode()
    assert 'data-testid="recent-lookups"' in text and _entries(text) == [str(entry.pk)]
    assert html.escape(entry.repeat_url) in text
    again = cast.client("service").get(entry.repeat_url)
    assert again.status_code == 200 and 'data-status="duplicated"' in again.content.decode()
    assert [e.query for e in _logged(cast)] == [typed, typed]


def test_a_refused_lookup_is_not_logged(cast: Cast, listed: SerialList) -> None:
    assert cast.client("service").get(reverse("serial-lookup"), {"serial": "  "}).status_code == 400
    assert cast.client("service").get(reverse("serial-lookup")).status_code == 200
    assert cast.api("service").get(reverse("api-serial-lookup")).status_code == 400
    refused = cast.client("service").post(reverse("serial-lookup-bulk"), {"serials": ""})
    assert refused.status_code == 400
    assert (
        cast.client("supplier_a").get(reverse("serial-lookup"), {"serial": "VLT1"}).status_code
        == 403
    )
    assert not LookupLog.objects.exists()


def test_api_lookups_are_logged_once_each(cast: Cast, listed: SerialList) -> None:
    api = cast.api("service")
    one = api.get(reverse("api-serial-lookup"), {"serial": "VLT000001"})
    assert one.status_code == 200 and one.json()["carton"] == "CTN-1"
    bulk_url = reverse("api-serial-lookup-bulk")
    payload = {"serials": ["VLT000001", "VLT000007", "VLT000003"]}
    assert api.post(bulk_url, payload, format="json").status_code == 200
    as_csv = api.post(bulk_url + "?format=csv", payload, format="json")
    assert as_csv["Content-Type"].startswith("text/csv")
    logged = _logged(cast)
    assert [(e.channel, e.query, e.serial_count, e.status) for e in logged] == [
        ("api", "VLT000001", 1, S.CLEAN),
        ("api_bulk", "", 3, S.DUPLICATED),
        ("api_bulk", "", 3, S.DUPLICATED),
    ]


def test_a_bulk_csv_is_logged_with_its_file_name_never_its_serials_or_answers(
    cast: Cast, listed: SerialList
) -> None:
    client = cast.client("service")
    upload = SimpleUploadedFile("returns-week-48.csv", b"serial\nVLT000001\nVLT000002\nVLT000099\n")
    response = client.post(reverse("serial-lookup-bulk"), {"file": upload})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    pasted = client.post(reverse("serial-lookup-bulk"), {"serials": "VLT000003\nVLT000004"})
    assert pasted.status_code == 200
    uploaded, typed = _logged(cast)
    assert (uploaded.channel, uploaded.file_name, uploaded.query) == (
        "page_bulk",
        "returns-week-48.csv",
        "",
    )
    assert (uploaded.serial_count, uploaded.status) == (3, S.UNKNOWN)  # VLT000099: nobody's
    assert (typed.channel, typed.file_name, typed.serial_count, typed.status) == (
        "page_bulk",
        "",
        2,
        S.CLEAN,
    )
    stored = " ".join(str(value) for row in LookupLog.objects.values() for value in row.values())
    for kept_out in ("VLT000001", "VLT000003", "PO-OWN", "OWN-B1", "CTN-1"):
        assert kept_out not in stored
    # A bulk lookup is listed, not repeated: its serials were not kept.
    page = client.get(reverse("serial-lookup")).content.decode()
    assert "returns-week-48.csv: 3 serials" in page and "2 serials at once" in page
    assert uploaded.repeat_url == "" and f'data-lookup-log="{uploaded.pk}"' in page


def test_the_loudest_status_is_the_first_in_precedence() -> None:
    results = [LookupResult(input="a", status=s) for s in (S.CLEAN, S.REUSED, S.DUPLICATED)]
    assert loudest_status(results) == S.REUSED
    assert loudest_status([LookupResult(input="b", status=S.DESTROYED), *results]) == S.DESTROYED


def test_a_lookup_that_cannot_be_logged_is_still_answered(
    cast: Cast, listed: SerialList, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise DatabaseError("the log table is unavailable")

    monkeypatch.setattr(LookupLog, "save", refuse)
    page = cast.client("service").get(reverse("serial-lookup"), {"serial": "VLT000001"})
    assert page.status_code == 200 and 'data-status="clean"' in page.content.decode()
    api = cast.api("service").get(reverse("api-serial-lookup"), {"serial": "VLT000001"})
    assert api.status_code == 200 and api.json()["status"] == "clean"
    assert not LookupLog.objects.exists()


def test_a_text_postgresql_cannot_hold_is_refused_or_kept_readable(
    cast: Cast, listed: SerialList
) -> None:
    response = cast.api("service").get(reverse("api-serial-lookup"), {"serial": "VLT\x00001"})
    assert response.status_code == 400 and not LookupLog.objects.exists()
    # Were one to reach the log, it would be kept readable rather than fail the INSERT.
    entry = lookup_log(
        user=cast.users["service"],
        results=[LookupResult(input="VLT\x00001")],
        channel="api",
        query="VLT\x00001",
    )
    assert entry is not None and entry.query == "VLT\ufffd001"


# ---------------------------------------------------------------- shown to the person only


def test_the_service_dashboard_lists_the_last_ten_newest_first(
    cast: Cast, listed: SerialList
) -> None:
    client = cast.client("service")
    for n in range(1, 13):
        client.get(reverse("serial-lookup"), {"serial": f"VLT{n:06d}"})
    logged = _logged(cast)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="recent-lookups"' in page
    newest = [str(entry.pk) for entry in reversed(logged)][:RECENT_LOOKUPS]
    assert _entries(page) == newest
    assert "VLT000012" in page and "VLT000002" not in page
    # Each with its status badge, as the lookup page shows it, and its time.
    seventh = next(e for e in logged if e.query == "VLT000007")
    item = page[page.index(f'data-lookup-log="{seventh.pk}"') :]
    item = item[: item.index("</a>")]
    assert "text-bg-warning" in item and "Duplicated in its batch" in item
    assert f'href="{html.escape(seventh.repeat_url)}"' in page
    assert "<time datetime=" in item


@pytest.mark.parametrize("role", ROLES)
def test_only_customer_service_s_dashboard_carries_recent_lookups(
    cast: Cast, listed: SerialList, role: str
) -> None:
    response = cast.client(role).get(reverse("dashboard"))
    assert response.status_code == 200
    assert ('data-testid="recent-lookups"' in response.content.decode()) == (role == "service")
    lookup = cast.client(role).get(reverse("serial-lookup"))
    assert lookup.status_code == (200 if role in BUYER_SIDE else 403)
    if role in BUYER_SIDE:
        assert 'data-testid="recent-lookups"' in lookup.content.decode()


def test_another_person_s_lookups_never_show(cast: Cast, listed: SerialList) -> None:
    # The buyer's own colleague, and another buyer's person, look up distinctive texts.
    cast.client("buyer").get(reverse("serial-lookup"), {"serial": "VLT000004"})
    cast.api("finance").post(
        reverse("api-serial-lookup-bulk"), {"serials": ["VLT000005"]}, format="json"
    )
    cast.client("other_buyer").get(reverse("serial-lookup"), {"serial": "VLT000006"})
    cast.client("service").get(reverse("serial-lookup"), {"serial": "VLT000008"})
    # A lookup the service person made for another organisation (before a move) stays there.
    service = cast.users["service"]
    elsewhere = LookupLog.objects.create(
        user=service,
        organisation=cast.organisations["other_buyer"],
        channel="page",
        query="VLT000009",
        serial_count=1,
        status=S.UNKNOWN,
    )
    mine = _logged(cast)[0]
    assert [e.pk for e in recent_lookups(service)] == [mine.pk]
    for url in (reverse("dashboard"), reverse("serial-lookup")):
        page = cast.client("service").get(url).content.decode()
        assert _entries(page) == [str(mine.pk)], url
        for foreign in ("VLT000004", "VLT000005", "VLT000006", "VLT000009"):
            assert foreign not in page, (url, foreign)
    assert str(elsewhere.pk) not in _entries(page)
    # Each of the others sees only their own.
    buyer_page = cast.client("buyer").get(reverse("serial-lookup")).content.decode()
    assert "VLT000004" in buyer_page and "VLT000008" not in buyer_page
    other = cast.client("other_buyer").get(reverse("serial-lookup")).content.decode()
    assert "VLT000006" in other and "VLT000004" not in other and "VLT000008" not in other


def test_lookup_log_writes_nothing_for_someone_outside_any_organisation(cast: Cast) -> None:
    result = LookupResult(input="x")
    assert lookup_log(user=cast.users["outsider"], results=[result], channel="page") is None
    assert recent_lookups(cast.users["outsider"]) == []
    assert not LookupLog.objects.exists()


# ---------------------------------------------------------------- append-only


def test_the_database_refuses_to_change_or_remove_a_logged_lookup(
    cast: Cast, listed: SerialList
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers live in PostgreSQL")
    result = serial_lookup(user=cast.users["service"], text="VLT000001")
    entry = lookup_log(user=cast.users["service"], results=[result], channel="page", query="X")
    assert entry is not None
    rows = LookupLog.objects.filter(pk=entry.pk)
    table = connection.ops.quote_name(LookupLog._meta.db_table)
    for attempt in (
        lambda: rows.update(query="something else"),
        lambda: rows.update(status=S.CLEAN),
        lambda: rows.delete(),
    ):
        with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
            attempt()
    with (
        pytest.raises(DatabaseError, match="pgtrigger: Cannot"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - the model's own table
    # TRUNCATE too: tests/portal/test_immutability.py tries it on every append-only table.
    assert rows.get().query == "X"
