from typing import Any

from django.http import HttpRequest

from portal.roles import can_see_integrity, is_buyer_side, membership_of

# Form fields that read better across the whole form (long text, lists of choices).
FULL_WIDTH_FIELDS = {
    "customer_promise",
    "inspection_firms",
    "product_name",
    "sentence",
    "pins",
    "unlocks",
    "conditions",
    "question",
    "text",
    "reason",
    "document",
}


def membership(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's membership, for the navigation bar."""
    found = membership_of(request.user)
    return {
        "membership": found,
        "buyer_side": is_buyer_side(request.user),
        "can_see_integrity": can_see_integrity(request.user),
        "full_width_fields": FULL_WIDTH_FIELDS,
    }
