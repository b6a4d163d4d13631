"""The public genuine-or-not check behind GS1 Digital Link URLs (/01/{gtin}/21/{serial}): its
three answers from real validated and accepted lists, a page that leaks nothing of the records,
the rate limit per client address, a log row for every check (refused ones too), the brand's
staff sent to the lookup, and the brand's "Public checks" page, scoped to its own checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lookup.models import PublicCheck
from lookup.public import client_network, gtin_spellings
from orders.models import Batch, PurchaseOrder
from portal.models import Organisation, User
from serials import services
from serials.models import SerialList, SerialPlacement
from tests.conftest import BUYER_SIDE, ROLES, Cast

GTIN = "05012345678900"
V = PublicCheck.Verdict


@dataclass
class Brands:
    cast: Cast
    brand: Organisation  # the cast's buyer, renamed as a brand would be
    other: Organisation  # the other buyer: a rule for the same GTIN, its own accepted batch


def _validated(cast: Cast, key: str, lines: list[str], kind: str = "production") -> SerialList:
    uploader = {"own": "supplier_a", "b_order": "supplier_b", "foreign": "supplier_a"}[key]
    serial_list = services.serial_list_upload(
        batch=cast.batches[key],
        user=cast.users[uploader],
        uploaded_file=SimpleUploadedFile(f"{key}-{kind}.csv", ("\n".join(lines) + "\n").encode()),
        kind=kind,
    )
    services.serial_list_validate(serial_list_id=serial_list.pk)
    serial_list.refresh_from_db()
    assert serial_list.status == SerialList.Status.DONE, serial_list.error
    return serial_list


def _decide(cast: Cast, serial_list: SerialList, supplier: str, buyer: str, reason: str) -> None:
    exceptions = list(serial_list.exceptions.all())
    if not exceptions:
        return
    services.exception_answer(
        exceptions=exceptions, user=cast.users[supplier], reason=reason, note="Torn on the roll."
    )
    services.exception_decide(
        promises=["identity"], exceptions=exceptions, user=cast.users[buyer], decision="accepted"
    )


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """The limit is counted in the cache, which outlives a test: each test starts uncounted."""
    cache.clear()


@pytest.fixture
def brands(cast: Cast) -> Brands:
    """The brand's batch OWN-B1 accepted (VLT000001–20 less VLT000005, declared destroyed),
    B_ORDER-B1's list not accepted (VLT000100–110, and VLT000003 again: reused), and the other
    buyer's own accepted batch of the same GTIN (VLT000500–510)."""
    brand = cast.organisations["buyer"]
    Organisation.objects.filter(pk=brand.pk).update(name="Volta Brands")
    brand.refresh_from_db()
    for buyer in ("buyer", "other_buyer"):
        services.numbering_rule_save(
            user=cast.users[buyer], product=GTIN, prefix="VLT", width=6, check_digit="none"
        )
    rows = ["serial,carton"] + [f"VLT{n:06d},CTN-{n:03d}" for n in range(1, 21) if n != 5]
    own = _validated(cast, "own", rows)
    _validated(
        cast,
        "own",
        ["serial,customer_reference,shipped_on", "VLT000001,ACME-778,2026-11-20"],
        kind="distribution",
    )
    _decide(cast, own, "supplier_a", "buyer", "destroyed")
    services.batch_serials_accept(batch=cast.batches["own"], user=cast.users["buyer"])
    _validated(cast, "b_order", ["serial", "VLT000003", *(f"VLT{n:06d}" for n in range(100, 111))])
    foreign = _validated(cast, "foreign", ["serial", *(f"VLT{n:06d}" for n in range(500, 511))])
    _decide(cast, foreign, "supplier_a", "other_buyer", "printer_skip")
    services.batch_serials_accept(batch=cast.batches["foreign"], user=cast.users["other_buyer"])
    return Brands(cast, brand, cast.organisations["other_buyer"])


def _link(serial: str, gtin: str = GTIN) -> str:
    return reverse("digital-link", kwargs={"gtin": gtin, "serial": serial})


def _check(path: str, client: Client | None = None, **headers: str) -> tuple[int, str, str]:
    """(status, the verdict the page shows, the whole page)."""
    response = (client or Client()).get(path, **headers)
    page = response.content.decode()
    found = re.search(r'data-verdict="([a-z_]+)"', page)
    return response.status_code, found.group(1) if found else "", page


# ---------------------------------------------------------------- the three answers


def test_it_answers_registered_and_accepted_for_a_serial_of_an_accepted_batch(
    brands: Brands,
) -> None:
    status, verdict, page = _check(_link("VLT000001"))
    assert (status, verdict) == (200, V.GENUINE)
    assert "Registered and accepted" in page and "Volta Brands registered this serial" in page
    assert 'data-testid="product-name">Volta 65W charger<' in page  # what the box says
    logged = PublicCheck.objects.get()
    assert (logged.gtin, logged.serial, logged.verdict, logged.brand) == (
        GTIN,
        "VLT000001",
        V.GENUINE,
        brands.brand,
    )
    assert logged.rate_limited is False


def test_it_answers_reported_destroyed_for_a_serial_declared_destroyed(brands: Brands) -> None:
    status, verdict, page = _check(_link("VLT000005"))
    assert (status, verdict) == (200, V.DESTROYED)
    assert "Reported destroyed — do not accept" in page and "Do not accept this unit" in page
    assert PublicCheck.objects.get().brand == brands.brand


@pytest.mark.parametrize(
    ("gtin", "serial"),
    [
        (GTIN, "VLT000999"),  # nobody used it
        (GTIN, "VLT000100"),  # only in a list the brand has not accepted
        (GTIN, "VLT000003"),  # in the accepted batch, and again in another batch's list
        (GTIN, "XYZ-1"),  # does not fit the brand's rule
        ("09506000134352", "VLT000001"),  # a GTIN no brand here has a rule for
        ("05012345678901", "VLT000001"),  # a wrong check digit
        ("not-a-gtin", "VLT000001"),
    ],
)
def test_it_cannot_confirm_anything_else(brands: Brands, gtin: str, serial: str) -> None:
    status, verdict, page = _check(_link(serial, gtin))
    assert (status, verdict) == (200, V.UNCONFIRMED)
    assert "We cannot confirm this unit." in page
    assert "Contact the seller or the brand" in page
    assert "Volta Brands" not in page  # a serial we cannot confirm names no brand
    assert PublicCheck.objects.get().verdict == V.UNCONFIRMED


def test_the_other_brand_s_accepted_serial_is_genuine_for_that_brand(brands: Brands) -> None:
    status, verdict, page = _check(_link("VLT000500"))
    assert (status, verdict) == (200, V.GENUINE)
    assert "Other Buyer Co registered this serial" in page
    assert PublicCheck.objects.get().brand == brands.other


@pytest.mark.parametrize(
    "path",
    [
        "/01/5012345678900/21/VLT000001",  # GTIN-13, as printed under an EAN-13
        "/01/05012345678900/10/LOT-7/21/VLT000001",  # a batch/lot qualifier before the serial
        "/01/05012345678900/21/VLT000001?linkType=all",  # a query, as resolvers receive
        "/01/05012345678900/21/vlt000001",  # case, as a keyboard sends it
    ],
)
def test_every_digital_link_form_finds_the_same_unit(brands: Brands, path: str) -> None:
    assert _check(path)[:2] == (200, V.GENUINE)
    assert PublicCheck.objects.get().gtin == GTIN


def test_short_gtins_match_rules_written_with_or_without_leading_zeros() -> None:
    assert gtin_spellings("05012345678900") == ["05012345678900", "5012345678900"]
    assert gtin_spellings("00000096385074") == [
        "00000096385074",
        "0000096385074",
        "000096385074",
        "96385074",
    ]


# ---------------------------------------------------------------- nothing leaks


def _secrets(cast: Cast) -> list[str]:
    """What the public must never read: order numbers, batch codes, suppliers, customers,
    cartons, people; and the order's dates."""
    found = list(PurchaseOrder.objects.values_list("number", flat=True))
    found += list(Batch.objects.values_list("code", flat=True))
    found += list(
        Organisation.objects.exclude(kind=Organisation.Kind.BUYER).values_list("name", flat=True)
    )
    placements = SerialPlacement.objects.all()
    found += [value for value in placements.values_list("customer_reference", flat=True) if value]
    found += [value for value in placements.values_list("carton", flat=True) if value]
    for user in User.objects.all():
        found += [user.username, user.get_full_name(), user.email]
    found += [str(order.order_date) for order in PurchaseOrder.objects.all()]
    return [value for value in found if value]


def _leaks(page: str, secrets: list[str]) -> list[str]:
    return [
        value for value in secrets if re.search(rf"(?<![\w.-]){re.escape(value)}(?![\w-])", page)
    ]


def test_no_answer_shows_an_order_batch_supplier_customer_carton_or_person(brands: Brands) -> None:
    secrets = _secrets(brands.cast)
    assert {"PO-OWN", "OWN-B1", "Supplier A Co", "ACME-778", "CTN-001", "supplier_a"} <= set(
        secrets
    )
    pages = {}
    for serial in ("VLT000001", "VLT000005", "VLT000100", "VLT000003", "VLT000999"):
        pages[serial] = _check(_link(serial))[2]
    assert {serial: _leaks(page, secrets) for serial, page in pages.items()} == {
        serial: [] for serial in pages
    }


def test_the_demo_s_three_answers_leak_nothing(db: None) -> None:
    call_command("seed_demo", stdout=StringIO())
    secrets = _secrets_of_the_demo()
    answers = {}
    for serial, expected in (
        ("VLT000100001", V.GENUINE),  # batch B1 of PO 2026-0141, accepted and shipped
        ("VLT000102405", V.DESTROYED),  # a label torn with the roll, declared destroyed
        ("VLT000999999", V.UNCONFIRMED),
    ):
        status, verdict, page = _check(_link(serial))
        answers[serial] = (status, verdict, _leaks(page, secrets))
        assert answers[serial] == (200, expected, []), serial


def _secrets_of_the_demo() -> list[str]:
    secrets = list(PurchaseOrder.objects.values_list("number", flat=True))
    secrets += list(Batch.objects.values_list("code", flat=True))
    secrets += list(
        Organisation.objects.exclude(kind=Organisation.Kind.BUYER).values_list("name", flat=True)
    )
    placements = SerialPlacement.objects.all()
    secrets += [v for v in placements.values_list("customer_reference", flat=True).distinct() if v]
    secrets += [v for v in placements.values_list("carton", flat=True).distinct() if v]
    for user in User.objects.all():
        secrets += [user.username, user.get_full_name(), user.email]
    assert "2026-0141" in secrets and "RETAIL-UK-0042 (Harrow DC)" in secrets
    return [value for value in secrets if value]


def test_the_page_is_public_bare_and_unindexed(brands: Brands) -> None:
    response = Client().get(_link("VLT000001"))
    page = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    # No navigation, no form, no script, no cookie for a visitor.
    assert "<nav" not in page and "<form" not in page and "<script" not in page
    assert not response.cookies
    # Signed in as a supplier: the same bare page, no staff navigation.
    supplier_page = _check(_link("VLT000001"), brands.cast.client("supplier_a"))[2]
    assert "<nav" not in supplier_page and "Sign out" not in supplier_page


def test_the_page_speaks_the_browser_s_language(brands: Brands) -> None:
    page = _check(_link("VLT000001"), HTTP_ACCEPT_LANGUAGE="vi")[2]
    assert '<html lang="vi"' in page
    assert '<html lang="en-gb"' in _check(_link("VLT000001"))[2]


# ---------------------------------------------------------------- the limit, and the log


@override_settings(PUBLIC_CHECK_RATE="3/10m")
def test_the_limit_answers_429_after_n_checks_from_one_address(brands: Brands) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    answers = [client.get(_link(f"VLT{n:06d}")) for n in (1, 2, 4, 6, 7)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    refused = answers[3]
    assert 0 < int(refused["Retry-After"]) <= 600
    page = refused.content.decode()
    assert "Too many checks from your address" in page and 'data-testid="public-limited"' in page
    assert "Registered and accepted" not in page
    # Every check is logged, the refused ones as refused, each with its brand.
    logged = list(PublicCheck.objects.order_by("id").values_list("verdict", "rate_limited"))
    assert logged == [
        (V.GENUINE, False),
        (V.GENUINE, False),
        (V.GENUINE, False),
        (V.NOT_CHECKED, True),
        (V.NOT_CHECKED, True),
    ]
    assert set(PublicCheck.objects.values_list("brand", flat=True)) == {brands.brand.pk}
    # Another address has its own count; a forged X-Forwarded-For is not believed.
    assert Client(REMOTE_ADDR="198.51.100.9").get(_link("VLT000001")).status_code == 200
    forged = client.get(_link("VLT000001"), HTTP_X_FORWARDED_FOR="192.0.2.44")
    assert forged.status_code == 429


@override_settings(PUBLIC_CHECK_RATE="2/10m", PUBLIC_CHECK_PROXY_HOPS=1)
def test_behind_a_proxy_the_address_it_saw_is_counted(brands: Brands) -> None:
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for _ in range(2):
        ok = proxy.get(_link("VLT000001"), HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
        assert ok.status_code == 200
    # The same client, whatever it puts in front of the proxy's entry, is refused.
    refused = proxy.get(_link("VLT000001"), HTTP_X_FORWARDED_FOR="7.7.7.7, 203.0.113.7")
    assert refused.status_code == 429
    # Another client behind the same proxy is not.
    assert proxy.get(_link("VLT000001"), HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 200
    assert PublicCheck.objects.order_by("id").first().network == "203.0.113.0/24"


def test_the_log_keeps_the_network_never_the_address(brands: Brands) -> None:
    _check(_link("VLT000001"), REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Scanner/1.0 " * 40)
    _check(_link("VLT000001"), REMOTE_ADDR="2001:db8:abcd:12::7")
    _check(_link("VLT000001"), REMOTE_ADDR="::ffff:198.51.100.9")  # IPv4 on a dual-stack socket
    first, second, third = PublicCheck.objects.order_by("id")
    assert (first.network, second.network) == ("203.0.113.0/24", "2001:db8:abcd::/48")
    assert third.network == "198.51.100.0/24"
    assert len(first.user_agent) == 200 and first.user_agent.startswith("Scanner/1.0")
    stored = " ".join(str(v) for row in PublicCheck.objects.values() for v in row.values())
    assert "203.0.113.7" not in stored and "2001:db8:abcd:12::7" not in stored
    assert client_network("not an address") == ""


def test_the_log_is_append_only(brands: Brands) -> None:
    _check(_link("VLT000001"))
    check = PublicCheck.objects.get()
    for statement in (
        "UPDATE lookup_publiccheck SET verdict = 'destroyed'",
        "DELETE FROM lookup_publiccheck",
    ):  # TRUNCATE: tests/portal/test_immutability.py, for every append-only table
        with (
            pytest.raises(DatabaseError, match="pgtrigger"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    check.refresh_from_db()
    assert check.verdict == V.GENUINE


# ---------------------------------------------------------------- who gets what


@pytest.mark.parametrize("role", [*ROLES, None])
def test_the_brand_s_staff_are_sent_to_the_lookup_and_everyone_else_gets_the_verdict(
    brands: Brands, role: str | None
) -> None:
    client = brands.cast.client(role)
    response = client.get(_link("VLT000001") + "?linkType=all")
    if role in BUYER_SIDE:
        assert response.status_code == 302
        target = response["Location"]
        assert target.startswith(reverse("serial-lookup") + "?serial=http")
        lookup = client.get(target)
        assert lookup.status_code == 200
        assert not PublicCheck.objects.exists()  # the lookup logs it, as any lookup
        if role != "other_buyer":
            assert 'data-status="clean"' in lookup.content.decode()
    else:
        assert response.status_code == 200
        assert 'data-verdict="genuine"' in response.content.decode()
        assert PublicCheck.objects.count() == 1


def _public_checks(cast: Cast, role: str | None) -> tuple[int, str]:
    response = cast.client(role).get(reverse("public-checks"))
    return response.status_code, response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_the_public_checks_page_is_the_brand_s_managers_service_and_admin_s(
    brands: Brands, role: str
) -> None:
    status, _ = _public_checks(brands.cast, role)
    allowed = {"buyer", "service", "admin", "other_buyer"}
    assert status == (200 if role in allowed else 403)


def test_anonymous_visitors_are_sent_to_sign_in_for_the_public_checks_page(brands: Brands) -> None:
    response = Client().get(reverse("public-checks"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_each_brand_sees_only_its_own_checks_and_its_hot_spots(brands: Brands) -> None:
    for _ in range(3):
        _check(_link("VLT000005"), REMOTE_ADDR="203.0.113.7")
    _check(_link("VLT000999"), REMOTE_ADDR="198.51.100.9")
    _check(_link("VLT000500"), REMOTE_ADDR="192.0.2.1")  # the other brand's serial
    _check(_link("VLT000001", "09506000134352"), REMOTE_ADDR="192.0.2.1")  # nobody's GTIN
    status, page = _public_checks(brands.cast, "service")
    assert status == 200
    destroyed = page.split('data-testid="destroyed-checked"')[1].split("</table>")[0]
    assert "VLT000005" in destroyed
    repeated = page.split('data-testid="checked-many-times"')[1].split("</table>")[0]
    assert "VLT000005" in repeated and "VLT000999" not in repeated
    networks = page.split('data-testid="checks-by-network"')[1].split("</table>")[0]
    assert "203.0.113.0/24" in networks and "198.51.100.0/24" in networks
    assert "192.0.2.0/24" not in page and "VLT000500" not in page
    verdicts = page.split('data-testid="checks-by-verdict"')[1].split(
        'data-testid="checks-by-network"'
    )[0]
    assert re.search(r'data-verdict="destroyed"><div class="value">3<', verdicts)
    assert re.search(r'data-verdict="unconfirmed"><div class="value">1<', verdicts)
    # The other brand sees its own check only: nothing of the first brand's.
    status, other = _public_checks(brands.cast, "other_buyer")
    assert status == 200 and "VLT000500" in other
    assert "VLT000005" not in other and "203.0.113.0/24" not in other
    assert 'data-testid="destroyed-checked"' not in other


def test_the_navigation_links_the_page_for_those_who_may_open_it(brands: Brands) -> None:
    url = reverse("public-checks")
    for role in ROLES:
        page = brands.cast.client(role).get(reverse("dashboard")).content.decode()
        assert (f'href="{url}"' in page) == (_public_checks(brands.cast, role)[0] == 200), role


def test_a_check_costs_a_handful_of_statements(brands: Brands) -> None:
    """The rule's brands, the lookup per brand (the other buyer has a rule for the GTIN too),
    and one INSERT: no statement per row of the records."""
    Client().get(_link("VLT000002"))  # the first request of a test loads sessions, content types
    with CaptureQueriesContext(connection) as queries:
        assert _check(_link("VLT000001"))[:2] == (200, V.GENUINE)
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert len(queries.captured_queries) <= 20, [q["sql"][:80] for q in queries]


def test_another_brand_s_staff_get_the_public_verdict(cast: Cast) -> None:
    """Only the staff of a brand of the GTIN go to the lookup: another buyer's staff would
    read "unknown" there, never "do not accept", and the check would not reach the brand."""
    services.numbering_rule_save(
        user=cast.users["buyer"], product=GTIN, prefix="VLT", width=6, check_digit="none"
    )
    response = cast.client("other_buyer").get(_link("VLT000001"))
    assert response.status_code == 200 and 'data-verdict="unconfirmed"' in response.content.decode()
    assert PublicCheck.objects.get().brand == cast.organisations["buyer"]
    assert cast.client("buyer").get(_link("VLT000001")).status_code == 302


def test_a_long_query_string_is_ignored_and_the_check_logged(brands: Brands) -> None:
    """Attributes and a linkType after the serial are read and ignored: however long, they
    neither break the check (the lookup's input has a length limit) nor change its answer."""
    status, verdict, _page = _check(_link("VLT000001") + "?linkType=" + "a" * 2_000)
    assert (status, verdict) == (200, V.GENUINE)
    status, verdict, _page = _check(_link("VLT000005") + "?17=261231&x=" + "b" * 600)
    assert (status, verdict) == (200, V.DESTROYED)
    assert PublicCheck.objects.count() == 2
