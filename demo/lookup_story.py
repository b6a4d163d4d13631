"""Customer service's morning in the demo: a few serials looked up before the demo starts, so
the service user's dashboard and the lookup page show "Your recent lookups" (``lookup.log``).
Each goes through the same lookup and the same log the page and the API use."""

from __future__ import annotations

from lookup.log import lookup_log
from lookup.models import LookupLog
from lookup.selectors import serial_lookup, serials_lookup_bulk
from portal.models import User

# A returned charger's label scanned on the page, one asked by the helpdesk system through the
# API, and a marketplace's list of returns uploaded as a file.
SCANNED = "(01)05012345678900(21)VLT000100050"
ASKED = "VLT000104077"
RETURNS = ["VLT000100007", "VLT000100412", "VLT000102405", "VLT000100050"]


def demo_lookups(*, users: dict[str, User]) -> None:
    """Three earlier lookups by the service user. Does nothing once they have any."""
    service = users["service"]
    if LookupLog.objects.filter(user=service).exists():
        return
    returns = serials_lookup_bulk(user=service, texts=RETURNS)
    lookup_log(
        user=service,
        results=returns,
        channel=LookupLog.Channel.PAGE_BULK,
        file_name="marketplace-returns-week-48.csv",
    )
    for text, channel in ((ASKED, LookupLog.Channel.API), (SCANNED, LookupLog.Channel.PAGE)):
        result = serial_lookup(user=service, text=text)
        lookup_log(user=service, results=[result], channel=channel, query=text)
