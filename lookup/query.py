"""A lookup's reads: the buyer's numbering rules, and per product scope the lists that speak, the
registry's runs or codes, the exceptions, the placements, the inspection samples and the ids of
recorded life events concerning the inputs, matched to them with NumPy. Says nothing yet;
``lookup.findings`` concludes. Plain SQL on purpose: a single lookup must cost a few
milliseconds, and compiling joins through the ORM, planning them, and each round trip cost more
than reading the rows. One join per scope finds the lists that speak, in the caller's visible
orders (the SQL of ``orders_visible_to``); one UNION ALL per chunk of serials then reads each
kind of row through its own index; only rows of the lists that speak are kept. The f-strings
hold only constants and %s placeholders, never a value: hence the noqa: S608."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from lookup.inputs import Scope, scope_classify
from lookup.results import Links, LookupResult
from lookup.results import LookupStatus as S
from orders.gtin import gtin14
from orders.selectors import orders_visible_to
from portal.models import User
from serials.models import ExceptionAnswer, NumberingRule, SerialException, SerialList

# Serials per IN (...) query: well under SQLite's variable limit, few round trips on PostgreSQL.
CHUNK = 5000
LIFE_SQL = """SELECT 'l', NULL, id, NULL, NULL, NULL, NULL, NULL, NULL, NULL
                FROM serials_seriallifeevent WHERE scope = %s AND """  # life events' ids


@dataclass(slots=True)
class BatchRow:
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
class Holder:
    batch: BatchRow
    list_id: int
    accepted: bool
    expected: tuple[int, int] | None


@dataclass(slots=True)
class Found:
    """What the registry and the records say about one input in one scope."""

    scope: Scope
    counter: int | None
    holders: list[Holder] = field(default_factory=list)
    missing: list[ExceptionRow] = field(default_factory=list)
    placements: list[tuple[str, BatchRow, int, str, str, dt.date | None]] = field(
        default_factory=list
    )  # kind, batch, list id, carton, customer, shipped_on
    samples: list[tuple[int, BatchRow, str]] = field(default_factory=list)  # plan, batch, defects
    sampled: list[tuple[int, BatchRow]] = field(default_factory=list)  # every sample: plan, batch
    life: list[Any] = field(default_factory=list)  # lookup.life.LifeRow (it reads this module)

    @property
    def known(self) -> bool:
        return bool(self.holders or self.missing or self.placements or self.life)


@dataclass(slots=True)
class ExceptionRow:
    """The columns of a SerialException the lookup reads."""

    pk: int
    serial_list_id: int
    batch: BatchRow
    kind: str
    status: str
    lo: int | None = None
    hi: int | None = None
    serial: str = ""
    count: int = 1
    detail: dict[str, Any] = field(default_factory=dict)
    other_batch_id: int | None = None


@dataclass(slots=True)
class Lists:
    """The lists that speak in one scope (the newest validated one of each kind per batch)."""

    speaking: dict[int, BatchRow] = field(default_factory=dict)  # list id -> its batch
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


def _wide(scope: Scope) -> bool:
    return scope.engine_rule is not None and scope.engine_rule.width > 18


class LookupQuery:
    """What the records say about a lookup's inputs: ``found`` per input position (one entry
    per product scope it was searched in), ``exceptions`` by list id and the supplier's
    ``answers`` by exception id."""

    def __init__(
        self,
        *,
        user: User | AnonymousUser,
        buyer_id: int,
        results: list[LookupResult],
        links: Links,
    ) -> None:
        self.buyer_id, self.results, self._url, self.user = buyer_id, results, links.url, user
        # The one scoping rule, as SQL for the statements below.
        visible = orders_visible_to(user).order_by().values("pk").query.sql_with_params()
        self.visible_sql, self.visible_params = visible[0], list(visible[1])
        self.batches: dict[int, BatchRow] = {}
        self.found: dict[int, list[Found]] = defaultdict(list)  # position -> per scope
        self.exceptions: dict[int, list[ExceptionRow]] = defaultdict(list)  # by list id
        self.answers: dict[int, ExceptionAnswer] = {}
        self.scopes: list[Scope] = []
        self.life_ids: set[int] = set()  # recorded life events over the inputs

    def run(self) -> None:
        """Fit the pending inputs to the buyer's rules, search each scope, load the answers."""
        self.scopes = self._match_rules()
        for scope in self.scopes:
            if scope.positions:
                self._search(scope)
        self._load_answers()

    def _match_rules(self) -> list[Scope]:
        rules = list(
            NumberingRule.objects.raw(  # cheaper to build than a filtered queryset
                "SELECT * FROM serials_numberingrule WHERE buyer_id = %s ORDER BY product",
                [self.buyer_id],
            )
        )
        scopes = [
            Scope(
                rule=rule,
                key=f"{self.buyer_id}:{rule.product}",
                engine_rule=None if rule.uses_codes else rule.as_engine_rule(),
            )
            for rule in rules
        ]
        by_gtin: dict[str, list[Scope]] = defaultdict(list)
        for scope in scopes:
            if gtin14(scope.rule.product):
                by_gtin[gtin14(scope.rule.product)].append(scope)
        # Which scopes each pending input is tried in.
        tries: dict[int, list[Scope]] = {}
        for position, result in enumerate(self.results):
            if result.findings:
                continue
            if result.gtin:
                tries[position] = by_gtin.get(result.gtin, [])
                if not tries[position]:
                    result.conclude(
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
            scope_classify(scope, self.results, members)
        return scopes

    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _scope_lists(self, scope: Scope) -> Lists:
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
        lists = Lists()
        newest: dict[tuple[int, str], tuple[Any, ...]] = {}
        for row in rows:
            key = (row[4], row[1])
            if key not in newest or row[0] > newest[key][0]:
                newest[key] = row
        for (batch_id, kind), row in newest.items():
            batch = self.batches.get(batch_id)
            if batch is None:
                order_date = _day(row[8])
                assert order_date is not None  # an order's date is a required column
                batch = self.batches[batch_id] = BatchRow(
                    batch_id, row[5], row[6], row[7], order_date
                )
            lists.speaking[row[0]] = batch
            lists.kind[row[0]] = kind
            if kind == SerialList.Kind.PRODUCTION:
                lists.production[batch_id] = row[0]
                if row[2] is not None:
                    lists.expected[row[0]] = (int(row[2]), int(row[3]))
        return lists

    def _search(self, scope: Scope) -> None:
        lists = self._scope_lists(scope)
        if not lists.speaking:
            return  # no validated list: only a recorded life event may be known (lookup.life)
        sequential = scope.engine_rule is not None
        counter_of: Sequence[int | None] = scope.counters
        if not sequential:
            counter_of = [None] * len(scope.positions)
        found = {p: Found(scope, c) for p, c in zip(scope.positions, counter_of, strict=True)}
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
                if tag == "l":  # a recorded life event's id; it names no list: skipped below
                    self.life_ids.add(int(a))
                batch = lists.speaking.get(list_id)
                if batch is None:
                    continue  # an older list of its kind: history, not what the batch says now
                if tag == "r":
                    runs[list_id].append((int(a), int(b), bool(c)))
                elif tag == "c":
                    holder = Holder(batch, list_id, bool(c), None)
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
                    holder = Holder(batch, list_id, accepted, expected)
                    found[int(positions[k])].holders.append(holder)
        self._search_exceptions(scope, lists, found, positions_of)
        if units:
            self._sample_results(units, lists, positions_of, found)
        for position, one in found.items():
            self.found[position].append(one)

    def _records(
        self, scope: Scope, lists: Lists, chunk: list[str], first: bool
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
            # Accepted runs (nearly all of a big registry) are found through their counters as
            # a range, on PostgreSQL by the GiST index of the constraint that keeps them from
            # overlapping (serials 0001): the btree on (scope, lo, hi) bounds only ``lo``, and
            # a scope of 100 million serials has tens of thousands of runs below any one.
            # Pending runs (lists not yet accepted) are few; the btree finds them.
            accepted = (
                "accepted AND int8range(lo, hi, '[]') && int8range(%s, %s, '[]')"
                if connection.vendor == "postgresql"
                else "accepted AND hi >= %s AND lo <= %s"
            )
            parts.append(
                f"""SELECT 'r', serial_list_id, lo, hi, 1, NULL, NULL, NULL, NULL, NULL
                   FROM serials_serialrun WHERE scope = %s AND {accepted}"""  # noqa: S608
            )
            params += [scope.key, int(min(scope.counters)), int(max(scope.counters))]
            parts.append(
                """SELECT 'r', serial_list_id, lo, hi, 0, NULL, NULL, NULL, NULL, NULL
                   FROM serials_serialrun
                   WHERE scope = %s AND NOT accepted AND hi >= %s AND lo <= %s"""
            )
            params += [scope.key, int(min(scope.counters)), int(max(scope.counters))]
            parts.append(LIFE_SQL + "counter_lo <= %s AND counter_hi >= %s")
            params += [scope.key, int(max(scope.counters)), int(min(scope.counters))]
        if scope.engine_rule is None:
            parts.append(
                f"""SELECT 'c', serial_list_id, NULL, NULL, CASE WHEN accepted THEN 1 ELSE 0 END,
                           NULL, NULL, NULL, code, NULL
                    FROM serials_serialcode WHERE scope = %s AND code IN ({marks})"""  # noqa: S608
            )
            params += [scope.key, *chunk]
            parts.append(LIFE_SQL + f"code IN ({marks})")
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
        scope: Scope,
        lists: Lists,
        found: dict[int, Found],
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
        missing: dict[int, list[ExceptionRow]] = defaultdict(list)
        for pk, list_id, kind, status, lo, hi, serial, count, detail, other_batch_id in rows:
            if isinstance(detail, str):  # SQLite hands JSON back as text
                detail = json.loads(detail)
            exception = ExceptionRow(
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
        lists: Lists,
        positions_of: dict[str, list[int]],
        found: dict[int, Found],
    ) -> None:
        """Every sample drawing an input; the newest result per unit (defective: failed)."""
        batches = {batch.pk: batch for batch in lists.speaking.values()}
        for serial, plan_id, batch_id in units.values():
            for position in positions_of[serial]:
                found[position].sampled.append((plan_id, batches[batch_id]))
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
