"""The order timeline reads as sentences, grouped by day, filtered and paged; the raw event is
one click away; every action the code writes has a sentence."""

from __future__ import annotations

import ast
import html
import io
import re
import zoneinfo
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone

from orders import services
from orders.models import PurchaseOrder
from portal.models import AuditEvent, User
from portal.timeline import (
    fallback_sentence,
    kind_filter,
    registered_actions,
    sentence_for,
    timeline_entry,
    timeline_runs,
)
from tests.conftest import ROOT, Cast

APPS = [
    "accounts",
    "approvals",
    "demo",
    "dossier",
    "evidence",
    "inspection",
    "lookup",
    "orders",
    "portal",
    "serials",
    "untrusted",
]
DETAILS = re.compile(r"<details.*?</details>", re.S)


def timeline(client: Client, order: PurchaseOrder, **query: str) -> str:
    response = client.get(reverse("order-timeline", args=[order.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


def visible(page: str) -> str:
    """What a reader sees before opening any raw event: the page without its <details>, its
    tags and its <option>s."""
    page = DETAILS.sub("", page)
    page = re.sub(r"<(script|style|select)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def sentences(page: str) -> list[str]:
    return [
        html.unescape(text).strip()
        for text in re.findall(r'<p class="timeline-sentence[^"]*">(.*?)</p>', page, re.S)
    ]


def event(action: str, payload: dict, **fields: object) -> AuditEvent:
    """An event as read from the table (never saved: it is only rendered)."""
    values: dict = {
        "actor_label": "Wei Zhang",
        "object_type": "serials.SerialList",
        "object_id": "999999",
        "object_label": "Production list #9 of batch B1",
        **fields,
    }
    return AuditEvent(action=action, payload=payload, created_at=timezone.now(), **values)


def read(audit_event: AuditEvent) -> str:
    return timeline_entry(audit_event, timezone.localdate()).sentence


# ---------------------------------------------------------------- sentences


def test_it_reads_the_figures_of_a_validation_with_thousands_separators(db: None) -> None:
    figures = {"rows": 5991, "unique": 5990, "missing_count": 10, "duplicate_count": 1}
    sentence = read(event("serial_list.validated", figures, actor_label="system"))
    assert sentence == (
        "Production list #9 of batch B1 checked: 5,991 rows, 10 missing, 1 duplicated"
    )


def test_it_names_the_money_and_the_people(cast: Cast) -> None:
    payment = event(
        "payment.recorded",
        {
            "gate": "Deposit of batch B1",
            "kind": "deposit",
            "amount": "18000.00",
            "currency": "USD",
            "payee": "Brightline Electronics Co.",
            "gate_state": "blocked",
            "reason": "The factory would not ship otherwise.",
        },
        actor=cast.users["finance"],
        actor_label="finance",
    )
    assert read(payment) == (
        "Finance recorded a deposit of USD 18,000.00 to Brightline Electronics Co. while the "
        "gate “Deposit of batch B1” was blocked: “The factory would not ship otherwise.”"
    )
    upload = event(
        "serial_list.uploaded",
        {"file": "B1-production-serials.csv", "kind": "carton", "size": 125825, "batch": "B1"},
        actor=cast.users["supplier_a"],
    )
    # The person's full name as it is now, not the label stored then.
    assert read(upload).startswith("Supplier_A uploaded B1-production-serials.csv (carton list,")


def test_an_action_without_a_sentence_still_reads() -> None:
    unknown = event("widget.frobbed_twice", {"x": True}, object_label="Widget 7")
    assert read(unknown) == "Wei Zhang: Widget frobbed twice — Widget 7"
    assert timeline_entry(unknown, timezone.localdate()).kind.key == "other"


def test_an_event_missing_what_its_sentence_reads_falls_back_to_plain_words() -> None:
    # An event written by an older version, without the counts the sentence reads.
    old = event("inspection.planned", {})
    assert read(old) == fallback_sentence(old)


def test_it_reads_an_inspection_mismatch_and_a_defect() -> None:
    unit = {
        "serial": "VLT000100025",
        "read": "VLT000100052",
        "method": "scanned",
        "matches": False,
        "carton_found": "CTN-001",
        "in_right_carton": True,
        "defects": "Label scratched",
        "defective": True,
    }
    assert read(event("inspection.unit_recorded", unit, actor_label="Marco Rossi")) == (
        "Marco Rossi checked unit VLT000100025: MISMATCH, the label reads VLT000100052; "
        "defect: “Label scratched”"
    )


def test_it_reads_every_event_of_an_order_as_a_sentence(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    order = cast.orders["own"]
    services.order_update(order=order, user=cast.users["buyer"], quantity=1200)
    page = timeline(cast.client("buyer"), order)
    shown = visible(page)
    actions = set(order.audit_events.values_list("action", flat=True))
    assert len(actions) > 8
    for action in actions:
        assert action not in shown, action
    assert "True" not in page and "False" not in page and "Gtin" not in page
    assert "quantity 1,000 → 1,200" in shown
    # One sentence per event, none of them the fallback.
    assert len(sentences(page)) == order.audit_events.count()
    for audit_event in order.audit_events.select_related("actor"):
        assert sentence_for(audit_event.action) is not None, audit_event.action
        assert read(audit_event) != fallback_sentence(audit_event), audit_event.action
    # Another order's events stay on that order's timeline.
    assert "PO-BEE" not in shown


def test_the_raw_event_is_one_click_away(cast: Cast) -> None:
    order = cast.orders["own"]
    first = order.audit_events.earliest("id")
    page = timeline(cast.client("buyer"), order)
    raw = next(block for block in DETAILS.findall(page) if f"#{first.pk}<" in block)
    assert f'id="event-{first.pk}"' in page
    for shown in (first.action, first.hash, first.prev_hash, '"quantity": 1000'):
        assert shown in html.unescape(raw), shown


def test_it_folds_a_run_of_alike_events_into_one_line(db: None) -> None:
    def unit(serial: str, matches: bool = True, **extra: object) -> AuditEvent:
        return event(
            "inspection.unit_recorded",
            {"serial": serial, "read": serial, "method": "scanned", "matches": matches, **extra},
            actor_label="Marco Rossi",
        )

    checks = [unit("A1"), unit("A2", matches=False), unit("A3", defective=True), unit("A4")]
    other = event("inspection.carton_scanned", {"carton": "CTN-1", "labels": 2000})
    day = timezone.localdate()
    runs = timeline_runs([timeline_entry(e, day) for e in [other, *checks, other]])
    assert [len(run.entries) for run in runs] == [1, 4, 1]
    assert runs[1].summary == (
        "Marco Rossi checked 4 units: 3 labels match, 1 MISMATCH, 1 defective"
    )
    assert runs[1].folded == runs[1].entries  # every check is one click away
    assert runs[0].summary == "" and "2,000 labels" in runs[0].lead.sentence

    # Without a summary, three alike events read one by one; from four they fold.
    updates = [event("order.updated", {"quantity": [n, n + 1]}) for n in range(4)]
    three = timeline_runs([timeline_entry(e, day) for e in updates[:3]])
    assert [len(run.entries) for run in three] == [1, 1, 1]
    four = timeline_runs([timeline_entry(e, day) for e in updates])
    assert len(four) == 1 and four[0].summary == "" and len(four[0].folded) == 3
    # Another person's event breaks the run.
    someone = event("order.updated", {"quantity": [9, 10]}, actor_label="Amelia Hart")
    broken = timeline_runs([timeline_entry(e, day) for e in [*updates[:2], someone, *updates[2:]]])
    assert [len(run.entries) for run in broken] == [1, 1, 1, 1, 1]


# ---------------------------------------------------------------- days, filters, pages


def test_it_groups_by_day_in_the_readers_time_zone(cast: Cast) -> None:
    buyer = cast.users["buyer"]
    User.objects.filter(pk=buyer.pk).update(time_zone="Pacific/Kiritimati")  # UTC+14
    order = cast.orders["own"]
    created = order.audit_events.earliest("id").created_at
    there = timezone.localtime(created, zoneinfo.ZoneInfo("Pacific/Kiritimati"))
    page = timeline(cast.client("buyer"), order)
    heading = (
        f"{formats.date_format(there.date(), 'l')} "
        f"{formats.date_format(there.date(), 'DATE_FORMAT')}"
    )
    assert f'datetime="{there.date():%Y-%m-%d}">{heading}</time>' in page
    assert f">{there:%H:%M}</time>" in page


def test_it_groups_the_newest_day_first(cast: Cast) -> None:
    order = cast.orders["own"]
    page = timeline(cast.client("buyer"), order)
    days = re.findall(r'<time datetime="(\d{4}-\d{2}-\d{2})">', page)
    assert days == sorted(set(days), reverse=True) and days


def test_the_filters_narrow_by_batch_kind_and_person(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    order = cast.orders["own"]
    buyer, supplier = cast.users["buyer"], cast.users["supplier_a"]
    b1 = cast.batches["own"]
    b2 = services.batch_create(order=order, user=buyer, code="OWN-B2", planned_quantity=50)
    services.batch_update(batch=b2, user=buyer, planned_quantity=60)
    client = cast.client("buyer")

    of_b1 = sentences(timeline(client, order, batch=str(b1.pk)))
    of_b2 = sentences(timeline(client, order, batch=str(b2.pk)))
    assert of_b2 == [
        "Buyer changed batch OWN-B2: planned quantity 50 → 60",
        "Buyer planned batch OWN-B2 of 50 units",
    ]
    # B1's own events and those of what hangs off it: lists, evidence, statements, approvals…
    assert any("uploaded own.csv" in line for line in of_b1)
    assert any("uploaded own.jpg" in line for line in of_b1)
    assert any("statement v1" in line for line in of_b1)
    assert any("signed an approval for batch OWN-B1" in line for line in of_b1)
    assert any("planned an inspection of batch OWN-B1" in line for line in of_b1)
    assert not any("OWN-B2" in line or "created PO" in line for line in of_b1)

    evidence = sentences(timeline(client, order, kind="evidence"))
    expected = order.audit_events.filter(
        action__in=[
            "evidence.uploaded",
            "evidence_request.sent",
            "statement.written",
            "responsibility.recorded",  # the packer the supplier named (its open point's owner)
        ]
    ).count()
    assert len(evidence) == expected == 4

    by_supplier = sentences(timeline(client, order, person=str(supplier.pk)))
    assert by_supplier and all(line.startswith("Supplier_A ") for line in by_supplier)
    automatic = sentences(timeline(client, order, person="portal"))
    assert automatic == ["own.csv checked: 3 rows, 1 missing, 1 duplicated"]

    both = sentences(timeline(client, order, batch=str(b1.pk), person=str(supplier.pk)))
    assert both and set(both) <= set(of_b1) & set(by_supplier)


def test_it_says_what_is_wrong_with_a_filter(cast: Cast) -> None:
    order = cast.orders["own"]
    client = cast.client("buyer")
    every = sentences(timeline(client, order))
    foreign_batch = cast.batches["foreign"]
    for query in (
        {"batch": str(foreign_batch.pk)},
        {"batch": "1; DROP TABLE"},
        {"kind": "gossip"},
        {"person": str(cast.users["other_buyer"].pk)},
    ):
        page = timeline(client, order, **query)
        assert "Select a valid choice" in page, query
        assert sentences(page) == every  # an invalid filter narrows nothing
    assert "PO-FOREIGN" not in visible(timeline(client, order, batch=str(foreign_batch.pk)))


def test_it_pages_by_fifty_keeping_the_filters(cast: Cast) -> None:
    order = cast.orders["own"]
    buyer = cast.users["buyer"]
    for quantity in range(1001, 1061):
        services.order_update(order=order, user=buyer, quantity=quantity)
    client = cast.client("buyer")
    # The order's family: its creation, the 60 changes and the planning of its batch.
    assert order.audit_events.filter(kind_filter("orders")).count() == 62

    first = timeline(client, order, kind="orders")
    assert len(sentences(first)) == 50
    assert sentences(first)[0] == "Buyer changed PO PO-OWN: quantity 1,059 → 1,060"
    assert "?kind=orders&amp;page=2" in first
    second = timeline(client, order, kind="orders", page="2")
    assert len(sentences(second)) == 12
    assert sentences(second)[-2] == "Buyer planned batch OWN-B1 of 100 units"
    assert sentences(second)[-1].startswith("Buyer created PO PO-OWN")
    assert "?kind=orders&amp;page=1" in second
    # A page past the end shows the last one; a page that is not a number the first.
    assert sentences(timeline(client, order, kind="orders", page="99")) == sentences(second)
    assert sentences(timeline(client, order, kind="orders", page="x")) == sentences(first)


def test_suppliers_and_other_buyers_get_404(cast: Cast) -> None:
    url = reverse("order-timeline", args=[cast.orders["own"].pk])
    for username in ("supplier_a", "other_buyer", "inspector", "outsider"):
        assert cast.client(username).get(url).status_code == 404, username
    foreign = reverse("order-timeline", args=[cast.orders["foreign"].pk])
    assert cast.client("buyer").get(foreign).status_code == 404


# ---------------------------------------------------------------- every action has a sentence


def _action_expressions(tree: ast.Module) -> list[tuple[ast.expr, int]]:
    """The ``action`` argument of every ``audit_log(...)`` call, following one level of
    indirection: a module constant, or a helper that passes its own parameter on (inspection's
    _findings_recorded), read at each of its callers."""
    functions = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    parents = {
        child: node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for child in ast.walk(node)
    }
    constants = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found: list[tuple[ast.expr, int]] = []

    def argument(call: ast.Call, name: str, position: int) -> ast.expr | None:
        for keyword in call.keywords:
            if keyword.arg == name:
                return keyword.value
        return call.args[position] if position < len(call.args) else None

    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "audit_log"):
            continue
        action = argument(call, "action", 99)
        assert action is not None, f"audit_log without an action at line {call.lineno}"
        helper = parents.get(call)
        if isinstance(action, ast.Name) and action.id in constants:
            found.append((constants[action.id], call.lineno))
        elif isinstance(action, ast.Name) and helper is not None:
            names = [arg.arg for arg in helper.args.args]
            assert action.id in names, f"action {action.id} at line {call.lineno}"
            position = names.index(action.id)
            callers = [
                node
                for node in ast.walk(tree)
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == helper.name
            ]
            assert callers and helper.name in functions
            for caller in callers:
                passed = argument(caller, action.id, position)
                assert passed is not None, f"{helper.name} called without an action"
                found.append((passed, caller.lineno))
        else:
            found.append((action, call.lineno))
    return found


def _actions(expression: ast.expr, where: str) -> list[str]:
    """The literal actions (or, for an f-string, its literal prefix and "*")."""
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return [expression.value]
    if isinstance(expression, ast.IfExp):
        return _actions(expression.body, where) + _actions(expression.orelse, where)
    if isinstance(expression, ast.JoinedStr):
        prefix = ""
        for part in expression.values:
            if not isinstance(part, ast.Constant):
                break
            prefix += str(part.value)
        return [prefix + "*"]
    pytest.fail(f"{where}: the audit action is not a literal the timeline test can read")


def written_actions() -> dict[str, str]:
    """Every action the code passes to audit_log, with where it is written."""
    actions: dict[str, str] = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_text()
            if "audit_log(" not in source:
                continue
            for expression, line in _action_expressions(ast.parse(source)):
                where = f"{Path(path).relative_to(ROOT)}:{line}"
                for action in _actions(expression, where):
                    actions[action] = where
    return actions


def test_every_action_the_code_writes_has_a_sentence() -> None:
    actions = written_actions()
    # The scan finds what it must: the plain, the conditional, the passed-on and the f-string.
    assert {
        "order.created",
        "evidence.replaced",
        "evidence.uploaded",
        "inspection.unit_recorded",
        "serial_exception.*",
        "admin.*",
    } <= set(actions)
    registered = registered_actions()
    missing = []
    for action, where in sorted(actions.items()):
        if action.endswith("*"):
            prefix = action[:-1]
            covered = any(key.startswith(prefix) for key in registered)
        else:
            covered = sentence_for(action) is not None
        if not covered:
            missing.append(f"{action} ({where})")
    assert not missing, "Register a timeline sentence (portal.timeline) for: " + ", ".join(missing)


@pytest.mark.django_db
def test_the_demo_timeline_reads_as_sentences() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    for audit_event in AuditEvent.objects.select_related("actor"):
        assert sentence_for(audit_event.action) is not None, audit_event.action
        assert read(audit_event) != fallback_sentence(audit_event), audit_event.action
    order = PurchaseOrder.objects.get(number="2026-0141")
    client = Client()
    client.force_login(User.objects.get(username="buyer"))
    page = timeline(client, order) + timeline(client, order, page="2")
    shown = visible(page)
    for action in set(order.audit_events.values_list("action", flat=True)):
        assert action not in shown, action
    assert "True" not in page and "False" not in page
    assert "Wei Zhang uploaded B1-production-serials.csv (production list," in shown
    # Counts read with thousands separators (the story's list has some 6,000 rows).
    assert re.search(
        r"B1-production-serials\.csv checked: \d{1,3}(,\d{3})+ rows, \d+ missing", shown
    )
    assert "Rahul Mehta released the gate “Shipment release of batch B1”" in shown
    assert "Amelia Hart signed an approval for batch B1: accepted" in shown
    assert "USD 18,000.00" in shown
    # The inspector's round of label checks and the supplier's bulk answer read as one line each.
    assert re.search(r"Marco Rossi checked \d+ units: \d+ labels match", shown)
    assert re.search(r"Wei Zhang explained \d+ exceptions at once: ", shown)
    assert len(sentences(page)) == order.audit_events.count() > 50
