"""Customer service's serial lookup page: one serial on screen, or many as a CSV."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from lookup.forms import BulkLookupForm, SerialLookupForm
from lookup.inputs import BULK_LIMIT
from lookup.results import (
    BULK_CSV_HEADER,
    LOOKUP_MEANINGS,
    LookupResult,
    LookupStatus,
    bulk_csv_rows,
)
from lookup.selectors import membership_prefetch, serial_lookup, serials_lookup_bulk
from portal.exports import csv_response
from portal.roles import is_buyer_side
from portal.typing import AuthenticatedRequest

# Keyed by the status text a result or finding carries (LookupStatus members are those strings).
LOOKUP_STYLES: dict[str, tuple[str, str]] = {
    LookupStatus.CLEAN: ("text-bg-success", "bi-check-circle"),
    LookupStatus.ACCEPTED_EXCEPTION: ("text-bg-info", "bi-shield-check"),
    LookupStatus.FAILED_INSPECTION: ("text-bg-danger", "bi-clipboard-x"),
    LookupStatus.OUT_OF_RANGE: ("text-bg-warning", "bi-arrows-expand"),
    LookupStatus.DUPLICATED: ("text-bg-warning", "bi-files"),
    LookupStatus.REUSED: ("text-bg-danger", "bi-arrow-repeat"),
    LookupStatus.UNKNOWN: ("text-bg-secondary", "bi-question-circle"),
    LookupStatus.MALFORMED: ("text-bg-dark", "bi-x-octagon"),
    LookupStatus.DESTROYED: ("text-bg-danger", "bi-exclamation-octagon-fill"),
}


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
        },
        status=status,
    )


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
        result = serial_lookup(user=request.user, text=form.cleaned_data["serial"])
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
    return csv_response(
        f"serial-lookup-{timezone.now():%Y%m%d-%H%M%S}.csv",
        BULK_CSV_HEADER,
        bulk_csv_rows(results),
    )
