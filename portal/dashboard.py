"""The dashboard's registry: each app contributes in its ``AppConfig.ready()`` what the
dashboard shows, so the dashboard (in portal, the ground layer) imports no app above it.

- ``waiting_register(source)``: a source yields the ``WaitingItem``s that wait on a user
  ("Waiting on you"); the dashboard lists every source's items in the order the sources were
  registered (the apps' order in ``INSTALLED_APPS``), each source's in its own order.
- ``context_register(provider)``: a provider returns template variables for the dashboard
  (the orders app gives the order counts and the open orders).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser

from portal.models import User


@dataclass(frozen=True)
class WaitingItem:
    """Something that is waiting on the caller, with where to go to do it."""

    title: str
    detail: str
    url: str


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
    """What waits on the user, from every registered source."""
    return [item for source in _waiting_sources for item in source(user)]


def dashboard_context(user: User | AnonymousUser) -> dict[str, Any]:
    """Every provider's template variables; two providers may not give the same name."""
    context: dict[str, Any] = {}
    for provider in _context_providers:
        given = provider(user)
        if clash := context.keys() & given.keys():
            raise RuntimeError(f"Two dashboard providers give {', '.join(sorted(clash))}.")
        context.update(given)
    return context
