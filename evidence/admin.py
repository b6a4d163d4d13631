"""Evidence in the admin: read-only and scoped, like the audit log. Changes go through the pages."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from evidence.models import EvidenceItem, EvidenceRequest, Responsibility, Statement
from orders.selectors import batches_visible_to, orders_visible_to
from portal.admin import ReadOnlyAdmin


@admin.register(EvidenceItem)
class EvidenceItemAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "kind", "batch", "version", "uploaded_at", "capture_date"]
    list_filter = ["kind"]
    # MEDIA_URL is never served: the file is linked through its permission-checked view.
    exclude = ["file", "thumbnail"]
    readonly_fields = ["stored_file"]

    @admin.display(description="file")
    def stored_file(self, item: EvidenceItem) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("evidence-file", args=[item.pk]), item.original_name
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[EvidenceItem]:
        return super().get_queryset(request).filter(batch__in=batches_visible_to(request.user))


@admin.register(EvidenceRequest)
class EvidenceRequestAdmin(ReadOnlyAdmin):
    list_display = ["subject", "batch", "due_on", "asked_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EvidenceRequest]:
        return super().get_queryset(request).filter(batch__in=batches_visible_to(request.user))


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdmin):
    list_display = ["request", "version", "written_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Statement]:
        return (
            super()
            .get_queryset(request)
            .filter(request__batch__in=batches_visible_to(request.user))
        )


@admin.register(Responsibility)
class ResponsibilityAdmin(ReadOnlyAdmin):
    list_display = ["order", "role", "party_name", "accepts_responsibility", "recorded_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Responsibility]:
        return super().get_queryset(request).filter(order__in=orders_visible_to(request.user))
