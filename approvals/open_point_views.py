"""Closing an open point of an approval accepted with conditions: the buyer any, the supplier
those its parties own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from approvals import services as approvals
from approvals.models import OpenPoint, OpenPointClosure
from portal.errors import Conflict, message_of
from portal.forms import BootstrapFormMixin
from portal.typing import AuthenticatedRequest


@dataclass(frozen=True)
class OpenPointRow:
    """An open point as a page lists it: open, overdue or closed (with its closure)."""

    point: OpenPoint
    state: str
    closure: OpenPointClosure | None
    can_close: bool


def open_point_rows(
    request: AuthenticatedRequest, points: Iterable[OpenPoint]
) -> list[OpenPointRow]:
    rows = []
    today = timezone.localdate()
    for point in points:
        closure = getattr(point, "closure", None)
        if closure is not None:
            state = "closed"
        elif point.due_on < today:
            state = "overdue"
        else:
            state = "open"
        can_close = closure is None and approvals.can_close(request.user, point)
        rows.append(OpenPointRow(point, state, closure, can_close))
    return rows


class OpenPointCloseForm(BootstrapFormMixin, forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        label=gettext_lazy("How was it settled?"),
    )
    record = forms.ChoiceField(
        required=False,
        label=gettext_lazy("The record that closes it"),
        help_text=gettext_lazy(
            "An evidence item or a statement of the approval's batch; upload or write it first."
        ),
    )

    def __init__(self, *args: Any, records: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["record"]).choices = [
            ("", _("No record: the note says it all")),
            *records,
        ]


@login_required
@require_http_methods(["GET", "POST"])
def open_point_close(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Close one open point with a note and the record that closes it: the buyer any, the
    supplier those owned by a party of its responsibility map."""
    point = get_object_or_404(approvals.open_points_visible_to(request.user), pk=pk)
    if not approvals.can_close(request.user, point):
        raise PermissionDenied
    form = OpenPointCloseForm(request.POST or None, records=approvals.closing_records(point))
    closure = getattr(point, "closure", None)
    if request.method == "POST" and closure is None and form.is_valid():
        try:
            approvals.open_point_close(
                point=point,
                user=request.user,
                note=form.cleaned_data["note"],
                record=form.cleaned_data["record"],
            )
        except (ValidationError, Conflict) as error:
            form.add_error(None, message_of(error))
        else:
            messages.success(request, _("Open point closed."))
            return redirect("approval-detail", pk=point.approval_id)
    return render(
        request,
        "approvals/open_point_close.html",
        {
            "point": point,
            "row": open_point_rows(request, [point])[0],
            "approval": point.approval,
            "order": point.approval.order,
            "batch": point.approval.batch,
            "form": form,
            "closure": closure,
            "crumb": _("Close an open point"),
        },
    )
