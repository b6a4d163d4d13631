"""The exceptions table (django-tables2): sortable, one row per exception, with the row's own
answer (the supplier) or decision (the buyer) in its last column."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables  # type: ignore[import-untyped]
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from serials.exception_models import ANSWER_REASONS, REASON_EXPLANATIONS
from serials.forms import RowInput
from serials.models import ExceptionDecision, SerialException

ANSWER, DECIDE = "answer", "decide"


def _cell(label: Any, **attrs: str) -> dict[str, dict[str, Any]]:
    """A column's cells name their column (a phone shows each row as a card: serials.css)."""
    return {"td": {"data-label": label, **attrs}}


class ExceptionTable(tables.Table):
    select = tables.Column(
        verbose_name="",
        empty_values=(),
        orderable=False,
        attrs={"th": {"class": "col-check"}, "td": {"class": "col-check"}},
    )
    exception = tables.Column(
        verbose_name=_("Exception"),
        accessor="kind",
        order_by=("kind", "id"),
        attrs=_cell(""),
    )
    count = tables.Column(
        verbose_name=_("Counted"),
        attrs={
            "th": {"class": "text-end"},
            "td": {"class": "text-end text-nowrap cell-inline", "data-label": ""},
        },
    )
    answer = tables.Column(
        verbose_name=_("Supplier's answer"),
        accessor="latest_reason",
        empty_values=(),
        order_by=("latest_reason", "id"),
        attrs=_cell(_("Supplier's answer"), **{"class": "small"}),
    )
    status = tables.Column(
        verbose_name=_("Status"), attrs={"td": {"class": "cell-inline", "data-label": ""}}
    )
    respond = tables.Column(
        verbose_name=_("Your answer"), empty_values=(), orderable=False, attrs=_cell("")
    )

    class Meta:
        model = SerialException
        fields: tuple[str, ...] = ()
        sequence = ("select", "exception", "count", "answer", "status", "respond")
        order_by = ("id",)
        empty_text = _("No exceptions match.")
        attrs = {"class": "table table-hover align-middle mb-0 table-stack exceptions-table"}

    def __init__(
        self,
        *args: Any,
        mode: str = "",
        inputs: dict[int, RowInput] | None = None,
        buyer_side: bool = False,
        **kwargs: Any,
    ) -> None:
        """``mode``: ANSWER (the supplier), DECIDE (the buyer) or "" (reading only);
        ``inputs``: what a refused submission held, to show again with its errors."""
        exclude = () if mode else ("select", "respond")
        self.inputs = inputs or {}
        kwargs["row_attrs"] = {
            "id": lambda record: f"exception-{record.pk}",
            "class": lambda record: "table-danger" if self._input(record).error else "",
        }
        super().__init__(*args, exclude=exclude, **kwargs)
        self.mode = mode
        self.buyer_side = buyer_side
        if mode:
            self.columns["select"].column.verbose_name = format_html(
                '<input class="form-check-input" type="checkbox" aria-label="{}" '
                'data-select-all="input[name=exception]">',
                _("Select all"),
            )
            self.columns["respond"].column.verbose_name = (
                _("Your answer") if mode == ANSWER else _("Your decision")
            )

    def _input(self, record: SerialException) -> RowInput:
        return self.inputs.get(record.pk) or RowInput()

    def _can_act(self, record: SerialException) -> bool:
        if self.mode == ANSWER:
            return record.status != SerialException.Status.ACCEPTED
        return record.status == SerialException.Status.ANSWERED

    def render_select(self, record: SerialException) -> str:
        if not self._can_act(record):
            return ""
        return format_html(
            '<input class="form-check-input" type="checkbox" name="exception" value="{}" '
            'aria-label="{}"{}>',
            record.pk,
            _("Select %(summary)s") % {"summary": record.summary},
            " checked" if self._input(record).ticked else "",
        )

    def render_exception(self, record: SerialException) -> str:
        return render_to_string(
            "serials/_exception_cell.html",
            {"exception": record, "buyer_side": self.buyer_side},
        )

    def render_count(self, record: SerialException) -> str:
        return record.count_label

    def render_answer(self, record: SerialException) -> str:
        return render_to_string("serials/_exception_answer.html", {"exception": record})

    def render_status(self, record: SerialException) -> str:
        return format_html(
            '<span class="status-badge exception-status-{}">{}</span>',
            record.status,
            record.get_status_display(),
        )

    def render_respond(self, record: SerialException) -> str:
        if not self._can_act(record):
            return ""
        choices = ANSWER_REASONS if self.mode == ANSWER else ExceptionDecision.Decision.choices
        return render_to_string(
            "serials/_exception_respond.html",
            {
                "exception": record,
                "row": self._input(record),
                "mode": self.mode,
                "choices": [
                    (value, label, REASON_EXPLANATIONS.get(value, "")) for value, label in choices
                ],
            },
        )

    def value_answer(self, record: SerialException) -> str:
        answer = record.latest_answer
        return answer.get_reason_display() if answer else ""
