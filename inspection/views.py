"""Inspection pages: plan a sample, a printable checklist, a phone page per sampled unit,
carton scans and blocked steps. Suppliers never see a sample (404, as for a foreign id)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_tables2 import RequestConfig  # type: ignore[import-untyped]

from inspection import services
from inspection.filters import STATE_LABELS, SampledUnitFilter
from inspection.forms import ACTIONS, BlockedStepForm, CartonScanForm, PlanForm, ResultForm
from inspection.models import InspectionPlan, SampledUnit, UnitResult
from inspection.selectors import (
    UnitRow,
    carton_reconciliation,
    inspection_batch_for,
    latest_results,
    next_unit,
    plan_for,
    plan_outcome,
    reading_compared,
    result_layout_problems,
    result_mismatches,
    unit_for,
    units_in_carton_order,
)
from inspection.tables import SampledUnitTable
from orders.samples import approved_sample_for
from portal.errors import message_of
from portal.exports import csv_response
from portal.roles import can_plan_inspections, can_record_inspection_results
from portal.typing import AuthenticatedRequest


@login_required
@require_http_methods(["GET", "POST"])
def batch_inspections(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    batch = inspection_batch_for(request.user, pk)
    form = PlanForm(request.POST or None)
    if request.method == "POST":
        if not can_plan_inspections(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                plan = services.inspection_plan_create(
                    batch=batch, user=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                form.add_error(None, message_of(error))
            else:
                messages.success(
                    request, f"{plan.sample_size} units drawn; the seed is stored with the plan."
                )
                return redirect("inspection-detail", pk=plan.pk)
    plans = [(plan, plan_outcome(plan)) for plan in batch.inspection_plans.all()]
    return render(
        request,
        "inspection/batch_inspections.html",
        {
            "batch": batch,
            "order": batch.order,
            "plans": plans,
            "form": form,
            "can_plan": can_plan_inspections(request.user),
            "crumb": "Inspection",
        },
    )


UNITS_PER_PAGE = 50


def _plan_context(request: AuthenticatedRequest, plan: InspectionPlan) -> dict[str, Any]:
    results = latest_results(plan)
    units = units_in_carton_order(plan)
    return {
        "plan": plan,
        "batch": plan.batch,
        "order": plan.batch.order,
        "rows": [UnitRow(unit, results.get(unit.pk)) for unit in units],
        "outcome": plan_outcome(plan, results),
        "next_unit": next_unit(plan, results=results, units=units),
        "blocked_steps": plan.blocked_steps.select_related("recorded_by"),
        "has_carton_list": plan.carton_list_id is not None,
        "can_record": can_record_inspection_results(request.user),
        "crumb": f"Inspection #{plan.pk}",
    }


@login_required
@require_http_methods(["GET"])
def inspection_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The plan, its units (filtered, sorted, paged; or every unit as CSV), blocked steps and
    the carton reconciliation."""
    plan = plan_for(request.user, pk)
    context = _plan_context(request, plan)
    unit_filter = SampledUnitFilter(request.GET, queryset=plan.units.all(), request=request)
    shown = set(unit_filter.qs.values_list("pk", flat=True))
    rows = [row for row in context["rows"] if row.unit.pk in shown]
    if request.GET.get("format") == "csv":
        return _units_csv(plan, rows)
    table = SampledUnitTable(rows)
    RequestConfig(request, paginate={"per_page": UNITS_PER_PAGE}).configure(table)
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "csv"
    context |= {
        "filter": unit_filter,
        "table": table,
        "csv_query": query.urlencode(),
        "reconciliation": carton_reconciliation(plan),
        "blocked_form": BlockedStepForm(),
        "scan_form": CartonScanForm(),
    }
    return render(request, "inspection/inspection_detail.html", context)


def _units_csv(plan: InspectionPlan, rows: list[UnitRow]) -> HttpResponse:
    gtin = plan.batch.order.gtin
    return csv_response(
        f"inspection-{plan.pk}-units.csv",
        [
            _("Serial"),
            _("Row in the list"),
            _("Carton (list)"),
            _("Result"),
            _("How"),
            _("Label as read"),
            _("Serial read"),
            _("GTIN expected"),
            _("GTIN read"),
            _("Carton found"),
            _("Defects or note"),
            _("Recorded by"),
            _("Recorded at (UTC)"),
        ],
        (
            [
                row.serial,
                row.unit.position,
                row.carton,
                STATE_LABELS[row.state],
                row.result.get_method_display() if row.result else "",
                row.result.label_text if row.result else "",
                row.result.read_serial if row.result else "",
                gtin,
                row.result.read_gtin if row.result else "",
                row.result.carton_found if row.result else "",
                "; ".join(filter(None, [row.result.defects, *row.layout_problems]))
                if row.result
                else "",
                row.result.recorded_by.printed_name if row.result else "",
                f"{row.result.recorded_at:%Y-%m-%d %H:%M}" if row.result else "",
            ]
            for row in rows
        ),
    )


@login_required
@require_http_methods(["GET"])
def inspection_checklist(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    plan = plan_for(request.user, pk)
    return render(request, "inspection/inspection_checklist.html", _plan_context(request, plan))


@login_required
@require_http_methods(["GET", "POST"])
def sampled_unit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The phone page of one sampled unit: read the label, confirm the carton with one tap (or
    type the one it was in), or record it not found, or skip it for now; then the next unit."""
    unit = unit_for(request.user, pk)
    plan = unit.plan
    form = ResultForm(
        request.POST or None, request.FILES or None, initial={"carton_found": unit.carton}
    )
    if request.method == "POST":
        if not can_record_inspection_results(request.user):
            raise PermissionDenied
        action = ACTIONS.get(request.POST.get("action") or "record")
        if action is None:
            form.add_error(None, _("That button records nothing: choose one of the buttons."))
        elif form.is_valid():
            data = form.cleaned_data | action
            photo = data.pop("photo")
            try:
                result = services.unit_result_record(
                    unit=unit, user=request.user, photo=photo or None, **data
                )
            except ValidationError as error:
                form.add_error(None, message_of(error))
            else:
                return _after_result(request, unit, result)
    history = list(unit.results.select_related("recorded_by", "layout_check").order_by("-id"))
    newest = history[0] if history else None
    results = latest_results(plan)
    following = next_unit(plan, after=unit, results=results)
    outcome = plan_outcome(plan, results)
    return render(
        request,
        "inspection/sampled_unit.html",
        {
            "unit": unit,
            "plan": plan,
            "batch": plan.batch,
            "order": plan.batch.order,
            "form": form,
            "history": history,
            "history_rows": [(result, result_layout_problems(result)) for result in history],
            "newest": newest,
            "mismatches": result_mismatches(newest) if newest and newest.label_read else [],
            "layout_problems": result_layout_problems(newest),
            # The approved label beside the unit to read, with its layout.
            "approved_sample": approved_sample_for(plan.batch),
            "compared": reading_compared(newest) if newest else [],
            "next_url": reverse("sampled-unit", args=[following.pk])
            if following
            else reverse("inspection-detail", args=[plan.pk]),
            "outcome": outcome,
            "can_record": can_record_inspection_results(request.user),
            "crumb": unit.serial,
        },
    )


def _after_result(
    request: AuthenticatedRequest, unit: SampledUnit, result: UnitResult
) -> HttpResponse:
    """A label that departs from the list, or from the approved layout, keeps the inspector on
    the unit, shown what was expected and what was read, to confirm or read again; anything
    else moves straight on to
    the next unit to read (a skipped one comes back at the end)."""
    if result.label_read and (result_mismatches(result) or result_layout_problems(result)):
        return redirect("sampled-unit", pk=unit.pk)
    serial = {"serial": unit.serial}
    if result.skipped:
        messages.info(request, _("%(serial)s skipped: it comes back at the end.") % serial)
    elif result.not_found:
        messages.warning(
            request,
            _("%(serial)s recorded as not found: a finding, counted as defective.") % serial,
        )
    elif result.defective:
        messages.warning(request, f"{unit.serial} recorded. Defective: {result.defects}")
    else:
        messages.success(request, f"{unit.serial} recorded.")
    following = next_unit(unit.plan, after=unit)
    if following is not None:
        return redirect("sampled-unit", pk=following.pk)
    return redirect("inspection-detail", pk=unit.plan_id)


@login_required
@require_POST
def inspection_blocked_step(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    plan = plan_for(request.user, pk)
    if not can_record_inspection_results(request.user):
        raise PermissionDenied
    form = BlockedStepForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Name the step, who blocked it and why.")
        return redirect("inspection-detail", pk=plan.pk)
    try:
        services.blocked_step_record(plan=plan, user=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        messages.success(request, "Blocked step recorded; the batch's gates show it.")
    return redirect("inspection-detail", pk=plan.pk)


@login_required
@require_POST
def inspection_carton_scans(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    plan = plan_for(request.user, pk)
    if not can_record_inspection_results(request.user):
        raise PermissionDenied
    form = CartonScanForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Name the carton and scan at least one label.")
        return redirect("inspection-detail", pk=plan.pk)
    try:
        scans = services.carton_scans_record(
            plan=plan,
            user=request.user,
            carton=form.cleaned_data["carton"],
            labels=form.cleaned_data["labels"].splitlines(),
        )
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        messages.success(request, f"{len(scans)} labels recorded in carton {scans[0].carton}.")
    return redirect(reverse("inspection-detail", args=[plan.pk]) + "#cartons")
