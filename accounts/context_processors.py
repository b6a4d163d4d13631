"""Tell people who sign or move money, on every page, when they still lack a second factor."""

from typing import Any

from django.http import HttpRequest

from accounts.factors import has_second_factor
from portal.roles import needs_second_factor


def second_factor(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    missing = needs_second_factor(user) and not has_second_factor(user)  # type: ignore[arg-type]
    return {"second_factor_missing": missing}
