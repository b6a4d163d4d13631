"""Money on the gates: what is due, paid and outstanding, per gate, order and currency; overdue
gates; money paid before a release; the CSV; the release confirmation and the payment form."""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals import services as approvals
from approvals.finance_views import CSV_HEADER
from approvals.models import Gate, Payment
from portal.models import AuditEvent
from tests.conftest import PASSWORD, TEST_FACTOR, Cast, signing_request, totp_code
from tests.documents import pdf_document
from tests.evidence.conftest import jpeg

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def _gate(cast: Cast, key: str = "own", **values: Any) -> Gate:
    values.setdefault("kind", "deposit")
    return approvals.gate_create(user=cast.users["buyer"], order=cast.orders[key], **values)


def _pay(cast: Cast, gate: Gate, amount: str, currency: str = "USD", **values: Any) -> Payment:
    values.setdefault("reason", "Due by contract.")
    return approvals.payment_record(
        gate=gate,
        user=cast.users["finance"],
        kind=values.pop("kind", "deposit"),
        amount=Decimal(amount),
        currency=currency,
        payee="Supplier A Co",
        paid_on=TODAY,
        document=SimpleUploadedFile("swift.pdf", pdf_document("transfer confirmation")),
        **values,
    )


def _open(cast: Cast, gate: Gate) -> None:
    """A signed approval of the gate's batch that opens it."""
    assert gate.batch is not None
    photo = approvals_photo(cast, gate)
    approvals.approval_sign(
        promises=["identity", "payment"],
        user=cast.users["buyer"],
        password=PASSWORD,
        request=signing_request(),
        factor=TEST_FACTOR,
        order=gate.order,
        batch=gate.batch,
        decision="accepted",
        sentence="The batch may be paid for as photographed.",
        pins=[("evidence", photo.pk)],
        unlocks=[gate],
    )


def approvals_photo(cast: Cast, gate: Gate) -> Any:
    from evidence import services as evidence_services

    return evidence_services.evidence_upload(
        batch=gate.batch,
        user=cast.users["supplier_a"],
        kind="photo",
        uploaded_file=jpeg("label.jpg", captured="2026:11:03 09:00:00"),
    )


def _board(cast: Cast, role: str = "finance", **query: str) -> str:
    response = cast.client(role).get(reverse("finance-board"), query)
    assert response.status_code == 200
    return response.content.decode()


def _csv(cast: Cast, role: str = "finance", **query: str) -> list[dict[str, str]]:
    response = cast.client(role).get(reverse("finance-board-csv"), query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# ------------------------------------------------------------------ the gate's money


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        (Decimal("0.00"), "USD"),
        (Decimal("-5.00"), "USD"),
        (Decimal("100.00"), "usd"),
        (Decimal("100.00"), "US"),
        (Decimal("100.00"), "US1"),
        (Decimal("100.00"), ""),  # money without its currency
        (None, "USD"),  # a currency without money
    ],
)
def test_the_database_refuses_a_gate_s_bad_money(
    cast: Cast, amount: Decimal | None, currency: str
) -> None:
    """Past the service and the form, the database itself refuses the row."""
    refused = pytest.raises(IntegrityError, match="gate_amount_positive|gate_currency_iso_4217")
    with refused, transaction.atomic():
        Gate.objects.create(
            order=cast.orders["own"], kind="deposit", amount=amount, currency=currency
        )
    assert not Gate.objects.exists()


def test_a_gate_without_money_or_with_good_money_is_stored(cast: Cast) -> None:
    plain = _gate(cast, kind="shipment_release", batch=cast.batches["own"])
    assert (plain.amount, plain.currency, plain.due_date) == (None, "", None)
    gate = _gate(cast, amount=Decimal("12500.00"), currency=" eur ", due_date=TODAY)
    gate.refresh_from_db()
    assert (gate.amount, gate.currency, gate.due_date) == (Decimal("12500.00"), "EUR", TODAY)
    event = AuditEvent.objects.get(action="gate.created", object_id=gate.pk)
    assert event.payload["amount"] == "12500.00" and event.payload["currency"] == "EUR"
    assert event.payload["due_date"] == TODAY.isoformat()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"amount": Decimal("0")}, "more than zero"),
        ({"amount": Decimal("-1"), "currency": "USD"}, "more than zero"),
        ({"amount": Decimal("10"), "currency": "DOLLARS"}, "ISO 4217"),
        ({"amount": Decimal("10"), "currency": "U$D"}, "ISO 4217"),
        ({"amount": Decimal("10")}, "currency of the amount"),
        ({"currency": "USD"}, "amount due in USD"),
    ],
)
def test_the_service_refuses_bad_money_and_writes_nothing(
    cast: Cast, values: dict[str, Any], message: str
) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match=message):
        _gate(cast, **values)
    assert not Gate.objects.exists()
    assert AuditEvent.objects.count() == events


def test_the_gate_form_takes_the_money_and_explains_what_is_wrong(cast: Cast) -> None:
    client = cast.client("buyer")
    order = cast.orders["own"]
    url = reverse("order-gate-create", args=[order.pk])
    page_url = reverse("order-approvals", args=[order.pk])

    missing = client.post(url, {"kind": "deposit", "amount": "", "currency": "usd"})
    assert missing.status_code == 302 and missing["Location"] == page_url
    assert not Gate.objects.exists()
    page = client.get(page_url).content.decode()
    assert "The gate was not added" in page
    assert "A deposit gate needs the amount due through it." in page
    assert 'value="usd"' in page  # what was typed is still there
    # Shown once: the page read afresh is a new form.
    assert "needs the amount due" not in client.get(page_url).content.decode()

    negative = client.post(url, {"kind": "deposit", "amount": "-3", "currency": "USD"})
    assert negative.status_code == 302 and not Gate.objects.exists()
    assert "more than zero" in client.get(page_url).content.decode()

    created = client.post(
        url,
        {"kind": "deposit", "amount": "12500", "currency": "usd", "due_date": "2026-12-08"},
    )
    assert created.status_code == 302
    gate = Gate.objects.get()
    assert (gate.amount, gate.currency, gate.due_date) == (
        Decimal("12500.00"),
        "USD",
        datetime.date(2026, 12, 8),
    )
    page = client.get(page_url).content.decode()
    assert "USD 12,500.00 due 8 Dec 2026" in page
    # The next gate's currency is suggested from the order's gates.
    assert re.search(r'name="currency"[^>]*value="USD"', page)

    shipment = client.post(
        reverse("batch-gate-create", args=[cast.batches["own"].pk]), {"kind": "shipment_release"}
    )
    assert shipment.status_code == 302
    assert Gate.objects.get(kind="shipment_release").amount is None


def test_the_api_shows_a_gate_s_money_and_takes_it_on_creation(cast: Cast) -> None:
    api = cast.api("buyer")
    created = api.post(
        reverse("api-gate-list"),
        {"order": cast.orders["own"].pk, "kind": "deposit", "amount": "900.50", "currency": "eur"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["amount"], body["currency"], body["due_date"]) == ("900.50", "EUR", None)
    refused = api.post(
        reverse("api-gate-list"),
        {"order": cast.orders["own"].pk, "kind": "balance", "amount": "0", "currency": "EUR"},
        format="json",
    )
    assert refused.status_code == 400 and "amount" in refused.json()
    detail = cast.api("finance").get(reverse("api-gate-detail", args=[body["id"]])).json()
    assert detail["amount"] == "900.50" and detail["currency"] == "EUR"


# ------------------------------------------------------------------ the board


@pytest.fixture
def money(cast: Cast) -> dict[str, Gate]:
    """USD and EUR gates on the buyer's two orders, paid in part, one overdue."""
    gates = {
        "deposit": _gate(
            cast,
            batch=cast.batches["own"],
            amount=Decimal("12500.00"),
            currency="USD",
            due_date=TODAY - 3 * DAY,
        ),
        "fee": _gate(
            cast, kind="extra_fee", amount=Decimal("650.00"), currency="USD", due_date=TODAY
        ),
        "euro": _gate(
            cast,
            "b_order",
            amount=Decimal("21600.00"),
            currency="EUR",
            due_date=TODAY + 10 * DAY,
        ),
        "goods": _gate(
            cast,
            "b_order",
            kind="shipment_release",
            batch=cast.batches["b_order"],
            due_date=TODAY - DAY,
        ),
    }
    _pay(cast, gates["deposit"], "2500.00", reason="Tooling had to be ordered.")
    _pay(cast, gates["euro"], "6000.00", "EUR")
    _pay(cast, gates["euro"], "100.00", "USD", reason="Bank fees, paid in dollars.")
    return gates


def test_the_board_shows_each_gate_s_money_and_totals_per_currency(
    cast: Cast, money: dict[str, Gate]
) -> None:
    response = cast.client("finance").get(reverse("finance-board"))
    html = response.content.decode()
    for text in ("USD 12,500.00", "USD 10,000.00", "EUR 21,600.00", "EUR 15,600.00"):
        assert text in html, text
    assert "+ USD 100.00" in html  # a payment in another currency: shown beside, not added
    totals = {total.currency: total for total in response.context["totals"].per_currency}
    assert set(totals) == {"EUR", "USD"}
    assert (totals["USD"].due, totals["USD"].paid, totals["USD"].outstanding) == (
        Decimal("13150.00"),
        Decimal("2500.00"),
        Decimal("10650.00"),
    )
    assert (totals["EUR"].due, totals["EUR"].paid, totals["EUR"].outstanding) == (
        Decimal("21600.00"),
        Decimal("6000.00"),
        Decimal("15600.00"),
    )
    per_order = {
        (total.order.number, total.currency): total
        for total in response.context["totals"].per_order
    }
    assert set(per_order) == {("PO-OWN", "USD"), ("PO-BEE", "EUR")}
    assert per_order[("PO-OWN", "USD")].blocked == Decimal("13150.00")
    # The totals table and the chart carry the same figures, with separators, per currency.
    assert "10,650.00" in html and "15,600.00" in html
    assert "All orders" in html


def test_the_chart_is_drawn_without_scripts_or_style_attributes(
    cast: Cast, money: dict[str, Gate]
) -> None:
    html = _board(cast)
    chart = html[html.index('aria-labelledby="money-chart-title"') :]
    chart = chart[: chart.index("</section>")]
    bars = re.findall(r'<svg class="money-bar"[^>]*aria-label="([^"]+)"', chart)
    assert len(bars) == 2  # one per order (each in its own currency)
    assert any("Blocked: waiting for an approval: EUR 21,600.00" in bar for bar in bars)
    assert "<title>" in chart and "style=" not in chart and "<script" not in chart


def test_the_chart_splits_money_by_release_and_payment(cast: Cast) -> None:
    gate = _gate(cast, batch=cast.batches["own"], amount=Decimal("1000.00"), currency="USD")
    _open(cast, gate)
    assert approvals.gate_state(gate).state == "open"
    response = cast.client("finance").get(reverse("finance-board"))
    [total] = response.context["totals"].per_order
    assert (total.open, total.blocked, total.released_paid) == (Decimal("1000.00"), 0, 0)
    approvals.gate_release(
        gate=gate, user=cast.users["finance"], request=signing_request(), factor=TEST_FACTOR
    )
    _pay(cast, gate, "400.00", kind="deposit", reason="")
    response = cast.client("finance").get(reverse("finance-board"))
    [total] = response.context["totals"].per_order
    assert (total.released_paid, total.released_unpaid, total.open) == (
        Decimal("400.00"),
        Decimal("600.00"),
        0,
    )
    html = response.content.decode()
    assert "by Finance" in html  # who released it, and when
    assert timezone.localdate().strftime("%-d %b %Y") in html


def test_an_overdue_gate_stands_out(cast: Cast, money: dict[str, Gate]) -> None:
    html = _board(cast)
    # The deposit is past due with money outstanding; the shipment release (no money) past due
    # and not released; the fee is due today, and the euro deposit later.
    assert html.count('data-flag="overdue"') == 2
    assert "overdue 3 days" in html and "overdue 1 day" in html
    only = [row["gate"] + " " + row["batch"] for row in _csv(cast, overdue="yes")]
    assert sorted(only) == ["Deposit OWN-B1", "Shipment release B_ORDER-B1"]
    rows = {(row["gate"], row["order"]): row for row in _csv(cast)}
    assert rows[("Deposit", "PO-OWN")]["overdue"] == "yes"
    assert rows[("Extra fee", "PO-OWN")]["overdue"] == "no"
    assert rows[("Deposit", "PO-BEE")]["overdue"] == "no"
    # Paid in full, a gate is no longer overdue.
    _pay(cast, money["deposit"], "10000.00", reason="The rest.")
    assert _board(cast).count('data-flag="overdue"') == 1


def test_money_paid_before_a_release_is_flagged_on_the_board_and_in_the_csv(
    cast: Cast, money: dict[str, Gate]
) -> None:
    html = _board(cast)
    assert "USD 2,500.00 paid while blocked" in html
    assert "USD 100.00 paid while blocked" in html
    assert "EUR 6,000.00 paid while blocked" in html
    assert html.count('data-flag="paid_before_release"') == 3
    rows = {(row["gate"], row["order"]): row for row in _csv(cast)}
    assert rows[("Deposit", "PO-OWN")]["paid_while_blocked"] == "yes"
    assert rows[("Deposit", "PO-OWN")]["paid_before_release"] == "USD 2500.00"
    assert rows[("Deposit", "PO-BEE")]["paid_before_release"] == "EUR 6000.00 USD 100.00"
    assert rows[("Extra fee", "PO-OWN")]["paid_while_blocked"] == "no"
    assert rows[("Extra fee", "PO-OWN")]["paid_before_release"] == ""


def test_money_paid_on_an_open_gate_before_its_release_is_flagged_too(cast: Cast) -> None:
    gate = _gate(cast, batch=cast.batches["own"], amount=Decimal("500.00"), currency="USD")
    _open(cast, gate)
    _pay(cast, gate, "500.00", reason="")
    assert "USD 500.00 paid before release" in _board(cast)
    [row] = _csv(cast)
    assert (row["paid_before_release"], row["paid_while_blocked"]) == ("USD 500.00", "no")


def test_the_csv_has_the_money_as_numbers(cast: Cast, money: dict[str, Gate]) -> None:
    response = cast.client("finance").get(reverse("finance-board-csv"))
    assert response["Content-Disposition"] == 'attachment; filename="gates.csv"'
    lines = response.content.decode().splitlines()
    assert lines[0].split(",") == CSV_HEADER
    rows = {(row["gate"], row["order"]): row for row in _csv(cast)}
    deposit = rows[("Deposit", "PO-OWN")]
    assert deposit == deposit | {
        "batch": "OWN-B1",
        "supplier": "Supplier A Co",
        "currency": "USD",
        "amount_due": "12500.00",
        "paid": "2500.00",
        "outstanding": "10000.00",
        "due_date": (TODAY - 3 * DAY).isoformat(),
        "state": "blocked",
        "released_by": "",
    }
    euro = rows[("Deposit", "PO-BEE")]
    assert (euro["paid"], euro["paid_in_other_currencies"]) == ("6000.00", "USD 100.00")
    goods = rows[("Shipment release", "PO-BEE")]
    assert (goods["amount_due"], goods["paid"], goods["outstanding"]) == ("", "", "")
    # Filtered as the board is.
    assert {row["currency"] for row in _csv(cast, order=str(cast.orders["b_order"].pk))} == {
        "EUR",
        "",
    }


def test_the_csv_neutralises_a_formula_written_in_a_reason(cast: Cast) -> None:
    gate = _gate(cast, amount=Decimal("10.00"), currency="USD")
    client = cast.client("finance")
    client.post(
        reverse("gate-release", args=[gate.pk]),
        {
            "confirm": "on",
            "reason": '=HYPERLINK("http://evil.example")',
            "code": totp_code(cast.users["finance"]),
        },
    )
    [row] = _csv(cast)
    assert row["state"] == "released_with_exception"
    assert row["waiting_for_or_reason"].startswith("'=HYPERLINK")
    assert row["released_by"] == "Finance"


def test_the_board_filters_by_order_kind_state_and_overdue(
    cast: Cast, money: dict[str, Gate]
) -> None:
    def shown(**query: str) -> list[str]:
        return sorted(f"{row['order']} {row['gate']}" for row in _csv(cast, **query))

    assert shown(order=str(cast.orders["own"].pk)) == ["PO-OWN Deposit", "PO-OWN Extra fee"]
    assert shown(kind="extra_fee") == ["PO-OWN Extra fee"]
    assert shown(state="open") == []
    assert len(shown(state="blocked")) == 4
    assert shown(overdue="no") == ["PO-BEE Deposit", "PO-OWN Extra fee"]
    assert shown(q="bee") == ["PO-BEE Deposit", "PO-BEE Shipment release"]
    # Another buyer's order is not a choice: the filter says so and shows what it may.
    foreign = cast.orders["foreign"].pk
    html = _board(cast, order=str(foreign))
    assert "Select a valid choice" in html and "PO-FOREIGN" not in html
    assert len(shown(order=str(foreign))) == 4
    assert len(shown(state="bogus", overdue="maybe")) == 4
    assert "PO-OWN" in _board(cast, sort="nonsense", page="x", per_page="-1")

    def table(**query: str) -> str:
        html = _board(cast, **query)
        return html[html.index("board-table") :]

    ascending = table(sort="amount")  # money sorts within its currency; no money first
    assert ascending.index("EUR 21,600.00") < ascending.index("USD 650.00")
    assert ascending.index("USD 650.00") < ascending.index("USD 12,500.00")
    descending = table(sort="-amount")
    assert descending.index("USD 12,500.00") < descending.index("USD 650.00")
    by_due = table(sort="due_date")
    assert by_due.index("overdue 3 days") < by_due.index("overdue 1 day")


def test_the_board_costs_the_same_queries_with_money_and_payments(cast: Cast) -> None:
    client = cast.client("finance")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("finance-board")).status_code == 200
        return len(captured)

    gate = _gate(cast, amount=Decimal("10.00"), currency="USD", due_date=TODAY - DAY)
    _pay(cast, gate, "1.00")
    before = queries()
    for key in ("own", "b_order"):
        for kind in ("balance", "extra_fee"):
            more = _gate(cast, key, kind=kind, amount=Decimal("5.00"), currency="EUR")
            _pay(cast, more, "2.00", "EUR")
    assert queries() == before


# ------------------------------------------------------------------ release and payments


def test_the_release_page_states_the_money_before_the_button(cast: Cast) -> None:
    gate = _gate(
        cast, amount=Decimal("12500.00"), currency="USD", due_date=datetime.date(2026, 12, 8)
    )
    html = cast.client("finance").get(reverse("gate-release", args=[gate.pk])).content.decode()
    sentence = (
        "Release the deposit gate of PO PO-OWN: USD 12,500.00 due 8 Dec 2026 to Supplier A Co"
    )
    assert sentence in html
    assert html.index(sentence) < html.index(">Release with exception</button>")
    assert "I confirm releasing Deposit of PO PO-OWN<" in html  # the PO named once
    plain = _gate(cast, kind="shipment_release", batch=cast.batches["own"])
    html = cast.client("finance").get(reverse("gate-release", args=[plain.pk])).content.decode()
    assert "no money is due through it" in html


def test_a_release_s_passkey_statement_binds_its_money(cast: Cast) -> None:
    gate = _gate(cast, amount=Decimal("12500.00"), currency="USD", due_date=TODAY)
    statement, _ = approvals.release_statement(gate=gate, reason="")
    assert statement["amount_due"] == "USD 12500.00"
    assert statement["due_date"] == TODAY.isoformat()


def _inputs(html: str) -> dict[str, str]:
    form = html[html.index('enctype="multipart/form-data"') :]
    values = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form))
    selected = re.search(r'<option value="(\w+)" selected>', form)
    values["kind"] = selected.group(1) if selected else ""
    return values


def test_the_payment_form_is_filled_in_from_the_gate(cast: Cast, money: dict[str, Gate]) -> None:
    client = cast.client("finance")
    html = client.get(reverse("gate-payments", args=[money["deposit"].pk])).content.decode()
    values = _inputs(html)
    assert values["payee"] == "Supplier A Co"
    assert values["currency"] == "USD"
    assert values["amount"] == "10000.00"  # what is still outstanding
    assert values["paid_on"] == TODAY.isoformat()
    assert values["kind"] == "deposit"
    fee = _inputs(client.get(reverse("gate-payments", args=[money["fee"].pk])).content.decode())
    assert (fee["kind"], fee["amount"]) == ("extra_fee", "650.00")
    goods = _inputs(client.get(reverse("gate-payments", args=[money["goods"].pk])).content.decode())
    assert "amount" not in goods and "currency" not in goods
    # Sent as filled in (with a reason and a document), it records the rest of the money.
    response = client.post(
        reverse("gate-payments", args=[money["deposit"].pk]),
        {
            **{name: values[name] for name in ("kind", "amount", "currency", "payee", "paid_on")},
            "reason": "Deposit due by contract.",
            "document": SimpleUploadedFile("swift.pdf", pdf_document("transfer")),
        },
    )
    assert response.status_code == 302
    payments = money["deposit"].payments.order_by("id")
    assert [p.amount for p in payments] == [Decimal("2500.00"), Decimal("10000.00")]
    html = client.get(reverse("gate-payments", args=[money["deposit"].pk])).content.decode()
    assert "paid in full" in html


def test_a_payment_in_a_badly_written_currency_is_refused_with_a_message(
    cast: Cast, money: dict[str, Gate]
) -> None:
    count = Payment.objects.count()
    response = cast.client("finance").post(
        reverse("gate-payments", args=[money["fee"].pk]),
        {
            "kind": "extra_fee",
            "amount": "650.00",
            "currency": "dollars",
            "payee": "Supplier A Co",
            "paid_on": TODAY.isoformat(),
            "reason": "Re-packing.",
            "document": SimpleUploadedFile("swift.pdf", pdf_document("transfer")),
        },
    )
    assert response.status_code == 200
    assert "three-letter ISO 4217" in response.content.decode()
    assert Payment.objects.count() == count


@pytest.mark.parametrize(
    ("amount", "paid_on", "message"),
    [
        ("-5", TODAY, "The amount must be more than zero."),
        ("0", TODAY, "The amount must be more than zero."),
        ("10.00", TODAY + datetime.timedelta(days=30), "more than a week ahead"),
        ("10.00", datetime.date(1, 1, 1), "more than five years back"),
    ],
)
def test_a_payment_form_refuses_slips_in_words_and_keeps_nothing(
    cast: Cast, amount: str, paid_on: datetime.date, message: str
) -> None:
    gate = approvals.gate_create(
        user=cast.users["buyer"], order=cast.orders["own"], kind="shipment_release"
    )
    page = cast.client("finance").post(
        reverse("gate-payments", args=[gate.pk]),
        {
            "kind": "balance",
            "amount": amount,
            "currency": "USD",
            "payee": "Supplier A Co",
            "paid_on": paid_on.isoformat(),
            "reason": "Paid early.",
            "document": SimpleUploadedFile(
                "receipt.pdf", pdf_document("Bank receipt"), content_type="application/pdf"
            ),
        },
    )
    body = page.content.decode()
    assert page.status_code in (200, 400) and message in body
    assert "Constraint" not in body
    assert not Payment.objects.exists()


def test_the_payments_export_lists_every_payment_with_its_amount_and_state(cast: Cast) -> None:
    gate = approvals.gate_create(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        kind="deposit",
        amount=Decimal("12500"),
        currency="USD",
    )
    _pay(cast, gate, "2500.00", reason='=HYPERLINK("http://x")')
    response = cast.client("finance").get(reverse("finance-payments-csv"))
    assert response.status_code == 200
    [header, row] = list(csv.reader(io.StringIO(response.content.decode())))
    values = dict(zip(header, row, strict=True))
    assert values["po"] == cast.orders["own"].number
    assert (values["amount"], values["currency"]) == ("2500.00", "USD")
    assert values["gate_state_when_paid"] == "blocked"
    assert values["reason"].startswith("'=")  # neutralised for spreadsheets
    assert cast.client("supplier_a").get(reverse("finance-payments-csv")).status_code == 403


def test_an_order_s_approvals_export_for_everyone_who_sees_the_order(cast: Cast) -> None:
    gate = approvals.gate_create(
        user=cast.users["buyer"],
        order=cast.orders["own"],
        batch=cast.batches["own"],
        kind="shipment_release",
    )
    _open(cast, gate)
    for role in ("buyer", "supplier_a", "finance"):
        response = cast.client(role).get(
            reverse("order-approvals-csv", args=[cast.orders["own"].pk])
        )
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0][:4] == ["approval_id", "po", "batch", "decision"]
        assert len(rows) == 2 and rows[1][3] == "accepted" and "Shipment release" in rows[1][-1]
    foreign = cast.client("supplier_b").get(
        reverse("order-approvals-csv", args=[cast.orders["own"].pk])
    )
    assert foreign.status_code == 404
