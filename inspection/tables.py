"""The inspection page's list of sampled units (django-tables2): carton by carton by default,
sortable by serial, carton and result. Rows are ``selectors.UnitRow``s (a sample is at most a
few thousand units), so the carton order is the one the inspector walks: CTN-9 before CTN-10."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables  # type: ignore[import-untyped]
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from inspection.selectors import UnitRow

NO_WRAP = {"td": {"class": "text-nowrap"}}


class SampledUnitTable(tables.Table):
    serial = tables.Column(verbose_name=_("Serial"), order_by=("serial",))
    carton = tables.Column(verbose_name=_("Carton (list)"), order_by=("carton_key",), attrs=NO_WRAP)
    read = tables.Column(verbose_name=_("Label as read"), empty_values=(), orderable=False)
    found_in = tables.Column(
        verbose_name=_("Found in"), empty_values=(), orderable=False, attrs=NO_WRAP
    )
    state = tables.Column(verbose_name=_("Result"), order_by=("state_order", "carton_key"))

    class Meta:
        fields: tuple[str, ...] = ()
        sequence = ("serial", "carton", "read", "found_in", "state")
        order_by = ("carton",)
        empty_text = _("No unit matches these filters.")
        template_name = "inspection/_units_table.html"
        attrs = {"class": "table table-sm align-middle mb-0", "data-testid": "sampled-units"}
        row_attrs = {"data-unit": lambda record: record.unit.pk}

    def render_serial(self, record: UnitRow) -> Any:
        return format_html(
            '<a href="{}"><code>{}</code></a> <span class="small text-body-secondary">{}</span>',
            reverse("sampled-unit", args=[record.unit.pk]),
            record.serial,
            _("row %(row)s") % {"row": record.unit.position},
        )

    def render_carton(self, value: str) -> str:
        return value or "—"

    def render_read(self, record: UnitRow) -> Any:
        return render_to_string("inspection/_unit_read.html", {"row": record})

    def render_found_in(self, record: UnitRow) -> Any:
        result = record.result
        if result is None or not result.carton_found:
            return "—"
        if result.in_right_carton is False:
            return format_html(
                '<span class="text-danger fw-semibold">{}</span>', result.carton_found
            )
        return result.carton_found

    def render_state(self, record: UnitRow) -> Any:
        badge = render_to_string("inspection/_unit_state.html", {"row": record})
        if record.result is None or not record.result.defects:
            return badge
        return format_html('{}<div class="small text-break">{}</div>', badge, record.result.defects)
