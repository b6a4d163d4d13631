"""The exceptions page of a batch: the supplier answers and the buyer decides many rows in one
submission; the table sorts, filters and exports; an answer's attachment is served to those who
see its batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods
from django_tables2 import RequestConfig  # type: ignore[import-untyped]

from orders.models import Batch
from orders.selectors import batch_for, batches_visible_to
from portal.exports import csv_response
from portal.models import Role
from portal.roles import can_manage_orders, is_buyer_side, role_of
from portal.typing import AuthenticatedRequest
from serials import services
from serials.exception_models import ANSWER_REASONS, REASON_EXPLANATIONS
from serials.filters import ExceptionFilter, with_latest_reason
from serials.forms import (
    ExceptionAnswerForm,
    ExceptionDecisionForm,
    RowInput,
    answer_rows,
    decision_rows,
    row_inputs,
)
from serials.models import ExceptionAttachment, SerialException
from serials.selectors import exceptions_visible_to
from serials.services.answers import AnswerRow, DecisionRow, row_errors
from serials.tables import ANSWER, DECIDE, ExceptionTable

PER_PAGE = 100


@dataclass(frozen=True)
class RowProblem:
    """One refused row, as the page's summary names it: its position in the table shown."""

    pk: int
    number: int
    summary: str
    error: str


def _exceptions(request: AuthenticatedRequest, batch: Batch) -> QuerySet[SerialException]:
    return with_latest_reason(
        exceptions_visible_to(request.user)
        .filter(pk__in=services.current_exceptions(batch).values("pk"))
        .select_related("other_batch__order")
        .prefetch_related("answers__attachments", "answers__answered_by", "decisions__decided_by")
    )


def _mode(request: AuthenticatedRequest) -> str:
    if role_of(request.user) == Role.SUPPLIER:
        return ANSWER
    return DECIDE if can_manage_orders(request.user) else ""


@login_required
@require_http_methods(["GET", "POST"])
def batch_exceptions(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The exceptions of a batch: each row answered (or decided) on its own line, or ticked rows
    all at once, and everything sent in one submission that is written whole or not at all."""
    batch = batch_for(request.user, pk)
    mode = _mode(request)
    exceptions = _exceptions(request, batch)
    exception_filter = ExceptionFilter(request.GET, queryset=exceptions)
    table = ExceptionTable(exception_filter.qs, mode=mode, buyer_side=is_buyer_side(request.user))
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    # Their own ids: the filter above the table has a "reason" too.
    answer_form = ExceptionAnswerForm(
        request.POST or None, request.FILES or None, auto_id="bulk_%s"
    )
    decision_form = ExceptionDecisionForm(request.POST or None, auto_id="bulk_%s")
    problems: list[RowProblem] = []
    if request.method == "POST" and mode:
        shown = [row.record.pk for row in table.page.object_list] if table.page else []
        inputs = row_inputs(request.POST, shown)
        done = _act(request, mode, inputs, answer_form, decision_form)
        if done is not None:
            messages.success(request, done)
            return redirect(request.get_full_path())
        table.inputs = inputs
        summaries = {row.record.pk: row.record.summary for row in table.page.object_list}
        problems = [
            RowProblem(pk, shown.index(pk) + 1, summaries[pk], row.error)
            for pk, row in inputs.items()
            if row.error
        ]
    serial_status = services.batch_serial_status(batch)
    return render(
        request,
        "serials/batch_exceptions.html",
        {
            "batch": batch,
            "order": batch.order,
            "table": table,
            "filter": exception_filter,
            "filter_query": _filter_query(request),
            "mode": mode,
            "answer_form": answer_form,
            "decision_form": decision_form,
            "reasons": [
                (value, label, REASON_EXPLANATIONS[value]) for value, label in ANSWER_REASONS
            ],
            "row_errors": problems,
            "serial_status": serial_status,
            "can_accept": can_manage_orders(request.user) and serial_status.can_be_accepted,
        },
    )


def _act(
    request: AuthenticatedRequest,
    mode: str,
    inputs: dict[int, RowInput],
    answer_form: ExceptionAnswerForm,
    decision_form: ExceptionDecisionForm,
) -> str | None:
    """Send the submission's rows to the service; the success message, or None with each
    refused row's error set on ``inputs`` (and the call's own refusal as a page message)."""
    form: ExceptionAnswerForm | ExceptionDecisionForm = (
        answer_form if mode == ANSWER else decision_form
    )
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return None
    data = form.cleaned_data
    rows: list[AnswerRow] | list[DecisionRow]
    if mode == ANSWER:
        rows, problems = answer_rows(inputs, reason=data["reason"], note=data["note"])
    else:
        rows, problems = decision_rows(inputs, decision=data["decision"], note=data["note"])
    try:
        if not rows:
            raise ValidationError(
                _("Tick the exceptions to answer, or choose a reason on their rows.")
                if mode == ANSWER
                else _("Tick the exceptions to decide, or choose a decision on their rows.")
            )
        if problems:
            raise ValidationError({str(pk): problem for pk, problem in problems.items()})
        if mode == ANSWER:
            services.exceptions_answer(
                rows=cast(list[AnswerRow], rows),
                user=request.user,
                attachment=data.get("attachment"),
            )
            return ngettext(
                "%(count)s exception answered.", "%(count)s exceptions answered.", len(rows)
            ) % {"count": len(rows)}
        services.exceptions_decide(
            rows=cast(list[DecisionRow], rows), user=request.user, promises=data["promises"]
        )
        return ngettext(
            "%(count)s exception decided.", "%(count)s exceptions decided.", len(rows)
        ) % {"count": len(rows)}
    except ValidationError as error:
        for pk, found in row_errors(error).items():
            if pk in inputs:
                inputs[pk].error = " ".join(found)
            elif pk == 0 and "attachment" in getattr(error, "error_dict", {}):
                form.add_error("attachment", found)
                messages.error(request, " ".join(found))
            else:
                messages.error(request, " ".join(found))
        return None


def _filter_query(request: AuthenticatedRequest) -> str:
    """The filters in force, for the CSV link and the clear link (sorting and paging left out)."""
    kept = request.GET.copy()
    for key in ("sort", "page"):
        kept.pop(key, None)
    return kept.urlencode()


CSV_HEADER = [
    "id",
    "kind",
    "summary",
    "count",
    "serial",
    "first_counter",
    "last_counter",
    "lines",
    "status",
    "reason",
    "reason_label",
    "note",
    "answered_by",
    "answered_at",
    "attachments",
    "decision",
    "decision_note",
    "decided_by",
    "decided_at",
]


@login_required
@require_http_methods(["GET"])
def batch_exceptions_csv(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The exceptions of the batch as the page filters them, with each newest answer and
    decision; cells a spreadsheet would run are neutralised (portal.exports)."""
    batch = batch_for(request.user, pk)
    exceptions = ExceptionFilter(request.GET, queryset=_exceptions(request, batch)).qs
    return csv_response(
        f"batch-{batch.code}-exceptions.csv",
        CSV_HEADER,
        (_csv_row(exception) for exception in exceptions),
    )


def _csv_row(exception: SerialException) -> list[Any]:
    answer = exception.latest_answer
    decision = exception.latest_decision
    lines = (exception.detail or {}).get("lines") or []
    return [
        exception.pk,
        exception.kind,
        exception.summary,
        exception.count,
        exception.serial,
        exception.lo,
        exception.hi,
        " ".join(map(str, lines)),
        exception.status,
        answer.reason if answer else "",
        answer.get_reason_display() if answer else "",
        answer.note if answer else "",
        answer.answered_by.printed_name if answer else "",
        answer.answered_at.isoformat() if answer else "",
        " ".join(a.original_name for a in answer.attachments.all()) if answer else "",
        decision.decision if decision else "",
        decision.note if decision else "",
        decision.decided_by.printed_name if decision else "",
        decision.decided_at.isoformat() if decision else "",
    ]


@login_required
@require_http_methods(["GET"])
def exception_attachment(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """An answer's attachment, always as a download, to those who see its batch."""
    attachment = get_object_or_404(
        ExceptionAttachment.objects.filter(
            answer__exception__batch__in=batches_visible_to(request.user)
        ),
        pk=pk,
    )
    if not default_storage.exists(attachment.file.name):
        raise Http404(_("The file is not available."))
    response = FileResponse(
        default_storage.open(attachment.file.name, "rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
