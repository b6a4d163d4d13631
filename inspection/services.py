"""Inspection workflows: plan a sample, record what each sampled label says, scan cartons,
record blocked steps. Every change is a new row and an audit event; a change to a plan an
approval pinned makes that approval stale."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from inspection import sampling
from inspection.labels import LabelReading, label_decode, label_parse
from inspection.layout import Problem, layout_problems
from inspection.models import (
    BlockedStep,
    CartonScan,
    InspectionPlan,
    LayoutCheck,
    SampledUnit,
    UnitResult,
)
from inspection.selectors import (
    carton_list_of,
    cartons_in,
)
from orders.models import ApprovedSample, Batch
from orders.samples import approved_sample_for
from orders.selectors import batches_visible_to
from portal.audit import audit_log
from portal.models import User
from portal.roles import (
    can_plan_inspections,
    can_record_inspection_results,
    can_see_inspections,
)
from portal.storage import store_by_hash

if TYPE_CHECKING:
    from serials.models import SerialList

MAX_LABEL_PHOTO_BYTES = 15 * 1024 * 1024
MAX_SCANS_AT_ONCE = 5000


def _visible(user: User, batch: Batch) -> None:
    if not can_see_inspections(user) or not batches_visible_to(user).filter(pk=batch.pk).exists():
        raise PermissionDenied("This batch is not yours to inspect.")


def _production_serials(batch: Batch) -> tuple[SerialList, list[str]]:
    """The batch's latest validated production list and its distinct serials, in file order.
    A serial on two rows is one unit: the lot counts serials, as the report and approval do."""
    from serials.engine import read_serial_cells
    from serials.models import SerialList
    from serials.selectors import latest_production_list
    from serials.services import _local_copy

    serial_list = latest_production_list(batch)
    if serial_list is None:
        raise ValidationError(f"Batch {batch.code} has no production serial list to sample from.")
    if serial_list.status != SerialList.Status.DONE:
        raise ValidationError(
            f"The latest serial list ({serial_list.original_name}) is "
            f"{serial_list.get_status_display().lower()}: wait for its report."
        )
    with _local_copy(serial_list.file.name, serial_list.original_name) as path:
        _header, cells = read_serial_cells(path)
    serials = list(dict.fromkeys(cells))
    if not serials:
        raise ValidationError(f"{serial_list.original_name} holds no serials to sample.")
    return serial_list, serials


@transaction.atomic
def inspection_plan_create(
    *,
    batch: Batch,
    user: User,
    level: str,
    aql: str,
    lot_size: int | None = None,
    note: str = "",
    seed: int | None = None,
) -> InspectionPlan:
    """Size the sample by ISO 2859-1 (single sampling, normal inspection) and draw it from the
    batch's latest production list, spread across cartons, from a stored seed."""
    if not can_plan_inspections(user):
        raise PermissionDenied("Only the buyer's buyers and admins, and inspectors, plan samples.")
    _visible(user, batch)
    serial_list, serials = _production_serials(batch)
    if lot_size is not None and lot_size < len(serials):
        raise ValidationError(
            {
                "lot_size": f"The lot cannot be smaller than the {len(serials):,} serials on "
                f"{serial_list.original_name}; a smaller lot would shrink the sample."
            }
        )
    lot = lot_size or len(serials)
    try:
        plan = sampling.sampling_plan(lot_size=lot, level=level, aql=aql)
    except (TypeError, ValueError) as error:
        raise ValidationError(str(error)) from None
    seed = sampling.new_seed() if seed is None else seed
    carton_list_id = carton_list_of(batch)
    placed = cartons_in(carton_list_id)
    cartons = [placed.get(serial) for serial in serials] if placed else None
    indices = sampling.draw_sample(
        serials=serials, cartons=cartons, size=min(plan.sample_size, len(serials)), seed=seed
    )
    inspection = InspectionPlan.objects.create(
        batch=batch,
        serial_list=serial_list,
        carton_list_id=carton_list_id,
        level=plan.level,
        aql=plan.aql,
        lot_size=lot,
        code_letter=plan.code_letter,
        plan_letter=plan.plan_letter,
        sample_size=len(indices),
        accept=plan.accept,
        reject=plan.reject,
        seed=seed,
        note=note.strip()[:300],
        created_by=user,
    )
    SampledUnit.objects.bulk_create(
        SampledUnit(
            plan=inspection,
            position=index + 1,
            serial=serials[index],
            carton=(cartons[index] or "") if cartons else "",
        )
        for index in indices
    )
    audit_log(
        actor=user,
        action="inspection.planned",
        obj=inspection,
        order=batch.order,
        payload={
            "batch": batch.code,
            "lot_size": lot,
            "level": plan.level,
            "aql": plan.aql,
            "code_letter": plan.code_letter,
            "sample_size": len(indices),
            "accept": plan.accept,
            "reject": plan.reject,
            "seed": seed,
            "serial_list": serial_list.pk,
        },
    )
    return inspection


def _plan_to_record_on(plan: InspectionPlan, user: User, what: str) -> InspectionPlan:
    """An inspector's (or admin's) plan of their own orders, locked: writers queue here, so an
    approval pinning the plan sees every change or none."""
    if not can_record_inspection_results(user):
        raise PermissionDenied(f"Only inspectors record {what}.")
    _visible(user, plan.batch)
    return InspectionPlan.objects.select_for_update().select_related("batch__order").get(pk=plan.pk)


def _findings_recorded(
    plan: InspectionPlan, user: User, action: str, payload: dict[str, object]
) -> None:
    """Log the change; the event turns stale the approvals that pinned this inspection
    (see inspection.pins)."""
    audit_log(actor=user, action=action, obj=plan, order=plan.batch.order, payload=payload)


def _clean(text: str) -> str:
    """Keep the GS1 group separator; drop other control characters (a NUL breaks storage)."""
    return "".join(ch for ch in text if ch == "\x1d" or ch >= " " or ch in "\t")


def _reading_for(unit: SampledUnit, readings: list[LabelReading]) -> LabelReading | None:
    """Of the codes on a photo, the one naming this unit's serial, else the first with one."""
    for reading in readings:
        if reading.serial == unit.serial:
            return reading
    return next((r for r in readings if r.serial), readings[0] if readings else None)


def _not_a_reading(
    unit: SampledUnit, method: str, label_text: str, photo: UploadedFile | None, defects: str
) -> None:
    """A unit not found or skipped has no label: refuse a label, a photo or (for a skip) a
    defect sent with it rather than drop it unsaid."""
    what = _("Unit not found") if method == UnitResult.Method.NOT_FOUND else _("Skip")
    if label_text.strip() or photo is not None:
        raise ValidationError(
            {
                "label_text": _(
                    "“%(what)s” records no label: clear the label (or the photo), or record "
                    "the reading instead."
                )
                % {"what": what}
            }
        )
    if method == UnitResult.Method.SKIPPED:
        if defects.strip():
            raise ValidationError(
                {"defects": _("A skip records no defect: clear it, or record the reading.")}
            )
        if unit.results.exclude(method=UnitResult.Method.SKIPPED).exists():
            raise ValidationError(
                _(
                    "%(serial)s already has a result: read it again or mark it not found "
                    "instead of skipping it."
                )
                % {"serial": unit.serial}
            )


@transaction.atomic
def unit_result_record(
    *,
    unit: SampledUnit,
    user: User,
    method: str,
    label_text: str = "",
    photo: UploadedFile | None = None,
    carton_found: str = "",
    carton_confirmed: bool = False,
    defects: str = "",
) -> UnitResult:
    """Record what the inspector found on one sampled unit, as a new row. A unit is defective
    when its label does not match the list (serial, or GTIN where the label carries one), when
    it sits in another carton than the list says, when the inspector wrote a defect, or when
    nobody could find it. ``carton_confirmed``: the inspector confirmed the carton the list
    names (one tap) instead of typing it. A skip is no finding: the unit stays to be read."""
    plan = _plan_to_record_on(unit.plan, user, "inspection results")
    if method not in UnitResult.Method.values:
        raise ValidationError({"method": f"“{method}” is not a way of reading a label."})
    carton_found = carton_found.strip()
    if carton_confirmed:
        if not unit.carton:
            raise ValidationError(
                {"carton_found": _("The list names no carton for this unit: type where it was.")}
            )
        if carton_found and carton_found.casefold() != unit.carton.casefold():
            raise ValidationError(
                {
                    "carton_found": _(
                        "You typed carton %(typed)s but confirmed %(listed)s: record with the "
                        "carton typed, or put %(listed)s back."
                    )
                    % {"typed": carton_found, "listed": unit.carton}
                }
            )
        carton_found = unit.carton
    if len(carton_found) > 64:
        raise ValidationError({"carton_found": _("A carton name has at most 64 characters.")})
    if method in (UnitResult.Method.NOT_FOUND, UnitResult.Method.SKIPPED):
        _not_a_reading(unit, method, label_text, photo, defects)
        return _result_save(
            plan,
            user,
            unit=unit,
            method=method,
            label_text="",
            read_serial="",
            read_gtin="",
            matches=False,
            # Where the inspector looked for it, but never "in the right carton": it was not.
            carton_found="" if method == UnitResult.Method.SKIPPED else carton_found,
            in_right_carton=None,
            defects=defects.strip(),
            defective=method == UnitResult.Method.NOT_FOUND,
        )
    photo_name, photo_sha = "", ""
    if photo is not None:
        assert photo.size is not None  # an uploaded file always knows its size
        if photo.size > MAX_LABEL_PHOTO_BYTES:
            raise ValidationError({"photo": "The photo is larger than 15 MB."})
        try:
            readings = label_decode(photo.read())
        except ValueError as error:
            raise ValidationError({"photo": f"{photo.name}: {error}"}) from None
        reading = _reading_for(unit, [label_parse(_clean(r.text)) for r in readings])
        if reading is None:
            raise ValidationError(
                {"photo": f"{photo.name}: no barcode could be read. Type the label instead."}
            )
        photo.seek(0)
        photo_name, photo_sha, _stored = store_by_hash(photo, folder="label-photos")
        method = UnitResult.Method.PHOTO
    else:
        if not _clean(label_text).strip():  # nothing but control characters is nothing
            raise ValidationError({"label_text": "Type or scan what the label says."})
        reading = label_parse(_clean(label_text))
    gtin = plan.batch.order.gtin
    gtin_ok = not reading.gtin or not gtin or reading.gtin == gtin
    matches = reading.error is None and reading.serial == unit.serial and gtin_ok
    in_right_carton = None
    if carton_found and unit.carton:
        in_right_carton = carton_found.casefold() == unit.carton.casefold()
    defects = defects.strip()
    # Held against the approved sample's label layout, when the product has one: a read that
    # does not fit it is a defect of its own kind.
    sample = approved_sample_for(plan.batch)
    problems = layout_problems(sample, reading) if sample is not None else []
    return _result_save(
        plan,
        user,
        layout=(sample, problems) if sample is not None else None,
        unit=unit,
        method=method,
        label_text=(reading.text or _clean(label_text))[:500],
        read_serial=(reading.serial or "")[:100],
        read_gtin=reading.gtin or "",
        matches=matches,
        carton_found=carton_found,
        in_right_carton=in_right_carton,
        defects=defects,
        defective=not matches or in_right_carton is False or bool(defects) or bool(problems),
        photo=photo_name,
        photo_sha256=photo_sha,
    )


def _result_save(
    plan: InspectionPlan,
    user: User,
    layout: tuple[ApprovedSample, list[Problem]] | None = None,
    **values: Any,
) -> UnitResult:
    """The result, and its check against the approved layout (``layout``: the sample that
    applied and where the read departs from it), sealed together in one event."""
    result = UnitResult.objects.create(recorded_by=user, **values)
    layout_payload: dict[str, Any] = {}
    if layout is not None:
        sample, problems = layout
        LayoutCheck.objects.create(
            result=result, sample=sample, fits=not problems, problems=problems
        )
        layout_payload = {
            "approved_sample": sample.pk,
            "layout_fits": not problems,
            "layout_problems": problems,  # codes and values: put into words when shown
        }
    _findings_recorded(
        plan,
        user,
        "inspection.unit_recorded",
        {
            "serial": result.unit.serial,
            "read": result.read_serial,
            "method": result.method,
            "matches": result.matches,
            "carton_found": result.carton_found,
            "in_right_carton": result.in_right_carton,
            "defects": result.defects,
            "defective": result.defective,
            **layout_payload,
        },
    )
    return result


@transaction.atomic
def blocked_step_record(
    *, plan: InspectionPlan, user: User, step: str, blocked_by: str, reason: str
) -> BlockedStep:
    """The inspector writes down which step someone prevented, who, and why."""
    plan = _plan_to_record_on(plan, user, "blocked steps")
    if step not in BlockedStep.Step.values:
        raise ValidationError({"step": f"“{step}” is not an inspection step."})
    if not blocked_by.strip():
        raise ValidationError({"blocked_by": "Name who blocked the step."})
    if not reason.strip():
        raise ValidationError({"reason": "Write why the step was blocked."})
    blocked = BlockedStep.objects.create(
        plan=plan,
        step=step,
        blocked_by=blocked_by.strip()[:200],
        reason=reason.strip(),
        recorded_by=user,
    )
    _findings_recorded(
        plan,
        user,
        "inspection.step_blocked",
        {
            "step": blocked.get_step_display(),
            "blocked_by": blocked.blocked_by,
            "reason": blocked.reason,
        },
    )
    return blocked


@transaction.atomic
def carton_scans_record(
    *, plan: InspectionPlan, user: User, carton: str, labels: list[str]
) -> list[CartonScan]:
    """Record every label read in one opened carton (one line per label, as scanned)."""
    plan = _plan_to_record_on(plan, user, "carton scans")
    carton = carton.strip()
    if not carton:
        raise ValidationError({"carton": "Name the carton these labels were found in."})
    if len(carton) > 64:
        raise ValidationError({"carton": "A carton name has at most 64 characters."})
    lines = [line for line in labels if line.strip()]
    if not lines:
        raise ValidationError({"labels": "Scan or type at least one label, one per line."})
    if len(lines) > MAX_SCANS_AT_ONCE:
        raise ValidationError(
            {"labels": f"At most {MAX_SCANS_AT_ONCE:,} labels at once; send the rest after."}
        )
    scans = []
    session = uuid.uuid4()
    for line in lines:
        text = _clean(line).strip()
        reading = label_parse(text)
        scans.append(
            CartonScan(
                plan=plan,
                session=session,
                carton=carton,
                label_text=text[:500],
                serial="" if reading.error else (reading.serial or "")[:100],
                recorded_by=user,
            )
        )
    CartonScan.objects.bulk_create(scans)
    _findings_recorded(
        plan, user, "inspection.carton_scanned", {"carton": carton, "labels": len(scans)}
    )
    return scans
