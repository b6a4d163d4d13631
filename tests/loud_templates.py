"""Templates fail loudly in tests: a variable or key that does not exist, used in one of the
project's own templates, fails the test that rendered it.

Django renders a failed lookup as "" and only says so in a DEBUG record of the
``django.template`` logger, written from inside ``Variable._resolve_lookup``. The handler below
reads that record while the lookup is still on the stack: the ``Node`` being rendered gives the
file and line (so Django admin's and third-party templates are told apart from ours, exactly,
whichever template extends or includes which), the ``FilterExpression`` gives the filters.
``string_if_invalid`` cannot do this: it does not know the template, it replaces ``|default``'s
input, and ``{% if %}`` never sees it.

What counts as a defect, in a template under the project (not in site-packages):

- ``{{ missing }}``, ``{{ row.missing_key }}``, a missing filter argument, ``{% for x in
  missing %}``, ``{% url 'name' missing %}``, ``{% with x=missing %}``;
- ``{% if missing %}`` too: a misspelt condition silently hides a section. A template that
  reads an optional value says so with ``|default`` (``{% if row.note|default:"" %}``,
  ``{{ row.note|default:"—" }}``), or the view passes the key.

What does not: a lookup through ``None`` (``{{ batch.approved_by.username }}`` with no
approver: the key exists, its value is empty), a related object that does not exist (Django's
``ObjectDoesNotExist`` is a "silent" failure: ``{% if order.profile %}``), any expression with
a ``default`` filter, and ``{% firstof %}``, whose job is to try several.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from django.template.base import (
    FilterExpression,
    Node,
    TokenType,
    Variable,
    VariableDoesNotExist,
)
from django.template.defaulttags import FirstOfNode

ROOT = Path(__file__).resolve().parent.parent
LOGGER = "django.template"


@dataclass(frozen=True)
class UndefinedVariable:
    template: str
    line: int
    tag: str
    reason: str
    path: str

    def __str__(self) -> str:
        where = f" (rendering {self.path})" if self.path else ""
        return f"{self.template}:{self.line} {self.tag}: {self.reason}{where}"


def _ours(template_path: str) -> bool:
    path = Path(template_path)
    return path.is_relative_to(ROOT) and "site-packages" not in path.parts


@dataclass
class _Lookup:
    variable: Variable | None
    expression: FilterExpression | None
    node: Node
    context: Any


def _rendering(frame: FrameType | None) -> _Lookup:
    """From the logging call up: the variable that failed, the filter expression it belongs to
    (if any, below the node) and the node being rendered; stops at the node."""
    variable = expression = None
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, Node):
            return _Lookup(variable, expression, owner, frame.f_locals.get("context"))
        if variable is None and isinstance(owner, Variable):
            variable = owner
        elif expression is None and isinstance(owner, FilterExpression):
            expression = owner
        frame = frame.f_back
    raise LookupError("no template node on the stack")


def undefined_variable(
    record: logging.LogRecord, frame: FrameType | None
) -> UndefinedVariable | None:
    """The defect a failed-lookup record reports, or None when it is not one (see above)."""
    error = record.exc_info[1] if record.exc_info else None
    if not isinstance(error, VariableDoesNotExist) or len(error.params) != 2:
        return None
    key, current = error.params
    if current is None:
        return None
    try:
        lookup = _rendering(frame)
    except LookupError:  # Variable(...).resolve() called from Python, not from a template
        return None
    origin = getattr(lookup.node, "origin", None)
    if isinstance(lookup.node, FirstOfNode) or origin is None or not _ours(str(origin.name)):
        return None
    if lookup.expression is not None:
        is_input = lookup.expression.var is lookup.variable
        if is_input and any(f.__name__ == "default" for f, _ in lookup.expression.filters):
            return None
    token = lookup.node.token
    request = lookup.context.get("request") if hasattr(lookup.context, "get") else None
    return UndefinedVariable(
        template=str(Path(origin.name).relative_to(ROOT)),
        line=token.lineno,
        tag=f"{{{{ {token.contents} }}}}"
        if token.token_type == TokenType.VAR
        else f"{{% {token.contents} %}}",
        reason=f"no key or attribute {key!r} on {type(current).__name__}",
        path=request.get_full_path() if hasattr(request, "get_full_path") else "",
    )


class UndefinedVariables(logging.Filter):
    """Collects the undefined variables of our templates rendered while it is installed, and
    drops the DEBUG records it reads (they were below the logger's level before)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[UndefinedVariable] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG:
            return True
        if record.msg.startswith("Exception while resolving variable"):
            defect = undefined_variable(record, sys._getframe(1))
            if defect is not None and defect not in self.found:
                self.found.append(defect)
        return False

    def take(self) -> list[UndefinedVariable]:
        found, self.found = self.found, []
        return found


@pytest.fixture(autouse=True)
def loud_templates() -> Iterator[UndefinedVariables]:
    """Every test: fail it when one of our templates used a variable or key that does not exist."""
    logger = logging.getLogger(LOGGER)
    collector = UndefinedVariables()
    level = logger.level
    # A logger filter, not a handler: it sees the record before any handler (pytest's capture,
    # the console), and the record goes no further.
    logger.setLevel(logging.DEBUG)
    logger.addFilter(collector)
    try:
        yield collector
    finally:
        logger.removeFilter(collector)
        logger.setLevel(level)
    if found := collector.take():
        pytest.fail(
            "templates used variables that do not exist:\n" + "\n".join(f"  {d}" for d in found),
            pytrace=False,
        )
