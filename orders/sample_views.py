"""The approved sample's pages: the buyer's list of products, recording a sample (from an order
or not), a sample with its versions, a new version, and its photos (access-checked)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from orders import samples
from orders.forms import ApprovedSampleForm, ApprovedSampleVersionForm
from orders.models import ApprovedSample, PurchaseOrder
from orders.selectors import order_for, orders_visible_to
from portal.forms import form_refused
from portal.ids import parse_id
from portal.roles import can_manage_approved_samples, is_buyer_side
from portal.typing import AuthenticatedRequest

GET_POST = ["GET", "POST"]


@login_required
@require_http_methods(["GET"])
def sample_list(request: AuthenticatedRequest) -> HttpResponse:
    """The newest version of each product's (and each order's own) approved sample."""
    if not is_buyer_side(request.user):
        raise PermissionDenied
    return render(
        request,
        "orders/sample_list.html",
        {
            "samples": samples.current_samples_visible_to(request.user),
            "can_manage": can_manage_approved_samples(request.user),
        },
    )


def _from_order(request: AuthenticatedRequest) -> PurchaseOrder | None:
    """The order a sample is started from (``?order=<id>``); another's or none: 404."""
    raw = request.GET.get("order")
    if raw is None:
        return None
    pk = parse_id(raw)
    if pk is None:
        raise Http404(_("No such order."))
    return order_for(request.user, pk)


@login_required
@require_http_methods(GET_POST)
def sample_create(request: AuthenticatedRequest) -> HttpResponse:
    if not can_manage_approved_samples(request.user):
        raise PermissionDenied
    order = _from_order(request)
    initial: dict[str, Any] = {}
    if order is not None:
        initial = {
            "product_name": order.product_name,
            "gtin": order.gtin,
            # An order with no GTIN has no product to share a sample with.
            "for_order_only": not order.gtin,
        }
    form = ApprovedSampleForm(request.POST or None, request.FILES or None, initial=initial)
    if order is None:
        del form.fields["for_order_only"]
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        for_order = order if data.pop("for_order_only", False) else None
        if order is not None and for_order is None and not order.gtin:
            form.add_error(
                "for_order_only",
                _("PO %(number)s has no GTIN: its sample can only be for this order.")
                % {"number": order.number},
            )
        else:
            try:
                sample = samples.approved_sample_create(user=request.user, order=for_order, **data)
            except (ValidationError, PermissionDenied) as error:
                form_refused(form, error)
            else:
                messages.success(
                    request,
                    _("Approved sample of %(product)s recorded (version 1).")
                    % {"product": sample.product_name},
                )
                return redirect("sample-detail", pk=sample.pk)
    existing = samples.approved_sample_for(order) if order is not None else None
    return render(
        request,
        "orders/sample_form.html",
        {"form": form, "order": order, "sample": None, "existing": existing},
    )


@login_required
@require_http_methods(["GET"])
def sample_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    sample = samples.sample_for(request.user, pk)
    versions = samples.sample_versions(sample)
    newest = versions[0] if versions else sample
    # The orders it applies to, for the buyer's staff (another party sees only its own).
    applies_to: list[PurchaseOrder] = []
    if is_buyer_side(request.user):
        if sample.order is not None:
            applies_to = [sample.order]
        else:
            # The product's orders, but those with a sample of their own.
            applies_to = list(
                orders_visible_to(request.user)
                .filter(buyer_id=sample.buyer_id, gtin=sample.gtin, approved_samples__isnull=True)
                .order_by("-order_date", "-id")[:20]
            )
    return render(
        request,
        "orders/sample_detail.html",
        {
            "sample": sample,
            "newest": newest,
            "versions": versions,
            "applies_to": applies_to,
            "show_instruction": samples.may_show_instruction(request.user),
            "can_manage": can_manage_approved_samples(request.user),
            "buyer_side": is_buyer_side(request.user),
        },
    )


@login_required
@require_http_methods(GET_POST)
def sample_new_version(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    sample = samples.sample_for(request.user, pk)
    if not can_manage_approved_samples(request.user):
        raise PermissionDenied
    if not sample.is_current:
        newest = samples.sample_versions(sample)[0]
        messages.info(
            request,
            _("Version %(old)s was replaced by version %(new)s: this is the newest.")
            % {"old": sample.version, "new": newest.version},
        )
        return redirect("sample-new-version", pk=newest.pk)
    initial = {name: getattr(sample, name) for name in samples.LAYOUT_FIELDS}
    form = ApprovedSampleVersionForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            new = samples.approved_sample_new_version(
                sample=sample, user=request.user, **form.cleaned_data
            )
        except (ValidationError, PermissionDenied) as error:
            form_refused(form, error)
        else:
            messages.success(
                request,
                _("Version %(new)s recorded; version %(old)s stays on file.")
                % {"new": new.version, "old": sample.version},
            )
            return redirect("sample-detail", pk=new.pk)
    return render(
        request,
        "orders/sample_form.html",
        {"form": form, "order": sample.order, "sample": sample, "existing": None},
    )


@login_required
@require_http_methods(["GET"])
def sample_photo(request: AuthenticatedRequest, pk: int, which: str) -> FileResponse:
    """One of the sample's photos as the pages show it: our own re-encoded JPEG, without
    metadata, so safe to show inline; to whoever may see the sample."""
    sample: ApprovedSample = samples.sample_for(request.user, pk)
    try:
        name = samples.sample_photo_view(sample, which)
    except (OSError, ValueError):
        raise Http404(_("The photo is not available.")) from None
    if not default_storage.exists(name):
        raise Http404(_("The photo is not available."))
    response = FileResponse(
        default_storage.open(name, "rb"),
        filename=f"approved-sample-{sample.pk}-{which}.jpg",
        content_type="image/jpeg",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
