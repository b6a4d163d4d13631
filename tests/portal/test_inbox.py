"""The inbox: what waits on each role, counted as the pages it links to count it, scoped to the
caller's organisation, overdue first; its count in the navigation at a bounded cost; and the
in-app notifications (the emails' twin) with their read marks."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pgtrigger
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals import services as approvals
from approvals.models import Gate, Payment
from approvals.services import gate_states
from evidence.models import EvidenceRequest, Statement
from orders import services as order_services
from orders.models import PurchaseOrder
from orders.selectors import orders_visible_to
from portal.dashboard import WaitingItem, waiting_on
from portal.integrity import integrity_verify
from portal.models import AuditEvent, Notification, NotificationRead, User
from portal.notifications import event_path
from serials import services as serial_services
from tests.conftest import Cast, make_order

DEMO_ROLES = ["buyer", "supplier_a", "supplier_b", "inspector", "finance", "service", "admin"]


# ---------------------------------------------------------------- the demo, as each role


@pytest.fixture(scope="class")
def demo(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The demo, seeded once for the class below and rolled back after its last test (the
    tests after it build their own cast)."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=fast, MEDIA_ROOT=str(tmp_path_factory.mktemp("inbox-media"))
        ),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


def _signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _items(username: str) -> list[WaitingItem]:
    return waiting_on(User.objects.get(username=username))


def _kinds(items: list[WaitingItem]) -> list[str]:
    return [item.kind for item in items]


def _exceptions_shown(client: Client, url: str) -> int:
    """How many exceptions the linked exceptions page lists (its filter in the URL)."""
    response = client.get(url)
    assert response.status_code == 200, url
    return len(response.context["table"].data)


class TestTheDemoAsEachRole:
    """Each demo role's inbox, against the pages it links to."""

    def test_the_buyer_sees_answers_to_decide_and_a_statement_to_review(
        self, demo: None, db: None
    ) -> None:
        items = _items("buyer")
        client = _signed_in("buyer")
        kinds = _kinds(items)
        assert "exceptions_to_decide" in kinds
        assert "statement_to_review" in kinds
        for item in items:
            if item.kind == "exceptions_to_decide":
                assert "status=answered" in item.url
                assert item.count == _exceptions_shown(client, item.url) > 0
                assert f"Decide {item.count} answered exception" in item.title
            if item.kind == "statement_to_review":
                page = client.get(item.url)
                assert page.status_code == 200
                assert page.context["can_review"]
        # What the buyer's staff may not do is not in its inbox; the supplier's work is not either.
        assert not {"request", "exceptions_to_answer", "evidence_missing"} & set(kinds)
        assert "gate_to_release" not in kinds

    def test_the_supplier_sees_requests_by_due_date_exceptions_and_missing_evidence(
        self, demo: None, db: None
    ) -> None:
        items = _items("supplier_a")
        client = _signed_in("supplier_a")
        requests = [item for item in items if item.kind == "request"]
        assert len(requests) == 2
        dues = [item.due for item in requests if item.due is not None]
        assert len(dues) == 2 and dues == sorted(dues)
        assert all(item.due and not item.overdue for item in requests)
        for item in requests:
            page = client.get(item.url)
            assert page.status_code == 200
            assert page.context["statements"] == []  # waiting for the supplier
        answering = [item for item in items if item.kind == "exceptions_to_answer"]
        assert len(answering) == 1
        assert answering[0].count == _exceptions_shown(client, answering[0].url) > 0
        missing = [item for item in items if item.kind == "evidence_missing"]
        assert len(missing) == 1
        page = client.get(missing[0].url)
        assert missing[0].count == len(page.context["missing_kinds"]) == 2
        # Dated work first, soonest first.
        assert _kinds(items)[:2] == ["request", "request"]
        assert "exceptions_to_decide" not in _kinds(items)

    def test_finance_sees_every_open_gate_and_the_money_it_must_chase(
        self, demo: None, db: None
    ) -> None:
        finance = User.objects.get(username="finance")
        items = waiting_on(finance)
        gates = list(Gate.objects.filter(order__in=orders_visible_to(finance)))
        states = gate_states(gates)
        open_gates = {gate.pk for gate in gates if states[gate.pk].state == "open"}
        released = {reverse("gate-release", args=[gate_id]) for gate_id in open_gates}
        assert {item.url for item in items if item.kind == "gate_to_release"} == released
        assert items, "the demo gives finance work"
        assert set(_kinds(items)) <= {"gate_to_release", "payment_due", "paid_while_blocked"}
        client = _signed_in("finance")
        for item in items:
            assert client.get(item.url).status_code == 200, item
        for item in items:
            if item.kind == "paid_while_blocked":
                gate_id = int(item.url.split("/")[2])
                assert states[gate_id].state == "blocked"

    def test_customer_service_has_nothing_waiting_and_a_lookup_box(
        self, demo: None, db: None
    ) -> None:
        assert _items("service") == []
        page = _signed_in("service").get(reverse("dashboard")).content.decode()
        assert "Nothing is waiting on you." in page
        assert 'data-testid="dashboard-lookup"' in page
        assert 'action="/lookup/"' in page
        assert 'data-testid="inbox-count"' not in page
        # The demo's earlier lookups (demo.lookup_story), newest first, to repeat.
        assert 'data-testid="recent-lookups"' in page
        assert len(re.findall(r"data-lookup-log=", page)) == 3
        assert "marketplace-returns-week-48.csv" in page and "/lookup/?serial=VLT000104077" in page
        buyer = _signed_in("buyer").get(reverse("dashboard")).content.decode()
        assert 'data-testid="dashboard-lookup"' not in buyer
        assert 'data-testid="recent-lookups"' not in buyer

    @pytest.mark.parametrize("username", DEMO_ROLES)
    def test_each_item_links_to_a_page_the_role_may_open_and_the_badge_counts_them(
        self, demo: None, db: None, username: str
    ) -> None:
        items = _items(username)
        client = _signed_in(username)
        for item in items:
            assert client.get(item.url).status_code == 200, item
        page = client.get(reverse("order-list")).content.decode()
        badge = re.search(r'data-testid="inbox-count"[^>]*>.*?(\d+)</span>', page)
        if items:
            assert badge is not None and int(badge.group(1)) == len(items)
        else:
            assert badge is None
        dashboard = client.get(reverse("dashboard"))
        assert [item.title for item in dashboard.context["waiting"]] == [i.title for i in items]

    def test_another_supplier_s_work_never_appears(self, demo: None, db: None) -> None:
        other = _items("supplier_b")
        assert all("2026-0141" not in f"{item.title} {item.detail}" for item in other)
        assert not {"request", "exceptions_to_answer", "evidence_missing"} & set(_kinds(other))


# ---------------------------------------------------------------- scoping, order, cost


def test_a_foreign_organisation_s_work_never_appears(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    # Supplier A answers its exceptions on both its buyers' batches.
    for key in ("own", "foreign"):
        serial_services.exception_answer(
            exceptions=list(cast.serial_lists[key].exceptions.all()),
            user=cast.users["supplier_a"],
            reason="double_scan",
            note="Scanned twice at packing.",
        )
    own_batch, foreign_batch = cast.batches["own"].pk, cast.batches["foreign"].pk
    own_url = f"/batches/{own_batch}/"
    foreign_url = f"/batches/{foreign_batch}/"

    def urls(username: str) -> list[str]:
        return [item.url for item in waiting_on(cast.users[username])]

    buyer, other_buyer = urls("buyer"), urls("other_buyer")
    assert any(url.startswith(own_url) for url in buyer)
    assert not any(url.startswith(foreign_url) for url in buyer)
    assert any(url.startswith(foreign_url) for url in other_buyer)
    assert not any(url.startswith(own_url) for url in other_buyer)
    # Statements to review: each buyer its own orders' only.
    own_request = reverse("request-detail", args=[cast.requests["own"].pk])
    foreign_request = reverse("request-detail", args=[cast.requests["foreign"].pk])
    assert own_request in buyer and foreign_request not in buyer
    assert foreign_request in other_buyer and own_request not in other_buyer
    # Supplier B sees only its own order's exceptions to answer.
    supplier_b = urls("supplier_b")
    assert supplier_b and all(
        str(cast.batches["b_order"].pk) in url for url in supplier_b if "/batches/" in url
    )
    assert not any(url.startswith((own_url, foreign_url)) for url in supplier_b)
    for username in ("inspector", "service", "outsider"):
        assert not any(url.startswith((own_url, foreign_url)) for url in urls(username))


def _request(cast: Cast, subject: str, due_on: datetime.date) -> EvidenceRequest:
    """A request as the buyer sent it some days ago (the service refuses a past due date)."""
    return EvidenceRequest.objects.create(
        batch=cast.batches["own"],
        subject=subject,
        question="Where is it?",
        due_on=due_on,
        asked_by=cast.users["buyer"],
        promises="process",
    )


def test_overdue_work_comes_first_and_stands_out(cast: Cast) -> None:
    today = timezone.localdate()
    _request(cast, "Due next week", today + datetime.timedelta(days=7))
    _request(cast, "Due today", today)
    _request(cast, "Overdue by a day", today - datetime.timedelta(days=1))
    _request(cast, "Overdue by five days", today - datetime.timedelta(days=5))
    items = [item for item in waiting_on(cast.users["supplier_a"]) if item.kind == "request"]
    assert [item.title for item in items] == [
        "Answer the request “Overdue by five days”",
        "Answer the request “Overdue by a day”",
        "Answer the request “Due today”",
        "Answer the request “Due next week”",
    ]
    assert [item.overdue for item in items] == [True, True, False, False]
    assert [item.due_soon for item in items] == [False, False, True, False]
    # Undated work follows the dated.
    everything = waiting_on(cast.users["supplier_a"])
    dated = [item.due is not None for item in everything]
    assert dated == sorted(dated, reverse=True)
    page = cast.client("supplier_a").get(reverse("dashboard")).content.decode()
    assert page.count("waiting-overdue") == 2
    assert page.count('<span class="badge text-bg-danger">') == 2
    late = today - datetime.timedelta(days=5)
    assert f"due {late.day} {late:%b %Y}" in page
    # The buyer is not the one who answers.
    assert not [item for item in waiting_on(cast.users["buyer"]) if item.kind == "request"]


def test_a_request_with_a_statement_or_on_a_closed_order_waits_no_more(
    cast_with_lists: Cast,
) -> None:
    cast = cast_with_lists
    kinds = [item.kind for item in waiting_on(cast.users["supplier_a"])]
    assert "request" not in kinds  # every request of the cast has its statement
    asked = _request(cast, "Still open", timezone.localdate())
    assert "request" in [item.kind for item in waiting_on(cast.users["supplier_a"])]
    PurchaseOrder.objects.filter(pk=asked.batch.order_id).update(status="closed")
    assert "request" not in [item.kind for item in waiting_on(cast.users["supplier_a"])]


def _navigation_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("notifications")).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("username", ["buyer", "admin", "finance", "supplier_a", "service"])
def test_the_navigation_count_costs_the_same_however_many_orders(
    cast_with_lists: Cast, username: str
) -> None:
    cast = cast_with_lists
    client = cast.client(username)
    _navigation_queries(client)  # the first request warms the session and caches
    before = _navigation_queries(client)
    for number in range(6):
        order = make_order(
            cast.users["buyer"], cast.organisations["supplier_a"], f"PO-MORE-{number}"
        )
        batch = order_services.batch_create(
            order=order, user=cast.users["buyer"], code="B1", planned_quantity=10
        )
        # Work for every role: a request to answer, a statement to review, a gate, a payment
        # made while it is blocked.
        for subject in ("Open", "Answered"):
            asked = EvidenceRequest.objects.create(
                batch=batch,
                subject=f"{subject} question {number}",
                question="?",
                due_on=timezone.localdate(),
                asked_by=cast.users["buyer"],
                promises="process",
            )
        Statement.objects.create(
            request=asked, version=1, text="Line 2.", written_by=cast.users["supplier_a"]
        )
        gate = approvals.gate_create(
            user=cast.users["buyer"], order=order, batch=batch, kind="deposit"
        )
        _blocked_payment(gate, cast.users["finance"])
    items = {user: len(waiting_on(cast.users[user])) for user in ("buyer", "finance")}
    assert items["buyer"] >= 6 and items["finance"] >= 6  # the new work is counted
    after = _navigation_queries(client)
    # A page that lists no orders: only the navigation's counts could grow with them.
    assert after == before
    with CaptureQueriesContext(connection) as captured:
        waiting_on(cast.users[username])
    assert len(captured.captured_queries) <= 20


def _blocked_payment(gate: Gate, user: User) -> Payment:
    from django.core.files.base import ContentFile

    from portal.storage import store_by_hash

    name, sha, _ = store_by_hash(ContentFile(b"%PDF-1.4 advance"), folder="payment-documents")
    return Payment.objects.create(
        gate=gate,
        kind="deposit",
        amount=500,
        currency="USD",
        payee="Supplier A Co",
        paid_on=timezone.localdate(),
        document=name,
        document_name="advance.pdf",
        document_sha256=sha,
        gate_state="blocked",
        reason="Advance agreed by phone before the approval.",
        recorded_by=user,
    )


def test_pages_htmx_polls_do_not_work_out_the_inbox(cast_with_lists: Cast) -> None:
    client = cast_with_lists.client("buyer")
    url = reverse("serial-list-progress", args=[cast_with_lists.serial_lists["own"].pk])
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "portal_notification" not in sql
    assert "evidence_evidencerequest" not in sql


# ---------------------------------------------------------------- notifications


def _notify(cast: Cast, username: str, subject: str, event: AuditEvent) -> Notification:
    user = cast.users[username]
    return Notification.objects.create(
        event=event, recipient=user, email=user.email, subject=subject
    )


@pytest.fixture
def notified(cast_with_lists: Cast) -> dict[str, Notification]:
    """Two notifications for supplier A (a request sent, a statement reviewed… the older first)
    and one for supplier B."""
    cast = cast_with_lists
    own_sent = AuditEvent.objects.get(action="evidence_request.sent", order=cast.orders["own"])
    list_event = AuditEvent.objects.filter(
        action="serial_list.validated", order=cast.orders["own"]
    ).first()
    assert list_event is not None
    b_sent = AuditEvent.objects.get(action="evidence_request.sent", order=cast.orders["b_order"])
    return {
        "first": _notify(
            cast, "supplier_a", "PO PO-OWN: the buyer asks for — Question on own", own_sent
        ),
        "second": _notify(cast, "supplier_a", "PO PO-OWN: serial report ready", list_event),
        "other": _notify(cast, "supplier_b", "PO PO-BEE: the buyer asks for — Question", b_sent),
    }


def test_the_list_shows_only_one_s_own_notifications_newest_first_unread_in_bold(
    cast_with_lists: Cast, notified: dict[str, Notification]
) -> None:
    client = cast_with_lists.client("supplier_a")
    response = client.get(reverse("notifications"))
    assert response.status_code == 200
    shown = list(response.context["page"])
    assert [n.pk for n in shown] == [notified["second"].pk, notified["first"].pk]
    page = response.content.decode()
    assert page.count("is-unread") == 2
    assert "PO PO-BEE" not in page
    assert response.context["unread"] == 2
    # The bell in the navigation counts them, on every page.
    other_page = client.get(reverse("order-list")).content.decode()
    bell = re.search(r'data-testid="notification-bell".*?</a>', other_page, re.S)
    assert bell is not None and ">2</span>" in bell.group(0)
    assert "Notifications: 2 unread" in bell.group(0)


def test_opening_one_marks_it_read_once_and_goes_where_the_email_links(
    cast_with_lists: Cast, notified: dict[str, Notification]
) -> None:
    client = cast_with_lists.client("supplier_a")
    first = notified["first"]
    events = AuditEvent.objects.count()
    response = client.get(reverse("notification-open", args=[first.pk]))
    assert response.status_code == 302
    assert response["Location"] == event_path(first.event)
    assert response["Location"] == reverse(
        "request-detail", args=[cast_with_lists.requests["own"].pk]
    )
    assert client.get(response["Location"]).status_code == 200
    read = NotificationRead.objects.get(notification=first)
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.actor_id) == (
        "notifications.read",
        cast_with_lists.users["supplier_a"].pk,
    )
    # Again: the same page, nothing more written.
    assert client.get(reverse("notification-open", args=[first.pk])).status_code == 302
    assert NotificationRead.objects.filter(notification=first).get() == read
    assert AuditEvent.objects.count() == events + 1
    listed = client.get(reverse("notifications"))
    assert listed.context["unread"] == 1
    assert listed.content.decode().count("is-unread") == 1
    unread_only = client.get(reverse("notifications"), {"show": "unread"})
    assert [n.pk for n in unread_only.context["page"]] == [notified["second"].pk]


def test_another_person_s_notification_answers_404_and_stays_unread(
    cast_with_lists: Cast, notified: dict[str, Notification]
) -> None:
    cast = cast_with_lists
    others = notified["other"]
    for username in ("supplier_a", "buyer", "admin", "outsider"):
        response = cast.client(username).get(reverse("notification-open", args=[others.pk]))
        assert response.status_code == 404, username
        assert "PO-BEE" not in response.content.decode()
    assert (
        cast.client("supplier_a").get(reverse("notification-open", args=[99_999_999])).status_code
        == 404
    )
    assert not NotificationRead.objects.exists()
    anonymous = cast.client(None)
    for url in (reverse("notifications"), reverse("notification-open", args=[others.pk])):
        response = anonymous.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert anonymous.post(reverse("notifications-read-all")).status_code == 302
    assert not NotificationRead.objects.exists()


def test_mark_all_read_is_one_post_and_idempotent(
    cast_with_lists: Cast, notified: dict[str, Notification]
) -> None:
    client = cast_with_lists.client("supplier_a")
    assert client.get(reverse("notifications-read-all")).status_code == 405
    events = AuditEvent.objects.filter(action="notifications.read").count()
    response = client.post(reverse("notifications-read-all"), follow=True)
    assert "2 notifications marked read." in response.content.decode()
    assert set(NotificationRead.objects.values_list("notification_id", flat=True)) == {
        notified["first"].pk,
        notified["second"].pk,
    }
    assert AuditEvent.objects.filter(action="notifications.read").count() == events + 1
    again = client.post(reverse("notifications-read-all"), follow=True)
    assert "Nothing was unread." in again.content.decode()
    assert NotificationRead.objects.count() == 2
    assert AuditEvent.objects.filter(action="notifications.read").count() == events + 1
    # Supplier B's stays unread.
    assert not NotificationRead.objects.filter(notification=notified["other"]).exists()
    page = client.get(reverse("notifications")).content.decode()
    assert "is-unread" not in page and "Mark all read" not in page


def test_read_marks_are_sealed_and_never_change(
    cast_with_lists: Cast, notified: dict[str, Notification]
) -> None:
    cast = cast_with_lists
    cast.client("supplier_a").post(reverse("notifications-read-all"))
    cast.client("supplier_b").get(reverse("notification-open", args=[notified["other"].pk]))
    assert not _read_mark_findings()
    if connection.vendor != "postgresql":
        return
    rows = NotificationRead.objects.filter(notification=notified["first"])
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
        rows.update(read_at=timezone.now())
    with pytest.raises(DatabaseError, match="pgtrigger: Cannot"), transaction.atomic():
        rows.delete()
    # Removed past the triggers, the verification names it.
    with pgtrigger.ignore("portal.NotificationRead:notification_read_append_only"):
        rows.delete()
    assert _read_mark_findings()


def _read_mark_findings() -> list[str]:
    """What the verification finds about read marks (the test's notifications were made
    without their own events, which it names too)."""
    report = integrity_verify(["portal-records"])
    return [str(f) for f in report.findings if f.table == "portal_notificationread"]


def test_a_bad_page_number_shows_a_page(
    cast_with_lists: Cast, notified: dict[str, Notification]
) -> None:
    client = cast_with_lists.client("supplier_a")
    for page in ("abc", "0", "-1", "999", "１"):
        response = client.get(reverse("notifications"), {"page": page})
        assert response.status_code == 200, page
        assert response.context["page"].number in (1, response.context["page"].paginator.num_pages)
