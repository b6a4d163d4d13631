"""Accessibility: axe-core (axe-playwright-python) on every kind of page each demo role is shown,
in Chromium, with the portal's own CSS and scripts. A serious or critical violation fails.

Which pages: a breadth-first walk like the crawl's (tests/test_crawl.py), as each role, one path
per route and one query per path (the route's template is what axe judges), then each route once
in the browser, as the first role that reached it. Left out: Django's admin (the operators'
tool, Django's markup) and the API's Swagger UI (drf-spectacular's)."""

from __future__ import annotations

import time
from io import StringIO
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import Page, expect

from demo.management.commands.seed_demo import DEFAULT_PASSWORD
from tests.loud_templates import UndefinedVariables
from tests.test_crawl import DEMO_ROLES, Crawler, Links, _route_key, _same_site

pytestmark = pytest.mark.browser

IMPACTS = {"serious", "critical"}
LEFT_OUT = ("admin:", "api", ":api-")


class RouteSampler(Crawler):
    """The crawl, bounded to one path per route and one query per path; remembers the HTML pages
    that answered 200."""

    def __init__(self, role: str, loud: UndefinedVariables) -> None:
        super().__init__(role, loud)
        self.pages: dict[str, str] = {}  # route → first URL

    def _admit(self, url: str) -> bool:
        parts = urlsplit(url)
        route = _route_key(parts.path)
        if route.startswith(LEFT_OUT) or route == ":api-docs" or parts.path.startswith("/api/"):
            return False
        key = f"{parts.path}?{urlencode(sorted(parse_qsl(parts.query)))}"
        if key in self.seen or route in self.pages or len(self.seen) > 400:
            return False
        self.seen.add(key)
        return True

    def _visit(self, url: str, found_on: str, submitted: bool) -> None:
        response = self.client.get(url)
        if response.status_code in (301, 302, 303, 307, 308):
            self.queue.append((urljoin(url, response["Location"]), url, False))
            return
        if response.status_code != 200 or not response.get("Content-Type", "").startswith(
            "text/html"
        ):
            return
        self.pages.setdefault(_route_key(urlsplit(url).path), url)
        links = Links()
        links.feed(response.content.decode(response.charset or "utf-8", errors="replace"))
        for href in links.urls:
            if target := _same_site(url, href):
                self.queue.append((target, url, False))


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")


def _violations(page: Page) -> list[str]:
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in IMPACTS:
            targets = "; ".join(", ".join(node["target"]) for node in violation["nodes"][:3])
            found.append(
                f"{violation['impact']} {violation['id']}: {violation['help']} — {targets}"
            )
    return found


def test_axe_finds_no_serious_violation_on_any_page_of_any_role(
    transactional_db: None, live_server: Any, page: Page, loud_templates: UndefinedVariables
) -> None:
    call_command("seed_demo", stdout=StringIO())
    started = time.monotonic()
    base = live_server.url
    routes: dict[str, tuple[str, str]] = {}  # route → (role, url)
    for role in DEMO_ROLES:
        sampler = RouteSampler(role, loud_templates)
        sampler.run()
        for route, url in sampler.pages.items():
            routes.setdefault(route, (role, url))
    problems: list[str] = []
    page.goto(f"{base}/login/")
    problems += [f"/login/ {v}" for v in _violations(page)]
    for role in DEMO_ROLES:
        mine = [url for who, url in routes.values() if who == role]
        if not mine:
            continue
        page.context.clear_cookies()
        _sign_in(page, base, role)
        for url in mine:
            page.goto(base + url)
            problems += [f"{url} as {role}: {v}" for v in _violations(page)]
    print(
        f"\naxe: {len(routes) + 1} pages in {time.monotonic() - started:.0f} s, "
        f"{len(problems)} serious or critical violations"
    )
    assert len(routes) > 30, sorted(routes)
    assert not problems, "\n".join(problems)
