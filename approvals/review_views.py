"""The review page of a batch: the records side by side, ending in a draft of the sentence."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from approvals.models import Approval
from approvals.review import batch_review
from orders.promises import Promise
from orders.selectors import batch_for
from portal.roles import can_manage_orders, can_review_batches
from portal.typing import AuthenticatedRequest


@login_required
@require_GET
def batch_review_page(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    batch = batch_for(request.user, pk)
    if not can_review_batches(request.user):
        # Internal to the buyer, like the timeline: the rest are not told it exists.
        raise Http404
    review = batch_review(batch, request.user)
    return render(
        request,
        "approvals/batch_review.html",
        {
            "batch": batch,
            "order": batch.order,
            "review": review,
            "decisions": Approval.Decision.choices,
            "promise_choices": Promise.choices,
            "can_draft": can_manage_orders(request.user),
        },
    )
