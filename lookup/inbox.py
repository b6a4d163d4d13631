"""What the lookup app puts on the dashboard (registered in ``LookupConfig.ready``; see
``portal.dashboard``): customer service has nothing waiting on it, and its day starts with a
serial to look up, so its dashboard carries the lookup box itself.

Lookups are not logged (they change nothing), so there are no "recent lookups" to repeat."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from portal.models import Role, User
from portal.roles import is_buyer_side, role_of


def lookup_box(user: User | AnonymousUser) -> dict[str, Any]:
    """``lookup_box``: whether the dashboard leads with the serial lookup (customer service)."""
    return {"lookup_box": is_buyer_side(user) and role_of(user) == Role.CUSTOMER_SERVICE}
