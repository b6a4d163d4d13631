"""Panels an upper app adds to a lower app's page, so the page imports no app above it.

- ``batch_panel_register(panel)``: a panel takes the request and the batch and returns its HTML
  (empty when it has nothing to say); the batch page shows every registered panel's HTML, in
  the order the panels were registered (the apps' order in ``INSTALLED_APPS``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString

BatchPanel = Callable[[HttpRequest, Any], SafeString]

_batch_panels: list[BatchPanel] = []


def batch_panel_register(panel: BatchPanel) -> None:
    if panel not in _batch_panels:
        _batch_panels.append(panel)


def batch_panels(request: HttpRequest, batch: Any) -> list[SafeString]:
    """Every registered panel's HTML for the batch page, the empty ones left out."""
    return [html for panel in _batch_panels if (html := panel(request, batch))]
