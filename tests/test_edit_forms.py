"""Every edit form survives a round trip: GET the page, post back exactly what a browser would
send for the rendered fields, and the record is unchanged, field by field.

A new edit form is one more ``EditCase``. ``test_it_knows_every_form`` reads every page of the
access matrix as each role and fails on a form posting somewhere not named here, as an edit
form (with a round-trip case) or as a form that adds or acts."""

from __future__ import annotations

import datetime
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django import forms
from django.db.models import Model
from django.forms.widgets import DateTimeBaseInput
from django.urls import Resolver404, resolve, reverse

from orders import services
from portal.models import AuditEvent, Membership
from tests.conftest import Cast
from tests.test_access import OBJECT_PAGES, PLAIN_URLS, WEBAUTHN_URLS, _objects

# ------------------------------------------------------------------ what a browser sends


@dataclass
class RenderedForm:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    submit: tuple[str, str] | None = None  # the first named submit button: what Enter sends


# HTML's value sanitisation: a browser holds (and shows, and sends) "" for a value not in the
# input type's own format, which for dates is ISO whatever the page's locale.
VALID_VALUE = {
    "date": re.compile(r"\d{4,}-\d{2}-\d{2}"),
    "datetime-local": re.compile(r"\d{4,}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?"),
    "time": re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?"),
    "number": re.compile(r"-?(\d+|\d*\.\d+)([eE][-+]?\d+)?"),
}


def sanitised(kind: str, value: str) -> str:
    pattern = VALID_VALUE.get(kind)
    return value if pattern is None or pattern.fullmatch(value) else ""


class FormParser(HTMLParser):
    """Reads a page's forms the way a browser submits them: checked boxes and radios only,
    the selected options (or a single select's first), a textarea's text without the one
    leading newline HTML drops, values sanitised per input type, no file and no unnamed
    control."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[RenderedForm] = []
        self._form: RenderedForm | None = None
        self._select: tuple[str, bool, list[tuple[str, bool]]] | None = None
        self._option: list[str] | None = None
        self._option_attrs: dict[str, str | None] = {}
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attrs_list)
        if tag == "form":
            self._form = RenderedForm(
                action=attrs.get("action") or "", method=(attrs.get("method") or "get").lower()
            )
            self.forms.append(self._form)
            return
        form, name = self._form, attrs.get("name")
        if form is None:
            return
        if tag == "input" and name and "disabled" not in attrs:
            kind = (attrs.get("type") or "text").lower()
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    form.fields.append((name, attrs.get("value") or "on"))
            elif kind in {"submit", "image"}:
                form.submit = form.submit or (name, attrs.get("value") or "")
            elif kind not in {"file", "reset", "button"}:
                form.fields.append((name, sanitised(kind, attrs.get("value") or "")))
        elif tag == "button" and name and (attrs.get("type") or "submit") == "submit":
            form.submit = form.submit or (name, attrs.get("value") or "")
        elif tag == "select" and name and "disabled" not in attrs:
            self._select = (name, "multiple" in attrs, [])
        elif tag == "option" and self._select is not None:
            self._option, self._option_attrs = [], attrs
        elif tag == "textarea" and name and "disabled" not in attrs:
            self._textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option.append(data)
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._select is not None and self._option is not None:
            value = self._option_attrs.get("value")
            text = "".join(self._option).strip() if value is None else value
            self._select[2].append((text, "selected" in self._option_attrs))
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, multiple, options = self._select
            chosen = [value for value, selected in options if selected]
            if not chosen and not multiple and options:
                chosen = [options[0][0]]
            self._form.fields.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, parts = self._textarea
            text = "".join(parts)
            self._form.fields.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self._form = None


def rendered_forms(html: str) -> list[RenderedForm]:
    parser = FormParser()
    parser.feed(html)
    return [form for form in parser.forms if form.method == "post"]


def action_name(form: RenderedForm, page_url: str) -> str:
    path = urlsplit(form.action).path or urlsplit(page_url).path
    try:
        match = resolve(path)
    except Resolver404:
        return path
    return match.view_name


def post_data(form: RenderedForm) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in [*form.fields, *([form.submit] if form.submit else [])]:
        data.setdefault(name, []).append(value)
    return data


# ------------------------------------------------------------------ the edit forms


def record_fields(record: Model) -> dict[str, Any]:
    """Every stored column and many-to-many of the record, read again from the database."""
    record = type(record).objects.get(pk=record.pk)
    values = {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields}
    for m2m in record._meta.many_to_many:
        values[m2m.name] = sorted(getattr(record, m2m.name).values_list("pk", flat=True))
    return values


def batch_with_production_details(cast: Cast) -> Model:
    batch = services.batch_update(
        batch=cast.batches["own"],
        user=cast.users["supplier_a"],
        declared_first_serial="VLT000001",
        declared_last_serial="VLT000100",
        production_started_on=datetime.date(2026, 10, 2),
        production_finished_on=datetime.date(2026, 10, 19),
        status="produced",
    )
    return batch


def order_with_every_field(cast: Cast) -> Model:
    return services.order_update(
        order=cast.orders["own"],
        user=cast.users["buyer"],
        sku="VLT-65W",
        customer_promise="Delivered before\nthe spring sale.",
        required_by=datetime.date(2026, 12, 3),
    )


def batch_with_requirements(cast: Cast) -> Model:
    from evidence import services as evidence_services

    batch = cast.batches["own"]
    evidence_services.requirements_set(
        batch=batch, user=cast.users["buyer"], kinds=["photo", "process_log"]
    )
    return batch


def batch_requirements(record: Model) -> dict[str, Any]:
    return {"kinds": sorted(record.requirements.values_list("kind", flat=True))}


def staff_person(cast: Cast) -> Model:
    return cast.users["service"]


def person_with_role(record: Model) -> dict[str, Any]:
    """The person's columns and their membership's (the role the form edits)."""
    membership = Membership.objects.get(user_id=record.pk)
    return {**record_fields(record), "membership": record_fields(membership)}


@dataclass(frozen=True)
class EditCase:
    """One edit form: where it is, who uses it, the record it edits and how to read it."""

    action: str  # the URL name the form posts to
    role: str
    record: Callable[[Cast], Model]  # makes the record as it would be when edited
    page: str | None = None  # the URL name of the page showing the form, if not the action
    read: Callable[[Model], dict[str, Any]] = record_fields

    @property
    def id(self) -> str:
        return f"{self.action}-{self.role}"


EDIT_CASES = [
    EditCase("order-edit", "buyer", order_with_every_field),
    EditCase("order-edit", "admin", order_with_every_field),
    EditCase("batch-edit", "buyer", batch_with_production_details),
    EditCase("batch-edit", "supplier_a", batch_with_production_details),
    EditCase("batch-edit", "admin", batch_with_production_details),
    EditCase(
        "evidence-requirements",
        "buyer",
        batch_with_requirements,
        page="batch-evidence",
        read=batch_requirements,
    ),
    EditCase("person-role", "admin", staff_person, page="person-detail", read=person_with_role),
    EditCase("admin:orders_purchaseorder_change", "admin", order_with_every_field),
    EditCase("admin:orders_batch_change", "admin", batch_with_production_details),
]
# Forms that add a record or act, and so have nothing to round-trip.
NOT_EDITING = {
    "login",
    "logout",
    "order-create",
    "batch-create",
    "order-dossier-export",  # asks for a new build
    "batch-approvals",  # signs a new approval
    "order-approvals",
    "batch-gate-create",
    "order-gate-create",
    "gate-release",
    "gate-payments",  # records a payment
    "serial-list-upload",
    "batch-exceptions",  # answers and decisions are new rows
    "batch-serials-accept",
    "order-allocate",
    "order-allocated-codes",
    "numbering-rules",  # saving a product's rule records a new one
    "serial-lookup-bulk",
    "evidence-upload",
    "evidence-replace",  # a new version
    "batch-requests",
    "request-detail",  # writes a statement
    "statement-review",
    "order-responsibilities",  # a new entry in the map's history
    "batch-inspections",  # plans an inspection
    "inspection-blocked-step",
    "inspection-carton-scans",
    "sampled-unit",  # records a result
    "sample-create",  # records a product's (or an order's) approved sample
    "sample-new-version",  # a new version: the old one stays on file
    "open-point-close",  # closes an open point: a new row, the point never changes
    "batch-serial-life",  # records a serial's life event: a new row, never an edit
    "integrity",  # "Verify now": runs the verification, edits nothing
    "notifications-read-all",  # marks read: a new row per notification, never an edit
    "account-tokens",  # makes a new API token
    "account-token-revoke",  # deletes one
    "account-password",  # sets a new password (Django's form, which asks for the old one)
    "account-app-setup",  # confirms a new authenticator app
    "account-factor-remove",  # deletes one of one's second factors
    "account-verify",  # answers the second factor at sign-in
    "people-invite",  # makes a new person
    "person-deactivate",  # asks to confirm, then deactivates
    "person-reactivate",
    "person-invitation-resend",  # emails a new link
    "account-set-password",  # sets an invited person's first password
    "account-language",  # the footer's switch: one choice, no record shown to round-trip
    # The person's own language and time zone: its round trip (no id in the URL) is in
    # tests/accounts/test_preferences.py.
    "account-preferences",
}


@pytest.mark.parametrize("case", EDIT_CASES, ids=lambda case: case.id)
def test_it_saves_an_unchanged_form_without_changing_the_record(cast: Cast, case: EditCase) -> None:
    record = case.record(cast)
    before = case.read(record)
    events = AuditEvent.objects.count()
    client = cast.client(case.role)
    page_url = reverse(case.page or case.action, args=[record.pk])
    page = client.get(page_url)
    assert page.status_code == 200
    [form] = [
        form
        for form in rendered_forms(page.content.decode())
        if action_name(form, page_url) == case.action
    ]
    response = client.post(reverse(case.action, args=[record.pk]), post_data(form))
    assert response.status_code == 302, response.context and getattr(
        response.context.get("form"), "errors", None
    )
    assert case.read(record) == before
    assert AuditEvent.objects.count() == events


def test_it_renders_dates_as_the_date_picker_reads_them(cast: Cast) -> None:
    batch = batch_with_production_details(cast)
    page = cast.client("supplier_a").get(reverse("batch-edit", args=[batch.pk]))
    [form] = [
        form
        for form in rendered_forms(page.content.decode())
        if action_name(form, page.wsgi_request.path) == "batch-edit"
    ]
    assert ("production_started_on", "2026-10-02") in form.fields
    assert ("production_finished_on", "2026-10-19") in form.fields


def _project_forms() -> list[type[forms.BaseForm]]:
    import approvals.forms
    import approvals.views
    import evidence.forms
    import inspection.views
    import orders.forms
    import serials.forms

    modules = [
        approvals.forms,
        approvals.views,
        evidence.forms,
        inspection.views,
        orders.forms,
        serials.forms,
    ]
    found = [
        value
        for module in modules
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, forms.BaseForm)
    ]
    found += [orders.forms.batch_form_class(services.BATCH_FIELDS_BY_ROLE["admin"])]
    return found


def test_it_gives_every_date_input_an_iso_format() -> None:
    """A browser's date or datetime-local input shows nothing for a localised value."""
    iso = {"date": "%Y-%m-%d", "datetime-local": "%Y-%m-%dT%H:%M"}
    seen = []
    for form_class in _project_forms():
        for name, form_field in form_class.base_fields.items():
            widget = form_field.widget
            input_type = widget.attrs.get("type") or getattr(widget, "input_type", None)
            if isinstance(widget, DateTimeBaseInput) or input_type in iso:
                assert input_type in iso, (form_class, name, "not a browser date picker")
                assert widget.format == iso[input_type], (form_class, name)
                seen.append(name)
    assert {"order_date", "production_started_on", "due_on", "paid_on"} <= set(seen)


def _needs_arguments(name: str) -> bool:
    """Plain URLs tested per role elsewhere may still take ids (a dossier's download)."""
    from django.urls import NoReverseMatch

    try:
        reverse(name)
    except NoReverseMatch:
        return True
    return False


def test_it_knows_every_form(cast_with_lists: Cast) -> None:
    cast = cast_with_lists
    edit_actions = {case.action for case in EDIT_CASES}
    unknown: set[tuple[str, str, str]] = set()
    for role in ("buyer", "admin", "finance", "service", "supplier_a", "inspector"):
        client = cast.client(role)
        urls = [
            reverse(name, args=[_objects(cast, kind)["own"].pk])
            for name, (kind, *_) in OBJECT_PAGES.items()
        ]
        urls += [
            reverse(name)
            for name in PLAIN_URLS - WEBAUTHN_URLS  # django-otp-webauthn's JSON views
            if not name.startswith("api-") and not _needs_arguments(name)
        ]
        for url in urls:
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            for form in rendered_forms(response.content.decode()):
                name = action_name(form, url)
                if name not in edit_actions | NOT_EDITING:
                    unknown.add((role, url, name))
    assert not unknown, "add an EditCase (or NOT_EDITING) for these forms"
