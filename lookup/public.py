"""The public genuine-or-not check behind GS1 Digital Link URLs (``/01/{gtin}/21/{serial}``).

Whoever scans a unit's label QR code and is not the brand's staff — a shopper, a marketplace,
a repair shop, the supplier's own people — gets one of exactly three answers, and nothing else
of the records:

- ``genuine``: "registered and accepted" — the serial is in a batch the brand (the buyer whose
  numbering rule names the GTIN) accepted into its registry, and nothing says it was destroyed;
- ``destroyed``: "reported destroyed — do not accept" — the lookup's loudest status
  (``LookupStatus.DESTROYED``): no unit should carry it;
- ``unconfirmed``: "not a serial of this brand" — everything else: unknown, malformed, only in
  lists not accepted yet, reused by two batches, duplicated, outside its allocation. The page
  says plainly that the unit cannot be confirmed, not why: the why is the brand's business.

The answer is drawn from the customer-service lookup run as the brand's own staff would run it
(``lookup.selectors.serial_check_for_brand``); only its verdict leaves this module.

Rate limit: ``PUBLIC_CHECK_RATE`` checks (30 per 10 minutes by default) per client address,
counted by django-ratelimit in Django's default cache — which must be shared by every worker
(Redis) for the limit to hold in production. The client address is ``REMOTE_ADDR``; the
``X-Forwarded-For`` header is believed only as far as ``PUBLIC_CHECK_PROXY_HOPS`` says your own
proxies append to it (0 by default: never, since anyone can send it). An IPv6 client is counted
by its /64, the block one subscriber gets, so that it cannot step around the limit by changing
address inside it.

Every check is logged (``PublicCheck``, one INSERT), refused ones included, with the client's
network only (/24 or /48), for the brand's "Public checks" page: counterfeit hot spots.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django_ratelimit.core import get_usage  # type: ignore[import-untyped]

from inspection.labels import label_parse
from lookup.models import PublicCheck
from lookup.results import LookupResult, LookupStatus
from lookup.selectors import serial_check_for_brand
from orders.gtin import gtin_spellings
from orders.models import PurchaseOrder
from portal.models import Organisation, Role, User
from portal.roles import can_manage_orders, is_buyer_side, membership_of
from serials.models import NumberingRule

logger = logging.getLogger(__name__)

V = PublicCheck.Verdict
RATE_GROUP = "lookup.public_check"
# The host only completes the URL for the Digital Link parser: a resolver's host says nothing
# about the item, so any one will do (GS1 Digital Link 1.2, section 4).
LINK_BASE = "https://id.invalid"
# A serial the lookup finds in an accepted batch, with at most these statuses, is genuine: an
# accepted exception was explained and accepted by the brand, and a failed inspection sample
# is about this unit's quality, not about whose unit it is. Reuse, duplicates and serials
# outside their allocation put the unit's identity in doubt.
# (Plain strings: an enum member hashes by its name, so a set of members never holds "clean".)
GENUINE_STATUSES = frozenset(
    status.value
    for status in (
        LookupStatus.CLEAN,
        LookupStatus.ACCEPTED_EXCEPTION,
        LookupStatus.FAILED_INSPECTION,
    )
)
# The brand's page: the window its hot spots are counted over, and how often a serial is
# checked before it is listed as checked many times.
HOT_SPOT_DAYS = 30
REPEATED_MIN = 3
HOT_SPOT_ROWS = 20
RECENT_ROWS = 50


def can_see_public_checks(user: User | AnonymousUser) -> bool:
    """The brand's log of public checks: its managers, customer service and admin (who answer
    the calls about counterfeits); not finance, nor the buyer's own inspectors."""
    membership = membership_of(user)
    if membership is None or not is_buyer_side(user):
        return False
    return can_manage_orders(user) or membership.role == Role.CUSTOMER_SERVICE


# ---------------------------------------------------------------- who is asking


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or with ``PUBLIC_CHECK_PROXY_HOPS`` = N the N-th
    address from the right of ``X-Forwarded-For`` (the one the outermost of your proxies
    appended). '' when it is not an IP address."""
    address = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.PUBLIC_CHECK_PROXY_HOPS
    if hops > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    # A dual-stack socket hands IPv4 clients over as ::ffff:a.b.c.d: each is its own IPv4
    # client, not one IPv6 network shared by every IPv4 visitor.
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return str(mapped or ip)


def client_network(address: str, ipv4_prefix: int = 24, ipv6_prefix: int = 48) -> str:
    """The address's network, as logged: an IPv4 /24, an IPv6 /48 (a site); '' if unreadable."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    prefix = ipv4_prefix if ip.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _rate_key(group: str, request: HttpRequest) -> str:
    """What the limit counts per: an IPv4 address, an IPv6 /64; one shared count for clients
    whose address cannot be read."""
    address = client_address(request)
    if ":" in address:
        return client_network(address, ipv6_prefix=64)
    return address or "unreadable"


def public_check_allowed(request: HttpRequest) -> tuple[bool, int]:
    """Count this check against the client's limit: (allowed, seconds until the window ends).
    A cache that cannot be reached lets the check through (logged): a shopper at a counter
    should not be refused because a cache is down, and the log still records every check."""
    try:
        usage: dict[str, Any] | None = get_usage(
            request,
            group=RATE_GROUP,
            key=_rate_key,
            rate=settings.PUBLIC_CHECK_RATE,
            increment=True,
        )
    except Exception:  # any cache client's error: redis, memcached, a socket
        logger.exception("The public check's rate limit could not be counted")
        return True, 0
    if usage is None:  # RATELIMIT_ENABLE is off
        return True, 0
    if usage["limit"] == 0 and usage["time_left"] == -1:  # the cache answered nothing
        logger.error(
            "The public check's rate limit could not be counted: the cache is not answering"
        )
        return True, 0
    return not usage["should_limit"], max(1, int(usage["time_left"]))


# ---------------------------------------------------------------- the check


@dataclass(frozen=True, slots=True)
class PublicAnswer:
    """What the public page may say: the verdict, the GTIN-14 if it reads, the serial as
    asked, and the brand (whose name the page shows with a genuine or destroyed verdict)."""

    verdict: str
    gtin: str
    serial: str
    brand: Organisation | None
    # The brand's name for the product (its newest order's), shown with the brand's name.
    product_name: str = ""


def link_text(full_path: str) -> str:
    """The request's path and query as a complete Digital Link URL, for the label reader."""
    return LINK_BASE + full_path


def brands_for_gtin(gtin14: str) -> list[Organisation]:
    """The buyers with a numbering rule for the GTIN, oldest first (one, as a rule)."""
    if not gtin14:
        return []
    buyer_ids = (
        NumberingRule.objects.filter(product__in=gtin_spellings(gtin14))
        .values_list("buyer_id", flat=True)
        .distinct()
    )
    return list(Organisation.objects.filter(pk__in=buyer_ids).order_by("pk"))


def product_name_of(brand: Organisation, gtin14: str) -> str:
    """The product's name as the brand's newest order of the GTIN gives it: what the box
    says, so that a shopper can match the answer to the unit in hand."""
    name = (
        PurchaseOrder.objects.filter(buyer=brand, gtin__in=gtin_spellings(gtin14))
        .order_by("-order_date", "-id")
        .values_list("product_name", flat=True)
        .first()
    )
    return name or ""


def is_brand_staff(user: User | AnonymousUser, full_path: str) -> bool:
    """Whether the user is on the staff of a brand of the link's GTIN (whoever may use its
    lookup): they go to the lookup; another brand's staff get the public page like anyone."""
    if not is_buyer_side(user):
        return False
    reading = label_parse(link_text(full_path))
    if reading.error is not None or not reading.gtin:
        return False
    membership = membership_of(user)
    return membership is not None and membership.organisation in brands_for_gtin(reading.gtin)


def verdict_of(result: LookupResult) -> str:
    """The public verdict of one lookup result (see the module's docstring)."""
    if result.status == LookupStatus.DESTROYED:
        return V.DESTROYED
    if result.registered is True and result.status in GENUINE_STATUSES:
        return V.GENUINE
    return V.UNCONFIRMED


def public_check(*, full_path: str, gtin_asked: str, serial_asked: str, run: bool) -> PublicAnswer:
    """Read the Digital Link and, when ``run``, look the serial up for each brand of its GTIN:
    destroyed for any brand outranks genuine for another, and genuine outranks not confirmed.
    Not ``run`` (over the limit): the link is read and its brand found, nothing is looked up."""
    text = link_text(full_path)
    reading = label_parse(text)
    gtin = reading.gtin or ""
    serial = reading.serial if reading.serial is not None else serial_asked
    brands = brands_for_gtin(gtin) if reading.error is None else []
    answer = PublicAnswer(
        verdict=V.UNCONFIRMED if run else V.NOT_CHECKED,
        gtin=gtin or gtin_asked[:32],
        serial=serial[:100],
        brand=brands[0] if brands else None,
    )
    if not run or not brands or not reading.serial:
        return answer
    # The link's path is what names the unit; its query (attributes, a linkType) is read and
    # ignored, so it is not handed to the lookup, whose input has a length limit.
    path_only = link_text(full_path.split("?", 1)[0])
    verdicts = []
    for brand in brands:
        try:
            result = serial_check_for_brand(organisation=brand, text=path_only)
        except ValidationError:  # longer than any label: not a serial we can confirm
            continue
        verdicts.append((verdict_of(result), brand))
    for wanted in (V.DESTROYED, V.GENUINE):
        found = next((brand for verdict, brand in verdicts if verdict == wanted), None)
        if found is not None:
            return PublicAnswer(
                verdict=wanted,
                gtin=gtin,
                serial=answer.serial,
                brand=found,
                product_name=product_name_of(found, gtin),
            )
    return answer


def _text(value: str, limit: int) -> str:
    # PostgreSQL text holds no NUL; a URL or a header may carry one.
    return value.replace("\x00", "\ufffd")[:limit]


def public_check_log(*, request: HttpRequest, answer: PublicAnswer) -> PublicCheck | None:
    """Record a check just answered or refused: one INSERT. None when the row could not be
    written (logged): the visitor still gets the answer."""
    entry = PublicCheck(
        gtin=_text(answer.gtin, 32),
        serial=_text(answer.serial, 100),
        verdict=answer.verdict,
        rate_limited=answer.verdict == V.NOT_CHECKED,
        network=client_network(client_address(request)),
        user_agent=_text(request.META.get("HTTP_USER_AGENT", ""), 200),
        brand=answer.brand,
    )
    try:
        with transaction.atomic():  # a savepoint when the caller is in a transaction
            entry.save(force_insert=True)
    except DatabaseError:
        logger.exception("A public check of GTIN %s could not be logged", entry.gtin)
        return None
    return entry


# ---------------------------------------------------------------- the brand's page


@dataclass(frozen=True, slots=True)
class HotSpots:
    """The brand's public checks of the last ``days`` days, counted, and its latest checks."""

    days: int
    total: int
    by_verdict: list[tuple[str, str, int]]  # verdict, label, count
    destroyed: list[dict[str, Any]]  # gtin, serial, checks, networks, last
    repeated: list[dict[str, Any]]  # gtin, serial, checks, networks, last
    networks: list[dict[str, Any]]  # network, checks, unconfirmed, destroyed, refused
    recent: list[PublicCheck]


def public_checks_of(brand: Organisation) -> QuerySet[PublicCheck]:
    """The one scoping rule of the log: a brand's own checks, never another's."""
    return PublicCheck.objects.filter(brand=brand)


def public_check_hot_spots(*, brand: Organisation, days: int = HOT_SPOT_DAYS) -> HotSpots:
    """Counts by verdict, by network, the serials checked many times and the destroyed serials
    checked, over the brand's checks of the last ``days`` days; and its latest checks."""
    since = timezone.now() - dt.timedelta(days=days)
    window = public_checks_of(brand).filter(checked_at__gte=since)
    counts = dict(window.values_list("verdict").annotate(n=Count("id")).order_by())
    per_serial = window.values("gtin", "serial").annotate(
        checks=Count("id"), networks=Count("network", distinct=True), last=Max("checked_at")
    )
    destroyed = per_serial.filter(verdict=V.DESTROYED).order_by("-last")[:HOT_SPOT_ROWS]
    repeated = per_serial.filter(checks__gte=REPEATED_MIN).order_by("-checks", "-last")
    networks = (
        window.values("network")
        .annotate(
            checks=Count("id"),
            unconfirmed=Count("id", filter=Q(verdict=V.UNCONFIRMED)),
            destroyed=Count("id", filter=Q(verdict=V.DESTROYED)),
            refused=Count("id", filter=Q(rate_limited=True)),
        )
        .order_by("-destroyed", "-checks", "network")
    )
    return HotSpots(
        days=days,
        total=sum(counts.values()),
        by_verdict=[(value, str(label), counts.get(value, 0)) for value, label in V.choices],
        destroyed=list(destroyed),
        repeated=list(repeated[:HOT_SPOT_ROWS]),
        networks=list(networks[:HOT_SPOT_ROWS]),
        recent=list(public_checks_of(brand).order_by("-id")[:RECENT_ROWS]),
    )
