"""The crawl: the demo seeded, each demo role signed in, every same-site link, tab, filter and
page the portal shows followed breadth-first (bounded), as a first-day user would click.

Fails on: any 5xx; a link the portal shows that answers 4xx (a broken link); a template using
a variable that does not exist (tests/loud_templates.py); and a page of another organisation,
which is exactly:

- a URL whose route names an object (``orders/<pk>/``, ``batches/<pk>/evidence/``, the API's,
  the admin's ``<app>/<model>/<id>/``) whose order is not among the role's orders; and
- a body (HTML, CSV, JSON; not a PDF) that mentions the PO number of an order not among them.

The role's orders are ``orders_visible_to(user)``, less drafts for a supplier (issue 10: a draft
is the buyer's alone until issued). POST forms are never submitted; GET forms are submitted as
shown, and once per option of each of their selects.
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from io import StringIO
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models, transaction
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import Resolver404, resolve

from orders.models import PurchaseOrder
from orders.selectors import orders_visible_to
from portal.models import Role, User
from portal.roles import membership_of
from tests.loud_templates import UndefinedVariables

DEMO_ROLES = ["buyer", "supplier_a", "supplier_b", "inspector", "finance", "service", "admin"]
# Distinct paths per route (200 sampled units are one page, twelve times), then distinct query
# strings per path (tabs, filters, pages of one page). The admin site is Django's code over
# ours: three objects of a model, and a few of its filters and sort orders, exercise our part.
PORTAL_BOUNDS = (12, 30)
ADMIN_BOUNDS = (3, 6)
# Only a guard against a crawl that never ends; the bounds above stop it well before.
MAX_PAGES_PER_ROLE = 2000
# Far below what each role reaches today (printed by the test), so the crawl cannot silently
# shrink to the dashboard; the admin's includes the admin site.
MIN_PAGES = {
    "buyer": 150,
    "supplier_a": 60,
    "supplier_b": 15,
    "inspector": 60,
    "finance": 150,
    "service": 150,
    "admin": 400,
}
SKIPPED_PATHS = {"/logout/", "/admin/logout/"}
# A route's first segment (after "api/") names the object its <pk> is.
ROUTE_MODELS = {
    "orders": "orders.PurchaseOrder",
    "batches": "orders.Batch",
    "approvals": "orders.Approval",
    "gates": "orders.Gate",
    "payments": "orders.Payment",
    "serial-lists": "serials.SerialList",
    "evidence": "evidence.EvidenceItem",
    "requests": "evidence.EvidenceRequest",
    "statements": "evidence.Statement",
    "inspections": "inspection.InspectionPlan",
    "sampled-units": "inspection.SampledUnit",
}
# How a row reaches its order, tried in turn.
PARENTS = ("order", "batch", "gate", "plan", "unit", "request", "statement", "serial_list")
PO_NUMBER = re.compile(r"\b\d{4}-\d{4}\b")


@dataclass
class _Form:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=dict)

    def submissions(self) -> Iterator[str]:
        """As shown, then once per option of each select."""
        action = self.action.split("?")[0]
        yield f"{action}?{urlencode(self.fields)}"
        for name, options in self.choices.items():
            for option in options:
                variant = [(key, option if key == name else value) for key, value in self.fields]
                yield f"{action}?{urlencode(variant)}"


class Links(HTMLParser):
    """The URLs a page offers to a GET: links, images, htmx GETs and GET forms."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.submissions: list[str] = []
        self._form: _Form | None = None
        self._select: tuple[str, list[str], list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        for name in ("hx-get", {"a": "href", "img": "src"}.get(tag)):
            if name and attr.get(name):
                self.urls.append(attr[name])
        if tag == "form":
            if attr.get("method", "get").lower() == "get":
                self._form = _Form(action=attr.get("action", ""))
        elif self._form is None or not attr.get("name", "x") or "disabled" in attr:
            return
        elif tag == "input":
            kind = attr.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" in attr:
                self._form.fields.append((attr["name"], attr.get("value", "on")))
            elif kind not in ("checkbox", "radio", "submit", "button", "image", "file", "reset"):
                self._form.fields.append((attr["name"], attr.get("value", "")))
        elif tag == "textarea":
            self._form.fields.append((attr["name"], ""))
        elif tag == "select":
            self._select = (attr["name"], [], [])
        elif tag == "option" and self._select is not None:
            self._select[1].append(attr.get("value", ""))
            if "selected" in attr:
                self._select[2].append(attr.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None and self._form is not None:
            name, options, selected = self._select
            if options:
                self._form.fields.append((name, (selected or options)[0]))
                self._form.choices[name] = options
            self._select = None
        elif tag == "form" and self._form is not None:
            self.submissions.extend(self._form.submissions())
            self._form = None


def order_of(row: models.Model) -> PurchaseOrder | None:
    if isinstance(row, PurchaseOrder):
        return row
    for name in PARENTS:
        parent = getattr(row, name, None)
        if isinstance(parent, models.Model):
            return order_of(parent)
    return None


def routed_object(path: str) -> tuple[str, models.Model | None] | None:
    """The object a path's route names (label, row or None if absent); None when it names none."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    parts = path.strip("/").split("/")
    if match.namespace == "admin":
        if "object_id" not in match.kwargs:
            return None
        model = apps.get_model(parts[1], parts[2])
        key = match.kwargs["object_id"]
    elif "pk" in match.kwargs:
        segment = parts[1] if parts[0] == "api" else parts[0]
        assert segment in ROUTE_MODELS, f"{match.route}: teach the crawl which object <pk> is"
        model = apps.get_model(ROUTE_MODELS[segment])
        key = match.kwargs["pk"]
    else:
        assert not match.kwargs, f"{match.route}: teach the crawl which object it names"
        return None
    label = f"{model._meta.label} {key}"
    try:
        return label, model._default_manager.get(pk=key)
    except (model.DoesNotExist, ValueError):
        return label, None


@dataclass
class Crawl:
    role: str
    pages: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    capped: Counter[str] = field(default_factory=Counter)  # links left, by route


def _body(response: HttpResponse) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)  # type: ignore[arg-type]
    return response.content


def _route_key(path: str) -> str:
    try:
        match = resolve(path)
    except Resolver404:
        return path
    return f"{match.namespace}:{match.url_name}"


def crawl(role: str, loud: UndefinedVariables) -> Crawl:
    user = User.objects.get(username=role)
    visible = orders_visible_to(user)
    membership = membership_of(user)
    if membership is not None and membership.role == Role.SUPPLIER:
        visible = visible.exclude(status=PurchaseOrder.Status.DRAFT)
    own = set(visible.values_list("pk", flat=True))
    hidden_numbers = set(PurchaseOrder.objects.exclude(pk__in=own).values_list("number", flat=True))
    client = Client(raise_request_exception=False)
    client.force_login(user)

    result = Crawl(role=role)
    # (url, where it was found, whether a GET form's submission)
    queue: deque[tuple[str, str, bool]] = deque([("/", "the start", False)])
    seen: set[str] = set()
    paths_per_route: dict[str, set[str]] = {}
    queries_per_path: dict[str, set[str]] = {}
    while queue:
        url, found_on, submitted = queue.popleft()
        parts = urlsplit(url)
        query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
        key = f"{parts.path}?{query}"
        if key in seen:
            continue
        seen.add(key)
        route = _route_key(parts.path)
        route_paths = paths_per_route.setdefault(route, set())
        path_queries = queries_per_path.setdefault(parts.path, set())
        max_paths, max_queries = ADMIN_BOUNDS if route.startswith("admin:") else PORTAL_BOUNDS
        if (
            result.pages >= MAX_PAGES_PER_ROLE
            or (parts.path not in route_paths and len(route_paths) >= max_paths)
            or (query not in path_queries and len(path_queries) >= max_queries)
        ):
            result.capped[route] += 1
            continue
        route_paths.add(parts.path)
        path_queries.add(query)

        response = client.get(url)
        result.pages += 1
        result.statuses[response.status_code] += 1
        where = f"{url} (linked from {found_on})"
        if response.status_code >= 500:
            error = getattr(response, "exc_info", None)
            cause = f": {error[0].__name__}: {error[1]}" if error else ""
            result.problems.append(f"{response.status_code} on {where}{cause}")
        elif response.status_code == 400 and submitted:
            pass  # a form submitted as shown may be refused with its errors
        elif response.status_code >= 400:
            result.problems.append(f"broken link, {response.status_code} on {where}")
        result.problems.extend(f"{defect} on {where}" for defect in loud.take())
        named = routed_object(parts.path)
        if named is not None and named[1] is not None:
            order = order_of(named[1])
            if order is not None and order.pk not in own:
                result.problems.append(
                    f"another organisation's page: {where} is {named[0]} of PO {order.number}"
                )

        body = _body(response)
        content_type = response.get("Content-Type", "")
        if response.status_code in (301, 302, 303, 307, 308):
            queue.append((urljoin(url, response["Location"]), url, submitted))
            continue
        if "pdf" in content_type or not (
            content_type.startswith("text/") or "json" in content_type
        ):
            continue
        text = body.decode(response.charset or "utf-8", errors="replace")
        if leaked := hidden_numbers & set(PO_NUMBER.findall(text)):
            result.problems.append(f"{where} mentions PO {', '.join(sorted(leaked))}")
        if not content_type.startswith("text/html"):
            continue
        links = Links()
        links.feed(text)
        offered = [(href, False) for href in links.urls]
        for href, submission in offered + [(href, True) for href in links.submissions]:
            target = urlsplit(urljoin(url, href))
            if target.scheme not in ("", "http", "https") or target.netloc not in (
                "testserver",
                "",
            ):
                continue
            if target.path in SKIPPED_PATHS or target.path.startswith("/static/"):
                continue
            queue.append((target._replace(fragment="").geturl(), url, submission))
    return result


@pytest.fixture(scope="module")
def demo(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The demo, seeded once for every role's crawl and rolled back after the last; its files
    in a folder of its own."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),  # type: ignore[attr-defined]
        override_settings(
            PASSWORD_HASHERS=fast, MEDIA_ROOT=str(tmp_path_factory.mktemp("demo-media"))
        ),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def private_media() -> None:
    """Replaces the suite's per-test media folder: the crawl reads the demo's (see demo)."""


@pytest.mark.parametrize("role", DEMO_ROLES)
def test_it_crawls_the_demo_as_each_role(
    demo: None, db: None, role: str, loud_templates: UndefinedVariables
) -> None:
    started = time.monotonic()
    result = crawl(role, loud_templates)
    statuses = ", ".join(f"{code}: {count}" for code, count in sorted(result.statuses.items()))
    print(
        f"\ncrawl {role}: {result.pages} pages in {time.monotonic() - started:.1f} s "
        f"({statuses}); {sum(result.capped.values())} links beyond the bounds, most on "
        + ", ".join(f"{route} {count}" for route, count in result.capped.most_common(4))
    )
    assert not result.problems, f"{len(result.problems)} problems:\n" + "\n".join(result.problems)
    assert result.pages >= MIN_PAGES[role]
    assert result.pages < MAX_PAGES_PER_ROLE, "the bounds no longer stop the crawl"
