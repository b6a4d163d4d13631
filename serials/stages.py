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
    url = reverse("batch-exceptions", args=[batch.pk])
    if status in _LIST_STATES:
        exceptions = Stage(_("Exceptions"), "todo", _("After the list is read"), url)
    elif counts[SerialException.Status.OPEN]:
        exceptions = Stage(
            _("Exceptions"),
            "waiting",
            _("%(count)s open, for the supplier") % {"count": intcomma(counts["open"])},
            url,
        )
    elif counts[SerialException.Status.ANSWERED]:
        exceptions = Stage(
            _("Exceptions"),
            "waiting",
            _("%(count)s answered, for the buyer") % {"count": intcomma(counts["answered"])},
            url,
        )
    elif counts[SerialException.Status.REJECTED]:
        exceptions = Stage(
            _("Exceptions"),
            "problem",
            _("%(count)s rejected") % {"count": intcomma(counts["rejected"])},
            url,
        )
    elif counts:
        total = intcomma(sum(counts.values()))
        exceptions = Stage(_("Exceptions"), "done", _("%(count)s accepted") % {"count": total}, url)
    else:
        exceptions = Stage(_("Exceptions"), "done", _("None"), url)
    return [listed, exceptions]
