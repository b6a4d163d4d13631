"""The dossier page: the buyer's staff ask for a build, watch it, and download it; scoped, and
each download logged with the ZIP's SHA-256."""

from __future__ import annotations

import hashlib
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from dossier.build import dossier_filename
from dossier.models import DossierExport
from dossier.services import dossier_export_request
from orders.models import PurchaseOrder
from orders.selectors import order_for
from portal.audit import audit_log
from portal.roles import is_buyer_side
from portal.typing import AuthenticatedRequest

logger = logging.getLogger(__name__)

# The page lists this many of an order's exports, newest first.
SHOWN = 20
# A build still queued after this long gets a hint that no worker may be running.
SLOW_SECONDS = 60


def _order(request: AuthenticatedRequest, pk: int) -> PurchaseOrder:
    """The order, if the caller is the buyer's staff and may see it; 404 otherwise, as for an
    order that does not exist (the dossier is internal to the buyer)."""
    order = order_for(request.user, pk)
    if not is_buyer_side(request.user):
        raise Http404("The dossier is internal to the buyer.")
    return order


def _exports(order: PurchaseOrder) -> QuerySet[DossierExport]:
    return (
        DossierExport.objects.filter(order=order)
        .select_related("requested_by")
        .order_by("-created_at", "-id")
    )


def _context(order: PurchaseOrder) -> dict[str, object]:
    exports = list(_exports(order)[:SHOWN])
    now = timezone.now()
    return {
        "order": order,
        "exports": exports,
        "building": any(not export.is_finished for export in exports),
        "waiting_long": any(
            export.status == DossierExport.Status.QUEUED
            and (now - export.created_at).total_seconds() > SLOW_SECONDS
            for export in exports
        ),
        "more": DossierExport.objects.filter(order=order).count() - len(exports),
    }


@login_required
@require_http_methods(["GET"])
def order_dossier(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The order's dossier exports, newest first, with a button to build a new one."""
    order = _order(request, pk)
    return render(request, "dossier/order_dossier.html", _context(order))


@login_required
@require_http_methods(["GET"])
def order_dossier_progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The exports' list the page polls while a build is queued or running."""
    order = _order(request, pk)
    return render(request, "dossier/_exports.html", _context(order))


@login_required
@require_POST
def order_dossier_export(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Ask for a build; a worker writes the ZIP (at once, in the request, with eager tasks)."""
    order = _order(request, pk)
    export, created = dossier_export_request(order=order, user=request.user)
    if not created:
        messages.info(
            request,
            f"A dossier of PO {order.number} is already being built (export #{export.pk}); "
            "its progress is below.",
        )
    else:
        export.refresh_from_db()
        if export.status == DossierExport.Status.DONE:
            messages.success(request, f"The dossier of PO {order.number} is ready to download.")
        elif export.status == DossierExport.Status.FAILED:
            messages.error(request, export.error)
        else:
            messages.success(
                request,
                f"The dossier of PO {order.number} is being built; its progress is below.",
            )
    return redirect("order-dossier", pk=order.pk)


@login_required
@require_http_methods(["GET"])
def order_dossier_download(request: AuthenticatedRequest, pk: int, export: int) -> HttpResponseBase:
    """The finished ZIP, streamed from private storage, if its bytes still hash to what the
    build recorded; the download is logged with that hash."""
    order = _order(request, pk)
    found = get_object_or_404(
        DossierExport.objects.filter(order=order, status=DossierExport.Status.DONE), pk=export
    )
    try:
        stored = default_storage.open(found.file.name, "rb")
    except OSError:
        logger.error("Dossier export %s: its stored file %s is missing", found.pk, found.file)
        return _unavailable(request, order, found, "its file is missing from storage")
    digest = hashlib.sha256()
    while chunk := stored.read(1024 * 1024):
        digest.update(chunk)
    if digest.hexdigest() != found.sha256:
        stored.close()
        logger.error("Dossier export %s: its stored file no longer matches its hash", found.pk)
        return _unavailable(
            request, order, found, "its stored file no longer matches the SHA-256 recorded"
        )
    stored.seek(0)
    filename = dossier_filename(order)
    audit_log(
        actor=request.user,
        action="order.dossier_downloaded",
        obj=found,
        payload={"sha256": found.sha256, "filename": filename, "export": found.pk},
        order=order,
    )
    return FileResponse(stored, as_attachment=True, filename=filename)


def _unavailable(
    request: AuthenticatedRequest, order: PurchaseOrder, export: DossierExport, why: str
) -> HttpResponse:
    messages.error(
        request,
        f"Dossier export #{export.pk} cannot be downloaded: {why}. Build a new one; the "
        "portal's integrity check names the file.",
    )
    response = render(request, "dossier/order_dossier.html", _context(order))
    response.status_code = 409
    return response
