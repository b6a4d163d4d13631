"""How each inspection record is sealed in its audit event (``portal.records``): the plan and
its sampled units in ``inspection.planned``; every event of the plan afterwards seals the
results (with their layout checks), blocked steps and carton scans recorded so far."""

from __future__ import annotations

from inspection.models import (
    BlockedStep,
    CartonScan,
    InspectionPlan,
    LayoutCheck,
    SampledUnit,
    UnitResult,
)
from portal.records import Seal, columns

FINDINGS = ("inspection.unit_recorded", "inspection.step_blocked", "inspection.carton_scanned")

SEALS = (
    Seal(InspectionPlan, columns(InspectionPlan), ("inspection.planned",)),
    Seal(SampledUnit, columns(SampledUnit), ("inspection.planned",), "plan"),
    Seal(UnitResult, columns(UnitResult), FINDINGS, "unit__plan"),
    Seal(LayoutCheck, columns(LayoutCheck), FINDINGS, "result__unit__plan"),
    Seal(BlockedStep, columns(BlockedStep), FINDINGS, "plan"),
    Seal(CartonScan, columns(CartonScan), FINDINGS, "plan"),
)
