"""What each promise under test (``orders.promises``) asks an approval to look at, and which
gates it covers: the two tables the signing form and the signing service read.

``PROPOSALS``: for each promise, the kinds of pin (``ApprovalPin.Kind``, filled by the registry
in ``portal.registries``) and, for evidence, the kinds of evidence (``EvidenceKind``) the form
proposes to pin, and what to read beside them that cannot be pinned. A candidate is proposed
when any promise ticked proposes it. The payment leverage proposes no pin of its own: what it
tests is the gates (proposed by the table below) and the payments through them.

``GATE_PROMISES``: for each kind of gate, the promises whose review may open it. An approval
that opens a gate none of its promises covers must say why, in writing (``gate_reason``):

- deposit, balance and extra fee move money, and only a review of the payment leverage tests
  what that money is paid against;
- a shipment release lets the goods leave: it is covered by shipment evidence (what leaves is
  what the lists say) and by product identity (what leaves is the approved product, labelled
  as approved) — either is a review of the goods themselves. Capacity and process control are
  not: a factory can make the quantity, or follow its process, and still ship the wrong thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from approvals.models import ApprovalPin, Gate
from evidence.models import EvidenceItem, EvidenceKind
from orders.promises import Promise, promises_split

PIN = ApprovalPin.Kind


@dataclass(frozen=True)
class Proposal:
    """What the signing form proposes to pin for one promise."""

    pins: frozenset[str]  # every candidate of these pin kinds (but evidence: see below)
    evidence: frozenset[str]  # evidence candidates of these kinds
    also: Any  # what to read beside them that is not pinned (a sentence)


PROPOSALS: dict[str, Proposal] = {
    Promise.CAPACITY: Proposal(
        pins=frozenset({PIN.SERIAL_LIST}),
        evidence=frozenset(
            {EvidenceKind.PROCESS_RECORD, EvidenceKind.TEST_VALUES, EvidenceKind.WAREHOUSE_NOTE}
        ),
        also=_("the batch's production dates against the quantity declared"),
    ),
    Promise.IDENTITY: Proposal(
        pins=frozenset({PIN.SAMPLE, PIN.SERIAL_LIST}),
        evidence=frozenset({EvidenceKind.PHOTO, EvidenceKind.LABEL_PRINT}),
        also=_("the approved sample's label layout beside the label photos"),
    ),
    Promise.PROCESS: Proposal(
        pins=frozenset({PIN.STATEMENT, PIN.EXCEPTION, PIN.INSPECTION}),
        evidence=frozenset({EvidenceKind.PROCESS_RECORD}),
        also=_("the responsibility map: who prints, assigns and verifies the serials"),
    ),
    Promise.SHIPMENT: Proposal(
        pins=frozenset({PIN.INSPECTION, PIN.SERIAL_LIST}),
        evidence=frozenset({EvidenceKind.SHIPMENT_DOCUMENT, EvidenceKind.WAREHOUSE_NOTE}),
        also=_("the carton lists against the inspector's carton scans"),
    ),
    Promise.PAYMENT: Proposal(
        pins=frozenset(),
        evidence=frozenset(),
        also=_("the payment schedule and any payment made while a gate was blocked"),
    ),
}

GATE_PROMISES: dict[str, frozenset[str]] = {
    Gate.Kind.DEPOSIT: frozenset({Promise.PAYMENT}),
    Gate.Kind.BALANCE: frozenset({Promise.PAYMENT}),
    Gate.Kind.EXTRA_FEE: frozenset({Promise.PAYMENT}),
    Gate.Kind.SHIPMENT_RELEASE: frozenset({Promise.SHIPMENT, Promise.IDENTITY}),
}


def uncovered_gates(promises: str | Iterable[str], gates: Iterable[Gate]) -> list[Gate]:
    """The gates whose kind none of these promises covers: opening them needs a written
    reason."""
    named = set(promises_split(promises) if isinstance(promises, str) else promises)
    return [gate for gate in gates if not GATE_PROMISES.get(gate.kind, frozenset()) & named]


def candidate_promises(values: Iterable[str]) -> dict[str, list[str]]:
    """For each pin candidate ("kind:id"), the promises that propose it (reads the evidence
    candidates' kinds in one query)."""
    values = list(values)
    evidence_ids = [
        int(value.split(":")[1]) for value in values if value.startswith(f"{PIN.EVIDENCE}:")
    ]
    kinds = dict(
        EvidenceItem.objects.filter(pk__in=evidence_ids).values_list("pk", "kind")
        if evidence_ids
        else []
    )
    found: dict[str, list[str]] = {}
    for value in values:
        kind, _sep, raw = value.partition(":")
        proposed_by = []
        for promise, proposal in PROPOSALS.items():
            if kind == PIN.EVIDENCE:
                if kinds.get(int(raw)) in proposal.evidence:
                    proposed_by.append(str(promise))
            elif kind in proposal.pins:
                proposed_by.append(str(promise))
        found[value] = proposed_by
    return found


def gate_promises(gates: Iterable[Gate]) -> dict[int, list[str]]:
    """For each gate, the promises that cover it (the form proposes it for them)."""
    return {
        gate.pk: [p for p in Promise.values if p in GATE_PROMISES.get(gate.kind, frozenset())]
        for gate in gates
    }
