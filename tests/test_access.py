"""Every URL × every role × own and foreign object. A foreign object answers 404, never data.

``test_it_covers_every_url`` fails when a URL is added without a row here."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import (
    BATCH_EDITORS,
    BUYER_SIDE,
    INSPECTION_RECORDERS,
    INSPECTION_VIEWERS,
    MANAGERS,
    ORDER_KEYS,
    ROLES,
    SUPPLIERS,
    VISIBLE,
    Cast,
    totp_code,
)

# Per-object pages: url name → (object kind, who may open it among those who can see it, or
# what those who see it but may not use it get).
OBJECT_PAGES: dict[str, tuple[str, set[str], int]] = {
    "order-detail": ("order", set(ROLES), 403),
    "order-edit": ("order", MANAGERS, 403),
    "order-timeline": ("order", BUYER_SIDE, 404),  # internal to the buyer: suppliers get 404
    "order-dossier": ("order", BUYER_SIDE, 404),
    "order-dossier-progress": ("order", BUYER_SIDE, 404),
    "batch-create": ("order", MANAGERS, 403),
    "batch-detail": ("batch", set(ROLES), 403),
    "batch-edit": ("batch", BATCH_EDITORS, 403),
    "batch-exceptions": ("batch", set(ROLES), 403),
    "batch-exceptions-csv": ("batch", set(ROLES), 403),
    "serial-list-detail": ("serial_list", set(ROLES), 403),
    "serial-list-progress": ("serial_list", set(ROLES), 403),
    "serial-list-anomalies-csv": ("serial_list", set(ROLES), 403),
    "serial-list-template": ("batch", set(ROLES), 403),
    "batch-evidence": ("batch", set(ROLES), 403),
    "evidence-detail": ("evidence", set(ROLES), 403),
    "evidence-file": ("evidence", set(ROLES), 403),
    "evidence-thumbnail": ("evidence", set(ROLES), 403),
    "batch-requests": ("batch", set(ROLES), 403),
    "request-detail": ("request", set(ROLES), 403),
    "order-responsibilities": ("order", set(ROLES), 403),
    "batch-approvals": ("batch", set(ROLES), 403),
    # The buyer's own frame for deciding (sample, notes, money): managers and finance only.
    "batch-review": ("batch", MANAGERS | {"finance"}, 404),
    "order-approvals": ("order", set(ROLES), 403),
    "order-approvals-csv": ("order", set(ROLES), 403),
    "approval-detail": ("approval", set(ROLES), 403),
    # Closing an open point: the buyer's managers any, the supplier those its parties own (the
    # cast's are the packer's); the rest see the approval but may not close it.
    "open-point-close": ("open_point", MANAGERS | SUPPLIERS, 403),
    "gate-payments": ("gate", BUYER_SIDE, 404),  # internal to the buyer
    "gate-release": ("gate", {"finance", "admin"}, 403),  # the confirmation; POST releases
    "payment-document": ("payment", BUYER_SIDE, 404),
    # Inspections are hidden from suppliers: a sample known in advance can be prepared.
    "batch-inspections": ("batch", INSPECTION_VIEWERS, 404),
    "inspection-detail": ("inspection", INSPECTION_VIEWERS, 404),
    "inspection-checklist": ("inspection", INSPECTION_VIEWERS, 404),
    "sampled-unit": ("sampled_unit", INSPECTION_VIEWERS, 404),
    # An order's approved sample: whoever sees the order reads it; the buyer's managers make
    # its new versions. The list and the form: per role in tests/orders/test_approved_samples.py.
    "sample-detail": ("sample", set(ROLES), 403),
    "sample-photo": ("sample", set(ROLES), 403),
    "sample-label-photo": ("sample", set(ROLES), 403),
    "sample-new-version": ("sample", MANAGERS, 403),
    # A serial's life: the buyer's staff read it; who may record what (and the POSTs): per role,
    # own and foreign, in tests/serials/test_serial_life.py.
    "batch-serial-life": ("batch", BUYER_SIDE, 403),
}
# Per-object actions (POST only): who may use them among those who see the object; the roles
# in HIDDEN_ACTIONS get 404 instead of 403 (the object is hidden from them altogether).
OBJECT_ACTIONS: dict[str, tuple[str, set[str]]] = {
    "serial-list-upload": ("batch", {"buyer", "admin", "other_buyer", "supplier_a", "supplier_b"}),
    # Checks a file without uploading it: whoever may upload (the report page, 200).
    "serial-list-check": ("batch", {"buyer", "admin", "other_buyer", "supplier_a", "supplier_b"}),
    "batch-serials-accept": ("batch", MANAGERS),
    "order-allocate": ("order", MANAGERS),
    "order-allocated-codes": ("order", MANAGERS),
    "evidence-upload": ("batch", BATCH_EDITORS),
    "evidence-requirements": ("batch", MANAGERS),
    "evidence-replace": ("evidence", BATCH_EDITORS),
    "statement-review": ("statement", MANAGERS),
    "batch-gate-create": ("batch", MANAGERS),
    "order-gate-create": ("order", MANAGERS),
    "gate-release": ("gate", {"finance", "admin"}),
    # The passkey challenges for signing and releasing: a form that is not filled in is 400.
    "batch-approval-passkey": ("batch", MANAGERS),
    "order-approval-passkey": ("order", MANAGERS),
    "gate-release-passkey": ("gate", {"finance", "admin"}),
    "inspection-blocked-step": ("inspection", INSPECTION_RECORDERS),
    "inspection-carton-scans": ("inspection", INSPECTION_RECORDERS),
    # Builds the dossier (a worker): internal to the buyer, so everyone else gets 404.
    "order-dossier-export": ("order", BUYER_SIDE),
}
# Actions whose page shows its form again, with what is missing, when posted empty.
ACTION_FORMS = {
    "serial-list-check": 200,  # the file's report, on the page
    "gate-release": 200,
    "batch-approval-passkey": 400,
    "order-approval-passkey": 400,
    "gate-release-passkey": 400,
}
HIDDEN_ACTIONS = {
    "order-dossier-export": set(ROLES) - BUYER_SIDE,
    "inspection-blocked-step": SUPPLIERS,
    "inspection-carton-scans": SUPPLIERS,
    "api-batch-inspections": SUPPLIERS,
    "api-unit-results": SUPPLIERS,
}
OBJECT_API = {
    "api-order-detail": "order",
    "api-order-batches": "order",
    "api-batch-detail": "batch",
    "api-batch-serial-lists": "batch",
    "api-serial-list-detail": "serial_list",
    "api-batch-exceptions": "batch",
    "api-order-allocated-codes": "order",
    "api-batch-evidence": "batch",
    "api-evidence-detail": "evidence",
    "api-approval-detail": "approval",
    "api-batch-requests": "batch",
    "api-request-detail": "request",
    "api-gate-detail": "gate",
    # Payments are internal to the buyer: everyone else gets 404, as for a foreign id.
    "api-gate-payments": ("gate", BUYER_SIDE),
    "api-batch-inspections": ("batch", INSPECTION_VIEWERS),
    "api-inspection-detail": ("inspection", INSPECTION_VIEWERS),
    "api-unit-results": ("sampled_unit", INSPECTION_VIEWERS),
}
# API actions (POST): who may use them among those who see the object; others get 403. TOTP in a
# body stands for the caller's authenticator app's current code, SERIAL_FILE for a small serial
# list (the body is then sent as multipart).
TOTP = object()
SERIAL_FILE = object()
# url name → (object kind, who may use it, the body to send, the status it answers them); the
# roles in HIDDEN_ACTIONS get 404 (the object is hidden from them), the rest 403.
OBJECT_API_ACTIONS: dict[str, tuple[str, set[str], dict, int]] = {
    "api-gate-release": ("gate", {"finance", "admin"}, {"code": TOTP}, 200),
    "api-batch-inspections": (
        "batch",
        {"buyer", "admin", "inspector", "other_buyer"},
        {"aql": "1.0"},
        201,
    ),
    "api-unit-results": ("sampled_unit", INSPECTION_RECORDERS, {"label_text": "VLT000001"}, 201),
    # A written request, naming the promise its answer tests: the buyer's managers.
    "api-batch-requests": (
        "batch",
        MANAGERS,
        {
            "subject": "Why?",
            "question": "Which line?",
            "due_on": "2030-01-01",
            "promises": ["process"],
        },
        201,
    ),
    # Checks a file without uploading it: whoever may upload; the report at once.
    "api-batch-serial-list-check": (
        "batch",
        {"buyer", "admin", "other_buyer", "supplier_a", "supplier_b"},
        {"file": SERIAL_FILE, "kind": "production"},
        200,
    ),
}
# django-otp-webauthn's JSON views (namespace otp_webauthn).
WEBAUTHN_URLS = {
    "credential-registration-begin",
    "credential-registration-complete",
    "credential-authentication-begin",
    "credential-authentication-complete",
    "js-i18n-catalog",
}
# Pages without an object id, tested below one by one.
PLAIN_URLS = {
    "dashboard",
    "order-list",
    "order-create",
    "login",
    "logout",
    "healthz",
    "api-token",
    # Each person's own API tokens and password: per role in tests/accounts/test_tokens.py.
    "account-tokens",
    "account-token-revoke",
    "account-password",
    # Each person's own second factors and the sign-in's second step, and django-otp-webauthn's
    # JSON views behind them: per role in tests/accounts/test_second_factor.py.
    "account-security",
    "account-app-setup",
    "account-factor-remove",
    "account-verify",
    # Each person's own language and time zone, and the footer's switch (signed in or out):
    # per role in tests/accounts/test_preferences.py.
    "account-preferences",
    "account-language",
    *WEBAUTHN_URLS,
    "api-schema",
    "api-docs",
    "api-order-list",
    "numbering-rules",
    "api-numbering-rules",
    "api-exception-answers",
    "api-exception-decisions",
    "finance-board",
    "finance-board-csv",  # with the board, in test_only_the_buyer_s_staff_see_the_finance_board
    "finance-payments-csv",  # likewise
    "api-approval-list",
    "api-gate-list",
    # Each person's own notifications (another's id answers 404): per role in
    # tests/portal/test_inbox.py.
    "notifications",
    "notification-open",
    "notifications-read-all",
    # The admins' integrity page and its polled progress: per role in
    # tests/portal/test_integrity_page.py.
    "integrity",
    "integrity-progress",
    # Customer-service lookup: per role in tests/lookup/test_lookup.py.
    "serial-lookup",
    "serial-lookup-bulk",
    # A unit's label QR code, drawn from its query alone: tests/lookup/test_label_links.py.
    "label-qr",
    "api-serial-lookup",
    "api-serial-lookup-bulk",
    # A built dossier's download (an order's id and an export's): per role, own and foreign, in
    # tests/dossier/test_dossier_export.py.
    "order-dossier-download",
    # A batch's EPCIS 2.0 export, page and API (the buyer's staff only; the cast's batches
    # cannot be written, so their answer is the refusal): per role, own and foreign, in
    # tests/dossier/test_epcis.py.
    "batch-epcis",
    "api-batch-epcis",
    # The buyer's admin's People pages (a person's id, within the buyer and its suppliers or
    # not) and an invitation's set-password link: per role, own and foreign, in
    # tests/accounts/test_people.py.
    "people",
    "people-invite",
    "person-detail",
    "person-role",
    "person-deactivate",
    "person-reactivate",
    "person-invitation-resend",
    "account-set-password",
    # An answer's attachment: per role, own and foreign, in
    # tests/serials/test_exceptions_one_step.py.
    "exception-attachment",
    # A life event's proving file: per role, own and foreign, in tests/serials/test_serial_life.py.
    "serial-life-file",
    # The buyer's approved samples and a new one (from an order's page or not): per role, own
    # and foreign, in tests/orders/test_approved_samples.py.
    "sample-list",
    "sample-create",
    # Supplier scorecards (a supplier organisation's id, and a buyer's for a supplier serving
    # several): per role, own and foreign, in test_it_scopes_scorecards below.
    "scorecard-list",
    "scorecard-detail",
    "scorecard-records",
    # GS1 Digital Link in (public: the genuine-or-not page, or the lookup for the buyer's
    # staff; also below) and the brand's log of those checks: per role, own and foreign, in
    # tests/lookup/test_public_check.py.
    "digital-link",
    "digital-link-qualified",  # the same, with a lot (and CPV) before the serial
    "public-checks",
}


def _names(patterns: list, prefix: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            names |= _names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


def test_it_covers_every_url() -> None:
    covered = (
        set(OBJECT_PAGES) | set(OBJECT_ACTIONS) | set(OBJECT_API) | set(OBJECT_API_ACTIONS)
    ) | PLAIN_URLS
    assert _names(get_resolver().url_patterns) == covered


def _objects(cast: Cast, kind: str) -> dict:
    return {
        "order": cast.orders,
        "batch": cast.batches,
        "serial_list": cast.serial_lists,
        "evidence": cast.evidence,
        "request": cast.requests,
        "statement": cast.statements,
        "gate": cast.gates,
        "approval": cast.approvals,
        "payment": cast.payments,
        "inspection": cast.inspections,
        "sampled_unit": cast.sampled_units,
        "sample": cast.samples,
        "open_point": cast.open_points,
    }[kind]


def _target(cast: Cast, kind: str, key: str) -> int:
    return _objects(cast, kind)[key].pk


# Reads change nothing, so one cast serves every role of a URL (building it is the slow part);
# every role × object that answers wrongly is named in the one failure.
@pytest.mark.parametrize("url_name", list(OBJECT_PAGES))
def test_it_scopes_object_pages(cast_with_lists: Cast, url_name: str) -> None:
    cast = cast_with_lists
    kind, allowed, refused_status = OBJECT_PAGES[url_name]
    wrong = []
    for role in ROLES:
        client = cast.client(role)
        for key in ORDER_KEYS:
            obj = _objects(cast, kind)[key]
            response = client.get(reverse(url_name, args=[obj.pk]))
            if key not in VISIBLE[role]:
                expected = 404
            elif role in allowed:
                expected = 200
            else:
                expected = refused_status
            if response.status_code != expected:
                wrong.append((role, key, response.status_code, expected))
            elif expected != 200 and cast.orders[key].number in response.content.decode():
                wrong.append((role, key, "shows the order number", expected))
    assert wrong == [], (url_name, wrong)


@pytest.mark.parametrize("url_name", list(OBJECT_PAGES) + list(OBJECT_API))
def test_it_sends_anonymous_visitors_away(cast_with_lists: Cast, url_name: str) -> None:
    cast = cast_with_lists
    kind = OBJECT_PAGES[url_name][0] if url_name in OBJECT_PAGES else _api_kind(url_name)
    response = cast.client(None).get(reverse(url_name, args=[_target(cast, kind, "own")]))
    if url_name.startswith("api-"):
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def _api_kind(url_name: str) -> str:
    rule = OBJECT_API[url_name]
    return rule if isinstance(rule, str) else rule[0]


@pytest.mark.parametrize("url_name", list(OBJECT_API))
def test_it_scopes_api_reads(cast_with_lists: Cast, url_name: str) -> None:
    cast = cast_with_lists
    rule = OBJECT_API[url_name]
    allowed = set(ROLES) if isinstance(rule, str) else rule[1]
    wrong = []
    for role in ROLES:
        api = cast.api(role)
        for key in ORDER_KEYS:
            response = api.get(reverse(url_name, args=[_target(cast, _api_kind(url_name), key)]))
            expected = 200 if key in VISIBLE[role] and role in allowed else 404
            if response.status_code != expected:
                wrong.append((role, key, response.status_code, expected))
            elif expected == 404 and cast.orders[key].number in response.content.decode():
                wrong.append((role, key, "shows the order number", expected))
    assert wrong == [], (url_name, wrong)


@pytest.mark.parametrize("role", ROLES)
def test_it_scopes_lists(cast: Cast, role: str) -> None:
    page = cast.client(role).get(reverse("order-list")).content.decode()
    api = cast.api(role).get(reverse("api-order-list")).json()
    dashboard = cast.client(role).get(reverse("dashboard")).content.decode()
    api_numbers = {order["number"] for order in api["results"]}
    for key in ORDER_KEYS:
        number = cast.orders[key].number
        assert (number in page) == (key in VISIBLE[role]), (role, key)
        assert (number in dashboard) == (key in VISIBLE[role]), (role, key)
        assert (number in api_numbers) == (key in VISIBLE[role]), (role, key)


@pytest.mark.parametrize("role", ROLES)
def test_it_lets_only_managers_create_orders(cast: Cast, role: str) -> None:
    page = cast.client(role).get(reverse("order-create"))
    assert page.status_code == (200 if role in MANAGERS else 403)
    payload = {
        "number": f"PO-NEW-{role}",
        "supplier": cast.organisations["supplier_b"].pk,
        "product_name": "Drill",
        "sku": "DRL-1",
        "quantity": 10,
        "order_date": "2026-11-01",
        "required_by": "2026-12-01",
        "status": "draft",
    }
    response = cast.api(role).post(reverse("api-order-list"), payload, format="json")
    assert response.status_code == (201 if role in MANAGERS else 403), response.content


@pytest.mark.parametrize("role", ROLES)
def test_it_scopes_api_writes(cast: Cast, role: str) -> None:
    api = cast.api(role)
    for key in ORDER_KEYS:
        order, batch = cast.orders[key], cast.batches[key]
        order_patch = api.patch(
            reverse("api-order-detail", args=[order.pk]), {"product_name": "X"}, format="json"
        )
        new_batch = api.post(
            reverse("api-order-batches", args=[order.pk]),
            {"code": f"N-{role}", "planned_quantity": 5},
            format="json",
        )
        batch_patch = api.patch(
            reverse("api-batch-detail", args=[batch.pk]),
            {"production_started_on": "2026-11-03"},
            format="json",
        )
        if key not in VISIBLE[role]:
            assert (order_patch.status_code, new_batch.status_code, batch_patch.status_code) == (
                404,
                404,
                404,
            ), (role, key)
            continue
        assert order_patch.status_code == (200 if role in MANAGERS else 403), (role, key)
        assert new_batch.status_code == (201 if role in MANAGERS else 403), (role, key)
        # Production details are the supplier's (and the admin's) to give, not the buyer's.
        can_report = role in {"supplier_a", "supplier_b", "admin"}
        assert batch_patch.status_code == (200 if can_report else 403), (role, key)


@pytest.mark.parametrize("role", ROLES)
def test_it_keeps_foreign_ids_out_of_page_posts(cast: Cast, role: str) -> None:
    client = cast.client(role)
    for key in ORDER_KEYS:
        if key in VISIBLE[role]:
            continue
        batch = cast.batches[key]
        response = client.post(reverse("batch-edit", args=[batch.pk]), {"planned_quantity": 1})
        assert response.status_code == 404
        batch.refresh_from_db()
        assert batch.planned_quantity == 100


def test_it_serves_public_and_auth_urls(cast: Cast) -> None:
    anonymous = cast.client(None)
    assert anonymous.get(reverse("login")).status_code == 200
    assert anonymous.get(reverse("healthz")).status_code in (200, 503)
    assert anonymous.get(reverse("dashboard")).status_code == 302
    assert anonymous.get(reverse("order-list")).status_code == 302
    assert anonymous.get(reverse("order-create")).status_code == 302
    assert anonymous.get(reverse("api-order-list")).status_code == 401
    # The API's description is public, so integrators can read it before they hold a token.
    assert anonymous.get(reverse("api-schema")).status_code == 200
    assert anonymous.get(reverse("api-docs")).status_code == 200
    # A unit's label QR code (GS1 Digital Link): the public genuine-or-not page, no sign-in.
    link = reverse("digital-link", kwargs={"gtin": "05012345678900", "serial": "VLT000001"})
    assert anonymous.get(link).status_code == 200
    assert anonymous.get(reverse("public-checks")).status_code == 302
    assert anonymous.post(reverse("logout")).status_code == 302
    for role in ROLES:
        client = cast.client(role)
        assert client.get(reverse("api-schema")).status_code == 200
        assert client.get(reverse("api-docs")).status_code == 200
        assert client.post(reverse("logout")).status_code == 302


@pytest.mark.parametrize(
    "url_for",
    [
        lambda cast, key: reverse("admin:orders_purchaseorder_change", args=[cast.orders[key].pk]),
        lambda cast, key: reverse("admin:orders_batch_change", args=[cast.batches[key].pk]),
    ],
)
def test_it_scopes_the_admin(cast: Cast, url_for: Callable) -> None:
    admin = cast.client("admin")
    assert admin.get(url_for(cast, "own")).status_code == 200
    assert admin.get(url_for(cast, "foreign")).status_code == 404
    for role in ROLES:
        if role != "admin":
            response = cast.client(role).get(url_for(cast, "own"))
            assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", list(OBJECT_ACTIONS))
def test_it_scopes_object_actions(cast_with_lists: Cast, url_name: str, role: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    cast = cast_with_lists
    kind, allowed = OBJECT_ACTIONS[url_name]
    client = cast.client(role)
    for key in ORDER_KEYS:
        upload = SimpleUploadedFile("s.csv", b"serial\nVLT000002\n")
        response = client.post(
            reverse(url_name, args=[_target(cast, kind, key)]),
            {"file": upload, "kind": "production"},
        )
        if key not in VISIBLE[role] or role in HIDDEN_ACTIONS.get(url_name, set()):
            assert response.status_code == 404, (url_name, role, key)
        elif role in allowed:
            expected = ACTION_FORMS.get(url_name, 302)
            assert response.status_code == expected, (url_name, role, key)
        else:
            assert response.status_code == 403, (url_name, role, key)


def _api_body(body: dict, totp: Callable[[], str]) -> tuple[dict, str]:
    """The body to send, with TOTP and SERIAL_FILE filled in, and its format."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def value(given: object) -> object:
        if given is TOTP:
            return totp()
        if given is SERIAL_FILE:
            return SimpleUploadedFile("s.csv", b"serial\nVLT000002\n")
        return given

    sent = {name: value(given) for name, given in body.items()}
    return sent, "multipart" if SERIAL_FILE in body.values() else "json"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url_name", list(OBJECT_API_ACTIONS))
def test_it_scopes_api_actions(cast_with_lists: Cast, url_name: str, role: str) -> None:
    cast = cast_with_lists
    kind, allowed, body, success = OBJECT_API_ACTIONS[url_name]
    api = cast.api(role)
    for key in ORDER_KEYS:
        sent, format = _api_body(body, totp=lambda: totp_code(cast.users[role]))
        response = api.post(reverse(url_name, args=[_target(cast, kind, key)]), sent, format=format)
        if key not in VISIBLE[role] or role in HIDDEN_ACTIONS.get(url_name, set()):
            assert response.status_code == 404, (url_name, role, key)
            assert cast.orders[key].number not in response.content.decode()
        elif role in allowed:
            assert response.status_code == success, (url_name, role, key, response.content)
        else:
            assert response.status_code == 403, (url_name, role, key)


@pytest.mark.parametrize("role", ROLES)
def test_it_scopes_numbering_rules(cast_with_lists: Cast, role: str) -> None:
    cast = cast_with_lists
    page = cast.client(role).get(reverse("numbering-rules"))
    assert page.status_code == (200 if role in BUYER_SIDE else 403)
    rules = cast.api(role).get(reverse("api-numbering-rules")).json()["results"]
    assert len(rules) == (1 if role in BUYER_SIDE else 0)
    created = cast.api(role).post(
        reverse("api-numbering-rules"),
        {"product": "SKU-9", "prefix": "X", "width": 4, "check_digit": "luhn"},
        format="json",
    )
    assert created.status_code == (201 if role in MANAGERS else 403)
    posted = cast.client(role).post(
        reverse("numbering-rules"),
        {
            "product": "SKU-8",
            "kind": "sequential",
            "prefix": "y",
            "width": 4,
            "check_digit": "none",
        },
    )
    assert posted.status_code == (302 if role in MANAGERS else 403)


@pytest.mark.parametrize("role", ROLES)
def test_it_scopes_exception_answers_and_decisions(cast_with_lists: Cast, role: str) -> None:
    cast = cast_with_lists
    api = cast.api(role)
    for key in ORDER_KEYS:
        ids = list(cast.serial_lists[key].exceptions.values_list("pk", flat=True))
        answer = api.post(
            reverse("api-exception-answers"),
            {"ids": ids, "reason": "printer_skip", "note": "Printer jammed."},
            format="json",
        )
        decision = api.post(
            reverse("api-exception-decisions"),
            {"ids": ids, "decision": "accepted", "promises": ["identity"]},
            format="json",
        )
        if key not in VISIBLE[role]:
            assert (answer.status_code, decision.status_code) == (404, 404), (role, key)
            continue
        assert answer.status_code == (200 if role.startswith("supplier") else 403), (role, key)
        # Managers may decide, but nothing is answered yet (only suppliers answer): 400.
        expected = 400 if role in MANAGERS else 403
        assert decision.status_code == expected, (role, key, decision.content)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_buyer_s_staff_see_the_finance_board(cast_with_lists: Cast, role: str) -> None:
    cast = cast_with_lists
    response = cast.client(role).get(reverse("finance-board"))
    assert response.status_code == (200 if role in BUYER_SIDE else 403)
    if response.status_code == 200:
        page = response.content.decode()
        for key in ORDER_KEYS:
            assert (cast.orders[key].number in page) == (key in VISIBLE[role]), (role, key)
    exported = cast.client(role).get(reverse("finance-board-csv"))
    assert exported.status_code == response.status_code
    if exported.status_code == 200:
        csv = exported.content.decode()
        for key in ORDER_KEYS:
            assert (cast.orders[key].number in csv) == (key in VISIBLE[role]), (role, key)
    anonymous = cast.client(None).get(reverse("finance-board-csv"))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    payments = cast.client(role).get(reverse("finance-payments-csv"))
    assert payments.status_code == response.status_code
    if payments.status_code == 200:
        csv = payments.content.decode()
        for key in ORDER_KEYS:
            if cast.orders[key].number in csv:
                assert key in VISIBLE[role], (role, key)


@pytest.mark.parametrize("role", ["supplier_a", "inspector"])
def test_it_hides_a_draft_order_like_a_missing_one(cast_with_lists: Cast, role: str) -> None:
    """A draft is the buyer's alone until issued: its supplier and its inspectors get 404 on
    every page, action and API answer that names it or anything inside it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from orders.models import PurchaseOrder

    cast = cast_with_lists
    order = cast.orders["own"]
    PurchaseOrder.objects.filter(pk=order.pk).update(status=PurchaseOrder.Status.DRAFT)
    client, api = cast.client(role), cast.api(role)
    answers = {}
    for url_name, (kind, *_) in OBJECT_PAGES.items():
        answers[url_name] = client.get(reverse(url_name, args=[_target(cast, kind, "own")]))
    for url_name, (kind, _) in OBJECT_ACTIONS.items():
        upload = SimpleUploadedFile("s.csv", b"serial\nVLT000002\n")
        url = reverse(url_name, args=[_target(cast, kind, "own")])
        answers[f"POST {url_name}"] = client.post(url, {"file": upload, "kind": "production"})
    for url_name in OBJECT_API:
        url = reverse(url_name, args=[_target(cast, _api_kind(url_name), "own")])
        answers[url_name] = api.get(url)
    for url_name, (kind, _, body, _) in OBJECT_API_ACTIONS.items():
        url = reverse(url_name, args=[_target(cast, kind, "own")])
        sent, format = _api_body(body, totp=lambda: "123456")
        answers[f"POST {url_name}"] = api.post(url, sent, format=format)
    batch_url = reverse("api-batch-detail", args=[cast.batches["own"].pk])
    answers["PATCH api-batch-detail"] = api.patch(
        batch_url, {"production_started_on": "2026-11-03"}, format="json"
    )
    leaks = {name: r.status_code for name, r in answers.items() if r.status_code != 404}
    assert not leaks
    for response in answers.values():
        assert order.number not in response.content.decode()
    listed = [cast.client(role).get(reverse("order-list")), api.get(reverse("api-order-list"))]
    listed.append(cast.client(role).get(reverse("dashboard")))
    assert all(order.number not in response.content.decode() for response in listed)
    # The buyer's staff still see and work on it.
    assert cast.client("buyer").get(reverse("order-detail", args=[order.pk])).status_code == 200
    assert cast.api("admin").get(batch_url).status_code == 200


# Whose scorecards each person opens: (buyer, supplier) pairs of the cast's orders it sees.
SCORECARDS = {
    "buyer": {("buyer", "supplier_a"), ("buyer", "supplier_b")},
    "finance": {("buyer", "supplier_a"), ("buyer", "supplier_b")},
    "service": {("buyer", "supplier_a"), ("buyer", "supplier_b")},
    "admin": {("buyer", "supplier_a"), ("buyer", "supplier_b")},
    "other_buyer": {("other_buyer", "supplier_a")},
    "supplier_a": {("buyer", "supplier_a"), ("other_buyer", "supplier_a")},
    "supplier_b": {("buyer", "supplier_b")},
}


@pytest.mark.parametrize("role", ROLES)
def test_it_scopes_scorecards(cast_with_lists: Cast, role: str) -> None:
    """A card per buyer–supplier pair: the buyer's staff open their suppliers' (the buyer asked
    for is always their own), a supplier its own, one per buyer it serves; another supplier's,
    or a pair with no order, is 404; inspectors and people without an organisation see no
    scorecards (403). The records behind a figure name only the pair's own orders."""
    cast = cast_with_lists
    client = cast.client(role)
    pairs = SCORECARDS.get(role, set())
    order_of_pair = {
        ("buyer", "supplier_a"): "own",
        ("buyer", "supplier_b"): "b_order",
        ("other_buyer", "supplier_a"): "foreign",
    }
    listed = client.get(reverse("scorecard-list"))
    if not pairs:
        assert listed.status_code == 403
    elif len(pairs) == 1 and role in SUPPLIERS:
        assert listed.status_code == 302  # straight to its one card
    else:
        assert listed.status_code == 200
        for buyer, supplier in pairs:
            name = cast.organisations[buyer if role in SUPPLIERS else supplier].name
            assert name in listed.content.decode()
    wrong = []
    for asked_buyer in ("buyer", "other_buyer"):
        for supplier in ("supplier_a", "supplier_b"):
            supplier_id = cast.organisations[supplier].pk
            # The buyer's staff always get their own buyer's card; a supplier the one it asks.
            buyer = asked_buyer if role in SUPPLIERS else next(iter(pairs), ("", ""))[0]
            expected = 404 if pairs else 403
            if (buyer, supplier) in pairs:
                expected = 200
            for url in (
                reverse("scorecard-detail", args=[supplier_id]),
                reverse("scorecard-records", args=[supplier_id, "gaps"]),
            ):
                response = client.get(url, {"buyer": cast.organisations[asked_buyer].pk})
                if response.status_code != expected:
                    wrong.append((url, asked_buyer, response.status_code, expected))
                page = response.content.decode()
                shown = {key for key in ORDER_KEYS if cast.orders[key].number in page}
                if "gaps" in url and expected == 200:
                    if shown != {order_of_pair[(buyer, supplier)]}:
                        wrong.append((url, asked_buyer, "shows", shown))
                elif shown:
                    wrong.append((url, asked_buyer, "shows", shown))
    assert wrong == []
    anonymous = cast.client(None).get(reverse("scorecard-list"))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
