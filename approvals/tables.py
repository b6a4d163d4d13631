"""The finance board's table: one row per gate (``approvals.money.GateMoney``), sortable."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables  # type: ignore[import-untyped]
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

CELLS = "approvals/board/"


def _labelled(label: Any, css: str = "") -> dict[str, Any]:
    """Cell attributes: on a phone the table stacks, and each cell shows its column's name."""
    attrs: dict[str, Any] = {"td": {"data-label": label}}
    if css:
        attrs["td"]["class"] = css
        attrs["th"] = {"class": css}
    return attrs


class CellColumn(tables.Column):
    """A cell drawn by a small template from the row's ``GateMoney`` (``record``) and the table.

    django-tables2's TemplateColumn renders each cell with the request, which runs every
    context processor once per cell; these cells need none of them, so the number of queries
    stays the same however many gates there are."""

    def __init__(self, template_name: str, **kwargs: Any) -> None:
        kwargs.setdefault("empty_values", ())  # a gate without money still gets its cell
        super().__init__(**kwargs)
        self.template_name = template_name

    def render(self, record: Any, table: tables.Table, **kwargs: Any) -> str:
        return render_to_string(self.template_name, {"record": record, "table": table})


class GateTable(tables.Table):
    gate = CellColumn(
        f"{CELLS}gate.html",
        verbose_name=_("Gate"),
        accessor="gate",
        order_by=("gate__order__number", "gate__batch__code", "gate__kind"),
        attrs={"td": {"class": "board-gate"}, "th": {"class": "board-gate"}},
    )
    amount = CellColumn(
        f"{CELLS}amount.html",
        verbose_name=_("Amount due"),
        order_by=("sort_amount",),
        attrs=_labelled(_("Amount due"), "text-end text-nowrap board-half"),
    )
    paid = CellColumn(
        f"{CELLS}paid.html",
        verbose_name=_("Paid so far"),
        order_by=("sort_paid",),
        attrs=_labelled(_("Paid so far"), "text-end board-half"),
    )
    outstanding = CellColumn(
        f"{CELLS}outstanding.html",
        verbose_name=_("Outstanding"),
        order_by=("sort_outstanding",),
        attrs=_labelled(_("Outstanding"), "text-end text-nowrap board-half"),
    )
    due_date = CellColumn(
        f"{CELLS}due.html",
        verbose_name=_("Due"),
        order_by=("sort_due",),
        attrs=_labelled(_("Due"), "text-nowrap board-half"),
    )
    state = CellColumn(
        f"{CELLS}state.html",
        verbose_name=_("State"),
        order_by=("state__state",),
        attrs=_labelled(_("State"), "board-state"),
    )

    class Meta:
        attrs = {"class": "table align-middle mb-0 table-stack board-table"}
        order_by = ("gate",)
        empty_text = _("No gates match.")
        template_name = "django_tables2/bootstrap5-responsive.html"

    def __init__(self, *args: Any, can_release: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.can_release = can_release  # the state cell then leads to the release confirmation
