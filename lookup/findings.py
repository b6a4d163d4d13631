"""Concluding a lookup: from what ``lookup.query`` read about one input to its findings, every
status that applies with its reason and the page showing it, sorted in the precedence
``lookup.results`` explains, and the facts of the unit (order, batch, carton, customer, shipment,
warranty end)."""

from __future__ import annotations

import datetime as dt
import functools

from django.urls import NoReverseMatch

from lookup.life import LIFE_LINE_LIMIT, life_findings, life_line, life_rows_attach
from lookup.query import BatchRow, ExceptionRow, Found, Holder, LookupQuery
from lookup.results import NEVER_ON_A_UNIT, RANK, Finding, Links, LookupResult, warranty_end
from lookup.results import LookupStatus as S
from serials.models import SerialException, SerialList


class Conclusions:
    """The findings and facts of each input the query searched; inputs settled earlier (an
    unreadable text, a GTIN without a rule) are not concluded again. The recorded life events
    are read first (``lookup.life``); the composed life line only for a few inputs."""

    def __init__(self, query: LookupQuery, links: Links) -> None:
        life_rows_attach(query)
        self.found, self.scopes = query.found, query.scopes
        self.exceptions, self.answers = query.exceptions, query.answers
        self.links, self._url = links, links.url
        self.compose_life = len(query.results) <= LIFE_LINE_LIMIT

    def conclude(self, position: int, result: LookupResult) -> None:
        per_scope = self.found.get(position, [])
        known = [one for one in per_scope if one.known]
        if not known:
            self._conclude_unknown(position, result, per_scope)
            return
        # A plain serial that fits several products' rules: the product whose newest batch
        # knows it answers.
        # A serial destroyed or decommissioned in one of them answers whatever the others say
        # (the loudest status; a product written two ways must not hide it).
        one = known[0]
        if len(known) > 1:
            one = max(
                known,
                key=lambda f: (
                    any(row.is_final for row in f.life),
                    max(b.sort_key for b in self._batches_of(f)),
                ),
            )
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
        compose = functools.partial(
            life_line, one, holders, self._life_home(one, holders), self.links
        )
        if any(row.is_final for row in one.life):  # where it turned up again: read it now
            result.composed_life = compose() if self.compose_life else []
        elif self.compose_life:
            result.life_composer = compose
        findings += life_findings(one, result.composed_life or [], self.links)
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
        self, position: int, result: LookupResult, per_scope: list[Found]
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
            result.conclude(S.MALFORMED, malformed[0], self._url("numbering-rules"))
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
        result.conclude(S.UNKNOWN, reason, self._url("numbering-rules"))

    def _holder_findings(self, one: Found, holders: list[Holder], serial: str) -> list[Finding]:
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
                and one.counter is not None  # always, under a sequential rule
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

    def _missing_findings(self, one: Found, serial: str) -> list[Finding]:
        """Nobody holds it. A missing range the buyer accepted (declared destroyed, say)
        explains it; other batches' unexplained ranges over it are said in the same finding,
        not as a status of their own. Without an accepted one, each range is an unknown."""
        findings: list[Finding] = []
        rule = one.scope.engine_rule

        def where(e: ExceptionRow) -> str:
            span = ""  # a sequential rule's missing ranges have both bounds
            if rule and e.lo is not None and e.hi is not None:
                span = f"{rule.format(e.lo)} – {rule.format(e.hi)}"
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
        if not findings and one.placements:
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

    def _declared_destroyed(self, exception: ExceptionRow) -> bool:
        answer = self.answers.get(exception.pk)
        return answer is not None and answer.reason in NEVER_ON_A_UNIT

    def _anomaly(self, status: str, text: str, url: str, exceptions: list[ExceptionRow]) -> Finding:
        """The anomaly, or the accepted exception that explains it."""
        if exceptions and all(e.status == SerialException.Status.ACCEPTED for e in exceptions):
            return Finding(S.ACCEPTED_EXCEPTION, f"{text} {self._accepted(exceptions)}", url)
        state = _states(exceptions)
        return Finding(status, f"{text[:-1]} ({state})." if state else text, url)

    def _accepted(self, exceptions: list[ExceptionRow]) -> str:
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

    def _home(self, one: Found, holders: list[Holder]) -> Holder:
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

    def _facts(self, result: LookupResult, one: Found, holders: list[Holder]) -> None:
        if holders:
            home = self._home(one, holders)
            batch, list_id, result.registered = home.batch, home.list_id, home.accepted
        elif one.missing:
            accepted = [e for e in one.missing if e.status == SerialException.Status.ACCEPTED]
            exception = (accepted or one.missing)[0]
            batch, list_id = exception.batch, exception.serial_list_id
        elif one.placements:
            batch, list_id = one.placements[0][1], one.placements[0][2]
        else:  # known only by a recorded life event: no list of it speaks
            batch, list_id = one.life[0].batch, None
        result.order_number, result.batch_code = batch.order_number, batch.code
        result.order_url = self._url("order-detail", batch.order_id)
        result.batch_url = self._url("batch-detail", batch.pk)
        result.life_url = self._url("batch-serial-life", batch.pk)
        if list_id is not None:
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

    def _batches_of(self, found: Found) -> list[BatchRow]:
        batches = [holder.batch for holder in found.holders]
        batches += [placement[1] for placement in found.placements]
        batches += [e.batch for e in found.missing]
        batches += [row.batch for row in found.life]
        return batches

    def _life_home(self, one: Found, holders: list[Holder]) -> BatchRow | None:
        """The batch whose allocation the life line starts from."""
        if holders:
            return self._home(one, holders).batch
        if one.missing:
            return one.missing[0].batch
        return one.placements[0][1] if one.placements else None

    def _inspection_url(self, plan_id: int, batch_id: int) -> str:
        try:
            return self._url("inspection-detail", plan_id)
        except NoReverseMatch:  # inspection pages arrive separately
            return self._url("batch-detail", batch_id)


def _short(note: str) -> str:
    return note if len(note) <= 160 else note[:159] + "…"


def _covers(exception: ExceptionRow, counter: int | None) -> bool:
    if exception.lo is None or exception.hi is None or counter is None:
        return True  # allocated codes: reuse is recorded per other batch, not per range
    return exception.lo <= counter <= exception.hi


def _states(exceptions: list[ExceptionRow]) -> str:
    labels: dict[str, str] = {
        SerialException.Status.OPEN: "exception open",
        SerialException.Status.ANSWERED: "answered, waiting for the buyer",
        SerialException.Status.REJECTED: "the buyer rejected the explanation",
        SerialException.Status.ACCEPTED: "accepted",
    }
    return "; ".join(dict.fromkeys(labels[e.status] for e in exceptions))
