"""Tell people who sign or move money, on every page, when they still lack a second factor; and
whether the navigation offers People (the buyer's admin)."""

from typing import Any

from django.http import HttpRequest

from accounts.factors import has_second_factor
from portal.roles import can_manage_people, needs_second_factor


def second_factor(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    missing = needs_second_factor(user) and not has_second_factor(user)  # type: ignore[arg-type]
    return {"second_factor_missing": missing}


def people(request: HttpRequest) -> dict[str, Any]:
    """Whether the navigation shows People (the buyer's admin)."""
    return {"can_manage_people": can_manage_people(request.user)}
