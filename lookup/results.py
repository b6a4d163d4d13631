"""Customer-service lookup: one serial (or 100,000) → order, batch, carton, customer, shipment
date, warranty end and integrity status, each finding with its reason and the page showing it.

Reads only; never writes (the views then log who asked what: ``lookup.log``). Scoped like every
other read: the caller must be on the buyer's side (buyer, finance, customer service, admin),
and only the caller's own buyer organisation's orders (``orders_visible_to``) and numbering
rules are searched — another buyer's serials are unknown.

Input: a plain serial, a GS1 element string (bracketed, or with group separators and a scanner
prefix such as ``]d2``) or a GS1 Digital Link URL, read by ``inspection.labels.label_parse``.
A GTIN in the input picks the product's rule; a plain serial is tried against every rule of the
buyer (a sequential rule claims it by its prefix; allocated-code rules by the registry).

Which list speaks: for each batch, the newest *validated* production list (its runs and codes
are the batch's serials, its exceptions the batch's exceptions); for placements, the newest
validated list of each kind (carton, distribution, production with a carton column).

Statuses, in precedence order — the first that applies is the primary status; every one that
applies is returned, each with its reason and link:

0. ``destroyed``     — reported destroyed or decommissioned by the buyer's staff (a serial's
                       life, ``lookup.life``), or inside a missing range whose supplier's reason
                       says no unit carries it (destroyed, test scrap, a printer skip): a unit
                       that turns up with it is not genuine, so it is the loudest status and
                       has no warranty.
1. ``malformed``     — the input is not readable GS1 data, carries no serial, or does not fit
                       the product's rule (prefix, length, digits, check digit).
2. ``unknown``       — no batch of the caller's buyer used it (also: no rule fits at all, or the
                       GTIN has no rule); if it lies in a batch's missing range that was not
                       accepted, the reason says so (and a range that *was* accepted explains
                       it: ``accepted_exception``, even where another batch's range is open).
3. ``reused``        — the latest production lists of two or more batches hold it; the reason
                       names the batch and order that used it first.
4. ``duplicated``    — its batch's list holds it more than once.
5. ``out_of_range``  — outside the range allocated to (or declared for) its batch; for
                       allocated-code rules, a code never allocated.
6. ``failed_inspection`` — the newest result of a sampled unit with this serial, in an
                       inspection of a batch of the same product, is defective.
7. ``accepted_exception`` — inside an exception the buyer accepted: a missing range (e.g.
                       declared destroyed — a returned unit carrying it must be looked at), or
                       an accepted duplicate, reuse or out-of-range finding. An accepted
                       exception *replaces* the status it explains (an accepted duplicate is not
                       also ``duplicated``).
8. ``clean``         — in exactly one batch's validated list, with none of the above.

Why this order: a serial that should not exist on any unit outranks everything; nothing more
can be said of a serial that cannot be read or that nobody used;
then come the findings that put the unit's identity in doubt (another unit may carry the same
serial, or it was never the batch's to use), then what is known to be wrong with this very unit,
then anomalies the buyer has explained and accepted, and only then clean.

Known limits: validation reports itemise at most 1,000 duplicated serials and missing ranges
per list; serials beyond those are grouped in one exception and cannot be told apart here.

Where each part lives: ``lookup.inputs`` reads the texts and labels and fits each serial to the
buyer's numbering rules; ``lookup.query`` reads the records (registry, exceptions, placements,
inspection samples) for them; ``lookup.findings`` turns what was read into the findings below,
in this order; ``lookup.selectors`` holds the entry points (``serial_lookup``,
``serials_lookup_bulk``); this module the statuses and what a lookup answers.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import models
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from serials.models import SerialException


class LookupStatus(models.TextChoices):
    """In precedence order: the first that applies is a lookup's primary status."""

    DESTROYED = "destroyed", _("Declared destroyed or never applied")
    MALFORMED = "malformed", _("Malformed for its rule")
    UNKNOWN = "unknown", _("Unknown")
    REUSED = "reused", _("Reused from an earlier order")
    DUPLICATED = "duplicated", _("Duplicated in its batch's list")
    OUT_OF_RANGE = "out_of_range", _("Outside its allocation")
    FAILED_INSPECTION = "failed_inspection", _("Failed an inspection sample")
    ACCEPTED_EXCEPTION = "accepted_exception", _("Inside an accepted exception")
    CLEAN = "clean", _("Clean")


RANK = {status: rank for rank, status in enumerate(LookupStatus.values)}
S = LookupStatus
# What each status means, as the lookup page's legend and the API's documentation say it.
LOOKUP_MEANINGS: dict[str, Promise] = {
    S.DESTROYED: _(
        "reported destroyed or decommissioned, or declared by the supplier destroyed, "
        "scrapped or never applied: no unit should carry it, so one that turns up is not genuine"
    ),
    S.MALFORMED: _(
        "not a readable label, or it breaks its product's numbering rule (prefix, "
        "length, digits, check digit)"
    ),
    S.UNKNOWN: _("no batch of yours used it, or it fits none of your numbering rules"),
    S.REUSED: _("two batches' lists hold it"),
    S.DUPLICATED: _("its batch's list holds it more than once"),
    S.OUT_OF_RANGE: _("outside the range or codes allocated to its batch"),
    S.FAILED_INSPECTION: _("found defective in an inspection sample"),
    S.ACCEPTED_EXCEPTION: _(
        "inside an exception you accepted (a duplicate, reuse or gap explained and accepted)"
    ),
    S.CLEAN: _("in one batch's validated list, nothing against it"),
}
# How each status looks on a page (badge class, bootstrap icon), keyed by the status text a
# result, finding or logged lookup carries (LookupStatus members are those strings).
LOOKUP_STYLES: dict[str, tuple[str, str]] = {
    LookupStatus.CLEAN: ("text-bg-success", "bi-check-circle"),
    LookupStatus.ACCEPTED_EXCEPTION: ("text-bg-info", "bi-shield-check"),
    LookupStatus.FAILED_INSPECTION: ("text-bg-danger", "bi-clipboard-x"),
    LookupStatus.OUT_OF_RANGE: ("text-bg-warning", "bi-arrows-expand"),
    LookupStatus.DUPLICATED: ("text-bg-warning", "bi-files"),
    LookupStatus.REUSED: ("text-bg-danger", "bi-arrow-repeat"),
    LookupStatus.UNKNOWN: ("text-bg-secondary", "bi-question-circle"),
    LookupStatus.MALFORMED: ("text-bg-dark", "bi-x-octagon"),
    LookupStatus.DESTROYED: ("text-bg-danger", "bi-exclamation-octagon-fill"),
}
# Reasons for a missing range that say no unit carries its serials: a unit that turns up with
# one is a counterfeit signal, whatever the buyer decided about the explanation.
NEVER_ON_A_UNIT = frozenset(
    {
        SerialException.Reason.DESTROYED,
        SerialException.Reason.PRINTER_SKIP,
        SerialException.Reason.TEST_SCRAP,
    }
)


class LifeState(models.TextChoices):
    """The states of a serial's life, in the order a unit usually lives them."""

    ALLOCATED = "allocated", _("Allocated")
    COMMISSIONED = "commissioned", _("Commissioned")
    SAMPLED = "sampled", _("Sampled")
    SHIPPED = "shipped", _("Shipped")
    RETURNED = "returned", _("Returned")
    DESTROYED = "destroyed", _("Destroyed")
    DECOMMISSIONED = "decommissioned", _("Decommissioned")


# Life states after which no unit may carry the serial.
FINAL_LIFE_STATES = frozenset({LifeState.DESTROYED, LifeState.DECOMMISSIONED})


@dataclass(frozen=True, slots=True)
class LifeEntry:
    """One step of a serial's life: the state, when, who, why, and the record that proves it
    (``url``; ``proof`` names it: a reference, a file)."""

    state: str
    at: dt.datetime | dt.date
    who: str
    why: str
    url: str
    proof: str = ""
    proof_url: str = ""

    @property
    def label(self) -> str:
        return str(LifeState(self.state).label)

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_LIFE_STATES

    @property
    def has_time(self) -> bool:
        return isinstance(self.at, dt.datetime)

    @property
    def day(self) -> dt.date:
        return self.at.date() if isinstance(self.at, dt.datetime) else self.at

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "at": self.at.isoformat(),
            "who": self.who,
            "why": self.why,
            "url": self.url,
            "proof": self.proof,
            "proof_url": self.proof_url,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    status: str
    reason: str
    url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", str(self.status))  # plain text, not the enum


@dataclass(slots=True)
class LookupResult:
    """What customer service sees for one input."""

    input: str
    serial: str = ""
    gtin: str = ""
    input_kind: str = "plain"
    status: str = LookupStatus.UNKNOWN.value
    findings: list[Finding] = field(default_factory=list)
    product: str = ""
    order_number: str = ""
    order_url: str = ""
    batch_code: str = ""
    batch_url: str = ""
    report_url: str = ""
    life_url: str = ""  # where a life event of the unit's batch is recorded (pages only)
    registered: bool | None = None
    carton: str = ""
    customer_reference: str = ""
    shipped_on: dt.date | None = None
    warranty_months: int | None = None
    warranty_end: dt.date | None = None
    # The serial's life line, oldest first (lookup.life): composed when first read (a page, an
    # API answer; a CSV never reads it), for lookups of at most LIFE_LINE_LIMIT inputs; a bulk
    # lookup reads only the recorded events, for the status.
    life_composer: Callable[[], list[LifeEntry]] | None = None
    composed_life: list[LifeEntry] | None = None

    @property
    def life(self) -> list[LifeEntry]:
        if self.composed_life is None:
            self.composed_life = self.life_composer() if self.life_composer else []
        return self.composed_life

    @property
    def standing(self) -> LifeEntry | None:
        """Where the life line stands: its last destroyed or decommissioned step, for nothing
        brings a serial back from those (a return recorded later is the unit turning up
        again); otherwise its last step."""
        final = [entry for entry in self.life if entry.is_final]
        return final[-1] if final else (self.life[-1] if self.life else None)

    @property
    def life_state(self) -> str:
        """The state the life line stands in ('' when there is none)."""
        return self.standing.state if self.standing else ""

    @property
    def life_label(self) -> str:
        return self.standing.label if self.standing else ""

    @property
    def statuses(self) -> list[str]:
        """Every status that applies, in precedence order (the first is ``status``)."""
        return sorted({finding.status for finding in self.findings}, key=RANK.__getitem__)

    @property
    def reason(self) -> str:
        return self.findings[0].reason if self.findings else ""

    @property
    def status_label(self) -> str:
        return str(LookupStatus(self.status).label)

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "serial": self.serial,
            "gtin": self.gtin,
            "input_kind": self.input_kind,
            "status": self.status,
            "statuses": self.statuses,
            "reason": self.reason,
            "findings": [
                {"status": f.status, "reason": f.reason, "url": f.url} for f in self.findings
            ],
            "product": self.product,
            "order": self.order_number,
            "order_url": self.order_url,
            "batch": self.batch_code,
            "batch_url": self.batch_url,
            "report_url": self.report_url,
            "registered": self.registered,
            "carton": self.carton,
            "customer_reference": self.customer_reference,
            "shipped_on": self.shipped_on.isoformat() if self.shipped_on else None,
            "warranty_months": self.warranty_months,
            "warranty_end": self.warranty_end.isoformat() if self.warranty_end else None,
            "life_state": self.life_state,
            "life": [entry.as_dict() for entry in self.life],
        }

    def conclude(self, status: str, reason: str, url: str) -> None:
        """Settle the result on one finding: nothing more can be said of it."""
        self.findings = [Finding(status, reason, url)]
        self.status = str(status)


class Links:
    """The pages findings link to, each reversed once per lookup (a bulk lookup links the same
    few pages thousands of times)."""

    def __init__(self) -> None:
        self.urls: dict[tuple[str, int], str] = {}

    def url(self, name: str, pk: int | None = None) -> str:
        key = (name, pk or 0)
        url = self.urls.get(key)
        if url is None:
            url = self.urls[key] = reverse(name, args=[pk] if pk is not None else [])
        return url


BULK_CSV_HEADER = [
    "input",
    "serial",
    "gtin",
    "status",
    "statuses",
    "order",
    "batch",
    "carton",
    "shipped_on",
    "customer_reference",
    "warranty_end",
    "reason",
]


def bulk_csv_rows(results: Iterable[LookupResult]) -> Iterable[list[Any]]:
    """One CSV row per result, in BULK_CSV_HEADER's order (cells made safe by the writer)."""
    for r in results:
        yield [
            r.input,
            r.serial,
            r.gtin,
            r.status,
            " ".join(r.statuses),
            r.order_number,
            r.batch_code,
            r.carton,
            r.shipped_on.isoformat() if r.shipped_on else "",
            r.customer_reference,
            r.warranty_end.isoformat() if r.warranty_end else "",
            r.reason,
        ]


@functools.lru_cache(maxsize=4096)  # a bulk lookup's units share a few shipment dates
def warranty_end(shipped_on: dt.date | None, months: int | None) -> dt.date | None:
    """The shipment date plus the warranty's months; a day that does not exist in the last
    month is the month's last day (31 Jan + 1 month = 28 or 29 Feb)."""
    if shipped_on is None or months is None:
        return None
    return shipped_on + relativedelta(months=months)
