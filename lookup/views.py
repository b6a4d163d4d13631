"""Customer service's serial lookup page: one serial on screen, or many as a CSV."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from lookup.forms import BulkLookupForm, SerialLookupForm
from lookup.inputs import BULK_LIMIT
from lookup.label_links import label_link, label_qr_svg
from lookup.log import lookup_log, recent_lookups
from lookup.models import LookupLog
from lookup.results import (
    BULK_CSV_HEADER,
    LOOKUP_MEANINGS,
    LOOKUP_STYLES,
    LookupResult,
    LookupStatus,
    bulk_csv_rows,
)
from lookup.selectors import membership_prefetch, serial_lookup, serials_lookup_bulk
from orders.models import Batch
from orders.selectors import orders_visible_to
from portal.exports import csv_response
from portal.pages import Headline, batch_headline
from portal.roles import is_buyer_side
from portal.typing import AuthenticatedRequest
from serials.services import life_states_for


def _lookup_page(
    request: AuthenticatedRequest,
    form: SerialLookupForm,
    bulk_form: BulkLookupForm,
    result: LookupResult | None = None,
    status: int = 200,
) -> HttpResponse:
    findings = []
    if result is not None:
        findings = [
            {"finding": f, "label": LookupStatus(f.status).label, "css": LOOKUP_STYLES[f.status]}
            for f in result.findings
        ]
    today = timezone.localdate()
    return render(
        request,
        "lookup/lookup.html",
        {
            "form": form,
            "bulk_form": bulk_form,
            "result": result,
            "findings": findings,
            "style": LOOKUP_STYLES[result.status] if result else None,
            "in_warranty": bool(result and result.warranty_end and result.warranty_end >= today),
            "legend": [
                (LookupStatus(s).label, LOOKUP_STYLES[s], LOOKUP_MEANINGS[s])
                for s in LookupStatus.values
            ],
            "limit": BULK_LIMIT,
            # Django refuses a larger form field before any view runs (400).
            "paste_limit_mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024),
            "recent_lookups": recent_lookups(request.user),
            "decision": _decision(request, result),
            "label_link": label_link(result.product, result.serial)
            if result is not None and result.batch_code
            else "",
            # Which life events this person may record from the result (serials.services).
            "life_states": [value for value, _label in life_states_for(request.user)],
        },
        status=status,
    )


def _decision(request: AuthenticatedRequest, result: LookupResult | None) -> Headline | None:
    """The decision in force on the unit's batch (its approval, what it tested), as the batch
    page leads with it (``portal.pages.batch_headline``)."""
    if result is None or not result.batch_code:
        return None
    batch = (
        Batch.objects.filter(
            order__in=orders_visible_to(request.user),
            order__number=result.order_number,
            code=result.batch_code,
        )
        .select_related("order")
        .first()
    )
    return batch_headline(request.user, batch) if batch is not None else None


@login_required
@require_http_methods(["GET"])
def serial_lookup_page(request: AuthenticatedRequest) -> HttpResponse:
    """Customer service's search box: one serial (plain, GS1 element string or Digital Link)."""
    membership_prefetch(request.user)
    if not is_buyer_side(request.user):
        raise PermissionDenied
    form = SerialLookupForm(request.GET if "serial" in request.GET else None)
    result = None
    if form.is_bound and form.is_valid():
        text = form.cleaned_data["serial"]
        result = serial_lookup(user=request.user, text=text)
        lookup_log(user=request.user, results=[result], channel=LookupLog.Channel.PAGE, query=text)
    return _lookup_page(request, form, BulkLookupForm(), result, 200 if not form.errors else 400)


@login_required
@require_POST
def serial_lookup_bulk(request: AuthenticatedRequest) -> HttpResponse:
    """Pasted or uploaded serials → a CSV, one row per input line, formula-safe."""
    if not is_buyer_side(request.user):
        raise PermissionDenied
    form = BulkLookupForm(request.POST, request.FILES)
    if not form.is_valid():
        return _lookup_page(request, SerialLookupForm(), form, status=400)
    results = serials_lookup_bulk(user=request.user, texts=form.cleaned_data["texts"])
    upload = form.cleaned_data.get("file")
    lookup_log(
        user=request.user,
        results=results,
        channel=LookupLog.Channel.PAGE_BULK,
        file_name=(upload.name or "") if upload is not None else "",
    )
    return csv_response(
        f"serial-lookup-{timezone.now():%Y%m%d-%H%M%S}.csv",
        BULK_CSV_HEADER,
        bulk_csv_rows(results),
    )


@login_required
@require_http_methods(["GET"])
def label_qr(request: AuthenticatedRequest) -> HttpResponse:
    """The QR code of a unit's Digital Link (``?product=…&serial=…``), as an SVG file for a
    label: the brand's staff only. Nothing is read from the records; 404 for a product that is
    not a GTIN or a serial a Digital Link cannot carry."""
    if not is_buyer_side(request.user):
        raise Http404
    serial = request.GET.get("serial", "")[:100]
    link = label_link(request.GET.get("product", "")[:32], serial)
    if not link:
        raise Http404("Not a GTIN and a serial of at most 20 GS1 characters.")
    response = HttpResponse(label_qr_svg(link), content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="label-{quote(serial, safe="")}.svg"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
