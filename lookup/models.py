"""What each person looked up: the lookups behind "Your recent lookups" on the lookup page and
customer service's dashboard (``lookup.log``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from lookup.inputs import TEXT_MAX
from lookup.results import LOOKUP_STYLES, LookupStatus
from portal.immutability import append_only


class LookupLog(models.Model):
    """One lookup a person made, written once, in the request that answered it (one INSERT):
    who, for which organisation, when, through what, the text as typed (a single lookup's; a
    bulk lookup keeps only its file's name), how many serials and the loudest status found.
    Nothing else of the answer is kept: no order, batch or customer. Append-only; it records
    what was asked, not a decision, so no audit event seals it."""

    class Channel(models.TextChoices):
        PAGE = "page", _("Lookup page")
        API = "api", _("API")
        PAGE_BULK = "page_bulk", _("Bulk lookup on the page")
        API_BULK = "api_bulk", _("Bulk lookup through the API")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "portal.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    looked_up_at = models.DateTimeField(auto_now_add=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # A single lookup's text as typed, scanned or sent (what repeats it); empty for a bulk one.
    query = models.CharField(max_length=TEXT_MAX, blank=True)
    # A bulk lookup's uploaded file, by its own name; empty when pasted or sent as JSON.
    file_name = models.CharField(max_length=255, blank=True)
    serial_count = models.PositiveIntegerField()
    # The first status in precedence order among the results (``lookup.results``).
    status = models.CharField(max_length=20, choices=LookupStatus.choices)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["user", "organisation", "-id"], name="lookup_log_recent"),
        ]
        triggers = append_only(prefix="lookup_log_")

    def __str__(self) -> str:
        return f"{self.user_id} {self.channel} {self.query or self.file_name} ({self.status})"

    @property
    def is_bulk(self) -> bool:
        return self.channel in (self.Channel.PAGE_BULK, self.Channel.API_BULK)

    @property
    def repeat_url(self) -> str:
        """The lookup page asked the same again (GET); a bulk lookup's serials are not kept."""
        if self.is_bulk:
            return ""
        return f"{reverse('serial-lookup')}?{urlencode({'serial': self.query})}"

    @property
    def style(self) -> tuple[str, str]:
        """The status's badge class and icon, as the lookup page shows it."""
        return LOOKUP_STYLES[self.status]


class PublicCheck(models.Model):
    """One genuine-or-not check on the public GS1 Digital Link page (``lookup.public``), written
    once in the request that answered or refused it (one INSERT), for the brand's "Public
    checks" page: where and how often its serials are checked, and which destroyed ones turn up.

    The client is kept as its network only (an IPv4 /24, an IPv6 /48), never the full address:
    enough to see a counterfeit hot spot (one shop, one town's provider), not enough to name a
    person who scanned a label. Nothing of the answer beyond its verdict is kept. Append-only;
    no decision rests on it, so no audit event seals it."""

    class Verdict(models.TextChoices):
        GENUINE = "genuine", _("Registered and accepted")
        UNCONFIRMED = "unconfirmed", _("Not a serial of this brand")
        DESTROYED = "destroyed", _("Reported destroyed — do not accept")
        NOT_CHECKED = "not_checked", _("Not checked: over the rate limit")

    checked_at = models.DateTimeField(auto_now_add=True)
    # The GTIN-14 when the link's GTIN reads (8, 12, 13 or 14 digits, check digit right);
    # otherwise the text as asked, cut to this length.
    gtin = models.CharField(max_length=32, blank=True)
    # The serial (AI 21) as asked, before any case folding; cut to this length.
    serial = models.CharField(max_length=100, blank=True)
    verdict = models.CharField(max_length=12, choices=Verdict.choices)
    rate_limited = models.BooleanField(default=False)
    # "203.0.113.0/24" or "2001:db8:1::/48"; empty when the address could not be read.
    network = models.CharField(max_length=49, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    # The buyer whose numbering rule names the GTIN; null when no buyer has one.
    brand = models.ForeignKey(
        "portal.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["brand", "-id"], name="lookup_public_check_brand")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate_limited=True, verdict="not_checked")
                | (models.Q(rate_limited=False) & ~models.Q(verdict="not_checked")),
                name="lookup_public_check_refused_not_checked",
            )
        ]
        triggers = append_only(prefix="lookup_public_check_")

    def __str__(self) -> str:
        return f"{self.gtin}/{self.serial} {self.verdict} from {self.network or '?'}"
