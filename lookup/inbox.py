"""What the lookup app puts on the dashboard (registered in ``LookupConfig.ready``; see
``portal.dashboard``): customer service has nothing waiting on it, and its day starts with a
serial to look up, so its dashboard carries the lookup box itself, and under it the person's
own recent lookups to repeat (``lookup.log``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser

from lookup.log import recent_lookups
from portal.models import Role, User
from portal.roles import is_buyer_side, role_of


def lookup_box(user: User | AnonymousUser) -> dict[str, Any]:
    """``lookup_box``: whether the dashboard leads with the serial lookup (customer service);
    ``recent_lookups``: then the person's own latest lookups, newest first (one query)."""
    box = is_buyer_side(user) and role_of(user) == Role.CUSTOMER_SERVICE
    return {"lookup_box": box, "recent_lookups": recent_lookups(user) if box else []}
