"""Scoped reads for inspections, each plan's outcome, and carton reconciliation."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from inspection.labels import label_parse
from inspection.layout import problems_in_words
from inspection.models import InspectionPlan, LayoutCheck, SampledUnit, UnitResult
from orders.models import Batch
from orders.selectors import batches_visible_to
from portal.models import User
from portal.roles import can_see_inspections
from serials.models import SerialPlacement


def plans_visible_to(user: User | AnonymousUser) -> QuerySet[InspectionPlan]:
    if not can_see_inspections(user):
        return InspectionPlan.objects.none()
    return InspectionPlan.objects.filter(batch__in=batches_visible_to(user))


def plan_for(user: User | AnonymousUser, pk: int) -> InspectionPlan:
    return get_object_or_404(
        plans_visible_to(user).select_related("batch__order", "serial_list"), pk=pk
    )


def unit_for(user: User | AnonymousUser, pk: int) -> SampledUnit:
    return get_object_or_404(
        SampledUnit.objects.filter(plan__in=plans_visible_to(user)).select_related(
            "plan__batch__order"
        ),
        pk=pk,
    )


def inspection_batch_for(user: User | AnonymousUser, pk: int) -> Batch:
    """A batch whose inspections the caller may see; anyone else gets 404, as for a foreign id."""
    if not can_see_inspections(user):
        raise Http404("No such batch.")
    return get_object_or_404(batches_visible_to(user).select_related("order"), pk=pk)


def carton_list_of(batch: Batch) -> int | None:
    """The newest validated list of the batch that names cartons (its id), if any."""
    return (
        SerialPlacement.objects.filter(batch=batch)
        .exclude(carton="")
        .order_by("-serial_list_id")
        .values_list("serial_list_id", flat=True)
        .first()
    )


def cartons_in(serial_list_id: int | None) -> dict[str, str]:
    """serial → carton, as one list says."""
    if serial_list_id is None:
        return {}
    rows = SerialPlacement.objects.filter(serial_list_id=serial_list_id).exclude(carton="")
    return dict(rows.values_list("serial", "carton"))


def latest_results(plan: InspectionPlan) -> dict[int, UnitResult]:
    """unit id → its newest result (a skip too: see ``UnitResult.skipped``)."""
    latest: dict[int, UnitResult] = {}
    results = UnitResult.objects.filter(unit__plan=plan).select_related(
        "recorded_by", "layout_check"
    )
    for result in results.order_by("id"):
        latest[result.unit_id] = result
    return latest


def carton_order(unit: SampledUnit) -> tuple[object, ...]:
    """The order an inspector walks the sample in: carton by carton (CTN-9 before CTN-10: the
    digits compare as numbers), then by row in the list; units with no carton come last."""
    parts = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
        for part in _DIGITS.split(unit.carton)
        if part
    )
    return (unit.carton == "", parts, unit.position)


_DIGITS = re.compile(r"(\d+)")


def units_in_carton_order(plan: InspectionPlan) -> list[SampledUnit]:
    return sorted(plan.units.all(), key=carton_order)


def next_unit(
    plan: InspectionPlan,
    *,
    after: SampledUnit | None = None,
    results: dict[int, UnitResult] | None = None,
    units: list[SampledUnit] | None = None,
) -> SampledUnit | None:
    """The unit to read next: the first unread one after ``after`` in carton order (coming
    round to the start), then the skipped ones, which wait at the end of the queue."""
    results = latest_results(plan) if results is None else results
    ordered = units_in_carton_order(plan) if units is None else units
    if after is not None:
        here = next((i for i, unit in enumerate(ordered) if unit.pk == after.pk), -1)
        ordered = [unit for unit in ordered[here + 1 :] + ordered[: here + 1] if unit != after]
    unread = (unit for unit in ordered if unit.pk not in results)
    skipped = (unit for unit in ordered if unit.pk in results and results[unit.pk].skipped)
    return next(unread, None) or next(skipped, None)


STATE_ORDER = {"pending": 0, "skipped": 1, "not_found": 2, "defective": 3, "conforming": 4}


@dataclass(frozen=True)
class UnitRow:
    """A sampled unit with its newest result, as the unit lists show it."""

    unit: SampledUnit
    result: UnitResult | None

    @property
    def state(self) -> str:
        """pending, skipped, not_found, defective or conforming."""
        result = self.result
        if result is None:
            return "pending"
        if result.skipped or result.not_found:
            return result.method
        return "defective" if result.defective else "conforming"

    @property
    def state_order(self) -> int:
        """Pending first, then skipped, then findings, then conforming."""
        return STATE_ORDER[self.state]

    @property
    def serial(self) -> str:
        return self.unit.serial

    @property
    def carton(self) -> str:
        return self.unit.carton

    @property
    def carton_key(self) -> tuple[object, ...]:
        return carton_order(self.unit)

    @property
    def mismatches(self) -> list[Mismatch]:
        if self.result is None or not self.result.label_read:
            return []
        return result_mismatches(self.result)

    @property
    def label_mismatches(self) -> list[Mismatch]:
        """The label's own (serial, GTIN, an unreadable label), without the carton."""
        return [mismatch for mismatch in self.mismatches if mismatch.what != "Carton"]

    @property
    def layout_problems(self) -> list[str]:
        """Where the label read departs from the approved layout, in words."""
        return result_layout_problems(self.result)


def layout_check_of(result: UnitResult | None) -> LayoutCheck | None:
    """The result's check against the approved layout, if one was made."""
    if result is None:
        return None
    try:
        return result.layout_check
    except LayoutCheck.DoesNotExist:
        return None


def result_layout_problems(result: UnitResult | None) -> list[str]:
    check = layout_check_of(result)
    return problems_in_words(check.problems) if check is not None and not check.fits else []


@dataclass(frozen=True)
class Mismatch:
    """One way a reading departs from the list: what was expected, and what was read."""

    what: str  # Serial, GTIN, Carton, Label
    expected: str
    read: str
    verb: str = "read"
    note: str = ""


def result_mismatches(result: UnitResult) -> list[Mismatch]:
    """Where a recorded reading departs from the list (the same tests as the recording)."""
    unit = result.unit
    found = []
    if not result.matches:
        error = label_parse(result.label_text).error
        gtin = unit.plan.batch.order.gtin
        if error:
            found.append(Mismatch("Label", unit.serial, result.label_text, note=error))
        if not error and result.read_serial != unit.serial:
            found.append(Mismatch("Serial", unit.serial, result.read_serial or "no serial"))
        if not error and result.read_gtin and gtin and result.read_gtin != gtin:
            found.append(Mismatch("GTIN", gtin, result.read_gtin))
    if result.in_right_carton is False:
        found.append(Mismatch("Carton", unit.carton, result.carton_found, verb="found in"))
    return found


@dataclass(frozen=True)
class Compared:
    """One thing the list says and the label (or the carton) showed, side by side."""

    what: str  # serial, gtin, carton
    expected: str
    read: str
    ok: bool
    note: str = ""


def reading_compared(result: UnitResult) -> list[Compared]:
    """Serial, GTIN and carton: what the list expected and what was read, for a label read
    (a unit not found or skipped has nothing to compare)."""
    if not result.label_read:
        return []
    unit = result.unit
    error = label_parse(result.label_text).error
    gtin = unit.plan.batch.order.gtin
    rows = [
        Compared(
            "serial",
            unit.serial,
            result.label_text if error else result.read_serial,
            not error and result.read_serial == unit.serial,
            note=error or "",
        )
    ]
    if gtin or result.read_gtin:
        rows.append(
            Compared(
                "gtin",
                gtin,
                result.read_gtin,
                not result.read_gtin or not gtin or result.read_gtin == gtin,
            )
        )
    if unit.carton or result.carton_found:
        rows.append(
            Compared(
                "carton", unit.carton, result.carton_found, result.in_right_carton is not False
            )
        )
    return rows


@dataclass(frozen=True)
class Outcome:
    state: str  # in_progress, passed, failed, blocked
    recorded: int
    defective: int
    sample_size: int
    accept: int
    reject: int
    reason: str
    skipped: int = 0  # units skipped for now, still to read
    not_found: int = 0  # counted among the defective

    @property
    def to_read(self) -> int:
        return self.sample_size - self.recorded

    @property
    def label(self) -> str:
        return {
            "in_progress": "In progress",
            "passed": "Passed",
            "failed": "Failed",
            "blocked": "Blocked",
        }[self.state]


def plan_outcome(plan: InspectionPlan, results: dict[int, UnitResult] | None = None) -> Outcome:
    """Pass or fail against the acceptance number: fail as soon as defects reach Re; pass once
    every sampled unit has a result and defects stay at or below Ac."""
    results = latest_results(plan) if results is None else results
    defective = sum(1 for r in results.values() if r.defective)
    size = plan.units.count()
    skipped = sum(1 for r in results.values() if r.skipped)
    recorded = len(results) - skipped  # a skipped unit is still to be read
    blocked = list(plan.blocked_steps.all())
    base = dict(
        recorded=recorded,
        defective=defective,
        sample_size=size,
        accept=plan.accept,
        reject=plan.reject,
        skipped=skipped,
        not_found=sum(1 for r in results.values() if r.not_found),
    )
    if defective >= plan.reject:
        reason = f"{defective} defective of {recorded} read: the rejection number is {plan.reject}."
        return Outcome("failed", reason=reason, **base)
    steps = "; ".join(
        f"{b.get_step_display()} blocked by {b.blocked_by}: {b.reason}" for b in blocked
    )
    if recorded >= size and not blocked:
        reason = f"All {size} units read, {defective} defective (acceptance number {plan.accept})."
        return Outcome("passed", reason=reason, **base)
    if blocked:
        # A blocked step keeps the inspection from passing, even with every label read.
        return Outcome("blocked", reason=f"{recorded} of {size} read. {steps}", **base)
    return Outcome("in_progress", reason=f"{recorded} of {size} units read.", **base)


@dataclass
class Reconciliation:
    """The carton list held against the inspector's scans, for the cartons that were opened."""

    cartons: list[str] = field(default_factory=list)
    missing_from_carton: list[tuple[str, str]] = field(default_factory=list)  # (serial, carton)
    not_on_list: list[tuple[str, str]] = field(default_factory=list)  # (serial, carton scanned)
    wrong_carton: list[tuple[str, str, str]] = field(default_factory=list)  # serial, found, listed
    seen_twice: list[tuple[str, int]] = field(default_factory=list)  # (serial, times)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (label text, carton)
    matched: int = 0

    @property
    def clean(self) -> bool:
        return not (
            self.missing_from_carton
            or self.not_on_list
            or self.wrong_carton
            or self.seen_twice
            or self.unreadable
        )


def carton_reconciliation(plan: InspectionPlan) -> Reconciliation:
    """The carton list the sample was drawn with, held against each opened carton's newest
    scan. Carton names compare without case (labels and lists disagree on it)."""
    as_listed = cartons_in(plan.carton_list_id)
    listed = {serial: carton.casefold() for serial, carton in as_listed.items()}
    every_scan = list(plan.carton_scans.order_by("id"))
    newest = {scan.carton.casefold(): scan.session for scan in every_scan}  # the last one wins
    scans = [scan for scan in every_scan if newest[scan.carton.casefold()] == scan.session]
    shown = {scan.carton.casefold(): scan.carton for scan in scans}
    shown.update({carton.casefold(): carton for carton in as_listed.values()})
    result = Reconciliation(cartons=sorted({shown[scan.carton.casefold()] for scan in scans}))
    found: dict[str, set[str]] = defaultdict(set)
    counts = Counter(scan.serial for scan in scans if scan.serial)
    for scan in scans:
        carton = scan.carton.casefold()
        if not scan.serial:
            result.unreadable.append((scan.label_text, shown[carton]))
            continue
        if scan.serial in found[carton]:
            continue  # counted once per carton; the second sighting is reported as seen twice
        found[carton].add(scan.serial)
        expected = listed.get(scan.serial)
        if expected is None:
            result.not_on_list.append((scan.serial, shown[carton]))
        elif expected != carton:
            result.wrong_carton.append((scan.serial, shown[carton], shown[expected]))
        else:
            result.matched += 1
    result.seen_twice = sorted((serial, n) for serial, n in counts.items() if n > 1)
    scanned_anywhere = {serial for serials in found.values() for serial in serials}
    for serial, carton in sorted(listed.items(), key=lambda item: (item[1], item[0])):
        if carton in found and serial not in found[carton] and serial not in scanned_anywhere:
            result.missing_from_carton.append((serial, shown[carton]))
    return result
