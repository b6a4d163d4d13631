from typing import Any

from django.http import HttpRequest

from portal.roles import is_buyer_side, membership_of


def membership(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's membership, for the navigation bar."""
    found = membership_of(request.user)
    return {"membership": found, "buyer_side": is_buyer_side(request.user)}
