"""Customer-service lookup: one serial (or 100,000) → order, batch, carton, customer, shipment
date, warranty end and integrity status, each finding with its reason and the page showing it.

Reads only; never writes. Scoped like every other read: the caller must be on the buyer's side
(buyer, finance, customer service, admin), and only the caller's own buyer organisation's orders
(``orders_visible_to``) and numbering rules are searched — another buyer's serials are unknown.

Input: a plain serial, a GS1 element string (bracketed, or with group separators and a scanner
prefix such as ``]d2``) or a GS1 Digital Link URL, read by ``inspection.labels.label_parse``.
A GTIN in the input picks the product's rule; a plain serial is tried against every rule of the
buyer (a sequential rule claims it by its prefix; allocated-code rules by the registry).

Which list speaks: for each batch, the newest *validated* production list (its runs and codes
are the batch's serials, its exceptions the batch's exceptions); for placements, the newest
validated list of each kind (carton, distribution, production with a carton column).

Statuses, in precedence order — the first that applies is the primary status; every one that
applies is returned, each with its reason and link:

0. ``destroyed``     — inside a missing range whose supplier's reason says no unit carries it
                       (destroyed, test scrap, a printer skip): a unit that turns up with it is
                       a counterfeit signal, so it is the loudest status and has no warranty.
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
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models
from django.urls import NoReverseMatch, reverse

from inspection.labels import label_parse
from orders.selectors import orders_visible_to
from portal.models import Membership, Organisation, User
from portal.roles import is_buyer_side, membership_of
from serials import engine
from serials.engine.cells import segment_from_strings
from serials.engine.rules import CHECK_DIGIT, DIGITS, LENGTH, PREFIX
from serials.models import ExceptionAnswer, NumberingRule, SerialException, SerialList

BULK_LIMIT = 100_000
SERIAL_MAX = 100  # SerialPlacement.serial, SampledUnit.serial
TEXT_MAX = 500  # longer than any label text a person or scanner produces
# Serials per IN (...) query: well under SQLite's variable limit, few round trips on PostgreSQL.
CHUNK = 5000
# From this many serials on, the engine's vectorised classification beats its scalar one.
VECTOR_MIN = 32


class LookupStatus(models.TextChoices):
    """In precedence order: the first that applies is a lookup's primary status."""

    DESTROYED = "destroyed", "Declared destroyed or never applied"
    MALFORMED = "malformed", "Malformed for its rule"
    UNKNOWN = "unknown", "Unknown"
    REUSED = "reused", "Reused from an earlier order"
    DUPLICATED = "duplicated", "Duplicated in its batch's list"
    OUT_OF_RANGE = "out_of_range", "Outside its allocation"
    FAILED_INSPECTION = "failed_inspection", "Failed an inspection sample"
    ACCEPTED_EXCEPTION = "accepted_exception", "Inside an accepted exception"
    CLEAN = "clean", "Clean"


RANK = {status: rank for rank, status in enumerate(LookupStatus.values)}
S = LookupStatus
# What each status means, as the lookup page's legend and the API's documentation say it.
LOOKUP_MEANINGS = {
    S.DESTROYED: "the supplier declared it destroyed, scrapped or never applied: no unit should "
    "carry it, so one that turns up may be a counterfeit",
    S.MALFORMED: "not a readable label, or it breaks its product's numbering rule (prefix, "
    "length, digits, check digit)",
    S.UNKNOWN: "no batch of yours used it, or it fits none of your numbering rules",
    S.REUSED: "two batches' lists hold it",
    S.DUPLICATED: "its batch's list holds it more than once",
    S.OUT_OF_RANGE: "outside the range or codes allocated to its batch",
    S.FAILED_INSPECTION: "found defective in an inspection sample",
    S.ACCEPTED_EXCEPTION: "inside an exception you accepted (a duplicate, reuse or gap "
    "explained and accepted)",
    S.CLEAN: "in one batch's validated list, nothing against it",
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
    registered: bool | None = None
    carton: str = ""
    customer_reference: str = ""
    shipped_on: dt.date | None = None
    warranty_months: int | None = None
    warranty_end: dt.date | None = None

    @property
    def statuses(self) -> list[str]:
        """Every status that applies, in precedence order (the first is ``status``)."""
        return sorted({finding.status for finding in self.findings}, key=RANK.__getitem__)

    @property
    def reason(self) -> str:
        return self.findings[0].reason if self.findings else ""

    @property
    def status_label(self) -> str:
        return LookupStatus(self.status).label

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
        }


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


def lookup_texts_check(texts: Sequence[object]) -> list[str]:
    """The inputs of a bulk lookup as text, or ValidationError naming what is wrong (used by
    the page's form and the API alike)."""
    if isinstance(texts, str | bytes) or not isinstance(texts, Sequence):
        raise ValidationError("Give the serials as a list of texts.")
    if not texts:
        raise ValidationError("There are no serials to look up.")
    if len(texts) > BULK_LIMIT:
        raise ValidationError(
            f"{len(texts):,} serials were given; one bulk lookup takes at most {BULK_LIMIT:,}. "
            "Split the list."
        )
    out = []
    for number, text in enumerate(texts, start=1):
        if not isinstance(text, str):
            raise ValidationError(f"Entry {number:,} is not text.")
        if len(text) > TEXT_MAX:
            raise ValidationError(
                f"Entry {number:,} is {len(text):,} characters long; a label text has at most "
                f"{TEXT_MAX:,}."
            )
        if "\x00" in text:
            raise ValidationError(f"Entry {number:,} holds a NUL character.")
        out.append(text)
    return out


def membership_prefetch(user: User | AnonymousUser) -> None:
    """Load the caller's membership with its organisation in one statement, before the role
    checks read both: a lookup should cost a handful of queries, and the ORM's join compiles
    slower than this lookup runs. The organisation's timestamp is left deferred."""
    if not user.is_authenticated or Membership.user.field.remote_field.is_cached(user):
        return
    found = list(
        Membership.objects.raw(
            """SELECT m.*, o.name AS organisation_name, o.kind AS organisation_kind,
                      o.country AS organisation_country, o.contact_email AS organisation_email
               FROM portal_membership m JOIN portal_organisation o ON o.id = m.organisation_id
               WHERE m.user_id = %s""",
            [user.pk],
        )
    )
    if not found:
        return
    membership = found[0]
    membership.organisation = Organisation.from_db(
        membership._state.db,
        ["id", "name", "kind", "country", "contact_email"],
        [
            membership.organisation_id,
            membership.organisation_name,
            membership.organisation_kind,
            membership.organisation_country,
            membership.organisation_email,
        ],
    )
    user.membership = membership  # type: ignore[union-attr]


def serial_lookup(*, user: User | AnonymousUser, text: str) -> LookupResult:
    """Look up one serial for a buyer-side user; a handful of indexed queries. Raises
    PermissionDenied for anyone else. Never writes."""
    return serials_lookup_bulk(user=user, texts=[text])[0]


def serials_lookup_bulk(*, user: User | AnonymousUser, texts: Sequence[str]) -> list[LookupResult]:
    """Look up many serials at once (at most BULK_LIMIT), one result per text in the same
    order. Set-based: per product scope, the registry's runs are loaded once and matched with
    NumPy, placements and inspection results are fetched in chunks. Never writes."""
    membership_prefetch(user)
    if not is_buyer_side(user):
        raise PermissionDenied("Only the buyer's staff look up serials.")
    texts = lookup_texts_check(texts)
    membership = membership_of(user)
    assert membership is not None
    return _Lookup(user, membership.organisation_id, texts).run()


# ---------------------------------------------------------------- implementation

_REASON_TEXT = {
    PREFIX: "does not start with the prefix {prefix}",
    LENGTH: "has {length} characters; {pattern} has {expected}",
    DIGITS: "has other characters where {pattern}'s digits go",
    CHECK_DIGIT: "has a wrong check digit ({check})",
}


def _gtin_key(product: str) -> str:
    """A rule's product as a 14-digit GTIN, or '' for a SKU."""
    product = product.strip()
    return product.zfill(14) if product.isdigit() and len(product) in (8, 12, 13, 14) else ""


@dataclass(slots=True, eq=False)  # compared by identity
class _Scope:
    rule: NumberingRule
    key: str
    engine_rule: engine.NumberingRule | None
    positions: list[int] = field(default_factory=list)
    counters: list[int] = field(default_factory=list)  # sequential rules
    malformed: dict[int, str] = field(default_factory=dict)  # position -> reason


@dataclass(slots=True)
class _Batch:
    pk: int
    code: str
    order_id: int
    order_number: str
    order_date: dt.date

    @property
    def sort_key(self) -> tuple[dt.date, int]:
        return (self.order_date, self.pk)

    @property
    def label(self) -> str:
        return f"batch {self.code} of PO {self.order_number}"


@dataclass(slots=True)
class _Holder:
    batch: _Batch
    list_id: int
    accepted: bool
    expected: tuple[int, int] | None


@dataclass(slots=True)
class _Found:
    """What the registry and the records say about one input in one scope."""

    scope: _Scope
    counter: int | None
    holders: list[_Holder] = field(default_factory=list)
    missing: list[_Exception] = field(default_factory=list)
    placements: list[tuple[str, _Batch, int, str, str, dt.date | None]] = field(
        default_factory=list
    )  # kind, batch, list id, carton, customer, shipped_on
    samples: list[tuple[int, _Batch, str]] = field(default_factory=list)  # plan, batch, defects

    @property
    def known(self) -> bool:
        return bool(self.holders or self.missing or self.placements)


@dataclass(slots=True)
class _Exception:
    """The columns of a SerialException the lookup reads."""

    pk: int
    serial_list_id: int
    batch: _Batch
    kind: str
    status: str
    lo: int | None = None
    hi: int | None = None
    serial: str = ""
    count: int = 1
    detail: dict[str, Any] = field(default_factory=dict)
    other_batch_id: int | None = None


@dataclass(slots=True)
class _Lists:
    """The lists that speak in one scope (the newest validated one of each kind per batch)."""

    speaking: dict[int, _Batch] = field(default_factory=dict)  # list id -> its batch
    kind: dict[int, str] = field(default_factory=dict)  # list id -> its kind
    production: dict[int, int] = field(default_factory=dict)  # batch id -> production list id
    expected: dict[int, tuple[int, int]] = field(default_factory=dict)  # list id -> range


def _marks(values: Sized) -> str:
    return ", ".join(["%s"] * len(values))


def _inside(
    spans: list[tuple[Any, Any, Any]], counters: np.ndarray
) -> Iterable[tuple[int, tuple[Any, Any, Any]]]:
    """(index into counters, span) for each counter inside one of the spans, which must not
    overlap (one list's runs, or its missing ranges): the span that can hold a counter is the
    last one starting at or before it."""
    spans = sorted(spans, key=lambda span: span[0])
    lo = np.asarray([span[0] for span in spans], dtype=counters.dtype)
    hi = np.asarray([span[1] for span in spans], dtype=counters.dtype)
    index = np.searchsorted(lo, counters, side="right") - 1
    inside = index >= 0
    inside[inside] = hi[index[inside]] >= counters[inside]
    for k in np.flatnonzero(inside).tolist():
        yield k, spans[int(index[k])]


def _day(value: Any) -> dt.date | None:
    """A date column (SQLite hands raw dates back as text)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


class _Lookup:
    def __init__(self, user: User | AnonymousUser, buyer_id: int, texts: list[str]) -> None:
        self.user, self.buyer_id, self.texts = user, buyer_id, texts
        # The one scoping rule, as SQL for the statements below.
        visible = orders_visible_to(user).order_by().values("pk").query.sql_with_params()
        self.visible_sql, self.visible_params = visible[0], list(visible[1])
        self.batches: dict[int, _Batch] = {}
        self.urls: dict[tuple[str, int], str] = {}
        self.results: list[LookupResult] = []
        self.found: dict[int, list[_Found]] = defaultdict(list)  # position -> per scope
        self.exceptions: dict[int, list[_Exception]] = defaultdict(list)  # by list id
        self.answers: dict[int, ExceptionAnswer] = {}
        self.scopes: list[_Scope] = []

    # -- the steps

    def run(self) -> list[LookupResult]:
        self._read_inputs()
        self.scopes = self._match_rules()
        for scope in self.scopes:
            if scope.positions:
                self._search(scope)
        self._load_answers()
        for position, result in enumerate(self.results):
            if not result.findings:
                self._conclude(position, result)
        return self.results

    def _read_inputs(self) -> None:
        seen: dict[str, LookupResult] = {}
        for text in self.texts:
            if text in seen:  # the same label scanned twice reads the same
                template = seen[text]
                self.results.append(
                    LookupResult(
                        input=text,
                        serial=template.serial,
                        gtin=template.gtin,
                        input_kind=template.input_kind,
                        findings=list(template.findings),
                        status=template.status,
                    )
                )
                continue
            reading = label_parse(text)
            result = LookupResult(
                input=text,
                serial=(reading.serial or "").strip().upper(),
                gtin=reading.gtin or "",
                input_kind=reading.kind,
            )
            if reading.error:
                self._finish(result, S.MALFORMED, f"The text cannot be read: {reading.error}", "")
            elif not result.serial:
                self._finish(
                    result,
                    S.MALFORMED,
                    f"The label carries GTIN {result.gtin} but no serial (AI 21)."
                    if result.gtin
                    else "There is no serial in this text.",
                    "",
                )
            elif len(result.serial) > SERIAL_MAX:
                self._finish(
                    result,
                    S.MALFORMED,
                    f"{len(result.serial)} characters: longer than any serial.",
                    "",
                )
            seen[text] = result
            self.results.append(result)

    def _match_rules(self) -> list[_Scope]:
        rules = list(
            NumberingRule.objects.raw(  # cheaper to build than a filtered queryset
                "SELECT * FROM serials_numberingrule WHERE buyer_id = %s ORDER BY product",
                [self.buyer_id],
            )
        )
        scopes = [
            _Scope(
                rule=rule,
                key=f"{self.buyer_id}:{rule.product}",
                engine_rule=None if rule.uses_codes else rule.as_engine_rule(),
            )
            for rule in rules
        ]
        by_gtin: dict[str, list[_Scope]] = defaultdict(list)
        for scope in scopes:
            if _gtin_key(scope.rule.product):
                by_gtin[_gtin_key(scope.rule.product)].append(scope)
        # Which scopes each pending input is tried in.
        tries: dict[int, list[_Scope]] = {}
        for position, result in enumerate(self.results):
            if result.findings:
                continue
            if result.gtin:
                tries[position] = by_gtin.get(result.gtin, [])
                if not tries[position]:
                    self._finish(
                        result,
                        S.UNKNOWN,
                        f"None of your numbering rules is for GTIN {result.gtin}.",
                        self._url("numbering-rules"),
                    )
            else:
                tries[position] = scopes
        for scope in scopes:
            members = [p for p, tried in tries.items() if scope in tried]
            if not members:
                continue
            if scope.engine_rule is None:
                scope.positions = members
                continue
            self._classify(scope, members)
        return scopes

    def _classify(self, scope: _Scope, members: list[int]) -> None:
        """Vectorised: which members fit the rule (with their counters) and why others fail."""
        rule = scope.engine_rule
        assert rule is not None
        claimed = [
            p
            for p in members
            if (
                self.results[p].serial.startswith(rule.prefix)
                if rule.prefix
                else self.results[p].serial.isdigit()
            )
            or self.results[p].gtin  # the GTIN named the product: its rule speaks
        ]
        if not claimed:
            return
        serials = [self.results[p].serial for p in claimed]
        if len(claimed) < VECTOR_MIN:
            # The engine's scalar definition: for a few serials, cheaper than setting up arrays.
            classified = [engine.classify_value(serial, rule) for serial in serials]
        else:
            segment = segment_from_strings(np.arange(len(claimed)), serials, rule)
            classified = [(LENGTH, None)] * len(claimed)  # a row the engine skipped: empty
            for row, code, counter in zip(
                np.asarray(segment.lines).tolist(),
                segment.reason.tolist(),
                segment.counters.tolist(),
                strict=True,
            ):
                classified[row] = (code, counter)
        for position, (code, counter) in zip(claimed, classified, strict=True):
            if code == 0:
                scope.positions.append(position)
                scope.counters.append(int(counter))
            else:
                scope.malformed[position] = self._malformed_reason(scope, position, code)

    def _malformed_reason(self, scope: _Scope, position: int, code: int) -> str:
        rule = scope.engine_rule
        assert rule is not None
        serial = self.results[position].serial
        template = _REASON_TEXT.get(code, "does not fit {pattern}")
        detail = template.format(
            prefix=rule.prefix,
            length=len(serial),
            pattern=scope.rule.pattern,
            expected=rule.length,
            check=scope.rule.get_check_digit_display(),
        )
        return f"{serial} {detail} (the rule for {scope.rule.product})."

    # -- the registry, the exceptions, the placements and the samples of one scope
    #
    # Plain SQL on purpose: a single lookup must cost a few milliseconds, and compiling joins
    # through the ORM, planning them, and each round trip cost more than reading the rows. One
    # join per scope finds the lists that speak, in the caller's visible orders (the SQL of
    # ``orders_visible_to``); one UNION ALL per chunk of serials then reads, each through its
    # own index, the runs or codes, the exceptions, the placements and the sampled units of the
    # scope, and only rows of the lists that speak are kept. The f-strings hold only constants
    # and %s placeholders, never a value: hence the noqa: S608.

    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _scope_lists(self, scope: _Scope) -> _Lists:
        """Every validated list of the scope's product in the caller's visible orders; the
        newest of each kind per batch speaks."""
        rows = self._query(
            f"""SELECT l.id, l.kind, l.expected_lo, l.expected_hi,
                       b.id, b.code, b.order_id, o.number, o.order_date
                FROM serials_seriallist l
                JOIN orders_batch b ON b.id = l.batch_id
                JOIN orders_purchaseorder o ON o.id = b.order_id
                WHERE l.status = 'done' AND (o.gtin = %s OR (o.gtin = '' AND o.sku = %s))
                  AND o.id IN ({self.visible_sql})""",  # noqa: S608
            [scope.rule.product, scope.rule.product, *self.visible_params],
        )
        lists = _Lists()
        newest: dict[tuple[int, str], tuple[Any, ...]] = {}
        for row in rows:
            key = (row[4], row[1])
            if key not in newest or row[0] > newest[key][0]:
                newest[key] = row
        for (batch_id, kind), row in newest.items():
            batch = self.batches.get(batch_id)
            if batch is None:
                batch = self.batches[batch_id] = _Batch(
                    batch_id, row[5], row[6], row[7], _day(row[8])
                )
            lists.speaking[row[0]] = batch
            lists.kind[row[0]] = kind
            if kind == SerialList.Kind.PRODUCTION:
                lists.production[batch_id] = row[0]
                if row[2] is not None:
                    lists.expected[row[0]] = (int(row[2]), int(row[3]))
        return lists

    def _search(self, scope: _Scope) -> None:
        lists = self._scope_lists(scope)
        if not lists.speaking:
            return  # no batch of this product has a validated list: nothing can be known
        sequential = scope.engine_rule is not None
        found = {
            p: _Found(scope, c)
            for p, c in zip(
                scope.positions,
                scope.counters if sequential else [None] * len(scope.positions),
                strict=True,
            )
        }
        positions_of: dict[str, list[int]] = defaultdict(list)
        for position in found:
            positions_of[self.results[position].serial].append(position)
        serials = list(positions_of)
        runs: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
        units: dict[int, tuple[str, int, int]] = {}
        placements = []
        for start in range(0, len(serials), CHUNK):
            chunk = serials[start : start + CHUNK]
            sql, params = self._records(scope, lists, chunk, first=start == 0)
            for tag, list_id, a, b, c, d, s1, s2, s3, day in self._query(sql, params):
                if tag == "u":  # a sampled unit: unit id, plan, batch
                    units[a] = (s3, b, d)
                    continue
                batch = lists.speaking.get(list_id)
                if batch is None:
                    continue  # an older list of its kind: history, not what the batch says now
                if tag == "r":
                    runs[list_id].append((int(a), int(b), bool(c)))
                elif tag == "c":
                    holder = _Holder(batch, list_id, bool(c), None)
                    for position in positions_of[s3]:
                        found[position].holders.append(holder)
                else:
                    placement = (lists.kind[list_id], batch, list_id, s1, s2, _day(day))
                    placements.append((a, s3, placement))
        placements.sort(key=lambda placement: placement[0])  # by line: the last row wins
        for _, serial, placement in placements:
            for position in positions_of[serial]:
                found[position].placements.append(placement)
        if sequential:
            counters = np.asarray(scope.counters, dtype=object if _wide(scope) else np.int64)
            positions = np.asarray(scope.positions)
            for list_id, list_runs in runs.items():
                batch, expected = lists.speaking[list_id], lists.expected.get(list_id)
                for k, (_, _, accepted) in _inside(list_runs, counters):
                    holder = _Holder(batch, list_id, accepted, expected)
                    found[int(positions[k])].holders.append(holder)
        self._search_exceptions(scope, lists, found, positions_of)
        if units:
            self._sample_results(units, lists, positions_of, found)
        for position, one in found.items():
            self.found[position].append(one)

    def _records(
        self, scope: _Scope, lists: _Lists, chunk: list[str], first: bool
    ) -> tuple[str, list[Any]]:
        """One UNION ALL for a chunk of serials: the runs (with the first chunk) or codes, the
        placements and the sampled units. Columns: tag, list id, four numbers, three texts,
        a date; each branch reads its table through an index."""
        marks = _marks(chunk)
        # PostgreSQL types a UNION's columns pair by pair from the left: a first branch of
        # typed NULLs keeps a column of NULLs from becoming text before a date arrives.
        parts = [
            "SELECT CAST(NULL AS TEXT), "
            + "CAST(NULL AS BIGINT), " * 5
            + "CAST(NULL AS TEXT), " * 3
            + "CAST(NULL AS DATE) WHERE 1 = 0"
        ]
        params: list[Any] = []
        if scope.engine_rule is not None and first:
            parts.append(
                """SELECT 'r', serial_list_id, lo, hi, CASE WHEN accepted THEN 1 ELSE 0 END,
                          NULL, NULL, NULL, NULL, NULL
                   FROM serials_serialrun WHERE scope = %s AND lo <= %s AND hi >= %s"""
            )
            params += [scope.key, int(max(scope.counters)), int(min(scope.counters))]
        if scope.engine_rule is None:
            parts.append(
                f"""SELECT 'c', serial_list_id, NULL, NULL, CASE WHEN accepted THEN 1 ELSE 0 END,
                           NULL, NULL, NULL, code, NULL
                    FROM serials_serialcode WHERE scope = %s AND code IN ({marks})"""  # noqa: S608
            )
            params += [scope.key, *chunk]
        parts.append(
            f"""SELECT 'p', serial_list_id, line, NULL, NULL, NULL, carton, customer_reference,
                       serial, shipped_on
                FROM serials_serialplacement WHERE scope = %s AND serial IN ({marks})"""  # noqa: S608
        )
        params += [scope.key, *chunk]
        batches = sorted({batch.pk for batch in lists.speaking.values()})
        parts.append(
            f"""SELECT 'u', NULL, u.id, u.plan_id, NULL, pl.batch_id, NULL, NULL, u.serial, NULL
                FROM inspection_sampledunit u
                JOIN inspection_inspectionplan pl ON pl.id = u.plan_id
                WHERE u.serial IN ({marks}) AND pl.batch_id IN ({_marks(batches)})"""  # noqa: S608
        )
        params += [*chunk, *batches]
        return " UNION ALL ".join(parts), params

    def _search_exceptions(
        self,
        scope: _Scope,
        lists: _Lists,
        found: dict[int, _Found],
        positions_of: dict[str, list[int]],
    ) -> None:
        """The exceptions that can concern the looked-up serials: duplicates, reuse and
        out-of-range findings of the lists holding them, and missing ranges of any batch for
        the serials nobody holds (a declared-destroyed unit, for instance)."""
        holders = sorted({h.list_id for one in found.values() for h in one.holders})
        held = [serial for serial, ps in positions_of.items() if found[ps[0]].holders]
        unheld = [
            one.counter for one in found.values() if not one.holders and one.counter is not None
        ]
        production = list(lists.production.values())
        if not (holders or (unheld and production)):
            return
        rows: list[tuple[Any, ...]] = []
        for start in range(0, max(len(held), 1), CHUNK):
            chunk = held[start : start + CHUNK] or [""]
            conditions, params = [], []
            if holders:
                conditions.append(
                    f"""(serial_list_id IN ({_marks(holders)})
                         AND (kind IN ('duplicate', 'unknown') AND serial IN ({_marks(chunk)})
                              OR kind IN ('reused', 'out_of_range')))"""  # noqa: S608
                )
                params += [*holders, *chunk]
            if start == 0 and unheld and production:
                conditions.append(
                    f"""(serial_list_id IN ({_marks(production)}) AND kind = 'missing'
                         AND lo <= %s AND hi >= %s)"""  # noqa: S608
                )
                params += [*production, int(max(unheld)), int(min(unheld))]
            if not conditions:
                continue
            rows += self._query(
                f"""SELECT id, serial_list_id, kind, status, lo, hi, serial, count, detail,
                           other_batch_id
                    FROM serials_serialexception WHERE {" OR ".join(conditions)}""",  # noqa: S608
                params,
            )
        missing: dict[int, list[_Exception]] = defaultdict(list)
        for pk, list_id, kind, status, lo, hi, serial, count, detail, other_batch_id in rows:
            if isinstance(detail, str):  # SQLite hands JSON back as text
                detail = json.loads(detail)
            exception = _Exception(
                pk=pk,
                serial_list_id=list_id,
                batch=lists.speaking[list_id],
                kind=kind,
                status=status,
                lo=None if lo is None else int(lo),
                hi=None if hi is None else int(hi),
                serial=serial,
                count=count,
                detail=detail or {},
                other_batch_id=other_batch_id,
            )
            if kind == SerialException.Kind.MISSING:
                missing[list_id].append(exception)
            else:
                self.exceptions[list_id].append(exception)
        if missing:
            unheld_positions = [p for p, one in found.items() if not one.holders]
            counters = np.asarray(
                [found[p].counter for p in unheld_positions],
                dtype=object if _wide(scope) else np.int64,
            )
            for ranges in missing.values():
                spans = [(e.lo, e.hi, e) for e in ranges]
                for k, (_, _, exception) in _inside(spans, counters):
                    found[unheld_positions[k]].missing.append(exception)

    def _sample_results(
        self,
        units: dict[int, tuple[str, int, int]],
        lists: _Lists,
        positions_of: dict[str, list[int]],
        found: dict[int, _Found],
    ) -> None:
        """The newest result of each sampled unit; a defective one is a failed sample."""
        batches = {batch.pk: batch for batch in lists.speaking.values()}
        newest: dict[int, tuple[bool, str]] = {}
        unit_ids = list(units)
        for start in range(0, len(unit_ids), CHUNK):
            chunk = unit_ids[start : start + CHUNK]
            for unit_id, defective, defects in self._query(
                f"""SELECT unit_id, defective, defects FROM inspection_unitresult
                    WHERE unit_id IN ({_marks(chunk)}) ORDER BY id""",  # noqa: S608
                chunk,
            ):
                newest[unit_id] = (bool(defective), defects or "")  # the newest result counts
        for unit_id, (defective, defects) in newest.items():
            if defective:
                serial, plan_id, batch_id = units[unit_id]
                for position in positions_of[serial]:
                    found[position].samples.append((plan_id, batches[batch_id], defects))

    def _load_answers(self) -> None:
        """The supplier's answer each accepted exception was accepted on, for its reason."""
        accepted = {
            exception.pk
            for per_list in self.exceptions.values()
            for exception in per_list
            if exception.status == SerialException.Status.ACCEPTED
        }
        for per_scope in self.found.values():
            for one in per_scope:
                accepted.update(e.pk for e in one.missing)  # any answer may declare it destroyed
        if not accepted:
            return
        for answer in ExceptionAnswer.objects.filter(exception_id__in=accepted).order_by("id"):
            self.answers[answer.exception_id] = answer  # the newest one stays

    # -- conclusions

    def _conclude(self, position: int, result: LookupResult) -> None:
        per_scope = self.found.get(position, [])
        known = [one for one in per_scope if one.known]
        if not known:
            self._conclude_unknown(position, result, per_scope)
            return
        # A plain serial that fits several products' rules: the product whose newest batch
        # knows it answers.
        one = known[0]
        if len(known) > 1:
            one = max(known, key=lambda f: max(b.sort_key for b in self._batches_of(f)))
        serial = result.serial
        rule = one.scope.rule
        result.product = rule.product
        findings: list[Finding] = []
        holders = sorted(
            {holder.batch.pk: holder for holder in one.holders}.values(),
            key=lambda holder: holder.batch.sort_key,
        )
        if holders:
            findings += self._holder_findings(one, holders, serial)
        else:
            findings += self._missing_findings(one, serial)
        for plan_id, batch, defects in one.samples:
            findings.append(
                Finding(
                    S.FAILED_INSPECTION,
                    f"Found defective in the inspection sample of {batch.label}"
                    + (f": {defects}" if defects else "."),
                    self._inspection_url(plan_id, batch.pk),
                )
            )
        if not any(f.status != S.CLEAN for f in findings) and holders:
            holder = holders[-1]
            state = "accepted into the registry" if holder.accepted else "pending acceptance"
            findings.append(
                Finding(
                    S.CLEAN,
                    f"In the validated production list of {holder.batch.label} ({state}).",
                    self._url("serial-list-detail", holder.list_id),
                )
            )
        findings.sort(key=lambda f: RANK[f.status])
        result.findings = findings
        result.status = findings[0].status
        self._facts(result, one, holders)

    def _conclude_unknown(
        self, position: int, result: LookupResult, per_scope: list[_Found]
    ) -> None:
        """Nobody holds it: malformed for the rule that claimed it, or unknown."""
        fitting = sorted({one.scope.rule.pattern for one in per_scope if one.counter is not None})
        codes = [one.scope for one in per_scope if one.scope.engine_rule is None]
        malformed = [
            scope.malformed[position] for scope in self.scopes if position in scope.malformed
        ]
        if fitting:
            reason = f"{result.serial} fits {' and '.join(fitting)}, but no batch of yours used it."
        elif malformed:
            self._finish(result, S.MALFORMED, malformed[0], self._url("numbering-rules"))
            return
        elif codes and result.gtin:
            reason = f"No batch of yours used the code {result.serial} for {codes[0].rule.product}."
        elif codes:
            reason = (
                f"{result.serial} fits none of your numbering rules, and no batch of yours used "
                "it as an allocated code."
            )
        else:
            reason = f"{result.serial} fits none of your numbering rules."
        self._finish(result, S.UNKNOWN, reason, self._url("numbering-rules"))

    def _holder_findings(self, one: _Found, holders: list[_Holder], serial: str) -> list[Finding]:
        findings: list[Finding] = []
        rule = one.scope.engine_rule
        K = SerialException.Kind
        if len(holders) > 1:
            home = self._home(one, holders)
            reused = [
                e
                for holder in holders
                for e in self.exceptions.get(holder.list_id, [])
                if e.kind == K.REUSED
                and _covers(e, one.counter)
                and e.other_batch_id in {h.batch.pk for h in holders}
            ]
            first, later = holders[0], holders[1:]
            story = (
                f"Reused: {first.batch.label} used it first; "
                + ", ".join(h.batch.label for h in later)
                + " used it again"
            )
            url = self._url("batch-exceptions", home.batch.pk) + "?kind=reused"
            if reused and all(e.status == SerialException.Status.ACCEPTED for e in reused):
                findings.append(
                    Finding(S.ACCEPTED_EXCEPTION, f"{story}. {self._accepted(reused)}", url)
                )
            else:
                state = _states(reused) or "no exception recorded yet"
                findings.append(Finding(S.REUSED, f"{story} ({state}).", url))
        for holder in holders:
            for e in self.exceptions.get(holder.list_id, []):
                if e.kind == K.DUPLICATE and e.serial == serial:
                    lines = ", ".join(str(line) for line in (e.detail or {}).get("lines", [])[:10])
                    text = (
                        f"On {(e.detail or {}).get('rows', e.count)} rows of the list of "
                        f"{holder.batch.label}" + (f" (lines {lines})" if lines else "") + "."
                    )
                    url = (
                        self._url("serial-list-detail", holder.list_id)
                        + f"?show=duplicates&q={serial}"
                    )
                    findings.append(self._anomaly(S.DUPLICATED, text, url, [e]))
                elif e.kind == K.UNKNOWN and e.serial == serial:
                    text = f"Never allocated to {holder.batch.label}."
                    url = self._url("batch-exceptions", holder.batch.pk) + "?kind=unknown"
                    findings.append(self._anomaly(S.OUT_OF_RANGE, text, url, [e]))
            if (
                rule is not None
                and holder.expected is not None
                and not holder.expected[0] <= one.counter <= holder.expected[1]
            ):
                ranges = [
                    e for e in self.exceptions.get(holder.list_id, []) if e.kind == K.OUT_OF_RANGE
                ]
                lo, hi = holder.expected
                text = (
                    f"Outside the range expected for {holder.batch.label}: "
                    f"{rule.format(lo)} – {rule.format(hi)}."
                )
                url = self._url("batch-exceptions", holder.batch.pk) + "?kind=out_of_range"
                findings.append(self._anomaly(S.OUT_OF_RANGE, text, url, ranges))
        return findings

    def _missing_findings(self, one: _Found, serial: str) -> list[Finding]:
        """Nobody holds it. A missing range the buyer accepted (declared destroyed, say)
        explains it; other batches' unexplained ranges over it are said in the same finding,
        not as a status of their own. Without an accepted one, each range is an unknown."""
        findings: list[Finding] = []
        rule = one.scope.engine_rule

        def where(e: _Exception) -> str:
            span = f"{rule.format(e.lo)} – {rule.format(e.hi)}" if rule else ""
            return f"the missing range {span} of {e.batch.label}"

        destroyed = [e for e in one.missing if self._declared_destroyed(e)]
        for e in destroyed:
            answer = self.answers[e.pk]
            decided = (
                "the buyer accepted that"
                if e.status == SerialException.Status.ACCEPTED
                else _states([e])
            )
            findings.append(
                Finding(
                    S.DESTROYED,
                    f"Possible counterfeit: the supplier declared that no unit carries this "
                    f"serial ({answer.get_reason_display()}: “{_short(answer.note)}”), inside "
                    f"{where(e)}; {decided}. No unit should carry it: hold this one, honour no "
                    "warranty on it, and tell the buyer's quality team.",
                    self._url("batch-exceptions", e.batch.pk) + "?kind=missing",
                )
            )
        if destroyed:
            return findings
        accepted = [e for e in one.missing if e.status == SerialException.Status.ACCEPTED]
        others = [e for e in one.missing if e.status != SerialException.Status.ACCEPTED]
        for e in accepted:
            also = "".join(f" It also lies inside {where(o)} ({_states([o])})." for o in others)
            findings.append(
                Finding(
                    S.ACCEPTED_EXCEPTION,
                    f"Not in any production list: inside {where(e)}. {self._accepted([e])}{also}",
                    self._url("batch-exceptions", e.batch.pk) + "?kind=missing",
                )
            )
        if not accepted:
            for e in others:
                findings.append(
                    Finding(
                        S.UNKNOWN,
                        f"Not in any production list: inside {where(e)} ({_states([e])}).",
                        self._url("batch-exceptions", e.batch.pk) + "?kind=missing",
                    )
                )
        if not findings:
            kinds = sorted({kind for kind, *_ in one.placements})
            batch = one.placements[0][1]
            findings.append(
                Finding(
                    S.UNKNOWN,
                    f"Not in any batch's production list, though the {' and '.join(kinds)} "
                    f"list of {batch.label} names it.",
                    self._url("batch-detail", batch.pk),
                )
            )
        return findings

    def _declared_destroyed(self, exception: _Exception) -> bool:
        answer = self.answers.get(exception.pk)
        return answer is not None and answer.reason in NEVER_ON_A_UNIT

    def _anomaly(self, status: str, text: str, url: str, exceptions: list[_Exception]) -> Finding:
        """The anomaly, or the accepted exception that explains it."""
        if exceptions and all(e.status == SerialException.Status.ACCEPTED for e in exceptions):
            return Finding(S.ACCEPTED_EXCEPTION, f"{text} {self._accepted(exceptions)}", url)
        state = _states(exceptions)
        return Finding(status, f"{text[:-1]} ({state})." if state else text, url)

    def _accepted(self, exceptions: list[_Exception]) -> str:
        parts = []
        for e in exceptions:
            answer = self.answers.get(e.pk)
            if answer is None:
                parts.append("The buyer accepted it.")
            else:
                note = _short(answer.note)
                end = "" if note.endswith((".", "!", "?", "…")) else "."
                parts.append(
                    f"The buyer accepted the supplier's reason: {answer.get_reason_display()} — "
                    f"“{note}{end}”"
                )
        return " ".join(dict.fromkeys(parts))

    def _home(self, one: _Found, holders: list[_Holder]) -> _Holder:
        """The batch the unit most likely came from: one whose distribution list shipped it
        (the latest shipment), else the newest batch holding it."""
        shipped = {
            batch.pk: shipped_on or dt.date.min
            for kind, batch, _, _, _, shipped_on in one.placements
            if kind == SerialList.Kind.DISTRIBUTION
        }
        candidates = [holder for holder in holders if holder.batch.pk in shipped]
        if candidates:
            return max(candidates, key=lambda h: (shipped[h.batch.pk], h.batch.sort_key))
        return holders[-1]

    def _facts(self, result: LookupResult, one: _Found, holders: list[_Holder]) -> None:
        if holders:
            home = self._home(one, holders)
            batch, list_id, result.registered = home.batch, home.list_id, home.accepted
        elif one.missing:
            accepted = [e for e in one.missing if e.status == SerialException.Status.ACCEPTED]
            exception = (accepted or one.missing)[0]
            batch, list_id = exception.batch, exception.serial_list_id
        else:
            batch, list_id = one.placements[0][1], one.placements[0][2]
        result.order_number, result.batch_code = batch.order_number, batch.code
        result.order_url = self._url("order-detail", batch.order_id)
        result.batch_url = self._url("batch-detail", batch.pk)
        result.report_url = self._url("serial-list-detail", list_id)
        mine = {
            kind: (carton, customer, shipped_on)
            for kind, b, _, carton, customer, shipped_on in one.placements
            if b.pk == batch.pk
        }
        carton = (
            mine.get(SerialList.Kind.CARTON, ("", "", None))[0]
            or mine.get(SerialList.Kind.PRODUCTION, ("", "", None))[0]
        )
        _, customer, shipped_on = mine.get(SerialList.Kind.DISTRIBUTION, ("", "", None))
        result.carton, result.customer_reference = carton, customer
        result.shipped_on = shipped_on or mine.get(SerialList.Kind.CARTON, ("", "", None))[2]
        if result.status == S.DESTROYED:
            return  # no warranty for a unit that should not exist
        result.warranty_months = one.scope.rule.warranty_months
        result.warranty_end = warranty_end(result.shipped_on, result.warranty_months)

    # -- small helpers

    def _batches_of(self, found: _Found) -> list[_Batch]:
        batches = [holder.batch for holder in found.holders]
        batches += [placement[1] for placement in found.placements]
        batches += [e.batch for e in found.missing]
        return batches

    def _finish(self, result: LookupResult, status: str, reason: str, url: str) -> None:
        result.findings = [Finding(status, reason, url)]
        result.status = str(status)

    def _url(self, name: str, pk: int | None = None) -> str:
        key = (name, pk or 0)
        url = self.urls.get(key)
        if url is None:
            url = self.urls[key] = reverse(name, args=[pk] if pk is not None else [])
        return url

    def _inspection_url(self, plan_id: int, batch_id: int) -> str:
        try:
            return self._url("inspection-detail", plan_id)
        except NoReverseMatch:  # inspection pages arrive separately
            return self._url("batch-detail", batch_id)


def _short(note: str) -> str:
    return note if len(note) <= 160 else note[:159] + "…"


def _wide(scope: _Scope) -> bool:
    return scope.engine_rule is not None and scope.engine_rule.width > 18


def _covers(exception: _Exception, counter: int | None) -> bool:
    if exception.lo is None or counter is None:
        return True  # allocated codes: reuse is recorded per other batch, not per range
    return exception.lo <= counter <= exception.hi


def _states(exceptions: list[_Exception]) -> str:
    labels = {
        SerialException.Status.OPEN: "exception open",
        SerialException.Status.ANSWERED: "answered, waiting for the buyer",
        SerialException.Status.REJECTED: "the buyer rejected the explanation",
        SerialException.Status.ACCEPTED: "accepted",
    }
    return "; ".join(dict.fromkeys(labels[e.status] for e in exceptions))


# ---------------------------------------------------------------- reading pasted and uploaded lists

BULK_FILE_MAX_BYTES = 32 * 1024 * 1024  # 100,000 Digital Link URLs fit several times over
INPUT_HEADERS = frozenset({"serial", "serial_number", "serial no", "serial_no", "sn", "input"})
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # not str.splitlines: it also splits at GS (\x1d)


def lookup_texts_from_text(text: str) -> list[str]:
    """The inputs of pasted text: one per non-blank line. When the first line is a CSV header
    naming a serial column (``serial``, ``sn``, ``input``...), that column of each row."""
    lines = _LINE_BREAK.split(text)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return []
    try:
        header = next(csv.reader([lines[first]]))
    except csv.Error:
        header = []
    column = next(
        (i for i, cell in enumerate(header) if cell.strip().lower() in INPUT_HEADERS), None
    )
    if column is None:
        return [line.strip() for line in lines[first:] if line.strip()]
    body = "\n".join(lines[first + 1 :])
    rows = csv.reader(io.StringIO(body, newline=""))
    try:
        cells = [row[column].strip() if len(row) > column else "" for row in rows]
    except csv.Error as exc:
        raise ValidationError(f"Line {first + 1 + rows.line_num}: not valid CSV ({exc}).") from None
    return [cell for cell in cells if cell]


def lookup_texts_from_upload(name: str, data: bytes) -> list[str]:
    """The inputs of an uploaded CSV or TXT file; ValidationError naming the file otherwise."""
    name = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:120] or "upload"
    if not data:
        raise ValidationError(f"{name} is empty.")
    if len(data) > BULK_FILE_MAX_BYTES:
        raise ValidationError(
            f"{name} is {len(data) / 1e6:.0f} MB; a bulk lookup file may have at most "
            f"{BULK_FILE_MAX_BYTES / 1e6:.0f} MB."
        )
    if data.startswith(b"PK\x03\x04"):
        raise ValidationError(
            f"{name} is a spreadsheet or ZIP archive: save the serials as CSV or TXT."
        )
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{name} is not a text file (CSV or TXT in UTF-8).") from None
    if "\x00" in text:
        raise ValidationError(f"{name} holds binary data, not a list of serials.")
    return lookup_texts_from_text(text)
