"""Approvals and gates in the admin: read only, scoped like the pages."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from approvals.models import Approval, Gate
from orders.selectors import orders_visible_to
from portal.admin import ReadOnlyAdmin


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    """Signed approvals are never edited, here least of all."""

    list_display = ["id", "order", "batch", "decision", "sentence", "created_at"]
    list_filter = ["decision"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Approval]:
        return super().get_queryset(request).filter(order__in=orders_visible_to(request.user))


@admin.register(Gate)
class GateAdmin(ReadOnlyAdmin):
    list_display = ["order", "batch", "kind", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Gate]:
        return super().get_queryset(request).filter(order__in=orders_visible_to(request.user))
