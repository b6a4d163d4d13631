"""Inspection pages: plan a sample, a printable checklist, a phone page per sampled unit,
carton scans and blocked steps. Suppliers never see a sample (404, as for a foreign id)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from inspection import sampling, services
from inspection.models import BlockedStep, InspectionPlan, SampledUnit, UnitResult
from inspection.selectors import (
    carton_reconciliation,
    inspection_batch_for,
    latest_results,
    plan_for,
    plan_outcome,
    result_mismatches,
    unit_for,
)
from portal.errors import message_of
from portal.forms import BootstrapFormMixin
from portal.roles import can_plan_inspections, can_record_inspection_results
from portal.typing import AuthenticatedRequest


class PlanForm(BootstrapFormMixin, forms.Form):
    level = forms.ChoiceField(
        choices=InspectionPlan.Level.choices, initial="II", label="Inspection level"
    )
    aql = forms.ChoiceField(
        choices=[(value, value) for value in sampling.AQL_VALUES],
        initial="1.0",
        label="AQL (acceptance quality limit, % defective)",
    )
    lot_size = forms.IntegerField(
        min_value=2,
        max_value=10**9,
        required=False,
        label="Lot size",
        help_text="Leave empty to use the number of serials in the latest production list.",
    )
    note = forms.CharField(max_length=300, required=False)


class ResultForm(BootstrapFormMixin, forms.Form):
    method = forms.ChoiceField(
        choices=[("scanned", "Scanned"), ("typed", "Typed")],
        initial="scanned",
        widget=forms.RadioSelect,
        label="How the label was read",
    )
    label_text = forms.CharField(
        max_length=500,
        required=False,
        label="Label as read",
        help_text="Type it, or scan it into this box: plain serial, GS1 code or Digital Link.",
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    photo = forms.ImageField(
        required=False,
        label="…or a photo of the label",
        help_text="The barcode on the photo is decoded (DataMatrix, QR, Code 128, EAN).",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    carton_found = forms.CharField(max_length=64, required=False, label="Carton it was found in")
    defects = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Defects (leave empty if none)",
    )


class BlockedStepForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = BlockedStep
        fields = ["step", "blocked_by", "reason"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 2})}


class CartonScanForm(BootstrapFormMixin, forms.Form):
    carton = forms.CharField(max_length=64, label="Carton opened")
    labels = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off"}),
        label="Labels found in it, one per line (scan one after another)",
    )


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


UNIT_FILTERS = {
    "": "All",
    "pending": "Not read yet",
    "defective": "Defective",
    "conforming": "Conforming",
}


def _plan_context(request: AuthenticatedRequest, plan: InspectionPlan) -> dict:
    results = latest_results(plan)
    units = list(plan.units.all())
    rows = [(unit, results.get(unit.pk)) for unit in units]
    next_unit = next((unit for unit in units if unit.pk not in results), None)
    shown = request.GET.get("show", "")
    if shown == "pending":
        rows = [(unit, result) for unit, result in rows if result is None]
    elif shown == "defective":
        rows = [(unit, result) for unit, result in rows if result and result.defective]
    elif shown == "conforming":
        rows = [(unit, result) for unit, result in rows if result and not result.defective]
    return {
        "plan": plan,
        "batch": plan.batch,
        "order": plan.batch.order,
        "rows": rows,
        "page": Paginator(rows, 50).get_page(request.GET.get("page")),
        "filters": UNIT_FILTERS,
        "shown": shown if shown in UNIT_FILTERS else "",
        "outcome": plan_outcome(plan, results),
        "next_unit": next_unit,
        "blocked_steps": plan.blocked_steps.select_related("recorded_by"),
        "reconciliation": carton_reconciliation(plan),
        "has_carton_list": plan.carton_list_id is not None,
        "can_record": can_record_inspection_results(request.user),
        "crumb": f"Inspection #{plan.pk}",
    }


@login_required
@require_http_methods(["GET"])
def inspection_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    plan = plan_for(request.user, pk)
    context = _plan_context(request, plan)
    context["blocked_form"] = BlockedStepForm()
    context["scan_form"] = CartonScanForm()
    return render(request, "inspection/inspection_detail.html", context)


@login_required
@require_http_methods(["GET"])
def inspection_checklist(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    plan = plan_for(request.user, pk)
    return render(request, "inspection/inspection_checklist.html", _plan_context(request, plan))


@login_required
@require_http_methods(["GET", "POST"])
def sampled_unit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    unit = unit_for(request.user, pk)
    plan = unit.plan
    form = ResultForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_record_inspection_results(request.user):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            photo = data.pop("photo")
            try:
                result = services.unit_result_record(
                    unit=unit, user=request.user, photo=photo or None, **data
                )
            except ValidationError as error:
                form.add_error(None, message_of(error))
            else:
                return _after_result(request, unit, result)
    history = list(unit.results.select_related("recorded_by").order_by("-id"))
    following = _next_unread(unit)
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
            "mismatches": result_mismatches(history[0]) if history else [],
            "next_url": reverse("sampled-unit", args=[following.pk])
            if following
            else reverse("inspection-detail", args=[plan.pk]),
            "done": plan.units.filter(results__isnull=False).distinct().count(),
            "can_record": can_record_inspection_results(request.user),
            "crumb": unit.serial,
        },
    )


def _next_unread(unit: SampledUnit) -> SampledUnit | None:
    return unit.plan.units.filter(results__isnull=True).exclude(pk=unit.pk).first()


def _after_result(
    request: AuthenticatedRequest, unit: SampledUnit, result: UnitResult
) -> HttpResponse:
    """A label that departs from the list keeps the inspector on the unit, shown what was
    expected and what was read, to confirm or read again; anything else moves on."""
    if result_mismatches(result):
        return redirect("sampled-unit", pk=unit.pk)
    if result.defective:
        messages.warning(request, f"{unit.serial} recorded. Defective: {result.defects}")
    else:
        messages.success(request, f"{unit.serial} recorded.")
    following = _next_unread(unit)
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
