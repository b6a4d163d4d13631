"""What upper apps add to a lower app's page, so the page imports no app above it.

The orders app owns the order and batch pages, but what they show about serials, evidence and
inspections belongs to those apps, which sit above orders. Each of them registers, in its
``AppConfig.ready()``, a provider for a page: ``page_context_register("batch", provider)``. A
provider takes the viewer and the page's object and returns template variables; the page merges
every provider's variables (``page_context("batch", user, batch)``). Two providers may not give
the same name: that would be one app silently hiding another's figures.

A panel is for an app whose part of the page is its own markup: ``batch_panel_register(panel)``,
where a panel takes the request and the batch and returns its HTML (empty when it has nothing to
say); the batch page shows every panel's HTML in the order they were registered (the apps' order
in ``INSTALLED_APPS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.safestring import SafeString

from portal.models import User

Page = Literal["order", "batch"]
PageContextProvider = Callable[[User | AnonymousUser, Any], dict[str, Any]]

BatchPanel = Callable[[HttpRequest, Any], SafeString]

_providers: dict[Page, list[PageContextProvider]] = {"order": [], "batch": []}
_batch_panels: list[BatchPanel] = []


def page_context_register(page: Page, provider: PageContextProvider) -> None:
    if provider not in _providers[page]:
        _providers[page].append(provider)


def page_context(page: Page, user: User | AnonymousUser, obj: Any) -> dict[str, Any]:
    """Every provider's template variables for the page showing ``obj``."""
    context: dict[str, Any] = {}
    for provider in _providers[page]:
        given = provider(user, obj)
        if clash := context.keys() & given.keys():
            raise RuntimeError(f"Two providers of the {page} page give {', '.join(sorted(clash))}.")
        context.update(given)
    return context


def batch_panel_register(panel: BatchPanel) -> None:
    if panel not in _batch_panels:
        _batch_panels.append(panel)


def batch_panels(request: HttpRequest, batch: Any) -> list[SafeString]:
    """Every registered panel's HTML for the batch page, the empty ones left out."""
    return [html for panel in _batch_panels if (html := panel(request, batch))]


@dataclass(frozen=True)
class Stage:
    """One step of a batch's story (serial list → exceptions → approval → gates → inspection),
    as the order page's strip and the batch page show it. ``state`` is one of STAGE_STATES."""

    name: str
    state: str
    summary: str
    url: str


# done: nothing left; waiting: someone has to act; problem: it went wrong; todo: not begun.
STAGE_STATES = ("done", "waiting", "problem", "todo")
StageSource = Callable[[User | AnonymousUser, Any], list[Stage]]
_stage_sources: list[tuple[int, StageSource]] = []


def stage_register(position: int, source: StageSource) -> None:
    """``source(viewer, batch)`` gives the stages an app owns, placed by ``position``."""
    if all(source is not registered for _, registered in _stage_sources):
        _stage_sources.append((position, source))
        _stage_sources.sort(key=lambda entry: entry[0])


def batch_stages(user: User | AnonymousUser, batch: Any) -> list[Stage]:
    """The batch's stages the viewer may see, in the story's order."""
    stages = [stage for _, source in _stage_sources for stage in source(user, batch)]
    if unknown := {stage.state for stage in stages} - set(STAGE_STATES):
        raise RuntimeError(f"Unknown stage state {', '.join(sorted(unknown))}.")
    return stages


@dataclass(frozen=True)
class Headline:
    """What a batch page leads with: the decision in force, in its one sentence, and what it
    rests on. ``decision`` is accepted, accepted_with_conditions or rejected."""

    decision: str
    label: str
    sentence: str
    signed: str
    rests_on: list[str]
    url: str
    stale: str = ""
    promises: str = ""  # what the decision tested (the promises under test), in words


HeadlineSource = Callable[[User | AnonymousUser, Any], "Headline | None"]
_headline_sources: list[HeadlineSource] = []


def headline_register(source: HeadlineSource) -> None:
    if source not in _headline_sources:
        _headline_sources.append(source)


def batch_headline(user: User | AnonymousUser, batch: Any) -> Headline | None:
    """The first registered source's headline for the batch, if any has one."""
    for source in _headline_sources:
        if (headline := source(user, batch)) is not None:
            return headline
    return None
