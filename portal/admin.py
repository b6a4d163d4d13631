"""The admin site: organisations, people and roles; the audit log read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import Model, Q, QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse

from portal.audit import audit_log
from portal.models import AuditEvent, Membership, Organisation, User
from portal.roles import membership_of
from portal.typing import admin_user


class ScopedAdminMixin:
    """A foreign or unknown id answers 404, as everywhere else, instead of a redirect."""

    # A mixin: the ModelAdmin after it in the bases gives get_object and super().change_view,
    # which mypy cannot see from the mixin alone (hence the two ignores).
    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if self.get_object(request, object_id) is None:  # type: ignore[attr-defined]
            raise Http404("No such object.")
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Records that are never changed: visible in the admin, not editable there."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AuditedAdminMixin:
    """Changes made in the admin land in the audit log like any other."""

    # A mixin: super() is the ModelAdmin after it in the bases, which mypy cannot see from here.
    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        action = f"{obj._meta.model_name}.{'updated' if change else 'created'}"
        changed = {name: str(form.cleaned_data.get(name)) for name in form.changed_data}
        changed.pop("password", None)
        audit_log(actor=admin_user(request), action=f"admin.{action}", obj=obj, payload=changed)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        audit_log(
            actor=admin_user(request),
            action=f"admin.{obj._meta.model_name}.deleted",
            obj=obj,
            payload={},
        )
        super().delete_model(request, obj)  # type: ignore[misc]


class MembershipInline(admin.StackedInline):
    model = Membership
    fk_name = "user"
    extra = 0
    max_num = 1
    can_delete = False


@admin.register(User)
class PortalUserAdmin(ScopedAdminMixin, AuditedAdminMixin, UserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "role", "organisation"]
    list_select_related = ["membership__organisation"]
    search_fields = ["username", "first_name", "last_name", "email"]

    @admin.display(description="role")
    def role(self, user: User) -> str:
        membership = membership_of(user)
        return membership.get_role_display() if membership else "—"

    @admin.display(description="organisation")
    def organisation(self, user: User) -> str:
        membership = membership_of(user)
        return str(membership.organisation) if membership else "—"


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "country", "contact_email"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(ScopedAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", "organisation"]
    autocomplete_fields = ["user", "organisation"]


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Read-only: the audit log is never changed, not even here."""

    list_display = ["id", "created_at", "actor_label", "action", "object_label", "order"]
    list_filter = ["action"]
    search_fields = ["action", "object_label", "actor_label"]
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        events = super().get_queryset(request).select_related("order")
        membership = membership_of(request.user)
        if membership is None:
            return events.none()
        organisation = membership.organisation
        return events.filter(Q(organisation=organisation) | Q(order__buyer=organisation))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
