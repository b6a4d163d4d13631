"""What an approval can pin in inspection: a plan's results (registered in
``InspectionConfig.ready``; see ``portal.registries``)."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import models

from inspection.models import InspectionPlan
from inspection.selectors import plan_outcome
from orders.models import Batch
from portal.registries import PinKind, Pinned, Superseded
from serials.models import SerialList
from serials.selectors import latest_production_list


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _fingerprint(plan: InspectionPlan) -> str:
    """Changes whenever a result, a blocked step or a carton scan is added to the plan."""
    newest = [
        plan.units.aggregate(n=models.Max("results__id"))["n"],
        plan.blocked_steps.aggregate(n=models.Max("id"))["n"],
        plan.carton_scans.aggregate(n=models.Max("id"))["n"],
    ]
    outcome = plan_outcome(plan)
    return f"{outcome.state};{outcome.defective}/{outcome.recorded};" + ",".join(
        str(n or "-") for n in newest
    )


def _resolve(object_id: int) -> Pinned:
    plan = InspectionPlan.objects.select_for_update().select_related("batch").get(pk=object_id)
    latest = latest_production_list(plan.batch)
    if latest is None or latest.pk != plan.serial_list_id:
        raise ValidationError(
            f"Inspection #{plan.pk} sampled an older serial list: pin a newer inspection."
        )
    return Pinned(
        "inspection",
        plan.pk,
        plan.batch_id,
        f"Inspection #{plan.pk} of batch {plan.batch.code}",
        f"sha256:{_sha(_fingerprint(plan))[:32]}",
    )


def _candidates(batch: Batch) -> list[tuple[int, str]]:
    choices = []
    for plan in batch.inspection_plans.all():
        outcome = plan_outcome(plan)
        choices.append(
            (plan.pk, f"Inspection #{plan.pk} ({outcome.label.lower()}): {outcome.reason}")
        )
    return choices


def _new_list(serial_list: SerialList) -> list[Superseded]:
    """An inspection was sampled from, and reconciled against, the lists it was drawn with."""
    if serial_list.kind not in (SerialList.Kind.PRODUCTION, SerialList.Kind.CARTON):
        return []
    batch = serial_list.batch
    return [
        (
            batch.inspection_plans.values_list("pk", flat=True),
            f"A new {SerialList.Kind(serial_list.kind).label.lower()} "
            f"({serial_list.original_name}) was uploaded for batch {batch.code} after its "
            "inspection.",
        )
    ]


def _new_findings(plan: InspectionPlan) -> list[Superseded]:
    """The reason names no serial, carton or step: suppliers read it on the approval page,
    and the sample is not theirs to know."""
    return [([plan.pk], f"Inspection #{plan.pk} of batch {plan.batch.code} has new findings.")]


PIN_KINDS = [
    PinKind(
        kind="inspection",
        label="Inspection results",
        batch_id=lambda pk: (
            InspectionPlan.objects.filter(pk=pk).values_list("batch_id", flat=True).first()
        ),
        resolve=_resolve,
        candidates=_candidates,
        superseded_by={
            "serial_list.uploaded": _new_list,
            "inspection.unit_recorded": _new_findings,
            "inspection.step_blocked": _new_findings,
            "inspection.carton_scanned": _new_findings,
        },
    ),
]
