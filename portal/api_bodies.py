"""API bodies are read with the types the schema gives them.

DRF's text fields take a JSON number as its digits (``{"note": 0}`` is the text "0"), so a body
the schema refuses would be accepted. Text fields here take text only; a form's values are text
anyway, so only a JSON body can be refused by this. Applied once at start-up (PortalConfig)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

_lenient = serializers.CharField.to_internal_value


def _text_only(self: serializers.CharField, data: Any) -> str:
    if not isinstance(data, str):
        self.fail("invalid")
    return _lenient(self, data)


def read_text_strictly() -> None:
    serializers.CharField.to_internal_value = _text_only  # type: ignore[method-assign,assignment]
