"""The dashboard's registry: each app contributes in its ``AppConfig.ready()`` what the
dashboard shows, so the dashboard (in portal, the ground layer) imports no app above it.

- ``waiting_register(source)``: a source yields the ``WaitingItem``s that wait on a user
  ("Waiting on you", the inbox). Each app computes its items from the same selectors its pages
  use, so a count on the dashboard is the count on the page it links to. The inbox lists every
  source's items overdue first, then by due date (soonest first), then those without one, in
  the order the sources were registered (the apps' order in ``INSTALLED_APPS``), each
  source's in its own order.
- ``context_register(provider)``: a provider returns template variables for the dashboard
  (the orders app gives the order counts and the open orders).

A source runs a fixed handful of queries however many orders the user sees: the inbox's count
is in the navigation of every page (``portal.context_processors.inbox``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils import timezone

from portal.models import User

# Due within this many days (and not yet overdue): shown as due soon.
DUE_SOON_DAYS = 3


@dataclass(frozen=True)
class WaitingItem:
    """Something that is waiting on the caller, with where to go to do it.

    ``count`` is how many things the item stands for (3 exceptions to decide), None when it is
    one thing; ``due`` its due date if it has one, ``overdue`` whether that date has passed
    (the source decides, with ``is_overdue``). ``kind`` names what it is (for tests and
    styles) and ``icon`` the bootstrap-icons name shown beside it."""

    title: str
    detail: str
    url: str
    count: int | None = None
    due: datetime.date | None = None
    overdue: bool = False
    kind: str = "task"
    icon: str = "bi-arrow-right-circle"

    @property
    def due_soon(self) -> bool:
        if self.due is None or self.overdue:
            return False
        return (self.due - timezone.localdate()).days <= DUE_SOON_DAYS

    @property
    def sort_key(self) -> tuple[int, datetime.date]:
        """Overdue first, then by due date, soonest first; items without one last."""
        if self.overdue:
            return (0, self.due or datetime.date.min)
        if self.due is not None:
            return (1, self.due)
        return (2, datetime.date.max)


def is_overdue(due: datetime.date | None) -> bool:
    """Whether a due date has passed (today's work is due, not overdue)."""
    return due is not None and due < timezone.localdate()


WaitingSource = Callable[[User | AnonymousUser], Iterable[WaitingItem]]
ContextProvider = Callable[[User | AnonymousUser], dict[str, Any]]

_waiting_sources: list[WaitingSource] = []
_context_providers: list[ContextProvider] = []


def waiting_register(source: WaitingSource) -> None:
    if source not in _waiting_sources:
        _waiting_sources.append(source)


def context_register(provider: ContextProvider) -> None:
    if provider not in _context_providers:
        _context_providers.append(provider)


def waiting_on(user: User | AnonymousUser) -> list[WaitingItem]:
    """What waits on the user, from every registered source: overdue first, then soonest due
    (a stable sort keeps the sources' order among equals)."""
    if not user.is_authenticated:
        return []
    items = [item for source in _waiting_sources for item in source(user)]
    return sorted(items, key=lambda item: item.sort_key)


def waiting_for_request(request: HttpRequest) -> list[WaitingItem]:
    """``waiting_on`` the request's user, worked out once per request (the navigation's count
    and the dashboard's list are the same items)."""
    cached: list[WaitingItem] | None = getattr(request, "_portal_waiting", None)
    if cached is None:
        cached = waiting_on(request.user)
        request._portal_waiting = cached  # type: ignore[attr-defined]
    return cached


def dashboard_context(user: User | AnonymousUser) -> dict[str, Any]:
    """Every provider's template variables; two providers may not give the same name."""
    context: dict[str, Any] = {}
    for provider in _context_providers:
        given = provider(user)
        if clash := context.keys() & given.keys():
            raise RuntimeError(f"Two dashboard providers give {', '.join(sorted(clash))}.")
        context.update(given)
    return context
