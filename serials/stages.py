"""The serial list and exceptions steps of a batch's story strip (``portal.pages.Stage``),
registered in ``SerialsConfig.ready()``."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth.models import AnonymousUser
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orders.models import Batch
from portal.models import User
from portal.pages import Stage
from serials.models import SerialException
from serials.selectors import batch_serial_status, current_exceptions, latest_production_list
from serials.states import BatchSerialStatus as Status

_LIST_STATES = {
    Status.NONE: "todo",
    Status.VALIDATING: "waiting",
    Status.FAILED: "problem",
}


def serial_stages(user: User | AnonymousUser, batch: Batch) -> list[Stage]:
    status = batch_serial_status(batch)
    serial_list = latest_production_list(batch)
    page = reverse("batch-detail", args=[batch.pk]) + "#serials"
    if serial_list is None:
        listed = Stage(_("Serial list"), "todo", _("Not uploaded yet"), page)
    else:
        report = serial_list.validation_report
        summary = str(status.label)
        if report is not None:
            summary = ngettext("%(rows)s row", "%(rows)s rows", report.rows) % {
                "rows": intcomma(report.rows)
            }
            if status == Status.ACCEPTED:
                summary = _("%(summary)s, accepted") % {"summary": summary}
        listed = Stage(
            _("Serial list"),
            _LIST_STATES.get(status, "done"),
            summary,
            reverse("serial-list-detail", args=[serial_list.pk]),
        )
    counts = Counter(current_exceptions(batch).values_list("status", flat=True))
    return [listed, _exceptions_stage(status, counts, reverse("batch-exceptions", args=[batch.pk]))]


def _exceptions_stage(status: Status, counts: Counter[str], url: str) -> Stage:
    """The first status with exceptions in it speaks for the step, in this order."""
    name = _("Exceptions")
    if status in _LIST_STATES:
        return Stage(name, "todo", _("After the list is read"), url)
    pending = (
        (SerialException.Status.OPEN, "waiting", _("%(count)s open, for the supplier")),
        (SerialException.Status.ANSWERED, "waiting", _("%(count)s answered, for the buyer")),
        (SerialException.Status.REJECTED, "problem", _("%(count)s rejected")),
    )
    for value, state, text in pending:
        if counts[value]:
            return Stage(name, state, text % {"count": intcomma(counts[value])}, url)
    if counts:
        return Stage(
            name, "done", _("%(count)s accepted") % {"count": intcomma(counts.total())}, url
        )
    return Stage(name, "done", _("None"), url)
