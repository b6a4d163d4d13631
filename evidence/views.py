"""Evidence pages: the batch gallery, items and their versions, requests with statement
diffs, and the order's responsibility map."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from evidence import services
from evidence.beside import approved_beside, approved_strip
from evidence.forms import (
    EvidenceReplaceForm,
    EvidenceRequestForm,
    EvidenceUploadForm,
    RequirementsForm,
    ResponsibilityForm,
    StatementForm,
    request_prefill,
)
from evidence.models import EvidenceItem, ResponsibilityRole
from evidence.selectors import (
    batch_evidence_summary,
    evidence_for,
    evidence_visible_to,
    freshness_flags,
    request_for,
    requests_visible_to,
    statement_for,
    statement_history,
)
from orders.promises import PROMISE_HELP, promises_split
from orders.selectors import batch_for, order_for
from portal.errors import message_of
from portal.models import Role
from portal.roles import (
    can_edit_responsibilities,
    can_manage_orders,
    can_upload_batch_files,
    role_of,
)
from portal.typing import AuthenticatedRequest


def _can_upload(request: AuthenticatedRequest) -> bool:
    return can_upload_batch_files(request.user)


@login_required
@require_http_methods(["GET"])
def batch_evidence(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    batch = batch_for(request.user, pk)
    return render(
        request,
        "evidence/batch_evidence.html",
        {
            "batch": batch,
            "order": batch.order,
            **batch_evidence_summary(batch, request.user),
            # The approved sample and its label, each beside the supplier's current photos.
            "approved_strip": approved_strip(
                batch, evidence_visible_to(request.user).filter(batch=batch, replaced_by=None)
            ),
            "upload_form": EvidenceUploadForm(),
            "requirements_form": RequirementsForm(
                initial={"kinds": list(batch.requirements.values_list("kind", flat=True))}
            ),
            "can_upload": _can_upload(request),
            "can_manage": can_manage_orders(request.user),
        },
    )


@login_required
@require_POST
def evidence_upload(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Several files at once from the form, without JavaScript; the drag-and-drop script sends
    each file to the API instead, to show each one's progress and outcome."""
    batch = batch_for(request.user, pk)
    if not _can_upload(request):
        raise PermissionDenied
    form = EvidenceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("batch-evidence", pk=batch.pk)
    stored, refused = [], []
    for uploaded in form.cleaned_data["files"]:
        try:
            stored.append(
                services.evidence_upload(
                    batch=batch,
                    user=request.user,
                    uploaded_file=uploaded,
                    kind=form.cleaned_data["kind"],
                    description=form.cleaned_data["description"],
                )
            )
        except ValidationError as error:
            refused.append(message_of(error))
    if stored:
        messages.success(request, _("%(count)s file(s) stored.") % {"count": len(stored)})
    for message in refused:
        messages.error(request, message)
    return redirect("batch-evidence", pk=batch.pk)


@login_required
@require_POST
def evidence_requirements(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    batch = batch_for(request.user, pk)
    if not can_manage_orders(request.user):
        raise PermissionDenied
    form = RequirementsForm(request.POST)
    if form.is_valid():
        added = services.requirements_set(
            batch=batch, user=request.user, kinds=form.cleaned_data["kinds"]
        )
        messages.success(request, _("%(count)s requirement(s) added.") % {"count": len(added)})
    else:
        messages.error(request, _("Choose at least one kind of evidence."))
    return redirect("batch-evidence", pk=batch.pk)


@login_required
@require_http_methods(["GET"])
def evidence_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = evidence_for(request.user, pk)
    newest = item
    while hasattr(newest, "replaced_by"):
        newest = newest.replaced_by
    versions = []  # newest first, the whole chain whichever version is open
    cursor: EvidenceItem | None = newest
    while cursor is not None:
        versions.append(cursor)
        cursor = cursor.previous
    return render(
        request,
        "evidence/evidence_detail.html",
        {
            "item": item,
            "batch": item.batch,
            "order": item.batch.order,
            "flags": freshness_flags([item], request.user).get(item.pk, []),
            "beside": approved_beside(item),
            "versions": versions,
            "newest": newest,
            "replace_form": EvidenceReplaceForm(),
            "can_upload": _can_upload(request) and item.is_current,
        },
    )


@login_required
@require_POST
def evidence_replace(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    item = evidence_for(request.user, pk)
    if not _can_upload(request):
        raise PermissionDenied
    form = EvidenceReplaceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose the new file."))
        return redirect("evidence-detail", pk=item.pk)
    try:
        new = services.evidence_upload(
            batch=item.batch,
            user=request.user,
            uploaded_file=form.cleaned_data["file"],
            kind=item.kind,
            description=form.cleaned_data["description"] or item.description,
            replaces=item,
        )
    except ValidationError as error:
        messages.error(request, message_of(error))
        return redirect("evidence-detail", pk=item.pk)
    messages.success(
        request,
        _("Version %(new)s stored; version %(old)s stays on file.")
        % {"new": new.version, "old": item.version},
    )
    return redirect("evidence-detail", pk=new.pk)


def _serve(item_name: str, *, filename: str, content_type: str, inline: bool) -> FileResponse:
    if not item_name or not default_storage.exists(item_name):
        raise Http404(_("The file is not available."))
    response = FileResponse(
        default_storage.open(item_name, "rb"),
        as_attachment=not inline,
        filename=filename,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET"])
def evidence_file(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """The stored bytes, always as a download: never rendered by the browser as-is."""
    item = evidence_for(request.user, pk)
    return _serve(
        item.file.name, filename=item.original_name, content_type=item.content_type, inline=False
    )


@login_required
@require_http_methods(["GET"])
def evidence_thumbnail(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """Our own re-encoded JPEG, without metadata: safe to show inline."""
    item = evidence_for(request.user, pk)
    return _serve(
        item.thumbnail.name,
        filename=f"thumb-{item.pk}.jpg",
        content_type="image/jpeg",
        inline=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
def batch_requests(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    batch = batch_for(request.user, pk)
    form = EvidenceRequestForm(request.POST or None, initial=request_prefill(request.GET))
    if request.method == "POST":
        if not can_manage_orders(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                asked = services.request_create(batch=batch, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, message_of(error))
            else:
                messages.success(request, _("Request sent to the supplier."))
                return redirect("request-detail", pk=asked.pk)
    requests = requests_visible_to(request.user).filter(batch=batch).prefetch_related("statements")
    return render(
        request,
        "evidence/batch_requests.html",
        {
            "batch": batch,
            "order": batch.order,
            "requests": requests,
            "form": form,
            "can_ask": can_manage_orders(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    asked = request_for(request.user, pk)
    form = StatementForm(request.POST or None)
    if request.method == "POST":
        if role_of(request.user) != Role.SUPPLIER:
            raise PermissionDenied
        if form.is_valid():
            services.statement_write(
                request=asked, user=request.user, text=form.cleaned_data["text"]
            )
            messages.success(request, _("Statement sent."))
            return redirect("request-detail", pk=asked.pk)
    statements = list(asked.statements.select_related("written_by").prefetch_related("reviews"))
    latest, last_reviewed, diff = statement_history(asked)
    return render(
        request,
        "evidence/request_detail.html",
        {
            "asked": asked,
            "batch": asked.batch,
            "order": asked.batch.order,
            "statements": statements,
            "promises": [
                (promise, PROMISE_HELP[promise]) for promise in promises_split(asked.promises)
            ],
            "latest": latest,
            "last_reviewed": last_reviewed,
            "diff": diff,
            "form": form,
            "can_answer": role_of(request.user) == Role.SUPPLIER,
            "can_review": can_manage_orders(request.user)
            and latest is not None
            and latest != last_reviewed,
        },
    )


@login_required
@require_POST
def statement_review(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    statement = statement_for(request.user, pk)
    if not can_manage_orders(request.user):
        raise PermissionDenied
    services.statement_review(statement=statement, user=request.user)
    messages.success(
        request, _("Version %(version)s marked as reviewed.") % {"version": statement.version}
    )
    return redirect("request-detail", pk=statement.request_id)


@login_required
@require_http_methods(["GET", "POST"])
def order_responsibilities(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    order = order_for(request.user, pk)
    can_edit = can_edit_responsibilities(request.user)
    form = ResponsibilityForm(request.POST or None)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            services.responsibility_record(order=order, user=request.user, **form.cleaned_data)
            messages.success(request, _("Responsibility recorded."))
            return redirect("order-responsibilities", pk=order.pk)
    current = services.current_responsibilities(order)
    rows = [(value, label, current.get(value)) for value, label in ResponsibilityRole.choices]
    return render(
        request,
        "evidence/order_responsibilities.html",
        {
            "order": order,
            "rows": rows,
            "gaps": [label for _value, label, entry in rows if entry is None],
            "history": order.responsibilities.select_related("recorded_by")[:50],
            "form": form,
            "can_edit": can_edit,
        },
    )
