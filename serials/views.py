"""Serial list pages: upload, the buyer's report, exceptions and numbering rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from orders.selectors import batch_for, order_for
from portal.errors import message_of
from portal.exports import csv_response
from portal.forms import form_refused
from portal.roles import can_manage_orders, can_upload_batch_files, is_buyer_side
from portal.typing import AuthenticatedRequest
from serials import engine, services
from serials.focus import TAB_OF_KIND, exception_of, file_lines, rows_around
from serials.forms import (
    AllocatedCodeListForm,
    AllocatedRangeForm,
    NumberingRuleForm,
    SerialListUploadForm,
)
from serials.models import NumberingRule, SerialException, SerialList
from serials.reports import CodeListReport, SerialListReport
from serials.selectors import (
    ANOMALY_HEADER,
    anomaly_rows,
    expected_range_for,
    rules_visible_to,
    serial_list_for,
)


@login_required
@require_POST
def serial_list_upload(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The page's form, without JavaScript; the drag-and-drop script posts to the API instead."""
    batch = batch_for(request.user, pk)
    form = SerialListUploadForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        serial_list = services.serial_list_upload(
            batch=batch,
            user=request.user,
            uploaded_file=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"],
        )
    except ValidationError as error:
        messages.error(request, message_of(error))
        return redirect("batch-detail", pk=batch.pk)
    return redirect("serial-list-detail", pk=serial_list.pk)


# How many rows of each finding a checked file's page lists (the API gives the report's all).
CHECK_ROWS_SHOWN = 100


@dataclass(frozen=True)
class CheckSection:
    """One table of a checked file's findings: the first rows, and how many the report lists."""

    key: str
    title: str
    rows: list[Any]
    listed: int


def _check_sections(checked: SerialList) -> list[CheckSection]:
    """The findings of a checked file, table by table, only those with rows."""
    titles = (
        {
            "unknown": _("Codes never allocated"),
            "unused": _("Allocated codes not used"),
            "duplicates": _("Codes on more than one row"),
            "reused": _("Codes already used by other batches"),
        }
        if checked.uses_codes
        else {
            "missing": _("Missing serials"),
            "duplicates": _("Serials on more than one row"),
            "malformed": _("Malformed values"),
            "out_of_range": _("Serials outside the range"),
            "reused": _("Serials already used by other batches"),
        }
    )
    sections = []
    for key, title in titles.items():
        rows = _table_rows(checked, key)
        if rows:
            sections.append(CheckSection(key, str(title), rows[:CHECK_ROWS_SHOWN], len(rows)))
    return sections


@login_required
@require_POST
def serial_list_check(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Check a file without uploading it: the checks an upload gets, the report on this page,
    nothing kept. Who may upload to the batch may check; a file that cannot be checked answers
    400 with its message and the form again."""
    batch = batch_for(request.user, pk)
    if not can_upload_batch_files(request.user):
        raise PermissionDenied
    form = SerialListUploadForm(request.POST, request.FILES)
    checked: SerialList | None = None
    error = ""
    try:
        if not request.FILES.get("file"):
            raise ValidationError(_("Choose the file to check."))
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        checked = services.serial_list_check(
            batch=batch,
            user=request.user,
            uploaded_file=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"],
        )
    except ValidationError as refusal:
        error = message_of(refusal)
    kind = request.POST.get("kind", "")
    return render(
        request,
        "serials/serial_list_check.html",
        {
            "batch": batch,
            "order": batch.order,
            "error": error,
            "file_name": getattr(request.FILES.get("file"), "name", ""),
            "numbering_rule": NumberingRule.for_order(batch.order),
            "upload_form": SerialListUploadForm(
                initial={"kind": kind if kind in SerialList.Kind.values else None}
            ),
            **_check_context(checked),
        },
        status=400 if error else 200,
    )


def _check_context(checked: SerialList | None) -> dict[str, Any]:
    """What the page shows of a checked file's report (nothing when it could not be checked)."""
    if checked is None:
        return {"checked": None, "report": None, "sections": [], "expected": None, "marks": []}
    report = checked.validation_report
    assert report is not None  # serial_list_check sets it
    expected = None
    if not checked.uses_codes and checked.expected_lo is not None:
        rule = checked.as_engine_rule()
        expected = (rule.format(checked.expected_lo), rule.format(checked.expected_hi or 0))
    marks, ticks = ([], []) if checked.uses_codes else strip_marks(checked)
    return {
        "checked": checked,
        "report": report,
        "has_findings": report.has_findings or bool(report.reused_count),
        "sections": _check_sections(checked),
        "rows_shown": CHECK_ROWS_SHOWN,
        "expected": expected,
        "marks": marks,
        "ticks": ticks,
    }


@dataclass(frozen=True)
class StripMark:
    x: float
    width: float
    kind: str
    title: str


def strip_marks(serial_list: SerialList, width: float = 1000.0) -> tuple[list[StripMark], list]:
    """Where gaps, duplicates and reused serials sit on the counter axis, for the SVG strip."""
    report = serial_list.validation_report
    if not isinstance(report, SerialListReport):
        return [], []
    axis = report.expected_range or report.used_range
    if not axis:
        return [], []
    lo, hi = axis
    span = max(hi - lo + 1, 1)

    def mark(a: int, b: int, kind: str, title: str) -> StripMark:
        x = (min(max(a, lo), hi) - lo) / span * width
        return StripMark(round(x, 2), round(max((b - a + 1) / span * width, 1.5), 2), kind, title)

    marks = [mark(a, b, "missing", f"missing {a:,}–{b:,}") for a, b in report.missing_ranges]
    digits = slice(
        len(serial_list.rule_prefix), len(serial_list.rule_prefix) + serial_list.rule_width
    )
    for duplicate in report.duplicates:
        counter = int(duplicate.serial[digits])
        marks.append(mark(counter, counter, "duplicate", f"{duplicate.serial} ×{duplicate.count}"))
    if serial_list.pk is None:  # a file checked, not uploaded: no exceptions, the report's serials
        for serial in report.reused:
            counter = int(serial.serial[digits])
            marks.append(mark(counter, counter, "reused", f"{serial.serial}: {serial.batch}"))
    else:
        for reused in serial_list.exceptions.filter(kind=SerialException.Kind.REUSED):
            if reused.lo is not None and reused.hi is not None:  # codes have no counter axis
                marks.append(mark(reused.lo, reused.hi, "reused", reused.summary))
    ticks = [(round(i * width / 4, 2), lo + (hi - lo) * i // 4) for i in range(5)]
    return marks, ticks


TABLES = {
    "missing": "Missing ranges",
    "duplicates": "Duplicates",
    "malformed": "Malformed values",
    "out_of_range": "Out of range",
    "reused": "Reused serials",
}
CODE_TABLES = {
    "unknown": "Never allocated",
    "unused": "Allocated, unused",
    "duplicates": "Duplicates",
    "reused": "Reused codes",
}


def _table_rows(serial_list: SerialList, show: str) -> list[Any]:
    """The rows of one tab, with the keys its table reads (a code list's duplicates name their
    code ``serial`` too, so one table serves both kinds of rule)."""
    report = serial_list.validation_report
    if report is None:
        return []
    if show == "reused":
        return [row.to_json() for row in report.reused]
    if isinstance(report, CodeListReport):
        if show == "unused":
            return [{"code": code} for code in report.unused]
        if show == "duplicates":
            return [
                {"serial": row.code, "count": row.count, "lines": list(row.lines)}
                for row in report.duplicates
            ]
        if show == "unknown":
            return [row.to_json() for row in report.unknown]
        return []
    rule = serial_list.as_engine_rule()
    if show == "missing":
        return [
            {"first": rule.format(gap.lo), "last": rule.format(gap.hi), "count": gap.size}
            for gap in report.missing_ranges
        ]
    if show == "malformed":
        return [
            {**row.to_json(), "why": engine.malformed_explanation(row.value, row.reason, rule)}
            for row in report.malformed
        ]
    if show == "duplicates":
        return [row.to_json() for row in report.duplicates]
    if show == "out_of_range":
        return [row.to_json() for row in report.out_of_range]
    return []


@login_required
@require_http_methods(["GET"])
def serial_list_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    serial_list = serial_list_for(request.user, pk)
    report = serial_list.validation_report
    tables = CODE_TABLES if serial_list.uses_codes else TABLES
    show = request.GET.get("show", "")
    # ?exception=<id> (the exceptions page's "Show its lines"): its tab, the rows around its
    # own, and the lines of the uploaded file around it.
    focus = exception_of(serial_list, request.GET.get("exception"))
    if focus is not None:
        show = TAB_OF_KIND[focus.kind]
    if show not in tables:
        show = next(iter(tables))
    query = request.GET.get("q", "").strip().upper()
    rows = _table_rows(serial_list, show)
    if query:
        rows = [row for row in rows if query in str(row).upper()]
    focus_found = False
    if focus is not None and not query:
        rows, focus_found = rows_around(focus, rows, serial_list)
    marks, ticks = ([], []) if serial_list.uses_codes else strip_marks(serial_list)
    return render(
        request,
        "serials/serial_list_detail.html",
        {
            "serial_list": serial_list,
            "batch": serial_list.batch,
            "order": serial_list.batch.order,
            "report": report,
            "marks": marks,
            "ticks": ticks,
            "tables": tables,
            "show": show,
            "query": request.GET.get("q", ""),
            "page": Paginator(rows, 100).get_page(request.GET.get("page")),
            "exception_counts": _exception_counts(serial_list),
            "focus": focus,
            "focus_found": focus_found,
            "file_lines": file_lines(serial_list, focus) if focus is not None else [],
        },
    )


def _exception_counts(serial_list: SerialList) -> dict[str, int]:
    counts = dict.fromkeys(SerialException.Status.values, 0)
    for status in serial_list.exceptions.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


@login_required
@require_http_methods(["GET"])
def serial_list_progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The progress fragment the report page polls; a finished job reloads the page."""
    serial_list = serial_list_for(request.user, pk)
    response = render(request, "serials/_progress.html", {"serial_list": serial_list})
    if serial_list.is_finished:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_http_methods(["GET"])
def serial_list_anomalies_csv(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    serial_list = serial_list_for(request.user, pk)
    return csv_response(
        f"serial-list-{serial_list.pk}-anomalies.csv",
        ANOMALY_HEADER,
        anomaly_rows(serial_list.validation_report),
    )


@login_required
@require_POST
def batch_serials_accept(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    batch = batch_for(request.user, pk)
    try:
        services.batch_serials_accept(batch=batch, user=request.user)
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        messages.success(request, f"The serials of batch {batch.code} are accepted and registered.")
    return redirect("batch-exceptions", pk=batch.pk)


@login_required
@require_http_methods(["GET", "POST"])
def numbering_rules(request: AuthenticatedRequest) -> HttpResponse:
    if not is_buyer_side(request.user):
        raise PermissionDenied
    organisation = request.user.membership.organisation
    form = NumberingRuleForm(request.POST or None, instance=NumberingRule(buyer=organisation))
    if request.method == "POST":
        if not can_manage_orders(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                rule = services.numbering_rule_save(user=request.user, **form.cleaned_data)
            except ValidationError as refusal:
                form_refused(form, refusal)
            else:
                messages.success(request, f"Rule for {rule.product} saved: {rule.pattern}.")
                return redirect("numbering-rules")
    return render(
        request,
        "serials/numbering_rules.html",
        {
            "rules": rules_visible_to(request.user),
            "form": form,
            "can_manage": can_manage_orders(request.user),
        },
    )


@login_required
@require_POST
def order_allocate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The buyer assigns a counter range to the order or one of its batches."""
    order = order_for(request.user, pk)
    if not can_manage_orders(request.user):
        raise PermissionDenied
    form = AllocatedRangeForm(request.POST, order=order)
    if not form.is_valid():
        messages.error(request, "Choose the batch and give both serials.")
        return redirect("order-detail", pk=order.pk)
    try:
        allocation = services.allocated_range_set(
            user=request.user, order=order, **form.cleaned_data
        )
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        messages.success(request, f"Allocated {allocation}.")
    return redirect("order-detail", pk=order.pk)


@login_required
@require_POST
def order_allocated_codes(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The buyer uploads the codes allocated to the order or one of its batches."""
    order = order_for(request.user, pk)
    if not can_manage_orders(request.user):
        raise PermissionDenied
    form = AllocatedCodeListForm(request.POST, request.FILES, order=order)
    if not form.is_valid():
        messages.error(request, "Choose a file of allocated codes.")
        return redirect("order-detail", pk=order.pk)
    try:
        code_list = services.allocated_code_list_upload(
            user=request.user,
            order=order,
            uploaded_file=form.cleaned_data["file"],
            batch=form.cleaned_data["batch"],
        )
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        messages.success(request, f"Allocated {code_list}.")
    return redirect("order-detail", pk=order.pk)


@login_required
@require_http_methods(["GET"])
def serial_list_template(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A CSV a supplier can fill: the header the reader expects and the batch's first serials in
    the rule's exact shape (check digit included), with a carton column to keep or delete."""
    batch = batch_for(request.user, pk)
    rule = NumberingRule.for_order(batch.order)
    rows: list[list[str]] = []
    if rule is not None and not rule.uses_codes:
        engine_rule = rule.as_engine_rule()
        expected, _source = expected_range_for(batch, rule)
        first = expected[0] if expected else 1
        last = min(first + 3, engine_rule.max_counter + 1)
        rows = [
            [engine_rule.format(counter), f"CTN-{1 + index // 2:03d}"]
            for index, counter in enumerate(range(first, last))
        ]
    return csv_response(f"serial-list-template-{batch.code}.csv", ["serial", "carton"], rows)
