"""GS1 Digital Link in: ``/01/{gtin}/21/{serial}`` sends the brand's staff to the lookup and
answers everyone else with the public genuine-or-not page (``lookup.public``); and the brand's
"Public checks" page, where its staff see where its serials are checked."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from lookup.models import PublicCheck
from lookup.public import (
    REPEATED_MIN,
    can_see_public_checks,
    is_brand_staff,
    public_check,
    public_check_allowed,
    public_check_hot_spots,
    public_check_log,
)
from lookup.results import LOOKUP_STYLES, LookupStatus
from portal.roles import membership_of
from portal.typing import AuthenticatedRequest

V = PublicCheck.Verdict
# How each verdict looks: a colour, an icon (the lookup's own for the same meaning).
VERDICT_STYLES: dict[str, tuple[str, str]] = {
    V.GENUINE: LOOKUP_STYLES[LookupStatus.CLEAN],
    V.UNCONFIRMED: ("text-bg-warning", "bi-question-circle"),
    V.DESTROYED: LOOKUP_STYLES[LookupStatus.DESTROYED],
    V.NOT_CHECKED: ("text-bg-secondary", "bi-hourglass-split"),
}


@require_GET
def digital_link(request: HttpRequest, gtin: str, serial: str) -> HttpResponse:
    """The brand's staff: the lookup of this serial. Anyone else, signed in or not (another
    brand's staff included): the public verdict, counted against the client's rate limit and
    logged for the brand."""
    if is_brand_staff(request.user, request.get_full_path()):
        # The link's path names the unit; its query (read and ignored) stays behind, so that
        # no length of it can break the lookup's input.
        query = urlencode({"serial": request.build_absolute_uri(request.path)})
        return HttpResponseRedirect(f"{reverse('serial-lookup')}?{query}")
    allowed, retry_after = public_check_allowed(request)
    answer = public_check(
        full_path=request.get_full_path(), gtin_asked=gtin, serial_asked=serial, run=allowed
    )
    public_check_log(request=request, answer=answer)
    context = {
        "answer": answer,
        "css": VERDICT_STYLES[answer.verdict],
        "signed_in": request.user.is_authenticated,
    }
    if not allowed:
        response = render(
            request,
            "lookup/public_limited.html",
            {**context, "retry_minutes": max(1, -(-retry_after // 60))},
            status=429,
        )
        response["Retry-After"] = str(retry_after)
    else:
        response = render(request, "lookup/public_check.html", context)
    # A verdict can change (a serial declared destroyed tomorrow): no cache keeps today's.
    patch_cache_control(response, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_required
@require_GET
def public_checks_page(request: AuthenticatedRequest) -> HttpResponse:
    """The brand's own public checks: counts, hot spots and the latest checks."""
    if not can_see_public_checks(request.user):
        raise PermissionDenied
    membership = membership_of(request.user)
    assert membership is not None  # can_see_public_checks needs one
    spots = public_check_hot_spots(brand=membership.organisation)
    return render(
        request,
        "lookup/public_checks.html",
        {
            "spots": spots,
            "repeated_min": REPEATED_MIN,
            "recent": [(check, VERDICT_STYLES[check.verdict]) for check in spots.recent],
        },
    )
