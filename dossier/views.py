"""The dossier download: scoped lookup, the buyer's side only, logged."""

from __future__ import annotations

import hashlib

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_http_methods

from dossier.build import dossier_file, dossier_filename
from orders.selectors import order_for
from portal.audit import audit_log
from portal.roles import is_buyer_side
from portal.typing import AuthenticatedRequest


@login_required
@require_http_methods(["GET"])
def order_dossier(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """The dispute dossier as one ZIP download; internal to the buyer, and logged."""
    order = order_for(request.user, pk)
    if not is_buyer_side(request.user):
        raise Http404("The dossier is internal to the buyer.")
    archive = dossier_file(order=order)
    # The ZIP's hash goes into the chain: what the dossier's SHA256SUMS cannot say about itself.
    digest = hashlib.sha256()
    while chunk := archive.read(1024 * 1024):
        digest.update(chunk)
    archive.seek(0)
    audit_log(
        actor=request.user,
        action="order.dossier_downloaded",
        obj=order,
        payload={"sha256": digest.hexdigest(), "filename": dossier_filename(order)},
        order=order,
    )
    return FileResponse(archive, as_attachment=True, filename=dossier_filename(order))
