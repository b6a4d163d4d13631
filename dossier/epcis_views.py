"""The batch's EPCIS 2.0 document, downloaded from the batch page (``batch_epcis``) or the API
(``dossier.api``). The buyer's staff only: its shipping events name the customers, which are
the buyer's; the supplier and the inspectors get 404, as for a batch that does not exist."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from dossier.epcis import MEDIA_TYPE, EpcisRefused, epcis_bytes, epcis_document, epcis_filename
from orders.models import Batch
from orders.selectors import batch_for
from portal.audit import audit_log
from portal.models import User
from portal.roles import is_buyer_side
from portal.typing import AuthenticatedRequest


def epcis_batch_for(user: User, pk: int) -> Batch:
    """The batch, if the caller is the buyer's staff and may see it; 404 otherwise."""
    batch = batch_for(user, pk)
    if not is_buyer_side(user):
        raise Http404("The EPCIS export is the buyer's.")
    return batch


def epcis_download(*, user: User, batch: Batch) -> HttpResponse:
    """The document as an attachment (``EpcisRefused`` when it cannot be written yet), each
    download in the order's audit log with the file's SHA-256: the buyer's records leaving the
    portal."""
    document = epcis_document(batch)
    body = epcis_bytes(document)
    audit_log(
        actor=user,
        action="batch.epcis_downloaded",
        obj=batch,
        order=batch.order,
        payload={
            "sha256": hashlib.sha256(body).hexdigest(),
            "events": len(document["epcisBody"]["eventList"]),
        },
    )
    response = HttpResponse(body, content_type=MEDIA_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{epcis_filename(batch)}"'
    return response


@login_required
@require_http_methods(["GET"])
def batch_epcis(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The document as a file; a batch that cannot be written yet goes back to its page with
    what to set or do."""
    batch = epcis_batch_for(request.user, pk)
    try:
        return epcis_download(user=request.user, batch=batch)
    except EpcisRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("batch-detail", pk=batch.pk)
