from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from portal.dashboard import waiting_for_request
from portal.notification_reads import unread_count
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


def inbox(request: HttpRequest) -> dict[str, Any]:
    """The navigation's counts: what waits on the caller (the dashboard's "Waiting on you") and
    its unread notifications. Lazy: worked out only when a page shows them (never for the
    fragments htmx polls), and the waiting items once per request (``waiting_for_request``)."""
    if not request.user.is_authenticated:
        return {"inbox_count": 0, "unread_notifications": 0}
    return {
        "inbox_count": SimpleLazyObject(lambda: len(waiting_for_request(request))),
        "unread_notifications": SimpleLazyObject(lambda: unread_count(request.user)),
    }
