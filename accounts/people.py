"""The buyer's admin's People pages: everyone of the buyer and of its suppliers; invite, change a
role, deactivate and reactivate. And the invited person's set-password page.

Only ``portal.roles.can_manage_people`` opens them; everyone else gets 403 on every one of them
(whatever the id: nothing is looked up first). The admin gets 404 for a person outside the
buyer and its suppliers, as for an id that does not exist."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.forms import BaseForm
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_tables2 import RequestConfig  # type: ignore[import-untyped]

from accounts import services
from accounts.filters import PersonFilter
from accounts.forms import InviteForm, PortalSetPasswordForm, RoleForm
from accounts.models import ApiToken
from accounts.selectors import people_visible_to, person_for
from accounts.tables import PeopleTable, person_status
from portal.errors import message_of
from portal.exports import csv_response
from portal.models import AuditEvent, Role, User
from portal.roles import can_manage_people
from portal.typing import AuthenticatedRequest

PAGE_SIZE = 50


def _admin_only(request: AuthenticatedRequest) -> None:
    if not can_manage_people(request.user):
        raise PermissionDenied(_("Only the buyer's admin manages people."))


def _errors_onto(form: BaseForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        for message in error.messages:
            form.add_error(None, message)


@login_required
@require_http_methods(["GET"])
def people_list(request: AuthenticatedRequest) -> HttpResponse:
    """Everyone of the buyer and its suppliers: filtered, sorted, paged; or as CSV."""
    _admin_only(request)
    people_filter = PersonFilter(
        request.GET, queryset=people_visible_to(request.user), request=request
    )
    people = people_filter.qs
    if request.GET.get("format") == "csv":
        return csv_response(
            "people.csv",
            [
                _("Name"),
                _("User name"),
                _("Email"),
                _("Organisation"),
                _("Role"),
                _("Status"),
                _("Last sign-in (UTC)"),
                _("Second factor"),
            ],
            (
                [
                    person.printed_name,
                    person.username,
                    person.email,
                    person.membership.organisation.name,
                    person.membership.get_role_display(),
                    person_status(person)[1],
                    f"{person.last_login:%Y-%m-%d %H:%M}" if person.last_login else "",
                    _("Yes") if person.has_second_factor else _("No"),
                ]
                for person in people
            ),
        )
    table = PeopleTable(people)
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    query = request.GET.copy()
    query.pop("page", None)
    query["format"] = "csv"
    return render(
        request,
        "accounts/people.html",
        {"filter": people_filter, "table": table, "csv_query": query.urlencode()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_invite(request: AuthenticatedRequest) -> HttpResponse:
    """Create a person in the buyer or one of its suppliers and email them a set-password link."""
    _admin_only(request)
    form = InviteForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.person_invite(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors_onto(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is invited: an email with a link to set a password went to %(email)s.")
                % {"name": person.printed_name, "email": person.email},
            )
            return redirect("person-detail", pk=person.pk)
    return render(
        request,
        "accounts/people_invite.html",
        {"form": form, "link_days": services.invitation_days()},
    )


def _role_label(value: object) -> str:
    return str(Role(str(value)).label) if value in Role.values else str(value)


def _sentence(event: AuditEvent) -> str:
    """One line of a person's history, from a ``person.*`` audit event."""
    who = {"who": event.actor_label}
    payload = event.payload
    if event.action == "person.invited":
        return _("Invited by %(who)s as %(role)s") % {
            **who,
            "role": _role_label(payload.get("role", "")).lower(),
        }
    if event.action == "person.invitation_sent":
        return _("New invitation link sent by %(who)s") % who
    if event.action == "person.role_changed":
        before, after = payload.get("role", ["", ""])
        return _("Role changed by %(who)s: %(before)s → %(after)s") % {
            **who,
            "before": _role_label(before),
            "after": _role_label(after),
        }
    if event.action == "person.deactivated":
        return _("Deactivated by %(who)s") % who
    if event.action == "person.reactivated":
        return _("Reactivated by %(who)s") % who
    if event.action == "person.password_set":
        return _("Set their password through the invitation link")
    return event.action


def _history(person: User, request: AuthenticatedRequest) -> list[tuple[str, AuditEvent]]:
    """What the admin's organisation, and the person themself, did to the person's account:
    (sentence, event), newest first."""
    events = AuditEvent.objects.filter(
        Q(organisation_id=request.user.membership.organisation_id) | Q(actor=person),
        object_type=User._meta.label,
        object_id=str(person.pk),
        action__startswith="person.",
    ).order_by("-id")[:20]
    return [(_sentence(event), event) for event in events]


def _person_page(
    request: AuthenticatedRequest, person: User, role_form: RoleForm, status: int = 200
) -> HttpResponse:
    key, label = person_status(person)
    return render(
        request,
        "accounts/people_detail.html",
        {
            "person": person,
            "role_form": role_form,
            "status_key": key,
            "status_label": label,
            "is_self": person.pk == request.user.pk,
            "roles_to_choose": role_form.has_choice,
            "history": _history(person, request),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET"])
def person_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    person = person_for(request.user, pk)
    return _person_page(request, person, RoleForm(person=person))


@login_required
@require_POST
def person_role(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    person = person_for(request.user, pk)
    form = RoleForm(request.POST, person=person)
    if form.is_valid():
        try:
            changed = services.person_role_change(
                actor=request.user, person=person, role=form.cleaned_data["role"]
            )
        except ValidationError as error:
            _errors_onto(form, error)
        else:
            if changed:
                person.membership.refresh_from_db()
                messages.success(
                    request,
                    _("%(name)s is now %(role)s.")
                    % {
                        "name": person.printed_name,
                        "role": person.membership.get_role_display().lower(),
                    },
                )
            return redirect("person-detail", pk=person.pk)
    return _person_page(request, person, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def person_deactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deactivates: sessions end, API tokens are revoked."""
    _admin_only(request)
    person = person_for(request.user, pk)
    error = ""
    if request.method == "POST":
        try:
            ended = services.person_deactivate(actor=request.user, person=person)
        except ValidationError as refused:
            error = message_of(refused)
        else:
            sessions = ngettext(
                "%(count)s signed-in session ended",
                "%(count)s signed-in sessions ended",
                ended["sessions"],
            ) % {"count": ended["sessions"]}
            tokens = ngettext(
                "%(count)s API token revoked", "%(count)s API tokens revoked", ended["tokens"]
            ) % {"count": ended["tokens"]}
            messages.success(
                request,
                _(
                    "%(name)s is deactivated: %(sessions)s, %(tokens)s. What they recorded "
                    "stays as it is."
                )
                % {"name": person.printed_name, "sessions": sessions, "tokens": tokens},
            )
            return redirect("person-detail", pk=person.pk)
    return render(
        request,
        "accounts/people_deactivate.html",
        {
            "person": person,
            "is_self": person.pk == request.user.pk,
            "tokens": ApiToken.objects.filter(user=person).count(),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def person_reactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    person = person_for(request.user, pk)
    try:
        services.person_reactivate(actor=request.user, person=person)
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        messages.success(request, _("%(name)s can sign in again.") % {"name": person.printed_name})
    return redirect("person-detail", pk=person.pk)


@login_required
@require_POST
def person_invitation_resend(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    person = person_for(request.user, pk)
    try:
        services.person_invitation_resend(actor=request.user, person=person)
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        messages.success(
            request,
            _("A new link to set a password went to %(email)s.") % {"email": person.email},
        )
    return redirect("person-detail", pk=person.pk)


@method_decorator(never_cache, name="dispatch")
class SetPassword(auth_views.PasswordResetConfirmView):
    """The invitation's one-time link (Django's password-reset token): set a password, then
    sign in. A deactivated person's link opens nothing."""

    form_class = PortalSetPasswordForm
    template_name = "registration/set_password.html"
    success_url = reverse_lazy("login")

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            services.person_password_set(person=form.user)
        messages.success(
            self.request,
            _("Your password is set. Sign in with your user name, %(username)s.")
            % {"username": form.user.get_username()},
        )
        return response
