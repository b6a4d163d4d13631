"""Order and batch pages: scoped lookup, form, service call, response."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from orders import services
from orders.filters import OrderFilter, TimelineFilter
from orders.forms import OrderForm, batch_form_class
from orders.models import Batch
from orders.samples import approved_sample_for
from orders.selectors import batch_for, order_for, orders_with_batch_counts
from portal.forms import form_refused
from portal.pages import batch_headline, batch_panels, batch_stages, page_context
from portal.roles import (
    can_manage_approved_samples,
    can_manage_orders,
    can_review_batches,
    can_see_inspections,
    is_buyer_side,
)
from portal.timeline import TimelineEntry, timeline_entry, timeline_runs
from portal.typing import AuthenticatedRequest

GET_POST = ["GET", "POST"]
TIMELINE_PAGE_SIZE = 50


@login_required
@require_http_methods(["GET"])
def order_list(request: AuthenticatedRequest) -> HttpResponse:
    order_filter = OrderFilter(request.GET, queryset=orders_with_batch_counts(request.user))
    page = Paginator(order_filter.qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/order_list.html",
        {"filter": order_filter, "page": page, "can_manage": can_manage_orders(request.user)},
    )


@login_required
@require_http_methods(GET_POST)
def order_create(request: AuthenticatedRequest) -> HttpResponse:
    if not can_manage_orders(request.user):
        raise PermissionDenied
    buyer = request.user.membership.organisation
    form = OrderForm(request.POST or None, buyer=buyer)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            order = services.order_create(user=request.user, **data)
        except ValidationError as error:
            form_refused(form, error)
        else:
            messages.success(request, gettext("PO %(number)s created.") % {"number": order.number})
            return redirect("order-detail", pk=order.pk)
    return render(request, "orders/order_form.html", {"form": form, "order": None})


@login_required
@require_http_methods(["GET"])
def order_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    order = order_for(request.user, pk)
    batches = list(order.batches.all())
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "batches": batches,
            # Each batch with the steps of its story (list → exceptions → approval → gates →
            # inspection), from the apps that own them.
            "batch_rows": [(batch, batch_stages(request.user, batch)) for batch in batches],
            "planned_total": sum(batch.planned_quantity for batch in batches),
            "inspection_firms": order.inspection_firms.all(),
            "can_manage": can_manage_orders(request.user),
            "can_see_timeline": is_buyer_side(request.user),
            "approved_sample": approved_sample_for(order),
            "can_manage_samples": can_manage_approved_samples(request.user),
            **page_context("order", request.user, order),
        },
    )


@login_required
@require_http_methods(GET_POST)
def order_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    order = order_for(request.user, pk)
    if not can_manage_orders(request.user):
        raise PermissionDenied
    form = OrderForm(request.POST or None, instance=order, buyer=order.buyer)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        firms = data.pop("inspection_firms")
        try:
            services.order_update(order=order, user=request.user, inspection_firms=firms, **data)
        except ValidationError as error:
            form_refused(form, error)
        else:
            messages.success(request, gettext("PO %(number)s saved.") % {"number": order.number})
            return redirect("order-detail", pk=order.pk)
    return render(request, "orders/order_form.html", {"form": form, "order": order})


@login_required
@require_http_methods(["GET"])
def order_timeline(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    order = order_for(request.user, pk)
    if not is_buyer_side(request.user):
        raise Http404("The timeline is internal to the buyer.")
    timeline_filter = TimelineFilter(
        request.GET, queryset=order.audit_events.select_related("actor"), order=order
    )
    page = Paginator(timeline_filter.qs.order_by("-id"), TIMELINE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    days: dict[datetime.date, list[TimelineEntry]] = {}
    for event in page.object_list:
        day = timezone.localdate(event.created_at)
        days.setdefault(day, []).append(timeline_entry(event, day))
    runs_by_day = [(day, timeline_runs(entries)) for day, entries in days.items()]
    return render(
        request,
        "orders/order_timeline.html",
        {
            "order": order,
            "filter": timeline_filter,
            "page": page,
            "page_range": list(page.paginator.get_elided_page_range(page.number, on_ends=1)),
            "days": runs_by_day,
            "filtered": any(request.GET.get(name) for name in timeline_filter.filters),
        },
    )


@login_required
@require_http_methods(GET_POST)
def batch_create(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    order = order_for(request.user, pk)
    if not can_manage_orders(request.user):
        raise PermissionDenied
    form_class = batch_form_class(services.BATCH_PLANNING_FIELDS)
    form = form_class(request.POST or None, instance=Batch(order=order))
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.batch_create(order=order, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_refused(form, error)
        else:
            messages.success(request, gettext("Batch %(code)s planned.") % {"code": batch.code})
            return redirect("batch-detail", pk=batch.pk)
    return render(request, "orders/batch_form.html", {"form": form, "order": order, "batch": None})


@login_required
@require_http_methods(["GET"])
def batch_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    batch = batch_for(request.user, pk)
    return render(
        request,
        "orders/batch_detail.html",
        {
            "batch": batch,
            "order": batch.order,
            "can_edit": bool(services.batch_fields_for(request.user)),
            "can_see_inspections": can_see_inspections(request.user),
            "can_review": can_review_batches(request.user),
            **page_context("batch", request.user, batch),
            "batch_panels": batch_panels(request, batch),
            "stages": batch_stages(request.user, batch),
            "headline": batch_headline(request.user, batch),
        },
    )


@login_required
@require_http_methods(GET_POST)
def batch_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    batch = batch_for(request.user, pk)
    fields = services.batch_fields_for(request.user)
    if not fields:
        raise PermissionDenied
    form = batch_form_class(fields)(request.POST or None, instance=batch)
    if request.method == "POST" and form.is_valid():
        try:
            services.batch_update(batch=batch, user=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            form_refused(form, error)
        else:
            messages.success(request, gettext("Batch %(code)s saved.") % {"code": batch.code})
            return redirect("batch-detail", pk=batch.pk)
    return render(
        request, "orders/batch_form.html", {"form": form, "order": batch.order, "batch": batch}
    )
