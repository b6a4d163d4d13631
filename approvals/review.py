"""The review frame of a batch: every record a buyer weighs, side by side, and a first draft of
the one sentence that decides it.

Reads only. Each part comes from the app that owns it (orders for the terms and the approved
sample, evidence for the files and the supplier's statement, serials for the exceptions,
inspection for the sample's result, approvals for the money); this module only lays them out
and proposes the decision the facts point to. The buyer writes the decision; nothing here
signs or changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from approvals.models import Approval
from approvals.money import GateMoney, gates_money
from evidence.models import EvidenceItem, EvidenceRequest, Statement
from evidence.selectors import DiffPart, Flag, batch_evidence_summary, statement_history
from inspection.models import InspectionPlan
from inspection.selectors import Outcome, plan_outcome
from orders.models import Batch
from orders.promises import Promise, promises_split
from orders.samples import approved_sample_for
from portal.models import User
from serials.exception_models import SerialException
from serials.selectors import batch_serial_status, current_exceptions, latest_production_list
from serials.states import BatchSerialStatus

SENTENCE_LIMIT = 300  # Approval.sentence's length


@dataclass(frozen=True)
class StatementView:
    """The supplier's newest statement on the batch, and what changed since the buyer last
    reviewed one (None: nothing reviewed yet, or the newest is the reviewed one)."""

    asked: EvidenceRequest
    latest: Statement | None
    last_reviewed: Statement | None
    diff: list[DiffPart] | None


@dataclass(frozen=True)
class Proposal:
    """The decision the facts point to, a first draft of its sentence, and why."""

    decision: str
    sentence: str
    conditions: list[str]
    reasons: list[str]


@dataclass
class Review:
    batch: Batch
    sample: Any  # orders.ApprovedSample or None
    serial_status: BatchSerialStatus
    serials: int | None  # distinct serials of the latest production list
    exceptions: list[SerialException]
    evidence_current: list[tuple[EvidenceItem, list[Flag]]]
    evidence_context: list[tuple[EvidenceItem, list[Flag]]]
    missing_kinds: list[Any]
    statement: StatementView | None
    plan: InspectionPlan | None
    outcome: Outcome | None
    inspector_checks: str
    gates: list[GateMoney]
    current: Approval | None
    # Promises already named on this batch (its requests, exception reviews and the approval
    # in force), in Promise's order: where the draft starts.
    promises: list[Promise]
    proposal: Proposal = field(init=False)

    def __post_init__(self) -> None:
        self.proposal = _proposal(self)

    @property
    def exceptions_undecided(self) -> list[SerialException]:
        return [found for found in self.exceptions if found.status in SerialException.UNDECIDED]

    @property
    def exceptions_rejected(self) -> list[SerialException]:
        return [f for f in self.exceptions if f.status == SerialException.Status.REJECTED]


def batch_review(batch: Batch, viewer: User | AnonymousUser) -> Review:
    """Everything the buyer weighs before deciding on ``batch`` (the caller has checked that
    the viewer may see the batch and review it)."""
    summary = batch_evidence_summary(batch, viewer)
    items: list[tuple[EvidenceItem, list[Flag]]] = summary["items"]  # type: ignore[assignment]
    plan = batch.inspection_plans.order_by("-id").first()
    serial_list = latest_production_list(batch)
    report = serial_list.validation_report if serial_list else None
    order = batch.order
    gates = order.gates.filter(Q(batch=batch) | Q(batch__isnull=True)).order_by("due_date", "id")
    current = order.approvals.filter(batch=batch).order_by("-id").first()
    exceptions = list(
        current_exceptions(batch).prefetch_related("answers", "decisions").order_by("id")
    )
    return Review(
        batch=batch,
        sample=approved_sample_for(batch),
        serial_status=batch_serial_status(batch),
        serials=report.unique if report is not None else None,
        exceptions=exceptions,
        evidence_current=[(item, flags) for item, flags in items if not flags],
        evidence_context=[(item, flags) for item, flags in items if flags],
        missing_kinds=list(summary["missing_kinds"]),  # type: ignore[call-overload]
        statement=_statement(batch),
        plan=plan,
        outcome=plan_outcome(plan) if plan else None,
        inspector_checks=current.inspector_checks if current else "",
        gates=gates_money(gates),
        current=current,
        promises=_promises_named(batch, exceptions, current),
    )


def _promises_named(
    batch: Batch, exceptions: list[SerialException], current: Approval | None
) -> list[Promise]:
    stored = [asked.promises for asked in batch.evidence_requests.all()]
    stored += [decision.promises for found in exceptions for decision in found.decisions.all()]
    if current is not None:
        stored.append(current.promises)
    named = {promise for value in stored for promise in promises_split(value)}
    return [promise for promise in Promise if promise in named]


def _statement(batch: Batch) -> StatementView | None:
    asked = batch.evidence_requests.filter(statements__isnull=False).order_by("-id").first()
    if asked is None:
        asked = batch.evidence_requests.order_by("-id").first()
    if asked is None:
        return None
    latest, last_reviewed, diff = statement_history(asked)
    return StatementView(asked, latest, last_reviewed, diff)


def _count(number: int) -> str:
    return number_format(number, force_grouping=True)


def _proposal(review: Review) -> Proposal:
    """Rejected when something was found wrong; accepted with conditions when something is
    still open; accepted when everything stands."""
    batch, order = review.batch, review.batch.order
    reasons: list[str] = []
    if review.exceptions_rejected:
        count = len(review.exceptions_rejected)
        reasons.append(
            ngettext(
                "%(count)s exception was rejected",
                "%(count)s exceptions were rejected",
                count,
            )
            % {"count": _count(count)}
        )
    if review.outcome is not None and review.outcome.state == "failed":
        reasons.append(
            gettext("the inspection failed (%(defective)s defective in a sample of %(size)s)")
            % {
                "defective": _count(review.outcome.defective),
                "size": _count(review.outcome.sample_size),
            }
        )
    if reasons:
        sentence = gettext("Batch %(batch)s of PO %(order)s is rejected: %(reasons)s.") % {
            "batch": batch.code,
            "order": order.number,
            "reasons": "; ".join(reasons),
        }
        return Proposal(Approval.Decision.REJECTED, _fit(sentence), [], reasons)
    conditions = _conditions(review)
    if conditions:
        sentence = gettext(
            "Batch %(batch)s of PO %(order)s is accepted on condition that %(conditions)s."
        ) % {"batch": batch.code, "order": order.number, "conditions": "; ".join(conditions)}
        return Proposal(Approval.Decision.ACCEPTED_WITH_CONDITIONS, _fit(sentence), conditions, [])
    sentence = gettext(
        "Batch %(batch)s of PO %(order)s is accepted: %(serials)s serials as listed, every "
        "exception explained and accepted."
    ) % {"batch": batch.code, "order": order.number, "serials": _count(review.serials or 0)}
    return Proposal(Approval.Decision.ACCEPTED, _fit(sentence), [], [])


def _conditions(review: Review) -> list[str]:
    conditions: list[str] = []
    if review.serials is None:
        conditions.append(gettext("the supplier uploads the batch's serial list"))
    if undecided := len(review.exceptions_undecided):
        conditions.append(
            ngettext(
                "%(count)s open exception is explained and decided",
                "%(count)s open exceptions are explained and decided",
                undecided,
            )
            % {"count": _count(undecided)}
        )
    if context := len(review.evidence_context):
        conditions.append(
            ngettext(
                "current evidence replaces %(count)s file kept as context only",
                "current evidence replaces %(count)s files kept as context only",
                context,
            )
            % {"count": _count(context)}
        )
    if review.missing_kinds:
        conditions.append(
            gettext("the supplier sends the missing evidence (%(kinds)s)")
            % {"kinds": ", ".join(str(req.get_kind_display()) for req in review.missing_kinds)}
        )
    if review.outcome is None:
        conditions.append(gettext("the inspection samples the batch and passes"))
    elif review.outcome.state in ("in_progress", "blocked"):
        conditions.append(gettext("the inspection is completed and passes"))
    return conditions


def _fit(sentence: str) -> str:
    if len(sentence) <= SENTENCE_LIMIT:
        return sentence
    return sentence[: SENTENCE_LIMIT - 1].rstrip(" ;,") + "…"
