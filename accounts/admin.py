"""API tokens in the admin: listed and revoked (deleted), never made or edited here (the token
is shown once, to its owner, on the API tokens page or by the API)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from knox.models import AuthToken

from accounts.models import ApiToken
from accounts.services import token_revoke
from portal.typing import admin_user

# knox registers its own model, which ApiToken replaces (KNOX_TOKEN_MODEL).
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created", "expiry", "last_used"]
    list_filter = ["created"]
    search_fields = ["name", "user__username"]
    readonly_fields = ["name", "user", "created", "expiry", "last_used"]
    exclude = ["digest", "token_key"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: ApiToken) -> None:
        """Revoked through the service, so the audit log says who revoked whose token."""
        token_revoke(user=obj.user, digest=obj.digest, actor=admin_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.select_related("user"):
            self.delete_model(request, token)
