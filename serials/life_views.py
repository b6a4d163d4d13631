"""A serial's life, recorded by the buyer's staff: a unit returned (customer service and the
managers), labels or units destroyed, a serial decommissioned (the managers). One page per
batch, reached from the lookup (one serial) or the batch (a counter range); the proving file is
served to the buyer's staff who see the batch."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from orders.selectors import batch_for, batches_visible_to
from portal.forms import form_refused
from portal.models import AuditEvent
from portal.roles import is_buyer_side
from portal.timeline import actor, batch_link_register, label_of, quoted, sentence_register, value
from portal.typing import AuthenticatedRequest
from serials import services
from serials.life_models import SerialLifeEvent
from serials.models import NumberingRule

STATE_MEANINGS: dict[str, Promise] = {
    SerialLifeEvent.State.RETURNED: gettext_lazy(
        "a customer sent the unit back (an RMA, a warranty claim); its serial stays valid"
    ),
    SerialLifeEvent.State.DESTROYED: gettext_lazy(
        "the unit or its label no longer exists (scrapped, burnt, a damaged reel of labels); "
        "a unit that turns up with the serial is not genuine"
    ),
    SerialLifeEvent.State.DECOMMISSIONED: gettext_lazy(
        "the serial is taken out of use for good (recalled, withdrawn), whether or not the "
        "unit still exists"
    ),
}


class SerialLifeForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("What happened"))
    first_serial = forms.CharField(label=gettext_lazy("Serial (or the first of a range)"))
    last_serial = forms.CharField(
        label=gettext_lazy("Last serial of the range"),
        required=False,
        help_text=gettext_lazy("Empty for one serial. Allocated codes: one by one."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Why"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    reference = forms.CharField(
        label=gettext_lazy("The record that proves it"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("A destruction certificate's number, an RMA, a ticket…"),
    )
    proof = forms.FileField(
        label=gettext_lazy("Its scan or photo (PDF, JPEG, PNG, WebP)"), required=False
    )
    # Shown once the service has said that shipped units carry some of the serials.
    shipped_confirmed = forms.BooleanField(
        label=gettext_lazy(
            "I checked: record these serials even though units carrying them shipped."
        ),
        required=False,
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I understand that this is kept for good: it cannot be edited or removed, and a "
            "destroyed or decommissioned serial can never be accepted again."
        )
    )

    def __init__(self, *args: Any, states: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("Choose…")), *states]
        cast(forms.ChoiceField, self.fields["state"]).choices = choices


@login_required
@require_http_methods(["GET", "POST"])
def batch_serial_life(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The batch's recorded life events, to the buyer's staff who see it; and, to those who
    may record, the form to add one (prefilled from the lookup: ``?serial=…&state=…``)."""
    batch = batch_for(request.user, pk)
    if not is_buyer_side(request.user):
        raise PermissionDenied
    states = services.life_states_for(request.user)
    form: SerialLifeForm | None = None
    if request.method == "POST":
        state = request.POST.get("state", "")
        if not states or (
            state in SerialLifeEvent.State.values
            and not services.can_record_life_state(request.user, state)
        ):
            raise PermissionDenied
        form = SerialLifeForm(request.POST, request.FILES, states=states)
        if form.is_valid():
            data = form.cleaned_data
            try:
                event = services.serial_life_record(
                    batch=batch,
                    user=request.user,
                    state=data["state"],
                    first_serial=data["first_serial"],
                    last_serial=data["last_serial"],
                    reason=data["reason"],
                    reference=data["reference"],
                    proof=data["proof"],
                    shipped_confirmed=data["shipped_confirmed"],
                )
            except (ValidationError, PermissionDenied) as error:
                form_refused(form, error)
            else:
                messages.success(
                    request,
                    _("Recorded: %(event)s. It is on the serial's life line from now on.")
                    % {"event": event},
                )
                return redirect("batch-serial-life", batch.pk)
    elif states:
        initial = {
            "first_serial": request.GET.get("serial", "")[:100],
            "last_serial": request.GET.get("last", "")[:100],
            # A state this person may not record is not chosen for them.
            "state": next((v for v, _label in states if v == request.GET.get("state")), ""),
        }
        form = SerialLifeForm(initial=initial, states=states)
    rule = NumberingRule.for_order(batch.order)
    events = SerialLifeEvent.objects.filter(batch=batch).select_related("recorded_by")
    return render(
        request,
        "serials/life_record.html",
        {
            "batch": batch,
            "order": batch.order,
            "form": form,
            "rule": rule,
            "events": events.order_by("-recorded_at", "-id"),
            "state_meanings": [(label, STATE_MEANINGS[value]) for value, label in states],
        },
        status=400 if form is not None and form.is_bound and form.errors else 200,
    )


@login_required
@require_GET
def serial_life_file(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """The proving file of a life event, always as a download, to the buyer's staff who see
    its batch; anyone else: 404."""
    if not is_buyer_side(request.user):
        raise Http404
    event = get_object_or_404(
        SerialLifeEvent.objects.filter(batch__in=batches_visible_to(request.user)).exclude(file=""),
        pk=pk,
    )
    if not default_storage.exists(event.file.name):
        raise Http404(_("The file is not available."))
    response = FileResponse(
        default_storage.open(event.file.name, "rb"),
        as_attachment=True,
        filename=event.original_name,
        content_type=event.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _life_recorded(event: AuditEvent) -> str:
    first, last = value(event, "first_serial", ""), value(event, "last_serial", "")
    span = first if first == last else f"{first} – {last}"
    state = label_of(SerialLifeEvent.State.choices, value(event, "state", "")).lower()
    return _("%(actor)s recorded %(serials)s %(state)s: %(reason)s") % {
        "actor": actor(event),
        "serials": span,
        "state": state,
        "reason": quoted(value(event, "reason", "")),
    }


def life_sentences_register() -> None:
    """How a recorded life event reads on the order timeline (``portal.timeline``)."""
    sentence_register("serial_life.recorded", kind="serials", render=_life_recorded, tone="danger")
    batch_link_register("serials.SerialLifeEvent", "batch")
