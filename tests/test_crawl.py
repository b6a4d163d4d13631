"""The crawl: the demo seeded, each demo role signed in, every same-site link, tab, filter and
page the portal shows followed breadth-first (bounded), as a first-day user would click.

Fails on: any 5xx; a link the portal shows that answers 4xx (a broken link; only a GET form
submitted as shown may answer 400, refused with its errors); a template using a variable that
does not exist (tests/loud_templates.py); a page of another organisation, which is exactly:

- a URL whose route names an object (``orders/<pk>/``, ``batches/<pk>/evidence/``, the API's,
  the admin's ``<app>/<model>/<id>/``) whose order is not among the role's orders; and
- a body (HTML, CSV, JSON; PDFs and other files are fetched, not read) that mentions the PO
  number of an order not among them.

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
from django.contrib.contenttypes.models import ContentType
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
# About two thirds of what each role reached on 2026-12-01 (the test prints it), so the crawl
# cannot silently shrink to the dashboard; the admin's includes the admin site.
MIN_PAGES = {
    "buyer": 150,
    "supplier_a": 80,
    "supplier_b": 35,
    "inspector": 100,
    "finance": 140,
    "service": 140,
    "admin": 500,
}
DOSSIER_ROLES = {"buyer", "finance", "service", "admin"}
SKIPPED_PATHS = {"/logout/", "/admin/logout/"}
# A route's first segment (after "api/") names the object its <pk> is.
ROUTE_MODELS = {
    "orders": "orders.PurchaseOrder",
    "batches": "orders.Batch",
    "approvals": "approvals.Approval",
    "gates": "approvals.Gate",
    "payments": "approvals.Payment",
    "serial-lists": "serials.SerialList",
    "evidence": "evidence.EvidenceItem",
    "requests": "evidence.EvidenceRequest",
    "statements": "evidence.Statement",
    "inspections": "inspection.InspectionPlan",
    "sampled-units": "inspection.SampledUnit",
    "people": "portal.User",
    "notifications": "portal.Notification",
    "exception-attachments": "serials.ExceptionAttachment",
    "serial-life": "serials.SerialLifeEvent",
    "samples": "orders.ApprovedSample",
    "open-points": "approvals.OpenPoint",
    "scorecards": "portal.Organisation",  # a supplier's card: scoped by its pair, not an order
}
# How a row reaches its order, tried in turn.
PARENTS = (
    "order",
    "batch",
    "gate",
    "plan",
    "unit",
    "request",
    "statement",
    "serial_list",
    "event",
    "answer",  # an answer's attachment → its answer → its exception → its batch
    "exception",
    "approval",  # an open point → its approval → its order
)
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
            return
        if self._form is None or "disabled" in attr:
            return
        name, value = attr.get("name", ""), attr.get("value", "")
        if tag == "option" and self._select is not None:
            self._select[1].append(value)
            if "selected" in attr:
                self._select[2].append(value)
        elif not name:
            return
        elif tag == "select":
            self._select = (name, [], [])
        elif tag == "textarea":
            self._form.fields.append((name, ""))
        elif tag == "input":
            kind = attr.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attr:
                    self._form.fields.append((name, value or "on"))
            elif kind not in ("submit", "button", "image", "file", "reset"):
                self._form.fields.append((name, value))

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
        if "content_type_id" in match.kwargs:  # "view on site"
            content_type = ContentType.objects.get_for_id(int(match.kwargs["content_type_id"]))
            model = content_type.model_class()
        else:
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
    paths: set[str] = field(default_factory=set)  # every path fetched


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


def _same_site(base: str, href: str) -> str | None:
    target = urlsplit(urljoin(base, href))
    if target.scheme not in ("", "http", "https") or target.netloc not in ("", "testserver"):
        return None
    if target.path in SKIPPED_PATHS or target.path.startswith("/static/"):
        return None
    return target._replace(fragment="").geturl()


class Crawler:
    """One role's breadth-first walk; ``run`` returns what it found."""

    def __init__(self, role: str, loud: UndefinedVariables) -> None:
        user = User.objects.get(username=role)
        visible = orders_visible_to(user)
        membership = membership_of(user)
        if membership is not None and membership.role == Role.SUPPLIER:
            visible = visible.exclude(status=PurchaseOrder.Status.DRAFT)
        self.own = set(visible.values_list("pk", flat=True))
        self.hidden_numbers = set(
            PurchaseOrder.objects.exclude(pk__in=self.own).values_list("number", flat=True)
        )
        self.client = Client(raise_request_exception=False)
        self.client.force_login(user)
        self.loud = loud
        self.result = Crawl(role=role)
        # (url, where it was found, whether a GET form's submission)
        self.queue: deque[tuple[str, str, bool]] = deque([("/", "the start", False)])
        self.seen: set[str] = set()
        self.paths_per_route: dict[str, set[str]] = {}
        self.queries_per_path: dict[str, set[str]] = {}

    def run(self) -> Crawl:
        while self.queue:
            url, found_on, submitted = self.queue.popleft()
            if self._admit(url):
                self._visit(url, found_on, submitted)
        return self.result

    def _admit(self, url: str) -> bool:
        """Whether a URL is new and within the bounds; counts those beyond them."""
        parts = urlsplit(url)
        query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
        if f"{parts.path}?{query}" in self.seen:
            return False
        self.seen.add(f"{parts.path}?{query}")
        route = _route_key(parts.path)
        paths = self.paths_per_route.setdefault(route, set())
        queries = self.queries_per_path.setdefault(parts.path, set())
        max_paths, max_queries = ADMIN_BOUNDS if route.startswith("admin:") else PORTAL_BOUNDS
        if (
            self.result.pages >= MAX_PAGES_PER_ROLE
            or (parts.path not in paths and len(paths) >= max_paths)
            or (query not in queries and len(queries) >= max_queries)
        ):
            self.result.capped[route] += 1
            return False
        paths.add(parts.path)
        queries.add(query)
        return True

    def _visit(self, url: str, found_on: str, submitted: bool) -> None:
        response = self.client.get(url)
        body = _body(response)
        self.result.pages += 1
        self.result.paths.add(urlsplit(url).path)
        self.result.statuses[response.status_code] += 1
        where = f"{url} (linked from {found_on})"
        problems = self.result.problems
        status = response.status_code
        if status >= 500:
            error = getattr(response, "exc_info", None)
            problems.append(f"{status} on {where}" + (f": {error[1]!r}" if error else ""))
        elif status >= 400 and not (status == 400 and submitted):
            # A form submitted as shown may be refused with its errors (400); a link may not.
            problems.append(f"broken link, {status} on {where}")
        problems.extend(f"{defect} on {where}" for defect in self.loud.take())
        named = routed_object(urlsplit(url).path)
        if status < 400 and named is not None and named[1] is not None:
            order = order_of(named[1])
            if order is not None and order.pk not in self.own:
                problems.append(f"another organisation's page: {where} is {named[0]} of {order}")

        if status in (301, 302, 303, 307, 308):
            self.queue.append((urljoin(url, response["Location"]), url, submitted))
            return
        content_type = response.get("Content-Type", "")
        if not (content_type.startswith("text/") or "json" in content_type):
            return  # PDFs, images, files: fetched, not read
        text = body.decode(response.charset or "utf-8", errors="replace")
        if leaked := self.hidden_numbers & set(PO_NUMBER.findall(text)):
            problems.append(f"{where} mentions PO {', '.join(sorted(leaked))}")
        if content_type.startswith("text/html"):
            links = Links()
            links.feed(text)
            for hrefs, submission in ((links.urls, False), (links.submissions, True)):
                for href in hrefs:
                    if target := _same_site(url, href):
                        self.queue.append((target, url, submission))


def crawl(role: str, loud: UndefinedVariables) -> Crawl:
    return Crawler(role, loud).run()


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
        _dossier_built()
        yield
        transaction.set_rollback(True)


def _dossier_built() -> None:
    """A finished dossier export of the demo order, so the crawl follows its download too."""
    from dossier import services

    order = PurchaseOrder.objects.get(number="2026-0141")
    export, _ = services.dossier_export_request(
        order=order, user=User.objects.get(username="buyer")
    )
    services.dossier_export_build(export_id=export.pk)


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
    # Pages only some roles are shown, reached by following what the portal shows them.
    assert ("/integrity/" in result.paths) == (role == "admin")
    # The dossier's page and a built dossier's download: the buyer's staff only.
    dossier_downloads = [p for p in result.paths if "/dossier/exports/" in p]
    assert bool(dossier_downloads) == (role in DOSSIER_ROLES)
    assert result.pages < MAX_PAGES_PER_ROLE, "the bounds no longer stop the crawl"
